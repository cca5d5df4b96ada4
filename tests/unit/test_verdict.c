// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the verdict rules (verdict.c) over hand-built inventories. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "verdict.h"

#define MAX_DEVS 8

struct fx {
	struct pci_dev_info devs[MAX_DEVS];
	struct pci_inventory inv;
	struct host_critical_set crit;
	struct host_critical crit_v[4];
	struct policy pol;
	struct policy_reserved pol_v[4];
	struct host_facts hf;
	struct verdict v[MAX_DEVS];
	bool computed;
};

/* Forgets the devices and verdicts, keeping the facts. */
static void reset(struct fx *f)
{
	if (f->computed)
		verdict_free(f->v, f->inv.n);
	f->computed = false;
	for (size_t i = 0; i < f->inv.n; i++)
		vf_strv_free(&f->devs[i].errors);
	f->inv.n = 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->inv.devs = f->devs;
	f->crit.v = f->crit_v;
	f->pol.reserved = f->pol_v;
	f->hf.iommu = true;
	f->hf.vfio = true;
	snprintf(f->hf.vfio_why, sizeof(f->hf.vfio_why), "the vfio-pci driver is loaded");
	f->hf.critical = &f->crit;
	f->hf.policy = &f->pol;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	reset(f);
	free(f);
	return 0;
}

/* Appends a device; devices must be added in BDF order. */
static struct pci_dev_info *add(struct fx *f, const char *bdf, uint16_t vendor,
				uint16_t device, uint32_t class, enum vf_header_type hdr,
				const char *driver, int group)
{
	struct pci_dev_info *d;

	assert_true(f->inv.n < MAX_DEVS);
	d = &f->devs[f->inv.n];
	memset(d, 0, sizeof(*d));
	assert_true(vf_is_canonical_bdf(bdf));
	if (f->inv.n)
		assert_true(strcmp(f->devs[f->inv.n - 1].bdf, bdf) < 0);
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	assert_int_equal(vf_parse_bdf(bdf, &d->addr), 0);
	d->ids_ok = true;
	d->vendor = vendor;
	d->device = device;
	d->class = class;
	d->header = hdr;
	snprintf(d->driver, sizeof(d->driver), "%s", driver ? driver : "");
	d->iommu_group = group;
	d->numa_node = -1;
	d->boot_vga = -1;
	d->sriov_totalvfs = d->sriov_numvfs = -1;
	f->inv.n++;
	return d;
}

static void add_critical(struct fx *f, const char *bdf, const char *why)
{
	struct host_critical *c = &f->crit_v[f->crit.n++];

	snprintf(c->bdf, sizeof(c->bdf), "%s", bdf);
	snprintf(c->why, sizeof(c->why), "%s", why);
}

static void add_reserved(struct fx *f, const char *bdf, const char *source)
{
	struct policy_reserved *r = &f->pol_v[f->pol.n_reserved++];

	snprintf(r->bdf, sizeof(r->bdf), "%s", bdf);
	snprintf(r->source, sizeof(r->source), "%s", source);
}

static void compute(struct fx *f)
{
	if (f->computed)
		verdict_free(f->v, f->inv.n);
	memset(f->v, 0x5a, sizeof(f->v)); /* verdict_compute must fill everything */
	verdict_compute(&f->inv, &f->hf, f->v);
	f->computed = true;
}

/* Asserts the reason of device i and that its message holds every word given. */
static void expect(const struct fx *f, size_t i, enum vf_reason reason, ...)
{
	const struct verdict *v = &f->v[i];
	const char *word;
	va_list ap;

	if (v->reason != reason)
		fail_msg("%s: reason %s, expected %s (%s)", f->devs[i].bdf,
			 verdict_reason_code(v->reason) ? verdict_reason_code(v->reason) : "none",
			 verdict_reason_code(reason) ? verdict_reason_code(reason) : "none",
			 v->message);
	va_start(ap, reason);
	while ((word = va_arg(ap, const char *)))
		if (!strstr(v->message, word))
			fail_msg("%s: message \"%s\" lacks \"%s\"", f->devs[i].bdf, v->message,
				 word);
	va_end(ap);
}

