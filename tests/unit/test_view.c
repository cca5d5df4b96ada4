// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of view.c: the inventory kept current. A small sysroot tree
 * is changed behind the view's back, and the view must (a) keep what it
 * has until told, (b) read only the marked device when told, (c) read the
 * host-critical facts when the host is marked, (d) for a move, read the
 * whole IOMMU group and the host facts whatever was marked, (e) find what
 * changed with no mark in its sweep and a rescan, and say what it was.
 */
#include "tree.h"

#include "view.h"

#define REL "6.1.0-18-amd64"
#define DEVDIR "sys/devices/pci0000:00/"

static const char route_default[] =
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	"eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
static const char route_none[] =
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

static void mk_dev(struct tree *t, const char *bdf, const char *vendor, const char *device,
		   const char *cls, int group, const char *driver)
{
	unsigned char cfg[64] = { 0 };
	char dir[256], p[512], target[512];

	snprintf(dir, sizeof(dir), DEVDIR "%s", bdf);
	tree_mkdir(t, dir);
	snprintf(p, sizeof(p), "%s/vendor", dir);
	tree_write(t, p, vendor);
	snprintf(p, sizeof(p), "%s/device", dir);
	tree_write(t, p, device);
	snprintf(p, sizeof(p), "%s/class", dir);
	tree_write(t, p, cls);
	snprintf(p, sizeof(p), "%s/config", dir);
	tree_write_n(t, p, cfg, sizeof(cfg));
	snprintf(p, sizeof(p), "%s/iommu_group", dir);
	snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
	tree_link(t, p, target);
	snprintf(p, sizeof(p), "sys/kernel/iommu_groups/%d/devices/%s", group, bdf);
	snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", bdf);
	tree_link(t, p, target);
	if (driver) {
		snprintf(p, sizeof(p), "%s/driver", dir);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		tree_link(t, p, target);
		snprintf(p, sizeof(p), "sys/bus/pci/drivers/%s", driver);
		tree_mkdir(t, p);
	}
	snprintf(p, sizeof(p), "sys/bus/pci/devices/%s", bdf);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", bdf);
	tree_link(t, p, target);
}

static void set_driver(struct tree *t, const char *bdf, const char *driver)
{
	char p[PATH_MAX], target[256];

	snprintf(p, sizeof(p), "%s/" DEVDIR "%s/driver", t->root, bdf);
	unlink(p);
	if (!driver)
		return;
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
	assert_int_equal(symlink(target, p), 0);
	snprintf(p, sizeof(p), "sys/bus/pci/drivers/%s", driver);
	tree_mkdir(t, p);
}

/*
 * GPU 02.0 and its audio function 02.1 (companions) with an unrelated
 * function 05.0 in IOMMU group 2; NIC 03.0 (group 3, e1000e) carries the
 * default route.
 */
static void build_host(struct tree *t)
{
	mk_dev(t, "0000:00:02.0", "0x10de", "0x2330", "0x030200", 2, NULL);
	mk_dev(t, "0000:00:02.1", "0x10de", "0x22a3", "0x040300", 2, NULL);
	mk_dev(t, "0000:00:03.0", "0x8086", "0x10d3", "0x020000", 3, "e1000e");
	mk_dev(t, "0000:00:05.0", "0x8086", "0x2922", "0x010601", 2, NULL);
	tree_mkdir(t, DEVDIR "0000:00:03.0/net/eth0");
	tree_link(t, "sys/class/net/eth0", "../../devices/pci0000:00/0000:00:03.0/net/eth0");
	tree_write(t, "proc/self/mountinfo",
		   "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n");
	tree_write(t, "proc/net/route", route_default);
	tree_write(t, "proc/sys/kernel/osrelease", REL "\n");
	tree_mkdir(t, "sys/bus/pci/drivers/vfio-pci");
}

struct vfx {
	struct tree t;
	struct hostfs h;
	struct view v;
};

