/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside policy.h's implementation, split by role: policy.c reads a policy
 * (parsing, loading, lookups) and policy_format.c writes one back
 * (--check-config's normalized form) and checks it against the host. Not
 * for anyone else.
 */
#ifndef VFIOD_POLICY_INT_H
#define VFIOD_POLICY_INT_H

#include "policy.h"

/* The [daemon] section's defaults. */
void policy_daemon_defaults(struct policy_daemon *d);

/* e's message as "file:line: msg" (line 0: "file: msg"). */
void policy_set_at(struct vf_err *e, const char *file, int line, const char *msg);

/* A match rule as the policy writes it ("id=10de:*", "class=0302", ...). */
void policy_format_rule(const struct policy_match *m, char *buf, size_t cap);

/* A [class] key's name (POLICY_CLASS_*). */
const char *policy_class_key_name(int k);

/* Bit `cpu` of a housekeeping map, false past POLICY_CPU_MAX. */
bool policy_cpu_isset(const uint64_t *map, unsigned cpu);

#endif