#define EXPECT(f, i, reason, ...) expect(f, i, reason, ##__VA_ARGS__, (const char *)NULL)

static void expect_indices(const size_t *got, size_t n, const size_t *want, size_t wn)
{
	assert_int_equal(n, wn);
	for (size_t i = 0; i < wn; i++)
		assert_int_equal(got[i], want[i]);
}

#define MEMBERS(f, i, ...)                                                                    \
	do {                                                                                  \
		const size_t w_[] = { __VA_ARGS__ };                                          \
		expect_indices((f)->v[i].members, (f)->v[i].n_members, w_,                    \
			       sizeof(w_) / sizeof(w_[0]));                                   \
	} while (0)
#define COMPANIONS(f, i, ...)                                                                 \
	do {                                                                                  \
		const size_t w_[] = { __VA_ARGS__ };                                          \
		expect_indices((f)->v[i].companions, (f)->v[i].n_companions, w_,              \
			       sizeof(w_) / sizeof(w_[0]));                                   \
	} while (0)

/* A small PC: host bridge, root port, GPU, NIC, AHCI. */
static void small_pc(struct fx *f)
{
	add(f, "0000:00:00.0", 0x8086, 0x29c0, 0x060000, VF_HDR_NORMAL, NULL, 0);
	add(f, "0000:00:01.0", 0x8086, 0x29c1, 0x060400, VF_HDR_BRIDGE, "pcieport", 1);
	add(f, "0000:00:02.0", 0x1234, 0x1111, 0x030000, VF_HDR_NORMAL, "bochs-drm", 2);
	add(f, "0000:00:03.0", 0x8086, 0x10d3, 0x020000, VF_HDR_NORMAL, "e1000e", 3);
	add(f, "0000:00:1f.2", 0x8086, 0x2922, 0x010601, VF_HDR_NORMAL, "ahci", 4);
}

static void test_reason_codes(void **state)
{
	(void)state;
	assert_null(verdict_reason_code(VF_REASON_NONE));
	assert_string_equal(verdict_reason_code(VF_REASON_NO_IOMMU), "no-iommu");
	assert_string_equal(verdict_reason_code(VF_REASON_VFIO_UNAVAILABLE), "vfio-unavailable");
	assert_string_equal(verdict_reason_code(VF_REASON_UNREADABLE), "unreadable");
	assert_string_equal(verdict_reason_code(VF_REASON_NOT_ENDPOINT), "not-endpoint");
	assert_string_equal(verdict_reason_code(VF_REASON_HOST_CRITICAL), "host-critical");
	assert_string_equal(verdict_reason_code(VF_REASON_RESERVED), "reserved-by-policy");
	assert_string_equal(verdict_reason_code(VF_REASON_GROUP_NOT_VIABLE), "group-not-viable");
}

static void test_no_iommu(void **state)
{
	struct fx *f = *state;

	small_pc(f);
	for (size_t i = 0; i < f->inv.n; i++)
		f->devs[i].iommu_group = -1;
	f->devs[2].boot_vga = 1;
	add_critical(f, "0000:00:1f.2", "backs the filesystem mounted at /");
	f->hf.iommu = false;
	compute(f);
	/* every device, bridges, boot GPU and host-critical ones included */
	for (size_t i = 0; i < f->inv.n; i++) {
		EXPECT(f, i, VF_REASON_NO_IOMMU, "no IOMMU groups", "intel_iommu=on");
		MEMBERS(f, i, i);
		assert_int_equal(f->v[i].n_companions, 0);
	}
}

