/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Consumers that change outside vfiod's requests: a process found holding
 * a pooled device's group is recorded as its consumer, and the device comes
 * back when it lets go; a domain that stops or is undefined gives its
 * devices back; a domain gets the VMM cap of the devices it holds. The
 * decisions go through the engine (engine.h) and are told as events; the
 * cap rule is pure. The daemon calls these from its loop with what its
 * holder scans and libvirt's events say.
 */
#ifndef VFIOD_CONSUMERS_H
#define VFIOD_CONSUMERS_H

#include <stdbool.h>
#include <sys/types.h>

#include "engine.h"
#include "events.h"

struct consumers {
	struct engine *en;
	struct events *events;
};

/* The domain a record is assigned to, or NULL. */
const char *consumers_vm_of(const struct dev_rec *r);

/* True when domain `name` holds an owned device. */
bool consumers_vm_holds(const struct store *st, const char *name);

/*
 * The VMM cap of domain `name`, in percent of a CPU: the tightest among
 * the devices it holds, each device's storm cap while the ladder has it
 * contained and its static cap otherwise; 0 when it holds none (its own
 * limits come back). `class_of` gives a device's class. Pure.
 */
unsigned consumers_vm_cap(const struct store *st, const char *name,
			  const struct policy_class *(*class_of)(void *ctx, const char *bdf),
			  void *ctx);

/*
 * Every unit assigned to `c` comes back to the pool: one "released" event
 * per unit, `why` saying what happened to its consumer (a "release" event
 * for a unit that failed, which stays assigned). Returns how many came
 * back, or -1 when one failed.
 */
int consumers_gone(struct consumers *cs, const struct consumer *c, const char *why);

/*
 * What a scan of the processes holding `bdf`'s group found (`pids`, the
 * first one's command `comm`): a pooled device held by a process vfiod
 * handed it to no one is recorded as that process's ("holder"); a recorded
 * holder that no longer holds it (gone, or its pid reused) lets the device
 * come back. Returns 1 when the books changed, 0 when not.
 */
int consumers_note_holders(struct consumers *cs, const char *bdf, const pid_t *pids, size_t n,
			   const char *comm);

#endif
