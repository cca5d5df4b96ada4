// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of pci.c: the pure helpers, and pci_scan over a sysfs tree. */
#include "tree.h"

#include "pci.h"

static void test_bdf_of_syspath(void **state)
{
	char bdf[VF_BDF_LEN];

	(void)state;
	assert_true(pci_bdf_of_syspath("/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/"
				       "target0:0:0/0:0:0:0/block/sda/sda1",
				       bdf));
	assert_string_equal(bdf, "0000:00:1f.2");
	/* the last PCI component: the device, not the bridges above it */
	assert_true(pci_bdf_of_syspath("/sys/devices/pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/"
				       "nvme0/nvme0n1/nvme0n1p2",
				       bdf));
	assert_string_equal(bdf, "0000:04:00.0");
	assert_true(pci_bdf_of_syspath("/sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.0/net/"
				       "eth1",
				       bdf));
	assert_string_equal(bdf, "0000:03:00.0");
	assert_true(pci_bdf_of_syspath("/sys/devices/pci0000:00/0000:00:02.0", bdf));
	assert_string_equal(bdf, "0000:00:02.0");
	assert_true(pci_bdf_of_syspath("0000:00:02.0", bdf));
	assert_string_equal(bdf, "0000:00:02.0");
	/* a USB disk: the xHCI controller */
	assert_true(pci_bdf_of_syspath("/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/"
				       "host6/target6:0:0/6:0:0:0/block/sdc",
				       bdf));
	assert_string_equal(bdf, "0000:00:14.0");

	memcpy(bdf, "untouched!!!", VF_BDF_LEN);
	assert_false(pci_bdf_of_syspath("/sys/devices/virtual/block/dm-0", bdf));
	assert_false(pci_bdf_of_syspath("/sys/devices/virtual/net/bond0", bdf));
	assert_false(pci_bdf_of_syspath("/sys/devices/pci0000:00", bdf));
	assert_false(pci_bdf_of_syspath("/sys/devices/platform/serial8250/tty/ttyS0", bdf));
	/* upper case and short forms are not sysfs names */
	assert_false(pci_bdf_of_syspath("/sys/devices/pci0000:00/0000:00:1F.2/x", bdf));
	assert_false(pci_bdf_of_syspath("/sys/devices/pci0000:00/00:1f.2/x", bdf));
	assert_false(pci_bdf_of_syspath("", bdf));
	assert_string_equal(bdf, "untouched!!!");
}

static void test_bdf_of_syspath_too_long(void **state)
{
	char path[2048], bdf[VF_BDF_LEN];

	(void)state;
	memset(path, 'a', sizeof(path));
	memcpy(path, "/0000:00:02.0/", 14);
	path[sizeof(path) - 1] = '\0';
	assert_false(pci_bdf_of_syspath(path, bdf));
}

static struct pci_dev_info dev(uint32_t class, enum vf_header_type hdr, bool ids_ok)
{
	struct pci_dev_info d;

	memset(&d, 0, sizeof(d));
	d.class = class;
	d.header = hdr;
	d.ids_ok = ids_ok;
	return d;
}

