// SPDX-License-Identifier: GPL-2.0-or-later
#include "monitor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pci.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Called with the mutex held. */
static void post(struct monitor *m, const struct monitor_dev *d, enum storm_action a,
		 int old_command, bool failed, const char *detail)
{
	struct monitor_msg msg;

	memset(&msg, 0, sizeof(msg));
	snprintf(msg.bdf, sizeof(msg.bdf), "%s", d->bdf);
	msg.action = a;
	msg.level = storm_level(&d->storm);
	msg.rate = storm_rate(&d->storm);
	msg.old_command = old_command;
	msg.failed = failed;
	snprintf(msg.detail, sizeof(msg.detail), "%s", detail ? detail : "");
	mailbox_post(&m->box, &msg); /* full: dropped and counted, logged at the drain */
}

/* Bus Master off, INTx disabled: the fastest way to stop a storm. */
static int silence(struct monitor *m, const char *bdf, int *old, struct vf_err *e)
{
	unsigned cmd;

	*old = -1;
	if (pci_read_command(m->h, bdf, &cmd, e) < 0)
		return -1;
	*old = (int)cmd;
	return pci_write_command(m->h, bdf, silenced_command(cmd), e);
}

/* Re-discovers the device's vectors when due; false when it cannot be sampled now. */
static bool prepare_one(struct monitor *m, struct monitor_dev *d, uint64_t t_ms)
{
	struct vf_err e = { 0 };

	if (!d->discovered_ms || irqmon_rediscover_needed(&d->irq) ||
	    t_ms - d->discovered_ms >= MONITOR_REDISCOVER_MS) {
		if (irqmon_discover(&d->irq, m->h, d->bdf, &e) < 0)
			return false; /* gone for now: the daemon hears of it from hotplug */
		d->discovered_ms = t_ms ? t_ms : 1;
	}
	return true;
}

/* A vector counted from /proc/interrupts (no per_cpu_count on this kernel). */
static bool uses_fallback(const struct monitor_dev *d)
{
	for (size_t k = 0; k < d->irq.n; k++)
		if (d->irq.vecs[k].fd < 0)
			return true;
	return false;
}

/*
 * One device, one sample (called with the mutex held): the detector's step,
 * and the action it asks for.
 */
static void sample_one(struct monitor *m, struct monitor_dev *d, uint64_t t_ms, uint64_t total)
{
	unsigned *vec;
	size_t nv;
	struct vf_err e = { 0 };
	enum storm_action a;
	int old = -1, rc = 0;

	a = storm_feed(&d->storm, t_ms, total);
	if (d->quarantined)
		return;
	/*
	 * Silence stops a storm at once, so the rate no longer says whether the
	 * device is dangerous: a silenced device whose ladder goes on is
	 * quarantined (detached) once the escalation delay has passed anyway.
	 */
	if (a == STORM_NONE && d->silenced_ms && !d->quarantine_asked &&
	    t_ms - d->silenced_ms >= d->cls.escalation_ms) {
		for (size_t k = 0; k < d->cls.n_ladder; k++)
			if (d->cls.ladder[k] == POLICY_STEP_QUARANTINE)
				a = STORM_QUARANTINE;
		d->quarantine_asked = a == STORM_QUARANTINE;
	}
	if (a == STORM_NONE)
		return;
	/* all of them, however many: the ops read vec[0..nv) */
	if (d->irq.n > m->s_vec_cap) {
		m->s_vec = vf_xreallocarray(m->s_vec, d->irq.n, sizeof(*m->s_vec));
		m->s_vec_cap = d->irq.n;
	}
	vec = m->s_vec;
	nv = irqmon_vectors(&d->irq, vec, m->s_vec_cap, NULL);
	switch (a) {
	case STORM_THROTTLE:
	case STORM_UNTHROTTLE:
		if (!m->ops || !m->ops->throttle || !m->ops->unthrottle)
			rc = vf_err_set(&e, 0, "no CPU containment is set up on this host");
		else if (a == STORM_THROTTLE)
			rc = m->ops->throttle(m->ops_ctx, d->bdf, &d->cls, m->pol, vec, nv, &e);
		else
			rc = m->ops->unthrottle(m->ops_ctx, d->bdf, &d->cls, m->pol, vec, nv, &e);
		break;
	case STORM_SILENCE:
		rc = silence(m, d->bdf, &old, &e);
		if (rc == 0)
			d->silenced_ms = t_ms;
		break;
	default:
		break; /* detected, cleared, quarantine: the main loop's */
	}
	if (a == STORM_THROTTLE || a == STORM_DETECTED || (a == STORM_SILENCE && !d->silenced_ms)) {
		uint64_t since = storm_high_since_ms(&d->storm);
		char why[160];

		/* how long it took: the figure an operator wants */
		snprintf(why, sizeof(why), "above the threshold for %llu ms (%llu samples)",
			 (unsigned long long)(since ? t_ms - since : 0),
			 (unsigned long long)(since && m->interval_ms ? (t_ms - since) / m->interval_ms : 0));
		post(m, d, a, old, rc < 0, rc < 0 ? e.msg : why);
		return;
	}
	post(m, d, a, old, rc < 0, rc < 0 ? e.msg : NULL);
}

