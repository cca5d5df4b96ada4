/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The binding engine: verified, reversible, recorded moves between a
 * device's host driver and vfio-pci.
 *
 * A unit (the device and its companions) moves as one. Before the first
 * write the store records an intent with every device's original driver;
 * every step is checked; any failure puts every device of the unit back
 * where it was. The store is saved after the move, and the intent is
 * cleared, so that a crash at any point is repaired by engine_reconcile()
 * at the next start: an open bind is rolled back (or finished when every
 * device already sits on vfio-pci), an open return is finished.
 *
 * Bind:   driver_override = "vfio-pci"; unbind; drivers_probe; verify the
 *         driver link is vfio-pci and /dev/vfio/<group> exists.
 * Return: driver_override = "\n"; unbind; drivers_probe (when the device
 *         had a driver); verify the original driver is back (none stays none).
 */
#ifndef VFIOD_BIND_H
#define VFIOD_BIND_H

#include "hostfs.h"
#include "names.h"
#include "policy.h"
#include "state.h"

#define VFIO_DRIVER "vfio-pci"

/*
 * How the engine reaches a VM manager (libvirt in the daemon, a fake in the
 * unit tests): hand a unit's devices to domain `domain` and take them back.
 * `guest` may be NULL (the manager picks free ports); `flags` as virt.h's
 * VIRT_LIVE / VIRT_CONFIG, 0 for the domain's current state.
 */
struct engine_vm_ops {
	int (*attach)(void *ctx, const char *domain, const struct vf_bdf *host, size_t n,
		      const struct vf_bdf *guest, unsigned flags, struct vf_err *e);
	int (*detach)(void *ctx, const char *domain, const struct vf_bdf *host, size_t n,
		      struct vf_err *e);
};

struct engine {
	struct hostfs *h;
	struct store *store;
	const struct policy *policy;
	struct pci_names *names;  /* may be NULL */
	const char *udev_rules;   /* persistence rule file; NULL: none */
	int fault_step;           /* testing: SIGKILL self at this step; 0: never */
	int step;                 /* steps taken in the current transition */
	struct vf_strv report;    /* what reconcile found and did, one line each */
	const struct engine_vm_ops *vm; /* NULL: no VM handoff */
	void *vm_ctx;
};

struct unit_result {
	char bdf[STATE_UNIT_MAX][VF_BDF_LEN];
	size_t n;
	bool already;             /* nothing to do: it was already so */
	/*
	 * Release: the move is done, but the reset of bdf[i] failed; it is
	 * pooled with reset_pending recorded. `warning` says why ("" when all
	 * went well).
	 */
	bool reset_pending[STATE_UNIT_MAX];
	char warning[VF_ERR_MSG_MAX];
};

/* host -> pooled, for `bdf` and its companions. Refusals carry e->code. */
int engine_bind(struct engine *en, const char *bdf, struct unit_result *out,
		struct vf_err *e);

/* pooled -> host, for the unit `bdf` belongs to. */
int engine_return(struct engine *en, const char *bdf, struct unit_result *out,
		  struct vf_err *e);

/*
 * Resets a device through sysfs when the kernel offers a reset method, and
 * records in the store when it offers none. Returns 1 when reset, 0 when
 * there is no method.
 */
int engine_reset(struct engine *en, const char *bdf, struct vf_err *e);

/*
 * At start: finishes or rolls back the open intent, adopts recorded devices
 * still on vfio-pci, re-pools recorded devices a reboot gave back to a host
 * driver (when still safe), reports what disagrees. Never touches a device
 * it has no record of. Lines go to en->report.
 */
int engine_reconcile(struct engine *en, struct vf_err *e);

/*
 * Counts one step of the current transition (en->step); with a fault step
 * set (testing only) the process kills itself right after that step. For
 * transitions outside bind.c (handoff.c's), so crash recovery can be proven
 * between their steps too.
 */
void engine_step(struct engine *en, const char *what, const char *bdf);

/* The IOMMU group of `bdf` (its iommu_group link), or -1. */
int engine_device_group(const struct engine *en, const char *bdf);

/*
 * The record of an owned device and of its unit's lead (the first device,
 * which names the unit), with the unit in `out`. Refuses a malformed
 * address (bad-request) and a device vfiod does not own (not-found).
 */
int engine_lookup(struct engine *en, const char *bdf, struct dev_rec **rec,
		  struct dev_rec **lead, struct unit_result *out, struct vf_err *e);

/* Rewrites the udev rule file from the store (atomic). */
int engine_persist(struct engine *en, struct vf_err *e);

#endif
