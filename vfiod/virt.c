// SPDX-License-Identifier: GPL-2.0-or-later
#include "virt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "domxml.h"
#include "log.h"
#include "util.h"

#define CONN(v) ((virConnectPtr)(v)->conn)

enum virt_action virt_event_action(int event, int detail)
{
	(void)detail;
	switch (event) {
	case VIR_DOMAIN_EVENT_STOPPED:
		return VIRT_RELEASE;
	case VIR_DOMAIN_EVENT_UNDEFINED:
		return VIRT_CHECK;
	case VIR_DOMAIN_EVENT_STARTED:
		return VIRT_CAP;
	default:
		return VIRT_NONE;
	}
}

const char *virt_action_name(enum virt_action a)
{
	static const char *const names[] = { "none", "release", "check", "cap" };

	return (unsigned)a < VF_ARRAY_SIZE(names) ? names[a] : "?";
}

static void wake(struct virt *v)
{
	mailbox_wake(&v->box);
}

/* libvirt prints every error on stderr by default: vfiod reports them itself. */
static void quiet(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

static const char *last_error(void)
{
	const char *m = virGetLastErrorMessage();

	return m && *m ? m : "unknown libvirt error";
}

/* Runs in the event thread: copy and wake, nothing else. */
static int on_lifecycle(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct virt *v = opaque;
	const char *name = virDomainGetName(dom);
	struct virt_event q = { .action = virt_event_action(event, detail), .event = event,
				.detail = detail };

	(void)c;
	if (!name || q.action == VIRT_NONE)
		return 0;
	snprintf(q.domain, sizeof(q.domain), "%s", name);
	mailbox_post(&v->box, &q); /* full: counted, logged at the drain (a reconcile follows) */
	return 0;
}

static void on_removed(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
	struct virt *v = opaque;
	const char *name = virDomainGetName(dom);

	(void)c;
	pthread_mutex_lock(&v->mu);
	snprintf(v->removed[v->nremoved % 16], sizeof(v->removed[0]), "%s/%s", name ? name : "",
		 alias ? alias : "");
	v->nremoved++;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
}

static void on_close(virConnectPtr c, int reason, void *opaque)
{
	struct virt *v = opaque;

	(void)c;
	pthread_mutex_lock(&v->mu);
	v->closed = true;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	vf_log(LOG_WARNING, "libvirt: connection closed (reason %d)", reason);
	wake(v);
}

/* A timer so that the loop turns at least once a second and sees `stop`. */
static void tick_cb(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

static void *event_thread(void *arg)
{
	struct virt *v = arg;

	for (;;) {
		bool stop;

		pthread_mutex_lock(&v->mu);
		stop = v->stop;
		pthread_mutex_unlock(&v->mu);
		if (stop)
			break;
		if (virEventRunDefaultImpl() < 0)
			usleep(100000);
	}
	return NULL;
}

/*
 * The connection for one call from any thread (a hand-off's worker, or the
 * loop): a reference of the caller's own, so that the loop may close or
 * replace v->conn meanwhile. NULL: not connected. conn_put drops it.
 */
static virConnectPtr conn_get(struct virt *v)
{
	virConnectPtr c;

	pthread_mutex_lock(&v->mu);
	c = v->conn;
	if (c && virConnectRef(c) < 0)
		c = NULL;
	pthread_mutex_unlock(&v->mu);
	return c;
}

static void conn_put(virConnectPtr c)
{
	if (c)
		virConnectClose(c);
}

/* From the loop: v->conn changes under v->mu, so that conn_get sees it whole. */
static void set_conn(struct virt *v, virConnectPtr c)
{
	pthread_mutex_lock(&v->mu);
	v->conn = c;
	pthread_mutex_unlock(&v->mu);
}

static void disconnect(struct virt *v)
{
	virConnectPtr c = CONN(v);

	if (!c)
		return;
	set_conn(v, NULL);
	if (v->cb_life >= 0)
		virConnectDomainEventDeregisterAny(c, v->cb_life);
	if (v->cb_removed >= 0)
		virConnectDomainEventDeregisterAny(c, v->cb_removed);
	virConnectUnregisterCloseCallback(c, on_close);
	/* a worker's call in flight keeps its own reference: the last one closes */
	virConnectClose(c);
	v->cb_life = v->cb_removed = -1;
}

/*
 * A connection being opened off the loop: virConnectOpen has no timeout,
 * and a libvirtd (or anything on its socket) that accepts and never
 * answers would hold it, and the loop with it, for ever. The opener thread
 * opens and sets the keepalive (from then on a stall is noticed within
 * about 15 s); the loop takes the connection when it is ready
 * (virt_tick). Shared by the two; a vfiod that stops while the open still
 * hangs abandons it, and the thread frees it (closing what it opened) if
 * the open ever returns.
 */
struct virt_opening {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done, abandoned;
	virConnectPtr conn;        /* the result; NULL: failed (err says why) */
	char err[256];
	char uri[256];
	struct virt *v;            /* to wake its loop; not touched once abandoned */
};

static void opening_free(struct virt_opening *o)
{
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o);
}

static void *opener_thread(void *arg)
{
	struct virt_opening *o = arg;
	virConnectPtr c = virConnectOpen(o->uri);
	bool abandoned;

	/* a libvirtd that stops answering is noticed within about 15 s */
	if (c && virConnectSetKeepAlive(c, 5, 3) < 0)
		vf_log(LOG_WARNING, "libvirt: no keepalive: %s", last_error());
	pthread_mutex_lock(&o->mu);
	o->done = true;
	o->conn = c;
	if (!c)
		snprintf(o->err, sizeof(o->err), "%s", last_error());
	abandoned = o->abandoned;
	if (!abandoned) {
		wake(o->v);
		pthread_cond_broadcast(&o->cv);
	}
	pthread_mutex_unlock(&o->mu);
	if (abandoned) {
		if (c)
			virConnectClose(c);
		opening_free(o);
	}
	return NULL;
}

/* Starts an opener unless one runs; -1 when no thread can be started. */
static int open_start(struct virt *v)
{
	struct virt_opening *o;
	pthread_t t;

	if (v->opening)
		return 0;
	o = vf_xcalloc(1, sizeof(*o));
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	snprintf(o->uri, sizeof(o->uri), "%s", v->uri);
	o->v = v;
	if (pthread_create(&t, NULL, opener_thread, o) != 0) {
		opening_free(o);
		return -1;
	}
	pthread_detach(t);
	v->opening = o;
	v->open_started = time(NULL);
	return 0;
}

/*
 * The opener's result when it is done (waiting up to `wait_ms` for it):
 * 1 with *c (NULL: the open failed, `err` says why), 0 while it still runs.
 */
static int open_result(struct virt *v, int wait_ms, virConnectPtr *c, char *err, size_t cap)
{
	struct virt_opening *o = v->opening;
	struct timespec until;
	bool done;

	if (!o)
		return 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&o->mu);
	while (!o->done && wait_ms > 0 && pthread_cond_timedwait(&o->cv, &o->mu, &until) == 0)
		;
	done = o->done;
	pthread_mutex_unlock(&o->mu);
	if (!done)
		return 0;
	*c = o->conn;
	snprintf(err, cap, "%s", o->err);
	v->opening = NULL;
	opening_free(o); /* the thread is done with it */
	return 1;
}

