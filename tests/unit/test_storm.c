// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the interrupt-storm detector (storm.c, docs/storm.md),
 * driven by synthetic count series. A `sim` feeds a rate profile at 100 ms
 * steps (or any step) and records, for every sample, the action returned
 * and the level after it; the tests then check the whole timeline: every
 * action with its time, and the level at every sample.
 *
 * Times in the checks are milliseconds after the simulation's first sample
 * (the baseline), which the sim puts at ORIGIN to keep them off zero.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storm.h"

#define ORIGIN 1000000u
#define STEP 100u
#define TRACE_MAX 4096u

/* The default class's values (docs/policy.md), used in expected times. */
#define SUSTAIN 500u
#define ESCALATE 2000u
#define COOLDOWN 5000u
#define THRESHOLD 20000u

struct sample {
	uint64_t t; /* after ORIGIN */
	enum storm_action act;
	enum storm_level level;
	uint64_t rate;
};

struct sim {
	struct storm s;
	uint64_t now;   /* absolute */
	uint64_t base;  /* the count at the baseline */
	uint64_t milli; /* interrupts since the baseline, in thousandths */
	struct sample v[TRACE_MAX]; /* 128 KiB: on the stack, nothing to free on failure */
	size_t n;
};

struct ev {
	uint64_t t;
	enum storm_action act;
};

struct lv {
	uint64_t from; /* this level from this time on (until the next entry) */
	enum storm_level level;
};

/* A copy of the default class; the tests change what they need. */
static struct policy_class class_default(void)
{
	struct policy_class c = policy_default_class;

	return c;
}

static void sim_record(struct sim *m, enum storm_action act)
{
	assert_true(m->n < TRACE_MAX);
	m->v[m->n++] = (struct sample){
		.t = m->now - ORIGIN,
		.act = act,
		.level = storm_level(&m->s),
		.rate = storm_rate(&m->s),
	};
}

static uint64_t sim_count(const struct sim *m)
{
	return m->base + m->milli / 1000;
}

/* A fresh detector and its baseline sample at ORIGIN (time 0). */
static void sim_start(struct sim *m, const struct policy_class *cls, uint64_t base)
{
	memset(m, 0, sizeof(*m));
	storm_init(&m->s, cls);
	m->now = ORIGIN;
	m->base = base;
	sim_record(m, storm_feed(&m->s, m->now, sim_count(m)));
	assert_int_equal(m->v[0].act, STORM_NONE);
	assert_int_equal(storm_since_ms(&m->s), ORIGIN);
}

/* One sample `dt` ms later, the device having raised `rate` interrupts/s meanwhile. */
static enum storm_action sim_tick(struct sim *m, uint64_t dt, uint64_t rate)
{
	enum storm_action a;

	m->now += dt;
	m->milli += rate * dt;
	a = storm_feed(&m->s, m->now, sim_count(m));
	sim_record(m, a);
	return a;
}

/* `ms` of `rate` interrupts/s, sampled every STEP ms. */
static void sim_run(struct sim *m, uint64_t ms, uint64_t rate)
{
	assert_int_equal(ms % STEP, 0);
	for (uint64_t t = 0; t < ms; t += STEP)
		sim_tick(m, STEP, rate);
}

/* Every action of the trace (STORM_NONE left out), with its time, in order. */
static void check_actions(const struct sim *m, const struct ev *want, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct sample *s = &m->v[i];

		if (s->act == STORM_NONE)
			continue;
		if (k >= n)
			fail_msg("unexpected %s at %" PRIu64 " ms (rate %" PRIu64 "/s)",
				 storm_action_name(s->act), s->t, s->rate);
		if (s->act != want[k].act || s->t != want[k].t)
			fail_msg("action %zu: %s at %" PRIu64 " ms, want %s at %" PRIu64 " ms", k,
				 storm_action_name(s->act), s->t, storm_action_name(want[k].act),
				 want[k].t);
		k++;
	}
	if (k < n)
		fail_msg("missing %s at %" PRIu64 " ms (trace ends at %" PRIu64 " ms)",
			 storm_action_name(want[k].act), want[k].t, m->v[m->n - 1].t);
}