static void test_vfio_unavailable(void **state)
{
	struct fx *f = *state;

	small_pc(f);
	f->hf.vfio = false;
	snprintf(f->hf.vfio_why, sizeof(f->hf.vfio_why),
		 "the vfio-pci driver is not loaded and kernel 6.1.0-18-amd64 has no vfio-pci "
		 "module");
	compute(f);
	for (size_t i = 0; i < f->inv.n; i++)
		EXPECT(f, i, VF_REASON_VFIO_UNAVAILABLE, "vfio-pci is not available",
		       "kernel 6.1.0-18-amd64 has no vfio-pci module");
}

static void test_unreadable(void **state)
{
	struct fx *f = *state;
	struct pci_dev_info *d;

	add(f, "0000:00:02.0", 0x1234, 0x1111, 0x030000, VF_HDR_NORMAL, NULL, 2);
	d = add(f, "0000:00:03.0", 0, 0, 0, VF_HDR_UNKNOWN, NULL, 3);
	d->ids_ok = false;
	vf_strv_add(&d->errors, "class: not a number \"0xzz\"");
	d = add(f, "0000:00:04.0", 0, 0, 0, VF_HDR_NORMAL, NULL, 4);
	d->ids_ok = false;
	compute(f);
	EXPECT(f, 0, VF_REASON_NONE);
	EXPECT(f, 1, VF_REASON_UNREADABLE, "cannot be read", "class: not a number \"0xzz\"");
	EXPECT(f, 2, VF_REASON_UNREADABLE, "vendor, device or class missing");
}

static void test_not_endpoint(void **state)
{
	struct fx *f = *state;

	add(f, "0000:00:00.0", 0x8086, 0x29c0, 0x060000, VF_HDR_NORMAL, NULL, 0);
	add(f, "0000:00:01.0", 0x8086, 0x29c1, 0x060400, VF_HDR_BRIDGE, "pcieport", 1);
	/* an ISA bridge: bridge class, normal header */
	add(f, "0000:00:1f.0", 0x8086, 0x2918, 0x060100, VF_HDR_NORMAL, "lpc_ich", 5);
	/* a PCI bridge by class with a header that says otherwise */
	add(f, "0000:01:00.0", 0x12d8, 0xe111, 0x060401, VF_HDR_NORMAL, NULL, 6);
	/* a CardBus bridge by header */
	add(f, "0000:02:00.0", 0x1180, 0x0476, 0x060700, VF_HDR_CARDBUS, NULL, 7);
	compute(f);
	EXPECT(f, 0, VF_REASON_NOT_ENDPOINT, "bridge-class function", "not an endpoint");
	EXPECT(f, 1, VF_REASON_NOT_ENDPOINT, "PCI bridge", "not an endpoint");
	EXPECT(f, 2, VF_REASON_NOT_ENDPOINT, "bridge-class function");
	EXPECT(f, 3, VF_REASON_NOT_ENDPOINT, "PCI bridge");
	EXPECT(f, 4, VF_REASON_NOT_ENDPOINT, "PCI bridge");
}

static void test_no_group_with_iommu(void **state)
{
	struct fx *f = *state;

	add(f, "0000:00:02.0", 0x1234, 0x1111, 0x030000, VF_HDR_NORMAL, NULL, -1);
	add(f, "0000:00:03.0", 0x8086, 0x10d3, 0x020000, VF_HDR_NORMAL, NULL, -1);
	compute(f);
	EXPECT(f, 0, VF_REASON_NO_IOMMU, "not behind an IOMMU", "no IOMMU group");
	EXPECT(f, 1, VF_REASON_NO_IOMMU, "not behind an IOMMU");
	/* -1 is not a group two devices share */
	MEMBERS(f, 0, 0);
	MEMBERS(f, 1, 1);
}

static void test_boot_vga(void **state)
{
	struct fx *f = *state;

	small_pc(f);
	f->devs[2].boot_vga = 1;
	compute(f);
	EXPECT(f, 2, VF_REASON_HOST_CRITICAL, "host-critical", "boot GPU", "boot_vga = 1");

	f->devs[2].boot_vga = 0;
	compute(f);
	EXPECT(f, 2, VF_REASON_NONE, "Can be handed out");
}

