// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "authz.h"
#include "engine.h"
#include "cgroup.h"
#include "consumers.h"
#include "control.h"
#include "events.h"
#include "handoff.h"
#include "inject.h"
#include "hostwatch.h"
#include "hotplug.h"
#include "inventory.h"
#include "irqbal.h"
#include "log.h"
#include "monitor.h"
#include "proc.h"
#include "proto.h"
#include "render.h"
#include "view.h"
#include "virt.h"

#ifndef VFIOD_VERSION
#define VFIOD_VERSION "0.1.0"
#endif

#define DAEMON_MAX_PENDING ENGINE_MAX_OPS
/* the poll set: signals, hotplug, the monitor, libvirt, the host watch (3); then clients, then pending */
#define NFIXED (4 + HOSTWATCH_NFDS)
/* the view's consistency sweep: a round in about this many seconds, at least this many devices a second */
#define VIEW_ROUND_S 60
#define VIEW_SWEEP_MIN 8

struct daemon {
	const struct daemon_opts *o;
	struct hostfs h;
	int lock_fd;                 /* the state directory's lock, held while we run */
	struct store store;
	struct policy policy;
	struct authz_groups groups;  /* the policy's group names, resolved */
	struct pci_names *names;
	struct engine engine;
	struct control control;
	struct events events;
	struct hotplug hotplug;
	struct view view;          /* the inventory, kept current (view.h) */
	/* the list answer, serialized once per view generation and store contents */
	struct {
		struct vf_json_text *text;
		uint64_t gen, store_hash;
		size_t store_n;
	} list_cache;
	struct hostwatch watch;    /* mounts, swaps, routes: the host-critical facts' sources */
	time_t last_sweep;
	struct monitor monitor;
	struct devcg_set cgs;      /* each owned device's CPU cgroups (real root only) */
	struct consumers consumers; /* consumers that change outside requests */
	bool cgroups;              /* CPU containment available here */
	time_t last_attach;
	time_t started;
	/* each owned device's policy class, as of the last sync_monitor */
	char (*cls_bdf)[VF_BDF_LEN];
	const struct policy_class **cls;
	size_t n_cls;
	bool holders_changed;      /* attach_threads recorded or released a holder */
	struct virt virt;          /* libvirt: VM handoff, domain events */
	bool virt_on;
	/*
	 * Operations in flight (engine.h): a live injection or its undoing (a
	 * child working in a target's /dev, inject.h), a VM assign, release or
	 * quarantine (a thread making the libvirt call, which may wait for a
	 * guest). The loop serves others meanwhile; the client gets the reply
	 * when the operation reports (or a child's deadline passes). Its unit
	 * refuses every other operation (the engine says "busy"); what the loop
	 * would do to the unit or its domain on its own meanwhile (the storm
	 * ladder's quarantine, libvirt's domain events) waits for the end.
	 */
	struct pending {
		struct engine_op *op;
		uint64_t client;        /* 0: the storm ladder's own quarantine, no one to answer */
		uint64_t ladder_rate;   /* that quarantine: the rate that escalated it */
		struct json_object *id; /* the request's id, owned */
		uid_t uid;
		char storm_bdf[VF_BDF_LEN]; /* the storm ladder asked to quarantine it meanwhile */
		uint64_t storm_rate;
	} pend[DAEMON_MAX_PENDING];
	size_t n_pend;
	struct engine_op *deferred; /* set by perform: the reply is deferred */
	struct virt_event held[32]; /* domain events about a domain with a hand-off in flight */
	size_t n_held;
	bool stopping;             /* SIGTERM: in-flight operations end, nothing new starts */
	struct levers levers;      /* what a throttle can do here (under the cgs lock) */
	struct irqbal irqbal;      /* irqbalance kept off steered vectors (with cgroups) */
	time_t last_irqbal;
};

/* show: the inventory's device with what vfiod and its monitor know of it */
static struct json_object *op_show(struct daemon *d, const struct inventory *inv,
				   const char *bdf, struct vf_err *e)
{
	struct render_watch w = { 0 };

	w.watched = monitor_device(&d->monitor, bdf, &w.level, &w.rate);
	return render_show(inv, &d->store, bdf, &w, e);
}

static struct json_object *op_status(struct daemon *d, const struct inventory *inv)
{
	struct monitor_stats ms = monitor_stats(&d->monitor);
	struct levers lv;
	struct render_status s = {
		.version = VFIOD_VERSION,
		.pid = getpid(),
		.uptime_s = time(NULL) - d->started,
		.sysroot = d->o->sysroot,
		.state_dir = d->o->state_dir,
		.socket = d->o->socket,
		.interval_ms = ms.interval_ms,
		.samples = ms.samples,
		.late = ms.late,
		.max_late_us = ms.max_late_us,
		.libvirt_on = d->virt_on,
		.libvirt_uri = d->virt.uri,
		.libvirt_connected = d->virt_on && virt_connected(&d->virt),
		.view = &d->view.stats,
		.view_gen = d->view.gen,
	};
	char watching[96];

	snprintf(watching, sizeof(watching), "%s%s%s%sa sweep every %d s",
		 hotplug_fd(&d->hotplug) >= 0 ? "uevents, " : "",
		 d->watch.mounts_fd >= 0 ? "mounts, " : "", d->watch.swaps_fd >= 0 ? "swaps, " : "",
		 d->watch.nl_fd >= 0 ? "routes and links, " : "", VIEW_ROUND_S);
	s.view_watching = watching;

	if (d->cgroups) {
		devcg_set_lock(&d->cgs);
		lv = d->levers;
		devcg_set_unlock(&d->cgs);
		s.levers = &lv;
	}
	return render_status(inv, &d->store, &s);
}

/* A device left the set: its vectors' affinity is back (or they are gone), irqbalance's again. */
static void cg_gone(void *ctx, const char *bdf)
{
	struct daemon *d = ctx;
	struct vf_err e = { 0 };

	if (irqbal_release(&d->irqbal, bdf, &e) < 0)
		vf_log(LOG_WARNING, "%s: %s", bdf, e.msg);
}

/* Every owned device gets its cgroups with the class's static caps; the others lose them. */
static void sync_cgroups(struct daemon *d, const char (*bdfs)[VF_BDF_LEN],
			 const struct policy_class **cls, size_t n)
{
	struct devcg_set_member *m;

	if (!d->cgroups)
		return;
	m = vf_xcalloc(n + 1, sizeof(*m));
	for (size_t k = 0; k < n; k++)
		m[k] = (struct devcg_set_member){ bdfs[k], cls[k]->irq_cpu_max, cls[k]->vmm_cpu_max };
	devcg_set_sync(&d->cgs, m, n, &d->policy, cg_gone, d);
	free(m);
}

static void sync_monitor(struct daemon *d);
static void mark_moved(struct daemon *d, const char *bdf);

/*
 * What the attach calls learned about the kernel's levers; a change is
 * logged with the new sentence. Called with the cgs lock held.
 */
static void levers_note(struct daemon *d, const struct devcg_report *r)
{
	struct levers before = d->levers;
	char s[1024];

	devcg_learn_levers(r, &d->levers);
	if (memcmp(&before, &d->levers, sizeof(before)) == 0)
		return;
	levers_sentence(&d->levers, s, sizeof(s));
	vf_log(LOG_NOTICE, "containment levers: %s", s);
}

/*
 * Every few seconds: IRQ threads and VMM threads into their cgroups (new
 * vCPU threads, a consumer that just opened the device). Lock order: the
 * monitor thread holds its own mutex and then takes the cgs lock
 * (throttle), so the vectors are fetched from the monitor before that lock
 * is taken. Only the main loop changes the set, so walking it needs no lock.
 */
