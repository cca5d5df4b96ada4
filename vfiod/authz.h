/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may do what: a pure decision over the caller's credentials, the
 * operation, the policy, and (for tenant operations) the device and who
 * holds it. The decision table (docs/protocol.md):
 *
 *   read-only (list, show, status, events): root, the admin group, the
 *       socket group, any tenant's member
 *   bind, return, quarantine, unquarantine: root and the admin group
 *   assign: root and the admin group (for any tenant or none), or a member
 *       of the tenant it is for, when the tenant may use every device of the
 *       unit the assign hands over (each listed, or its class named: naming
 *       one function of a GPU hands over the whole GPU), stays within its
 *       quota, and, for a container handoff, is trusted
 *       A live injection (assign --pid) by a tenant's member targets only
 *       the tenant's own processes: all four uids of the process (real,
 *       effective, saved, filesystem) are uids of the tenant, or all four
 *       gids are groups of the tenant. Root and the admin group may target
 *       any process.
 *   release: root and the admin group, or a member of the tenant that holds
 *       the device
 */
#ifndef VFIOD_AUTHZ_H
#define VFIOD_AUTHZ_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "parse.h"
#include "policy.h"
#include "proto.h"

#define AUTHZ_MAX_GROUPS 64
#define AUTHZ_UNIT_MAX 8 /* STATE_UNIT_MAX: the devices one unit moves */

struct authz_peer {
	uid_t uid;
	gid_t gid;
	gid_t groups[AUTHZ_MAX_GROUPS];   /* supplementary groups (SO_PEERGROUPS) */
	size_t ngroups;
};

/* The policy's group names, resolved to gids when the policy is loaded. */
struct authz_groups {
	bool has_socket;
	gid_t socket;
	bool has_admin;
	gid_t admin;
};

/* One device of a unit, as the policy matches it. */
struct authz_dev {
	char bdf[VF_BDF_LEN];
	bool ids_ok;            /* vendor, device, class read; false: only a listing matches */
	uint16_t vendor, device;
	uint32_t pci_class;
};

/* What an assign or release is about. */
struct authz_target {
	const char *tenant;     /* assign: the tenant asked for ("" or NULL: none named) */
	bool container;         /* assign: a container handoff */
	const char *bdf;        /* the device named */
	/*
	 * assign: every device the assign hands over (the named one and its
	 * companions); n_unit counts against the quota. An assign on a
	 * tenant's account with n_unit 0 is refused.
	 */
	struct authz_dev unit[AUTHZ_UNIT_MAX];
	size_t n_unit;
	size_t held;            /* assign: devices the tenant holds now */
	const char *holder;     /* release: the tenant that holds it ("" none) */
	/* assign --pid: the target process's real, effective, saved and
	 * filesystem uids and gids (proc.h); NULL for other handoffs */
	const uint32_t *proc_uid, *proc_gid;
	int pid;
};

bool authz_is_admin(const struct authz_groups *g, const struct authz_peer *p);

/* True when the process with these ids belongs to tenant `t` (the rule above). */
bool authz_tenant_owns_process(const struct policy_tenant *t, const uint32_t uid[4],
			       const uint32_t gid[4]);

/*
 * Decides. Returns 0 when allowed; otherwise fills `e` with code
 * not-permitted, quota-exceeded or bad-request and a sentence. For assign,
 * `*tenant_out` is the tenant the assign is for (NULL: none).
 */
int authz_check(const struct policy *pol, const struct authz_groups *g,
		const struct authz_peer *p, enum proto_op op, const struct authz_target *t,
		const struct policy_tenant **tenant_out, struct vf_err *e);

#endif
