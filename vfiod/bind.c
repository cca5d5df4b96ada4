// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine.h"
#include "view.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "inventory.h"
#include "log.h"

#define DEV_DIR "sys/bus/pci/devices"
#define DRV_DIR "sys/bus/pci/drivers"

/*
 * Every host-changing step and every store save counts. With a fault step
 * set (testing only: --fault-step), the daemon kills itself right after
 * that step, so crash recovery can be proven at every point of a move.
 */
static void step(struct engine *en, const char *what, const char *bdf)
{
	en->step++;
	if (en->fault_step > 0 && en->step == en->fault_step) {
		vf_log(LOG_WARNING, "fault injection: killed after step %d (%s %s)",
		       en->step, what, bdf);
		raise(SIGKILL);
	}
}

void engine_step(struct engine *en, const char *what, const char *bdf)
{
	step(en, what, bdf);
}

/* The driver bound to `bdf` ("" when none). Fails when the device is gone. */
static int current_driver(struct engine *en, const char *bdf, char *drv, size_t cap,
			  struct vf_err *e)
{
	_cleanup_close_ int fd = -1;
	char path[128];
	int r;

	vf_path(path, sizeof(path), DEV_DIR "/%s", bdf);
	fd = hostfs_open(en->h, path, O_RDONLY | O_DIRECTORY, e);
	if (fd < 0)
		return vf_err_set(e, e->errnum, "device %s has disappeared", bdf);
	r = hostfs_link_name_at(fd, "driver", drv, cap, e);
	if (r == -ENOENT) {
		drv[0] = '\0';
		return 0;
	}
	return r < 0 ? vf_err_wrap(e, "%s", bdf) : 0;
}

static int write_to(struct engine *en, const char *path, const char *value,
		    const char *what, const char *bdf, struct vf_err *e)
{
	if (hostfs_write(en->h, path, value, e) < 0)
		return vf_err_wrap(e, "%s of %s failed", what, bdf);
	step(en, what, bdf);
	return 0;
}

/*
 * Puts `bdf` on `target` ("vfio-pci", a host driver, or "" for none) and
 * checks that it landed there.
 */
static int place(struct engine *en, const char *bdf, const char *target,
		 struct vf_err *e)
{
	bool to_vfio = strcmp(target, VFIO_DRIVER) == 0;
	char path[256], cur[VF_NAME_MAX];

	vf_path(path, sizeof(path), DEV_DIR "/%s/driver_override", bdf);
	if (write_to(en, path, to_vfio ? VFIO_DRIVER : "\n", "driver_override", bdf, e) < 0 ||
	    current_driver(en, bdf, cur, sizeof(cur), e) < 0)
		return -1;
	if (cur[0] && strcmp(cur, target) != 0) {
		if (!vf_name_is_safe(cur) ||
		    vf_path(path, sizeof(path), DRV_DIR "/%s/unbind", cur) < 0)
			return vf_err_set(e, EINVAL, "%s: bad driver name", bdf);
		if (write_to(en, path, bdf, "unbind", bdf, e) < 0 ||
		    current_driver(en, bdf, cur, sizeof(cur), e) < 0)
			return -1;
	}
	if (target[0] && !cur[0]) {
		if (write_to(en, "sys/bus/pci/drivers_probe", bdf, "drivers_probe", bdf, e) < 0 ||
		    current_driver(en, bdf, cur, sizeof(cur), e) < 0)
			return -1;
		/* another driver may claim it first: ask the original by name */
		if (!cur[0] && !to_vfio) {
			if (vf_path(path, sizeof(path), DRV_DIR "/%s/bind", target) < 0 ||
			    write_to(en, path, bdf, "bind", bdf, e) < 0 ||
			    current_driver(en, bdf, cur, sizeof(cur), e) < 0)
				return -1;
		}
	}
	if (strcmp(cur, target) != 0)
		return vf_err_set(e, 0, "%s: expected %s after the move, found %s", bdf,
				  target[0] ? target : "no driver", cur[0] ? cur : "no driver");
	return 0;
}

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

