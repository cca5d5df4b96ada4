/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interrupt-storm detector of one device: fed with the device's total
 * interrupt count at each sample, it measures the rate, decides when a rate
 * is a storm and which step of the class's containment ladder to take, and
 * when a throttle may be undone. Pure: no I/O, no allocation, no clock of
 * its own (the caller passes CLOCK_MONOTONIC milliseconds). The sampler
 * keeps one struct storm per owned device and carries out the actions.
 * docs/storm.md states the rules; in short:
 *
 * - Each sample with a usable interval measures the rate over that interval
 *   (interrupts/s, rounded down) and classifies it: high (> storm_threshold),
 *   low (< clear_threshold, or 0), or the band between (hysteresis).
 * - Runs: consecutive high samples form a high run, consecutive low samples
 *   a low run; a run starts at the start of its first interval. Any other
 *   measured sample ends a run (a band sample ends both).
 * - Detection: a high run of at least sustain_ms is a storm: the first step
 *   of the ladder (or STORM_DETECTED for an empty ladder).
 * - Escalation: escalation_ms after a step was taken, a high run of at least
 *   sustain_ms takes the next step of the ladder.
 * - Step down: a low run of cooldown_ms undoes a throttle (STORM_UNTHROTTLE)
 *   or ends a watched storm (STORM_CLEARED). Silenced and quarantined
 *   devices stay so until storm_operator_release().
 * - At most one action per sample.
 */
#ifndef VFIOD_STORM_H
#define VFIOD_STORM_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

/* Where a device stands on the ladder, in ladder order. */
enum storm_level {
	STORM_LEVEL_NONE,
	STORM_LEVEL_THROTTLED,
	STORM_LEVEL_SILENCED,
	STORM_LEVEL_QUARANTINED,
};

/* What the caller must do after a sample: one at most. */
enum storm_action {
	STORM_NONE,       /* nothing */
	STORM_DETECTED,   /* a storm on a watch-only device (empty ladder) */
	STORM_THROTTLE,   /* level is now THROTTLED */
	STORM_SILENCE,    /* level is now SILENCED */
	STORM_QUARANTINE, /* level is now QUARANTINED */
	STORM_UNTHROTTLE, /* THROTTLED -> NONE: restore the static caps */
	STORM_CLEARED,    /* the watched storm is over (empty ladder) */
};

/*
 * One device's detector: 80 bytes on LP64. The class's values are copied
 * in (a policy reload may free the class): the fields are private to
 * storm.c; read them through the accessors below.
 */
struct storm {
	uint64_t storm_threshold, clear_threshold; /* interrupts/s */
	uint32_t sustain_ms, cooldown_ms, escalation_ms;
	uint8_t ladder; /* bit L set: level L is a step of the ladder */
	uint8_t level;  /* enum storm_level */
	uint8_t flags;  /* STORM_F_* in storm.c */
	uint64_t last_ms, last_count; /* the baseline: the previous sample */
	uint64_t rate;                /* the last measured rate */
	uint64_t high_since, low_since; /* starts of the current runs */
	uint64_t since_ms;            /* when the level was entered */
};

/*
 * A detector at level NONE with no baseline, for a device of class `cls`
 * (NULL: policy_default_class). The first sample only sets the baseline.
 */
void storm_init(struct storm *s, const struct policy_class *cls);

/*
 * Takes a reloaded policy's class without forgetting anything: level, runs
 * and baseline stay; the next sample is judged by the new values. The
 * next step is the new ladder's first step above the current level, and
 * THROTTLED still steps down after cooldown even if the new ladder has no
 * throttle.
 */
void storm_set_class(struct storm *s, const struct policy_class *cls);

/*
 * One sample: `now_ms` a monotonic time in milliseconds, `count` the
 * device's total interrupt count (all vectors, all CPUs) as a 64-bit
 * counter. A count below the previous one (a vector vanished, counters
 * reset) makes this sample a new baseline and measures nothing; so does a
 * time before the previous sample's (and the runs restart). A sample at
 * the previous sample's time is ignored whole (its interrupts count in the
 * next interval). Returns the action to take, STORM_NONE mostly.
 */
enum storm_action storm_feed(struct storm *s, uint64_t now_ms, uint64_t count);

/*
 * An operator's word: back to level NONE whatever the level, no storm, no
 * runs, and no baseline (the next sample sets a fresh one). The class
 * stays. The only way down from SILENCED and QUARANTINED.
 */
void storm_operator_release(struct storm *s);

enum storm_level storm_level(const struct storm *s);
/* The last measured rate (interrupts/s, rounded down; saturates), 0 before any. */
uint64_t storm_rate(const struct storm *s);
/*
 * When the current level was entered: the time of the sample that took
 * the step, or of the first sample after init or release (0 before it).
 */
uint64_t storm_since_ms(const struct storm *s);

/* When the current run of samples above the storm threshold began (ms);
 * 0 when the rate is not above it. */
uint64_t storm_high_since_ms(const struct storm *s);
/*
 * True from a storm's detection until a low run of cooldown_ms (the same
 * rule on every level; on SILENCED and QUARANTINED the level stays), or
 * release: a watch-only device's storm, or a contained one still raging.
 */
bool storm_active(const struct storm *s);

/* "none", "throttled", "silenced", "quarantined"; "unknown" otherwise. */
const char *storm_level_name(enum storm_level l);
/*
 * "none", "detected", "throttle", "silence", "quarantine", "unthrottle",
 * "cleared"; "unknown" otherwise.
 */
const char *storm_action_name(enum storm_action a);

#endif