/* The loop stops: an opener still hanging is left to free itself. */
static void open_abandon(struct virt *v)
{
	struct virt_opening *o = v->opening;
	bool done;

	if (!o)
		return;
	v->opening = NULL;
	pthread_mutex_lock(&o->mu);
	o->abandoned = true;
	done = o->done;
	pthread_mutex_unlock(&o->mu);
	if (done) {
		if (o->conn)
			virConnectClose(o->conn);
		opening_free(o);
	}
}

/* Takes an opened connection: follows its events. -1: it cannot be used. */
static int connect_take(struct virt *v, virConnectPtr c)
{
	v->next_try = time(NULL) + VIRT_RETRY_S;
	pthread_mutex_lock(&v->mu);
	v->conn = c;
	v->closed = false;
	pthread_mutex_unlock(&v->mu);
	if (virConnectRegisterCloseCallback(c, on_close, v, NULL) < 0)
		vf_log(LOG_WARNING, "libvirt: no close callback: %s", last_error());
	v->cb_life = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), v, NULL);
	v->cb_removed = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
							 VIR_DOMAIN_EVENT_CALLBACK(on_removed), v, NULL);
	if (v->cb_life < 0 || v->cb_removed < 0) {
		vf_log(LOG_WARNING, "libvirt: cannot follow domain events: %s", last_error());
		disconnect(v);
		return -1;
	}
	return 0;
}

