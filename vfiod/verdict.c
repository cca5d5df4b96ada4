// SPDX-License-Identifier: GPL-2.0-or-later
#include "verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PCI_BASE_STORAGE 0x01
#define PCI_BASE_NETWORK 0x02
#define PCI_CLASS_USB 0x0c03
#define PCI_CLASS_SD_HOST 0x0805

const char *verdict_reason_code(enum vf_reason r)
{
	switch (r) {
	case VF_REASON_NONE: return NULL;
	case VF_REASON_NO_IOMMU: return "no-iommu";
	case VF_REASON_VFIO_UNAVAILABLE: return "vfio-unavailable";
	case VF_REASON_UNREADABLE: return "unreadable";
	case VF_REASON_NOT_ENDPOINT: return "not-endpoint";
	case VF_REASON_HOST_CRITICAL: return "host-critical";
	case VF_REASON_RESERVED: return "reserved-by-policy";
	case VF_REASON_GROUP_NOT_VIABLE: return "group-not-viable";
	}
	return "internal";
}

bool verdict_driver_is_group_safe(const char *driver)
{
	static const char *const safe[] = { "pci-stub", "pcieport", "vfio-pci" };

	if (!driver || !driver[0])
		return true;
	for (size_t i = 0; i < VF_ARRAY_SIZE(safe); i++)
		if (strcmp(driver, safe[i]) == 0)
			return true;
	/* vendor variant drivers built on vfio-pci-core: mlx5_vfio_pci, ... */
	return strstr(driver, "vfio_pci") || strstr(driver, "vfio-pci");
}

bool verdict_is_companion(const struct policy *pol, const struct pci_dev_info *dev,
			  const struct pci_dev_info *other)
{
	if (dev == other || !pci_is_endpoint(other) || !pci_facts_complete(other))
		return false;
	return vf_bdf_same_slot(&dev->addr, &other->addr) ||
	       (pol && policy_companion_allowed(pol, dev->bdf, other->bdf));
}

/* "0000:00:03.0 (Intel Corporation 82574L Gigabit Network Connection)" */
static void describe(const struct pci_dev_info *d, char *buf, size_t cap)
{
	if (d->vendor_name[0] && d->device_name[0])
		snprintf(buf, cap, "%s (%s %s)", d->bdf, d->vendor_name, d->device_name);
	else if (d->ids_ok)
		snprintf(buf, cap, "%s (%04x:%04x)", d->bdf, d->vendor, d->device);
	else
		snprintf(buf, cap, "%s", d->bdf);
}

/* Storage controllers, and the USB and SD hosts that root disks hang from too. */
static bool may_hold_disks(uint32_t class)
{
	return (class >> 16) == PCI_BASE_STORAGE || (class >> 8) == PCI_CLASS_USB ||
	       (class >> 8) == PCI_CLASS_SD_HOST;
}

/* Why `d` itself must stay with the host; false when nothing says so. */
static bool critical_why(const struct host_facts *hf, const struct pci_dev_info *d,
			 char *buf, size_t cap)
{
	const struct host_critical *c;
	unsigned base = d->class >> 16;

	if (d->boot_vga == 1) {
		snprintf(buf, cap, "is the boot GPU (boot_vga = 1) and carries the host's console");
		return true;
	}
	c = hf->critical ? hostcrit_find(hf->critical, d->bdf) : NULL;
	if (c) {
		snprintf(buf, cap, "%s", c->why);
		return true;
	}
	if (hf->critical && d->ids_ok && may_hold_disks(d->class) &&
	    hf->critical->storage_unknown[0]) {
		snprintf(buf, cap, "may back a host filesystem: %s",
			 hf->critical->storage_unknown);
		return true;
	}
	if (hf->critical && d->ids_ok && base == PCI_BASE_NETWORK &&
	    hf->critical->network_unknown[0]) {
		snprintf(buf, cap, "may carry the host's network: %s",
			 hf->critical->network_unknown);
		return true;
	}
	return false;
}