static void test_host_critical_set(void **state)
{
	struct fx *f = *state;

	small_pc(f);
	add_critical(f, "0000:00:1f.2", "backs the filesystem mounted at /");
	add_critical(f, "0000:00:03.0", "carries the host's default route (interface eth0)");
	compute(f);
	EXPECT(f, 4, VF_REASON_HOST_CRITICAL,
	       "This device is host-critical: it backs the filesystem mounted at /.");
	EXPECT(f, 3, VF_REASON_HOST_CRITICAL, "default route (interface eth0)");
	EXPECT(f, 2, VF_REASON_NONE);
}

static void test_storage_unknown(void **state)
{
	struct fx *f = *state;

	small_pc(f);
	add(f, "0000:01:00.0", 0x144d, 0xa808, 0x010802, VF_HDR_NORMAL, "nvme", 8);
	snprintf(f->crit.storage_unknown, sizeof(f->crit.storage_unknown),
		 "cannot read proc/self/mountinfo: No such file or directory");
	compute(f);
	EXPECT(f, 5, VF_REASON_HOST_CRITICAL, "may back a host filesystem",
	       "cannot read proc/self/mountinfo");
	EXPECT(f, 4, VF_REASON_HOST_CRITICAL, "may back a host filesystem");
	/* not storage: unaffected */
	EXPECT(f, 3, VF_REASON_NONE);
	EXPECT(f, 2, VF_REASON_NONE);
}

