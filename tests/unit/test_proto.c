// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the control protocol's parser and reply builders (proto.c,
 * docs/protocol.md).
 *
 * A few tests probe behaviour that is wrong today (reported, not fixed
 * here). They are written for the right behaviour and skip, with a
 * "known vfiod bug" message, while vfiod still shows the wrong one: the
 * suite stays green, the skips stay visible, and a fix turns them into
 * ordinary checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---------------------------------------------------------- */

static int parse_n(const char *line, size_t len, struct request *req, struct vf_err *e)
{
	memset(e, 0, sizeof(*e));
	return proto_parse_request(line, len, req, e);
}

static int parse(const char *line, struct request *req, struct vf_err *e)
{
	return parse_n(line, strlen(line), req, e);
}

/* The request must parse; the caller frees it. */
static void must_parse(const char *line, struct request *req)
{
	struct vf_err e;

	if (parse(line, req, &e) != 0)
		fail_msg("refused %s: %s", line, e.msg);
	assert_null(e.code);
}

/* A JSON value as compact text, for comparing ids ("NULL" for none). */
static void id_text(struct json_object *id, char *buf, size_t size)
{
	snprintf(buf, size, "%s",
		 id ? json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN) : "NULL");
}

/*
 * The line (of `len` bytes) must be refused as bad-request with a message
 * containing `want` and, after the refusal, req.id must print as `want_id`
 * ("NULL" for none: no id could be read).
 */
static void must_refuse_n(const char *line, size_t len, const char *want, const char *want_id)
{
	struct request req;
	struct vf_err e;
	char got_id[256];
	int rc = parse_n(line, len, &req, &e);

	id_text(req.id, got_id, sizeof(got_id));
	proto_request_free(&req);
	if (rc != -1)
		fail_msg("accepted %.*s (rc %d)", (int)len, line, rc);
	if (!e.code || strcmp(e.code, "bad-request") != 0)
		fail_msg("%.*s: code %s, not bad-request", (int)len, line,
			 e.code ? e.code : "NULL");
	if (!strstr(e.msg, want))
		fail_msg("%.*s: message \"%s\" does not say \"%s\"", (int)len, line, e.msg,
			 want);
	if (strcmp(got_id, want_id) != 0)
		fail_msg("%.*s: id after refusal is %s, not %s", (int)len, line, got_id,
			 want_id);
}

static void must_refuse(const char *line, const char *want, const char *want_id)
{
	must_refuse_n(line, strlen(line), want, want_id);
}

/* Parses a reply line strictly (as a client would): one JSON object. */
static struct json_object *parse_reply(const char *s)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t len = strlen(s);

	assert_non_null(tok);
	assert_true(len > 0);
	assert_int_equal(s[len - 1], '\n');
	/* exactly one line: the only newline is the last byte */
	assert_ptr_equal(strchr(s, '\n'), s + len - 1);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)(len - 1));
	if (!o || json_tokener_get_error(tok) != json_tokener_success)
		fail_msg("reply is not valid JSON (%s): %s",
			 json_tokener_error_desc(json_tokener_get_error(tok)), s);
	json_tokener_free(tok);
	assert_true(json_object_is_type(o, json_type_object));
	return o;
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("reply has no \"%s\"", key);
	return v;
}

/* ---- valid requests ----------------------------------------------------- */

static void test_ops_valid(void **state)
{
	static const struct {
		const char *line;
		enum proto_op op;
		const char *bdf;
		bool follow, cdi;
		const char *tenant;
	} cases[] = {
		{ "{\"id\":1,\"op\":\"list\"}", OP_LIST, "", false, false, "" },
		{ "{\"id\":1,\"op\":\"list\",\"args\":{}}", OP_LIST, "", false, false, "" },
		{ "{\"id\":1,\"op\":\"status\"}", OP_STATUS, "", false, false, "" },
		{ "{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"0000:3b:00.0\"}}", OP_SHOW,
		  "0000:3b:00.0", false, false, "" },
		/* short and upper-case addresses come back canonical */
		{ "{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"3b:00.1\"}}", OP_SHOW,
		  "0000:3b:00.1", false, false, "" },
		{ "{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"ABCD:EF:1F.7\"}}", OP_SHOW,
		  "abcd:ef:1f.7", false, false, "" },
		{ "{\"id\":1,\"op\":\"bind\",\"args\":{\"bdf\":\"00:02.0\"}}", OP_BIND,
		  "0000:00:02.0", false, false, "" },
		{ "{\"id\":1,\"op\":\"return\",\"args\":{\"bdf\":\"0000:00:02.0\"}}", OP_RETURN,
		  "0000:00:02.0", false, false, "" },
		{ "{\"id\":1,\"op\":\"events\"}", OP_EVENTS, "", false, false, "" },
		{ "{\"id\":1,\"op\":\"events\",\"args\":{\"follow\":true}}", OP_EVENTS, "", true,
		  false, "" },
		{ "{\"id\":1,\"op\":\"events\",\"args\":{\"follow\":false}}", OP_EVENTS, "", false,
		  false, "" },
		{ "{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true}}",
		  OP_ASSIGN, "0000:00:03.0", false, true, "" },
		{ "{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true,"
		  "\"tenant\":\"alice\"}}",
		  OP_ASSIGN, "0000:00:03.0", false, true, "alice" },
		/* key order does not matter */
		{ "{\"args\":{\"tenant\":\"team-1.x_y\",\"cdi\":true,\"bdf\":\"0001:00:03.0\"},"
		  "\"op\":\"assign\",\"id\":1}",
		  OP_ASSIGN, "0001:00:03.0", false, true, "team-1.x_y" },
		{ "{\"id\":1,\"op\":\"release\",\"args\":{\"bdf\":\"00:03.0\"}}", OP_RELEASE,
		  "0000:00:03.0", false, false, "" },
		{ "{\"id\":1,\"op\":\"quarantine\",\"args\":{\"bdf\":\"00:03.0\"}}", OP_QUARANTINE,
		  "0000:00:03.0", false, false, "" },
		{ "{\"id\":1,\"op\":\"unquarantine\",\"args\":{\"bdf\":\"00:03.0\"}}",
		  OP_UNQUARANTINE, "0000:00:03.0", false, false, "" },
		/* whitespace around and inside the object is JSON */
		{ " {\"id\" : 1 ,\n\"op\":\t\"list\"} \r", OP_LIST, "", false, false, "" },
	};
	bool seen[OP_COUNT_] = { false };

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct request req;

		must_parse(cases[i].line, &req);
		assert_int_equal(req.op, cases[i].op);
		assert_string_equal(req.bdf, cases[i].bdf);
		assert_int_equal(req.follow, cases[i].follow);
		assert_int_equal(req.cdi, cases[i].cdi);
		assert_string_equal(req.tenant, cases[i].tenant);
		assert_non_null(req.id);
		assert_int_equal(json_object_get_int(req.id), 1);
		seen[req.op] = true;
		proto_request_free(&req);
		assert_null(req.id);
	}
	for (int op = 0; op < OP_COUNT_; op++)
		if (!seen[op])
			fail_msg("op %s not covered", proto_op_name((enum proto_op)op));
}