static void test_endpoint_and_bridge(void **state)
{
	static const struct {
		uint32_t class;
		enum vf_header_type hdr;
		bool ids_ok, endpoint, bridge;
	} cases[] = {
		{ 0x020000, VF_HDR_NORMAL, true, true, false },   /* Ethernet */
		{ 0x030000, VF_HDR_NORMAL, true, true, false },   /* VGA */
		{ 0x010802, VF_HDR_NORMAL, true, true, false },   /* NVMe */
		{ 0x040300, VF_HDR_NORMAL, true, true, false },   /* HD audio */
		{ 0x060000, VF_HDR_NORMAL, true, false, false },  /* host bridge */
		{ 0x060100, VF_HDR_NORMAL, true, false, false },  /* ISA bridge */
		{ 0x068000, VF_HDR_NORMAL, true, false, false },  /* other bridge */
		{ 0x060400, VF_HDR_BRIDGE, true, false, true },   /* PCI bridge */
		{ 0x060401, VF_HDR_BRIDGE, true, false, true },   /* subtractive */
		{ 0x060400, VF_HDR_NORMAL, true, false, true },   /* by class alone */
		{ 0x060700, VF_HDR_CARDBUS, true, false, true },  /* CardBus */
		{ 0x060700, VF_HDR_NORMAL, true, false, true },
		{ 0x020000, VF_HDR_BRIDGE, true, false, true },   /* by header alone */
		{ 0x020000, VF_HDR_CARDBUS, true, false, true },
		/* an unreadable header is not taken for an endpoint: fail closed */
		{ 0x020000, VF_HDR_UNKNOWN, true, false, false },
		/* class not read: only the header speaks */
		{ 0x060400, VF_HDR_NORMAL, false, true, false },
		{ 0, VF_HDR_BRIDGE, false, false, true },
		{ 0, VF_HDR_UNKNOWN, false, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pci_dev_info d = dev(cases[i].class, cases[i].hdr, cases[i].ids_ok);

		if (pci_is_endpoint(&d) != cases[i].endpoint ||
		    pci_is_bridge(&d) != cases[i].bridge)
			fail_msg("case %zu (class %06x header %d ids_ok %d): endpoint %d bridge %d",
				 i, cases[i].class, cases[i].hdr, cases[i].ids_ok,
				 pci_is_endpoint(&d), pci_is_bridge(&d));
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pci_header_name(VF_HDR_NORMAL), "normal");
	assert_string_equal(pci_header_name(VF_HDR_BRIDGE), "bridge");
	assert_string_equal(pci_header_name(VF_HDR_CARDBUS), "cardbus");
	assert_null(pci_header_name(VF_HDR_UNKNOWN));
	assert_string_equal(pci_irq_mode_name(VF_IRQ_NONE), "none");
	assert_string_equal(pci_irq_mode_name(VF_IRQ_INTX), "intx");
	assert_string_equal(pci_irq_mode_name(VF_IRQ_MSI), "msi");
	assert_string_equal(pci_irq_mode_name(VF_IRQ_MSIX), "msix");
}

/* ---- pci_scan ------------------------------------------------------- */

/* Creates sys/devices/<path> with the usual attributes and its bus link. */
static void make_dev(const struct tree *t, const char *path, const char *vendor,
		     const char *device, const char *class, unsigned char header)
{
	char rel[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	unsigned char cfg[256] = { 0 };
	const char *bdf = strrchr(path, '/') + 1;

	snprintf(rel, sizeof(rel), "sys/devices/%s", path);
	tree_mkdir(t, rel);
#define ATTR(name, val)                                                                       \
	do {                                                                                  \
		char p_[PATH_MAX];                                                            \
		snprintf(p_, sizeof(p_), "%s/%s", rel, name);                                 \
		tree_write(t, p_, val);                                                       \
	} while (0)
	ATTR("vendor", vendor);
	ATTR("device", device);
	ATTR("class", class);
	ATTR("subsystem_vendor", "0x1af4\n");
	ATTR("subsystem_device", "0x1100\n");
	ATTR("numa_node", "-1\n");
	ATTR("driver_override", "(null)\n");
	cfg[0x0e] = header;
	{
		char p_[PATH_MAX];

		snprintf(p_, sizeof(p_), "%s/config", rel);
		tree_write_n(t, p_, cfg, sizeof(cfg));
	}
#undef ATTR
	snprintf(link, sizeof(link), "sys/bus/pci/devices/%s", bdf);
	snprintf(target, sizeof(target), "../../../devices/%s", path);
	tree_link(t, link, target);
}

static void dev_link(const struct tree *t, const char *path, const char *name,
		     const char *target)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "sys/devices/%s/%s", path, name);
	tree_link(t, rel, target);
}

static void dev_attr(const struct tree *t, const char *path, const char *name, const char *val)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "sys/devices/%s/%s", path, name);
	tree_write(t, rel, val);
}

#define P_HOST "pci0000:00/0000:00:00.0"
#define P_ROOT "pci0000:00/0000:00:1c.0"
#define P_NIC "pci0000:00/0000:00:1c.0/0000:01:00.0"
#define P_VF "pci0000:00/0000:00:1c.0/0000:01:00.2"
#define P_GPU "pci0000:00/0000:00:02.0"
#define P_BAD "pci0000:00/0000:00:03.0"

