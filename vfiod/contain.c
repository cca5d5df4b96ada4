// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handoff.h"
#include "pci.h"

void contain_unsilence(struct engine *en, const struct unit_result *u, size_t n,
		       const unsigned *old)
{
	for (size_t i = 0; i < n; i++)
		pci_write_command(en->h, u->bdf[i], old[i], NULL);
}

int contain_silence(struct engine *en, const struct unit_result *u, unsigned *old,
		    struct vf_err *e)
{
	for (size_t i = 0; i < u->n; i++) {
		if (pci_read_command(en->h, u->bdf[i], &old[i], e) < 0 ||
		    pci_write_command(en->h, u->bdf[i], silenced_command(old[i]), e) < 0) {
			/* all or nothing: the ones silenced get their register back */
			contain_unsilence(en, u, i, old);
			return -1;
		}
	}
	return 0;
}

int contain_record(struct engine *en, const struct unit_result *u, const unsigned *old,
		   struct vf_err *e)
{
	for (size_t i = 0; i < u->n; i++) {
		struct dev_rec *m = store_find(en->store, u->bdf[i]);

		if (!m)
			continue;
		if (m->saved_command < 0)
			m->saved_command = (int)old[i];
		m->state = DEV_QUARANTINED;
		m->containment = CONTAIN_NONE; /* the state says it all now */
		/* no longer the consumer's, nor the tenant's (nor its quota's) */
		memset(&m->consumer, 0, sizeof(m->consumer));
		m->tenant[0] = '\0';
		m->since = (int64_t)time(NULL);
	}
	return store_save(en->store, e);
}

int engine_quarantine(struct engine *en, const char *bdf, struct unit_result *out,
		      struct vf_err *e)
{
	struct dev_rec *rec, *lead;
	unsigned old[STATE_UNIT_MAX];

	if (engine_lookup(en, bdf, &rec, &lead, out, e) < 0)
		return -1;
	if (engine_op_refuse(en, rec->bdf, false, e) < 0)
		return -1;
	if (lead->state == DEV_QUARANTINED) {
		out->already = true;
		return 0;
	}
	/* silence first: a storming device must stop before anything slower */
	if (contain_silence(en, out, old, e) < 0)
		return vf_err_wrap(e, "quarantine %s: silencing", bdf);
	if (handoff_detach(en, lead, true, e) < 0) {
		contain_unsilence(en, out, out->n, old);
		return vf_err_wrap(e, "quarantine %s: detaching failed", bdf);
	}
	return contain_record(en, out, old, e);
}

int engine_quarantine_start(struct engine *en, const char *bdf, struct engine_op **op,
			    struct unit_result *out, struct vf_err *e)
{
	struct dev_rec *rec, *lead;
	unsigned old[STATE_UNIT_MAX];

	*op = NULL;
	if (engine_lookup(en, bdf, &rec, &lead, out, e) < 0)
		return -1;
	if (lead->state != DEV_ASSIGNED || lead->consumer.kind != CONSUMER_VM || !en->vm)
		return engine_quarantine(en, bdf, out, e) < 0 ? -1 : 0;
	if (engine_op_refuse(en, rec->bdf, true, e) < 0)
		return -1;
	/* silenced now, as engine_quarantine does; the guest's letting go is not waited for */
	if (contain_silence(en, out, old, e) < 0)
		return vf_err_wrap(e, "quarantine %s: silencing", bdf);
	if (handoff_vm_detach_start(en, lead, ENGINE_OP_QUARANTINE, rec->bdf, old, op, e) < 0) {
		contain_unsilence(en, out, out->n, old);
		return vf_err_wrap(e, "quarantine %s: detaching failed", bdf);
	}
	return 1;
}

int engine_unquarantine(struct engine *en, const char *bdf, struct unit_result *out,
			struct vf_err *e)
{
	struct dev_rec *rec, *lead;

	if (engine_lookup(en, bdf, &rec, &lead, out, e) < 0)
		return -1;
	if (engine_op_refuse(en, rec->bdf, false, e) < 0)
		return -1;
	/* the operator's word ends a quarantine, and a silence short of one */
	if (lead->state != DEV_QUARANTINED && lead->containment != CONTAIN_SILENCED)
		return vf_err_refuse(e, "busy", "%s is %s, neither quarantined nor silenced", bdf,
				     dev_state_name(lead->state));
	/* every reset first: a failure leaves the whole unit quarantined */
	for (size_t i = 0; i < out->n; i++)
		if (engine_reset(en, out->bdf[i], e) < 0)
			return vf_err_wrap(e, "unquarantine %s", bdf);
	for (size_t i = 0; i < out->n; i++) {
		struct dev_rec *m = store_find(en->store, out->bdf[i]);

		if (m && m->saved_command >= 0 &&
		    pci_write_command(en->h, m->bdf, (unsigned)m->saved_command, e) < 0)
			return vf_err_wrap(e, "unquarantine %s: restoring the command register", bdf);
	}
	for (size_t i = 0; i < out->n; i++) {
		struct dev_rec *m = store_find(en->store, out->bdf[i]);

		if (!m)
			continue;
		m->saved_command = -1;
		m->containment = CONTAIN_NONE;
		if (m->state == DEV_QUARANTINED)
			m->state = DEV_POOLED; /* a silenced device keeps its consumer */
		m->since = (int64_t)time(NULL);
	}
	return store_save(en->store, e);
}

int engine_record_containment(struct engine *en, const char *bdf, enum dev_containment what,
			      int old_command, struct vf_err *e)
{
	struct dev_rec *r = store_find(en->store, bdf);

	if (!r)
		return 0;
	r->containment = what;
	if (old_command >= 0 && r->saved_command < 0)
		r->saved_command = old_command;
	return store_save(en->store, e) < 0 ? vf_err_wrap(e, "record %s's containment", bdf) : 0;
}