static void test_ids(void **state)
{
	char long_id[PROTO_MAX_ID + 64];
	char line[sizeof(long_id) + 64];
	struct request req;

	(void)state;
	must_parse("{\"id\":\"abc-7\",\"op\":\"list\"}", &req);
	assert_true(json_object_is_type(req.id, json_type_string));
	assert_string_equal(json_object_get_string(req.id), "abc-7");
	proto_request_free(&req);

	must_parse("{\"id\":\"\",\"op\":\"list\"}", &req);
	assert_string_equal(json_object_get_string(req.id), "");
	proto_request_free(&req);

	must_parse("{\"id\":42,\"op\":\"list\"}", &req);
	assert_true(json_object_is_type(req.id, json_type_int));
	assert_int_equal(json_object_get_int64(req.id), 42);
	proto_request_free(&req);

	/* integer ids up to +/-(2^53 - 1): exact in every JSON reader */
	must_parse("{\"id\":-9007199254740991,\"op\":\"list\"}", &req);
	assert_true(json_object_is_type(req.id, json_type_int));
	assert_true(json_object_get_int64(req.id) == -9007199254740991LL);
	proto_request_free(&req);
	must_refuse("{\"id\":-9007199254740992,\"op\":\"list\"}", "2^53", "NULL");

	/* null: json-c represents it as a NULL object */
	must_parse("{\"id\":null,\"op\":\"list\"}", &req);
	assert_null(req.id);
	proto_request_free(&req);

	/* a string id of exactly PROTO_MAX_ID bytes is fine, one more is not */
	memset(long_id, 'i', PROTO_MAX_ID);
	long_id[PROTO_MAX_ID] = '\0';
	snprintf(line, sizeof(line), "{\"id\":\"%s\",\"op\":\"list\"}", long_id);
	must_parse(line, &req);
	assert_int_equal(json_object_get_string_len(req.id), PROTO_MAX_ID);
	proto_request_free(&req);

	long_id[PROTO_MAX_ID] = 'i';
	long_id[PROTO_MAX_ID + 1] = '\0';
	snprintf(line, sizeof(line), "{\"id\":\"%s\",\"op\":\"list\"}", long_id);
	must_refuse(line, "id too long", "NULL");
	/* bytes count, not characters: 65 two-byte characters are 130 bytes */
	line[0] = '\0';
	strcat(line, "{\"id\":\"");
	for (int i = 0; i < 65; i++)
		strcat(line, "\xc3\xa9");
	strcat(line, "\",\"op\":\"list\"}");
	must_refuse(line, "id too long", "NULL");

	must_refuse("{\"id\":true,\"op\":\"list\"}", "id must be a string, an integer or null",
		    "NULL");
	must_refuse("{\"id\":1.5,\"op\":\"list\"}", "id must be", "NULL");
	must_refuse("{\"id\":1e3,\"op\":\"list\"}", "id must be", "NULL");
	must_refuse("{\"id\":[1],\"op\":\"list\"}", "id must be", "NULL");
	must_refuse("{\"id\":{},\"op\":\"list\"}", "id must be", "NULL");
}

/* ---- refusals ------------------------------------------------------------ */

