// SPDX-License-Identifier: GPL-2.0-or-later
#include "proto.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "domxml.h"
#include "util.h"

enum arg {
	ARG_BDF = 1, ARG_FOLLOW = 2, ARG_TENANT = 4, ARG_CDI = 8, ARG_VM = 16, ARG_PID = 32,
	ARG_LIVE = 64, ARG_CONFIG = 128, ARG_GUEST = 256, ARG_RESCAN = 512,
};

static const struct {
	const char *name;
	bool mutates;
	unsigned args;      /* the args it takes (enum arg bits) */
	unsigned required;  /* the args it must have */
} ops[OP_COUNT_] = {
	[OP_LIST] = { "list", false, ARG_RESCAN, 0 },
	[OP_SHOW] = { "show", false, ARG_BDF, ARG_BDF },
	[OP_BIND] = { "bind", true, ARG_BDF, ARG_BDF },
	[OP_RETURN] = { "return", true, ARG_BDF, ARG_BDF },
	[OP_STATUS] = { "status", false, 0, 0 },
	[OP_EVENTS] = { "events", false, ARG_FOLLOW, 0 },
	[OP_ASSIGN] = { "assign", true, ARG_BDF | ARG_TENANT | ARG_CDI | ARG_VM | ARG_PID | ARG_LIVE | ARG_CONFIG | ARG_GUEST, ARG_BDF },
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
	{ "live", ARG_LIVE, json_type_boolean },
	{ "config", ARG_CONFIG, json_type_boolean },
	{ "guest_address", ARG_GUEST, json_type_string },
	{ "rescan", ARG_RESCAN, json_type_boolean },
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

/* Length of the valid UTF-8 sequence at s (strict: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * What json-c's strict mode lets through and JSON does not have: invalid
 * or overlong UTF-8, surrogates, raw control characters in strings, single
 * quotes. Checked on the raw line before parsing. NULL when clean.
 */
#define RAW_MAX_KEYS 32

/* The keys seen in one open object, as raw byte ranges of the line. */
struct raw_obj {
	bool is_object;
	size_t n;
	struct { const char *p; size_t len; } key[RAW_MAX_KEYS];
};

/* Strict UTF-8 with no control characters: safe to echo any part of. */
static bool clean_text(const char *line, size_t len)
{
	const unsigned char *p = (const unsigned char *)line;

	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_seq(p + i, len - i);
		if (!n || (n == 1 && p[i] < 0x20))
			return false;
	}
	return true;
}

/*
 * `*encoding` is set when the line is not even well-encoded text (then no
 * part of it may be echoed back); otherwise a refusal may still carry the
 * request's id.
 */
static const char *raw_check(const char *line, size_t len, bool *encoding)
{
	const unsigned char *p = (const unsigned char *)line;
	struct raw_obj stack[PROTO_MAX_DEPTH + 1];
	size_t depth = 0, deeper = 0, str_start = 0;
	bool in_string = false, escaped_in_string = false;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);

		*encoding = true;
		if (!n)
			return "invalid utf-8";
		if (n > 1) {
			i += n;
			continue;
		}
		if (in_string) {
			if (p[i] < 0x20)
				return "a raw control character inside a string";
			*encoding = false;
			if (p[i] == '\\') {
				/* json-c cuts strings at a NUL escape: none may get in */
				if (i + 5 < len && memcmp(p + i + 1, "u0000", 5) == 0)
					return "a NUL escape inside a string";
				escaped_in_string = true;
				i += 2;
				continue;
			}
			if (p[i] == '"') {
				size_t j = i + 1;

				in_string = false;
				while (j < len && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' || p[j] == '\n'))
					j++;
				/* a key: no escapes (so bytes compare), no repeats */
				if (j < len && p[j] == ':' && depth && stack[depth - 1].is_object) {
					struct raw_obj *o = &stack[depth - 1];
					size_t klen = i - str_start;

					if (escaped_in_string)
						return "escapes in a key";
					for (size_t k = 0; k < o->n; k++)
						if (o->key[k].len == klen &&
						    memcmp(o->key[k].p, line + str_start, klen) == 0)
							return "a key given twice";
					if (o->n == RAW_MAX_KEYS)
						return "too many keys in an object";
					o->key[o->n].p = line + str_start;
					o->key[o->n++].len = klen;
				}
			}
		} else if (p[i] == '"') {
			in_string = true;
			escaped_in_string = false;
			str_start = i + 1;
		} else if (p[i] == '{' || p[i] == '[') {
			/* past the depth json-c allows, json-c says no itself */
			if (depth == VF_ARRAY_SIZE(stack)) {
				deeper++;
			} else {
				stack[depth].is_object = p[i] == '{';
				stack[depth++].n = 0;
			}
		} else if (p[i] == '}' || p[i] == ']') {
			if (deeper)
				deeper--;
			else if (depth)
				depth--;
		} else if (p[i] == '\'') {
			return "single quotes are not JSON";
		} else if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
			*encoding = true;
			return "a raw control character";
		}
		i++;
	}
	return NULL;
}

