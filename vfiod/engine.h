/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine: every operation that moves a device between the host, the
 * pool, a consumer and quarantine, and the books it keeps of them (the
 * store, the udev persistence rule). One header names them all; the work
 * is done, by role, in bind.c (moves between a host driver and vfio-pci,
 * reset, reconcile at start), handoff.c (consumers: CDI, live processes,
 * VMs, holders) and contain.c (quarantine). Refusals carry e->code.
 *
 * Moves: a unit (the device and its companions) moves as one. Before the
 * first write the store records an intent with every device's original
 * driver; every step is checked; any failure puts every device of the
 * unit back where it was. The store is saved after the move, and the
 * intent is cleared, so that a crash at any point is repaired by
 * engine_reconcile() at the next start: an open bind is rolled back (or
 * finished when every device already sits on vfio-pci), an open return is
 * finished.
 *
 * Bind:   driver_override = "vfio-pci"; unbind; drivers_probe; verify the
 *         driver link is vfio-pci and /dev/vfio/<group> exists.
 * Return: driver_override = "\n"; unbind; drivers_probe (when the device
 *         had a driver); verify the original driver is back (none stays none).
 *
 * Consumers, as recorded (state.h): "cdi:<spec path>", "pid:<pid>@<start>"
 * (live injection), "vm:<domain>", "holder:<pid>@<start>" (found holding
 * the device); handoff.h has the CDI spec and the details.
 */
#ifndef VFIOD_ENGINE_H
#define VFIOD_ENGINE_H

#include <stdint.h>

#include "hostfs.h"
#include "names.h"
#include "policy.h"
#include "state.h"

#define VFIO_DRIVER "vfio-pci"
#define ENGINE_MAX_OPS 16   /* operations in flight at once (below) */

struct view;

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
	struct view *view;        /* the daemon's view (view.h); NULL: a move gathers its own facts */
	const struct engine_vm_ops *vm; /* NULL: no VM handoff */
	void *vm_ctx;
	struct engine_op *ops[ENGINE_MAX_OPS]; /* in flight: their units are busy */
	size_t n_ops;
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

/* ---- the books ---- */

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

/*
 * At start (after engine_reconcile): a unit recorded as assigned through
 * CDI whose spec file is missing (a crash between recording and writing it,
 * or the spec was removed) is released back to the pool as engine_release
 * does; then every "vfiod-<bdf>.json" regular file in `cdi_dir` that no
 * record in state assigned names ("cdi:<cdi_dir>/<name>") is removed. The
 * directory is opened without following a symlink, and only regular files
 * whose name is exactly a spec name are touched. Each finding is a line in
 * en->report. <0 when something could not be repaired (e says the last).
 */
int engine_reconcile_cdi(struct engine *en, const char *cdi_dir, struct vf_err *e);

/*
 * Resets a device through sysfs when the kernel offers a reset method, and
 * records in the store when it offers none. Returns 1 when reset, 0 when
 * there is no method.
 */
int engine_reset(struct engine *en, const char *bdf, struct vf_err *e);

/* ---- moves: host <-> pool ---- */

/* host -> pooled, for `bdf` and its companions. Refusals carry e->code. */
int engine_bind(struct engine *en, const char *bdf, struct unit_result *out,
		struct vf_err *e);

/* pooled -> host, for the unit `bdf` belongs to. */
int engine_return(struct engine *en, const char *bdf, struct unit_result *out,
		  struct vf_err *e);

/* ---- hand-offs: pool <-> consumer ---- */

struct engine_op;
struct proc_pin;

/* An assign, with what its kind of consumer needs. */
struct assign_req {
	enum consumer_kind kind;  /* CDI, PID or VM: a holder is adopted, never assigned */
	const char *tenant;       /* "" for none */
	const char *cdi_dir;      /* CDI: where the spec goes */
	struct proc_pin *pin;     /* PID: the target, pinned (the operation owns it once started) */
	struct engine_op **op;    /* PID, VM: the operation started (engine_op_end ends it);
				   * VM: NULL runs the attach here, to its end */
	const char *domain;       /* VM: a name domxml_name_ok accepts */
	const struct vf_bdf *guest; /* VM: the lead's guest address, NULL for a free root port */
	unsigned flags;           /* VM: virt.h's VIRT_LIVE / VIRT_CONFIG, 0 for the domain's state */
};