static void test_not_json(void **state)
{
	static const char *const lines[] = {
		"{",
		"{\"id\":1,\"op\":\"list\"",
		"{\"id\":1,\"op\":\"list\",}",     /* trailing comma */
		"{\"id\":1 \"op\":\"list\"}",      /* missing comma */
		"{\"id\":01,\"op\":\"list\"}",     /* leading zero */
		"{id:1,op:\"list\"}",              /* bare keys */
		"{\"id\":1,\"op\":\"list\"} x",    /* trailing data */
		"{\"id\":1,\"op\":\"list\"}{}",    /* a second object */
		"{\"id\":1,\"op\":\"list\"}]",
		"not json",
		"\xef\xbb\xbf{\"id\":1,\"op\":\"list\"}", /* a byte order mark */
	};
	/* a NUL byte inside the line, then more: trailing data */
	static const char nul_line[] = "{\"id\":1,\"op\":\"list\"}\0junk";

	(void)state;
	for (size_t i = 0; i < N_ELEMS(lines); i++)
		must_refuse(lines[i], "not a JSON request", "NULL");
	must_refuse_n(nul_line, sizeof(nul_line) - 1, "not a JSON request: a raw control character",
		      "NULL");
	/* an empty line too (whatever json-c says about it) */
	must_refuse_n("", 0, "not a JSON request", "NULL");
}

static void test_top_level_not_object(void **state)
{
	static const char *const lines[] = {
		"[]",
		"[{\"id\":1,\"op\":\"list\"}]",
		"\"list\"",
		"-1 ",
		"123 ",
		"true ",
	};
	struct request req;
	struct vf_err e;
	char msg_num[VF_ERR_MSG_MAX];
	int rc;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(lines); i++)
		must_refuse(lines[i], "a request is a JSON object", "NULL");

	/*
	 * A bare number or literal with nothing after it: json-c's tokener
	 * waits for a terminator; proto.c gives it one and says what is wrong.
	 */
	must_refuse("123", "a request is a JSON object", "NULL");
	must_refuse("null", "a request is a JSON object", "NULL");
	must_refuse("null ", "a request is a JSON object", "NULL");
	must_refuse("{\"id\":1", "incomplete JSON", "NULL");
	rc = parse("123", &req, &e);
	proto_request_free(&req);
	assert_int_equal(rc, -1);
	snprintf(msg_num, sizeof(msg_num), "%s", e.msg);
	assert_non_null(strstr(msg_num, "object"));
}

static void test_top_level_fields(void **state)
{
	(void)state;
	must_refuse("{\"op\":\"list\"}", "id is required", "NULL");
	must_refuse("{}", "id is required", "NULL");
	must_refuse("{\"id\":5}", "op is required", "5");
	must_refuse("{\"id\":5,\"op\":null}", "op is required and must be a string", "5");
	must_refuse("{\"id\":5,\"op\":1}", "must be a string", "5");
	must_refuse("{\"id\":5,\"op\":[\"list\"]}", "must be a string", "5");
	must_refuse("{\"id\":5,\"op\":{\"name\":\"list\"}}", "must be a string", "5");
	must_refuse("{\"id\":5,\"op\":\"frobnicate\"}", "unknown op \"frobnicate\"", "5");
	must_refuse("{\"id\":5,\"op\":\"LIST\"}", "unknown op \"LIST\"", "5");
	must_refuse("{\"id\":5,\"op\":\"\"}", "unknown op \"\"", "5");
	must_refuse("{\"id\":5,\"op\":\"list\",\"extra\":1}", "unknown field \"extra\"", "5");
	must_refuse("{\"id\":5,\"op\":\"list\",\"Id\":1}", "unknown field \"Id\"", "5");
	must_refuse("{\"id\":5,\"op\":\"list\",\"\":1}", "unknown field \"\"", "5");
	must_refuse("{\"id\":5,\"op\":\"list\",\"args\":[]}", "args must be an object", "5");
	must_refuse("{\"id\":5,\"op\":\"list\",\"args\":\"bdf\"}", "args must be an object",
		    "5");
	must_refuse("{\"id\":5,\"op\":\"list\",\"args\":true}", "args must be an object", "5");
}

static void test_unknown_args(void **state)
{
	(void)state;
	must_refuse("{\"id\":\"r\",\"op\":\"bind\",\"args\":{\"bdf\":\"00:02.0\",\"follow\":true}}",
		    "unknown argument \"follow\" for bind", "\"r\"");
	must_refuse("{\"id\":\"r\",\"op\":\"list\",\"args\":{\"bdf\":\"00:02.0\"}}",
		    "unknown argument \"bdf\" for list", "\"r\"");
	must_refuse("{\"id\":\"r\",\"op\":\"status\",\"args\":{\"follow\":true}}",
		    "unknown argument \"follow\" for status", "\"r\"");
	must_refuse("{\"id\":\"r\",\"op\":\"show\",\"args\":{\"bdf\":\"00:02.0\",\"tenant\":\"a\"}}",
		    "unknown argument \"tenant\" for show", "\"r\"");
	must_refuse("{\"id\":\"r\",\"op\":\"release\",\"args\":{\"bdf\":\"00:02.0\",\"cdi\":true}}",
		    "unknown argument \"cdi\" for release", "\"r\"");
	must_refuse("{\"id\":\"r\",\"op\":\"events\",\"args\":{\"pid\":1}}",
		    "unknown argument \"pid\" for events", "\"r\"");
	must_refuse("{\"id\":\"r\",\"op\":\"quarantine\",\"args\":{\"bdf\":\"00:02.0\",\"vm\":\"x\"}}",
		    "unknown argument \"vm\" for quarantine", "\"r\"");
	must_refuse("{\"id\":\"r\",\"op\":\"assign\",\"args\":{\"bdf\":\"00:02.0\",\"cdi\":true,"
		    "\"Tenant\":\"a\"}}",
		    "unknown argument \"Tenant\" for assign", "\"r\"");
	must_refuse("{\"id\":\"r\",\"op\":\"unquarantine\",\"args\":{\"bdf\":\"00:02.0\",\"x\":1}}",
		    "unknown argument \"x\" for unquarantine", "\"r\"");
	/* a null value is still an argument the op does not take */
	must_refuse("{\"id\":\"r\",\"op\":\"list\",\"args\":{\"bdf\":null}}",
		    "unknown argument \"bdf\" for list", "\"r\"");
}

