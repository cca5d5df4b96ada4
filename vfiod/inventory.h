/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inventory: PCI facts, host facts and a verdict per device, gathered
 * in one pass through hostfs, and its JSON form (docs/inventory.md).
 */
#ifndef VFIOD_INVENTORY_H
#define VFIOD_INVENTORY_H

#include <json-c/json.h>

#include "hostcrit.h"
#include "names.h"
#include "pci.h"
#include "policy.h"
#include "verdict.h"

struct inventory {
	struct pci_inventory pci;
	struct host_critical_set critical;
	struct host_facts facts;
	struct verdict *verdicts; /* one per pci.devs[i] */
	size_t n_verdicts;        /* pci.n when they were computed */
};

/* Reads everything; fails only when the PCI device list itself is unreadable. */
int inventory_gather(struct inventory *inv, const struct hostfs *h,
		     const struct policy *pol, struct pci_names *names,
		     struct vf_err *e);
void inventory_free(struct inventory *inv);

/* Reads the host-wide facts again: host-critical devices, IOMMU, vfio-pci. */
void inventory_host_facts(struct inventory *inv, const struct hostfs *h);
/* Computes every device's verdict again from the facts held (no I/O). */
void inventory_judge(struct inventory *inv, const struct policy *pol);

struct json_object *inventory_to_json(const struct inventory *inv);
/* One device's object, as in the "devices" array. */
struct json_object *inventory_device_json(const struct inventory *inv, size_t i);
/* Index of `bdf` in inv->pci.devs (sorted: a binary search), or -1. */
int inventory_find(const struct inventory *inv, const char *bdf);

/*
 * True when a modules.dep or modules.builtin text lists module `name`
 * ("vfio-pci" matches ".../vfio-pci.ko", ".ko.xz", ".ko.zst", ".ko.gz").
 */
bool inventory_modules_list_has(const char *buf, const char *name);

#endif
