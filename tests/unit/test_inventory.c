// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of inventory.c: the modules list matcher, and a whole
 * inventory_gather() over a small sysroot (host facts, verdicts, JSON).
 */
#include "tree.h"

#include "inventory.h"

/* ---- inventory_modules_list_has ------------------------------------- */

static const char modules_dep[] =
	"kernel/drivers/vfio/vfio.ko: kernel/drivers/iommu/iommufd/iommufd.ko\n"
	"kernel/drivers/vfio/pci/vfio-pci-core.ko: kernel/drivers/vfio/vfio.ko "
	"kernel/virt/lib/irqbypass.ko\n"
	"kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko "
	"kernel/drivers/vfio/vfio.ko kernel/virt/lib/irqbypass.ko\n"
	"kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n"
	"kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko:\n";

static void test_modules_dep(void **state)
{
	(void)state;
	assert_true(inventory_modules_list_has(modules_dep, "vfio-pci"));
	assert_true(inventory_modules_list_has(modules_dep, "vfio-pci-core"));
	assert_true(inventory_modules_list_has(modules_dep, "vfio"));
	assert_true(inventory_modules_list_has(modules_dep, "mlx5-vfio-pci"));
	assert_true(inventory_modules_list_has(modules_dep, "e1000e"));
	assert_false(inventory_modules_list_has(modules_dep, "pci"));
	assert_false(inventory_modules_list_has(modules_dep, "vfio_pci"));
	assert_false(inventory_modules_list_has(modules_dep, "nvme"));
	/* a dependency is not a module line of its own */
	assert_false(inventory_modules_list_has(modules_dep, "irqbypass"));
	assert_false(inventory_modules_list_has(modules_dep, "iommufd"));
}

static void test_modules_dep_core_alone(void **state)
{
	(void)state;
	/* vfio-pci-core is not vfio-pci, wherever it appears */
	assert_false(inventory_modules_list_has(
		"kernel/drivers/vfio/pci/vfio-pci-core.ko: kernel/drivers/vfio/vfio.ko\n",
		"vfio-pci"));
	assert_false(inventory_modules_list_has(
		"kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko: "
		"kernel/drivers/vfio/pci/vfio-pci-core.ko\n",
		"vfio-pci"));
	assert_false(inventory_modules_list_has("kernel/drivers/vfio/pci/xvfio-pci.ko:\n",
						"vfio-pci"));
}

static void test_modules_compressed(void **state)
{
	(void)state;
	assert_true(inventory_modules_list_has(
		"kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz\n",
		"vfio-pci"));
	assert_true(inventory_modules_list_has(
		"kernel/drivers/vfio/pci/vfio-pci.ko.zst: kernel/drivers/vfio/vfio.ko.zst\n",
		"vfio-pci"));
	assert_true(inventory_modules_list_has("kernel/drivers/vfio/pci/vfio-pci.ko.gz:\n",
					       "vfio-pci"));
	assert_false(inventory_modules_list_has("kernel/drivers/vfio/pci/vfio-pci.ko.bz2:\n",
						"vfio-pci"));
	assert_false(inventory_modules_list_has("kernel/drivers/vfio/pci/vfio-pci.kox:\n",
						"vfio-pci"));
	assert_false(inventory_modules_list_has("kernel/drivers/vfio/pci/vfio-pci.o:\n",
						"vfio-pci"));
	assert_false(inventory_modules_list_has("kernel/drivers/vfio/pci/vfio-pci:\n",
						"vfio-pci"));
	assert_false(inventory_modules_list_has(
		"kernel/drivers/vfio/pci/vfio-pci-core.ko.zst: kernel/drivers/vfio/vfio.ko.zst\n",
		"vfio-pci"));
}