static void attach_threads(struct daemon *d)
{
	if (!d->cgroups || time(NULL) - d->last_attach < 2)
		return;
	d->last_attach = time(NULL);
	for (size_t i = 0; i < d->cgs.n; i++) {
		struct devcg_report r = { 0 };
		struct vf_err e = { 0 };
		unsigned *vec;
		size_t nv, nh = 0;
		pid_t holders[16];
		char comm[16] = "";
		bool scanned = false;
		char bdf[VF_BDF_LEN];
		const struct dev_rec *rec;
		int group;

		snprintf(bdf, sizeof(bdf), "%s", d->cgs.v[i].bdf);
		vec = monitor_vectors(&d->monitor, bdf, &nv);
		rec = store_find(&d->store, bdf);
		/* libvirt owns a domain's cgroups: it is capped through libvirt */
		group = rec && consumers_vm_of(rec) ? -1 : engine_device_group(&d->engine, bdf);
		devcg_set_lock(&d->cgs);
		if (d->cgs.v[i].ready) {
			if (nv && devcg_attach_irq_threads(&d->cgs.v[i], &d->h, vec, nv, &r, &e) < 0)
				vf_log(LOG_WARNING, "%s: IRQ threads: %s", bdf, e.msg);
			levers_note(d, &r);
			devcg_report_free(&r);
			memset(&r, 0, sizeof(r));
			/* a scan that failed says nothing about who holds it: a recorded
			 * holder is not taken to have let go */
			if (group >= 0) {
				int rc = devcg_attach_holders(&d->cgs.v[i], &d->h, group, &r, &e);

				if (rc < 0)
					vf_log(LOG_WARNING, "%s: VMM threads: %s", bdf, e.msg);
				/* a failed move still names its holder; a failed scan names none */
				scanned = rc == 0 || r.n_holders > 0;
			}
			for (size_t k = 0; k < r.n_holders && nh < VF_ARRAY_SIZE(holders); k++)
				holders[nh++] = r.holders[k].pid;
			if (r.n_holders)
				snprintf(comm, sizeof(comm), "%s", r.holders[0].comm);
			devcg_report_free(&r);
		}
		devcg_set_unlock(&d->cgs);
		free(vec);
		if (scanned)
			d->holders_changed |=
				consumers_note_holders(&d->consumers, bdf, holders, nh, comm) > 0;
	}
	/* not inside the loop: it may change the array the loop walks */
	if (d->holders_changed) {
		d->holders_changed = false;
		sync_monitor(d);
	}
}

/* Monitor ops, run in the monitor thread: tighter caps and steered IRQs. */
static int cg_throttle(void *ctx, const char *bdf, const struct policy_class *cls,
		       const struct policy *pol, const unsigned *vectors, size_t n, struct vf_err *e)
{
	struct daemon *d = ctx;
	struct devcg *c;
	int rc = -1;

	devcg_set_lock(&d->cgs);
	c = devcg_set_find(&d->cgs, bdf);
	if (!c || !c->ready)
		vf_err_set(e, 0, "%s has no CPU cgroups", bdf);
	else if (devcg_set_caps(c, cls->storm_irq_cpu_max, cls->storm_vmm_cpu_max, e) == 0) {
		struct vf_err ie = { 0 };

		/* banned first: irqbalance must not move them back once steered */
		if (d->levers.steer && n && irqbal_hold(&d->irqbal, bdf, vectors, n, &ie) < 0)
			vf_log(LOG_WARNING, "%s: steered vectors not banned from irqbalance: %s", bdf,
			       ie.msg);
		rc = devcg_steer_irqs(c, &d->h, vectors, n, pol, e);
		/* a vector that took (or refused) its new affinity says what this kernel allows */
		if (d->levers.steer && n)
			levers_learn(&d->levers.irq_affinity, &d->levers.irq_affinity_err,
				     rc < 0 ? (e->errnum ? e->errnum : EIO) : 0);
	}
	devcg_set_unlock(&d->cgs);
	return rc;
}

static int cg_unthrottle(void *ctx, const char *bdf, const struct policy_class *cls,
			 const struct policy *pol, const unsigned *vectors, size_t n,
			 struct vf_err *e)
{
	struct daemon *d = ctx;
	struct devcg *c;
	int rc = -1;

	(void)pol;
	(void)vectors;
	(void)n;
	devcg_set_lock(&d->cgs);
	c = devcg_set_find(&d->cgs, bdf);
	if (!c || !c->ready)
		vf_err_set(e, 0, "%s has no CPU cgroups", bdf);
	else if (devcg_set_caps(c, cls->irq_cpu_max, cls->vmm_cpu_max, e) == 0 &&
		 devcg_restore_irqs(c, &d->h, e) == 0)
		rc = 0;
	if (c) {
		struct vf_err ie = { 0 };

		/* restored (or given up on): irqbalance may balance them again */
		if (irqbal_release(&d->irqbal, bdf, &ie) < 0)
			vf_log(LOG_WARNING, "%s: irqbalance: %s", bdf, ie.msg);
	}
	devcg_set_unlock(&d->cgs);
	return rc;
}

static const struct monitor_ops cg_ops = { cg_throttle, cg_unthrottle };

/*
 * Every second: irqbalance started, stopped or restarted (a retry of the
 * bans it missed), and what status says about it.
 */
static void irqbal_note(struct daemon *d, bool force)
{
	char why[sizeof(d->levers.irqbalance_why)], s[1024];
	enum irqbal_state st;
	bool changed;

	if (!d->cgroups || (!force && time(NULL) == d->last_irqbal))
		return;
	d->last_irqbal = time(NULL);
	irqbal_tick(&d->irqbal);
	st = irqbal_state(&d->irqbal, why, sizeof(why));
	devcg_set_lock(&d->cgs);
	changed = d->levers.irqbalance != st || strcmp(d->levers.irqbalance_why, why) != 0;
	d->levers.irqbalance = st;
	memcpy(d->levers.irqbalance_why, why, sizeof(why));
	levers_sentence(&d->levers, s, sizeof(s));
	devcg_set_unlock(&d->cgs);
	if (changed)
		vf_log(st == IRQBAL_UNTOLD ? LOG_WARNING : LOG_NOTICE, "containment levers: %s", s);
}

/* The monitor watches every owned device, with its policy class. */
static void sync_monitor(struct daemon *d)
{
	char (*bdfs)[VF_BDF_LEN] = vf_xcalloc(d->store.n, sizeof(*bdfs));
	const struct policy_class **cls = vf_xcalloc(d->store.n, sizeof(*cls));
	bool *held = vf_xcalloc(d->store.n, sizeof(*held));
	const struct inventory *inv = view_get(&d->view);

	for (size_t i = 0; i < d->store.n; i++) {
		const struct dev_rec *r = &d->store.devs[i];
		int k = inventory_find(inv, r->bdf);
		const struct pci_dev_info *p = k >= 0 ? &inv->pci.devs[k] : NULL;

		snprintf(bdfs[i], VF_BDF_LEN, "%s", r->bdf);
		cls[i] = p && p->ids_ok ? policy_class_for(&d->policy, p->vendor, p->device, p->class)
					: &policy_default_class;
		held[i] = r->state == DEV_QUARANTINED;
	}
	monitor_set(&d->monitor, (const char(*)[VF_BDF_LEN])bdfs, cls, held, d->store.n);
	sync_cgroups(d, (const char(*)[VF_BDF_LEN])bdfs, cls, d->store.n);
	free(d->cls_bdf);
	free(d->cls);
	d->cls_bdf = bdfs;
	d->cls = cls;
	d->n_cls = d->store.n;
	free(held);
}

static const struct policy_class *class_of(const struct daemon *d, const char *bdf)
{
	for (size_t i = 0; i < d->n_cls; i++)
		if (strcmp(d->cls_bdf[i], bdf) == 0)
			return d->cls[i];
	return &policy_default_class;
}

/* ---- VMs through libvirt ---- */

static int vm_attach(void *ctx, const char *domain, const struct vf_bdf *host, size_t n,
		     const struct vf_bdf *guest, unsigned flags, struct vf_err *e)
{
	struct daemon *d = ctx;

	return virt_attach(&d->virt, domain, host, n, guest, flags, e);
}

static int vm_detach(void *ctx, const char *domain, const struct vf_bdf *host, size_t n,
		     struct vf_err *e)
{
	struct daemon *d = ctx;

	return virt_detach(&d->virt, domain, host, n, e);
}

static const struct engine_vm_ops vm_ops = { vm_attach, vm_detach };

/*
 * Caps domain `name` through libvirt with the tightest VMM cap among the
 * devices it holds (their storm cap while one is throttled), or gives it
 * back its own limits when it holds none any more.
 */
static const struct policy_class *class_cb(void *ctx, const char *bdf)
{
	return class_of(ctx, bdf);
}