static int save(struct engine *en, const char *what, const char *bdf, struct vf_err *e)
{
	if (store_save(en->store, e) < 0)
		return -1;
	step(en, what, bdf);
	return 0;
}

/* Where each device of the intent goes when the move is undone. */
static const char *undo_target(const struct intent *in, size_t i)
{
	return in->op == INTENT_BIND ? in->devs[i].original_driver : VFIO_DRIVER;
}

/*
 * Undoes the first `upto` devices of the open intent (all when upto = n),
 * clears the intent and saves. Returns 0 when everything is back.
 */
static int undo(struct engine *en, size_t upto, struct vf_err *why)
{
	struct intent *in = &en->store->intent;
	struct vf_err e = { 0 };
	int failed = 0;

	for (size_t i = upto; i-- > 0;) {
		char path[128];

		/* a device that is gone has nowhere to go back to */
		vf_path(path, sizeof(path), DEV_DIR "/%s", in->devs[i].bdf);
		if (!hostfs_exists(en->h, path)) {
			vf_err_append(why, "; %s has disappeared", in->devs[i].bdf);
			continue;
		}
		if (place(en, in->devs[i].bdf, undo_target(in, i), &e) < 0) {
			vf_err_append(why, "; rolling back failed too (%s)", e.msg);
			failed = -1;
		}
	}
	if (failed)
		return -1; /* keep the intent: the next start tries again */
	memset(in, 0, sizeof(*in));
	if (store_save(en->store, &e) < 0) {
		vf_err_append(why, "; rolled back, but the store cannot be saved (%s)", e.msg);
		return -1;
	}
	return 0;
}

static int canonical(const char *in, char out[VF_BDF_LEN], struct vf_err *e)
{
	struct vf_bdf b;

	if (vf_parse_bdf(in, &b) < 0)
		return vf_err_refuse(e, "bad-request", "\"%.64s\" is not a PCI address", in);
	vf_bdf_format(&b, out);
	return 0;
}

static void result_from_rec(const struct dev_rec *r, struct unit_result *out, bool already)
{
	out->n = r->n_unit;
	memcpy(out->bdf, r->unit, sizeof(out->bdf));
	out->already = already;
}

static int ensure_vfio(struct engine *en, struct vf_err *e)
{
	struct vf_err me = { 0 };

	if (hostfs_exists(en->h, DRV_DIR "/" VFIO_DRIVER))
		return 0;
	if (hostfs_modprobe(en->h, "vfio-pci", &me) < 0 ||
	    !hostfs_exists(en->h, DRV_DIR "/" VFIO_DRIVER))
		return vf_err_refuse(e, "vfio-unavailable", "vfio-pci cannot be loaded: %s",
				     me.msg[0] ? me.msg : "its driver did not appear");
	return 0;
}

int engine_device_group(const struct engine *en, const char *bdf)
{
	_cleanup_close_ int fd = -1;
	char path[128], name[64];
	uint64_t g;

	vf_path(path, sizeof(path), DEV_DIR "/%s", bdf);
	fd = hostfs_open(en->h, path, O_RDONLY | O_DIRECTORY, NULL);
	if (fd < 0 || hostfs_link_name_at(fd, "iommu_group", name, sizeof(name), NULL) < 0 ||
	    vf_parse_u64(name, 10, INT32_MAX, &g) < 0)
		return -1;
	return (int)g;
}

/* True when the kernel offers no way to reset `bdf` (no or an empty reset_method). */
static bool lacks_reset(struct engine *en, const char *bdf)
{
	_cleanup_close_ int fd = -1;
	char path[128], methods[256];

	vf_path(path, sizeof(path), DEV_DIR "/%s", bdf);
	fd = hostfs_open(en->h, path, O_RDONLY | O_DIRECTORY, NULL);
	return fd < 0 || hostfs_attr_at(fd, "reset_method", methods, sizeof(methods), NULL) <= 0;
}

