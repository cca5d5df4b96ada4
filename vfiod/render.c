// SPDX-License-Identifier: GPL-2.0-or-later
#include "render.h"

#include <stdio.h>

/* The consumer as the store records it, so clients see one form of it. */
static struct json_object *consumer_json(const struct consumer *c)
{
	char buf[CONSUMER_NAME_MAX + 64];

	consumer_format(c, buf, sizeof(buf));
	return vf_json_str_or_null(buf);
}

const char *render_state(const struct dev_rec *r)
{
	return r ? dev_state_name(r->state) : "host";
}

struct json_object *render_record(const struct dev_rec *r)
{
	struct json_object *o, *unit;

	if (!r)
		return NULL;
	o = json_object_new_object();
	unit = json_object_new_array();
	for (size_t i = 0; i < r->n_unit; i++)
		json_object_array_add(unit, json_object_new_string(r->unit[i]));
	json_object_object_add(o, "state", json_object_new_string(dev_state_name(r->state)));
	json_object_object_add(o, "original_driver", vf_json_str_or_null(r->original_driver));
	json_object_object_add(o, "unit", unit);
	json_object_object_add(o, "consumer", consumer_json(&r->consumer));
	json_object_object_add(o, "consumer_kind", vf_json_str_or_null(consumer_kind_name(r->consumer.kind)));
	json_object_object_add(o, "tenant", vf_json_str_or_null(r->tenant));
	json_object_object_add(o, "reset_pending", json_object_new_boolean(r->reset_pending));
	json_object_object_add(o, "no_reset_method", json_object_new_boolean(r->no_reset_method));
	json_object_object_add(o, "since", json_object_new_int64(r->since));
	json_object_object_add(o, "containment", vf_json_str_or_null(dev_containment_name(r->containment)));
	return o;
}

struct json_object *render_list(const struct inventory *inv, const struct store *st)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < inv->pci.n; i++) {
		const struct pci_dev_info *p = &inv->pci.devs[i];
		const struct verdict *v = &inv->verdicts[i];
		const struct dev_rec *r = store_get(st, p->bdf);
		struct json_object *o = json_object_new_object();
		char id[16];

		snprintf(id, sizeof(id), "%04x:%04x", p->vendor, p->device);
		json_object_object_add(o, "bdf", json_object_new_string(p->bdf));
		json_object_object_add(o, "id", p->ids_ok ? json_object_new_string(id) : NULL);
		json_object_object_add(o, "class_name", vf_json_str_or_null(p->class_name));
		json_object_object_add(o, "device_name", vf_json_str_or_null(p->device_name));
		json_object_object_add(o, "driver", vf_json_str_or_null(p->driver));
		json_object_object_add(o, "iommu_group",
				       p->iommu_group >= 0 ? json_object_new_int(p->iommu_group) : NULL);
		json_object_object_add(o, "state", json_object_new_string(render_state(r)));
		json_object_object_add(o, "tenant", r ? vf_json_str_or_null(r->tenant) : NULL);
		json_object_object_add(o, "consumer", r ? consumer_json(&r->consumer) : NULL);
		json_object_object_add(o, "consumer_kind",
				       r ? vf_json_str_or_null(consumer_kind_name(r->consumer.kind)) : NULL);
		json_object_object_add(o, "assignable",
				       json_object_new_boolean(v->reason == VF_REASON_NONE));
		json_object_object_add(o, "reason",
				       v->reason ? json_object_new_string(verdict_reason_code(v->reason))
						 : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *render_show(const struct inventory *inv, const struct store *st,
				const char *bdf, const struct render_watch *w, struct vf_err *e)
{
	int i = inventory_find(inv, bdf);
	const struct dev_rec *r = store_get(st, bdf);
	struct json_object *o, *watch = NULL;

	if (i < 0) {
		vf_err_refuse(e, "not-found", "no PCI device %s on this host", bdf);
		return NULL;
	}
	o = inventory_device_json(inv, (size_t)i);
	json_object_object_add(o, "state", json_object_new_string(render_state(r)));
	json_object_object_add(o, "owned", render_record(r));
	if (w && w->watched) {
		watch = json_object_new_object();
		json_object_object_add(watch, "level",
				       json_object_new_string(storm_level_name(w->level)));
		json_object_object_add(watch, "rate", json_object_new_int64((int64_t)w->rate));
	}
	json_object_object_add(o, "interrupts_watch", watch);
	return o;
}

struct json_object *render_unit(const struct unit_result *u, const char *state)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < u->n; i++)
		json_object_array_add(a, json_object_new_string(u->bdf[i]));
	json_object_object_add(o, "unit", a);
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "already", json_object_new_boolean(u->already));
	if (u->warning[0]) {
		/* a release whose reset failed: done, with the reset still to do */
		struct json_object *p = json_object_new_array();

		for (size_t i = 0; i < u->n; i++)
			if (u->reset_pending[i])
				json_object_array_add(p, json_object_new_string(u->bdf[i]));
		json_object_object_add(o, "reset_pending", json_object_new_boolean(true));
		json_object_object_add(o, "pending", p);
		json_object_object_add(o, "warning", json_object_new_string(u->warning));
	}
	return o;
}

