/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy: what the operator says (INI files parsed with libinih). Parsing
 * takes buffers and does no I/O beyond policy_load(), which reads the file.
 * Today it knows the reserved devices; device classes, tenants and daemon
 * settings join it with the control plane.
 */
#ifndef VFIOD_POLICY_H
#define VFIOD_POLICY_H

#include <stdbool.h>

#include "err.h"
#include "parse.h"
#include "util.h"

struct policy_reserved {
	char bdf[VF_BDF_LEN];
	char source[256]; /* "file:line", for messages */
};

struct policy {
	struct policy_reserved *reserved;
	size_t n_reserved;
};

/* Parses one INI document; `name` is used in errors ("name:line: ..."). */
int policy_parse(struct policy *p, const char *name, const char *text,
		 struct vf_err *e);
/* Reads and parses a file (not through hostfs: policy is vfiod's own). */
int policy_load(struct policy *p, const char *path, struct vf_err *e);
void policy_free(struct policy *p);

const struct policy_reserved *policy_reserved_find(const struct policy *p,
						   const char *bdf);

#endif