/* Moves the unit of the open bind intent to vfio-pci and records it. */
static int bind_intent(struct engine *en, int group, struct vf_err *e)
{
	struct intent *in = &en->store->intent;
	char vfio_node[64];

	for (size_t i = 0; i < in->n; i++) {
		if (place(en, in->devs[i].bdf, VFIO_DRIVER, e) < 0) {
			vf_err_wrap(e, "bind");
			undo(en, i + 1, e);
			return -1;
		}
	}
	if (group < 0)
		group = engine_device_group(en, in->devs[0].bdf);
	vf_path(vfio_node, sizeof(vfio_node), "dev/vfio/%d", group);
	if (group < 0 || !hostfs_exists(en->h, vfio_node)) {
		vf_err_set(e, 0, "bind: /%s did not appear", vfio_node);
		undo(en, in->n, e);
		return -1;
	}
	for (size_t i = 0; i < in->n; i++) {
		struct dev_rec r;

		dev_rec_init(&r, in->devs[i].bdf);
		snprintf(r.original_driver, sizeof(r.original_driver), "%s",
			 in->devs[i].original_driver);
		r.state = DEV_POOLED;
		for (size_t u = 0; u < in->n; u++)
			snprintf(r.unit[r.n_unit++], VF_BDF_LEN, "%s", in->devs[u].bdf);
		r.no_reset_method = lacks_reset(en, r.bdf);
		r.since = now();
		store_put(en->store, &r);
	}
	memset(in, 0, sizeof(*in));
	if (store_save(en->store, e) < 0) {
		vf_err_wrap(e, "bind: moved, but the store cannot be saved");
		return -1; /* the intent on disk makes the next start finish it */
	}
	step(en, "committed", en->store->devs[0].bdf);
	return 0;
}

/* A pooled device must come back pooled after a reboot: say so, loudly, if not. */
static void persist_warn(struct engine *en)
{
	struct vf_err e = { 0 };

	if (engine_persist(en, &e) < 0)
		vf_log(LOG_WARNING, "pool not persisted across reboots: %s", e.msg);
}

int engine_bind(struct engine *en, const char *bdf_in, struct unit_result *out,
		struct vf_err *e)
{
	char bdf[VF_BDF_LEN];
	struct inventory own_inv;
	const struct inventory *inv = &own_inv;
	const struct verdict *v;
	const struct dev_rec *rec;
	struct intent *in = &en->store->intent;
	int idx, group, rc = -1;