/*
 * One sample of every device: per_cpu_count vectors cost one pread each;
 * devices counted from /proc/interrupts share one read of it per sample
 * (irqmon_sample_all), not one per device.
 */
static void sample_all(struct monitor *m, uint64_t t_ms)
{
	struct vf_err e = { 0 };
	size_t n = 0;
	bool failed;

	for (size_t i = 0; i < m->n; i++)
		if (prepare_one(m, m->devs[i], t_ms)) {
			m->s_dev[n] = m->devs[i];
			m->s_irq[n++] = &m->devs[i]->irq;
		}
	failed = irqmon_sample_all(m->s_irq, n, m->s_total, &e) < 0;
	for (size_t i = 0; i < n; i++)
		/* a failed /proc/interrupts read says nothing about the rate */
		if (!failed || !uses_fallback(m->s_dev[i]))
			sample_one(m, m->s_dev[i], t_ms, m->s_total[i]);
}

/* The monitor's own copy of what it reads of `p`. */
static struct policy *policy_snapshot(const struct policy *p)
{
	struct policy *snap = vf_xcalloc(1, sizeof(*snap));

	snap->initialized = true;
	snap->daemon = p->daemon;
	snap->daemon.src.file = NULL; /* points into p's file names */
	return snap;
}

static void *run(void *arg)
{
	struct monitor *m = arg;
	uint64_t period, next;

	pthread_mutex_lock(&m->mu);
	period = (uint64_t)m->interval_ms * 1000u;
	pthread_mutex_unlock(&m->mu);
	next = now_us() + period;

	for (;;) {
		struct timespec ts = { (time_t)(next / 1000000u), (long)(next % 1000000u) * 1000 };
		uint64_t start, late;

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		start = now_us();
		pthread_mutex_lock(&m->mu);
		if (m->stop) {
			pthread_mutex_unlock(&m->mu);
			break;
		}
		late = start > next ? start - next : 0;
		m->stats.samples++;
		if (late * 10 > period)
			m->stats.late++;
		if (late > m->stats.max_late_us)
			m->stats.max_late_us = late;
		sample_all(m, start / 1000u);
		/* a reload's interval, from the next sample on */
		period = (uint64_t)m->interval_ms * 1000u;
		pthread_mutex_unlock(&m->mu);
		next += period;
		/* fell far behind (suspend, a stalled host): do not burst to catch up */
		if (now_us() > next + period)
			next = now_us() + period;
	}
	return NULL;
}

int monitor_start(struct monitor *m, const struct hostfs *h, unsigned interval_ms,
		  const struct monitor_ops *ops, void *ops_ctx, struct vf_err *e)
{
	int r;

	memset(m, 0, sizeof(*m));
	m->h = h;
	m->interval_ms = interval_ms ? interval_ms : 100;
	m->stats.interval_ms = m->interval_ms;
	m->ops = ops;
	m->ops_ctx = ops_ctx;
	m->pol = vf_xcalloc(1, sizeof(*m->pol));
	policy_init(m->pol); /* the defaults until the daemon hands its policy */
	if (mailbox_init(&m->box, sizeof(struct monitor_msg), MONITOR_QUEUE, e) < 0) {
		policy_free(m->pol);
		free(m->pol);
		m->pol = NULL;
		return vf_err_wrap(e, "the interrupt monitor");
	}
	pthread_mutex_init(&m->mu, NULL);
	r = pthread_create(&m->thread, NULL, run, m);
	if (r) {
		mailbox_fini(&m->box);
		policy_free(m->pol);
		free(m->pol);
		m->pol = NULL;
		return vf_err_set(e, r, "cannot start the interrupt monitor");
	}
	m->running = true;
	return 0;
}