static void test_storage_unknown_usb_and_sd(void **state)
{
	struct fx *f = *state;

	/* root disks hang from USB and SD host controllers too */
	add(f, "0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, VF_HDR_NORMAL, "xhci_hcd", 1);
	add(f, "0000:00:1e.0", 0x1217, 0x8621, 0x080501, VF_HDR_NORMAL, "sdhci-pci", 2);
	add(f, "0000:00:1f.3", 0x8086, 0xa348, 0x040300, VF_HDR_NORMAL, "snd_hda_intel", 3);
	snprintf(f->crit.storage_unknown, sizeof(f->crit.storage_unknown),
		 "/ is mounted from zfs pool rpool, whose disks cannot be traced");
	compute(f);
	EXPECT(f, 0, VF_REASON_HOST_CRITICAL, "may back a host filesystem", "zfs pool");
	EXPECT(f, 1, VF_REASON_HOST_CRITICAL, "may back a host filesystem");
	EXPECT(f, 2, VF_REASON_NONE);
}

static void test_network_unknown(void **state)
{
	struct fx *f = *state;

	small_pc(f);
	snprintf(f->crit.network_unknown, sizeof(f->crit.network_unknown),
		 "cannot parse proc/net/route");
	compute(f);
	EXPECT(f, 3, VF_REASON_HOST_CRITICAL, "may carry the host's network",
	       "cannot parse proc/net/route");
	EXPECT(f, 4, VF_REASON_NONE);
	EXPECT(f, 2, VF_REASON_NONE);
}

static void test_reserved(void **state)
{
	struct fx *f = *state;

	small_pc(f);
	add_reserved(f, "0000:00:03.0", "/etc/vfiod/policy.d/host.ini:7");
	compute(f);
	EXPECT(f, 3, VF_REASON_RESERVED, "reserved for the host by policy",
	       "(/etc/vfiod/policy.d/host.ini:7)");
	EXPECT(f, 2, VF_REASON_NONE);

	/* without a policy at all, nothing is reserved */
	f->hf.policy = NULL;
	f->hf.critical = NULL;
	compute(f);
	EXPECT(f, 3, VF_REASON_NONE);
}

static void test_gpu_and_audio_companions(void **state)
{
	struct fx *f = *state;

	add(f, "0000:00:03.0", 0x8086, 0x10d3, 0x020000, VF_HDR_NORMAL, "e1000e", 3);
	add(f, "0000:00:06.0", 0x10de, 0x1e84, 0x030000, VF_HDR_NORMAL, "nouveau", 5);
	add(f, "0000:00:06.1", 0x10de, 0x10f8, 0x040300, VF_HDR_NORMAL, "snd_hda_intel", 5);
	compute(f);
	EXPECT(f, 1, VF_REASON_NONE, "Can be handed out", "IOMMU group 5",
	       "together with companion 0000:00:06.1", "host driver nouveau will be unbound");
	EXPECT(f, 2, VF_REASON_NONE, "IOMMU group 5", "together with companion 0000:00:06.0",
	       "host driver snd_hda_intel will be unbound");
	MEMBERS(f, 1, 1, 2);
	MEMBERS(f, 2, 1, 2);
	COMPANIONS(f, 1, 2);
	COMPANIONS(f, 2, 1);
	MEMBERS(f, 0, 0);
	assert_int_equal(f->v[0].n_companions, 0);
}

/* 00:1c.0 root port, 01:00.0 NIC, 01:01.0 edu, all in group 9. */
static void shared_group(struct fx *f, const char *nic_driver)
{
	add(f, "0000:00:1c.0", 0x8086, 0x2940, 0x060400, VF_HDR_BRIDGE, NULL, 9);
	add(f, "0000:01:00.0", 0x8086, 0x10d3, 0x020000, VF_HDR_NORMAL, nic_driver, 9);
	add(f, "0000:01:01.0", 0x1234, 0x11e8, 0x00ff00, VF_HDR_NORMAL, NULL, 9);
}

static void test_group_not_viable(void **state)
{
	struct fx *f = *state;

	shared_group(f, "e1000e");
	compute(f);
	EXPECT(f, 2, VF_REASON_GROUP_NOT_VIABLE, "IOMMU group 9", "not viable",
	       "0000:01:00.0", "e1000e");
	MEMBERS(f, 2, 0, 1, 2);
	assert_int_equal(f->v[2].n_companions, 0);
	EXPECT(f, 0, VF_REASON_NOT_ENDPOINT);
	/* the NIC itself may go: the rest of its group has no host driver */
	EXPECT(f, 1, VF_REASON_NONE, "host driver e1000e will be unbound");
}

/* The policy's [companions] makes the edu and the NIC one unit. */
static void test_group_policy_companions(void **state)
{
	struct fx *f = *state;
	struct policy_companion pair = { .a = "0000:01:01.0", .b = "0000:01:00.0" };

	f->pol.companions = &pair;
	f->pol.n_companions = 1;
	shared_group(f, "e1000e");
	compute(f);
	EXPECT(f, 2, VF_REASON_NONE, "together with companion 0000:01:00.0");
	COMPANIONS(f, 2, 1);
	EXPECT(f, 1, VF_REASON_NONE, "together with companion 0000:01:01.0",
	       "host driver e1000e will be unbound");
	COMPANIONS(f, 1, 2);
	f->pol.companions = NULL;
	f->pol.n_companions = 0;
}

static void test_group_viable_when_unbound(void **state)
{
	struct fx *f = *state;

	shared_group(f, NULL);
	compute(f);
	EXPECT(f, 2, VF_REASON_NONE, "Can be handed out: IOMMU group 9.");
	assert_null(strstr(f->v[2].message, "unbound"));
	assert_null(strstr(f->v[2].message, "companion"));
	MEMBERS(f, 2, 0, 1, 2);
	EXPECT(f, 1, VF_REASON_NONE);
}

static void test_group_bridge_with_host_driver_ignored(void **state)
{
	struct fx *f = *state;

	shared_group(f, NULL);
	snprintf(f->devs[0].driver, sizeof(f->devs[0].driver), "shpchp");
	compute(f);
	EXPECT(f, 2, VF_REASON_NONE);
}

static void test_group_safe_drivers_viable(void **state)
{
	static const char *const drivers[] = { "pci-stub", "vfio-pci", "pcieport",
					       "mlx5_vfio_pci" };

	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		reset(f);
		shared_group(f, drivers[i]);
		compute(f);
		EXPECT(f, 2, VF_REASON_NONE, "IOMMU group 9");
	}
}