	memset(out, 0, sizeof(*out));
	en->step = 0;
	if (canonical(bdf_in, bdf, e) < 0)
		return -1;
	rec = store_find(en->store, bdf);
	if (rec) {
		if (rec->state != DEV_POOLED)
			return vf_err_refuse(e, "busy", "%s is %s", bdf, dev_state_name(rec->state));
		result_from_rec(rec, out, true);
		return 0;
	}
	if (in->op != INTENT_NONE)
		return vf_err_refuse(e, "busy", "another transition is open");
	/* the facts a bind is judged on are read now: the group and the host-critical tables */
	if (en->view)
		inv = view_fresh(en->view, bdf);
	else if (inventory_gather(&own_inv, en->h, en->policy, en->names, e) < 0)
		return vf_err_wrap(e, "bind %s", bdf);
	idx = inventory_find(inv, bdf);
	if (idx < 0) {
		vf_err_refuse(e, "not-found", "no PCI device %s on this host", bdf);
		goto out;
	}
	v = &inv->verdicts[idx];
	if (v->reason != VF_REASON_NONE) {
		vf_err_refuse(e, verdict_reason_code(v->reason), "%s: %s", bdf, v->message);
		goto out;
	}
	if (v->n_companions + 1 > STATE_UNIT_MAX) {
		vf_err_refuse(e, "bad-request", "%s moves with %zu companions, more than %d",
			      bdf, v->n_companions, STATE_UNIT_MAX - 1);
		goto out;
	}
	/* the unit, in address order: the device and its companions */
	for (size_t k = 0; k < v->n_members; k++) {
		const struct pci_dev_info *m = &inv->pci.devs[v->members[k]];
		bool in_unit = (int)v->members[k] == idx;

		for (size_t c = 0; c < v->n_companions; c++)
			in_unit |= v->companions[c] == v->members[k];
		if (!in_unit)
			continue;
		if (store_find(en->store, m->bdf)) {
			vf_err_refuse(e, "busy", "companion %s is already owned", m->bdf);
			memset(in, 0, sizeof(*in));
			goto out;
		}
		snprintf(in->devs[in->n].bdf, VF_BDF_LEN, "%s", m->bdf);
		snprintf(in->devs[in->n].original_driver, sizeof(in->devs[0].original_driver),
			 "%s", m->driver);
		in->n++;
	}
	group = inv->pci.devs[idx].iommu_group;
	if (ensure_vfio(en, e) < 0) {
		memset(in, 0, sizeof(*in));
		goto out;
	}
	in->op = INTENT_BIND;
	in->started = now();
	if (save(en, "intent", bdf, e) < 0) {
		memset(in, 0, sizeof(*in));
		goto out;
	}
	for (size_t i = 0; i < in->n; i++)
		snprintf(out->bdf[out->n++], VF_BDF_LEN, "%s", in->devs[i].bdf);
	rc = bind_intent(en, group, e);
	if (rc == 0)
		persist_warn(en);
out:
	if (inv == &own_inv)
		inventory_free(&own_inv);
	return rc;
}

int engine_return(struct engine *en, const char *bdf_in, struct unit_result *out,
		  struct vf_err *e)
{
	struct intent *in = &en->store->intent;
	const struct dev_rec *rec;
	char bdf[VF_BDF_LEN];

	memset(out, 0, sizeof(*out));
	en->step = 0;
	if (canonical(bdf_in, bdf, e) < 0)
		return -1;
	rec = store_find(en->store, bdf);
	if (!rec)
		return vf_err_refuse(e, "not-found", "%s is not owned by vfiod", bdf);
	if (in->op != INTENT_NONE)
		return vf_err_refuse(e, "busy", "another transition is open");
	if (engine_op_refuse(en, bdf, false, e) < 0)
		return -1;
	result_from_rec(rec, out, false);
	for (size_t i = 0; i < out->n; i++) {
		const struct dev_rec *m = store_find(en->store, out->bdf[i]);

		if (!m)
			return vf_err_set(e, 0, "%s: unit member %s has no record", bdf, out->bdf[i]);
		if (m->state != DEV_POOLED)
			return vf_err_refuse(e, "busy", "%s is %s; release it first", m->bdf,
					     dev_state_name(m->state));
		snprintf(in->devs[i].bdf, VF_BDF_LEN, "%s", m->bdf);
		snprintf(in->devs[i].original_driver, sizeof(in->devs[i].original_driver), "%s",
			 m->original_driver);
	}
	in->n = out->n;
	in->op = INTENT_RETURN;
	in->started = now();
	if (save(en, "intent", bdf, e) < 0) {
		memset(in, 0, sizeof(*in));
		return -1;
	}
	for (size_t i = 0; i < in->n; i++) {
		if (place(en, in->devs[i].bdf, in->devs[i].original_driver, e) < 0) {
			vf_err_wrap(e, "return");
			undo(en, i + 1, e);
			return -1;
		}
	}
	for (size_t i = 0; i < in->n; i++)
		store_remove(en->store, in->devs[i].bdf);
	memset(in, 0, sizeof(*in));
	if (store_save(en->store, e) < 0)
		return vf_err_wrap(e, "return: moved, but the store cannot be saved");
	step(en, "committed", bdf);
	persist_warn(en);
	return 0;
}

int engine_lookup(struct engine *en, const char *bdf_in, struct dev_rec **rec,
		  struct dev_rec **lead, struct unit_result *out, struct vf_err *e)
{
	char bdf[VF_BDF_LEN];

