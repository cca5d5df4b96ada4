/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the engine (engine.h names its operations): handing pooled devices
 * to consumers and taking them back. Trusted containers through CDI (the
 * Container Device Interface, spec 0.6.0): a JSON spec under the CDI
 * directory names each device of the unit by its address, and the unit by
 * a stable alias ("iommu-group-<N>"), with the device nodes /dev/vfio/vfio
 * and /dev/vfio/<group>; podman, containerd and CRI-O inject them
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

#include "engine.h"

#define CDI_KIND "vfiod.io/pci"
#define CDI_VERSION "0.6.0"

/* The spec for a unit (pure). `group` is the unit's IOMMU group. */
struct json_object *cdi_spec(const char (*bdfs)[VF_BDF_LEN], size_t n, int group);

/* The spec's file name for a unit led by `bdf`: "vfiod-0000_3b_00.0.json". */
void cdi_spec_name(const char *bdf, char *buf, size_t cap);


/*
 * Detaches the unit from its consumer, whatever it is. `quarantine`: for
 * engine_quarantine, where a holder vfiod did not hand the device to is
 * left holding it or signalled (the policy's holder_quarantine); a plain
 * release refuses while such a holder lives.
 */
int handoff_detach(struct engine *en, struct dev_rec *rec, bool quarantine, struct vf_err *e);

/*
 * Quarantine's steps (contain.c), shared with the end of a quarantine that
 * did not wait for its domain's guest (handoff.c): silence every device of
 * the unit `u` (all or none; `old` gets their command registers), give
 * the first `n` their registers back, record the unit quarantined.
 */
int contain_silence(struct engine *en, const struct unit_result *u, unsigned *old,
		    struct vf_err *e);
void contain_unsilence(struct engine *en, const struct unit_result *u, size_t n,
		       const unsigned *old);
int contain_record(struct engine *en, const struct unit_result *u, const unsigned *old,
		   struct vf_err *e);

/*
 * Starts detaching the unit of `lead` from its domain in a thread of its
 * own, for a release or a quarantine (`old`: the command registers the
 * quarantine silenced, NULL for a release); engine_op_end ends it.
 */
int handoff_vm_detach_start(struct engine *en, struct dev_rec *lead, enum engine_op_kind kind,
			    const char *dev, const unsigned *old, struct engine_op **op,
			    struct vf_err *e);

/* The consumer in words, for messages: "domain web-1", "process 4242", ... */
void consumer_describe(const struct consumer *c, char *buf, size_t cap);

#endif
