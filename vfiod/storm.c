// SPDX-License-Identifier: GPL-2.0-or-later
#include "storm.h"

#include <string.h>

enum {
	STORM_F_BASE = 1 << 0,   /* last_ms/last_count hold a baseline */
	STORM_F_HIGH = 1 << 1,   /* a high run is on, since high_since */
	STORM_F_LOW = 1 << 2,    /* a low run is on, since low_since */
	STORM_F_ACTIVE = 1 << 3, /* a storm was detected and has not cooled down */
};

void storm_set_class(struct storm *s, const struct policy_class *cls)
{
	size_t n;

	if (!cls)
		cls = &policy_default_class;
	s->storm_threshold = cls->storm_threshold;
	s->clear_threshold = cls->clear_threshold;
	s->sustain_ms = cls->sustain_ms;
	s->cooldown_ms = cls->cooldown_ms;
	s->escalation_ms = cls->escalation_ms;
	/* an ordered subset of the steps is a set: level L = step L-1 */
	s->ladder = 0;
	n = cls->n_ladder < POLICY_NSTEPS ? cls->n_ladder : POLICY_NSTEPS;
	for (size_t i = 0; i < n; i++)
		if ((unsigned)cls->ladder[i] < POLICY_NSTEPS)
			s->ladder |= (uint8_t)(1u << (cls->ladder[i] + 1));
}

void storm_init(struct storm *s, const struct policy_class *cls)
{
	memset(s, 0, sizeof(*s));
	storm_set_class(s, cls);
}

void storm_operator_release(struct storm *s)
{
	s->level = STORM_LEVEL_NONE;
	s->flags = 0;
	s->last_ms = s->last_count = 0;
	s->rate = 0;
	s->high_since = s->low_since = 0;
	s->since_ms = 0;
}

/* delta interrupts over ms > 0 milliseconds, per second, rounded down; saturates. */
static uint64_t rate_of(uint64_t delta, uint64_t ms)
{
	uint64_t whole = delta / ms, rest = delta % ms, frac;

	if (whole > (UINT64_MAX - 999) / 1000)
		return UINT64_MAX;
	/* rest < ms: rest * 1000 / ms < 1000 */
	if (rest <= UINT64_MAX / 1000)
		frac = rest * 1000 / ms;
	else /* ms over 584 million years: close enough */
		frac = rest / (ms / 1000);
	return whole * 1000 + (frac > 999 ? 999 : frac);
}

/* The ladder's first step above the current level; NONE at the top. */
static enum storm_level next_step(const struct storm *s)
{
	for (unsigned l = s->level + 1u; l <= STORM_LEVEL_QUARANTINED; l++)
		if (s->ladder & (1u << l))
			return (enum storm_level)l;
	return STORM_LEVEL_NONE;
}

static enum storm_action take_step(struct storm *s, enum storm_level l, uint64_t now)
{
	s->level = (uint8_t)l;
	s->since_ms = now;
	switch (l) {
	case STORM_LEVEL_THROTTLED: return STORM_THROTTLE;
	case STORM_LEVEL_SILENCED: return STORM_SILENCE;
	case STORM_LEVEL_QUARANTINED: return STORM_QUARANTINE;
	case STORM_LEVEL_NONE: break;
	}
	return STORM_NONE;
}

/* A high sample: the high run lasts now - high_since. */
static enum storm_action on_high(struct storm *s, uint64_t now)
{
	enum storm_level next;
	bool was_active = s->flags & STORM_F_ACTIVE;

	if (now - s->high_since < s->sustain_ms)
		return STORM_NONE;
	s->flags |= STORM_F_ACTIVE;
	next = next_step(s);
	if (s->level == STORM_LEVEL_NONE) {
		if (next != STORM_LEVEL_NONE)
			return take_step(s, next, now);
		return was_active ? STORM_NONE : STORM_DETECTED;
	}
	if (next == STORM_LEVEL_NONE || now - s->since_ms < s->escalation_ms)
		return STORM_NONE;
	return take_step(s, next, now);
}