static void test_wrong_arg_types(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ "{\"id\":3,\"op\":\"show\",\"args\":{\"bdf\":1}}", "args.bdf has the wrong type" },
		{ "{\"id\":3,\"op\":\"show\",\"args\":{\"bdf\":null}}", "args.bdf has the wrong type" },
		{ "{\"id\":3,\"op\":\"show\",\"args\":{\"bdf\":[\"00:02.0\"]}}",
		  "args.bdf has the wrong type" },
		{ "{\"id\":3,\"op\":\"events\",\"args\":{\"follow\":\"yes\"}}",
		  "args.follow has the wrong type" },
		{ "{\"id\":3,\"op\":\"events\",\"args\":{\"follow\":1}}",
		  "args.follow has the wrong type" },
		{ "{\"id\":3,\"op\":\"events\",\"args\":{\"follow\":null}}",
		  "args.follow has the wrong type" },
		{ "{\"id\":3,\"op\":\"assign\",\"args\":{\"bdf\":\"00:02.0\",\"cdi\":\"true\"}}",
		  "args.cdi has the wrong type" },
		{ "{\"id\":3,\"op\":\"assign\",\"args\":{\"bdf\":\"00:02.0\",\"cdi\":1}}",
		  "args.cdi has the wrong type" },
		{ "{\"id\":3,\"op\":\"assign\",\"args\":{\"bdf\":\"00:02.0\",\"cdi\":true,\"tenant\":5}}",
		  "args.tenant has the wrong type" },
		{ "{\"id\":3,\"op\":\"assign\",\"args\":{\"bdf\":\"00:02.0\",\"cdi\":true,\"tenant\":null}}",
		  "args.tenant has the wrong type" },
		{ "{\"id\":3,\"op\":\"assign\",\"args\":{\"bdf\":\"00:02.0\",\"cdi\":true,\"vm\":1}}",
		  "args.vm has the wrong type" },
		{ "{\"id\":3,\"op\":\"assign\",\"args\":{\"bdf\":\"00:02.0\",\"cdi\":true,\"pid\":\"1\"}}",
		  "args.pid has the wrong type" },
		{ "{\"id\":3,\"op\":\"assign\",\"args\":{\"bdf\":\"00:02.0\",\"cdi\":true,\"pid\":1.5}}",
		  "args.pid has the wrong type" },
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++)
		must_refuse(cases[i].line, cases[i].want, "3");
}

static void test_missing_bdf(void **state)
{
	static const char *const ops[] = { "show",    "bind",       "return",
					   "release", "quarantine", "unquarantine" };
	char line[256];

	(void)state;
	for (size_t i = 0; i < N_ELEMS(ops); i++) {
		snprintf(line, sizeof(line), "{\"id\":4,\"op\":\"%s\"}", ops[i]);
		must_refuse(line, "args.bdf is required", "4");
		snprintf(line, sizeof(line), "{\"id\":4,\"op\":\"%s\",\"args\":{}}", ops[i]);
		must_refuse(line, "args.bdf is required", "4");
	}
	must_refuse("{\"id\":4,\"op\":\"assign\",\"args\":{\"cdi\":true}}", "args.bdf is required",
		    "4");
	must_refuse("{\"id\":4,\"op\":\"assign\"}", "args.bdf is required", "4");
}

static void test_bad_bdf(void **state)
{
	static const char *const bdfs[] = {
		"",
		"..",
		".",
		"0000:00:1f.7/../x",
		"../0000:00:1f.7",
		"0000:00:1f.7/",
		"0000:00:1f.8",   /* function 0..7 */
		"0000:00:20.0",   /* device 0..1f */
		"0000:100:00.0",
		"00000:00:00.0",
		"000:00:00.0",
		"0:00:00.0",
		"00:0.0",
		"0000:00:00",
		"0000:00:00.",
		"0000.00:00.0",
		"0000:00.00.0",
		"0000:00:00:0",
		" 00:1f.7",
		"00:1f.7 ",
		"+0:1f.7",
		"-0:1f.7",
		"0x:1f.7",
		"g000:00:00.0",
		"00:1f.7\n",
		"0000:00:1f.7.0",
		"\xc3\xa9\xc3\xa9:1f.7",
	};
	char line[256];

	(void)state;
	for (size_t i = 0; i < N_ELEMS(bdfs); i++) {
		struct json_object *s = json_object_new_string(bdfs[i]);

		/* the address JSON-escaped, so that \n and friends are well formed */
		snprintf(line, sizeof(line), "{\"id\":6,\"op\":\"show\",\"args\":{\"bdf\":%s}}",
			 json_object_to_json_string(s));
		json_object_put(s);
		must_refuse(line, "args.bdf is not a PCI address", "6");
	}
}

