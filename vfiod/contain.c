// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handoff.h"
#include "pci.h"

/* Puts back the command registers of the first `n` members silenced. */
static void unsilence(struct engine *en, const struct unit_result *u, size_t n,
		      const unsigned *old)
{
	for (size_t i = 0; i < n; i++)
		pci_write_command(en->h, u->bdf[i], old[i], NULL);
}

int engine_quarantine(struct engine *en, const char *bdf, struct unit_result *out,
		      struct vf_err *e)
{
	struct dev_rec *rec, *lead;
	unsigned old[STATE_UNIT_MAX];

	if (engine_lookup(en, bdf, &rec, &lead, out, e) < 0)
		return -1;
	if (lead->state == DEV_QUARANTINED) {
		out->already = true;
		return 0;
	}
	/* silence first: a storming device must stop before anything slower */
	for (size_t i = 0; i < out->n; i++) {
		if (pci_read_command(en->h, out->bdf[i], &old[i], e) < 0 ||
		    pci_write_command(en->h, out->bdf[i], silenced_command(old[i]), e) < 0) {
			/* all or nothing: the ones silenced get their register back */
			unsilence(en, out, i, old);
			return vf_err_wrap(e, "quarantine %s: silencing", bdf);
		}
	}
	if (handoff_detach(en, lead, true, e) < 0) {
		unsilence(en, out, out->n, old);
		return vf_err_wrap(e, "quarantine %s: detaching failed", bdf);
	}
	for (size_t i = 0; i < out->n; i++) {
		struct dev_rec *m = store_find(en->store, out->bdf[i]);

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

int engine_unquarantine(struct engine *en, const char *bdf, struct unit_result *out,
			struct vf_err *e)
{
	struct dev_rec *rec, *lead;

	if (engine_lookup(en, bdf, &rec, &lead, out, e) < 0)
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