void monitor_stop(struct monitor *m)
{
	if (!m->running)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	for (size_t i = 0; i < m->n; i++) {
		irqmon_close(&m->devs[i]->irq);
		free(m->devs[i]);
	}
	m->n = 0;
	free(m->s_vec);
	m->s_vec = NULL;
	m->s_vec_cap = 0;
	policy_free(m->pol);
	free(m->pol);
	m->pol = NULL;
	mailbox_fini(&m->box);
	pthread_mutex_destroy(&m->mu);
	m->running = false;
}

void monitor_set(struct monitor *m, const char (*bdfs)[VF_BDF_LEN],
		 const struct policy_class *const *classes, const bool *quarantined, size_t n)
{
	struct monitor_dev *next[MONITOR_MAX_DEVS];
	size_t k = 0;

	if (!m->running)
		return;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n && k < MONITOR_MAX_DEVS; i++) {
		struct monitor_dev *d = NULL;

		for (size_t j = 0; j < m->n; j++) {
			if (m->devs[j] && strcmp(m->devs[j]->bdf, bdfs[i]) == 0) {
				d = m->devs[j];
				m->devs[j] = NULL;
				break;
			}
		}
		if (!d) {
			d = vf_xcalloc(1, sizeof(*d));
			snprintf(d->bdf, sizeof(d->bdf), "%s", bdfs[i]);
			storm_init(&d->storm, classes[i]);
		} else {
			storm_set_class(&d->storm, classes[i]);
		}
		d->cls = *classes[i];
		d->cls.match = NULL; /* the copy must not point into the policy */
		d->cls.n_match = 0;
		d->quarantined = quarantined[i];
		next[k++] = d;
	}
	for (size_t j = 0; j < m->n; j++) {
		if (m->devs[j]) {
			irqmon_close(&m->devs[j]->irq);
			free(m->devs[j]);
		}
	}
	memcpy(m->devs, next, k * sizeof(*next));
	m->n = k;
	pthread_mutex_unlock(&m->mu);
}

void monitor_set_policy(struct monitor *m, const struct policy *p)
{
	struct policy *snap, *old;

	if (!m->running)
		return;
	snap = policy_snapshot(p);
	pthread_mutex_lock(&m->mu);
	old = m->pol;
	m->pol = snap;
	m->interval_ms = p->daemon.sample_interval_ms ? p->daemon.sample_interval_ms : 100;
	m->stats.interval_ms = m->interval_ms;
	pthread_mutex_unlock(&m->mu);
	/* no sample runs outside mu: nothing reads the old one any more */
	policy_free(old);
	free(old);
}

void monitor_release(struct monitor *m, const char *bdf)
{
	if (!m->running)
		return;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->devs[i]->bdf, bdf) == 0) {
			storm_operator_release(&m->devs[i]->storm);
			m->devs[i]->silenced_ms = 0;
			m->devs[i]->quarantine_asked = false;
		}
	}
	pthread_mutex_unlock(&m->mu);
}

size_t monitor_drain(struct monitor *m, struct monitor_msg *out, size_t cap)
{
	uint64_t dropped = 0;
	size_t n;

	if (!m->running)
		return 0;
	n = mailbox_drain(&m->box, out, cap, &dropped);
	if (dropped)
		vf_log(LOG_WARNING, "interrupt monitor: %llu messages dropped (queue full)",
		       (unsigned long long)dropped);
	return n;
}

bool monitor_device(struct monitor *m, const char *bdf, enum storm_level *level,
		    uint64_t *rate)
{
	bool found = false;

	if (!m->running)
		return false;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n && !found; i++) {
		if (strcmp(m->devs[i]->bdf, bdf) == 0) {
			*level = storm_level(&m->devs[i]->storm);
			*rate = storm_rate(&m->devs[i]->storm);
			found = true;
		}
	}
	pthread_mutex_unlock(&m->mu);
	return found;
}

struct monitor_stats monitor_stats(struct monitor *m)
{
	struct monitor_stats s = { 0 };

	if (!m->running)
		return s;
	pthread_mutex_lock(&m->mu);
	s = m->stats;
	pthread_mutex_unlock(&m->mu);
	return s;
}

unsigned *monitor_vectors(struct monitor *m, const char *bdf, size_t *n)
{
	unsigned *out = NULL;

	*n = 0;
	if (!m->running)
		return NULL;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n && !out; i++) {
		const struct irqmon_dev *irq = &m->devs[i]->irq;

		if (strcmp(m->devs[i]->bdf, bdf) != 0 || !irq->n)
			continue;
		out = vf_xcalloc(irq->n, sizeof(*out));
		*n = irqmon_vectors(irq, out, irq->n, NULL);
	}
	pthread_mutex_unlock(&m->mu);
	return out;
}