/* A low sample: the low run lasts now - low_since. */
static enum storm_action on_low(struct storm *s, uint64_t now)
{
	bool was_active = s->flags & STORM_F_ACTIVE;

	if (now - s->low_since < s->cooldown_ms)
		return STORM_NONE;
	s->flags &= (uint8_t)~STORM_F_ACTIVE;
	if (s->level == STORM_LEVEL_THROTTLED) {
		s->level = STORM_LEVEL_NONE;
		s->since_ms = now;
		return STORM_UNTHROTTLE;
	}
	if (s->level == STORM_LEVEL_NONE && was_active)
		return STORM_CLEARED;
	return STORM_NONE;
}

enum storm_action storm_feed(struct storm *s, uint64_t now_ms, uint64_t count)
{
	uint64_t start;

	if (!(s->flags & STORM_F_BASE)) {
		s->flags |= STORM_F_BASE;
		s->last_ms = now_ms;
		s->last_count = count;
		s->since_ms = now_ms;
		return STORM_NONE;
	}
	if (now_ms < s->last_ms) {
		/* not a monotonic clock: nothing measured can be trusted */
		s->flags &= (uint8_t)~(STORM_F_HIGH | STORM_F_LOW);
		if (s->since_ms > now_ms)
			s->since_ms = now_ms;
		s->last_ms = now_ms;
		s->last_count = count;
		return STORM_NONE;
	}
	if (count < s->last_count) {
		/* a vector vanished or counters reset: a new baseline, the runs carry on */
		s->last_ms = now_ms;
		s->last_count = count;
		return STORM_NONE;
	}
	if (now_ms == s->last_ms)
		return STORM_NONE; /* its interrupts count in the next interval */

	start = s->last_ms;
	s->rate = rate_of(count - s->last_count, now_ms - s->last_ms);
	s->last_ms = now_ms;
	s->last_count = count;

	if (s->rate > s->storm_threshold) {
		s->flags &= (uint8_t)~STORM_F_LOW;
		if (!(s->flags & STORM_F_HIGH)) {
			s->flags |= STORM_F_HIGH;
			s->high_since = start;
		}
		return on_high(s, now_ms);
	}
	if (s->rate < s->clear_threshold || s->rate == 0) {
		s->flags &= (uint8_t)~STORM_F_HIGH;
		if (!(s->flags & STORM_F_LOW)) {
			s->flags |= STORM_F_LOW;
			s->low_since = start;
		}
		return on_low(s, now_ms);
	}
	/* the hysteresis band: neither run goes on */
	s->flags &= (uint8_t)~(STORM_F_HIGH | STORM_F_LOW);
	return STORM_NONE;
}

enum storm_level storm_level(const struct storm *s)
{
	return (enum storm_level)s->level;
}

uint64_t storm_rate(const struct storm *s)
{
	return s->rate;
}

uint64_t storm_since_ms(const struct storm *s)
{
	return s->since_ms;
}

uint64_t storm_high_since_ms(const struct storm *s)
{
	return (s->flags & STORM_F_HIGH) ? s->high_since : 0;
}

bool storm_active(const struct storm *s)
{
	return s->flags & STORM_F_ACTIVE;
}

const char *storm_level_name(enum storm_level l)
{
	switch (l) {
	case STORM_LEVEL_NONE: return "none";
	case STORM_LEVEL_THROTTLED: return "throttled";
	case STORM_LEVEL_SILENCED: return "silenced";
	case STORM_LEVEL_QUARANTINED: return "quarantined";
	}
	return "unknown";
}

const char *storm_action_name(enum storm_action a)
{
	switch (a) {
	case STORM_NONE: return "none";
	case STORM_DETECTED: return "detected";
	case STORM_THROTTLE: return "throttle";
	case STORM_SILENCE: return "silence";
	case STORM_QUARANTINE: return "quarantine";
	case STORM_UNTHROTTLE: return "unthrottle";
	case STORM_CLEARED: return "cleared";
	}
	return "unknown";
}