static void test_tenant_names(void **state)
{
	char name[128];
	char line[512];
	struct request req;
	static const char *const unsafe[] = {
		"../x", "", ".", "..", "a/b", "/", "x\\u0001y", "x\\ny", "x\\u007fy",
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(unsafe); i++) {
		snprintf(line, sizeof(line),
			 "{\"id\":8,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true,"
			 "\"tenant\":\"%s\"}}",
			 unsafe[i]);
		must_refuse(line, "args.tenant is not a tenant name", "8");
	}

	/* 100 bytes: too long; 32 (the policy's longest name) fits, 33 does not */
	memset(name, 't', 100);
	name[100] = '\0';
	snprintf(line, sizeof(line),
		 "{\"id\":8,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true,"
		 "\"tenant\":\"%s\"}}",
		 name);
	must_refuse(line, "args.tenant is not a tenant name", "8");
	name[33] = '\0';
	snprintf(line, sizeof(line),
		 "{\"id\":8,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true,"
		 "\"tenant\":\"%s\"}}",
		 name);
	must_refuse(line, "args.tenant is not a tenant name", "8");
	name[32] = '\0';
	snprintf(line, sizeof(line),
		 "{\"id\":8,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true,"
		 "\"tenant\":\"%s\"}}",
		 name);
	must_parse(line, &req);
	assert_string_equal(req.tenant, name);
	proto_request_free(&req);

	/* "" for tenant is refused, not taken as "none named" */
	must_refuse("{\"id\":8,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true,"
		    "\"tenant\":\"\"}}",
		    "args.tenant", "8");
}

static void test_assign_consumer(void **state)
{
	struct request req;

	(void)state;
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\"}}",
		    "assign needs one consumer: args.vm, args.cdi = true, or args.pid", "9");
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":false}}",
		    "assign needs one consumer", "9");
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"tenant\":\"alice\"}}",
		    "assign needs one consumer", "9");
	/* both consumers at once */
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true,"
		    "\"pid\":1234}}",
		    "assign needs one consumer", "9");
	/* a vm is a consumer too: one of the three */
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true,"
		    "\"vm\":\"guest1\"}}",
		    "assign needs one consumer: args.vm, args.cdi = true, or args.pid", "9");
	must_parse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"vm\":\"guest-1.a\","
		   "\"live\":true,\"config\":true,\"guest_address\":\"00:04.0\"}}", &req);
	assert_string_equal(req.vm, "guest-1.a");
	assert_true(req.live && req.config && req.has_guest);
	assert_int_equal(req.guest.bus, 0);
	assert_int_equal(req.guest.dev, 4);
	proto_request_free(&req);
	must_parse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"vm\":\"g\"}}",
		   &req);
	assert_false(req.live || req.config || req.has_guest);
	proto_request_free(&req);
	/* hostile or odd domain names never reach libvirt */
	static const char *const names[] = { "", "-rf", ".hidden", "a/b", "a b", "a'b", "a\\\"b",
					     "a<b>", "0123456789012345678901234567890123456789012345678901234567890123x" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char line[256];

		snprintf(line, sizeof(line),
			 "{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"vm\":\"%s\"}}",
			 names[i]);
		must_refuse(line, "args.vm is not a domain name", "9");
	}
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"vm\":\"g\","
		    "\"guest_address\":\"00:1f\"}}",
		    "args.guest_address is not a PCI address", "9");
	/* the vm-only options without a vm */
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"cdi\":true,"
		    "\"live\":true}}",
		    "go with args.vm", "9");
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"vm\":\"g\","
		    "\"live\":1}}",
		    "args.live has the wrong type", "9");
	/* a process id: 2 .. INT32_MAX; 1, init, refused with its reason */
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"pid\":1}}",
		    "args.pid 1 is init, the first process of vfiod's PID namespace", "9");
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"pid\":0}}",
		    "args.pid is not a process id", "9");
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"pid\":-5}}",
		    "args.pid is not a process id", "9");
	must_refuse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"pid\":4294967296}}",
		    "args.pid is not a process id", "9");
	must_parse("{\"id\":9,\"op\":\"assign\",\"args\":{\"bdf\":\"00:03.0\",\"pid\":1234,"
		   "\"tenant\":\"alice\"}}", &req);
	assert_int_equal(req.pid, 1234);
	assert_false(req.cdi);
	proto_request_free(&req);
}

