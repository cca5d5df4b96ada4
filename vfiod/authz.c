// SPDX-License-Identifier: GPL-2.0-or-later
#include "authz.h"

#include <stdio.h>
#include <string.h>

static bool in_group(const struct authz_peer *p, gid_t g)
{
	if (p->gid == g)
		return true;
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == g)
			return true;
	return false;
}

bool authz_is_admin(const struct authz_groups *g, const struct authz_peer *p)
{
	return p->uid == 0 || (g->has_admin && in_group(p, g->admin));
}

static bool has_uid(const struct policy_tenant *t, uint32_t uid)
{
	for (size_t i = 0; i < t->n_uids; i++)
		if (t->uids[i] == uid)
			return true;
	return false;
}

static bool has_gid(const struct policy_tenant *t, uint32_t gid)
{
	for (size_t i = 0; i < t->n_gids; i++)
		if (t->gids[i] == gid)
			return true;
	return false;
}

bool authz_tenant_owns_process(const struct policy_tenant *t, const uint32_t uid[4],
			       const uint32_t gid[4])
{
	bool uids = true, gids = true;

	for (int i = 0; i < 4; i++) {
		uids &= has_uid(t, uid[i]);
		gids &= has_gid(t, gid[i]);
	}
	return uids || gids;
}

static bool is_tenant_member(const struct policy *pol, const struct authz_peer *p)
{
	return policy_tenant_for_peer(pol, p->uid, p->gid, p->groups, p->ngroups, NULL, 0) > 0;
}

/* Canonical form of a BDF, "" when it does not parse. */
static void canon(const char *bdf, char out[VF_BDF_LEN])
{
	struct vf_bdf b;

	out[0] = '\0';
	if (bdf && vf_parse_bdf(bdf, &b) == 0)
		vf_bdf_format(&b, out);
}

/* The tenant lists the device by address. */
static bool listed(const struct policy_tenant *ten, const char *bdf)
{
	char c[VF_BDF_LEN];

	canon(bdf, c);
	for (size_t i = 0; c[0] && i < ten->n_devices; i++)
		if (strcmp(ten->devices[i].bdf, c) == 0)
			return true;
	return false;
}

/*
 * Every device of the unit must be the tenant's: the unit moves whole, so
 * naming a GPU's audio function hands over the GPU too. There is no
 * exception for companions: companionship is symmetric (the same slot, or a
 * [companions] pair either way round), so a companion let through on the
 * strength of a member the tenant may use would let the audio function
 * bring the GPU (docs/policy.md, "Tenants and units").
 */
static int check_unit(const struct policy *pol, const struct policy_tenant *ten,
		      const struct authz_target *t, struct vf_err *e)
{
	char named[VF_BDF_LEN];

	if (t->n_unit == 0 || t->n_unit > AUTHZ_UNIT_MAX)
		return vf_err_refuse(e, "not-permitted",
				     "tenant %s: the unit %s moves with is not known, so it is not handed over",
				     ten->name, t->bdf);
	canon(t->bdf, named);
	for (size_t i = 0; i < t->n_unit; i++) {
		const struct authz_dev *m = &t->unit[i];
		char c[VF_BDF_LEN];

		if (m->ids_ok ? policy_tenant_may_use(pol, ten, m->bdf, m->vendor, m->device,
						      m->pci_class)
			      : listed(ten, m->bdf))
			continue;
		canon(m->bdf, c);
		if (named[0] && strcmp(c, named) == 0)
			return vf_err_refuse(e, "not-permitted",
					     "tenant %s may not use %s (neither listed nor of a class it names%s)",
					     ten->name, m->bdf,
					     m->ids_ok ? "" : "; its ids cannot be read");
		return vf_err_refuse(e, "not-permitted",
				     "tenant %s may not use %s, which moves with %s as one unit (neither listed nor of a class it names%s)",
				     ten->name, m->bdf, t->bdf,
				     m->ids_ok ? "" : "; its ids cannot be read");
	}
	return 0;
}

/* The tenant an assign is for: the named one, or the caller's only one. */
static int pick_tenant(const struct policy *pol, const struct authz_peer *p, bool admin,
		       const char *name, const struct policy_tenant **out, struct vf_err *e)
{
	const struct policy_tenant *mine[2];
	size_t n;

	*out = NULL;
	if (name && name[0]) {
		*out = policy_tenant_find(pol, name);
		if (!*out)
			return vf_err_refuse(e, "not-found", "no tenant \"%.64s\" in the policy", name);
		if (!admin && !policy_tenant_has_peer(*out, p->uid, p->gid, p->groups, p->ngroups))
			return vf_err_refuse(e, "not-permitted",
					     "uid %u is not a member of tenant %s",
					     (unsigned)p->uid, (*out)->name);
		return 0;
	}
	if (admin)
		return 0; /* an administrator may assign on no tenant's account */
	n = policy_tenant_for_peer(pol, p->uid, p->gid, p->groups, p->ngroups, mine, 2);
	if (n == 0)
		return vf_err_refuse(e, "not-permitted", "uid %u is no tenant's member",
				     (unsigned)p->uid);
	if (n > 1)
		return vf_err_refuse(e, "bad-request",
				     "uid %u is a member of several tenants: name one with --tenant",
				     (unsigned)p->uid);
	*out = mine[0];
	return 0;
}

