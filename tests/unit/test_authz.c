// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the authorization decision table (authz.c, the table in
 * authz.h and docs/protocol.md), over a policy parsed from INI text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authz.h"
#include "policy.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char policy_ini[] =
	"[daemon]\n"
	"\n"
	"[class edu]\n"
	"match = id=1234:11e8\n"
	"\n"
	"[class nic]\n"
	"match = class=0200\n"
	"\n"
	"[class gpu]\n"
	"match = class=0300\n"
	"\n"
	"[class audio]\n"
	"match = class=0403\n"
	"\n"
	"[tenant alice]\n"
	"uids = 1001\n"
	"classes = edu\n"
	"quota = 1\n"
	"trusted = true\n"
	"\n"
	"[tenant bob]\n"
	"uids = 1002\n"
	"gids = 3000\n"
	"devices = 0000:00:03.0\n"
	"quota = 2\n"
	"\n"
	"[tenant team]\n"
	"gids = 3001\n"
	"classes = edu nic\n"
	"quota = 3\n"
	"trusted = true\n"
	"\n"
	"[tenant listener]\n"
	"uids = 1010\n"
	"classes = audio\n"
	"quota = 8\n"
	"\n"
	"[tenant gamer]\n"
	"uids = 1011\n"
	"classes = gpu\n"
	"quota = 8\n"
	"\n"
	"[tenant studio]\n"
	"uids = 1012\n"
	"classes = gpu audio\n"
	"quota = 8\n"
	"\n"
	"[tenant carol]\n"
	"uids = 1013\n"
	"devices = 0000:01:00.0 01:00.1\n"
	"quota = 8\n";

#define SOCKET_GID 4242
#define ADMIN_GID 4243

static struct policy pol;

static const struct authz_groups groups = {
	.has_socket = true,
	.socket = SOCKET_GID,
	.has_admin = true,
	.admin = ADMIN_GID,
};

/* ---- callers -------------------------------------------------------------- */

static const struct authz_peer root = { .uid = 0, .gid = 0 };
/* the admin group as primary gid, and as a supplementary group */
static const struct authz_peer admin_gid = { .uid = 2000, .gid = ADMIN_GID };
static const struct authz_peer admin_sup = {
	.uid = 2001, .gid = 100, .groups = { 27, ADMIN_GID }, .ngroups = 2
};
/* in the socket group, no tenant's member */
static const struct authz_peer sock = {
	.uid = 2002, .gid = 100, .groups = { SOCKET_GID }, .ngroups = 1
};
/* alice's member (by uid), not in the socket group */
static const struct authz_peer alice = { .uid = 1001, .gid = 1001 };
/* bob's member by uid, and by primary gid */
static const struct authz_peer bob = { .uid = 1002, .gid = 1002 };
static const struct authz_peer bob_gid = { .uid = 5000, .gid = 3000 };
/* team's member through a supplementary group only */
static const struct authz_peer team = {
	.uid = 1003, .gid = 100, .groups = { 100, 3001 }, .ngroups = 2
};
/* alice by uid and team by a supplementary group: two tenants */
static const struct authz_peer alice_team = {
	.uid = 1001, .gid = 1001, .groups = { 3001 }, .ngroups = 1
};
/* the tenants of the unit tests, one uid each */
static const struct authz_peer listener = { .uid = 1010, .gid = 1010 };
static const struct authz_peer gamer = { .uid = 1011, .gid = 1011 };
static const struct authz_peer studio = { .uid = 1012, .gid = 1012 };
static const struct authz_peer carol = { .uid = 1013, .gid = 1013 };
static const struct authz_peer stranger = {
	.uid = 6000, .gid = 6000, .groups = { 100 }, .ngroups = 1
};

/* ---- devices -------------------------------------------------------------- */

#define DEV(b, v, d, c) { .bdf = b, .ids_ok = true, .vendor = v, .device = d, .pci_class = c }
/* class edu (by id), class 00ff00 */
#define EDU_DEV DEV("0000:00:04.0", 0x1234, 0x11e8, 0x00ff00)
#define EDU .bdf = "0000:00:04.0", .unit = { EDU_DEV }, .n_unit = 1
/* an edu and a second edu function that moves with it */
#define EDU2 .bdf = "0000:00:04.0", .unit = { EDU_DEV, DEV("0000:00:04.1", 0x1234, 0x11e8, 0x00ff00) }, \
	     .n_unit = 2
/* class nic (by class 0200) */
#define NIC_DEV(b) DEV(b, 0x8086, 0x10d3, 0x020000)
#define NIC .bdf = "0000:00:05.0", .unit = { NIC_DEV("0000:00:05.0") }, .n_unit = 1
/* a NIC of three functions */
#define NIC3 .bdf = "0000:00:05.0", \
	     .unit = { NIC_DEV("0000:00:05.0"), NIC_DEV("0000:00:05.1"), NIC_DEV("0000:00:05.2") }, \
	     .n_unit = 3
