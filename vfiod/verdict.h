/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * May a device be handed out? A pure function of facts (PCI facts, host-wide
 * facts, host-critical devices, policy) that returns, per device, a verdict
 * with a stable machine-readable reason and a sentence for a person. No I/O:
 * this is where the safety rules live and where the unit tests look.
 */
#ifndef VFIOD_VERDICT_H
#define VFIOD_VERDICT_H

#include "hostcrit.h"
#include "pci.h"
#include "policy.h"

enum vf_reason {
	VF_REASON_NONE = 0,        /* assignable */
	VF_REASON_NO_IOMMU,
	VF_REASON_VFIO_UNAVAILABLE,
	VF_REASON_UNREADABLE,      /* sysfs facts too broken to judge */
	VF_REASON_NOT_ENDPOINT,
	VF_REASON_HOST_CRITICAL,
	VF_REASON_RESERVED,
	VF_REASON_GROUP_NOT_VIABLE,
};

/* Stable strings: "no-iommu", ..., NULL for VF_REASON_NONE. */
const char *verdict_reason_code(enum vf_reason r);

struct host_facts {
	bool iommu;                 /* the kernel has IOMMU groups */
	bool vfio;                  /* vfio-pci is loaded or loadable */
	char vfio_why[256];         /* how vfio-pci is (un)available */
	const struct host_critical_set *critical;
	const struct policy *policy;
};

struct verdict {
	enum vf_reason reason;
	char message[768];
	/* indices into the inventory, sorted by BDF */
	size_t *members;            /* the whole IOMMU group, self included */
	size_t n_members;
	size_t *companions;         /* members that move with this device */
	size_t n_companions;
};

/* Fills `out[i]` for every device of `inv`. */
void verdict_compute(const struct pci_inventory *inv, const struct host_facts *hf,
		     struct verdict *out);
void verdict_free(struct verdict *v, size_t n);

/*
 * Drivers whose devices the kernel accepts in a group handed to vfio: no
 * driver, vfio-pci and its variants, pci-stub, pcieport (they manage DMA
 * themselves or not at all).
 */
bool verdict_driver_is_group_safe(const char *driver);

/*
 * Companions move with a device as one unit: another readable endpoint of
 * its IOMMU group that is a function of the same slot (the default rule: a
 * GPU's audio function), or that the policy's [companions] pairs with it.
 * `pol` may be NULL (the default rule alone).
 */
bool verdict_is_companion(const struct policy *pol, const struct pci_dev_info *dev,
			  const struct pci_dev_info *other);

#endif