int virt_init(struct virt *v, const char *uri, struct vf_err *e)
{
	static bool registered;

	snprintf(v->uri, sizeof(v->uri), "%s", uri);
	v->cb_life = v->cb_removed = -1;
	domxml_init();
	if (mailbox_init(&v->box, sizeof(struct virt_event), VIRT_QUEUE, e) < 0)
		return vf_err_wrap(e, "libvirt");
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	virSetErrorFunc(NULL, quiet);
	if (!registered) {
		if (virEventRegisterDefaultImpl() < 0)
			return vf_err_set(e, 0, "libvirt: no event loop: %s", last_error());
		registered = true;
	}
	if (virEventAddTimeout(1000, tick_cb, NULL, NULL) < 0)
		return vf_err_set(e, 0, "libvirt: no event timer: %s", last_error());
	if (pthread_create(&v->thread, NULL, event_thread, v) != 0)
		return vf_err_set(e, EAGAIN, "libvirt: cannot start the event thread");
	v->thread_started = true;
	/* opened off the loop; a libvirtd that answers is waited for a moment, one that does not is not */
	if (open_start(v) < 0)
		return vf_err_set(e, EAGAIN, "libvirt: cannot start a thread to connect");
	if (virt_take_opened(v, VIRT_OPEN_WAIT_MS) == 0 && v->opening)
		vf_log(LOG_WARNING,
		       "libvirt: %s does not answer yet: vfiod serves without it and takes the connection when it comes",
		       v->uri);
	return 0;
}

void virt_fini(struct virt *v)
{
	if (!v->box.slots && !v->thread_started)
		return;
	open_abandon(v);
	disconnect(v);
	if (v->thread_started) {
		pthread_mutex_lock(&v->mu);
		v->stop = true;
		pthread_mutex_unlock(&v->mu);
		pthread_join(v->thread, NULL);
		v->thread_started = false;
	}
	for (size_t i = 0; i < v->nsaved; i++)
		virTypedParamsFree(v->saved[i].params, v->saved[i].n);
	free(v->saved);
	v->saved = NULL;
	v->nsaved = 0;
	mailbox_fini(&v->box);
}

bool virt_connected(const struct virt *v)
{
	return v->conn != NULL;
}

int virt_tick(struct virt *v)
{
	bool closed;

	if (!v->box.slots)
		return 0;
	mailbox_ack(&v->box);
	pthread_mutex_lock(&v->mu);
	closed = v->closed;
	pthread_mutex_unlock(&v->mu);
	if (v->conn && (closed || virConnectIsAlive(CONN(v)) != 1)) {
		vf_log(LOG_WARNING, "libvirt: lost %s: reconnecting every %d s", v->uri, VIRT_RETRY_S);
		disconnect(v);
		v->next_try = time(NULL) + VIRT_RETRY_S;
	}
	if (v->conn)
		return 0;
	if (!v->opening && time(NULL) >= v->next_try && open_start(v) < 0)
		v->next_try = time(NULL) + VIRT_RETRY_S;
	return virt_take_opened(v, 0);
}

int virt_take_opened(struct virt *v, int wait_ms)
{
	virConnectPtr c = NULL;
	char err[256];

	if (open_result(v, wait_ms, &c, err, sizeof(err)) == 0) {
		if (v->opening && !v->open_told && time(NULL) - v->open_started >= VIRT_RETRY_S) {
			vf_log(LOG_WARNING, "libvirt: %s accepted but has not answered for %d s: still waiting, without stopping anything",
			       v->uri, VIRT_RETRY_S);
			v->open_told = true;
		}
		return 0;
	}
	v->open_told = false;
	v->next_try = time(NULL) + VIRT_RETRY_S;
	if (!c) {
		if (!v->unreachable_told)
			vf_log(LOG_WARNING, "libvirt: %s unreachable (%s): retrying every %d s", v->uri,
			       err, VIRT_RETRY_S);
		v->unreachable_told = true;
		return 0;
	}
	if (connect_take(v, c) < 0)
		return 0;
	vf_log(LOG_NOTICE, "libvirt: connected to %s", v->uri);
	v->unreachable_told = false;
	v->connected_once = true;
	return 1;
}