static void vm_recap(struct daemon *d, const char *name)
{
	struct vf_err e = { 0 };
	char dom[VIRT_NAME_LEN];
	unsigned pct;

	if (!d->virt_on)
		return;
	snprintf(dom, sizeof(dom), "%s", name);
	pct = consumers_vm_cap(&d->store, dom, class_cb, d);
	if (pct ? virt_cap(&d->virt, dom, pct, &e) < 0 : virt_uncap(&d->virt, dom, &e) < 0)
		events_emit(&d->events, "cap", NULL, "domain %s: %s", dom, e.msg);
	else if (pct)
		vf_log(LOG_INFO, "domain %s capped at %u%% of a CPU", dom, pct);
}

/* Every unit assigned to domain `name` comes back to the pool. */
static void vm_gone(struct daemon *d, const char *name, const char *why)
{
	struct consumer vm = { .kind = CONSUMER_VM };
	char what[VIRT_NAME_LEN + 64];

	snprintf(vm.name, sizeof(vm.name), "%s", name);
	snprintf(what, sizeof(what), "domain %s %s", name, why);
	if (consumers_gone(&d->consumers, &vm, what) != 0) {
		vm_recap(d, name);
		sync_monitor(d);
	}
}

/* One thing libvirt reported, acted on in the main loop. */
static void on_virt_event(struct daemon *d, const struct virt_event *ev)
{
	struct vf_err e = { 0 };

	if (!consumers_vm_holds(&d->store, ev->domain))
		return;
	vf_log(LOG_INFO, "libvirt: domain %s: event %d/%d (%s)", ev->domain, ev->event,
	       ev->detail, virt_action_name(ev->action));
	if (ev->action == VIRT_RELEASE)
		vm_gone(d, ev->domain, "stopped");
	else if (ev->action == VIRT_CHECK && virt_exists(&d->virt, ev->domain, &e) == 0)
		vm_gone(d, ev->domain, "was undefined");
	else if (ev->action == VIRT_CAP)
		vm_recap(d, ev->domain);
}

static bool pending_hold_event(struct daemon *d, const struct virt_event *ev);

/* What libvirt reported, acted on in the main loop. */
static void on_virt_events(struct daemon *d)
{
	struct virt_event ev[32];
	size_t n;

	while ((n = virt_drain(&d->virt, ev, VF_ARRAY_SIZE(ev))) > 0)
		for (size_t i = 0; i < n; i++)
			if (!pending_hold_event(d, &ev[i]))
				on_virt_event(d, &ev[i]);
}

/*
 * After (re)connecting: events may have been missed. A device no domain
 * holds any more comes back; domains that still hold devices get their caps.
 */
static void reconcile_vms(struct daemon *d)
{
	/* first what libvirt says about each unit, then the releases (which change the store) */
	char (*lead)[VF_BDF_LEN] = vf_xcalloc(d->store.n + 1, sizeof(*lead));
	char (*dom)[VIRT_NAME_LEN] = vf_xcalloc(d->store.n + 1, sizeof(*dom));
	size_t n = 0;

	for (size_t i = 0; i < d->store.n; i++) {
		const struct dev_rec *r = &d->store.devs[i];
		const char *vm = consumers_vm_of(r);
		struct vf_bdf b;
		struct vf_err e = { 0 };
		bool running;
		int h;

		/* a hand-off in flight ends as its libvirt call says */
		if (!vm || (r->n_unit && strcmp(r->unit[0], r->bdf) != 0) ||
		    vf_parse_bdf(r->bdf, &b) < 0 || engine_op_on(&d->engine, r->bdf))
			continue;
		h = virt_holds(&d->virt, vm, &b, &running, &e);
		if (h == 0) {
			snprintf(lead[n], VF_BDF_LEN, "%s", r->bdf);
			snprintf(dom[n++], VIRT_NAME_LEN, "%s", vm);
		} else if (h < 0) {
			vf_log(LOG_WARNING, "libvirt: cannot check %s in %s: %s", r->bdf, vm, e.msg);
		} else if (running) {
			vm_recap(d, vm);
		}
	}
	/* each once: a release that fails leaves its unit assigned, and says so */
	for (size_t k = 0; k < n; k++) {
		struct unit_result u;
		struct vf_err e = { 0 };

		if (engine_release(&d->engine, lead[k], &u, &e) < 0)
			events_emit(&d->events, "release", lead[k],
				    "domain %s no longer holds it (found at reconnection): FAILED: %s",
				    dom[k], e.msg);
		else
			events_emit(&d->events, "released", lead[k],
				    "domain %s no longer holds it (found at reconnection): back to the pool",
				    dom[k]);
		vm_recap(d, dom[k]);
	}
	if (n)
		sync_monitor(d);
	free(lead);
	free(dom);
}


/* What the ladder did, in the device's record (a failure is logged: the monitor acted anyway). */
static void set_containment(struct daemon *d, const char *bdf, enum dev_containment what,
			    int old_cmd)
{
	struct vf_err e = { 0 };

	if (engine_record_containment(&d->engine, bdf, what, old_cmd, &e) < 0)
		vf_log(LOG_ERR, "%s: cannot record containment: %s", bdf, e.msg);
}

/* The domain holding the unit of `bdf` ("" when none). */
static void vm_name_of(struct daemon *d, const char *bdf, char *out, size_t cap)
{
	struct dev_rec *own, *lead;
	struct unit_result u;
	struct vf_err e = { 0 };

	out[0] = '\0';
	if (engine_lookup(&d->engine, bdf, &own, &lead, &u, &e) == 0 && consumers_vm_of(lead))
		snprintf(out, cap, "%s", consumers_vm_of(lead));
}

/* A libvirt domain's caps follow its devices' storm ladder (libvirt owns its cgroups). */
static void recap_of(struct daemon *d, const char *bdf)
{
	char dom[VIRT_NAME_LEN];

	vm_name_of(d, bdf, dom, sizeof(dom));
	if (dom[0])
		vm_recap(d, dom);
}

/* The storm ladder's last step: quarantined (detached, held for an operator). */
static void storm_quarantined(struct daemon *d, const char *bdf, uint64_t rate, const char *dom)
{
	events_emit(&d->events, "quarantined", bdf,
		    "escalation delay past its silencing (now %llu/s): detached%s%s and held for an operator",
		    (unsigned long long)rate, dom[0] ? " from domain " : "", dom);
}

/*
 * The storm ladder's last step. The unit is silenced already (the monitor
 * did that); a domain's guest lets go in a thread's libvirt call, as for an
 * operator's quarantine, with no one to answer at its end (pending_end
 * tells it). With every slot in flight taken, it waits here as it used to.
 */
static void storm_quarantine(struct daemon *d, const char *bdf, uint64_t rate)
{
	struct engine_op *op = NULL;
	struct unit_result u;
	struct vf_err e = { 0 };
	char dom[VIRT_NAME_LEN] = "";
	int r;

	vm_name_of(d, bdf, dom, sizeof(dom));
	if (d->n_pend < DAEMON_MAX_PENDING && !d->stopping)
		r = engine_quarantine_start(&d->engine, bdf, &op, &u, &e);
	else
		r = engine_quarantine(&d->engine, bdf, &u, &e);
	if (r == 1) {
		d->pend[d->n_pend++] = (struct pending){ .op = op, .client = 0, .ladder_rate = rate };
		vf_log(LOG_NOTICE, "%s: the storm ladder's quarantine is in flight: domain %s lets go",
		       bdf, dom);
		return;
	}
	if (r < 0)
		events_emit(&d->events, "quarantine", bdf, "FAILED: %s", e.msg);
	else
		storm_quarantined(d, bdf, rate, dom);
	if (dom[0])
		vm_recap(d, dom);
	sync_monitor(d);
}

static bool pending_hold_quarantine(struct daemon *d, const char *bdf, uint64_t rate);