static void test_modules_builtin(void **state)
{
	static const char builtin[] = "kernel/drivers/pci/pcie/portdrv.ko\n"
				      "kernel/drivers/vfio/vfio.ko\n"
				      "kernel/drivers/vfio/pci/vfio-pci-core.ko\n"
				      "kernel/drivers/vfio/pci/vfio-pci.ko\n"
				      "kernel/drivers/char/hw_random/rng-core.ko\n";

	(void)state;
	assert_true(inventory_modules_list_has(builtin, "vfio-pci"));
	assert_true(inventory_modules_list_has(builtin, "rng-core"));
	assert_false(inventory_modules_list_has(builtin, "e1000e"));
	assert_false(inventory_modules_list_has("kernel/drivers/vfio/pci/vfio-pci-core.ko\n",
						"vfio-pci"));
	/* a module file at the top of the tree */
	assert_true(inventory_modules_list_has("vfio-pci.ko\n", "vfio-pci"));
}

static void test_modules_last_line_and_empty(void **state)
{
	(void)state;
	/* the last line without a newline */
	assert_true(inventory_modules_list_has("kernel/drivers/vfio/vfio.ko\n"
					       "kernel/drivers/vfio/pci/vfio-pci.ko",
					       "vfio-pci"));
	assert_true(inventory_modules_list_has("kernel/drivers/vfio/pci/vfio-pci.ko: "
					       "kernel/drivers/vfio/vfio.ko",
					       "vfio-pci"));
	/* blank lines in between do not matter */
	assert_true(inventory_modules_list_has("\n\nkernel/drivers/vfio/pci/vfio-pci.ko:\n\n",
					       "vfio-pci"));
	assert_false(inventory_modules_list_has("", "vfio-pci"));
	assert_false(inventory_modules_list_has("\n", "vfio-pci"));
	assert_false(inventory_modules_list_has(":\n", "vfio-pci"));
	/* a line holding only the name, or the name after the colon */
	assert_false(inventory_modules_list_has("vfio-pci\n", "vfio-pci"));
	assert_false(inventory_modules_list_has("x.ko: vfio-pci.ko\n", "vfio-pci"));
}

/* ---- inventory_gather ------------------------------------------------ */

#define REL "6.1.0-18-amd64"

static void build_host(struct tree *t)
{
	/* GPU 00:02.0 (group 2, no driver), NIC 00:03.0 (group 3, e1000e, eth0) */
	static const struct {
		const char *bdf, *vendor, *device, *cls, *group, *driver;
	} devs[] = {
		{ "0000:00:02.0", "0x1234", "0x1111", "0x030000", "2", NULL },
		{ "0000:00:03.0", "0x8086", "0x10d3", "0x020000", "3", "e1000e" },
	};
	unsigned char cfg[64] = { 0 };

	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		char dir[256], p[512], target[512];

		snprintf(dir, sizeof(dir), "sys/devices/pci0000:00/%s", devs[i].bdf);
		tree_mkdir(t, dir);
		snprintf(p, sizeof(p), "%s/vendor", dir);
		tree_write(t, p, devs[i].vendor);
		snprintf(p, sizeof(p), "%s/device", dir);
		tree_write(t, p, devs[i].device);
		snprintf(p, sizeof(p), "%s/class", dir);
		tree_write(t, p, devs[i].cls);
		snprintf(p, sizeof(p), "%s/config", dir);
		tree_write_n(t, p, cfg, sizeof(cfg));
		snprintf(p, sizeof(p), "%s/iommu_group", dir);
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%s", devs[i].group);
		tree_link(t, p, target);
		snprintf(p, sizeof(p), "sys/kernel/iommu_groups/%s/devices", devs[i].group);
		tree_mkdir(t, p);
		if (devs[i].driver) {
			snprintf(p, sizeof(p), "%s/driver", dir);
			snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s",
				 devs[i].driver);
			tree_link(t, p, target);
			/* the link must lead somewhere, as in sysfs */
			snprintf(p, sizeof(p), "sys/bus/pci/drivers/%s", devs[i].driver);
			tree_mkdir(t, p);
		}
		snprintf(p, sizeof(p), "sys/bus/pci/devices/%s", devs[i].bdf);
		snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", devs[i].bdf);
		tree_link(t, p, target);
	}
	tree_mkdir(t, "sys/devices/pci0000:00/0000:00:03.0/net/eth0");
	tree_link(t, "sys/class/net/eth0", "../../devices/pci0000:00/0000:00:03.0/net/eth0");
	tree_write(t, "proc/self/mountinfo",
		   "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n");
	tree_write(t, "proc/net/route",
		   "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\t"
		   "Window\tIRTT\n"
		   "eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
	tree_write(t, "proc/sys/kernel/osrelease", REL "\n");
}