size_t virt_drain(struct virt *v, struct virt_event *out, size_t max)
{
	uint64_t dropped = 0;
	size_t n = mailbox_drain(&v->box, out, max, &dropped);

	if (dropped)
		vf_log(LOG_WARNING, "libvirt: %llu domain events dropped (queue full)",
		       (unsigned long long)dropped);
	return n;
}

/*
 * The domain on connection `c` (NULL: not connected), or NULL: *gone is true
 * when libvirt says there is no such domain.
 */
static virDomainPtr lookup(struct virt *v, virConnectPtr c, const char *name, bool *gone,
			   struct vf_err *e)
{
	virDomainPtr d;

	*gone = false;
	if (!c) {
		vf_err_refuse(e, "libvirt-unavailable", "libvirt (%s) cannot be reached", v->uri);
		return NULL;
	}
	d = virDomainLookupByName(c, name);
	if (d)
		return d;
	if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
		*gone = true;
		vf_err_refuse(e, "not-found", "libvirt has no domain %s", name);
	} else {
		vf_err_refuse(e, "libvirt-unavailable", "libvirt: %s", last_error());
	}
	return NULL;
}

static char *dom_xml(virDomainPtr d, bool inactive, struct vf_err *e)
{
	char *x = virDomainGetXMLDesc(d, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);

	if (!x)
		vf_err_set(e, 0, "libvirt: cannot read the domain's XML: %s", last_error());
	return x;
}

/* 1, 0, or -1: whether `host` is in the live (or inactive) definition. */
static int in_xml(virDomainPtr d, bool inactive, const struct vf_bdf *host, struct vf_err *e)
{
	char *x = dom_xml(d, inactive, e);
	int r;

	if (!x)
		return -1;
	r = domxml_has_hostdev(x, host, e);
	free(x);
	return r;
}

/* Free root ports in every definition the attach touches. */
static int free_ports(virDomainPtr d, unsigned flags, unsigned *idx, size_t max, struct vf_err *e)
{
	unsigned a[DOMXML_MAX_PORTS], b[DOMXML_MAX_PORTS];
	int na = -1, nb = -1, n = 0;
	char *x;

	if (flags & VIRT_LIVE) {
		if (!(x = dom_xml(d, false, e)))
			return -1;
		na = domxml_free_ports(x, a, VF_ARRAY_SIZE(a), e);
		free(x);
		if (na < 0)
			return -1;
	}
	if (flags & VIRT_CONFIG) {
		if (!(x = dom_xml(d, true, e)))
			return -1;
		nb = domxml_free_ports(x, b, VF_ARRAY_SIZE(b), e);
		free(x);
		if (nb < 0)
			return -1;
	}
	if (na < 0 && nb >= 0) {
		memcpy(a, b, (size_t)nb * sizeof(*a));
		na = nb;
	}
	for (int i = 0; i < na && (size_t)n < max; i++) {
		bool both = nb < 0;

		for (int k = 0; k < nb && !both; k++)
			both = b[k] == a[i];
		if (both)
			idx[n++] = a[i];
	}
	return n;
}

static unsigned affect(unsigned flags)
{
	return ((flags & VIRT_LIVE) ? VIR_DOMAIN_AFFECT_LIVE : 0) |
	       ((flags & VIRT_CONFIG) ? VIR_DOMAIN_AFFECT_CONFIG : 0);
}

/*
 * Waits until `host` has left the running domain: the device-removed event
 * for its alias, or the live XML without it (read every half second, in
 * case the event went missing with a reconnection). `cancellable`: gives
 * up at once when virt_stop_waiting() was called (vfiod is stopping).
 */