/*
 * pooled -> assigned to the consumer `a` names, through its kind's back end
 * (handoff.c's table): the engine_assign_* of that kind below. A kind that
 * cannot be assigned is refused (bad-request).
 */
int engine_assign(struct engine *en, const char *bdf, const struct assign_req *a,
		  struct unit_result *out, struct vf_err *e);

/*
 * pooled -> assigned to a container through CDI, for tenant `tenant` ("" for
 * none). Writes the spec into `cdi_dir`.
 */
int engine_assign_cdi(struct engine *en, const char *bdf, const char *tenant,
		      const char *cdi_dir, struct unit_result *out, struct vf_err *e);

/*
 * pooled -> assigned to a running process (a container's), live
 * (inject.h says how the nodes are made safely): creates /dev/vfio/vfio
 * and /dev/vfio/<group> in its /dev with the host's major:minor, mode and
 * owner, allows them in its cgroup v1 device controller, and refuses when a
 * cgroup v2 device program (its runtime's) governs the process, or when
 * that cannot be ruled out: that program is not vfiod's to change. Real
 * root only. The work in its /dev runs in a child with a deadline, so the
 * operation is started here and ended by engine_op_end() (below); until
 * then the unit is as it was (pooled). `pin` (proc.h) is the target,
 * pinned: on success the operation owns it.
 */
int engine_assign_pid_start(struct engine *en, const char *bdf, const char *tenant,
			    struct proc_pin *pin, struct engine_op **op, struct unit_result *out,
			    struct vf_err *e);

/*
 * pooled -> assigned to libvirt domain `domain` (a name domxml_name_ok
 * accepts), for tenant `tenant`. `guest`: the lead's guest address, NULL
 * for a free root port; `flags` as virt.h's. The record is written before
 * the VM manager is asked (a crash in between is reconciled against
 * libvirt, never a device in a domain vfiod believes pooled), and put back
 * when the attach fails: on error nothing changes. This runs the attach
 * here, to its end; engine_assign with an `op` starts it instead.
 */
int engine_assign_vm(struct engine *en, const char *bdf, const char *tenant, const char *domain,
		     const struct vf_bdf *guest, unsigned flags, struct unit_result *out,
		     struct vf_err *e);

/*
 * assigned -> pooled, for any consumer. When the consumer's letting go is
 * not to be waited for here (a live process's nodes taken from its /dev,
 * in a child; a domain's guest, which may take up to 20 s to let go or
 * never does, in a thread), starts that work and returns 1 with `*op`
 * (end it with engine_op_end); returns 0 when the release is done already
 * (another consumer, or the process is gone), -1 on error.
 */
int engine_release_start(struct engine *en, const char *bdf, struct engine_op **op,
			 struct unit_result *out, struct vf_err *e);

/* ---- operations in flight ---- */

/*
 * An operation whose slow part runs outside the caller's thread: the work
 * in a live process's /dev (a child with a deadline, inject.h), or the
 * libvirt call of a VM hand-off (the attach; the detach and the wait for
 * the guest), made by a thread that touches only the VM manager
 * (engine->vm, with its ctx) and the operation's own memory. Every check
 * that can refuse is made when it starts; what it records is recorded when
 * it ends (engine_op_end), on the caller's thread, as the synchronous path
 * would: the store, the policy and every decision stay there. Meanwhile
 * its unit refuses every other operation of the engine ("busy"), and at
 * most ENGINE_MAX_OPS are in flight at once. What the start changes: a VM
 * assign is recorded (see engine_assign_vm), a quarantine silences the
 * unit; the end puts either back when the libvirt call failed.
 */
enum engine_op_kind {
	ENGINE_OP_ASSIGN,      /* pooled -> assigned */
	ENGINE_OP_RELEASE,     /* assigned -> pooled */
	ENGINE_OP_QUARANTINE,  /* assigned -> quarantined */
};