static enum vf_reason set(struct verdict *v, enum vf_reason r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum vf_reason set(struct verdict *v, enum vf_reason r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->message, sizeof(v->message), fmt, ap);
	va_end(ap);
	v->reason = r;
	return r;
}

/* Device indices ordered by (IOMMU group, index): a group's members are one run. */
struct group_key {
	int group;
	size_t idx;
};

struct group_index {
	struct group_key *k;
	size_t n;
};

static int cmp_group(const void *a, const void *b)
{
	const struct group_key *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void group_index_build(const struct pci_inventory *inv, struct group_index *gi)
{
	gi->n = 0;
	gi->k = vf_xcalloc(inv->n ? inv->n : 1, sizeof(*gi->k));
	for (size_t i = 0; i < inv->n; i++)
		if (inv->devs[i].iommu_group >= 0)
			gi->k[gi->n++] = (struct group_key){ inv->devs[i].iommu_group, i };
	qsort(gi->k, gi->n, sizeof(*gi->k), cmp_group);
}

/* The first position in gi of group `g` (gi->n when none). */
static size_t group_first(const struct group_index *gi, int g)
{
	size_t lo = 0, hi = gi->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (gi->k[mid].group < g)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void add_member(const struct pci_inventory *inv, const struct policy *pol,
		       size_t self, size_t j, struct verdict *v)
{
	v->members = vf_xreallocarray(v->members, v->n_members + 1, sizeof(*v->members));
	v->members[v->n_members++] = j;
	if (verdict_is_companion(pol, &inv->devs[self], &inv->devs[j])) {
		v->companions = vf_xreallocarray(v->companions, v->n_companions + 1,
						 sizeof(*v->companions));
		v->companions[v->n_companions++] = j;
	}
}

/* The device's IOMMU group, itself included, in address order (itself alone without a group). */
static void find_members(const struct pci_inventory *inv, const struct group_index *gi,
			 const struct policy *pol, size_t self, struct verdict *v)
{
	int g = inv->devs[self].iommu_group;

	if (g < 0) {
		add_member(inv, pol, self, self, v);
		return;
	}
	for (size_t k = group_first(gi, g); k < gi->n && gi->k[k].group == g; k++)
		add_member(inv, pol, self, gi->k[k].idx, v);
}

/* The rules that look at the device alone. */
static enum vf_reason judge_self(const struct host_facts *hf,
				 const struct pci_dev_info *d, struct verdict *v)
{
	const struct policy_reserved *r;
	char why[600];

	if (!hf->iommu)
		return set(v, VF_REASON_NO_IOMMU,
			   "The host has no IOMMU groups (IOMMU disabled or absent), so no device can be isolated: enable VT-d/AMD-Vi in the firmware and boot with intel_iommu=on or amd_iommu=on.");
	if (!hf->vfio)
		return set(v, VF_REASON_VFIO_UNAVAILABLE,
			   "vfio-pci is not available on this host (%s).", hf->vfio_why);
	if (!pci_facts_complete(d))
		return set(v, VF_REASON_UNREADABLE,
			   "The kernel's facts about this device cannot be read (%s), so it cannot be judged safe.",
			   d->errors.n ? d->errors.v[0] : "vendor, device or class missing");
	if (!pci_is_endpoint(d))
		return set(v, VF_REASON_NOT_ENDPOINT,
			   "This is a %s, not an endpoint: it stays with the host.",
			   pci_is_bridge(d) ? "PCI bridge" : "bridge-class function (host, ISA or other bridge)");
	if (d->iommu_group < 0)
		return set(v, VF_REASON_NO_IOMMU,
			   "This device is not behind an IOMMU (it has no IOMMU group), so it cannot be isolated.");
	if (critical_why(hf, d, why, sizeof(why)))
		return set(v, VF_REASON_HOST_CRITICAL,
			   "This device is host-critical: it %s.", why);
	r = hf->policy ? policy_reserved_find(hf->policy, d->bdf) : NULL;
	if (r)
		return set(v, VF_REASON_RESERVED,
			   "This device is reserved for the host by policy (%s).", r->source);
	return VF_REASON_NONE;
}

/* The rules that look at the rest of the IOMMU group. */
static enum vf_reason judge_group(const struct pci_inventory *inv,
				  const struct host_facts *hf, size_t self,
				  struct verdict *v)
{
	const struct pci_dev_info *d = &inv->devs[self];
	char who[600], why[600];

	for (size_t k = 0; k < v->n_members; k++) {
		const struct pci_dev_info *m = &inv->devs[v->members[k]];
		const struct policy_reserved *r;

		if (m == d)
			continue;
		describe(m, who, sizeof(who));
		if (critical_why(hf, m, why, sizeof(why)))
			return set(v, VF_REASON_HOST_CRITICAL,
				   "IOMMU group %d also holds %s, which %s; the group cannot leave the host.",
				   d->iommu_group, who, why);
		r = hf->policy ? policy_reserved_find(hf->policy, m->bdf) : NULL;
		if (r)
			return set(v, VF_REASON_RESERVED,
				   "IOMMU group %d also holds %s, reserved for the host by policy (%s).",
				   d->iommu_group, who, r->source);
	}
	for (size_t k = 0; k < v->n_members; k++) {
		const struct pci_dev_info *m = &inv->devs[v->members[k]];
		bool companion = false;

		if (m == d || pci_is_bridge(m))
			continue; /* the kernel leaves bridges in a vfio group alone */
		for (size_t c = 0; c < v->n_companions; c++)
			companion |= &inv->devs[v->companions[c]] == m;
		if (companion)
			continue;
		describe(m, who, sizeof(who));
		if (!pci_facts_complete(m))
			return set(v, VF_REASON_GROUP_NOT_VIABLE,
				   "IOMMU group %d also holds %s, whose facts cannot be read; the group cannot be judged viable.",
				   d->iommu_group, who);
		if (!verdict_driver_is_group_safe(m->driver))
			return set(v, VF_REASON_GROUP_NOT_VIABLE,
				   "IOMMU group %d is not viable: it also holds %s, bound to host driver %s, which is not a companion of this device.",
				   d->iommu_group, who, m->driver);
	}
	return VF_REASON_NONE;
}

static void judge_ok(const struct pci_inventory *inv, size_t self,
		     struct verdict *v)
{
	const struct pci_dev_info *d = &inv->devs[self];
	size_t len;

	len = (size_t)snprintf(v->message, sizeof(v->message),
			       "Can be handed out: IOMMU group %d", d->iommu_group);
	for (size_t c = 0; c < v->n_companions && len < sizeof(v->message); c++)
		len += (size_t)snprintf(v->message + len, sizeof(v->message) - len,
					"%s%s", c ? ", " : ", together with companion ",
					inv->devs[v->companions[c]].bdf);
	if (d->driver[0] && len < sizeof(v->message))
		len += (size_t)snprintf(v->message + len, sizeof(v->message) - len,
					strcmp(d->driver, "vfio-pci") == 0
						? "; on %s already"
						: "; host driver %s will be unbound",
					d->driver);
	if (len < sizeof(v->message))
		snprintf(v->message + len, sizeof(v->message) - len, ".");
}

void verdict_compute(const struct pci_inventory *inv, const struct host_facts *hf,
		     struct verdict *out)
{
	struct group_index gi;

	group_index_build(inv, &gi);
	for (size_t i = 0; i < inv->n; i++) {
		struct verdict *v = &out[i];

		memset(v, 0, sizeof(*v));
		find_members(inv, &gi, hf->policy, i, v);
		if (judge_self(hf, &inv->devs[i], v) != VF_REASON_NONE)
			continue;
		if (judge_group(inv, hf, i, v) != VF_REASON_NONE)
			continue;
		judge_ok(inv, i, v);
	}
	free(gi.k);
}

void verdict_free(struct verdict *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].members);
		free(v[i].companions);
	}
}