/* What the monitor did and asks for. */
static void on_monitor(struct daemon *d)
{
	struct monitor_msg msgs[64];
	size_t n;

	while ((n = monitor_drain(&d->monitor, msgs, VF_ARRAY_SIZE(msgs))) > 0) {
		for (size_t i = 0; i < n; i++) {
			const struct monitor_msg *m = &msgs[i];

			if (m->failed) {
				events_emit(&d->events, storm_action_name(m->action), m->bdf,
					    "FAILED at %llu interrupts/s (%s)",
					    (unsigned long long)m->rate, m->detail);
				continue;
			}
			switch (m->action) {
			case STORM_THROTTLE:
				set_containment(d, m->bdf, CONTAIN_THROTTLED, -1);
				recap_of(d, m->bdf);
				events_emit(&d->events, "throttled", m->bdf,
					    "interrupt storm at %llu/s, %s: CPU caps tightened, IRQs steered to housekeeping CPUs",
					    (unsigned long long)m->rate, m->detail);
				break;
			case STORM_UNTHROTTLE:
				set_containment(d, m->bdf, CONTAIN_NONE, -1);
				recap_of(d, m->bdf);
				events_emit(&d->events, "unthrottled", m->bdf,
					    "rate back to %llu/s: caps and affinity restored",
					    (unsigned long long)m->rate);
				break;
			case STORM_SILENCE:
				set_containment(d, m->bdf, CONTAIN_SILENCED, m->old_command);
				events_emit(&d->events, "silenced", m->bdf,
					    "storm outlasted the escalation delay at %llu/s: Bus Master off, INTx disabled",
					    (unsigned long long)m->rate);
				break;
			case STORM_QUARANTINE:
				if (!pending_hold_quarantine(d, m->bdf, m->rate))
					storm_quarantine(d, m->bdf, m->rate);
				break;
			case STORM_DETECTED:
			case STORM_CLEARED:
				events_emit(&d->events, storm_action_name(m->action), m->bdf,
					    "%llu interrupts/s (watch only: the class's ladder is empty)",
					    (unsigned long long)m->rate);
				break;
			default:
				break;
			}
		}
	}
}

/* The pending operation in flight on `bdf`'s unit, or NULL. */
static struct pending *pending_on(struct daemon *d, const char *bdf)
{
	const struct engine_op *op = engine_op_on(&d->engine, bdf);

	for (size_t i = 0; op && i < d->n_pend; i++)
		if (d->pend[i].op == op)
			return &d->pend[i];
	return NULL;
}

/* True when a VM hand-off to or from domain `name` is in flight. */
static bool pending_on_domain(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_pend; i++) {
		const struct consumer *c = engine_op_consumer(d->pend[i].op);

		if (c->kind == CONSUMER_VM && strcmp(c->name, name) == 0)
			return true;
	}
	return false;
}

/*
 * The storm ladder asks to quarantine a unit with an operation in flight:
 * that waits for its end (the engine would refuse it "busy" now, and the
 * monitor asks only once). The device is silenced already (the monitor
 * did that). True when held.
 */
static bool pending_hold_quarantine(struct daemon *d, const char *bdf, uint64_t rate)
{
	struct pending *p = pending_on(d, bdf);

	if (!p)
		return false;
	snprintf(p->storm_bdf, sizeof(p->storm_bdf), "%s", bdf);
	p->storm_rate = rate;
	vf_log(LOG_NOTICE, "%s: the storm ladder's quarantine waits for the operation in flight",
	       bdf);
	return true;
}

/*
 * A domain event about a domain with a hand-off in flight waits for its
 * end, as it waited for the synchronous call before: acted on now, a stop
 * would release (or fail to release) a unit whose libvirt call is still
 * running. True when held; a full list acts on it now.
 */
static bool pending_hold_event(struct daemon *d, const struct virt_event *ev)
{
	if (!pending_on_domain(d, ev->domain))
		return false;
	if (d->n_held == VF_ARRAY_SIZE(d->held)) {
		vf_log(LOG_WARNING, "libvirt: domain %s: too many events held back; acted on now",
		       ev->domain);
		return false;
	}
	d->held[d->n_held++] = *ev;
	return true;
}

/* The held events of domains with nothing in flight any more, in their order. */
static void pending_replay_events(struct daemon *d)
{
	size_t k = 0, n = d->n_held;
	struct virt_event *now = vf_xcalloc(n + 1, sizeof(*now));
	size_t nnow = 0;

	for (size_t i = 0; i < n; i++) {
		if (pending_on_domain(d, d->held[i].domain))
			d->held[k++] = d->held[i];
		else
			now[nnow++] = d->held[i];
	}
	d->n_held = k;
	for (size_t i = 0; i < nnow; i++)
		on_virt_event(d, &now[i]);
	free(now);
}

/* The event of an operation that ended well, as the synchronous path tells it. */
static void pending_told(struct daemon *d, const struct pending *p, enum engine_op_kind kind,
			 const struct consumer *c, const char *bdf, const struct unit_result *u)
{
	const struct dev_rec *r = store_find(&d->store, bdf);
	const char *tenant = r ? r->tenant : "";

	if (c->kind == CONSUMER_PID && kind == ENGINE_OP_ASSIGN)
		events_emit(&d->events, "assigned", bdf, "injected live into process %d%s%s (uid %u)",
			    c->pid, tenant[0] ? ", tenant " : "", tenant, (unsigned)p->uid);
	else if (c->kind == CONSUMER_PID)
		events_emit(&d->events, "released", bdf,
			    "back to the pool from process %d (uid %u)%s%s", c->pid,
			    (unsigned)p->uid, u->warning[0] ? "; reset FAILED: " : "", u->warning);
	else if (kind == ENGINE_OP_ASSIGN)
		events_emit(&d->events, "assigned", bdf, "to VM domain %s%s%s (uid %u)", c->name,
			    tenant[0] ? ", tenant " : "", tenant, (unsigned)p->uid);
	else if (kind == ENGINE_OP_RELEASE)
		events_emit(&d->events, "released", bdf, "back to the pool from domain %s (uid %u)%s%s",
			    c->name, (unsigned)p->uid,
			    u->warning[0] ? "; reset FAILED, pending: " : "", u->warning);
	else if (!p->client)
		storm_quarantined(d, bdf, p->ladder_rate, c->name);
	else if (!u->already)
		events_emit(&d->events, "quarantined", bdf,
			    "silenced and held by an operator (uid %u)", (unsigned)p->uid);
}

/*
 * Ends pending operation `i` (it reported, or its deadline passed, or the
 * daemon stops): recorded (or not) by the engine, told as the synchronous
 * path tells it, answered; then what waited for it.
 */
static void pending_end(struct daemon *d, size_t i, bool expired)
{
	static const char *const verb[] = { [ENGINE_OP_ASSIGN] = "assign",
					    [ENGINE_OP_RELEASE] = "release",
					    [ENGINE_OP_QUARANTINE] = "quarantine" };
	static const char *const state[] = { [ENGINE_OP_ASSIGN] = "assigned",
					     [ENGINE_OP_RELEASE] = "pooled",
					     [ENGINE_OP_QUARANTINE] = "quarantined" };
	struct pending p = d->pend[i];
	enum engine_op_kind kind = engine_op_kind(p.op);
	struct consumer c = *engine_op_consumer(p.op);
	char bdf[VF_BDF_LEN];
	struct vf_err e = { 0 };
	struct unit_result u;
	char *reply;

	snprintf(bdf, sizeof(bdf), "%s", engine_op_bdf(p.op));
	d->pend[i] = d->pend[--d->n_pend];
	mark_moved(d, bdf); /* the end may reset or rebind: the view reads the unit again */
	if (engine_op_end(&d->engine, p.op, expired, &u, &e) < 0) {
		if (!p.client)
			events_emit(&d->events, "quarantine", bdf, "FAILED: %s", e.msg);
		else
			vf_log(e.code ? LOG_NOTICE : LOG_ERR, "%s %s by uid %u refused: %s: %s",
			       verb[kind], bdf, (unsigned)p.uid, e.code ? e.code : "internal", e.msg);
		reply = proto_reply_error(p.id, e.code, e.msg);
	} else {
		pending_told(d, &p, kind, &c, bdf, &u);
		reply = proto_reply_ok(p.id, render_unit(&u, state[kind]));
		sync_monitor(d); /* first: the class cache the cap reads */
		if (c.kind == CONSUMER_VM)
			vm_recap(d, c.name);
	}
	json_object_put(p.id);
	control_reply(&d->control, p.client, reply);
	if (d->stopping)
		return;
	if (p.storm_bdf[0])
		storm_quarantine(d, p.storm_bdf, p.storm_rate);
	if (c.kind == CONSUMER_VM)
		pending_replay_events(d);
}