static void build_tree(struct tree *t)
{
	make_dev(t, P_HOST, "0x8086\n", "0x29c0\n", "0x060000\n", 0x00);
	make_dev(t, P_ROOT, "0x8086\n", "0x2940\n", "0x060400\n", 0x81); /* multi-function bit */
	dev_link(t, P_ROOT, "driver", "../../../bus/pci/drivers/pcieport");
	dev_link(t, P_ROOT, "iommu_group", "../../../kernel/iommu_groups/9");

	make_dev(t, P_NIC, "0x8086\n", "0x10d3\n", "0x020000\n", 0x80);
	dev_link(t, P_NIC, "driver", "../../../../bus/pci/drivers/e1000e");
	/* driver links lead to the drivers' directories, as in sysfs */
	tree_mkdir(t, "sys/bus/pci/drivers/pcieport");
	tree_mkdir(t, "sys/bus/pci/drivers/e1000e");
	dev_link(t, P_NIC, "iommu_group", "../../../../kernel/iommu_groups/9");
	dev_attr(t, P_NIC, "numa_node", "0\n");
	dev_attr(t, P_NIC, "irq", "16\n");
	dev_attr(t, P_NIC, "msi_irqs/42", "msix\n");
	dev_attr(t, P_NIC, "msi_irqs/40", "msix\n");
	dev_attr(t, P_NIC, "msi_irqs/41", "msix\n");
	dev_attr(t, P_NIC, "reset_method", "flr bus\n");
	dev_attr(t, P_NIC, "sriov_totalvfs", "7\n");
	dev_attr(t, P_NIC, "sriov_numvfs", "1\n");
	dev_link(t, P_NIC, "virtfn0", "../0000:01:00.2");

	make_dev(t, P_VF, "0x8086\n", "0x10ca\n", "0x020000\n", 0x00);
	dev_link(t, P_VF, "physfn", "../0000:01:00.0");
	dev_link(t, P_VF, "iommu_group", "../../../../kernel/iommu_groups/10");
	dev_attr(t, P_VF, "driver_override", "vfio-pci\n");

	make_dev(t, P_GPU, "0x1234\n", "0x1111\n", "0x030000\n", 0x00);
	dev_attr(t, P_GPU, "boot_vga", "1\n");
	dev_attr(t, P_GPU, "irq", "11\n");
	dev_link(t, P_GPU, "iommu_group", "../../../kernel/iommu_groups/2");

	/* junk facts: class not a number, a group link that is not a number */
	make_dev(t, P_BAD, "0x1af4\n", "0x1000\n", "0xzz\n", 0x00);
	dev_link(t, P_BAD, "iommu_group", "../../../kernel/iommu_groups/x1");
	dev_attr(t, P_BAD, "numa_node", "-5\n");

	/* not a device at all */
	tree_mkdir(t, "sys/bus/pci/devices/not-a-bdf");
}