static int wait_gone(struct virt *v, virDomainPtr d, const char *name, const struct vf_bdf *host,
		     unsigned seen, bool cancellable, struct vf_err *e)
{
	char bdf[VF_BDF_LEN], alias[DOMXML_ALIAS_LEN], want[VIRT_NAME_LEN * 2];
	struct timespec until, now;

	vf_bdf_format(host, bdf);
	domxml_alias(bdf, alias);
	snprintf(want, sizeof(want), "%s/%s", name, alias);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += VIRT_DETACH_TIMEOUT_S;
	for (;;) {
		struct timespec half;
		bool hit = false, quit, closed;
		int r;

		pthread_mutex_lock(&v->mu);
		for (; seen < v->nremoved; seen++)
			hit |= strcmp(v->removed[seen % 16], want) == 0;
		quit = cancellable && v->quit_waits;
		closed = v->closed;
		if (!hit && !closed && !quit) {
			clock_gettime(CLOCK_REALTIME, &half);
			half.tv_nsec += 500000000L;
			if (half.tv_nsec >= 1000000000L) {
				half.tv_sec++;
				half.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&v->cv, &v->mu, &half);
		}
		pthread_mutex_unlock(&v->mu);
		if (hit)
			return 0;
		if (quit)
			return vf_err_refuse(e, "timeout",
					     "%s: vfiod is stopping and no longer waits for domain %s to let go of it",
					     bdf, name);
		/* nothing more will come on this connection: no busy loop of failing calls */
		if (closed)
			return vf_err_refuse(e, "libvirt-unavailable",
					     "libvirt (%s) went away while %s was leaving domain %s",
					     v->uri, bdf, name);
		r = virDomainIsActive(d);
		if (r == 0)
			return 0; /* it stopped: nothing holds the device */
		if (r == 1 && in_xml(d, false, host, e) == 0)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > until.tv_sec ||
		    (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec))
			return vf_err_refuse(e, "timeout",
					     "%s did not leave domain %s within %d s (the guest has not let go of it)",
					     bdf, name, VIRT_DETACH_TIMEOUT_S);
	}
}

/*
 * Detaches one device from whichever of the live and persistent definitions
 * hold it (`cancellable` as wait_gone's).
 */
