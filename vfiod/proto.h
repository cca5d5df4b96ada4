/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol (docs/protocol.md): newline-delimited JSON over a
 * UNIX stream socket. A request is {"id", "op", "args"}; a reply is
 * {"id", "ok": true, "result"} or {"id", "ok": false, "error": {"code",
 * "message"}}. Parsing is strict and pure: a line in, a validated request
 * or a bad-request error out. Unknown ops, unknown fields, wrong types,
 * invalid UTF-8, nesting deeper than PROTO_MAX_DEPTH are all refused.
 */
#ifndef VFIOD_PROTO_H
#define VFIOD_PROTO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "parse.h"

#define PROTO_MAX_LINE (64 * 1024)  /* bytes, newline included */
#define PROTO_MAX_DEPTH 8
#define PROTO_MAX_ID 128            /* bytes of a string id */

enum proto_op {
	OP_LIST,
	OP_SHOW,
	OP_BIND,
	OP_RETURN,
	OP_STATUS,
	OP_EVENTS,
	OP_ASSIGN,
	OP_RELEASE,
	OP_QUARANTINE,
	OP_UNQUARANTINE,
	OP_COUNT_
};

struct request {
	enum proto_op op;
	struct json_object *id;     /* string, integer or null; owned */
	char bdf[VF_BDF_LEN];       /* canonical, for ops that take one */
	bool follow;                /* events: keep the connection subscribed */
	bool rescan;                /* list: read the whole host again first */
	char tenant[64];            /* assign: the tenant it is for ("" none) */
	bool cdi;                   /* assign: a container handoff through CDI */
	int pid;                    /* assign: live injection into this process, 0: none */
	char vm[72];                /* assign: a libvirt domain ("" none) */
	bool live, config;          /* assign to a vm: as virsh --live / --config */
	bool has_guest;             /* assign to a vm: the guest address is given */
	struct vf_bdf guest;
};

const char *proto_op_name(enum proto_op op);
/* Ops that change the host or a device's owner: all but list, show,
 * status and events. */
bool proto_op_mutates(enum proto_op op);

/*
 * Parses one request line (without its newline). On failure `e` has code
 * "bad-request" and `req->id` holds the request's id when one could be
 * read (so the reply can carry it), else NULL.
 */
int proto_parse_request(const char *line, size_t len, struct request *req,
			struct vf_err *e);
void proto_request_free(struct request *req);

/* Reply lines, newline-terminated; caller frees. `result` is consumed. */
char *proto_reply_ok(struct json_object *id, struct json_object *result);
char *proto_reply_error(struct json_object *id, const char *code, const char *message);

#endif