static void test_scan(void **state)
{
	struct tree t;
	struct hostfs h;
	struct pci_inventory inv;
	struct vf_err e = { 0 };
	const struct pci_dev_info *d;

	(void)state;
	tree_init(&t);
	build_tree(&t);
	assert_int_equal(hostfs_init(&h, t.root, &e), 0);
	assert_int_equal(pci_scan(&h, &inv, &e), 0);

	assert_int_equal(inv.n, 6);
	for (size_t i = 1; i < inv.n; i++)
		assert_true(strcmp(inv.devs[i - 1].bdf, inv.devs[i].bdf) < 0);
	assert_int_equal(inv.errors.n, 1);
	assert_non_null(strstr(inv.errors.v[0], "not-a-bdf"));

	d = pci_find(&inv, "0000:00:00.0");
	assert_non_null(d);
	assert_true(d->ids_ok);
	assert_int_equal(d->class, 0x060000);
	assert_int_equal(d->header, VF_HDR_NORMAL);
	assert_false(pci_is_endpoint(d));
	assert_string_equal(d->parent, "");
	assert_string_equal(d->syspath, "/sys/devices/" P_HOST);
	assert_int_equal(d->iommu_group, -1);
	assert_string_equal(d->driver, "");
	assert_string_equal(d->driver_override, "");
	assert_int_equal(d->errors.n, 0);

	d = pci_find(&inv, "0000:00:1c.0");
	assert_non_null(d);
	assert_int_equal(d->header, VF_HDR_BRIDGE);
	assert_true(pci_is_bridge(d));
	assert_string_equal(d->driver, "pcieport");
	assert_int_equal(d->iommu_group, 9);

	d = pci_find(&inv, "0000:01:00.0");
	assert_non_null(d);
	assert_int_equal(d->errors.n, 0);
	assert_int_equal(d->vendor, 0x8086);
	assert_int_equal(d->device, 0x10d3);
	assert_int_equal(d->class, 0x020000);
	assert_true(d->subsys_ok);
	assert_int_equal(d->subsys_vendor, 0x1af4);
	assert_int_equal(d->subsys_device, 0x1100);
	assert_int_equal(d->header, VF_HDR_NORMAL);
	assert_string_equal(d->parent, "0000:00:1c.0");
	assert_string_equal(d->driver, "e1000e");
	assert_int_equal(d->iommu_group, 9);
	assert_int_equal(d->numa_node, 0);
	assert_int_equal(d->boot_vga, -1);
	assert_int_equal(d->sriov_totalvfs, 7);
	assert_int_equal(d->sriov_numvfs, 1);
	assert_int_equal(d->vfs.n, 1);
	assert_string_equal(d->vfs.v[0], "0000:01:00.2");
	assert_true(d->has_reset_method);
	assert_int_equal(d->reset_methods.n, 2);
	assert_string_equal(d->reset_methods.v[0], "flr");
	assert_string_equal(d->reset_methods.v[1], "bus");
	assert_int_equal(d->irq, 16);
	assert_int_equal(d->irq_mode, VF_IRQ_MSIX);
	assert_int_equal(d->n_vectors, 3);
	assert_int_equal(d->vectors[0], 40);
	assert_int_equal(d->vectors[1], 41);
	assert_int_equal(d->vectors[2], 42);

	d = pci_find(&inv, "0000:01:00.2");
	assert_non_null(d);
	assert_string_equal(d->physfn, "0000:01:00.0");
	assert_string_equal(d->driver_override, "vfio-pci");
	assert_int_equal(d->iommu_group, 10);
	assert_int_equal(d->sriov_totalvfs, -1);
	assert_false(d->has_reset_method);
	assert_int_equal(d->irq_mode, VF_IRQ_NONE);

	d = pci_find(&inv, "0000:00:02.0");
	assert_non_null(d);
	assert_int_equal(d->boot_vga, 1);
	assert_int_equal(d->irq, 11);
	assert_int_equal(d->irq_mode, VF_IRQ_INTX);

	/* per-device problems are recorded, and the scan goes on */
	d = pci_find(&inv, "0000:00:03.0");
	assert_non_null(d);
	assert_false(d->ids_ok);
	assert_int_equal(d->iommu_group, -1);
	assert_int_equal(d->numa_node, -1);
	assert_int_equal(d->errors.n, 3);
	assert_non_null(strstr(d->errors.v[0], "class: not a number \"0xzz\""));
	assert_non_null(strstr(d->errors.v[1], "iommu_group"));
	assert_non_null(strstr(d->errors.v[2], "numa_node: value out of range \"-5\""));

	assert_null(pci_find(&inv, "0000:00:04.0"));
	assert_null(pci_find(&inv, "00:02.0"));

	pci_inventory_free(&inv);
	assert_int_equal(inv.n, 0);
	assert_null(inv.devs);
	hostfs_fini(&h);
	tree_destroy(&t);
}

static void test_scan_no_devices_dir(void **state)
{
	struct tree t;
	struct hostfs h;
	struct pci_inventory inv;
	struct vf_err e = { 0 };

	(void)state;
	tree_init(&t);
	assert_int_equal(hostfs_init(&h, t.root, &e), 0);
	assert_true(pci_scan(&h, &inv, &e) < 0);
	assert_non_null(strstr(e.msg, "cannot list PCI devices"));
	assert_int_equal(inv.n, 0);
	pci_inventory_free(&inv);

	/* an empty bus is not an error */
	tree_mkdir(&t, "sys/bus/pci/devices");
	assert_int_equal(pci_scan(&h, &inv, &e), 0);
	assert_int_equal(inv.n, 0);
	assert_null(pci_find(&inv, "0000:00:00.0"));
	pci_inventory_free(&inv);
	hostfs_fini(&h);
	tree_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bdf_of_syspath),
		cmocka_unit_test(test_bdf_of_syspath_too_long),
		cmocka_unit_test(test_endpoint_and_bridge),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_scan_no_devices_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