static int detach_one(struct virt *v, virDomainPtr d, const char *name, const struct vf_bdf *host,
		      bool cancellable, struct vf_err *e)
{
	char *xml = domxml_hostdev(host, NULL);
	int active = virDomainIsActive(d), persistent = virDomainIsPersistent(d);
	int rc = 0;

	if (active < 0 || persistent < 0) {
		free(xml);
		return vf_err_set(e, 0, "libvirt: domain %s: %s", name, last_error());
	}
	if (active == 1) {
		int here = in_xml(d, false, host, e);
		unsigned seen;

		pthread_mutex_lock(&v->mu);
		seen = v->nremoved;
		pthread_mutex_unlock(&v->mu);
		if (here < 0)
			rc = -1;
		else if (here == 1 && virDomainDetachDeviceFlags(d, xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
			rc = vf_err_set(e, 0, "libvirt: detach from %s: %s", name, last_error());
		else if (here == 1)
			rc = wait_gone(v, d, name, host, seen, cancellable, e);
	}
	if (rc == 0 && persistent == 1) {
		int here = in_xml(d, true, host, e);

		if (here < 0)
			rc = -1;
		else if (here == 1 && virDomainDetachDeviceFlags(d, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0)
			rc = vf_err_set(e, 0, "libvirt: remove from %s's definition: %s", name,
					last_error());
	}
	free(xml);
	return rc;
}

int virt_attach(struct virt *v, const char *name, const struct vf_bdf *host, size_t n,
		const struct vf_bdf *guest, unsigned flags, struct vf_err *e)
{
	unsigned ports[DOMXML_MAX_PORTS];
	virConnectPtr c = conn_get(v);
	virDomainPtr d;
	bool gone;
	int active, persistent, nports = 0;
	size_t done = 0;
	int rc = 0;

	if (!(d = lookup(v, c, name, &gone, e))) {
		conn_put(c);
		return -1;
	}
	active = virDomainIsActive(d);
	persistent = virDomainIsPersistent(d);
	if (active < 0 || persistent < 0) {
		virDomainFree(d);
		conn_put(c);
		return vf_err_set(e, 0, "libvirt: domain %s: %s", name, last_error());
	}
	if (!flags)
		flags = active ? VIRT_LIVE : VIRT_CONFIG;
	if ((flags & VIRT_LIVE) && !active)
		rc = vf_err_refuse(e, "bad-request", "domain %s is not running (use --config)", name);
	else if ((flags & VIRT_CONFIG) && !persistent)
		rc = vf_err_refuse(e, "bad-request",
				   "domain %s is transient: it has no definition to change (drop --config)",
				   name);
	else if (flags == VIRT_CONFIG && active)
		/* a stop ends the assignment: it would be lost before it began */
		rc = vf_err_refuse(e, "bad-request",
				   "domain %s is running: --config alone would hand the device over at its next start, but vfiod ends an assignment when the domain stops; use --live --config, or stop the domain first",
				   name);
	if (rc == 0 && !guest) {
		nports = free_ports(d, flags, ports, VF_ARRAY_SIZE(ports), e);
		if (nports < 0)
			rc = -1;
		else if ((size_t)nports < n)
			rc = vf_err_refuse(e, "no-guest-port",
					   "domain %s has %d free pcie-root-port%s and the unit needs %zu: add root ports to the domain or give a guest address",
					   name, nports, nports == 1 ? "" : "s", n);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct vf_bdf g = { 0, (uint8_t)(guest ? 0 : ports[i]), 0, 0 };
		char *xml;

		if (guest)
			g = *guest;
		xml = domxml_hostdev(&host[i], &g);
		if (virDomainAttachDeviceFlags(d, xml, affect(flags)) < 0) {
			char bdf[VF_BDF_LEN];

			vf_bdf_format(&host[i], bdf);
			rc = vf_err_set(e, 0, "libvirt: attach %s to %s: %s", bdf, name, last_error());
		} else {
			done++;
		}
		free(xml);
	}
	if (rc < 0) {
		/* all or nothing: what went in comes out (waited for even when vfiod stops) */
		for (size_t i = 0; i < done; i++) {
			struct vf_err ue = { 0 };

			if (detach_one(v, d, name, &host[i], false, &ue) < 0)
				vf_err_append(e, "; and undoing it failed: %s", ue.msg);
		}
	}
	virDomainFree(d);
	conn_put(c);
	return rc;
}

int virt_detach(struct virt *v, const char *name, const struct vf_bdf *host, size_t n,
		struct vf_err *e)
{
	virConnectPtr c = conn_get(v);
	virDomainPtr d;
	bool gone;
	int rc = 0;

	if (!(d = lookup(v, c, name, &gone, e))) {
		conn_put(c);
		return gone ? 0 : -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = detach_one(v, d, name, &host[i], true, e);
	virDomainFree(d);
	conn_put(c);
	return rc;
}

void virt_stop_waiting(struct virt *v)
{
	pthread_mutex_lock(&v->mu);
	v->quit_waits = true;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
}

int virt_exists(struct virt *v, const char *name, struct vf_err *e)
{
	bool gone;
	virDomainPtr d = lookup(v, CONN(v), name, &gone, e);

	if (!d)
		return gone ? 0 : -1;
	virDomainFree(d);
	return 1;
}

int virt_holds(struct virt *v, const char *name, const struct vf_bdf *host, bool *running,
	       struct vf_err *e)
{
	bool gone;
	virDomainPtr d = lookup(v, CONN(v), name, &gone, e);
	int active, persistent, r = 0;

	if (running)
		*running = false;
	if (!d)
		return gone ? 0 : -1;
	active = virDomainIsActive(d);
	persistent = virDomainIsPersistent(d);
	if (active < 0 || persistent < 0)
		r = vf_err_set(e, 0, "libvirt: domain %s: %s", name, last_error());
	if (r == 0 && active == 1)
		r = in_xml(d, false, host, e);
	if (r == 0 && persistent == 1)
		r = in_xml(d, true, host, e);
	if (running)
		*running = active == 1;
	virDomainFree(d);
	return r;
}

static struct virt_saved *saved_for(struct virt *v, const char *name)
{
	for (size_t i = 0; i < v->nsaved; i++)
		if (strcmp(v->saved[i].domain, name) == 0)
			return &v->saved[i];
	return NULL;
}

static const char *const sched_fields[] = {
	VIR_DOMAIN_SCHEDULER_GLOBAL_PERIOD,   VIR_DOMAIN_SCHEDULER_GLOBAL_QUOTA,
	VIR_DOMAIN_SCHEDULER_VCPU_PERIOD,     VIR_DOMAIN_SCHEDULER_VCPU_QUOTA,
	VIR_DOMAIN_SCHEDULER_EMULATOR_PERIOD, VIR_DOMAIN_SCHEDULER_EMULATOR_QUOTA,
};

/* Keeps the values vfiod is about to change, once per domain. */
static void save_sched(struct virt *v, virDomainPtr d, const char *name)
{
	virTypedParameterPtr all = NULL, keep = NULL;
	int n = 0, nkeep = 0, maxkeep = 0;
	char *type;

	if (saved_for(v, name))
		return;
	type = virDomainGetSchedulerType(d, &n);
	free(type);
	if (n <= 0)
		return;
	all = vf_xcalloc((size_t)n, sizeof(*all));
	if (virDomainGetSchedulerParametersFlags(d, all, &n, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		free(all);
		return;
	}
	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < VF_ARRAY_SIZE(sched_fields); k++)
			if (strcmp(all[i].field, sched_fields[k]) == 0) {
				if (all[i].type == VIR_TYPED_PARAM_ULLONG)
					virTypedParamsAddULLong(&keep, &nkeep, &maxkeep, all[i].field,
								all[i].value.ul);
				else if (all[i].type == VIR_TYPED_PARAM_LLONG)
					virTypedParamsAddLLong(&keep, &nkeep, &maxkeep, all[i].field,
							       all[i].value.l);
			}
	virTypedParamsFree(all, n);
	v->saved = vf_xreallocarray(v->saved, v->nsaved + 1, sizeof(*v->saved));
	snprintf(v->saved[v->nsaved].domain, sizeof(v->saved[0].domain), "%s", name);
	v->saved[v->nsaved].params = keep;
	v->saved[v->nsaved].n = nkeep;
	v->nsaved++;
}

int virt_cap(struct virt *v, const char *name, unsigned percent, struct vf_err *e)
{
	virTypedParameterPtr p = NULL;
	int np = 0, maxp = 0, rc = 0;
	const unsigned long long period = 100000;
	long long quota = (long long)percent * (long long)period / 100;
	long long vcpu = (long long)(percent < 100 ? percent : 100) * (long long)period / 100;
	virDomainPtr d;
	bool gone;

	if (!(d = lookup(v, CONN(v), name, &gone, e)))
		return -1;
	if (virDomainIsActive(d) != 1) {
		virDomainFree(d);
		return 0; /* capped when it starts */
	}
	save_sched(v, d, name);
	if (quota < 1000)
		quota = 1000; /* the kernel's smallest quota is 1 ms */
	if (vcpu < 1000)
		vcpu = 1000;
	virTypedParamsAddULLong(&p, &np, &maxp, VIR_DOMAIN_SCHEDULER_GLOBAL_PERIOD, period);
	virTypedParamsAddLLong(&p, &np, &maxp, VIR_DOMAIN_SCHEDULER_GLOBAL_QUOTA, quota);
	virTypedParamsAddULLong(&p, &np, &maxp, VIR_DOMAIN_SCHEDULER_VCPU_PERIOD, period);
	virTypedParamsAddLLong(&p, &np, &maxp, VIR_DOMAIN_SCHEDULER_VCPU_QUOTA, vcpu);
	virTypedParamsAddULLong(&p, &np, &maxp, VIR_DOMAIN_SCHEDULER_EMULATOR_PERIOD, period);
	virTypedParamsAddLLong(&p, &np, &maxp, VIR_DOMAIN_SCHEDULER_EMULATOR_QUOTA, quota);
	if (virDomainSetSchedulerParametersFlags(d, p, np, VIR_DOMAIN_AFFECT_LIVE) < 0)
		rc = vf_err_set(e, 0, "libvirt: cannot cap domain %s: %s", name, last_error());
	virTypedParamsFree(p, np);
	virDomainFree(d);
	return rc;
}

int virt_uncap(struct virt *v, const char *name, struct vf_err *e)
{
	struct virt_saved *s = saved_for(v, name);
	virDomainPtr d;
	bool gone;
	int rc = 0;

	if (!s)
		return 0;
	d = lookup(v, CONN(v), name, &gone, e);
	if (d && virDomainIsActive(d) == 1 &&
	    virDomainSetSchedulerParametersFlags(d, s->params, s->n, VIR_DOMAIN_AFFECT_LIVE) < 0)
		rc = vf_err_set(e, 0, "libvirt: cannot restore domain %s's CPU limits: %s", name,
				last_error());
	if (d)
		virDomainFree(d);
	else if (!gone)
		return -1;
	if (rc == 0) {
		virTypedParamsFree(s->params, s->n);
		*s = v->saved[--v->nsaved];
	}
	return rc;
}