/* Copies `s` for a message: at most `max` bytes, never cutting a UTF-8
 * character, anything not printable as '?'. */
static void quote(char *out, size_t cap, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0, len = strlen(s);

	while (i < len && i < max && o + 5 < cap) {
		size_t n = utf8_seq(p + i, len - i);

		if (!n || i + n > max)
			break;
		if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))
			out[o++] = '?';
		else
			for (size_t k = 0; k < n; k++)
				out[o++] = (char)p[i + k];
		i += n;
	}
	out[o] = '\0';
}

/* A string value with no NUL inside ("a\u0000b" is not "a"). */
static bool whole_string(struct json_object *v)
{
	return (size_t)json_object_get_string_len(v) == strlen(json_object_get_string(v));
}

/* Tenant names as the policy spells them: [A-Za-z0-9._-], 1..32. */
static bool tenant_name_ok(const char *t)
{
	size_t n = strlen(t);

	return n >= 1 && n <= 32 &&
	       strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Integer ids: exactly representable everywhere (|id| < 2^53). */
#define ID_INT_MAX 9007199254740991LL

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
			if (k == VF_ARRAY_SIZE(arg_keys)) {
				char q[80];

				quote(q, sizeof(q), key, 64);
				return vf_err_refuse(e, "bad-request",
						     "unknown argument \"%s\" for %s", q,
						     ops[req->op].name);
			}
			if (!json_object_is_type(val, arg_keys[k].type))
				return vf_err_refuse(e, "bad-request", "args.%s has the wrong type",
						     key);
			if (arg_keys[k].type == json_type_string && !whole_string(val))
				return vf_err_refuse(e, "bad-request", "args.%s holds a NUL", key);
			seen |= arg_keys[k].bit;
			if (arg_keys[k].bit == ARG_BDF) {
				if (vf_parse_bdf(json_object_get_string(val), &b) < 0)
					return bad(e, "args.bdf is not a PCI address (dddd:bb:dd.f)");
				vf_bdf_format(&b, req->bdf);
			} else if (arg_keys[k].bit == ARG_FOLLOW) {
				req->follow = json_object_get_boolean(val);
			} else if (arg_keys[k].bit == ARG_RESCAN) {
				req->rescan = json_object_get_boolean(val);
			} else if (arg_keys[k].bit == ARG_TENANT) {
				const char *t = json_object_get_string(val);

				if (!tenant_name_ok(t) || !vf_name_is_safe(t))
					return bad(e, "args.tenant is not a tenant name ([A-Za-z0-9._-], at most 32)");
				snprintf(req->tenant, sizeof(req->tenant), "%s", t);
			} else if (arg_keys[k].bit == ARG_CDI) {
				req->cdi = json_object_get_boolean(val);
			} else if (arg_keys[k].bit == ARG_VM) {
				const char *v = json_object_get_string(val);

				if (!domxml_name_ok(v))
					return bad(e, "args.vm is not a domain name vfiod accepts (1-64 of A-Z a-z 0-9 _ . : + -, not starting with - or .)");
				snprintf(req->vm, sizeof(req->vm), "%s", v);
			} else if (arg_keys[k].bit == ARG_LIVE) {
				req->live = json_object_get_boolean(val);
			} else if (arg_keys[k].bit == ARG_CONFIG) {
				req->config = json_object_get_boolean(val);
			} else if (arg_keys[k].bit == ARG_GUEST) {
				if (vf_parse_bdf(json_object_get_string(val), &req->guest) < 0)
					return bad(e, "args.guest_address is not a PCI address (dddd:bb:dd.f)");
				req->has_guest = true;
			} else if (arg_keys[k].bit == ARG_PID) {
				int64_t pid = json_object_get_int64(val);

				/* /proc/PID is read in vfiod's PID namespace: 1 is its init */
				if (pid == 1)
					return bad(e, "args.pid 1 is init, the first process of vfiod's PID namespace (the host's init when vfiod runs on the host): vfiod refuses live injection into it; name a process inside the container, by its PID as vfiod sees it");
				if (pid < 2 || pid > INT32_MAX)
					return bad(e, "args.pid is not a process id");
				req->pid = (int)pid;
			}
		}
	}
	for (size_t k = 0; k < VF_ARRAY_SIZE(arg_keys); k++)
		if ((ops[req->op].required & arg_keys[k].bit) && !(seen & arg_keys[k].bit))
			return vf_err_refuse(e, "bad-request", "args.%s is required",
					     arg_keys[k].key);
	if (req->op == OP_ASSIGN) {
		if ((int)req->cdi + (int)(req->pid != 0) + (int)(req->vm[0] != 0) != 1)
			return bad(e, "assign needs one consumer: args.vm, args.cdi = true, or args.pid");
		if (!req->vm[0] && (seen & (ARG_LIVE | ARG_CONFIG | ARG_GUEST)))
			return bad(e, "args.live, args.config and args.guest_address go with args.vm");
	}
	return 0;
}

