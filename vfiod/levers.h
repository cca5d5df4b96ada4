/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What this kernel lets vfiod do to contain a storming device, found out
 * by trying (never from a version string), and what a throttle therefore
 * does. Kernels differ: without `threadirqs` (or PREEMPT_RT) vfio's
 * handlers run in hard-IRQ context and there is no IRQ thread at all, the
 * cost landing on whichever CPU the vector's affinity names; since Linux
 * 6.19 IRQ threads carry PF_NO_SETAFFINITY and the kernel refuses to move
 * them into a cgroup (EINVAL) or to set their affinity, while their
 * scheduling policy and nice value can still be changed and they follow
 * their vector's /proc/irq/N/smp_affinity.
 *
 * Each lever is yes, no (with the errno that said so) or not known yet:
 * probed at start (cgroup.c: a no-op move of an IRQ thread into the cgroup
 * it is in, its own scheduling policy set again, the kernel command line),
 * then learned from every real attempt. The decision of what the throttle
 * uses, its sentence and its JSON are pure.
 */
#ifndef VFIOD_LEVERS_H
#define VFIOD_LEVERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "irqbal.h"

enum lever { LEVER_UNKNOWN = 0, LEVER_YES, LEVER_NO };

struct levers {
	enum lever threaded;      /* IRQ handlers run in threads */
	char threaded_why[64];    /* "threadirqs on the command line", ... */
	enum lever irq_cgroup;    /* IRQ threads can be moved into a cgroup */
	int irq_cgroup_err;
	enum lever irq_sched;     /* their scheduling policy and nice value can be set */
	int irq_sched_err;
	enum lever irq_affinity;  /* a vector's smp_affinity can be written */
	int irq_affinity_err;
	enum lever vmm_cgroup;    /* a cpu controller to cap VMM threads in */
	bool steer;               /* the housekeeping CPUs leave others out: steering moves */
	char housekeeping[64];    /* their list, "" when every CPU */
	enum irqbal_state irqbalance; /* irqbalance: not running, told, or running untold */
	char irqbalance_why[192];     /* untold: why; told: a note, "" none */
};

/* The throttle's levers, in the order it applies them. */
enum throttle_lever {
	TL_IRQ_CGROUP_CAP = 1u << 0, /* the IRQ threads' cgroup, at the storm cap */
	TL_IRQ_DEMOTE = 1u << 1,     /* IRQ threads off SCHED_FIFO (always, when they can be);
				      * never lower than nice 0: see cgroup.c */
	TL_STEER = 1u << 3,          /* vectors (and their threads) to the housekeeping CPUs */
	TL_VMM_CAP = 1u << 4,        /* the VMM's cgroup (or its domain) at the storm cap */
};

/* What a throttle uses on this host (pure): a mask of enum throttle_lever. */
unsigned levers_plan(const struct levers *l);

/* One sentence: what this host allows, and what the throttle will use. */
void levers_sentence(const struct levers *l, char *buf, size_t cap);

/* {"irq_threads", "irq_thread_cgroup", ..., "throttle": [...], "sentence"} */
struct json_object *levers_json(const struct levers *l);

/* Learning from a real attempt: err 0 is yes; any other errno is no. */
void levers_learn(enum lever *lever, int *lever_err, int err);

const char *lever_name(enum lever l);

#endif