	memset(out, 0, sizeof(*out));
	if (canonical(bdf_in, bdf, e) < 0)
		return -1;
	*rec = store_find(en->store, bdf);
	if (!*rec)
		return vf_err_refuse(e, "not-found", "%s is not owned by vfiod", bdf);
	*lead = store_find(en->store, (*rec)->unit[0]);
	if (!*lead)
		return vf_err_set(e, 0, "%s: unit without a lead record", bdf);
	result_from_rec(*lead, out, false);
	return 0;
}

int engine_reset(struct engine *en, const char *bdf_in, struct vf_err *e)
{
	char bdf[VF_BDF_LEN], path[128], methods[256];
	_cleanup_close_ int fd = -1;
	struct dev_rec *rec;
	int r;

	if (canonical(bdf_in, bdf, e) < 0)
		return -1;
	rec = store_find(en->store, bdf);
	if (!rec)
		return vf_err_refuse(e, "not-found", "%s is not owned by vfiod", bdf);
	vf_path(path, sizeof(path), DEV_DIR "/%s", bdf);
	fd = hostfs_open(en->h, path, O_RDONLY | O_DIRECTORY, e);
	if (fd < 0)
		return vf_err_set(e, e->errnum, "device %s has disappeared", bdf);
	r = hostfs_attr_at(fd, "reset_method", methods, sizeof(methods), e);
	if (r <= 0) {
		/* no attribute, or an empty one: the kernel has no way to reset it */
		rec->no_reset_method = true;
		rec->reset_pending = false;
		vf_err_clear(e);
		if (store_save(en->store, e) < 0)
			return -1;
		return 0;
	}
	vf_path(path, sizeof(path), DEV_DIR "/%s/reset", bdf);
	if (hostfs_write(en->h, path, "1", e) < 0) {
		rec->reset_pending = true;
		store_save(en->store, &(struct vf_err){ 0 });
		return vf_err_wrap(e, "reset of %s (%s) failed", bdf, methods);
	}
	rec->no_reset_method = false;
	rec->reset_pending = false;
	if (store_save(en->store, e) < 0)
		return -1;
	return 1;
}

int engine_persist(struct engine *en, struct vf_err *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!en->udev_rules)
		return 0;
	f = open_memstream(&text, &len);
	if (!f)
		abort();
	fprintf(f, "# Written by vfiod: devices it owns go to vfio-pci as soon as they appear,\n"
		   "# before a host driver can claim them (as driverctl does). Do not edit.\n");
	for (size_t i = 0; i < en->store->n; i++)
		fprintf(f, "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"%s\", "
			   "ATTR{driver_override}=\"" VFIO_DRIVER "\"\n",
			en->store->devs[i].bdf);
	if (fclose(f) != 0)
		abort();
	return vf_write_atomic(en->udev_rules, text, 0644, e);
}