struct gfx {
	struct tree t;
	struct hostfs h;
	struct inventory inv;
	bool gathered;
};

static int gather_setup(void **state)
{
	struct gfx *f = calloc(1, sizeof(*f));
	struct vf_err e = { 0 };

	assert_non_null(f);
	tree_init(&f->t);
	build_host(&f->t);
	assert_int_equal(hostfs_init(&f->h, f->t.root, &e), 0);
	*state = f;
	return 0;
}

static int gather_teardown(void **state)
{
	struct gfx *f = *state;

	if (f->gathered)
		inventory_free(&f->inv);
	hostfs_fini(&f->h);
	tree_destroy(&f->t);
	free(f);
	return 0;
}

static void gather(struct gfx *f)
{
	struct vf_err e = { 0 };

	if (f->gathered)
		inventory_free(&f->inv);
	assert_int_equal(inventory_gather(&f->inv, &f->h, NULL, NULL, &e), 0);
	f->gathered = true;
	assert_int_equal(f->inv.pci.n, 2);
}

static void test_gather_vfio_loaded(void **state)
{
	struct gfx *f = *state;

	tree_mkdir(&f->t, "sys/bus/pci/drivers/vfio-pci");
	gather(f);
	assert_true(f->inv.facts.iommu);
	assert_true(f->inv.facts.vfio);
	assert_string_equal(f->inv.facts.vfio_why, "the vfio-pci driver is loaded");
	assert_int_equal(f->inv.verdicts[0].reason, VF_REASON_NONE);
	assert_int_equal(f->inv.verdicts[1].reason, VF_REASON_HOST_CRITICAL);
	assert_non_null(strstr(f->inv.verdicts[1].message, "interface eth0"));
}

static void test_gather_vfio_module(void **state)
{
	struct gfx *f = *state;

	tree_write(&f->t, "lib/modules/" REL "/modules.builtin",
		   "kernel/drivers/vfio/pci/vfio-pci-core.ko\n");
	tree_write(&f->t, "lib/modules/" REL "/modules.dep", modules_dep);
	gather(f);
	assert_true(f->inv.facts.vfio);
	assert_non_null(strstr(f->inv.facts.vfio_why, "module of kernel " REL));
	assert_non_null(strstr(f->inv.facts.vfio_why, "not loaded yet"));
	assert_int_equal(f->inv.verdicts[0].reason, VF_REASON_NONE);
}

static void test_gather_vfio_builtin(void **state)
{
	struct gfx *f = *state;

	tree_write(&f->t, "lib/modules/" REL "/modules.builtin",
		   "kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/pci/vfio-pci.ko\n");
	gather(f);
	assert_true(f->inv.facts.vfio);
	assert_string_equal(f->inv.facts.vfio_why, "vfio-pci is built into kernel " REL);
}

static void test_gather_vfio_missing(void **state)
{
	struct gfx *f = *state;

	tree_write(&f->t, "lib/modules/" REL "/modules.dep",
		   "kernel/drivers/vfio/pci/vfio-pci-core.ko.xz: kernel/drivers/vfio/vfio.ko.xz\n");
	gather(f);
	assert_false(f->inv.facts.vfio);
	assert_non_null(strstr(f->inv.facts.vfio_why, "has no vfio-pci module"));
	for (size_t i = 0; i < f->inv.pci.n; i++) {
		assert_int_equal(f->inv.verdicts[i].reason, VF_REASON_VFIO_UNAVAILABLE);
		assert_non_null(strstr(f->inv.verdicts[i].message, "has no vfio-pci module"));
	}
}

