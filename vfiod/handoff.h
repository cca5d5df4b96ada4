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
 * Consumers, as recorded: "cdi:<spec path>", "pid:<pid>" (live injection),
 * "vm:<domain>", "holder:<pid>" (found holding the device).
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
 * pooled -> assigned to a running process (a container's), live: creates
 * /dev/vfio/vfio and /dev/vfio/<group> inside its mount namespace (the
 * host's major:minor, mode and owner), allows them in its cgroup v1 device
 * controller, and refuses when a cgroup v2 device program (its runtime's)
 * governs the process: that program is not vfiod's to change. Real root only.
 */
int engine_assign_pid(struct engine *en, const char *bdf, const char *tenant, int pid,
		      struct unit_result *out, struct vf_err *e);

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

/*
 * pooled -> assigned to process `pid`, found holding /dev/vfio/<group>
 * although vfiod handed the device to no one (a VMM the platform started):
 * recorded as its consumer "holder:<pid>", no tenant. 1 when recorded, 0
 * when the device is not pooled (nothing to do), -1 on error.
 */
int engine_adopt_holder(struct engine *en, const char *bdf, int pid, struct vf_err *e);

#endif