static void test_utf8(void **state)
{
	/* what json-c (JSON_TOKENER_VALIDATE_UTF8) refuses */
	static const char *const refused[] = {
		"{\"id\":\"\xff\",\"op\":\"list\"}",         /* never valid */
		"{\"id\":\"\xfe\",\"op\":\"list\"}",
		"{\"id\":\"\x80\",\"op\":\"list\"}",         /* a lone continuation byte */
		"{\"id\":\"\xc3\",\"op\":\"list\"}",         /* truncated sequence */
		"{\"id\":\"\xe2\x82\",\"op\":\"list\"}",
		"{\"id\":1,\"op\":\"list\xff\"}",
		"{\"id\":1,\"op\":\"list\",\"\xff\":1}",     /* in a key */
		"{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"00:02.0\xff\"}}",
	};
	/*
	 * What json-c 0.16 lets through although it is not UTF-8: overlong
	 * forms (C0 AF is '/', E0 80 AF too), UTF-16 surrogates (ED A0 80)
	 * and code points past U+10FFFF (F4 90 80 80); its validator checks
	 * the lead/continuation byte structure only. vfiod checks the raw line
	 * strictly first, so these are refused too.
	 */
	static const char *const lenient[] = {
		"{\"id\":\"\xc0\xaf\",\"op\":\"list\"}",
		"{\"id\":\"\xe0\x80\xaf\",\"op\":\"list\"}",
		"{\"id\":\"\xed\xa0\x80\",\"op\":\"list\"}",
		"{\"id\":\"\xf4\x90\x80\x80\",\"op\":\"list\"}",
	};
	struct request req;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(refused); i++)
		must_refuse(refused[i], "not a JSON request: invalid utf-8", "NULL");
	for (size_t i = 0; i < N_ELEMS(lenient); i++)
		must_refuse(lenient[i], "not a JSON request: invalid utf-8", "NULL");
	/* an overlong '/' cannot smuggle a path into an address */
	must_refuse("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"00:1f.7\xc0\xaf\"}}",
		    "not a JSON request: invalid utf-8", "NULL");
	/* valid UTF-8 and \u escapes are fine */
	must_parse("{\"id\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\u00e9\",\"op\":\"list\"}",
		   &req);
	assert_string_equal(json_object_get_string(req.id),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9");
	proto_request_free(&req);
}

/* `levels` nested arrays as the value of an unknown field "x". */
static void nested_line(char *buf, size_t size, int levels)
{
	size_t n = (size_t)snprintf(buf, size, "{\"id\":1,\"op\":\"list\",\"x\":");

	for (int i = 0; i < levels; i++)
		buf[n++] = '[';
	for (int i = 0; i < levels; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	buf[n] = '\0';
	assert_true(n < size);
}

static void test_depth(void **state)
{
	char line[256];

	(void)state;
	/*
	 * The request object counts as the first level: 7 arrays inside it
	 * make 8 levels and pass the tokenizer (then "x" is refused as an
	 * unknown field, which shows that the tokenizer let it through); 8
	 * arrays make 9 levels, refused by the tokenizer.
	 */
	nested_line(line, sizeof(line), PROTO_MAX_DEPTH - 1);
	must_refuse(line, "unknown field \"x\"", "1");
	nested_line(line, sizeof(line), PROTO_MAX_DEPTH);
	must_refuse(line, "not a JSON request: nesting too deep", "NULL");
	nested_line(line, sizeof(line), 100);
	must_refuse(line, "nesting too deep", "NULL");
	/* objects count the same */
	must_refuse("{\"id\":1,\"op\":\"list\",\"args\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":"
		    "{\"f\":{\"g\":{}}}}}}}}}",
		    "nesting too deep", "NULL");
}

static void test_line_length(void **state)
{
	static const char head[] = "{\"id\":1,\"op\":\"list\"";
	char *line = malloc(PROTO_MAX_LINE + 1);
	struct request req;
	struct vf_err e;

	(void)state;
	assert_non_null(line);
	/* PROTO_MAX_LINE - 1 bytes (the newline makes PROTO_MAX_LINE): accepted */
	memcpy(line, head, sizeof(head) - 1);
	memset(line + sizeof(head) - 1, ' ', PROTO_MAX_LINE - sizeof(head));
	line[PROTO_MAX_LINE - 2] = '}';
	line[PROTO_MAX_LINE - 1] = '\0';
	assert_int_equal(strlen(line), PROTO_MAX_LINE - 1);
	if (parse_n(line, PROTO_MAX_LINE - 1, &req, &e) != 0)
		fail_msg("a line of %d bytes refused: %s", PROTO_MAX_LINE - 1, e.msg);
	assert_int_equal(req.op, OP_LIST);
	proto_request_free(&req);

	/* PROTO_MAX_LINE bytes: too long, whatever they are */
	line[PROTO_MAX_LINE - 2] = ' ';
	line[PROTO_MAX_LINE - 1] = '}';
	line[PROTO_MAX_LINE] = '\0';
	must_refuse_n(line, PROTO_MAX_LINE, "request too long", "NULL");
	memset(line, 'x', PROTO_MAX_LINE);
	must_refuse_n(line, PROTO_MAX_LINE, "request too long", "NULL");
	free(line);
}

/* The id is read before a later field is found bad, so the reply can echo it. */
static void test_id_kept(void **state)
{
	struct request req;
	struct vf_err e;
	char got[64];
	int rc;

	(void)state;
	must_refuse("{\"id\":\"keep\",\"op\":\"nope\"}", "unknown op", "\"keep\"");
	must_refuse("{\"id\":\"keep\",\"op\":\"list\",\"zzz\":1}", "unknown field", "\"keep\"");
	must_refuse("{\"id\":77,\"op\":\"show\",\"args\":{\"bdf\":\"..\"}}", "args.bdf", "77");
	must_refuse("{\"op\":\"show\",\"args\":{\"bdf\":\"zz\"},\"id\":77}", "args.bdf", "77");
	must_refuse("{\"id\":77,\"op\":\"show\"}", "args.bdf is required", "77");
	must_refuse("{\"id\":77,\"op\":\"assign\",\"args\":{\"bdf\":\"00:02.0\"}}", "consumer",
		    "77");
	must_refuse("{\"id\":77,\"op\":\"bind\",\"args\":{\"bdf\":\"00:02.0\",\"follow\":true}}",
		    "unknown argument", "77");
	must_refuse("{\"id\":null,\"op\":\"nope\"}", "unknown op", "NULL");

	/* an unknown field before the id: the id is readable, but lost */
	rc = parse("{\"zzz\":1,\"id\":77,\"op\":\"list\"}", &req, &e);
	id_text(req.id, got, sizeof(got));
	proto_request_free(&req);
	assert_int_equal(rc, -1);
	assert_string_equal(e.code, "bad-request");
	assert_non_null(strstr(e.msg, "unknown field \"zzz\""));
	assert_string_equal(got, "77");
}

/* Strings with a NUL inside must not be read as their prefix. */
static void test_embedded_nul(void **state)
{
	static const char *const lines[] = {
		"{\"id\":1,\"op\":\"list\\u0000x\"}",
		"{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"00:1f.7\\u0000/../x\"}}",
		"{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"00:1f.7\",\"cdi\":true,"
		"\"tenant\":\"alice\\u0000/../x\"}}",
	};
	size_t accepted = 0;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(lines); i++) {
		struct request req;
		struct vf_err e;
		int rc = parse(lines[i], &req, &e);

		proto_request_free(&req);
		if (rc == 0)
			accepted++;
		else
			assert_string_equal(e.code, "bad-request");
	}
	assert_int_equal(accepted, 0);
}