/* bob's device, listed by address; an NVMe controller, of no class of the policy */
#define BOBDEV_DEV DEV("0000:00:03.0", 0x1b36, 0x0010, 0x010802)
#define BOBDEV .bdf = "0000:00:03.0", .unit = { BOBDEV_DEV }, .n_unit = 1
#define BOBDEV_SHORT .bdf = "00:03.0", .unit = { DEV("00:03.0", 0x1b36, 0x0010, 0x010802) }, .n_unit = 1

struct row {
	const char *what;
	const struct authz_peer *peer;
	enum proto_op op;
	struct authz_target t;
	const char *code;        /* NULL: allowed */
	const char *tenant_out;  /* assign: the tenant it is for, NULL none */
	const char *msg[3];      /* what the refusal's message must say */
};

/*
 * Refusals whose message names neither the caller's uid nor a tenant, as
 * authz.c words them: a release of a device nobody holds ("BDF is held by
 * no tenant: only root ... may release it") and an op past the table.
 */
static bool anonymous_refusal(const struct row *r)
{
	return (r->op == OP_RELEASE && (!r->t.holder || !r->t.holder[0])) ||
	       r->op >= OP_COUNT_;
}

/* Runs one row; a failure names the row. */
static void check_row(const struct row *r)
{
	/* a stale value, to see that authz_check always sets it */
	static const struct policy_tenant stale = { .name = "stale" };
	const struct policy_tenant *out = &stale;
	struct vf_err e = { 0 };
	char uid[32];
	int rc;

	rc = authz_check(&pol, &groups, r->peer, r->op, &r->t, &out, &e);
	if (!r->code) {
		if (rc != 0)
			fail_msg("%s: refused (%s): %s", r->what, e.code ? e.code : "NULL",
				 e.msg);
		assert_null(e.code);
		assert_string_equal(e.msg, "");
	} else {
		if (rc != -1)
			fail_msg("%s: allowed (rc %d), want %s", r->what, rc, r->code);
		if (!e.code || strcmp(e.code, r->code) != 0)
			fail_msg("%s: code %s, want %s (%s)", r->what, e.code ? e.code : "NULL",
				 r->code, e.msg);
		assert_int_equal(e.errnum, 0);
		for (size_t i = 0; i < N_ELEMS(r->msg) && r->msg[i]; i++)
			if (!strstr(e.msg, r->msg[i]))
				fail_msg("%s: message \"%s\" does not say \"%s\"", r->what, e.msg,
					 r->msg[i]);
		/* a refusal names who asked, or the tenant it is about */
		snprintf(uid, sizeof(uid), "uid %u", (unsigned)r->peer->uid);
		if (!anonymous_refusal(r) && !strstr(e.msg, uid) && !strstr(e.msg, "tenant"))
			fail_msg("%s: message \"%s\" names neither the caller nor a tenant",
				 r->what, e.msg);
	}
	/*
	 * The tenant an allowed assign is for. On a refusal authz_check may
	 * leave the tenant it picked (the daemon does not look): unchecked.
	 */
	if (r->code && r->op == OP_ASSIGN)
		return;
	if (r->tenant_out) {
		if (!out)
			fail_msg("%s: no tenant, want %s", r->what, r->tenant_out);
		assert_string_equal(out->name, r->tenant_out);
		assert_ptr_equal(out, policy_tenant_find(&pol, r->tenant_out));
	} else if (out) {
		fail_msg("%s: tenant_out %p, want NULL", r->what, (const void *)out);
	}
}

static void check_rows(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_row(&rows[i]);
}

/* ---- fixtures ------------------------------------------------------------- */

