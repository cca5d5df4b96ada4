// SPDX-License-Identifier: GPL-2.0-or-later
#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

enum arg { ARG_BDF = 1, ARG_FOLLOW = 2, ARG_TENANT = 4, ARG_CDI = 8, ARG_VM = 16, ARG_PID = 32 };

static const struct {
	const char *name;
	bool mutates;
	unsigned args;      /* the args it takes (enum arg bits) */
	unsigned required;  /* the args it must have */
} ops[OP_COUNT_] = {
	[OP_LIST] = { "list", false, 0, 0 },
	[OP_SHOW] = { "show", false, ARG_BDF, ARG_BDF },
	[OP_BIND] = { "bind", true, ARG_BDF, ARG_BDF },
	[OP_RETURN] = { "return", true, ARG_BDF, ARG_BDF },
	[OP_STATUS] = { "status", false, 0, 0 },
	[OP_EVENTS] = { "events", false, ARG_FOLLOW, 0 },
	[OP_ASSIGN] = { "assign", true, ARG_BDF | ARG_TENANT | ARG_CDI | ARG_VM | ARG_PID, ARG_BDF },
	[OP_RELEASE] = { "release", true, ARG_BDF, ARG_BDF },
	[OP_QUARANTINE] = { "quarantine", true, ARG_BDF, ARG_BDF },
	[OP_UNQUARANTINE] = { "unquarantine", true, ARG_BDF, ARG_BDF },
};

static const struct {
	const char *key;
	enum arg bit;
	json_type type;
} arg_keys[] = {
	{ "bdf", ARG_BDF, json_type_string },
	{ "follow", ARG_FOLLOW, json_type_boolean },
	{ "tenant", ARG_TENANT, json_type_string },
	{ "cdi", ARG_CDI, json_type_boolean },
	{ "vm", ARG_VM, json_type_string },
	{ "pid", ARG_PID, json_type_int },
};

const char *proto_op_name(enum proto_op op)
{
	return op < OP_COUNT_ ? ops[op].name : "?";
}

bool proto_op_mutates(enum proto_op op)
{
	return op < OP_COUNT_ && ops[op].mutates;
}

static int bad(struct vf_err *e, const char *msg)
{
	return vf_err_refuse(e, "bad-request", "%s", msg);
}

static int parse_args(struct json_object *args, struct request *req, struct vf_err *e)
{
	unsigned seen = 0;
	struct vf_bdf b;

	if (args && !json_object_is_type(args, json_type_object))
		return bad(e, "args must be an object");
	if (args) {
		json_object_object_foreach(args, key, val) {
			size_t k;

			for (k = 0; k < VF_ARRAY_SIZE(arg_keys); k++)
				if (strcmp(key, arg_keys[k].key) == 0 &&
				    (ops[req->op].args & arg_keys[k].bit))
					break;
			if (k == VF_ARRAY_SIZE(arg_keys))
				return vf_err_refuse(e, "bad-request",
						     "unknown argument \"%.64s\" for %s", key,
						     ops[req->op].name);
			if (!json_object_is_type(val, arg_keys[k].type))
				return vf_err_refuse(e, "bad-request", "args.%s has the wrong type",
						     key);
			seen |= arg_keys[k].bit;
			if (arg_keys[k].bit == ARG_BDF) {
				if (vf_parse_bdf(json_object_get_string(val), &b) < 0)
					return bad(e, "args.bdf is not a PCI address (dddd:bb:dd.f)");
				vf_bdf_format(&b, req->bdf);
			} else if (arg_keys[k].bit == ARG_FOLLOW) {
				req->follow = json_object_get_boolean(val);
			} else if (arg_keys[k].bit == ARG_TENANT) {
				const char *t = json_object_get_string(val);

				if (!vf_name_is_safe(t) || strlen(t) >= sizeof(req->tenant))
					return bad(e, "args.tenant is not a tenant name");
				snprintf(req->tenant, sizeof(req->tenant), "%s", t);
			} else if (arg_keys[k].bit == ARG_CDI) {
				req->cdi = json_object_get_boolean(val);
			}
		}
	}
	for (size_t k = 0; k < VF_ARRAY_SIZE(arg_keys); k++)
		if ((ops[req->op].required & arg_keys[k].bit) && !(seen & arg_keys[k].bit))
			return vf_err_refuse(e, "bad-request", "args.%s is required",
					     arg_keys[k].key);
	if (req->op == OP_ASSIGN) {
		if (seen & (ARG_VM | ARG_PID))
			return bad(e, "handoff to a VM (vm) or into a running process (pid) is not available in this version of vfiod; use cdi");
		if (!req->cdi)
			return bad(e, "assign needs a consumer: args.cdi = true");
	}
	return 0;
}

