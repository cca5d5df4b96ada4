/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's view of the host: the inventory (PCI facts, host-critical
 * facts, a verdict per device) gathered once at start and kept current
 * instead of gathered again for every answer (docs/inventory.md, "The
 * view"). What changes it:
 *   - a device marked (a PCI uevent: add, remove, bind, unbind, change; a
 *     move of vfiod's own) is read again from sysfs, alone (and an SR-IOV
 *     VF's PF with it, whose list of VFs changed);
 *   - the host marked (the mount table, the swaps or the routes and links
 *     changed: hostwatch.h) has its host-critical facts read again;
 *   - a move asks for its device fresh: view_fresh() reads the device's
 *     IOMMU group and the host-critical facts now, so a verdict that
 *     allows a bind is never older than the bind;
 *   - the consistency sweep reads a few devices each second and the device
 *     list once a round, and corrects (and reports) what changed without
 *     an event; a rescan reads everything at once.
 * Marks are applied lazily, once, before the next answer (view_get), so a
 * burst of events costs one recomputation. Verdicts are recomputed from the
 * facts held, in memory, after any change (verdict_compute: O(n log n)).
 * Main loop only.
 */
#ifndef VFIOD_VIEW_H
#define VFIOD_VIEW_H

#include <stdint.h>

#include "inventory.h"

struct view_stats {
	uint64_t device_reads;   /* devices read again after a mark or a sweep */
	uint64_t host_reads;     /* host-critical facts read again */
	uint64_t rejudged;       /* verdict recomputations */
	uint64_t swept;          /* devices the sweep read */
	uint64_t rounds;         /* full sweep rounds */
	uint64_t drift;          /* changes the sweep or a rescan found with no event */
	uint64_t rescans;
};

struct view {
	const struct hostfs *h;
	const struct policy *pol;
	struct pci_names *names;     /* may be NULL */
	struct inventory inv;
	struct vf_strv marked;       /* devices to read again */
	bool host_marked;
	size_t sweep_next;           /* the next device (index) the sweep reads */
	uint64_t gen;                /* bumped by every change of what inv says */
	struct view_stats stats;
	/*
	 * Whether an event about `bdf` (NULL: the host's mounts, swaps or
	 * routes) is waiting to be read; the sweep does not call what such an
	 * event will tell drift. NULL: none ever is.
	 */
	bool (*pending)(void *ctx, const char *bdf);
	void *pending_ctx;
};

/* Gathers everything (the one full read at start). */
int view_init(struct view *v, const struct hostfs *h, const struct policy *pol,
	      struct pci_names *names, struct vf_err *e);
void view_fini(struct view *v);

/* A new policy: verdicts recomputed (reserved devices, companions). */
void view_set_policy(struct view *v, const struct policy *pol);

/* `bdf` may have changed (or come, or gone): read it again before the next answer. */
void view_mark(struct view *v, const char *bdf);
/* The host's mounts, swaps, routes or links changed. */
void view_mark_host(struct view *v);

/* The view with every mark applied. */
const struct inventory *view_get(struct view *v);

/*
 * For a move about `bdf`: the marks applied, then the device's IOMMU group
 * (every member) and the host-critical facts read again now, verdicts
 * recomputed. Never fails: a device that is gone is simply not in it.
 */
const struct inventory *view_fresh(struct view *v, const char *bdf);

/* show: `bdf`'s interrupts read again (MSI vectors come and go without a uevent). */
void view_refresh_interrupts(struct view *v, const char *bdf);

/*
 * The consistency sweep: reads the next `n` devices again; when the round
 * wraps, the device list and the host-critical facts too. Each difference
 * from the view is corrected and described in `drift` ("BDF: driver e1000e
 * -> vfio-pci"; NULL: not kept). Returns the number of differences.
 * Interrupt vectors are corrected quietly (they are not drift).
 */
size_t view_sweep(struct view *v, size_t n, struct vf_strv *drift);

/* Everything read again at once, compared, corrected; as view_sweep. <0: unreadable. */
int view_rescan(struct view *v, struct vf_strv *drift, struct vf_err *e);

/*
 * The first fact two readings of one device disagree on ("driver e1000e ->
 * vfio-pci"), interrupts aside; false when they agree. Pure.
 */
bool view_dev_differs(const struct pci_dev_info *was, const struct pci_dev_info *now,
		      char *what, size_t cap);

#endif
