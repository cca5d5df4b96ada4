// SPDX-License-Identifier: GPL-2.0-or-later
#include "consumers.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "proc.h"

const char *consumers_vm_of(const struct dev_rec *r)
{
	if (r->state != DEV_ASSIGNED || r->consumer.kind != CONSUMER_VM)
		return NULL;
	return r->consumer.name;
}

bool consumers_vm_holds(const struct store *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++) {
		const char *vm = consumers_vm_of(&st->devs[i]);

		if (vm && strcmp(vm, name) == 0)
			return true;
	}
	return false;
}

unsigned consumers_vm_cap(const struct store *st, const char *name,
			  const struct policy_class *(*class_of)(void *ctx, const char *bdf),
			  void *ctx)
{
	unsigned pct = 0;

	for (size_t i = 0; i < st->n; i++) {
		const struct dev_rec *r = &st->devs[i];
		const char *vm = consumers_vm_of(r);
		const struct policy_class *c;
		unsigned p;

		if (!vm || strcmp(vm, name) != 0)
			continue;
		c = class_of(ctx, r->bdf);
		p = r->containment != CONTAIN_NONE ? c->storm_vmm_cpu_max : c->vmm_cpu_max;
		if (!pct || p < pct)
			pct = p;
	}
	return pct;
}

int consumers_gone(struct consumers *cs, const struct consumer *c, const char *why)
{
	struct vf_strv back = { 0 };
	struct vf_err e = { 0 };
	int n = engine_release_consumer(cs->en, c, &back, &e);

	for (size_t i = 0; i < back.n; i++)
		events_emit(cs->events, "released", back.v[i], "%s: back to the pool", why);
	if (n < 0)
		events_emit(cs->events, "release", NULL, "%s: FAILED: %s", why, e.msg);
	vf_strv_free(&back);
	return n;
}

int consumers_note_holders(struct consumers *cs, const char *bdf, const pid_t *pids, size_t n,
			   const char *comm)
{
	const struct dev_rec *r = store_get(cs->en->store, bdf);
	struct vf_err e = { 0 };

	if (!r)
		return 0;
	if (r->state == DEV_POOLED && n > 0) {
		int a = engine_adopt_holder(cs->en, bdf, (int)pids[0], &e);

		if (a < 0)
			vf_log(LOG_WARNING, "%s: %s", bdf, e.msg);
		else if (a > 0)
			events_emit(cs->events, "assigned", bdf,
				    "process %d (%s) holds its VFIO group: recorded as its consumer",
				    (int)pids[0], comm);
		return a > 0;
	}
	if (r->state == DEV_ASSIGNED && r->consumer.kind == CONSUMER_HOLDER) {
		struct consumer holder = r->consumer;
		char what[64];

		/* still held by the recorded process: its pid, and its start time
		 * (a reused pid that holds the group is another holder) */
		if (proc_is(cs->en->h, holder.pid, holder.start))
			for (size_t k = 0; k < n; k++)
				if (pids[k] == holder.pid)
					return 0;
		snprintf(what, sizeof(what), "process %d let go of it", holder.pid);
		consumers_gone(cs, &holder, what);
		return 1;
	}
	return 0;
}