/*
 * The line is (bytes, length): nothing past the length is read, even on the
 * path that reads the id out of a refused line (found by fuzz_proto: it
 * parsed up to a NUL). In an allocation of exactly the line's size, ASan
 * sees any read past it.
 */
static void test_line_not_terminated(void **state)
{
	static const char quoted[] = "{\"id\":5,\"op\":\"a\\u0000b\"}";
	char *exact = malloc(sizeof(quoted) - 1);

	(void)state;
	assert_non_null(exact);
	memcpy(exact, quoted, sizeof(quoted) - 1);
	must_refuse_n(exact, sizeof(quoted) - 1, "NUL escape", "5");
	free(exact);
	/* the bytes after the length would complete the object: they are not read */
	must_refuse_n(quoted, sizeof(quoted) - 2, "NUL escape", "NULL");
}

/* An integer id json-c cannot hold must not come back as another number. */
static void test_id_out_of_range(void **state)
{
	struct request req;
	struct vf_err e;
	char got[64] = "NULL";
	int rc;

	(void)state;
	/* beyond 2^53 - 1 (where json-c also saturates at 2^64 - 1): refused */
	must_refuse("{\"id\":18446744073709551615,\"op\":\"list\"}", "2^53", "NULL");
	rc = parse("{\"id\":99999999999999999999,\"op\":\"list\"}", &req, &e);
	id_text(req.id, got, sizeof(got));
	proto_request_free(&req);
	assert_int_equal(rc, -1);
	assert_string_equal(got, "NULL");
}

/*
 * json-c 0.16's strict mode lets through what JSON does not have: a
 * single-quoted key (a single-quoted value is refused) and raw control
 * characters inside strings.
 */
static void test_strictness(void **state)
{
	static const char *const lines[] = {
		"{'id':1,\"op\":\"list\"}",              /* a single-quoted key */
		"{\"id\":\"a\x01\",\"op\":\"list\"}",   /* a raw control character */
		"{\"id\":\"a\tb\",\"op\":\"list\"}",    /* a raw tab */
	};
	size_t accepted = 0;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(lines); i++) {
		struct request req;
		struct vf_err e;

		if (parse(lines[i], &req, &e) == 0)
			accepted++;
		else
			assert_string_equal(e.code, "bad-request");
		proto_request_free(&req);
	}
	assert_int_equal(accepted, 0);
}

/* ---- replies -------------------------------------------------------------- */

static void test_reply_ok(void **state)
{
	struct json_object *ids[3];
	const char *want_id[3] = { "\"req-1\"", "17", "null" };

	(void)state;
	ids[0] = json_object_new_string("req-1");
	ids[1] = json_object_new_int(17);
	ids[2] = NULL;
	for (size_t i = 0; i < N_ELEMS(ids); i++) {
		struct json_object *res = json_object_new_object();
		struct json_object *o, *r;
		char *s;

		json_object_object_add(res, "state", json_object_new_string("pooled"));
		json_object_object_add(res, "already", json_object_new_boolean(0));
		s = proto_reply_ok(ids[i], res); /* res is consumed */
		o = parse_reply(s);
		assert_int_equal(json_object_object_length(o), 3);
		/* json-c prints a NULL object (JSON null) as "null" */
		assert_string_equal(json_object_to_json_string_ext(member(o, "id"),
								   JSON_C_TO_STRING_PLAIN),
				    want_id[i]);
		assert_true(json_object_is_type(member(o, "ok"), json_type_boolean));
		assert_true(json_object_get_boolean(member(o, "ok")));
		r = member(o, "result");
		assert_string_equal(json_object_get_string(member(r, "state")), "pooled");
		assert_false(json_object_get_boolean(member(r, "already")));
		json_object_put(o);
		free(s);
	}
	/* the id is not consumed: the caller still holds it */
	assert_string_equal(json_object_get_string(ids[0]), "req-1");
	json_object_put(ids[0]);
	json_object_put(ids[1]);

	/* a NULL result is null */
	{
		char *s = proto_reply_ok(NULL, NULL);

		assert_string_equal(s, "{\"id\":null,\"ok\":true,\"result\":null}\n");
		free(s);
	}
	/* slashes are not escaped */
	{
		char *s = proto_reply_ok(NULL, json_object_new_string("/dev/vfio/2"));

		assert_string_equal(s, "{\"id\":null,\"ok\":true,\"result\":\"/dev/vfio/2\"}\n");
		free(s);
	}
}