/* Ends every pending operation that reported or whose time is up. */
static void pending_poll(struct daemon *d, const struct pollfd *pfd, size_t n)
{
	int64_t now = (int64_t)vf_now_ms();
	struct engine_op *due[DAEMON_MAX_PENDING];
	bool ready[DAEMON_MAX_PENDING];
	size_t ndue = 0;

	/* decided first: ending one answers its client, whose next request may
	 * start another operation (with a descriptor number just freed) */
	for (size_t i = 0; i < d->n_pend; i++) {
		bool r = false;

		for (size_t k = 0; k < n; k++)
			if (pfd[k].fd == engine_op_fd(d->pend[i].op) && pfd[k].revents)
				r = true;
		if (r || now >= engine_op_deadline(d->pend[i].op)) {
			due[ndue] = d->pend[i].op;
			ready[ndue++] = r;
		}
	}
	for (size_t k = 0; k < ndue; k++)
		for (size_t i = 0; i < d->n_pend; i++)
			if (d->pend[i].op == due[k]) {
				pending_end(d, i, !ready[k]);
				break;
			}
}

static void to_authz_peer(const struct peer *in, struct authz_peer *out)
{
	out->uid = in->uid;
	out->gid = in->gid;
	out->ngroups = in->ngroups < AUTHZ_MAX_GROUPS ? in->ngroups : AUTHZ_MAX_GROUPS;
	memcpy(out->groups, in->groups, out->ngroups * sizeof(gid_t));
}

/* The control socket's question: root or the admin group (exempt from the per-uid caps). */
static bool peer_privileged(void *ctx, const struct peer *p)
{
	struct daemon *d = ctx;
	struct authz_peer ap;

	to_authz_peer(p, &ap);
	return authz_is_admin(&d->groups, &ap);
}

/* A unit member's ids, as the policy matches them: from the inventory. */
static void describe_member(const struct inventory *inv, const char *bdf, struct authz_dev *m)
{
	int i = inventory_find(inv, bdf);

	snprintf(m->bdf, sizeof(m->bdf), "%s", bdf);
	m->ids_ok = i >= 0 && inv->pci.devs[i].ids_ok;
	if (m->ids_ok) {
		m->vendor = inv->pci.devs[i].vendor;
		m->device = inv->pci.devs[i].device;
		m->pci_class = inv->pci.devs[i].class;
	}
}

/*
 * Fills what authz needs to know about the device an assign is about: the
 * whole unit it would hand over, every member with its ids. An owned device's
 * unit is the one its record says it moved with; a device not yet bound is
 * described by the unit a bind would make (itself and its companions).
 */
static int describe_target(struct daemon *d, const struct request *req,
			   struct authz_target *t, struct vf_err *e)
{
	_Static_assert(AUTHZ_UNIT_MAX >= STATE_UNIT_MAX, "a stored unit fits authz's");
	const struct dev_rec *r = store_find(&d->store, req->bdf);
	const struct inventory *inv = view_get(&d->view);
	int i;

	t->bdf = req->bdf;
	t->tenant = req->tenant;
	t->container = req->cdi || req->pid; /* both share the host kernel */
	t->holder = r ? r->tenant : "";
	t->held = store_tenant_holds(&d->store, req->tenant);
	i = inventory_find(inv, req->bdf);
	if (r) {
		for (size_t k = 0; k < r->n_unit && k < STATE_UNIT_MAX; k++)
			describe_member(inv, r->unit[k], &t->unit[t->n_unit++]);
	} else if (i >= 0 && inv->verdicts[i].n_companions < AUTHZ_UNIT_MAX) {
		/* more companions than a unit holds: n_unit stays 0, and bind refuses it */
		describe_member(inv, req->bdf, &t->unit[t->n_unit++]);
		for (size_t c = 0; c < inv->verdicts[i].n_companions; c++)
			describe_member(inv, inv->pci.devs[inv->verdicts[i].companions[c]].bdf,
					&t->unit[t->n_unit++]);
	}
	if (i < 0 && !r)
		return vf_err_refuse(e, "not-found", "no PCI device %s on this host", req->bdf);
	return 0;
}

/* assign: authorization needs the device, its holder and the tenant's count. */
static struct json_object *do_assign(struct daemon *d, const struct request *req,
				     const struct peer *peer, struct vf_err *e)
{
	const struct policy_tenant *ten = NULL;
	struct authz_target t = { 0 };
	struct proc_pin pin = { .pidfd = -1, .dirfd = -1 };
	struct assign_req a = { 0 };
	struct authz_peer ap;
	struct unit_result u;

	to_authz_peer(peer, &ap);
	if (describe_target(d, req, &t, e) < 0)
		return NULL;
	if (req->pid) {
		/* pinned from here on: what authz judges is what gets the nodes */
		if (proc_pin_open(&d->h, req->pid, &pin, e) < 0)
			return NULL;
		t.proc_uid = pin.uid;
		t.proc_gid = pin.gid;
		t.pid = req->pid;
	}
	if (!req->tenant[0]) {
		/* the caller's own tenant: count what that one holds */
		const struct policy_tenant *mine[2];

		if (policy_tenant_for_peer(&d->policy, ap.uid, ap.gid, ap.groups, ap.ngroups, mine, 2) == 1)
			t.held = store_tenant_holds(&d->store, mine[0]->name);
	}
	if (authz_check(&d->policy, &d->groups, &ap, OP_ASSIGN, &t, &ten, e) < 0) {
		proc_pin_close(&pin);
		return NULL;
	}
	a.tenant = ten ? ten->name : "";
	if (req->pid) {
		/* started: the reply comes when the injection ends (pending_end);
		 * refused: e says why, and handle() answers now */
		a.kind = CONSUMER_PID;
		a.pin = &pin;
		a.op = &d->deferred;
		engine_assign(&d->engine, req->bdf, &a, &u, e);
		proc_pin_close(&pin);
		return NULL;
	}
	if (req->vm[0]) {
		/* recorded and started: the reply comes when libvirt's attach has
		 * returned (pending_end), told and capped there; refused: e says why */
		a.kind = CONSUMER_VM;
		a.domain = req->vm;
		a.guest = req->has_guest ? &req->guest : NULL;
		a.flags = (req->live ? VIRT_LIVE : 0) | (req->config ? VIRT_CONFIG : 0);
		a.op = &d->deferred;
		engine_assign(&d->engine, req->bdf, &a, &u, e);
		return NULL;
	}
	a.kind = CONSUMER_CDI;
	a.cdi_dir = d->policy.daemon.cdi_dir;
	if (engine_assign(&d->engine, req->bdf, &a, &u, e) < 0)
		return NULL;
	events_emit(&d->events, "assigned", req->bdf, "to a container through CDI%s%s (uid %u)",
		    ten ? ", tenant " : "", ten ? ten->name : "", (unsigned)peer->uid);
	return render_unit(&u, "assigned");
}