int proto_parse_request(const char *line, size_t len, struct request *req,
			struct vf_err *e)
{
	struct json_tokener *tok;
	struct json_object *root, *op = NULL, *args = NULL;
	bool has_id = false;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	if (len >= PROTO_MAX_LINE)
		return bad(e, "request too long");
	tok = json_tokener_new_ex(PROTO_MAX_DEPTH);
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, line, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)tok->char_offset != len) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		json_object_put(root);
		json_tokener_free(tok);
		return vf_err_refuse(e, "bad-request", "not a JSON request: %s",
				     je == json_tokener_success ? "trailing data"
								: json_tokener_error_desc(je));
	}
	json_tokener_free(tok);
	if (!json_object_is_type(root, json_type_object)) {
		bad(e, "a request is a JSON object");
		goto out;
	}
	json_object_object_foreach(root, key, val) {
		if (strcmp(key, "id") == 0) {
			has_id = true;
			if (!json_object_is_type(val, json_type_string) &&
			    !json_object_is_type(val, json_type_int) &&
			    !json_object_is_type(val, json_type_null)) {
				bad(e, "id must be a string, an integer or null");
				goto out;
			}
			if (json_object_is_type(val, json_type_string) &&
			    json_object_get_string_len(val) > PROTO_MAX_ID) {
				bad(e, "id too long");
				goto out;
			}
			req->id = json_object_get(val);
		} else if (strcmp(key, "op") == 0) {
			op = val;
		} else if (strcmp(key, "args") == 0) {
			args = val;
		} else {
			vf_err_refuse(e, "bad-request", "unknown field \"%.64s\"", key);
			goto out;
		}
	}
	if (!has_id) {
		bad(e, "id is required");
		goto out;
	}
	if (!op || !json_object_is_type(op, json_type_string)) {
		bad(e, "op is required and must be a string");
		goto out;
	}
	for (req->op = 0; req->op < OP_COUNT_; req->op++)
		if (strcmp(json_object_get_string(op), ops[req->op].name) == 0)
			break;
	if (req->op == OP_COUNT_) {
		vf_err_refuse(e, "bad-request", "unknown op \"%.64s\"", json_object_get_string(op));
		goto out;
	}
	rc = parse_args(args, req, e);
out:
	json_object_put(root);
	return rc;
}

void proto_request_free(struct request *req)
{
	json_object_put(req->id);
	req->id = NULL;
}

static char *line_of(struct json_object *o)
{
	char *s;

	if (asprintf(&s, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								      JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		abort();
	json_object_put(o);
	return s;
}

char *proto_reply_ok(struct json_object *id, struct json_object *result)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result);
	return line_of(o);
}

char *proto_reply_error(struct json_object *id, const char *code, const char *message)
{
	struct json_object *o = json_object_new_object();
	struct json_object *err = json_object_new_object();

	json_object_object_add(err, "code", json_object_new_string(code ? code : "internal"));
	json_object_object_add(err, "message", json_object_new_string(message));
	json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", err);
	return line_of(o);
}