/* The level after every sample of the trace: a step function of time. */
static void check_levels(const struct sim *m, const struct lv *want, size_t n)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct sample *s = &m->v[i];
		enum storm_level l = STORM_LEVEL_NONE;

		for (size_t j = 0; j < n && want[j].from <= s->t; j++)
			l = want[j].level;
		if (s->level != l)
			fail_msg("at %" PRIu64 " ms: level %s, want %s (rate %" PRIu64 "/s)", s->t,
				 storm_level_name(s->level), storm_level_name(l), s->rate);
	}
}

#define ACTIONS(m, ...)                                                                 \
	check_actions(m, (const struct ev[]){ __VA_ARGS__ },                            \
		      sizeof((const struct ev[]){ __VA_ARGS__ }) / sizeof(struct ev))
#define NO_ACTIONS(m) check_actions(m, NULL, 0)
#define LEVELS(m, ...)                                                                  \
	check_levels(m, (const struct lv[]){ __VA_ARGS__ },                             \
		     sizeof((const struct lv[]){ __VA_ARGS__ }) / sizeof(struct lv))
#define ALWAYS_NONE(m) LEVELS(m, { 0, STORM_LEVEL_NONE })

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(storm_level_name(STORM_LEVEL_NONE), "none");
	assert_string_equal(storm_level_name(STORM_LEVEL_THROTTLED), "throttled");
	assert_string_equal(storm_level_name(STORM_LEVEL_SILENCED), "silenced");
	assert_string_equal(storm_level_name(STORM_LEVEL_QUARANTINED), "quarantined");
	assert_string_equal(storm_level_name((enum storm_level)42), "unknown");
	assert_string_equal(storm_action_name(STORM_NONE), "none");
	assert_string_equal(storm_action_name(STORM_DETECTED), "detected");
	assert_string_equal(storm_action_name(STORM_THROTTLE), "throttle");
	assert_string_equal(storm_action_name(STORM_SILENCE), "silence");
	assert_string_equal(storm_action_name(STORM_QUARANTINE), "quarantine");
	assert_string_equal(storm_action_name(STORM_UNTHROTTLE), "unthrottle");
	assert_string_equal(storm_action_name(STORM_CLEARED), "cleared");
	assert_string_equal(storm_action_name((enum storm_action)42), "unknown");
}

static void test_init(void **state)
{
	struct storm s, d;
	struct policy_class c = class_default();

	(void)state;
	/* a few dozen bytes: the sampler keeps one per owned device */
	assert_true(sizeof(struct storm) <= 96);
	storm_init(&s, NULL);
	storm_init(&d, &c);
	assert_memory_equal(&s, &d, sizeof(s));
	assert_int_equal(storm_level(&s), STORM_LEVEL_NONE);
	assert_int_equal(storm_rate(&s), 0);
	assert_int_equal(storm_since_ms(&s), 0);
	assert_false(storm_active(&s));
	/* the first sample is a baseline, however large */
	assert_int_equal(storm_feed(&s, 5000, UINT64_MAX - 1), STORM_NONE);
	assert_int_equal(storm_rate(&s), 0);
	assert_int_equal(storm_since_ms(&s), 5000);
}

/* A device busy at its normal rate, just under the threshold, is never touched. */
static void test_steady_under_threshold(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	sim_start(&m, &c, 1000);
	sim_run(&m, 60000, THRESHOLD - 1);
	NO_ACTIONS(&m);
	ALWAYS_NONE(&m);
	for (size_t i = 1; i < m.n; i++) /* 1999.9 a sample: 1999 or 2000 */
		assert_in_range(m.v[i].rate, THRESHOLD - 10, THRESHOLD);
	assert_false(storm_active(&m.s));

	/* exactly at the threshold is not over it */
	sim_start(&m, &c, 0);
	sim_run(&m, 60000, THRESHOLD);
	NO_ACTIONS(&m);
	ALWAYS_NONE(&m);
}

/* A NIC at line rate needs a class of its own; with it, it is never touched. */
static void test_nic_class(void **state)
{
	struct policy_class nic = class_default(), dflt = class_default();
	struct sim m;

	(void)state;
	snprintf(nic.name, sizeof(nic.name), "nic");
	nic.storm_threshold = 200000;
	nic.clear_threshold = 50000;
	sim_start(&m, &nic, 77);
	sim_run(&m, 60000, 150000);
	NO_ACTIONS(&m);
	ALWAYS_NONE(&m);
	assert_int_equal(storm_rate(&m.s), 150000);

	/* the same traffic under the default class is a storm */
	sim_start(&m, &dflt, 77);
	sim_run(&m, 60000, 150000);
	ACTIONS(&m, { SUSTAIN, STORM_THROTTLE }, { SUSTAIN + ESCALATE, STORM_SILENCE },
		{ SUSTAIN + 2 * ESCALATE, STORM_QUARANTINE });
}