static void test_group_member_unreadable(void **state)
{
	struct fx *f = *state;

	shared_group(f, NULL);
	f->devs[1].ids_ok = false;
	compute(f);
	EXPECT(f, 2, VF_REASON_GROUP_NOT_VIABLE, "0000:01:00.0", "cannot be read");
	EXPECT(f, 1, VF_REASON_UNREADABLE);
}

static void test_group_member_boot_vga(void **state)
{
	struct fx *f = *state;

	add(f, "0000:00:02.0", 0x1234, 0x1111, 0x030000, VF_HDR_NORMAL, "bochs-drm", 2);
	add(f, "0000:00:03.0", 0x8086, 0x10d3, 0x020000, VF_HDR_NORMAL, NULL, 2);
	/* boot GPU with its audio function */
	add(f, "0000:00:06.0", 0x10de, 0x1e84, 0x030000, VF_HDR_NORMAL, "nouveau", 5);
	add(f, "0000:00:06.1", 0x10de, 0x10f8, 0x040300, VF_HDR_NORMAL, "snd_hda_intel", 5);
	f->devs[0].boot_vga = 1;
	f->devs[2].boot_vga = 1;
	compute(f);
	EXPECT(f, 0, VF_REASON_HOST_CRITICAL, "boot GPU");
	EXPECT(f, 1, VF_REASON_HOST_CRITICAL, "IOMMU group 2 also holds 0000:00:02.0",
	       "boot GPU", "cannot leave the host");
	/* a companion does not escape it either */
	EXPECT(f, 3, VF_REASON_HOST_CRITICAL, "IOMMU group 5 also holds 0000:00:06.0", "boot GPU");
}

static void test_group_member_critical(void **state)
{
	struct fx *f = *state;

	shared_group(f, NULL);
	add_critical(f, "0000:01:00.0", "carries the host's default route (interface eth0)");
	compute(f);
	EXPECT(f, 2, VF_REASON_HOST_CRITICAL, "IOMMU group 9 also holds 0000:01:00.0",
	       "default route (interface eth0)");
}

static void test_group_member_reserved(void **state)
{
	struct fx *f = *state;

	shared_group(f, NULL);
	add_reserved(f, "0000:01:00.0", "host.ini:3");
	compute(f);
	EXPECT(f, 1, VF_REASON_RESERVED, "host.ini:3");
	EXPECT(f, 2, VF_REASON_RESERVED, "IOMMU group 9 also holds 0000:01:00.0",
	       "reserved for the host by policy (host.ini:3)");
}

static void test_describe_uses_names(void **state)
{
	struct fx *f = *state;

	shared_group(f, "e1000e");
	snprintf(f->devs[1].vendor_name, VF_NAME_MAX, "Intel Corporation");
	snprintf(f->devs[1].device_name, VF_NAME_MAX, "82574L Gigabit Network Connection");
	compute(f);
	EXPECT(f, 2, VF_REASON_GROUP_NOT_VIABLE,
	       "0000:01:00.0 (Intel Corporation 82574L Gigabit Network Connection)");
}

static void test_assignable_mentions_driver(void **state)
{
	struct fx *f = *state;

	small_pc(f);
	compute(f);
	EXPECT(f, 3, VF_REASON_NONE, "Can be handed out: IOMMU group 3",
	       "; host driver e1000e will be unbound.");
	EXPECT(f, 2, VF_REASON_NONE, "host driver bochs-drm will be unbound");
	MEMBERS(f, 3, 3);
}