struct json_object *render_status(const struct inventory *inv, const struct store *st,
				  const struct render_status *s)
{
	struct json_object *o = json_object_new_object();
	struct json_object *owned = json_object_new_object();
	struct json_object *mo = json_object_new_object();
	int count[DEV_QUARANTINED + 1] = { 0 };

	for (size_t i = 0; i < st->n; i++)
		count[st->devs[i].state]++;
	for (int k = DEV_POOLED; k <= DEV_QUARANTINED; k++)
		json_object_object_add(owned, dev_state_name((enum dev_state)k),
				       json_object_new_int(count[k]));
	json_object_object_add(o, "version", json_object_new_string(s->version));
	json_object_object_add(o, "pid", json_object_new_int(s->pid));
	json_object_object_add(o, "uptime_s", json_object_new_int64(s->uptime_s));
	json_object_object_add(o, "sysroot", json_object_new_string(s->sysroot));
	json_object_object_add(o, "state_dir", json_object_new_string(s->state_dir));
	json_object_object_add(o, "socket", json_object_new_string(s->socket));
	json_object_object_add(o, "iommu", json_object_new_boolean(inv->facts.iommu));
	json_object_object_add(o, "vfio", json_object_new_string(inv->facts.vfio_why));
	json_object_object_add(o, "devices", json_object_new_int((int)inv->pci.n));
	json_object_object_add(o, "owned", owned);
	json_object_object_add(mo, "interval_ms", json_object_new_int((int)s->interval_ms));
	json_object_object_add(mo, "samples", json_object_new_int64((int64_t)s->samples));
	json_object_object_add(mo, "late", json_object_new_int64((int64_t)s->late));
	json_object_object_add(mo, "max_late_us", json_object_new_int64((int64_t)s->max_late_us));
	json_object_object_add(o, "monitor", mo);
	if (s->levers)
		json_object_object_add(o, "containment_levers", levers_json(s->levers));
	if (s->view) {
		struct json_object *vo = json_object_new_object();

#define N(k, v) json_object_object_add(vo, k, json_object_new_int64((int64_t)(v)))
		N("generation", s->view_gen);
		N("device_reads", s->view->device_reads);
		N("host_reads", s->view->host_reads);
		N("rejudged", s->view->rejudged);
		N("swept", s->view->swept);
		N("rounds", s->view->rounds);
		N("drift", s->view->drift);
		N("rescans", s->view->rescans);
#undef N
		json_object_object_add(vo, "watching", json_object_new_string(s->view_watching));
		json_object_object_add(o, "view", vo);
	}
	if (s->libvirt_on) {
		struct json_object *lv = json_object_new_object();

		json_object_object_add(lv, "uri", json_object_new_string(s->libvirt_uri));
		json_object_object_add(lv, "connected", json_object_new_boolean(s->libvirt_connected));
		json_object_object_add(o, "libvirt", lv);
	}
	return o;
}
