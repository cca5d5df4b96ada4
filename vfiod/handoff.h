/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Handing pooled devices to consumers and taking them back. Today's
 * consumer: trusted containers through CDI (the Container Device Interface,
 * spec 0.6.0): a JSON spec under the CDI directory names each device of
 * the unit by its address, and the unit by a stable alias
 * ("iommu-group-<N>"), with the device nodes /dev/vfio/vfio and
 * /dev/vfio/<group>; podman, containerd and CRI-O inject them
 * (`--device vfiod.io/pci=0000:3b:00.0`). The spec is written atomically
 * and removed on release.
 *
 * VMs: the engine records the assignment ("vm:<domain>") before it asks the
 * VM manager (engine->vm, libvirt in the daemon) to attach, so that a crash
 * in between leaves a record that reconcile checks against libvirt, never
 * a device in a domain that vfiod believes pooled.
 *
 * Consumers, as recorded: "cdi:<spec path>", "pid:<pid>@<start>" (live
 * injection), "vm:<domain>", "holder:<pid>@<start>" (found holding the
 * device); <start> is the process's start time (proc.h), so that a reused
 * pid is never taken for the recorded process.
 */
#ifndef VFIOD_HANDOFF_H
#define VFIOD_HANDOFF_H

#include <json-c/json.h>

#include "bind.h"

#define CDI_KIND "vfiod.io/pci"
#define CDI_VERSION "0.6.0"

/* The spec for a unit (pure). `group` is the unit's IOMMU group. */
struct json_object *cdi_spec(const char (*bdfs)[VF_BDF_LEN], size_t n, int group);

/* The spec's file name for a unit led by `bdf`: "vfiod-0000_3b_00.0.json". */
void cdi_spec_name(const char *bdf, char *buf, size_t cap);

/*
 * pooled -> assigned to a container through CDI, for tenant `tenant` ("" for
 * none). Writes the spec into `cdi_dir`.
 */
int engine_assign_cdi(struct engine *en, const char *bdf, const char *tenant,
		      const char *cdi_dir, struct unit_result *out, struct vf_err *e);

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
 * pooled -> assigned to a running process (a container's), live
 * (inject.h says how the nodes are made safely): creates /dev/vfio/vfio
 * and /dev/vfio/<group> in its /dev with the host's major:minor, mode and
 * owner, allows them in its cgroup v1 device controller, and refuses when a
 * cgroup v2 device program (its runtime's) governs the process, or when
 * that cannot be ruled out: that program is not vfiod's to change. Real
 * root only. The work in its /dev runs in a child with a deadline, so the
 * operation is started here and ended by engine_pid_op_end() once
 * pid_op_fd() is readable or pid_op_deadline() has passed; until then the
 * unit is as it was (pooled). `pin` (proc.h) is the target, pinned: on
 * success the operation owns it.
 */
struct pid_op;
struct proc_pin;

int engine_assign_pid_start(struct engine *en, const char *bdf, const char *tenant,
			    struct proc_pin *pin, struct pid_op **op, struct unit_result *out,
			    struct vf_err *e);

/*
 * assigned -> pooled for any consumer; for a live process ("pid:") whose
 * nodes must be taken from its /dev, starts that work and returns 1 with
 * `*op` (end it with engine_pid_op_end); returns 0 when the release is
 * done already (another consumer, or the process is gone), -1 on error.
 */
int engine_release_pid_start(struct engine *en, const char *bdf, struct pid_op **op,
			     struct unit_result *out, struct vf_err *e);

/*
 * Ends an operation: its child reported, or `expired` (killed: code
 * "timeout"). An assign is recorded only now; a release that timed out
 * leaves the unit assigned. Frees `op`.
 */
int engine_pid_op_end(struct engine *en, struct pid_op *op, bool expired,
		      struct unit_result *out, struct vf_err *e);

int pid_op_fd(const struct pid_op *op);
int64_t pid_op_deadline(const struct pid_op *op);
const char *pid_op_bdf(const struct pid_op *op);
bool pid_op_removes(const struct pid_op *op);
int pid_op_pid(const struct pid_op *op);

#define VM_PREFIX "vm:"

/*
 * pooled -> assigned to libvirt domain `domain` (a name domxml_name_ok
 * accepts), for tenant `tenant`. `guest`: the lead's guest address, NULL
 * for a free root port; `flags` as virt.h's. On error nothing changes.
 */
int engine_assign_vm(struct engine *en, const char *bdf, const char *tenant, const char *domain,
		     const struct vf_bdf *guest, unsigned flags, struct unit_result *out,
		     struct vf_err *e);

/*
 * A consumer went away (a domain stopped, a holder exited): every unit
 * assigned to `consumer` is released as engine_release does; `back` (may
 * be NULL) gets the lead of each unit that came back. Returns how many
 * came back, or -1 (e says which failed; the others are back).
 */
int engine_release_consumer(struct engine *en, const char *consumer, struct vf_strv *back,
			    struct vf_err *e);

/* assigned -> pooled: detaches from the consumer, resets, records. */
int engine_release(struct engine *en, const char *bdf, struct unit_result *out,
		   struct vf_err *e);

/*
 * Detaches the unit from its consumer, whatever it is. `quarantine`: for
 * engine_quarantine, where a holder vfiod did not hand the device to is
 * left holding it or signalled (the policy's holder_quarantine); a plain
 * release refuses while such a holder lives.
 */
int handoff_detach(struct engine *en, struct dev_rec *rec, bool quarantine, struct vf_err *e);

#define HOLDER_PREFIX "holder:"
#define PID_PREFIX "pid:"

/*
 * pooled -> assigned to process `pid`, found holding /dev/vfio/<group>
 * although vfiod handed the device to no one (a VMM the platform started):
 * recorded as its consumer "holder:<pid>", no tenant. 1 when recorded, 0
 * when the device is not pooled (nothing to do), -1 on error.
 */
int engine_adopt_holder(struct engine *en, const char *bdf, int pid, struct vf_err *e);

#endif