static void test_driver_is_group_safe(void **state)
{
	static const char *const safe[] = { "", "pci-stub", "pcieport", "vfio-pci",
					    "mlx5_vfio_pci", "hisi_acc_vfio_pci",
					    "nvgrace_gpu_vfio_pci", "virtio_vfio_pci" };
	static const char *const unsafe[] = { "e1000e", "snd_hda_intel", "nvme", "ahci",
					      "nouveau", "xhci_hcd", "vfio", "pci_stub2",
					      "pcie" };

	(void)state;
	assert_true(verdict_driver_is_group_safe(NULL));
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		if (!verdict_driver_is_group_safe(safe[i]))
			fail_msg("\"%s\" is not group-safe", safe[i]);
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
		if (verdict_driver_is_group_safe(unsafe[i]))
			fail_msg("\"%s\" is group-safe", unsafe[i]);
}

static void test_is_companion(void **state)
{
	struct fx *f = *state;

	add(f, "0000:00:06.0", 0x10de, 0x1e84, 0x030000, VF_HDR_NORMAL, NULL, 5);
	add(f, "0000:00:06.1", 0x10de, 0x10f8, 0x040300, VF_HDR_NORMAL, NULL, 5);
	add(f, "0000:00:06.2", 0x10de, 0x1ad6, 0x0c0330, VF_HDR_NORMAL, NULL, 5);
	add(f, "0000:00:06.3", 0x10de, 0x1ad7, 0x060400, VF_HDR_BRIDGE, NULL, 5);
	add(f, "0000:00:06.4", 0, 0, 0, VF_HDR_NORMAL, NULL, 5);
	f->devs[4].ids_ok = false;
	add(f, "0000:00:06.5", 0x8086, 0x29c0, 0x060000, VF_HDR_NORMAL, NULL, 5);
	add(f, "0000:00:07.0", 0x10de, 0x1e84, 0x030000, VF_HDR_NORMAL, NULL, 5);
	add(f, "0001:00:06.0", 0x10de, 0x1e84, 0x030000, VF_HDR_NORMAL, NULL, 5);

	assert_true(verdict_is_companion(NULL, &f->devs[0], &f->devs[1]));
	assert_true(verdict_is_companion(NULL, &f->devs[1], &f->devs[0]));
	assert_true(verdict_is_companion(NULL, &f->devs[0], &f->devs[2]));
	assert_false(verdict_is_companion(NULL, &f->devs[0], &f->devs[0])); /* self */
	assert_false(verdict_is_companion(NULL, &f->devs[0], &f->devs[3])); /* bridge, same slot */
	assert_false(verdict_is_companion(NULL, &f->devs[0], &f->devs[4])); /* unreadable */
	assert_false(verdict_is_companion(NULL, &f->devs[0], &f->devs[5])); /* bridge class */
	assert_false(verdict_is_companion(NULL, &f->devs[0], &f->devs[6])); /* other slot */
	assert_false(verdict_is_companion(NULL, &f->devs[0], &f->devs[7])); /* other domain */

	/* in a verdict: the bridge function and the other slot are members, not companions */
	compute(f);
	MEMBERS(f, 0, 0, 1, 2, 3, 4, 5, 6, 7);
	COMPANIONS(f, 0, 1, 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_codes),
		T(test_no_iommu),
		T(test_vfio_unavailable),
		T(test_unreadable),
		T(test_not_endpoint),
		T(test_no_group_with_iommu),
		T(test_boot_vga),
		T(test_host_critical_set),
		T(test_storage_unknown),
		T(test_storage_unknown_usb_and_sd),
		T(test_network_unknown),
		T(test_reserved),
		T(test_gpu_and_audio_companions),
		T(test_group_not_viable),
		T(test_group_policy_companions),
		T(test_group_viable_when_unbound),
		T(test_group_bridge_with_host_driver_ignored),
		T(test_group_safe_drivers_viable),
		T(test_group_member_unreadable),
		T(test_group_member_boot_vga),
		T(test_group_member_critical),
		T(test_group_member_reserved),
		T(test_describe_uses_names),
		T(test_assignable_mentions_driver),
		cmocka_unit_test(test_driver_is_group_safe),
		T(test_is_companion),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