static void test_reply_error(void **state)
{
	static const struct {
		const char *code, *msg, *want_code;
	} cases[] = {
		{ "bad-request", "args.bdf is required", "bad-request" },
		{ NULL, "writing the CDI spec: No space left on device", "internal" },
		{ "busy", "", "busy" },
		{ "not-permitted", "say \"no\" and \\ back\\slash", "not-permitted" },
		{ "internal", "two\nlines\r\tand\x01\x1f control", "internal" },
		{ "host-critical", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 /dev/x",
		  "host-critical" },
	};
	struct json_object *id = json_object_new_string("q\"1\n");

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char *s = proto_reply_error(id, cases[i].code, cases[i].msg);
		struct json_object *o = parse_reply(s), *err;

		assert_int_equal(json_object_object_length(o), 3);
		assert_string_equal(json_object_get_string(member(o, "id")), "q\"1\n");
		assert_true(json_object_is_type(member(o, "ok"), json_type_boolean));
		assert_false(json_object_get_boolean(member(o, "ok")));
		err = member(o, "error");
		assert_true(json_object_is_type(err, json_type_object));
		assert_int_equal(json_object_object_length(err), 2);
		assert_string_equal(json_object_get_string(member(err, "code")),
				    cases[i].want_code);
		assert_string_equal(json_object_get_string(member(err, "message")),
				    cases[i].msg);
		json_object_put(o);
		free(s);
	}
	json_object_put(id);

	/* the exact bytes of one: escapes where JSON needs them, UTF-8 as is */
	{
		char *s = proto_reply_error(NULL, NULL, "a \"b\"\n\xc3\xa9");

		assert_string_equal(s, "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"internal\","
				       "\"message\":\"a \\\"b\\\"\\n\xc3\xa9\"}}\n");
		free(s);
	}
}

/* A refusal's reply to any request must itself be valid UTF-8 JSON. */
static void test_reply_of_refusal_is_utf8(void **state)
{
	char line[512], key[128];
	struct request req;
	struct vf_err e;
	struct json_tokener *tok;
	struct json_object *o;
	char *s;
	enum json_tokener_error je;

	(void)state;
	/* 63 ASCII bytes and a two-byte character: the message quotes "%.64s" of it */
	memset(key, 'k', 63);
	memcpy(key + 63, "\xc3\xa9", 3);
	snprintf(line, sizeof(line), "{\"id\":1,\"op\":\"list\",\"%s\":1}", key);
	assert_int_equal(parse(line, &req, &e), -1);
	s = proto_reply_error(req.id, e.code, e.msg);
	proto_request_free(&req);
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)strlen(s) - 1);
	je = json_tokener_get_error(tok);
	json_object_put(o);
	json_tokener_free(tok);
	free(s);
	assert_int_equal(je, json_tokener_success);
}

/* ---- op table --------------------------------------------------------------- */

static void test_op_table(void **state)
{
	static const struct {
		enum proto_op op;
		const char *name;
		bool mutates;
	} want[] = {
		{ OP_LIST, "list", false },
		{ OP_SHOW, "show", false },
		{ OP_BIND, "bind", true },
		{ OP_RETURN, "return", true },
		{ OP_STATUS, "status", false },
		{ OP_EVENTS, "events", false },
		{ OP_ASSIGN, "assign", true },
		{ OP_RELEASE, "release", true },
		{ OP_QUARANTINE, "quarantine", true },
		{ OP_UNQUARANTINE, "unquarantine", true },
	};

	(void)state;
	assert_int_equal(N_ELEMS(want), OP_COUNT_);
	for (size_t i = 0; i < N_ELEMS(want); i++) {
		char line[128];
		struct request req;
		struct vf_err e;

		assert_string_equal(proto_op_name(want[i].op), want[i].name);
		assert_int_equal(proto_op_mutates(want[i].op), want[i].mutates);
		/* the name on the wire is the op's name */
		snprintf(line, sizeof(line), "{\"id\":1,\"op\":\"%s\"}", want[i].name);
		parse(line, &req, &e); /* may want args: only the op matters here */
		assert_int_equal(req.op, want[i].op);
		proto_request_free(&req);
	}
	assert_false(proto_op_mutates(OP_COUNT_));
	assert_false(proto_op_mutates((enum proto_op)1000));
	assert_string_equal(proto_op_name(OP_COUNT_), "?");
	assert_string_equal(proto_op_name((enum proto_op)1000), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_valid),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_top_level_not_object),
		cmocka_unit_test(test_top_level_fields),
		cmocka_unit_test(test_unknown_args),
		cmocka_unit_test(test_wrong_arg_types),
		cmocka_unit_test(test_missing_bdf),
		cmocka_unit_test(test_bad_bdf),
		cmocka_unit_test(test_tenant_names),
		cmocka_unit_test(test_assign_consumer),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_id_kept),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_line_not_terminated),
		cmocka_unit_test(test_id_out_of_range),
		cmocka_unit_test(test_strictness),
		cmocka_unit_test(test_reply_ok),
		cmocka_unit_test(test_reply_error),
		cmocka_unit_test(test_reply_of_refusal_is_utf8),
		cmocka_unit_test(test_op_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