static int setup(void **state)
{
	struct vfx *f = calloc(1, sizeof(*f));
	struct vf_err e = { 0 };

	assert_non_null(f);
	tree_init(&f->t);
	build_host(&f->t);
	assert_int_equal(hostfs_init(&f->h, f->t.root, &e), 0);
	assert_int_equal(view_init(&f->v, &f->h, NULL, NULL, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct vfx *f = *state;

	view_fini(&f->v);
	hostfs_fini(&f->h);
	tree_destroy(&f->t);
	free(f);
	return 0;
}

static const struct pci_dev_info *dev(const struct inventory *inv, const char *bdf)
{
	int i = inventory_find(inv, bdf);

	return i >= 0 ? &inv->pci.devs[i] : NULL;
}

static enum vf_reason reason(const struct inventory *inv, const char *bdf)
{
	int i = inventory_find(inv, bdf);

	assert_true(i >= 0);
	return inv->verdicts[i].reason;
}

/* A change is not seen until the device is marked; then only that device is read. */
static void test_mark_reads_one(void **state)
{
	struct vfx *f = *state;
	const struct inventory *inv;
	uint64_t reads, gen = f->v.gen;

	assert_string_equal(dev(view_get(&f->v), "0000:00:03.0")->driver, "e1000e");
	set_driver(&f->t, "0000:00:03.0", NULL);
	/* held, not read again: the answer is the view's */
	assert_string_equal(dev(view_get(&f->v), "0000:00:03.0")->driver, "e1000e");
	assert_int_equal(f->v.gen, gen);
	reads = f->v.stats.device_reads;
	view_mark(&f->v, "0000:00:03.0");
	view_mark(&f->v, "0000:00:03.0"); /* twice: read once */
	view_mark(&f->v, "bogus");        /* not an address: ignored */
	inv = view_get(&f->v);
	assert_string_equal(dev(inv, "0000:00:03.0")->driver, "");
	assert_int_equal(f->v.stats.device_reads - reads, 1);
	assert_true(f->v.gen > gen);
	assert_int_equal(inv->pci.n, 4);
}

/* The host marked: the host-critical facts read again, verdicts follow. */
static void test_mark_host(void **state)
{
	struct vfx *f = *state;

	assert_int_equal(reason(view_get(&f->v), "0000:00:03.0"), VF_REASON_HOST_CRITICAL);
	tree_write(&f->t, "proc/net/route", route_none);
	assert_int_equal(reason(view_get(&f->v), "0000:00:03.0"), VF_REASON_HOST_CRITICAL);
	view_mark_host(&f->v);
	assert_int_equal(reason(view_get(&f->v), "0000:00:03.0"), VF_REASON_NONE);
	assert_int_equal(f->v.stats.host_reads, 1);
	/* and back: a new default route makes it host-critical again */
	tree_write(&f->t, "proc/net/route", route_default);
	view_mark_host(&f->v);
	assert_int_equal(reason(view_get(&f->v), "0000:00:03.0"), VF_REASON_HOST_CRITICAL);
}

/* A device that comes is put in order; one that goes is dropped; group verdicts follow. */
static void test_add_remove(void **state)
{
	struct vfx *f = *state;
	const struct inventory *inv;
	char p[PATH_MAX];

	assert_int_equal(reason(view_get(&f->v), "0000:00:02.0"), VF_REASON_NONE);
	mk_dev(&f->t, "0000:00:04.0", "0x1b36", "0x0005", "0x00ff00", 2, "ahci");
	view_mark(&f->v, "0000:00:04.0");
	inv = view_get(&f->v);
	assert_int_equal(inv->pci.n, 5);
	assert_string_equal(inv->pci.devs[3].bdf, "0000:00:04.0");
	/* a host driver on a non-companion group mate: the GPU's group is not viable */
	assert_int_equal(reason(inv, "0000:00:02.0"), VF_REASON_GROUP_NOT_VIABLE);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:00:04.0", f->t.root);
	assert_int_equal(unlink(p), 0);
	view_mark(&f->v, "0000:00:04.0");
	inv = view_get(&f->v);
	assert_int_equal(inv->pci.n, 4);
	assert_null(dev(inv, "0000:00:04.0"));
	assert_int_equal(reason(inv, "0000:00:02.0"), VF_REASON_NONE);
}

/*
 * A move is judged on facts read now: a group mate bound to a host driver
 * and a new default route, neither marked, are seen by view_fresh.
 */
static void test_fresh_reads_group_and_host(void **state)
{
	struct vfx *f = *state;
	const struct inventory *inv;

	set_driver(&f->t, "0000:00:05.0", "ahci");
	assert_int_equal(reason(view_get(&f->v), "0000:00:02.0"), VF_REASON_NONE);
	inv = view_fresh(&f->v, "0000:00:02.0");
	assert_int_equal(reason(inv, "0000:00:02.0"), VF_REASON_GROUP_NOT_VIABLE);
	assert_string_equal(dev(inv, "0000:00:05.0")->driver, "ahci");

	tree_write(&f->t, "proc/net/route", route_none);
	assert_int_equal(reason(view_get(&f->v), "0000:00:03.0"), VF_REASON_HOST_CRITICAL);
	inv = view_fresh(&f->v, "0000:00:03.0");
	assert_int_equal(reason(inv, "0000:00:03.0"), VF_REASON_NONE);
	/* a device that is not there: the view, with nothing about it */
	assert_null(dev(view_fresh(&f->v, "0000:00:1f.0"), "0000:00:1f.0"));
}

/* The sweep finds a change nothing told of, corrects it, and says what it was. */
static void test_sweep_finds_drift(void **state)
{
	struct vfx *f = *state;
	struct vf_strv drift = { 0 };

	set_driver(&f->t, "0000:00:03.0", "vfio-pci");
	/* two devices a call: the round goes 02.0 02.1, then 03.0 05.0 */
	assert_int_equal(view_sweep(&f->v, 2, &drift), 0);
	assert_int_equal(drift.n, 0);
	assert_int_equal(view_sweep(&f->v, 2, &drift), 1);
	assert_int_equal(drift.n, 1);
	assert_string_equal(drift.v[0], "0000:00:03.0: driver e1000e -> vfio-pci");
	assert_string_equal(dev(view_get(&f->v), "0000:00:03.0")->driver, "vfio-pci");
	assert_int_equal(f->v.stats.swept, 4);
	assert_int_equal(f->v.stats.drift, 1);
	vf_strv_free(&drift);
	/* the end of the round: the device list and the host facts */
	tree_write(&f->t, "proc/net/route", route_none);
	mk_dev(&f->t, "0000:00:06.0", "0x1b36", "0x0005", "0x00ff00", 6, NULL);
	assert_int_equal(view_sweep(&f->v, 2, &drift), 2);
	assert_int_equal(f->v.stats.rounds, 1);
	assert_int_equal(drift.n, 2);
	assert_string_equal(drift.v[0], "0000:00:06.0: appeared");
	assert_string_equal(drift.v[1], "host-critical: no longer 0000:00:03.0");
	assert_int_equal(reason(view_get(&f->v), "0000:00:03.0"), VF_REASON_NONE);
	assert_non_null(dev(view_get(&f->v), "0000:00:06.0"));
	vf_strv_free(&drift);
	/* nothing changed: a whole round finds nothing */
	assert_int_equal(view_sweep(&f->v, 10, &drift), 0);
	assert_int_equal(drift.n, 0);
}

static bool always_pending(void *ctx, const char *bdf)
{
	(*(int *)ctx)++;
	(void)bdf;
	return true;
}

/* A change whose event is waiting to be read is corrected, but it is no drift. */
static void test_sweep_event_pending(void **state)
{
	struct vfx *f = *state;
	struct vf_strv drift = { 0 };
	int asked = 0;

	f->v.pending = always_pending;
	f->v.pending_ctx = &asked;
	set_driver(&f->t, "0000:00:03.0", "vfio-pci");
	tree_write(&f->t, "proc/net/route", route_none);
	assert_int_equal(view_sweep(&f->v, 10, &drift), 0);
	assert_int_equal(drift.n, 0);
	assert_int_equal(f->v.stats.drift, 0);
	assert_int_equal(asked, 2); /* the device, then the host */
	assert_string_equal(dev(view_get(&f->v), "0000:00:03.0")->driver, "vfio-pci");
	assert_int_equal(reason(view_get(&f->v), "0000:00:03.0"), VF_REASON_NONE);
}

/* Vectors come and go with no uevent: corrected quietly, not drift. */
static void test_interrupts_are_not_drift(void **state)
{
	struct vfx *f = *state;
	struct vf_strv drift = { 0 };
	const struct pci_dev_info *d;

	tree_write(&f->t, DEVDIR "0000:00:02.0/msi_irqs/40", "msix");
	tree_write(&f->t, DEVDIR "0000:00:02.0/msi_irqs/41", "msix");
	assert_int_equal(view_sweep(&f->v, 1, &drift), 0);
	assert_int_equal(drift.n, 0);
	d = dev(view_get(&f->v), "0000:00:02.0");
	assert_int_equal(d->n_vectors, 2);
	assert_int_equal(d->irq_mode, VF_IRQ_MSIX);
	/* show reads them directly */
	tree_write(&f->t, DEVDIR "0000:00:02.0/msi_irqs/42", "msix");
	view_refresh_interrupts(&f->v, "0000:00:02.0");
	assert_int_equal(dev(view_get(&f->v), "0000:00:02.0")->n_vectors, 3);
}

/* A rescan reads everything, reports each difference, and replaces the view. */
static void test_rescan(void **state)
{
	struct vfx *f = *state;
	struct vf_strv drift = { 0 };
	struct vf_err e = { 0 };
	char p[PATH_MAX];

	set_driver(&f->t, "0000:00:03.0", NULL);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:00:05.0", f->t.root);
	assert_int_equal(unlink(p), 0);
	tree_write(&f->t, "proc/net/route", route_none);
	assert_int_equal(view_rescan(&f->v, &drift, &e), 3);
	assert_int_equal(drift.n, 3);
	assert_string_equal(drift.v[0], "0000:00:03.0: driver e1000e -> none");
	assert_string_equal(drift.v[1], "0000:00:05.0: gone");
	assert_string_equal(drift.v[2], "host-critical: no longer 0000:00:03.0");
	assert_int_equal(view_get(&f->v)->pci.n, 3);
	assert_int_equal(reason(view_get(&f->v), "0000:00:03.0"), VF_REASON_NONE);
	/* the facts point into the view's own copy: a later re-judging still works */
	view_mark_host(&f->v);
	assert_int_equal(reason(view_get(&f->v), "0000:00:03.0"), VF_REASON_NONE);
	vf_strv_free(&drift);
	assert_int_equal(view_rescan(&f->v, &drift, &e), 0);
	assert_int_equal(f->v.stats.rescans, 2);
}

/* Pure: the first difference, in words; interrupts are not one. */
static void test_dev_differs(void **state)
{
	struct pci_dev_info a = { .ids_ok = true, .vendor = 0x8086, .device = 0x10d3,
				  .class = 0x020000, .iommu_group = 3, .numa_node = -1 };
	struct pci_dev_info b = a;
	unsigned vec[] = { 40 };
	char what[256];

	(void)state;
	assert_false(view_dev_differs(&a, &b, what, sizeof(what)));
	b.vectors = vec;
	b.n_vectors = 1;
	assert_false(view_dev_differs(&a, &b, what, sizeof(what)));
	snprintf(b.driver_override, sizeof(b.driver_override), "vfio-pci");
	assert_true(view_dev_differs(&a, &b, what, sizeof(what)));
	assert_string_equal(what, "driver_override none -> vfio-pci");
	b = a;
	b.iommu_group = 7;
	assert_true(view_dev_differs(&a, &b, what, sizeof(what)));
	assert_string_equal(what, "IOMMU group 3 -> 7");
	b = a;
	b.numa_node = 1;
	assert_true(view_dev_differs(&a, &b, what, sizeof(what)));
	assert_string_equal(what, "NUMA node -1 -> 1");
	b = a;
	b.device = 0x10d4;
	assert_true(view_dev_differs(&a, &b, what, sizeof(what)));
	assert_string_equal(what, "ids 8086:10d3 class 020000 -> 8086:10d4 class 020000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mark_reads_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_reads_group_and_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_finds_drift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_event_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupts_are_not_drift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rescan, setup, teardown),
		cmocka_unit_test(test_dev_differs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