/* FNV-1a over the store's records: a list answer depends on nothing else of it. */
static uint64_t store_hash(const struct store *st)
{
	const unsigned char *p = (const unsigned char *)st->devs;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < st->n * sizeof(*st->devs); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/*
 * list: rendered and serialized once for each state of the view and the
 * store, then shared by every request until either changes (a 2,000-device
 * list takes milliseconds to render; copying it, microseconds).
 */
static struct json_object *op_list(struct daemon *d, const struct inventory *inv)
{
	uint64_t h = store_hash(&d->store);
	struct json_object *res;

	if (!d->list_cache.text || d->list_cache.gen != d->view.gen ||
	    d->list_cache.store_n != d->store.n || d->list_cache.store_hash != h) {
		res = render_list(inv, &d->store);
		vf_json_text_put(d->list_cache.text);
		d->list_cache.text = vf_json_text_new(json_object_to_json_string_ext(
			res, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(res);
		d->list_cache.gen = d->view.gen;
		d->list_cache.store_n = d->store.n;
		d->list_cache.store_hash = h;
	}
	return vf_json_text_obj(d->list_cache.text);
}

/*
 * Report lines as events of `type`, each message after `prefix`: a line
 * "BDF: what" (most reconcile and drift lines) is about that device.
 */
static void emit_report(struct daemon *d, const char *type, const char *prefix,
			const struct vf_strv *lines)
{
	for (size_t i = 0; i < lines->n; i++) {
		const char *line = lines->v[i];
		char bdf[VF_BDF_LEN] = "";

		if (strlen(line) > 14 && line[12] == ':')
			snprintf(bdf, sizeof(bdf), "%.12s", line);
		if (vf_is_canonical_bdf(bdf))
			events_emit(&d->events, type, bdf, "%s%s", prefix, line + 14);
		else
			events_emit(&d->events, type, NULL, "%s%s", prefix, line);
	}
}

/* Drift the view had with no event: logged, and an event each. */
static void report_drift(struct daemon *d, const struct vf_strv *drift, const char *how)
{
	char prefix[64];

	for (size_t i = 0; i < drift->n; i++)
		vf_log(LOG_WARNING, "view: %s found a change no event told of: %s", how,
		       drift->v[i]);
	snprintf(prefix, sizeof(prefix), "%s found: ", how);
	emit_report(d, "drift", prefix, drift);
}

/*
 * list --rescan: everything read again at once, what the view had wrong
 * reported. It costs the loop a whole gather (on a big host, hundreds of
 * milliseconds), so only an operator (root or the admin group) may ask.
 */
static struct json_object *op_rescan(struct daemon *d, const struct peer *peer,
				     struct vf_err *e)
{
	struct vf_strv drift = { 0 };
	struct json_object *res, *a;
	int n;

	if (!peer_privileged(d, peer) && d->policy.daemon.admin_group[0])
		return vf_err_refuse(e, "not-permitted",
				     "a rescan reads the whole host again; only root or members of group %s may ask for one",
				     d->policy.daemon.admin_group),
		       NULL;
	if (!peer_privileged(d, peer))
		return vf_err_refuse(e, "not-permitted",
				     "a rescan reads the whole host again; only root may ask for one (the policy names no admin_group)"),
		       NULL;
	n = view_rescan(&d->view, &drift, e);
	if (n < 0)
		return NULL;
	report_drift(d, &drift, "a rescan");
	res = json_object_new_object();
	json_object_object_add(res, "devices", render_list(view_get(&d->view), &d->store));
	a = json_object_new_array();
	for (size_t i = 0; i < drift.n; i++)
		json_object_array_add(a, json_object_new_string(drift.v[i]));
	json_object_object_add(res, "drift", a);
	vf_strv_free(&drift);
	return res;
}

/* After a move (done, refused or rolled back): the unit's IOMMU group and every owned device read again. */
static void mark_moved(struct daemon *d, const char *bdf)
{
	const struct inventory *inv = view_get(&d->view);
	int i = inventory_find(inv, bdf);
	struct vf_strv group = { 0 };

	if (i >= 0)
		for (size_t k = 0; k < inv->verdicts[i].n_members; k++)
			vf_strv_add(&group, inv->pci.devs[inv->verdicts[i].members[k]].bdf);
	view_mark(&d->view, bdf);
	for (size_t k = 0; k < group.n; k++)
		view_mark(&d->view, group.v[k]);
	for (size_t k = 0; k < d->store.n; k++)
		view_mark(&d->view, d->store.devs[k].bdf);
	vf_strv_free(&group);
}

/* The view's question: is an event waiting that will tell of this change? */
static bool event_pending(void *ctx, const char *bdf)
{
	struct daemon *d = ctx;
	struct pollfd pfd[HOSTWATCH_NFDS];

	if (bdf) {
		pfd[0] = (struct pollfd){ .fd = hotplug_fd(&d->hotplug), .events = POLLIN };
		return pfd[0].fd >= 0 && poll(pfd, 1, 0) == 1;
	}
	/* a mount or swap change reported here is consumed: mark the host for it */
	hostwatch_pollfds(&d->watch, pfd);
	if (poll(pfd, HOSTWATCH_NFDS, 0) > 0 && hostwatch_changed(&d->watch, pfd)) {
		view_mark_host(&d->view);
		return true;
	}
	return false;
}

/*
 * Once a second: the consistency sweep reads a slice of the devices again,
 * sized so that a round takes about VIEW_ROUND_S seconds whatever the
 * host's size, and reports what it had to correct.
 */
static void view_tick(struct daemon *d)
{
	struct vf_strv drift = { 0 };
	size_t n = (d->view.inv.pci.n + VIEW_ROUND_S - 1) / VIEW_ROUND_S;

	if (time(NULL) == d->last_sweep)
		return;
	d->last_sweep = time(NULL);
	if (view_sweep(&d->view, n > VIEW_SWEEP_MIN ? n : VIEW_SWEEP_MIN, &drift) > 0) {
		report_drift(d, &drift, "the consistency sweep");
		sync_monitor(d); /* a class may follow from ids that changed */
	}
	vf_strv_free(&drift);
}

static struct json_object *perform(struct daemon *d, const struct request *req,
				   const struct peer *peer, struct vf_err *e)
{
	struct json_object *res = NULL;
	struct authz_target t = { 0 };
	struct authz_peer ap;
	struct unit_result u;
	const struct inventory *inv;
	char vmname[VIRT_NAME_LEN] = "";

	to_authz_peer(peer, &ap);
	if (d->stopping && proto_op_mutates(req->op))
		return vf_err_refuse(e, "busy", "vfiod is stopping"), NULL;
	/* a unit with an operation in flight, or all the slots taken by ones that may start one */
	if (proto_op_mutates(req->op) &&
	    engine_op_refuse(&d->engine, req->bdf,
			     req->op == OP_RELEASE || (req->op == OP_ASSIGN && (req->pid || req->vm[0])),
			     e) < 0)
		return NULL;
	if (req->op == OP_ASSIGN)
		return do_assign(d, req, peer, e);
	if (req->op == OP_RELEASE) {
		const struct dev_rec *r = store_find(&d->store, req->bdf);

		t.bdf = req->bdf;
		t.holder = r ? r->tenant : "";
	}
	if (authz_check(&d->policy, &d->groups, &ap, req->op, &t, NULL, e) < 0)
		return NULL;
	/* the domain the unit is in, for its caps afterwards */
	vm_name_of(d, req->bdf, vmname, sizeof(vmname));
	switch (req->op) {
	case OP_BIND:
		if (engine_bind(&d->engine, req->bdf, &u, e) < 0)
			return NULL;
		if (!u.already)
			events_emit(&d->events, "bound", req->bdf,
				    "pooled on vfio-pci (unit of %zu) by uid %u", u.n,
				    (unsigned)peer->uid);
		return render_unit(&u, "pooled");
	case OP_RETURN:
		if (engine_return(&d->engine, req->bdf, &u, e) < 0)
			return NULL;
		events_emit(&d->events, "returned", req->bdf,
			    "back on its host driver (unit of %zu) by uid %u", u.n,
			    (unsigned)peer->uid);
		return render_unit(&u, "host");
	case OP_RELEASE:
		/* a live process's nodes go in a child, a domain lets go in a
		 * thread's libvirt call: the reply waits for it (pending_end) */
		if (engine_release_start(&d->engine, req->bdf, &d->deferred, &u, e) != 0)
			return NULL;
		events_emit(&d->events, "released", req->bdf, "back to the pool%s%s (uid %u)%s%s",
			    vmname[0] ? " from domain " : "", vmname, (unsigned)peer->uid,
			    u.warning[0] ? "; reset FAILED, pending: " : "", u.warning);
		if (vmname[0])
			vm_recap(d, vmname);
		return render_unit(&u, "pooled");
	case OP_QUARANTINE:
		/* silenced now; a domain lets go in a thread's libvirt call, as for a release */
		if (engine_quarantine_start(&d->engine, req->bdf, &d->deferred, &u, e) != 0)
			return NULL;
		if (vmname[0])
			vm_recap(d, vmname);
		if (!u.already)
			events_emit(&d->events, "quarantined", req->bdf,
				    "silenced and held by an operator (uid %u)", (unsigned)peer->uid);
		return render_unit(&u, "quarantined");
	case OP_UNQUARANTINE:
		if (engine_unquarantine(&d->engine, req->bdf, &u, e) < 0)
			return NULL;
		events_emit(&d->events, "unquarantined", req->bdf,
			    "reset and back to the pool (uid %u)", (unsigned)peer->uid);
		return render_unit(&u, "pooled");
	case OP_EVENTS:
		res = json_object_new_object();
		json_object_object_add(res, "events", events_recent(&d->events));
		json_object_object_add(res, "follow", json_object_new_boolean(req->follow));
		return res;
	default:
		break;
	}
	if (req->op == OP_LIST && req->rescan)
		return op_rescan(d, peer, e);
	if (req->op == OP_SHOW)
		view_refresh_interrupts(&d->view, req->bdf);
	inv = view_get(&d->view);
	if (req->op == OP_LIST)
		res = op_list(d, inv);
	else if (req->op == OP_SHOW)
		res = op_show(d, inv, req->bdf, e);
	else
		res = op_status(d, inv);
	return res;
}

static char *handle(void *ctx, struct control_req *creq, const char *line, size_t len)
{
	const struct peer *peer = creq->peer;
	struct daemon *d = ctx;
	struct vf_err e = { 0 };
	struct request req;
	struct json_object *res;
	char *reply;

	if (proto_parse_request(line, len, &req, &e) < 0) {
		reply = proto_reply_error(req.id, e.code, e.msg);
		proto_request_free(&req);
		return reply;
	}
	d->deferred = NULL;
	if (req.op == OP_EVENTS && req.follow && creq->subscribe_full) {
		vf_err_refuse(&e, "busy",
			      "uid %u has %d event subscriptions open, the most one uid may have; close one first",
			      (unsigned)peer->uid, CONTROL_MAX_SUBS_PER_UID);
		reply = proto_reply_error(req.id, e.code, e.msg);
		proto_request_free(&req);
		return reply;
	}
	res = perform(d, &req, peer, &e);
	if (d->deferred) {
		struct pending *p = &d->pend[d->n_pend++];
		char what[CONSUMER_NAME_MAX + 64];

		engine_op_describe(d->deferred, what, sizeof(what));
		vf_log(LOG_INFO, "%s: %s, asked by uid %u, is in flight", req.bdf, what,
		       (unsigned)peer->uid);
		*p = (struct pending){ .op = d->deferred, .client = creq->client,
				       .id = json_object_get(req.id), .uid = peer->uid };
		d->deferred = NULL;
		creq->defer = true;
		proto_request_free(&req);
		return NULL;
	}
	if (proto_op_mutates(req.op))
		mark_moved(d, req.bdf);
	if (res && proto_op_mutates(req.op)) {
		if (req.op == OP_UNQUARANTINE)
			for (size_t i = 0; i < d->store.n; i++)
				if (d->store.devs[i].state == DEV_POOLED)
					monitor_release(&d->monitor, d->store.devs[i].bdf);
		sync_monitor(d);
	}
	if (res || !e.msg[0]) {
		creq->subscribe = req.op == OP_EVENTS && req.follow;
		reply = proto_reply_ok(req.id, res);
	} else {
		if (proto_op_mutates(req.op))
			vf_log(e.code ? LOG_NOTICE : LOG_ERR, "%s %s by uid %u refused: %s: %s",
			       proto_op_name(req.op), req.bdf, (unsigned)peer->uid,
			       e.code ? e.code : "internal", e.msg);
		reply = proto_reply_error(req.id, e.code, e.msg);
	}
	proto_request_free(&req);
	return reply;
}

/* Reconciles the store with the kernel; every finding becomes an event. */
static void reconcile(struct daemon *d)
{
	struct vf_err e = { 0 };

	if (engine_reconcile(&d->engine, &e) < 0)
		vf_log(LOG_ERR, "reconcile: %s", e.msg);
	/* container handoffs: records without their spec, specs without a record */
	if (engine_reconcile_cdi(&d->engine, d->policy.daemon.cdi_dir, &e) < 0)
		vf_log(LOG_ERR, "reconcile: CDI: %s", e.msg);
	emit_report(d, "reconciled", "", &d->engine.report);
	vf_strv_free(&d->engine.report);
}

/* A PCI device came or went. */
static void on_hotplug(struct daemon *d)
{
	char action[16], bdf[VF_BDF_LEN];
	const struct dev_rec *r;

	while (hotplug_next(&d->hotplug, action, bdf) > 0) {
		/* add, remove, bind, unbind, change: the view reads the device again */
		view_mark(&d->view, bdf);
		r = store_find(&d->store, bdf);
		if (strcmp(action, "remove") == 0 && r) {
			events_emit(&d->events, "vanished", bdf,
				    "an owned device (%s) was removed from the host",
				    dev_state_name(r->state));
		} else if (strcmp(action, "add") == 0) {
			events_emit(&d->events, "appeared", bdf, "%s", r ? "an owned device came back"
									: "a PCI device appeared");
			if (r)
				reconcile(d);
		}
	}
}

/* Resolves the policy's group names; fails when one does not exist. */
static int resolve_groups(const struct policy *p, struct authz_groups *g, struct vf_err *e)
{
	struct group *gr;

	memset(g, 0, sizeof(*g));
	if (p->daemon.socket_group[0]) {
		gr = getgrnam(p->daemon.socket_group);
		if (!gr)
			return vf_err_set(e, 0, "socket_group %s: no such group", p->daemon.socket_group);
		g->has_socket = true;
		g->socket = gr->gr_gid;
	}
	if (p->daemon.admin_group[0]) {
		gr = getgrnam(p->daemon.admin_group);
		if (!gr)
			return vf_err_set(e, 0, "admin_group %s: no such group", p->daemon.admin_group);
		g->has_admin = true;
		g->admin = gr->gr_gid;
	}
	return 0;
}

/*
 * The one way a policy comes in, at start and on SIGHUP: the file (or the
 * defaults when there is none), checked against this host (CPU caps and
 * housekeeping CPUs within its CPUs), its group names resolved. On error
 * `out` is freed and nothing else changed.
 */
static int load_policy(const struct daemon *d, struct policy *out, struct authz_groups *g,
		       struct vf_err *e)
{
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);

	policy_init(out);
	if (d->o->policy) {
		policy_free(out);
		if (policy_load(out, d->o->policy, e) < 0)
			goto fail;
	}
	if (policy_check_host(out, ncpus > 0 ? (unsigned)ncpus : 0, e) < 0 ||
	    resolve_groups(out, g, e) < 0)
		goto fail;
	return 0;
fail:
	policy_free(out);
	return -1;
}

static int setup(struct daemon *d, struct vf_err *e)
{
	int r;

	/* first: a second vfiod on this state directory touches nothing */
	d->lock_fd = store_lock(d->o->state_dir, e);
	if (d->lock_fd < 0)
		return -1;
	if (hostfs_init(&d->h, d->o->sysroot, e) < 0)
		return -1;
	if (load_policy(d, &d->policy, &d->groups, e) < 0)
		return -1;
	d->names = names_open(d->o->pci_ids);
	/* before the store and the host are touched: a live daemon on our
	 * socket (with another state directory) is not ours to fight */
	if (control_check_free(d->o->socket, e) < 0)
		return -1;
	r = store_open(&d->store, d->o->state_dir, e);
	if (r < 0)
		return -1;
	if (r == 1)
		vf_log(LOG_CRIT, "STATE STORE CORRUPT: %s", e->msg);
	d->engine = (struct engine){
		.h = &d->h,
		.store = &d->store,
		.policy = &d->policy,
		.names = d->names,
		.udev_rules = d->o->udev_rules,
		.fault_step = d->o->fault_step,
	};
	d->consumers = (struct consumers){ &d->engine, &d->events };
	reconcile(d);
	/* the one full read: from here on the view is kept current */
	if (view_init(&d->view, &d->h, &d->policy, d->names, e) < 0)
		return -1;
	d->engine.view = &d->view;
	d->view.pending = event_pending;
	d->view.pending_ctx = d;
	if (hostfs_is_live(&d->h)) {
		struct vf_err we = { 0 };

		if (hostwatch_open(&d->watch, &d->h, &we) < 0 || we.msg[0])
			vf_log(LOG_WARNING,
			       "host-critical facts: %s; the consistency sweep catches the rest within %d s",
			       we.msg, VIEW_ROUND_S);
	}
	/* libvirt: on the real host only (a --sysroot tree has no domains) */
	if (hostfs_is_live(&d->h)) {
		if (virt_init(&d->virt, d->policy.daemon.libvirt_uri, e) < 0)
			return -1;
		d->virt_on = true;
		d->engine.vm = &vm_ops;
		d->engine.vm_ctx = d;
	}
	/* CPU containment acts on the real host's cgroups only */
	d->cgroups = hostfs_is_live(&d->h);
	devcg_set_init(&d->cgs);
	if (d->cgroups) {
		char s[1024];

		devcg_probe_levers(&d->h, &d->policy, &d->levers);
		irqbal_init(&d->irqbal, &d->h, 200);
		d->levers.irqbalance = irqbal_state(&d->irqbal, d->levers.irqbalance_why,
						    sizeof(d->levers.irqbalance_why));
		levers_sentence(&d->levers, s, sizeof(s));
		vf_log(d->levers.steer && d->levers.irqbalance != IRQBAL_UNTOLD ? LOG_NOTICE
										 : LOG_WARNING,
		       "containment levers: %s", s);
	}
	if (monitor_start(&d->monitor, &d->h, d->policy.daemon.sample_interval_ms,
			  d->cgroups ? &cg_ops : NULL, d, e) < 0)
		return -1;
	monitor_set_policy(&d->monitor, &d->policy);
	sync_monitor(d);
	if (d->cgroups) {
		struct vf_err se = { 0 };
		int n = devcg_sweep((const char(*)[VF_BDF_LEN])d->cls_bdf, d->n_cls, &se);

		if (n < 0)
			vf_log(LOG_WARNING, "cgroups an earlier vfiod left behind: %s", se.msg);
		else if (n > 0)
			events_emit(&d->events, "reconciled", NULL,
				    "removed the cgroups an earlier vfiod left behind for %d device%s it no longer owns",
				    n, n == 1 ? "" : "s");
	}
	if (hostfs_is_live(&d->h) && hotplug_open(&d->hotplug, e) < 0)
		vf_log(LOG_WARNING, "no hotplug events: %s", e->msg);
	if (control_listen(&d->control, d->o->socket,
			   d->groups.has_socket ? d->groups.socket : (gid_t)-1, handle, d, e) < 0)
		return -1;
	d->control.privileged = peer_privileged;
	d->events.control = &d->control;
	if (d->virt_on && virt_connected(&d->virt))
		reconcile_vms(d);
	return 0;
}

/*
 * SIGHUP: the policy file again, through the checks start-up makes; a
 * policy start-up would refuse is refused here too, and the old one stays.
 * The main loop is the only reader of d->policy but for the monitor
 * thread, which reads its own snapshot (monitor_set_policy) and its own
 * copies of the classes (sync_monitor -> monitor_set).
 */
static void reload_policy(struct daemon *d)
{
	struct policy fresh;
	struct authz_groups groups;
	struct vf_err e = { 0 };

	if (!d->o->policy) {
		vf_log(LOG_INFO, "SIGHUP: no policy file to reload");
		return;
	}
	if (load_policy(d, &fresh, &groups, &e) < 0) {
		vf_log(LOG_ERR, "SIGHUP: keeping the old policy: %s", e.msg);
		return;
	}
	/* what is set up once, at start */
	if (strcmp(fresh.daemon.libvirt_uri, d->policy.daemon.libvirt_uri) != 0 ||
	    strcmp(fresh.daemon.socket_group, d->policy.daemon.socket_group) != 0)
		vf_log(LOG_NOTICE,
		       "SIGHUP: libvirt_uri and socket_group take effect at the next start");
	policy_free(&d->policy);
	d->policy = fresh;
	d->groups = groups;
	monitor_set_policy(&d->monitor, &d->policy);
	view_set_policy(&d->view, &d->policy);
	sync_monitor(d);
	if (d->cgroups) {
		struct levers now;

		/* the housekeeping CPUs may have changed: where steering goes */
		devcg_probe_levers(&d->h, &d->policy, &now);
		devcg_set_lock(&d->cgs);
		d->levers.steer = now.steer;
		memcpy(d->levers.housekeeping, now.housekeeping, sizeof(now.housekeeping));
		devcg_set_unlock(&d->cgs);
	}
	vf_log(LOG_NOTICE, "SIGHUP: policy %s reloaded", d->o->policy);
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon d = { .o = o, .h = { .rootfd = -1 }, .lock_fd = -1, .control = { .lfd = -1 },
			    .watch = { .mounts_fd = -1, .swaps_fd = -1, .nl_fd = -1 } };
	struct pollfd pfd[CONTROL_MAX_CLIENTS + NFIXED + 1 + DAEMON_MAX_PENDING];
	struct vf_err e = { 0 };
	sigset_t mask;
	int sfd, rc = 0;
	bool running = true;

	d.started = time(NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || setup(&d, &e) < 0) {
		vf_log(LOG_ERR, "%s", sfd < 0 ? "signalfd failed" : e.msg);
		rc = 1;
		running = false;
	} else {
		vf_log(LOG_NOTICE, "vfiod %s ready on %s (%zu devices owned)", VFIOD_VERSION,
		       o->socket, d.store.n);
	}
	while (running) {
		size_t n = control_pollfds(&d.control, pfd + NFIXED,
					   VF_ARRAY_SIZE(pfd) - NFIXED - DAEMON_MAX_PENDING);
		size_t np = d.n_pend;
		int timeout = 1000;

		for (size_t i = 0; i < np; i++) {
			int64_t left = engine_op_deadline(d.pend[i].op) - (int64_t)vf_now_ms();

			pfd[NFIXED + n + i] = (struct pollfd){ .fd = engine_op_fd(d.pend[i].op),
							  .events = POLLIN };
			if (left < timeout)
				timeout = left > 0 ? (int)left : 0;
		}

		pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = hotplug_fd(&d.hotplug), .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = d.monitor.running ? d.monitor.box.fd : -1,
					  .events = POLLIN };
		pfd[3] = (struct pollfd){ .fd = d.virt_on ? d.virt.box.fd : -1, .events = POLLIN };
		hostwatch_pollfds(&d.watch, pfd + 4);
		if (poll(pfd, n + NFIXED + np, timeout) < 0 && errno != EINTR) {
			vf_log(LOG_ERR, "poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					reload_policy(&d);
				} else {
					vf_log(LOG_NOTICE, "signal %u: exiting", si.ssi_signo);
					running = false;
				}
			}
		}
		if (pfd[1].revents & POLLIN)
			on_hotplug(&d);
		if (hostwatch_changed(&d.watch, pfd + 4))
			view_mark_host(&d.view);
		if (pfd[2].revents & POLLIN)
			on_monitor(&d);
		if (d.virt_on) {
			if (virt_tick(&d.virt) == 1)
				reconcile_vms(&d);
			on_virt_events(&d);
		}
		control_dispatch(&d.control, pfd + NFIXED, n);
		pending_poll(&d, pfd + NFIXED + n, np);
		control_sweep(&d.control);
		attach_threads(&d);
		irqbal_note(&d, false);
		view_tick(&d);
	}
	/*
	 * Operations in flight end here, each as it would have: a live
	 * injection's child is killed (nothing recorded, the unit as it was); a
	 * VM hand-off's libvirt call is waited for, a release's or quarantine's
	 * wait for the guest cut short, which leaves the unit assigned as a
	 * timeout does (the next start's reconcile with libvirt pools it if
	 * the guest let go after all); a VM assign that attached stays
	 * recorded, one that failed is put back.
	 */
	d.stopping = true;
	if (d.virt_on)
		virt_stop_waiting(&d.virt);
	while (d.n_pend)
		pending_end(&d, d.n_pend - 1, true);
	monitor_stop(&d.monitor);
	if (d.virt_on)
		virt_fini(&d.virt);
	free(d.cls_bdf);
	free(d.cls);
	/* the cgroups stay while vfiod is away: the devices stay owned and capped */
	devcg_set_fini(&d.cgs);
	/* and their vectors stay banned from irqbalance, as they stay steered */
	if (d.cgroups)
		irqbal_fini(&d.irqbal);
	control_close(&d.control);
	hotplug_close(&d.hotplug);
	hostwatch_close(&d.watch);
	view_fini(&d.view);
	vf_json_text_put(d.list_cache.text);
	events_free(&d.events);
	store_close(&d.store);
	names_close(d.names);
	policy_free(&d.policy);
	hostfs_fini(&d.h);
	if (d.lock_fd >= 0)
		close(d.lock_fd); /* last: the next vfiod may start now */
	if (sfd >= 0)
		close(sfd);
	return rc;
}