static int setup(void **state)
{
	struct vf_err e = { 0 };

	(void)state;
	if (policy_parse(&pol, "authz.ini", policy_ini, &e) != 0) {
		print_error("policy_parse: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	policy_free(&pol);
	return 0;
}

/* The policy is what the tests below assume. */
static void test_policy(void **state)
{
	const struct policy_tenant *a = policy_tenant_find(&pol, "alice");
	const struct policy_tenant *b = policy_tenant_find(&pol, "bob");
	const struct policy_tenant *t = policy_tenant_find(&pol, "team");

	(void)state;
	assert_int_equal(pol.n_classes, 4);
	assert_int_equal(pol.n_tenants, 7);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(t);
	assert_int_equal(a->quota, 1);
	assert_true(a->trusted);
	assert_int_equal(b->quota, 2);
	assert_false(b->trusted);
	assert_int_equal(t->quota, 3);
	assert_true(t->trusted);
	assert_string_equal(policy_class_for(&pol, 0x1234, 0x11e8, 0x00ff00)->name, "edu");
	assert_string_equal(policy_class_for(&pol, 0x8086, 0x10d3, 0x020000)->name, "nic");
	assert_string_equal(policy_class_for(&pol, 0x1b36, 0x0010, 0x010802)->name,
			    "default");
	assert_string_equal(policy_class_for(&pol, 0x10de, 0x1eb8, 0x030000)->name, "gpu");
	assert_string_equal(policy_class_for(&pol, 0x10de, 0x10f8, 0x040300)->name, "audio");
}

static void test_is_admin(void **state)
{
	static const struct authz_groups none = { 0 };

	(void)state;
	assert_true(authz_is_admin(&groups, &root));
	assert_true(authz_is_admin(&groups, &admin_gid));
	assert_true(authz_is_admin(&groups, &admin_sup));
	assert_false(authz_is_admin(&groups, &sock));
	assert_false(authz_is_admin(&groups, &alice));
	assert_false(authz_is_admin(&groups, &stranger));
	/* no admin group: root only, whatever the unset gid field holds */
	assert_true(authz_is_admin(&none, &root));
	assert_false(authz_is_admin(&none, &admin_gid));
	{
		static const struct authz_peer gid0 = { .uid = 7000, .gid = 0 };
		static const struct authz_peer sup0 = {
			.uid = 7001, .gid = 7001, .groups = { 0 }, .ngroups = 1
		};

		assert_false(authz_is_admin(&none, &gid0));
		assert_false(authz_is_admin(&none, &sup0));
	}
}

/* ---- read-only ops ---------------------------------------------------------- */

static void test_read_ops(void **state)
{
	static const enum proto_op ops[] = { OP_LIST, OP_SHOW, OP_STATUS, OP_EVENTS };
	static const struct {
		const char *what;
		const struct authz_peer *peer;
		bool allowed;
	} who[] = {
		{ "root", &root, true },
		{ "admin by gid", &admin_gid, true },
		{ "admin by supplementary group", &admin_sup, true },
		{ "socket group member", &sock, true },
		{ "tenant member by uid, not in the socket group", &alice, true },
		{ "tenant member by gid", &bob_gid, true },
		{ "tenant member by supplementary group", &team, true },
		{ "stranger", &stranger, false },
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(ops); i++)
		for (size_t j = 0; j < N_ELEMS(who); j++) {
			char what[128];
			struct row r = {
				.what = what,
				.peer = who[j].peer,
				.op = ops[i],
				.t = { EDU },
				.code = who[j].allowed ? NULL : "not-permitted",
				.msg = { who[j].allowed ? NULL : "uid 6000",
					 who[j].allowed ? NULL : "may not read" },
			};

			snprintf(what, sizeof(what), "%s by %s", proto_op_name(ops[i]),
				 who[j].what);
			check_row(&r);
		}
}

/* Without a socket group (root-only socket), being in gid 4242 means nothing. */
static void test_read_ops_without_groups(void **state)
{
	static const struct authz_groups none = { 0 };
	struct vf_err e = { 0 };
	const struct policy_tenant *out = NULL;
	static const struct authz_peer gid0 = { .uid = 7000, .gid = 0 };
	const struct authz_target tgt = { EDU };

	(void)state;
	assert_int_equal(authz_check(&pol, &none, &sock, OP_LIST, &tgt, &out, &e), -1);
	assert_string_equal(e.code, "not-permitted");
	assert_non_null(strstr(e.msg, "uid 2002"));
	memset(&e, 0, sizeof(e));
	assert_int_equal(authz_check(&pol, &none, &admin_gid, OP_STATUS, &tgt, &out, &e), -1);
	assert_string_equal(e.code, "not-permitted");
	/* the unset (zero) group fields match no one's gid 0 */
	memset(&e, 0, sizeof(e));
	assert_int_equal(authz_check(&pol, &none, &gid0, OP_SHOW, &tgt, &out, &e), -1);
	memset(&e, 0, sizeof(e));
	assert_int_equal(authz_check(&pol, &none, &gid0, OP_BIND, &tgt, &out, &e), -1);
	/* root and tenant members still may */
	assert_int_equal(authz_check(&pol, &none, &root, OP_LIST, &tgt, &out, &e), 0);
	assert_int_equal(authz_check(&pol, &none, &root, OP_BIND, &tgt, &out, &e), 0);
	assert_int_equal(authz_check(&pol, &none, &team, OP_EVENTS, &tgt, &out, &e), 0);
	/* tenant_out may be NULL */
	assert_int_equal(authz_check(&pol, &none, &root, OP_LIST, &tgt, NULL, &e), 0);
}

/* ---- host ops ----------------------------------------------------------------- */

static void test_host_ops(void **state)
{
	static const enum proto_op ops[] = { OP_BIND, OP_RETURN, OP_QUARANTINE,
					     OP_UNQUARANTINE };
	static const struct {
		const char *what;
		const struct authz_peer *peer;
		const char *uid; /* NULL: allowed */
	} who[] = {
		{ "root", &root, NULL },
		{ "admin by gid", &admin_gid, NULL },
		{ "admin by supplementary group", &admin_sup, NULL },
		{ "socket group member", &sock, "uid 2002" },
		{ "tenant member", &alice, "uid 1001" },
		{ "trusted tenant's member", &team, "uid 1003" },
		{ "stranger", &stranger, "uid 6000" },
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(ops); i++)
		for (size_t j = 0; j < N_ELEMS(who); j++) {
			char what[128];
			struct row r = {
				.what = what,
				.peer = who[j].peer,
				.op = ops[i],
				.t = { EDU },
				.code = who[j].uid ? "not-permitted" : NULL,
				.msg = { who[j].uid, who[j].uid ? proto_op_name(ops[i]) : NULL,
					 who[j].uid ? "only root may" : NULL },
			};

			snprintf(what, sizeof(what), "%s by %s", proto_op_name(ops[i]),
				 who[j].what);
			check_row(&r);
		}
}

/* ---- assign ------------------------------------------------------------------- */

static void test_assign(void **state)
{
	static const struct row rows[] = {
		/* a tenant's member, on the tenant's own account */
		{ "alice: edu within quota", &alice, OP_ASSIGN,
		  { EDU, .container = true, .held = 0 }, NULL, "alice", { NULL } },
		{ "alice: \"\" names no tenant", &alice, OP_ASSIGN,
		  { EDU, .tenant = "", .container = true }, NULL, "alice", { NULL } },
		{ "alice: a NIC (class not hers)", &alice, OP_ASSIGN,
		  { NIC, .container = true }, "not-permitted", NULL,
		  { "tenant alice", "0000:00:05.0", "may not use" } },
		{ "alice: over quota (1 held + 1 > 1)", &alice, OP_ASSIGN,
		  { EDU, .container = true, .held = 1 }, "quota-exceeded", NULL,
		  { "tenant alice", "holds 1", "quota of 1" } },
		{ "alice: a unit of 2 with quota 1", &alice, OP_ASSIGN,
		  { EDU2, .container = true, .held = 0 }, "quota-exceeded", NULL,
		  { "tenant alice", "2 more", "quota of 1" } },
		{ "bob: container, untrusted", &bob, OP_ASSIGN,
		  { BOBDEV, .container = true }, "not-permitted", NULL,
		  { "tenant bob", "not trusted", "kernel" } },
		/* the table is consumer-neutral: a non-container handoff */
		{ "bob: listed device, no container", &bob, OP_ASSIGN,
		  { BOBDEV, .container = false }, NULL, "bob", { NULL } },
		{ "bob: listed device given short", &bob, OP_ASSIGN,
		  { BOBDEV_SHORT, .container = false }, NULL, "bob", { NULL } },
		{ "bob by gid: listed device, 1 held of 2", &bob_gid, OP_ASSIGN,
		  { BOBDEV, .held = 1 }, NULL, "bob", { NULL } },
		{ "bob: 2 held of 2", &bob, OP_ASSIGN,
		  { BOBDEV, .held = 2 }, "quota-exceeded", NULL,
		  { "tenant bob", "quota of 2" } },
		{ "bob: an edu (neither listed nor a class of his)", &bob, OP_ASSIGN,
		  { EDU }, "not-permitted", NULL,
		  { "tenant bob", "0000:00:04.0", "neither listed nor of a class" } },
		{ "bob: another device of his device's (default) class", &bob, OP_ASSIGN,
		  { .bdf = "0000:00:06.0", .unit = { DEV("0000:00:06.0", 0x1b36, 0x0010, 0x010802) },
		    .n_unit = 1 },
		  "not-permitted", NULL, { "tenant bob", "0000:00:06.0" } },
		/* the device must be usable before the container check says anything */
		{ "bob: a NIC in a container", &bob, OP_ASSIGN,
		  { NIC, .container = true }, "not-permitted", NULL,
		  { "tenant bob", "may not use" } },
		/* two tenants */
		{ "alice+team: none named", &alice_team, OP_ASSIGN,
		  { EDU, .container = true }, "bad-request", NULL,
		  { "uid 1001", "several tenants", "--tenant" } },
		{ "alice+team: team named, a NIC", &alice_team, OP_ASSIGN,
		  { NIC, .tenant = "team", .container = true }, NULL, "team",
		  { NULL } },
		{ "alice+team: alice named, an edu", &alice_team, OP_ASSIGN,
		  { EDU, .tenant = "alice", .container = true }, NULL, "alice",
		  { NULL } },
		{ "alice+team: alice named, a NIC", &alice_team, OP_ASSIGN,
		  { NIC, .tenant = "alice", .container = true }, "not-permitted",
		  NULL, { "tenant alice" } },
		{ "alice+team: bob named", &alice_team, OP_ASSIGN,
		  { BOBDEV, .tenant = "bob" }, "not-permitted", NULL,
		  { "uid 1001", "not a member of tenant bob" } },
		{ "alice: bob named", &alice, OP_ASSIGN,
		  { BOBDEV, .tenant = "bob" }, "not-permitted", NULL,
		  { "uid 1001", "tenant bob" } },
		{ "alice: an unknown tenant named", &alice, OP_ASSIGN,
		  { EDU, .tenant = "nobody" }, "not-found", NULL,
		  { "tenant \"nobody\"" } },
		/* a member through a supplementary group only */
		{ "team by supplementary gid: edu, 2 held of 3", &team, OP_ASSIGN,
		  { EDU, .container = true, .held = 2 }, NULL, "team", { NULL } },
		{ "team: a NIC unit of 3, none held", &team, OP_ASSIGN,
		  { NIC3, .container = true, .held = 0 }, NULL, "team", { NULL } },
		{ "team: 3 held of 3", &team, OP_ASSIGN,
		  { EDU, .container = true, .held = 3 }, "quota-exceeded", NULL,
		  { "tenant team", "quota of 3" } },
		{ "team: a device of no class of its", &team, OP_ASSIGN,
		  { BOBDEV }, "not-permitted", NULL, { "tenant team" } },
		/* no tenant at all */
		{ "stranger", &stranger, OP_ASSIGN, { EDU }, "not-permitted", NULL,
		  { "uid 6000", "no tenant" } },
		{ "socket group member", &sock, OP_ASSIGN, { EDU },
		  "not-permitted", NULL, { "uid 2002" } },
		{ "stranger naming alice", &stranger, OP_ASSIGN,
		  { EDU, .tenant = "alice" }, "not-permitted", NULL,
		  { "uid 6000", "tenant alice" } },
		/* administrators: on no tenant's account, nothing else is checked */
		{ "admin by gid, no tenant", &admin_gid, OP_ASSIGN,
		  { NIC3, .container = true, .held = 99 }, NULL, NULL, { NULL } },
		{ "admin by supplementary group, no tenant", &admin_sup, OP_ASSIGN,
		  { BOBDEV, .container = true }, NULL, NULL, { NULL } },
		{ "root, no tenant", &root, OP_ASSIGN,
		  { EDU, .container = true }, NULL, NULL, { NULL } },
		/*
		 * An administrator naming a tenant acts on its account, with its
		 * limits: the device must be the tenant's, a container needs a
		 * trusted tenant, and the quota holds.
		 */
		{ "admin for alice, within quota", &admin_gid, OP_ASSIGN,
		  { EDU, .tenant = "alice", .container = true }, NULL, "alice",
		  { NULL } },
		{ "admin for alice, over quota", &admin_gid, OP_ASSIGN,
		  { EDU, .tenant = "alice", .container = true, .held = 1 },
		  "quota-exceeded", NULL, { "tenant alice", "quota of 1" } },
		{ "root for alice, a unit of 2", &root, OP_ASSIGN,
		  { EDU2, .tenant = "alice" }, "quota-exceeded", NULL,
		  { "tenant alice" } },
		{ "admin for alice, a NIC", &admin_sup, OP_ASSIGN,
		  { NIC, .tenant = "alice" }, "not-permitted", NULL,
		  { "tenant alice", "may not use" } },
		{ "admin for bob, a container", &admin_gid, OP_ASSIGN,
		  { BOBDEV, .tenant = "bob", .container = true }, "not-permitted",
		  NULL, { "tenant bob", "kernel" } },
		{ "admin for bob, no container", &admin_gid, OP_ASSIGN,
		  { BOBDEV, .tenant = "bob" }, NULL, "bob", { NULL } },
		{ "admin for team (not a member)", &admin_sup, OP_ASSIGN,
		  { NIC, .tenant = "team", .container = true }, NULL, "team",
		  { NULL } },
		{ "admin for an unknown tenant", &admin_gid, OP_ASSIGN,
		  { EDU, .tenant = "nobody" }, "not-found", NULL,
		  { "tenant \"nobody\"" } },
	};

	(void)state;
	check_rows(rows, N_ELEMS(rows));

	/* tenant_out may be NULL */
	{
		struct vf_err e = { 0 };
		const struct authz_target t = { EDU, .container = true };

		assert_int_equal(authz_check(&pol, &groups, &alice, OP_ASSIGN, &t, NULL, &e), 0);
	}
}

/* ---- assign: the whole unit ----------------------------------------------------- */

/* A GPU (class gpu) and its HDMI audio function (class audio): one unit. */
#define GPU_DEV DEV("0000:01:00.0", 0x10de, 0x1eb8, 0x030000)
#define HDA_DEV DEV("0000:01:00.1", 0x10de, 0x10f8, 0x040300)
/* a NIC function of the same slot (class nic), of no class the GPU tenants name */
#define SLOTNIC_DEV DEV("0000:01:00.2", 0x8086, 0x10d3, 0x020000)

/*
 * The unit moves whole, so each of its devices must be the tenant's: naming
 * the audio function must not hand over the GPU (docs/policy.md, "Tenants
 * and units").
 */
static void test_assign_unit(void **state)
{
	static const struct row rows[] = {
		{ "listener (audio) names the audio function of a GPU", &listener, OP_ASSIGN,
		  { .bdf = "0000:01:00.1", .unit = { GPU_DEV, HDA_DEV }, .n_unit = 2 },
		  "not-permitted", NULL,
		  { "tenant listener may not use 0000:01:00.0", "moves with 0000:01:00.1",
		    "neither listed nor of a class" } },
		{ "listener: the same, the unit listed the other way round", &listener, OP_ASSIGN,
		  { .bdf = "0000:01:00.1", .unit = { HDA_DEV, GPU_DEV }, .n_unit = 2 },
		  "not-permitted", NULL, { "may not use 0000:01:00.0", "moves with" } },
		{ "listener: an audio function alone", &listener, OP_ASSIGN,
		  { .bdf = "0000:01:00.1", .unit = { HDA_DEV }, .n_unit = 1 }, NULL, "listener",
		  { NULL } },
		{ "gamer (gpu) names a GPU whose audio function it may not use", &gamer,
		  OP_ASSIGN, { .bdf = "0000:01:00.0", .unit = { GPU_DEV, HDA_DEV }, .n_unit = 2 },
		  "not-permitted", NULL,
		  { "tenant gamer may not use 0000:01:00.1", "moves with 0000:01:00.0" } },
		{ "gamer: a GPU alone", &gamer, OP_ASSIGN,
		  { .bdf = "0000:01:00.0", .unit = { GPU_DEV }, .n_unit = 1 }, NULL, "gamer",
		  { NULL } },
		{ "studio (gpu, audio) names the GPU", &studio, OP_ASSIGN,
		  { .bdf = "0000:01:00.0", .unit = { GPU_DEV, HDA_DEV }, .n_unit = 2 }, NULL,
		  "studio", { NULL } },
		{ "studio names the audio function", &studio, OP_ASSIGN,
		  { .bdf = "0000:01:00.1", .unit = { GPU_DEV, HDA_DEV }, .n_unit = 2 }, NULL,
		  "studio", { NULL } },
		{ "carol (both listed) names the audio function", &carol, OP_ASSIGN,
		  { .bdf = "0000:01:00.1", .unit = { GPU_DEV, HDA_DEV }, .n_unit = 2 }, NULL,
		  "carol", { NULL } },
		{ "carol: listed devices whose ids cannot be read", &carol, OP_ASSIGN,
		  { .bdf = "0000:01:00.0",
		    .unit = { { .bdf = "0000:01:00.0" }, { .bdf = "0000:01:00.1" } },
		    .n_unit = 2 },
		  NULL, "carol", { NULL } },
		{ "studio: a member whose ids cannot be read, not listed", &studio, OP_ASSIGN,
		  { .bdf = "0000:01:00.0", .unit = { GPU_DEV, { .bdf = "0000:01:00.1" } },
		    .n_unit = 2 },
		  "not-permitted", NULL, { "may not use 0000:01:00.1", "ids cannot be read" } },
		{ "studio: a unit with an unrelated member", &studio, OP_ASSIGN,
		  { .bdf = "0000:01:00.0", .unit = { GPU_DEV, HDA_DEV, SLOTNIC_DEV }, .n_unit = 3 },
		  "not-permitted", NULL,
		  { "tenant studio may not use 0000:01:00.2", "moves with 0000:01:00.0" } },
		{ "carol: a unit with a member she does not list", &carol, OP_ASSIGN,
		  { .bdf = "0000:01:00.1", .unit = { GPU_DEV, HDA_DEV, SLOTNIC_DEV }, .n_unit = 3 },
		  "not-permitted", NULL, { "may not use 0000:01:00.2" } },
		/* an administrator on a tenant's account: the same rule */
		{ "admin for listener, the audio function of a GPU", &admin_gid, OP_ASSIGN,
		  { .bdf = "0000:01:00.1", .tenant = "listener", .unit = { GPU_DEV, HDA_DEV },
		    .n_unit = 2 },
		  "not-permitted", NULL, { "tenant listener may not use 0000:01:00.0" } },
		/* on no tenant's account, an administrator takes any unit */
		{ "admin, no tenant, the audio function of a GPU", &admin_gid, OP_ASSIGN,
		  { .bdf = "0000:01:00.1", .unit = { GPU_DEV, HDA_DEV }, .n_unit = 2 }, NULL, NULL,
		  { NULL } },
		/* a unit nobody described is no unit a tenant gets */
		{ "studio: no unit described", &studio, OP_ASSIGN,
		  { .bdf = "0000:01:00.0", .n_unit = 0 }, "not-permitted", NULL,
		  { "tenant studio", "not known" } },
		{ "studio: a unit count past the array", &studio, OP_ASSIGN,
		  { .bdf = "0000:01:00.0", .unit = { GPU_DEV }, .n_unit = AUTHZ_UNIT_MAX + 1 },
		  "not-permitted", NULL, { "tenant studio", "not known" } },
		/* the quota counts every device of the unit */
		{ "studio: a unit of 2 with 7 held of 8", &studio, OP_ASSIGN,
		  { .bdf = "0000:01:00.0", .unit = { GPU_DEV, HDA_DEV }, .n_unit = 2, .held = 7 },
		  "quota-exceeded", NULL, { "tenant studio", "2 more", "quota of 8" } },
	};

	(void)state;
	check_rows(rows, N_ELEMS(rows));
}

/* ---- release ------------------------------------------------------------------ */

/* ---- live injection: a tenant targets only its own processes ---------------- */

static const uint32_t ids_alice[4] = { 1001, 1001, 1001, 1001 };
static const uint32_t ids_root[4] = { 0, 0, 0, 0 };
/* alice's real uid, root's effective one (a setuid program): not alice's */
static const uint32_t ids_setuid[4] = { 1001, 0, 0, 1001 };
static const uint32_t gids_team[4] = { 3001, 3001, 3001, 3001 };
static const uint32_t gids_mixed[4] = { 3001, 3001, 0, 3001 };
static const uint32_t gids_other[4] = { 7000, 7000, 7000, 7000 };

#define PID(u, g) .container = true, .proc_uid = u, .proc_gid = g, .pid = 4321

static void test_assign_pid(void **state)
{
	const struct row rows[] = {
		{ "alice injects into her own process", &alice, OP_ASSIGN, { EDU, PID(ids_alice, gids_other) },
		  NULL, "alice", { NULL } },
		{ "alice names a root process", &alice, OP_ASSIGN, { EDU, PID(ids_root, gids_other) },
		  "not-permitted", NULL, { "process 4321", "does not belong to tenant alice" } },
		{ "alice names a setuid-root process she started", &alice, OP_ASSIGN,
		  { EDU, PID(ids_setuid, gids_other) }, "not-permitted", NULL, { "tenant alice" } },
		{ "team (by gid) injects into a process of its group", &team, OP_ASSIGN,
		  { EDU, PID(ids_root, gids_team) }, NULL, "team", { NULL } },
		{ "team: one gid of the process is not the tenant's", &team, OP_ASSIGN,
		  { EDU, PID(ids_root, gids_mixed) }, "not-permitted", NULL, { "tenant team" } },
		{ "root targets any process", &root, OP_ASSIGN, { EDU, PID(ids_alice, gids_other) },
		  NULL, NULL, { NULL } },
		{ "the admin group on alice's account targets a root process", &admin_sup, OP_ASSIGN,
		  { EDU, .tenant = "alice", PID(ids_root, gids_other) }, NULL, "alice", { NULL } },
	};
	const struct policy_tenant *alice_t = policy_tenant_find(&pol, "alice");

	(void)state;
	check_rows(rows, N_ELEMS(rows));
	assert_non_null(alice_t);
	assert_true(authz_tenant_owns_process(alice_t, ids_alice, gids_other));
	assert_false(authz_tenant_owns_process(alice_t, ids_setuid, gids_other));
}

static void test_release(void **state)
{
	static const struct row rows[] = {
		{ "root, held by alice", &root, OP_RELEASE, { EDU, .holder = "alice" }, NULL, NULL,
		  { NULL } },
		{ "root, no holder", &root, OP_RELEASE, { EDU, .holder = "" }, NULL, NULL, { NULL } },
		{ "admin by gid, held by bob", &admin_gid, OP_RELEASE, { BOBDEV, .holder = "bob" },
		  NULL, NULL, { NULL } },
		{ "admin by supplementary group, no holder", &admin_sup, OP_RELEASE,
		  { EDU, .holder = NULL }, NULL, NULL, { NULL } },
		{ "admin, held by a tenant no longer in the policy", &admin_gid, OP_RELEASE,
		  { EDU, .holder = "gone" }, NULL, NULL, { NULL } },
		{ "alice, held by alice", &alice, OP_RELEASE, { EDU, .holder = "alice" }, NULL,
		  NULL, { NULL } },
		{ "bob by gid, held by bob", &bob_gid, OP_RELEASE, { BOBDEV, .holder = "bob" }, NULL,
		  NULL, { NULL } },
		{ "team by supplementary gid, held by team", &team, OP_RELEASE,
		  { NIC, .holder = "team" }, NULL, NULL, { NULL } },
		{ "alice+team, held by team", &alice_team, OP_RELEASE, { NIC, .holder = "team" },
		  NULL, NULL, { NULL } },
		{ "bob, held by alice", &bob, OP_RELEASE, { EDU, .holder = "alice" },
		  "not-permitted", NULL, { "tenant alice", "uid 1002", "0000:00:04.0" } },
		{ "alice, held by team", &alice, OP_RELEASE, { NIC, .holder = "team" },
		  "not-permitted", NULL, { "tenant team", "uid 1001" } },
		{ "stranger, held by alice", &stranger, OP_RELEASE, { EDU, .holder = "alice" },
		  "not-permitted", NULL, { "tenant alice", "uid 6000" } },
		{ "socket member, held by bob", &sock, OP_RELEASE, { BOBDEV, .holder = "bob" },
		  "not-permitted", NULL, { "tenant bob", "uid 2002" } },
		{ "alice, held by a tenant no longer in the policy", &alice, OP_RELEASE,
		  { EDU, .holder = "gone" }, "not-permitted", NULL, { "tenant gone", "uid 1001" } },
		/*
		 * No holder: only root and the admin group. This message names
		 * the device but neither the caller's uid nor a tenant (unlike
		 * every other refusal of authz_check).
		 */
		{ "alice, no holder", &alice, OP_RELEASE, { EDU, .holder = "" }, "not-permitted",
		  NULL, { "0000:00:04.0", "only root may release it" } },
		{ "stranger, no holder (NULL)", &stranger, OP_RELEASE, { EDU, .holder = NULL },
		  "not-permitted", NULL, { "0000:00:04.0" } },
	};

	(void)state;
	check_rows(rows, N_ELEMS(rows));
}

static void test_unknown_op(void **state)
{
	static const struct row rows[] = {
		{ "root, an op past the table", &root, OP_COUNT_, { EDU }, "not-permitted", NULL,
		  { "unknown operation" } },
		{ "stranger, an op past the table", &stranger, (enum proto_op)77, { EDU },
		  "not-permitted", NULL, { "unknown operation" } },
	};

	(void)state;
	check_rows(rows, N_ELEMS(rows));
}

/*
 * A refusal for want of being an operator names who may: the policy's
 * admin group when it names one, only root when it names none.
 */
static void test_refusal_names_admin_group(void **state)
{
	const struct authz_target t = { EDU };
	const struct authz_target none = { EDU, .holder = "" };
	struct vf_err e = { 0 };
	char saved[sizeof(pol.daemon.admin_group)];

	(void)state;
	memcpy(saved, pol.daemon.admin_group, sizeof(saved));
	assert_int_equal(authz_check(&pol, &groups, &stranger, OP_BIND, &t, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "uid 6000 may not bind: only root may (the policy names no admin_group)"));
	snprintf(pol.daemon.admin_group, sizeof(pol.daemon.admin_group), "vfiod-admin");
	memset(&e, 0, sizeof(e));
	assert_int_equal(authz_check(&pol, &groups, &stranger, OP_QUARANTINE, &t, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "uid 6000 may not quarantine: only root or members of group vfiod-admin may"));
	assert_null(strstr(e.msg, "names no admin_group"));
	memset(&e, 0, sizeof(e));
	assert_int_equal(authz_check(&pol, &groups, &stranger, OP_RELEASE, &none, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "only root or members of group vfiod-admin may release it"));
	memcpy(pol.daemon.admin_group, saved, sizeof(saved));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_refusal_names_admin_group),
		cmocka_unit_test(test_is_admin),
		cmocka_unit_test(test_read_ops),
		cmocka_unit_test(test_read_ops_without_groups),
		cmocka_unit_test(test_host_ops),
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_assign_unit),
		cmocka_unit_test(test_assign_pid),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_unknown_op),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
