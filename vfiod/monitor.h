/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interrupt monitor: a thread of its own that samples every owned
 * device's vectors at the policy's interval (irqmon), feeds the storm
 * detector (storm) and acts at once on what must not wait: throttle and
 * unthrottle (through the ops the daemon gives it: CPU caps, IRQ affinity)
 * and silence (the command register). What needs the store or the
 * consumer (recording the level, quarantine, events) goes to the main loop
 * as a message, which wakes it through an eventfd. The sampling period
 * therefore holds however slow the main loop is: the monitor takes its
 * mutex only to swap the device list and queue messages.
 */
#ifndef VFIOD_MONITOR_H
#define VFIOD_MONITOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hostfs.h"
#include "irqmon.h"
#include "mailbox.h"
#include "policy.h"
#include "storm.h"

#define MONITOR_MAX_DEVS 256
#define MONITOR_QUEUE 256
#define MONITOR_REDISCOVER_MS 1000  /* msi_irqs/ appears and changes: look again */

/* What the monitor did or asks for, for the main loop. */
struct monitor_msg {
	char bdf[VF_BDF_LEN];
	enum storm_action action;  /* what the detector said */
	enum storm_level level;    /* the level after it */
	uint64_t rate;             /* interrupts/s over the last interval */
	int old_command;           /* SILENCE: the register before, -1 when unknown */
	bool failed;               /* the monitor could not carry the action out */
	char detail[256];
};

/*
 * Containment the monitor applies itself (set by the daemon; may be NULL).
 * Called in the monitor thread with its mutex held: `cls` is the device's
 * copy of its class, `pol` the monitor's snapshot of the policy
 * (monitor_set_policy), both valid for the call only.
 */
struct monitor_ops {
	int (*throttle)(void *ctx, const char *bdf, const struct policy_class *cls,
			const struct policy *pol, const unsigned *vectors, size_t n,
			struct vf_err *e);
	int (*unthrottle)(void *ctx, const char *bdf, const struct policy_class *cls,
			  const struct policy *pol, const unsigned *vectors, size_t n,
			  struct vf_err *e);
};

struct monitor_dev {
	char bdf[VF_BDF_LEN];
	struct policy_class cls;   /* a copy: policy reloads free the old one */
	struct irqmon_dev irq;
	struct storm storm;
	uint64_t discovered_ms;
	uint64_t silenced_ms;      /* when the monitor silenced it, 0: not */
	bool quarantine_asked;     /* QUARANTINE posted after the silence */
	bool quarantined;          /* held: sampled, never acted on */
};

struct monitor_stats {
	uint64_t samples;
	uint64_t late;             /* samples started more than 10% late */
	uint64_t max_late_us;
	unsigned interval_ms;
};

struct monitor {
	pthread_t thread;
	pthread_mutex_t mu;
	bool running, stop;
	const struct hostfs *h;
	unsigned interval_ms;
	const struct monitor_ops *ops;
	void *ops_ctx;
	/*
	 * What the monitor thread reads of the policy, as a copy of its own:
	 * the [daemon] section (housekeeping CPUs, sample interval), no
	 * classes (each device holds a copy of its class). Replaced whole
	 * under mu by monitor_set_policy, and the monitor thread reads it only
	 * under mu, so the old one is freed while no sample uses it. Never
	 * NULL while running.
	 */
	struct policy *pol;
	struct monitor_dev *devs[MONITOR_MAX_DEVS];
	size_t n;
	struct mailbox box;        /* to the main loop; box.fd readable when messages wait */
	struct monitor_stats stats;
	/* one sample's working arrays (monitor thread, under mu): no allocation per sample */
	struct irqmon_dev *s_irq[MONITOR_MAX_DEVS];
	struct monitor_dev *s_dev[MONITOR_MAX_DEVS];
	uint64_t s_total[MONITOR_MAX_DEVS];
	unsigned *s_vec;           /* an acting device's vectors: grown to its count, never cut */
	size_t s_vec_cap;
};

int monitor_start(struct monitor *m, const struct hostfs *h, unsigned interval_ms,
		  const struct monitor_ops *ops, void *ops_ctx, struct vf_err *e);
void monitor_stop(struct monitor *m);

/*
 * The monitor reads `p` from now on: copies what it needs (the [daemon]
 * section: housekeeping CPUs for the throttle op, the sample interval,
 * which takes effect from the next sample) and swaps it in under its
 * mutex; the caller may free or change `p` as soon as it returns. Classes
 * and thresholds come with monitor_set.
 */
void monitor_set_policy(struct monitor *m, const struct policy *p);

/*
 * Watches exactly these devices from now on, each with its class; a device
 * already watched keeps its counts and detector state (its class is
 * updated). `quarantined[i]`: held, sampled but never acted on.
 */
void monitor_set(struct monitor *m, const char (*bdfs)[VF_BDF_LEN],
		 const struct policy_class *const *classes, const bool *quarantined, size_t n);

/* An operator's word: the device's detector starts afresh (unquarantine). */
void monitor_release(struct monitor *m, const char *bdf);

/* Takes up to `cap` queued messages; clears the wake fd. */
size_t monitor_drain(struct monitor *m, struct monitor_msg *out, size_t cap);

/* The device's level and last rate; false when it is not watched. */
bool monitor_device(struct monitor *m, const char *bdf, enum storm_level *level,
		    uint64_t *rate);

struct monitor_stats monitor_stats(struct monitor *m);

/*
 * Every vector the monitor found for the device, however many (an MSI-X
 * device may have 2048), in an array the caller frees; *n gets the count.
 * NULL with *n = 0 when it is not watched or has none.
 */
unsigned *monitor_vectors(struct monitor *m, const char *bdf, size_t *n);

#endif