static void report(struct engine *en, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(struct engine *en, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	vf_strv_add(&en->report, s);
	free(s);
}

/* An open intent at start: the previous run died mid-move. */
static int reconcile_intent(struct engine *en, struct vf_err *e)
{
	struct intent *in = &en->store->intent;
	bool all_vfio = true;
	char cur[VF_NAME_MAX];

	if (in->op == INTENT_NONE)
		return 0;
	for (size_t i = 0; i < in->n; i++) {
		struct vf_err ce = { 0 };

		if (current_driver(en, in->devs[i].bdf, cur, sizeof(cur), &ce) < 0 ||
		    strcmp(cur, VFIO_DRIVER) != 0)
			all_vfio = false;
	}
	if (in->op == INTENT_BIND && all_vfio) {
		/* every device made it: finish the bind */
		report(en, "%s: an interrupted bind had moved the whole unit; finished it",
		       in->devs[0].bdf);
		return bind_intent(en, -1, e);
	}
	if (in->op == INTENT_BIND) {
		report(en, "%s: an interrupted bind is rolled back to the original drivers",
		       in->devs[0].bdf);
		vf_err_set(e, 0, "rolling back an interrupted bind");
		return undo(en, in->n, e);
	}
	/* an interrupted return: the operator asked for it, finish it */
	for (size_t i = 0; i < in->n; i++) {
		if (place(en, in->devs[i].bdf, in->devs[i].original_driver, e) < 0) {
			vf_err_wrap(e, "finishing an interrupted return");
			report(en, "%s: an interrupted return cannot be finished (%s); %s",
			       in->devs[0].bdf, e->msg,
			       undo(en, i + 1, e) == 0 ? "the unit stays pooled"
						       : "the unit could not be put back either");
			return -1;
		}
	}
	report(en, "%s: an interrupted return is finished", in->devs[0].bdf);
	for (size_t i = 0; i < in->n; i++)
		store_remove(en->store, in->devs[i].bdf);
	memset(in, 0, sizeof(*in));
	return store_save(en->store, e);
}

int engine_reconcile(struct engine *en, struct vf_err *e)
{
	struct vf_strv repool = { 0 };
	int rc = 0;

	en->step = 0;
	if (reconcile_intent(en, e) < 0) {
		report(en, "cannot repair the interrupted transition: %s", e->msg);
		rc = -1;
	}
	for (size_t i = 0; i < en->store->n; i++) {
		struct dev_rec *r = &en->store->devs[i];
		char cur[VF_NAME_MAX];
		struct vf_err ce = { 0 };

		if (current_driver(en, r->bdf, cur, sizeof(cur), &ce) < 0) {
			report(en, "%s: recorded as %s but the device is gone; record kept",
			       r->bdf, dev_state_name(r->state));
			continue;
		}
		if (strcmp(cur, VFIO_DRIVER) == 0)
			continue; /* adopted as recorded */
		if (r->state == DEV_POOLED) {
			/* the unit's first member re-binds all of it, once */
			bool listed = false;

			for (size_t k = 0; k < repool.n; k++)
				listed |= strcmp(repool.v[k], r->unit[0]) == 0;
			if (!listed)
				vf_strv_add(&repool, r->unit[0]);
			continue;
		}
		report(en, "%s: recorded as %s but bound to %s; left as it is", r->bdf,
		       dev_state_name(r->state), cur[0] ? cur : "no driver");
	}
	/* After a reboot a host driver may hold a pooled device: pool it again. */
	for (size_t i = 0; i < repool.n; i++) {
		struct dev_rec *r = store_find(en->store, repool.v[i]);
		struct dev_rec saved[STATE_UNIT_MAX];
		struct unit_result res;
		struct vf_err be = { 0 };
		size_t n_saved = 0;

		if (!r)
			continue;
		/* the records as they were: bind would take the current drivers
		 * (vfio-pci for members still there) for the original ones */
		for (size_t u = 0; u < r->n_unit; u++) {
			struct dev_rec *m = store_find(en->store, r->unit[u]);

			if (m)
				saved[n_saved++] = *m;
		}
		for (size_t u = 0; u < n_saved; u++)
			store_remove(en->store, saved[u].bdf);
		if (engine_bind(en, saved[0].bdf, &res, &be) == 0) {
			for (size_t u = 0; u < n_saved; u++) {
				struct dev_rec *m = store_find(en->store, saved[u].bdf);

				if (m)
					snprintf(m->original_driver, sizeof(m->original_driver), "%s",
						 saved[u].original_driver);
			}
			if (store_save(en->store, &be) < 0)
				rc = -1;
			report(en, "%s: was pooled, found on its host driver (a reboot?); pooled again",
			       saved[0].bdf);
		} else {
			report(en, "%s: was pooled, found on its host driver, and cannot be pooled again (%s); left to the host, record dropped",
			       saved[0].bdf, be.msg);
			if (store_save(en->store, &be) < 0)
				rc = -1;
		}
	}
	vf_strv_free(&repool);
	persist_warn(en);
	return rc;
}