/*
 * Ends an operation: call once engine_op_fd() is readable (it reported),
 * or once engine_op_deadline() has passed (`expired`: a child is killed,
 * code "timeout"). A VM operation has no deadline (its libvirt calls end
 * by themselves: libvirt's keepalive, the 20 s wait for the guest), and
 * ending one that has not reported waits for its thread. An assign is
 * recorded (a VM's, kept) only when it worked; a release or quarantine
 * that failed or timed out leaves the unit assigned. Frees `op`.
 */
int engine_op_end(struct engine *en, struct engine_op *op, bool expired,
		  struct unit_result *out, struct vf_err *e);

/* The descriptor to poll: readable once the operation has reported. */
int engine_op_fd(const struct engine_op *op);
/* CLOCK_MONOTONIC ms by which it must be ended; INT64_MAX: none. */
int64_t engine_op_deadline(const struct engine_op *op);
/* The device the operation is about, for messages. */
const char *engine_op_bdf(const struct engine_op *op);
enum engine_op_kind engine_op_kind(const struct engine_op *op);
/* Whom: the process (pid, start) or the domain (name). */
const struct consumer *engine_op_consumer(const struct engine_op *op);
/* In words, for messages: "a release from domain web-1", ... */
void engine_op_describe(const struct engine_op *op, char *buf, size_t cap);

/* The operation in flight on the unit of `bdf`, or NULL. */
const struct engine_op *engine_op_on(const struct engine *en, const char *bdf);

/*
 * "busy" when an operation is in flight on the unit of `bdf`, or, with
 * `starting` (the caller would start one more), when ENGINE_MAX_OPS are;
 * else 0.
 */
int engine_op_refuse(const struct engine *en, const char *bdf, bool starting, struct vf_err *e);

/*
 * pooled -> assigned to process `pid`, found holding /dev/vfio/<group>
 * although vfiod handed the device to no one (a VMM the platform started):
 * recorded as its consumer "holder:<pid>", no tenant. 1 when recorded, 0
 * when the device is not pooled (nothing to do), -1 on error.
 */
int engine_adopt_holder(struct engine *en, const char *bdf, int pid, struct vf_err *e);

/* assigned -> pooled: detaches from the consumer, resets, records. */
int engine_release(struct engine *en, const char *bdf, struct unit_result *out,
		   struct vf_err *e);

/*
 * A consumer went away (a domain stopped, a holder exited): every unit
 * assigned to `consumer` is released as engine_release does; `back` (may
 * be NULL) gets the lead of each unit that came back. Returns how many
 * came back, or -1 (e says which failed; the others are back).
 */
int engine_release_consumer(struct engine *en, const struct consumer *consumer,
			    struct vf_strv *back, struct vf_err *e);

/* ---- containment ---- */

/*
 * Records what the storm ladder did to an owned device, which the monitor
 * thread has done already: throttled, silenced (with the command register
 * it had before, kept from the first silencing until unquarantine), or
 * nothing any more. A device vfiod does not own is ignored (0).
 */
int engine_record_containment(struct engine *en, const char *bdf, enum dev_containment what,
			      int old_command, struct vf_err *e);

/*
 * pooled or assigned -> quarantined: detaches the unit from its consumer,
 * silences every device of it, records the old command registers.
 */
int engine_quarantine(struct engine *en, const char *bdf, struct unit_result *out,
		      struct vf_err *e);

/*
 * engine_quarantine, for a unit assigned to a domain, without waiting for
 * its guest: silences the unit now and starts the detach (returns 1 with
 * `*op`; engine_op_end records the quarantine, or gives the devices their
 * command registers back when the detach failed). Any other unit is
 * quarantined here (returns 0); -1 on error.
 */
int engine_quarantine_start(struct engine *en, const char *bdf, struct engine_op **op,
			    struct unit_result *out, struct vf_err *e);

/* quarantined -> pooled: resets, restores the command registers. */
int engine_unquarantine(struct engine *en, const char *bdf, struct unit_result *out,
			struct vf_err *e);

#endif