/* Bursts shorter than sustain_ms, however often, are not storms. */
static void test_short_bursts(void **state)
{
	struct policy_class c = class_default();
	struct sim m;
	uint64_t t;

	(void)state;
	sim_start(&m, &c, 0);
	for (int i = 0; i < 20; i++) { /* 400 ms at 5x, 600 ms quiet */
		sim_run(&m, SUSTAIN - STEP, 5 * THRESHOLD);
		sim_run(&m, 600, 1000);
	}
	for (int i = 0; i < 20; i++) { /* 400 ms at 5x, one sample in the band */
		sim_run(&m, SUSTAIN - STEP, 5 * THRESHOLD);
		sim_run(&m, STEP, 10000);
	}
	for (int i = 0; i < 20; i++) { /* 400 ms at 5x, one sample at the threshold */
		sim_run(&m, SUSTAIN - STEP, 5 * THRESHOLD);
		sim_run(&m, STEP, THRESHOLD);
	}
	NO_ACTIONS(&m);
	ALWAYS_NONE(&m);
	assert_false(storm_active(&m.s));

	/* a burst of exactly sustain_ms is one */
	t = m.now - ORIGIN;
	sim_run(&m, SUSTAIN, 5 * THRESHOLD);
	ACTIONS(&m, { t + SUSTAIN, STORM_THROTTLE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { t + SUSTAIN, STORM_LEVEL_THROTTLED });
}

/*
 * A ramp from 0 to 10x the threshold over 10 s: the rate is 20 * t per
 * second at t ms, the count t^2 / 100. It crosses the threshold at 1000 ms;
 * the storm is detected sustain_ms later, within one sample.
 */
static void test_ramp(void **state)
{
	struct policy_class c = class_default();
	struct sim m;
	const uint64_t cross = 1000;
	uint64_t detected = 0;

	(void)state;
	sim_start(&m, &c, 0);
	for (uint64_t t = STEP; t <= 10000; t += STEP) {
		m.now = ORIGIN + t;
		m.milli = t * t / 100 * 1000;
		sim_record(&m, storm_feed(&m.s, m.now, sim_count(&m)));
		if (!detected && m.v[m.n - 1].act != STORM_NONE)
			detected = t;
	}
	assert_in_range(detected, cross + SUSTAIN - STEP, cross + SUSTAIN + STEP);
	/* the interval (1000, 1100] is the first over it: 1500 exactly */
	ACTIONS(&m, { 1500, STORM_THROTTLE }, { 1500 + ESCALATE, STORM_SILENCE },
		{ 1500 + 2 * ESCALATE, STORM_QUARANTINE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { 1500, STORM_LEVEL_THROTTLED },
	       { 3500, STORM_LEVEL_SILENCED }, { 5500, STORM_LEVEL_QUARANTINED });
	assert_int_equal(storm_rate(&m.s), 20 * 10000 - 1000); /* the last interval's mean */
}

/* The whole ladder, no way down but the operator's word. */
static void test_sustained_storm(void **state)
{
	struct policy_class c = class_default();
	struct sim m;
	const uint64_t s0 = 1000, q = s0 + SUSTAIN + 2 * ESCALATE;
	uint64_t r;

	(void)state;
	sim_start(&m, &c, 123456);
	sim_run(&m, s0, 2000);
	sim_run(&m, 6000, 5 * THRESHOLD);
	assert_true(storm_active(&m.s));
	sim_run(&m, 60000, 0);
	ACTIONS(&m, { s0 + SUSTAIN, STORM_THROTTLE }, { s0 + SUSTAIN + ESCALATE, STORM_SILENCE },
		{ q, STORM_QUARANTINE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { s0 + SUSTAIN, STORM_LEVEL_THROTTLED },
	       { s0 + SUSTAIN + ESCALATE, STORM_LEVEL_SILENCED }, { q, STORM_LEVEL_QUARANTINED });
	assert_int_equal(storm_since_ms(&m.s), ORIGIN + q);
	assert_int_equal(storm_rate(&m.s), 0);
	assert_false(storm_active(&m.s)); /* the storm is over; the device stays quarantined */

	/* the operator's word: NONE, no baseline, the ladder starts over */
	storm_operator_release(&m.s);
	assert_int_equal(storm_level(&m.s), STORM_LEVEL_NONE);
	assert_int_equal(storm_rate(&m.s), 0);
	assert_int_equal(storm_since_ms(&m.s), 0);
	assert_false(storm_active(&m.s));
	r = m.now - ORIGIN;
	m.base += 1000000; /* the device was reset meanwhile: any count is a baseline */
	assert_int_equal(sim_tick(&m, STEP, 0), STORM_NONE);
	assert_int_equal(storm_rate(&m.s), 0);
	assert_int_equal(storm_since_ms(&m.s), ORIGIN + r + STEP);
	sim_run(&m, 1000, 5 * THRESHOLD);
	ACTIONS(&m, { s0 + SUSTAIN, STORM_THROTTLE }, { s0 + SUSTAIN + ESCALATE, STORM_SILENCE },
		{ q, STORM_QUARANTINE }, { r + STEP + SUSTAIN, STORM_THROTTLE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { s0 + SUSTAIN, STORM_LEVEL_THROTTLED },
	       { s0 + SUSTAIN + ESCALATE, STORM_LEVEL_SILENCED }, { q, STORM_LEVEL_QUARANTINED },
	       { r + STEP, STORM_LEVEL_NONE }, { r + STEP + SUSTAIN, STORM_LEVEL_THROTTLED });
}

/* Silenced stays silenced when the storm stops; a renewed storm goes on up the ladder. */
static void test_silenced_stays(void **state)
{
	struct policy_class c = class_default();
	struct sim m;
	const uint64_t sil = 1000 + SUSTAIN + ESCALATE; /* 3500 */
	uint64_t t;

	(void)state;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 0);
	sim_run(&m, 3000, 5 * THRESHOLD); /* 1000..4000 */
	sim_run(&m, 60000, 0);
	assert_false(storm_active(&m.s));
	/* a burst shorter than sustain_ms does not escalate */
	sim_run(&m, SUSTAIN - STEP, 5 * THRESHOLD);
	sim_run(&m, 1000, 0);
	t = m.now - ORIGIN;
	ACTIONS(&m, { 1000 + SUSTAIN, STORM_THROTTLE }, { sil, STORM_SILENCE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { 1000 + SUSTAIN, STORM_LEVEL_THROTTLED },
	       { sil, STORM_LEVEL_SILENCED });
	assert_int_equal(storm_since_ms(&m.s), ORIGIN + sil);

	/* a sustained one does, escalation_ms being long past */
	sim_run(&m, 1000, 5 * THRESHOLD);
	ACTIONS(&m, { 1000 + SUSTAIN, STORM_THROTTLE }, { sil, STORM_SILENCE },
		{ t + SUSTAIN, STORM_QUARANTINE });
}

/* A throttle is undone after cooldown_ms under the clear threshold. */
static void test_throttle_then_stop(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 3000);
	sim_run(&m, 1000, 5 * THRESHOLD); /* 1000..2000 */
	sim_run(&m, 10000, 4990);         /* under clear (5000) from 2000 */
	sim_run(&m, 1000, 5 * THRESHOLD); /* 12000..13000: the ladder starts over */
	ACTIONS(&m, { 1500, STORM_THROTTLE }, { 2000 + COOLDOWN, STORM_UNTHROTTLE },
		{ 12000 + SUSTAIN, STORM_THROTTLE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { 1500, STORM_LEVEL_THROTTLED },
	       { 2000 + COOLDOWN, STORM_LEVEL_NONE }, { 12000 + SUSTAIN, STORM_LEVEL_THROTTLED });
	assert_int_equal(storm_since_ms(&m.s), ORIGIN + 12000 + SUSTAIN);
}

/* clear_threshold 0 (the default for a storm_threshold under 4): only quiet steps down. */
static void test_clear_threshold_zero(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	c.storm_threshold = 1000;
	c.clear_threshold = 0;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 5000);
	sim_run(&m, 10000, 10); /* one a sample: in the band, 1000..11000 */
	sim_run(&m, 6000, 0);   /* 11000..17000 */
	ACTIONS(&m, { SUSTAIN, STORM_THROTTLE }, { 11000 + COOLDOWN, STORM_UNTHROTTLE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { SUSTAIN, STORM_LEVEL_THROTTLED },
	       { 11000 + COOLDOWN, STORM_LEVEL_NONE });
}

/* Between the thresholds nothing moves, and both runs restart. */
static void test_hysteresis(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 0);
	sim_run(&m, 1000, 5 * THRESHOLD); /* throttled at 1500 */
	sim_run(&m, 30000, 10000);        /* the band, 2000..32000 */
	sim_run(&m, 30000, THRESHOLD);    /* its top, 32000..62000 */
	sim_run(&m, 30000, 5000);         /* its bottom, 62000..92000 */
	assert_true(storm_active(&m.s));
	sim_run(&m, 3000, 1000);          /* under clear, 92000..95000 */
	sim_run(&m, STEP, 10000);         /* one sample in the band: the cooldown restarts */
	sim_run(&m, 6000, 1000);          /* 95100..101100 */
	ACTIONS(&m, { 1500, STORM_THROTTLE }, { 95100 + COOLDOWN, STORM_UNTHROTTLE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { 1500, STORM_LEVEL_THROTTLED },
	       { 95100 + COOLDOWN, STORM_LEVEL_NONE });
	assert_false(storm_active(&m.s));
}

/*
 * Escalation takes a storm by the detection rule: after a step, the rate
 * in the band and a short spike do not escalate; a sustained storm does,
 * as soon as it is one.
 */
static void test_escalation_needs_a_storm(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 0);
	sim_run(&m, 1000, 5 * THRESHOLD); /* throttled at 1500 */
	sim_run(&m, 3000, 10000);         /* band, 2000..5000 */
	sim_run(&m, 300, 5 * THRESHOLD);  /* a spike, 5000..5300 */
	sim_run(&m, 700, 10000);          /* band, 5300..6000 */
	sim_run(&m, 1000, 5 * THRESHOLD); /* a storm again from 6000 */
	ACTIONS(&m, { 1500, STORM_THROTTLE }, { 6000 + SUSTAIN, STORM_SILENCE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { 1500, STORM_LEVEL_THROTTLED },
	       { 6000 + SUSTAIN, STORM_LEVEL_SILENCED });
}

static void test_ladder_subsets(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	/* ladder = silence quarantine */
	c.ladder[0] = POLICY_STEP_SILENCE;
	c.ladder[1] = POLICY_STEP_QUARANTINE;
	c.n_ladder = 2;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 0);
	sim_run(&m, 5000, 5 * THRESHOLD);
	sim_run(&m, 20000, 0);
	ACTIONS(&m, { 1500, STORM_SILENCE }, { 1500 + ESCALATE, STORM_QUARANTINE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { 1500, STORM_LEVEL_SILENCED },
	       { 1500 + ESCALATE, STORM_LEVEL_QUARANTINED });

	/* ladder = throttle quarantine */
	c.ladder[0] = POLICY_STEP_THROTTLE;
	c.ladder[1] = POLICY_STEP_QUARANTINE;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 0);
	sim_run(&m, 5000, 5 * THRESHOLD);
	ACTIONS(&m, { 1500, STORM_THROTTLE }, { 1500 + ESCALATE, STORM_QUARANTINE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { 1500, STORM_LEVEL_THROTTLED },
	       { 1500 + ESCALATE, STORM_LEVEL_QUARANTINED });

	/* ladder = throttle: nothing past it, and it steps down */
	c.n_ladder = 1;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 0);
	sim_run(&m, 20000, 5 * THRESHOLD); /* 1000..21000 */
	sim_run(&m, 10000, 0);
	ACTIONS(&m, { 1500, STORM_THROTTLE }, { 21000 + COOLDOWN, STORM_UNTHROTTLE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { 1500, STORM_LEVEL_THROTTLED },
	       { 21000 + COOLDOWN, STORM_LEVEL_NONE });
}

/* ladder = none: DETECTED and CLEARED, never a level. */
static void test_watch_only(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	c.n_ladder = 0;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 0);
	sim_run(&m, 10000, 5 * THRESHOLD); /* 1000..11000 */
	assert_true(storm_active(&m.s));
	sim_run(&m, 10000, 10000);         /* the band does not clear it */
	assert_true(storm_active(&m.s));
	sim_run(&m, 10000, 0);             /* 21000..31000 */
	assert_false(storm_active(&m.s));
	sim_run(&m, 1000, 5 * THRESHOLD);  /* 31000..32000 */
	ACTIONS(&m, { 1500, STORM_DETECTED }, { 21000 + COOLDOWN, STORM_CLEARED },
		{ 31000 + SUSTAIN, STORM_DETECTED });
	ALWAYS_NONE(&m);
	assert_int_equal(storm_since_ms(&m.s), ORIGIN);
}

/*
 * One vector of 32 storms: the sampler sums every vector, and the device's
 * total decides. 31 vectors at 500/s and one at 4000/s: 19,500/s, nothing;
 * the one at 10,000/s (alone, half the threshold): 25,500/s, a storm.
 */
static void test_one_vector_of_many(void **state)
{
	enum { NVEC = 32, HOT = 7 };
	struct policy_class c = class_default();
	struct storm s;
	uint64_t milli[NVEC] = { 0 }, t = ORIGIN, total;
	struct ev got[8];
	size_t n = 0;

	(void)state;
	storm_init(&s, &c);
	assert_int_equal(storm_feed(&s, t, 0), STORM_NONE);
	for (int i = 1; i <= 200; i++) { /* 20 s, the hot vector faster from 10 s */
		enum storm_action a;

		t += STEP;
		total = 0;
		for (int v = 0; v < NVEC; v++) {
			uint64_t rate = v != HOT ? 500 : i <= 100 ? 4000 : 10000;

			milli[v] += rate * STEP;
			total += milli[v] / 1000;
		}
		a = storm_feed(&s, t, total);
		assert_int_equal(storm_rate(&s), i <= 100 ? 19500 : 25500);
		if (a != STORM_NONE) {
			assert_true(n < VF_ARRAY_SIZE(got));
			got[n++] = (struct ev){ t - ORIGIN, a };
		}
	}
	assert_int_equal(n, 3);
	assert_int_equal(got[0].t, 10000 + SUSTAIN);
	assert_int_equal(got[0].act, STORM_THROTTLE);
	assert_int_equal(got[1].t, 10000 + SUSTAIN + ESCALATE);
	assert_int_equal(got[1].act, STORM_SILENCE);
	assert_int_equal(got[2].t, 10000 + SUSTAIN + 2 * ESCALATE);
	assert_int_equal(got[2].act, STORM_QUARANTINE);
}

/* A count that goes backwards is a new baseline, never a rate. */
static void test_counter_backwards(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	c.sustain_ms = 0; /* any single rate over the threshold would act */
	sim_start(&m, &c, 1000000000);
	sim_run(&m, 1000, 1000);
	m.base = 5; /* a vector vanished: the total falls by a billion */
	m.milli = 0;
	assert_int_equal(sim_tick(&m, STEP, 1000), STORM_NONE);
	assert_int_equal(storm_rate(&m.s), 1000); /* the last measured one */
	sim_run(&m, 1000, 1000);
	m.base = 0; /* to zero: counters reset */
	m.milli = 0;
	sim_run(&m, 1000, 1000);
	NO_ACTIONS(&m);
	ALWAYS_NONE(&m);
	for (size_t i = 1; i < m.n; i++)
		assert_int_equal(m.v[i].rate, 1000);

	/* near the top of 64 bits, and past it: nothing spurious */
	sim_start(&m, &c, UINT64_MAX - 5000);
	sim_run(&m, 4000, 1000); /* ends at UINT64_MAX - 1000 */
	assert_int_equal(sim_count(&m), UINT64_MAX - 1000);
	m.base = 0; /* wrapped */
	m.milli = 2000 * 1000;
	sim_run(&m, 1000, 1000);
	NO_ACTIONS(&m);
	ALWAYS_NONE(&m);
	for (size_t i = 1; i < m.n; i++)
		assert_int_equal(m.v[i].rate, 1000);
}

/* A vector vanishing in a storm neither invents a rate nor restarts the sustain run. */
static void test_counter_backwards_in_storm(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 0);
	sim_run(&m, 300, 5 * THRESHOLD); /* 1000..1300 */
	m.base = 0;
	m.milli = 0;
	assert_int_equal(sim_tick(&m, STEP, 0), STORM_NONE); /* 1400: a baseline */
	sim_run(&m, 600, 5 * THRESHOLD);
	ACTIONS(&m, { 1000 + SUSTAIN, STORM_THROTTLE });
	for (size_t i = 1; i < m.n; i++)
		assert_in_range(m.v[i].rate, 0, 5 * THRESHOLD);
}

/* The rate's arithmetic at the extremes: exact, or saturated, never wrapped. */
static void test_rate_extremes(void **state)
{
	struct storm s;

	(void)state;
	storm_init(&s, NULL);
	storm_feed(&s, 10, 0);
	storm_feed(&s, 17, 123456789);
	assert_int_equal(storm_rate(&s), 17636684142ull); /* 123456789 * 1000 / 7 */
	storm_feed(&s, 100017, 123456789 + 1000000000000000000ull);
	assert_int_equal(storm_rate(&s), 10000000000000000ull);
	storm_feed(&s, 100018, UINT64_MAX - 1);
	assert_int_equal(storm_rate(&s), UINT64_MAX); /* ~1.8e22/s: saturated */
	storm_feed(&s, 101018, UINT64_MAX);
	assert_int_equal(storm_rate(&s), 1);

	storm_init(&s, NULL);
	storm_feed(&s, 0, 0);
	storm_feed(&s, 1000, UINT64_MAX);
	assert_int_equal(storm_rate(&s), UINT64_MAX);

	/* a clock near its end: UINT64_MAX - 1 ms, about as many interrupts */
	storm_init(&s, NULL);
	storm_feed(&s, 0, 0);
	storm_feed(&s, UINT64_MAX - 1, UINT64_MAX - 1);
	assert_int_equal(storm_rate(&s), 1000);
	storm_init(&s, NULL);
	storm_feed(&s, 0, 0);
	storm_feed(&s, UINT64_MAX, UINT64_MAX / 2);
	assert_in_range(storm_rate(&s), 499, 500);
}

/* Intervals of 50 and 300 ms in turn: runs are measured in real time. */
static void test_irregular_intervals(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	sim_start(&m, &c, 0);
	/* samples at 350k + 50 and 350k + 350 */
	for (int k = 0; k < 3; k++) { /* a storm from 0 to 1050 */
		sim_tick(&m, 50, 5 * THRESHOLD);
		assert_int_equal(storm_rate(&m.s), 5 * THRESHOLD);
		sim_tick(&m, 300, 5 * THRESHOLD);
		assert_int_equal(storm_rate(&m.s), 5 * THRESHOLD);
	}
	while (m.now - ORIGIN < 8000) { /* quiet from 1050 */
		sim_tick(&m, 50, 0);
		sim_tick(&m, 300, 0);
	}
	/* over 500 ms at the first sample past 500: 700; 5000 ms quiet at 6300 */
	ACTIONS(&m, { 700, STORM_THROTTLE }, { 6300, STORM_UNTHROTTLE });
	LEVELS(&m, { 0, STORM_LEVEL_NONE }, { 700, STORM_LEVEL_THROTTLED },
	       { 6300, STORM_LEVEL_NONE });
}

/* A sample at the previous one's time is ignored; its interrupts count next. */
static void test_repeated_timestamp(void **state)
{
	struct policy_class c = class_default();
	struct sim m;

	(void)state;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 1000);
	assert_int_equal(storm_feed(&m.s, m.now, sim_count(&m) + 500), STORM_NONE);
	assert_int_equal(storm_rate(&m.s), 1000);
	m.milli += 500 * 1000;
	sim_tick(&m, STEP, 1000); /* 500 + 100 in 100 ms */
	assert_int_equal(storm_rate(&m.s), 6000);

	/* in a storm, repeats change nothing: throttled at 500 as ever */
	sim_start(&m, &c, 0);
	for (int i = 0; i < 10; i++) {
		sim_tick(&m, STEP, 5 * THRESHOLD);
		sim_tick(&m, 0, 5 * THRESHOLD);
		sim_tick(&m, 0, 0);
	}
	ACTIONS(&m, { SUSTAIN, STORM_THROTTLE });

	/* a clock that goes back restarts the runs: sustain_ms again from there */
	sim_start(&m, &c, 0);
	sim_run(&m, 400, 5 * THRESHOLD);
	m.now -= 300; /* back to 100: a baseline, the run from 0 is gone */
	assert_int_equal(sim_tick(&m, 0, 5 * THRESHOLD), STORM_NONE);
	sim_run(&m, 600, 5 * THRESHOLD); /* 100..700: a run from 100 */
	ACTIONS(&m, { 100 + SUSTAIN, STORM_THROTTLE });
}

/* A reloaded class takes effect without forgetting where the device stands. */
static void test_set_class(void **state)
{
	struct policy_class c = class_default(), watch = class_default();
	struct sim m;

	(void)state;
	sim_start(&m, &c, 0);
	sim_run(&m, 1000, 5 * THRESHOLD); /* throttled at 500 */
	c.ladder[0] = POLICY_STEP_QUARANTINE;
	c.n_ladder = 1;
	c.escalation_ms = 10000;
	storm_set_class(&m.s, &c);
	assert_int_equal(storm_level(&m.s), STORM_LEVEL_THROTTLED);
	sim_run(&m, 11000, 5 * THRESHOLD); /* quarantined at 500 + 10000 */
	ACTIONS(&m, { SUSTAIN, STORM_THROTTLE }, { 10500, STORM_QUARANTINE });

	/* a throttle outlives a ladder without one, and still steps down */
	sim_start(&m, &c, 0);
	storm_set_class(&m.s, NULL);
	sim_run(&m, 1000, 5 * THRESHOLD);
	watch.n_ladder = 0;
	storm_set_class(&m.s, &watch);
	sim_run(&m, 6000, 0);
	ACTIONS(&m, { SUSTAIN, STORM_THROTTLE }, { 1000 + COOLDOWN, STORM_UNTHROTTLE });
}

/*
 * Detection latency for a step from quiet to 5x the threshold, sustain_ms
 * 300, sampling every 100 ms, the step at every phase of the sampling
 * period (every millisecond of it): the samples from the step to the one
 * that acts, that one counted.
 */
static void test_detection_latency(void **state)
{
	struct policy_class c = class_default();
	const uint64_t step_at = 1000, hi = 5 * THRESHOLD, lo = 1000;
	unsigned min_n = ~0u, max_n = 0, aligned_n = 0;
	uint64_t min_ms = UINT64_MAX, max_ms = 0;

	(void)state;
	c.sustain_ms = 300;
	for (uint64_t phase = 0; phase < STEP; phase++) {
		const uint64_t at = step_at + phase;
		struct storm s;
		unsigned n = 0;
		uint64_t t;

		storm_init(&s, &c);
		for (t = 0;; t += STEP) {
			uint64_t milli = lo * (t < at ? t : at) + hi * (t > at ? t - at : 0);
			enum storm_action a = storm_feed(&s, ORIGIN + t, milli / 1000);

			if (t > at)
				n++;
			if (a != STORM_NONE) {
				assert_int_equal(a, STORM_THROTTLE);
				assert_true(t > at);
				break;
			}
			assert_true(t < at + 2000);
		}
		assert_in_range(n, 3, 4);
		if (phase == 0)
			aligned_n = n;
		min_n = n < min_n ? n : min_n;
		max_n = n > max_n ? n : max_n;
		min_ms = t - at < min_ms ? t - at : min_ms;
		max_ms = t - at > max_ms ? t - at : max_ms;
	}
	assert_int_equal(aligned_n, 3);
	printf("storm detection latency, step to 5x threshold, sustain 300 ms, 100 ms sampling: "
	       "%u samples (%u ms) for a step at a sample; %u to %u samples (%" PRIu64
	       " to %" PRIu64 " ms) over every 1 ms phase of the step\n",
	       aligned_n, aligned_n * STEP, min_n, max_n, min_ms, max_ms);
	fflush(stdout);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_steady_under_threshold),
		cmocka_unit_test(test_nic_class),
		cmocka_unit_test(test_short_bursts),
		cmocka_unit_test(test_ramp),
		cmocka_unit_test(test_sustained_storm),
		cmocka_unit_test(test_silenced_stays),
		cmocka_unit_test(test_throttle_then_stop),
		cmocka_unit_test(test_clear_threshold_zero),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_escalation_needs_a_storm),
		cmocka_unit_test(test_ladder_subsets),
		cmocka_unit_test(test_watch_only),
		cmocka_unit_test(test_one_vector_of_many),
		cmocka_unit_test(test_counter_backwards),
		cmocka_unit_test(test_counter_backwards_in_storm),
		cmocka_unit_test(test_rate_extremes),
		cmocka_unit_test(test_irregular_intervals),
		cmocka_unit_test(test_repeated_timestamp),
		cmocka_unit_test(test_set_class),
		cmocka_unit_test(test_detection_latency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