/* Takes the request's id, first: a reply should echo it even when a later
 * field is wrong. Returns 0, or <0 when the id itself is bad. */
static int take_id(struct json_object *root, struct request *req, struct vf_err *e)
{
	struct json_object *val;

	if (!json_object_object_get_ex(root, "id", &val))
		return bad(e, "id is required");
	if (json_object_is_type(val, json_type_string)) {
		if (json_object_get_string_len(val) > PROTO_MAX_ID)
			return bad(e, "id too long");
		if (!whole_string(val))
			return bad(e, "id holds a NUL");
	} else if (json_object_is_type(val, json_type_int)) {
		int64_t v = json_object_get_int64(val);

		/* json-c saturates what it cannot hold: refuse the edges */
		if (v > ID_INT_MAX || v < -ID_INT_MAX)
			return bad(e, "an integer id must be within +/-(2^53 - 1)");
	} else if (!json_object_is_type(val, json_type_null)) {
		return bad(e, "id must be a string, an integer or null");
	}
	req->id = json_object_get(val);
	return 0;
}

/*
 * json-c's default (lenient) parse of exactly `len` bytes: the line need not
 * be NUL-terminated (json_tokener_parse() would read on to a NUL). NULL when
 * it is not one whole JSON value.
 */
static struct json_object *parse_loose(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok)
		abort();
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1); /* the terminator a string has */
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int proto_parse_request(const char *line, size_t len, struct request *req,
			struct vf_err *e)
{
	struct json_tokener *tok;
	struct json_object *root, *op = NULL, *args = NULL;
	enum json_tokener_error je;
	bool encoding = false;
	const char *why;
	char q[80];
	int rc = -1;

	memset(req, 0, sizeof(*req));
	if (len >= PROTO_MAX_LINE)
		return bad(e, "request too long");
	why = raw_check(line, len, &encoding);
	if (why) {
		/* well-encoded but not strict JSON: echo its id when one is there */
		if (!encoding && clean_text(line, len)) {
			struct json_object *o = parse_loose(line, len);
			struct vf_err ignore = { 0 };

			if (o && json_object_is_type(o, json_type_object))
				take_id(o, req, &ignore);
			json_object_put(o);
		}
		return vf_err_refuse(e, "bad-request", "not a JSON request: %s", why);
	}
	tok = json_tokener_new_ex(PROTO_MAX_DEPTH);
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, line, (int)len);
	je = json_tokener_get_error(tok);
	if (je == json_tokener_continue) {
		/* a bare number or literal waits for a terminator: give it one */
		json_object_put(root);
		root = json_tokener_parse_ex(tok, "", 1);
		je = json_tokener_get_error(tok);
		if (je == json_tokener_success) { /* a bare literal: not an object */
			json_object_put(root);
			json_tokener_free(tok);
			return bad(e, "a request is a JSON object");
		}
		json_object_put(root);
		json_tokener_free(tok);
		return bad(e, "not a JSON request: incomplete JSON");
	}
	if (je != json_tokener_success || (size_t)tok->char_offset != len) {
		json_object_put(root);
		json_tokener_free(tok);
		return vf_err_refuse(e, "bad-request", "not a JSON request: %s",
				     je == json_tokener_success ? "trailing data"
								: json_tokener_error_desc(je));
	}
	json_tokener_free(tok);
	if (!root || !json_object_is_type(root, json_type_object)) {
		bad(e, "a request is a JSON object");
		goto out;
	}
	if (take_id(root, req, e) < 0)
		goto out;
	json_object_object_foreach(root, key, val) {
		if (strcmp(key, "id") == 0) {
			continue;
		} else if (strcmp(key, "op") == 0) {
			op = val;
		} else if (strcmp(key, "args") == 0) {
			args = val;
		} else {
			quote(q, sizeof(q), key, 64);
			vf_err_refuse(e, "bad-request", "unknown field \"%s\"", q);
			goto out;
		}
	}
	if (!op || !json_object_is_type(op, json_type_string) || !whole_string(op)) {
		bad(e, "op is required and must be a string");
		goto out;
	}
	for (req->op = 0; req->op < OP_COUNT_; req->op++)
		if (strcmp(json_object_get_string(op), ops[req->op].name) == 0)
			break;
	if (req->op == OP_COUNT_) {
		quote(q, sizeof(q), json_object_get_string(op), 64);
		vf_err_refuse(e, "bad-request", "unknown op \"%s\"", q);
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