/*
 * Who may do what only operators may, as the policy has it: "root or
 * members of group G", or "root" when the policy names no admin group.
 */
static const char *operators(const struct policy *pol, char *buf, size_t n)
{
	if (!pol->daemon.admin_group[0])
		return "root";
	snprintf(buf, n, "root or members of group %s", pol->daemon.admin_group);
	return buf;
}

int authz_check(const struct policy *pol, const struct authz_groups *g,
		const struct authz_peer *p, enum proto_op op, const struct authz_target *t,
		const struct policy_tenant **tenant_out, struct vf_err *e)
{
	bool admin = authz_is_admin(g, p);
	const struct policy_tenant *ten = NULL;
	char ops[2 * POLICY_GROUP_MAX + 64];

	if (tenant_out)
		*tenant_out = NULL;
	switch (op) {
	case OP_LIST:
	case OP_SHOW:
	case OP_STATUS:
	case OP_EVENTS:
		if (admin || (g->has_socket && in_group(p, g->socket)) || is_tenant_member(pol, p))
			return 0;
		if (pol->daemon.socket_group[0])
			snprintf(ops, sizeof(ops), "root, members of group %s%s%s, or a tenant's members",
				 pol->daemon.socket_group, pol->daemon.admin_group[0] ? " or " : "",
				 pol->daemon.admin_group);
		else if (pol->daemon.admin_group[0])
			snprintf(ops, sizeof(ops), "root, members of group %s, or a tenant's members",
				 pol->daemon.admin_group);
		else
			snprintf(ops, sizeof(ops), "root or a tenant's members");
		return vf_err_refuse(e, "not-permitted",
				     "uid %u may not read vfiod's state: only %s may", (unsigned)p->uid,
				     ops);
	case OP_BIND:
	case OP_RETURN:
	case OP_QUARANTINE:
	case OP_UNQUARANTINE:
		if (admin)
			return 0;
		return vf_err_refuse(e, "not-permitted", "uid %u may not %s: only %s may%s",
				     (unsigned)p->uid, proto_op_name(op),
				     operators(pol, ops, sizeof(ops)),
				     pol->daemon.admin_group[0] ? "" : " (the policy names no admin_group)");
	case OP_ASSIGN:
		if (pick_tenant(pol, p, admin, t->tenant, &ten, e) < 0)
			return -1;
		if (tenant_out)
			*tenant_out = ten;
		if (!ten)
			return 0;
		if (check_unit(pol, ten, t, e) < 0)
			return -1;
		if (t->container && !ten->trusted)
			return vf_err_refuse(e, "not-permitted",
					     "tenant %s is not trusted with containers: a container shares the host's kernel and the device's driver, so only trusted tenants get one",
					     ten->name);
		if (t->proc_uid && !admin && !authz_tenant_owns_process(ten, t->proc_uid, t->proc_gid))
			return vf_err_refuse(e, "not-permitted",
					     "process %d does not belong to tenant %s (its uid %u and gid %u are not the tenant's): a tenant may inject only into its own processes",
					     t->pid, ten->name, (unsigned)t->proc_uid[0],
					     (unsigned)t->proc_gid[0]);
		if (t->held + t->n_unit > ten->quota)
			return vf_err_refuse(e, "quota-exceeded",
					     "tenant %s holds %zu device(s); %zu more would pass its quota of %u",
					     ten->name, t->held, t->n_unit, (unsigned)ten->quota);
		return 0;
	case OP_RELEASE:
		if (admin)
			return 0;
		if (t->holder && t->holder[0]) {
			ten = policy_tenant_find(pol, t->holder);
			if (ten && policy_tenant_has_peer(ten, p->uid, p->gid, p->groups, p->ngroups))
				return 0;
			return vf_err_refuse(e, "not-permitted",
					     "%s is held by tenant %s; uid %u may not release it",
					     t->bdf, t->holder, (unsigned)p->uid);
		}
		return vf_err_refuse(e, "not-permitted",
				     "%s is held by no tenant: only %s may release it%s", t->bdf,
				     operators(pol, ops, sizeof(ops)),
				     pol->daemon.admin_group[0] ? "" : " (the policy names no admin_group)");
	default:
		return vf_err_refuse(e, "not-permitted", "unknown operation");
	}
}