static void test_gather_kernel_release_unknown(void **state)
{
	struct gfx *f = *state;

	/* a release that would climb out of lib/modules is not used */
	tree_write(&f->t, "proc/sys/kernel/osrelease", "..\n");
	tree_write(&f->t, "lib/modules.builtin", "kernel/drivers/vfio/pci/vfio-pci.ko\n");
	gather(f);
	assert_false(f->inv.facts.vfio);
	assert_non_null(strstr(f->inv.facts.vfio_why, "kernel release is unknown"));

	tree_write(&f->t, "proc/sys/kernel/osrelease", "");
	gather(f);
	assert_false(f->inv.facts.vfio);
	assert_non_null(strstr(f->inv.facts.vfio_why, "kernel release is unknown"));
}

static void test_gather_no_iommu(void **state)
{
	struct gfx *f = *state;
	char path[PATH_MAX];

	tree_mkdir(&f->t, "sys/bus/pci/drivers/vfio-pci");
	/* the group links dangle once the groups are gone */
	for (int g = 2; g <= 3; g++) {
		snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/%d/devices", f->t.root, g);
		assert_int_equal(rmdir(path), 0);
		snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/%d", f->t.root, g);
		assert_int_equal(rmdir(path), 0);
	}
	gather(f);
	assert_false(f->inv.facts.iommu);
	for (size_t i = 0; i < f->inv.pci.n; i++)
		assert_int_equal(f->inv.verdicts[i].reason, VF_REASON_NO_IOMMU);
}

static void test_gather_json(void **state)
{
	struct gfx *f = *state;
	struct json_object *root, *devs, *d, *v, *crit;

	tree_mkdir(&f->t, "sys/bus/pci/drivers/vfio-pci");
	gather(f);
	root = inventory_to_json(&f->inv);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "iommu", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(root, "host_critical", &crit));
	assert_int_equal(json_object_array_length(crit), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(crit, 0), "bdf", &v));
	assert_string_equal(json_object_get_string(v), "0000:00:03.0");
	assert_true(json_object_object_get_ex(root, "devices", &devs));
	assert_int_equal(json_object_array_length(devs), 2);

	d = json_object_array_get_idx(devs, 0);
	assert_true(json_object_object_get_ex(d, "bdf", &v));
	assert_string_equal(json_object_get_string(v), "0000:00:02.0");
	assert_true(json_object_object_get_ex(d, "assignable", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(d, "reason", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(d, "class", &v));
	assert_string_equal(json_object_get_string(v), "030000");
	assert_true(json_object_object_get_ex(d, "iommu_group", &v));
	assert_int_equal(json_object_get_int(v), 2);

	d = json_object_array_get_idx(devs, 1);
	assert_true(json_object_object_get_ex(d, "assignable", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(d, "reason", &v));
	assert_string_equal(json_object_get_string(v), "host-critical");
	assert_true(json_object_object_get_ex(d, "driver", &v));
	assert_string_equal(json_object_get_string(v), "e1000e");
	json_object_put(root);
}

int main(void)
{
#define G(fn) cmocka_unit_test_setup_teardown(fn, gather_setup, gather_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modules_dep),
		cmocka_unit_test(test_modules_dep_core_alone),
		cmocka_unit_test(test_modules_compressed),
		cmocka_unit_test(test_modules_builtin),
		cmocka_unit_test(test_modules_last_line_and_empty),
		G(test_gather_vfio_loaded),
		G(test_gather_vfio_module),
		G(test_gather_vfio_builtin),
		G(test_gather_vfio_missing),
		G(test_gather_kernel_release_unknown),
		G(test_gather_no_iommu),
		G(test_gather_json),
	};
#undef G

	return cmocka_run_group_tests(tests, NULL, NULL);
}
