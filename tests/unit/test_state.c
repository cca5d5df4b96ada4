// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of state.c: the JSON store. Round trips, every field's
 * validation (a bad document changes nothing), corrupt files set aside with
 * their content, atomic saves and the record helpers.
 */
#include "tree.h"

#include <dirent.h>
#include <json-c/json.h>
#include <time.h>

#include "state.h"

static const char VALID[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"devices\": [\n"
	"    { \"bdf\": \"0000:00:03.0\", \"original_driver\": \"e1000e\", \"state\": \"pooled\",\n"
	"      \"unit\": [ \"0000:00:03.0\" ], \"consumer\": null, \"tenant\": null,\n"
	"      \"reset_pending\": false, \"no_reset_method\": false, \"since\": 1700000000 },\n"
	"    { \"bdf\": \"0000:00:06.0\", \"original_driver\": null, \"state\": \"assigned\",\n"
	"      \"unit\": [ \"0000:00:06.0\", \"0000:00:06.1\" ], \"consumer\": \"vm:web-1 (qemu)\",\n"
	"      \"tenant\": \"acme\", \"reset_pending\": true, \"no_reset_method\": true,\n"
	"      \"since\": 1700000001 },\n"
	"    { \"bdf\": \"0000:00:06.1\", \"original_driver\": \"snd_hda_intel\",\n"
	"      \"state\": \"quarantined\", \"unit\": [ \"0000:00:06.0\", \"0000:00:06.1\" ],\n"
	"      \"consumer\": null, \"tenant\": null, \"reset_pending\": false,\n"
	"      \"no_reset_method\": false, \"since\": -5 }\n"
	"  ],\n"
	"  \"intent\": { \"op\": \"return\", \"devices\": [\n"
	"      { \"bdf\": \"0000:00:04.0\", \"original_driver\": null },\n"
	"      { \"bdf\": \"0000:00:04.1\", \"original_driver\": \"nvme\" } ],\n"
	"    \"started\": 1700000002 }\n"
	"}\n";

/* ---- helpers ----------------------------------------------------------------- */

/* A record's consumer as the store writes it, in one of two static buffers. */
static const char *cons(const struct dev_rec *r)
{
	static char buf[2][CONSUMER_NAME_MAX + 64];
	static int k;

	k ^= 1;
	consumer_format(&r->consumer, buf[k], sizeof(buf[k]));
	return buf[k];
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;

	if (!fp)
		return NULL;
	n = getdelim(&buf, &len, '\0', fp);
	fclose(fp);
	if (n < 0) {
		free(buf);
		return calloc(1, 1);
	}
	return buf;
}

static void write_text_n(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void write_text(const char *path, const char *text)
{
	write_text_n(path, text, strlen(text));
}

/* `text` with the first `from` replaced by `to`; caller frees. */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out = NULL;

	assert_non_null(at);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to,
			     at + strlen(from)) > 0);
	return out;
}

static void load_valid(struct store *s)
{
	struct vf_err e = { 0 };

	memset(s, 0, sizeof(*s));
	if (store_parse(s, VALID, &e) < 0)
		fail_msg("VALID does not parse: %s", e.msg);
}

/* The parse must fail and leave a loaded store exactly as it was. */
static void assert_rejected(const char *text, const char *why)
{
	struct store s;
	struct vf_err e = { 0 };
	char *before, *after;
	const struct dev_rec *devs;

	load_valid(&s);
	before = store_format(&s);
	devs = s.devs;
	if (store_parse(&s, text, &e) >= 0)
		fail_msg("accepted a store with %s:\n%s", why, text);
	if (!e.msg[0])
		fail_msg("no message for %s", why);
	after = store_format(&s);
	assert_ptr_equal(s.devs, devs);
	assert_int_equal(s.n, 3);
	assert_string_equal(after, before);
	free(before);
	free(after);
	free(s.devs);
}

/* Walks "devices.0.unit.1" in a parsed document. */
static struct json_object *walk(struct json_object *o, const char *path, char *last,
				size_t cap)
{
	char copy[256], *save = NULL, *tok, *next;

	snprintf(copy, sizeof(copy), "%s", path);
	tok = strtok_r(copy, ".", &save);
	while ((next = strtok_r(NULL, ".", &save))) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(tok));
		else
			assert_true(json_object_object_get_ex(o, tok, &o));
		assert_non_null(o);
		tok = next;
	}
	snprintf(last, cap, "%s", tok);
	return o;
}

/* VALID with `path` set to the JSON `value`, or deleted when value is NULL. */
static char *mutate(const char *path, const char *value)
{
	struct json_object *root = json_tokener_parse(VALID), *parent, *v = NULL;
	char key[64], *out;

	assert_non_null(root);
	parent = walk(root, path, key, sizeof(key));
	if (value) {
		v = json_tokener_parse(value);
		assert_true(v || strcmp(value, "null") == 0);
	}
	if (json_object_is_type(parent, json_type_array)) {
		size_t idx = (size_t)atoi(key);

		if (value) {
			assert_int_equal(json_object_array_put_idx(parent, idx, v), 0);
		} else {
			assert_int_equal(json_object_array_del_idx(parent, idx, 1), 0);
		}
	} else if (value) {
		json_object_object_add(parent, key, v);
	} else {
		assert_true(json_object_object_get_ex(parent, key, NULL));
		json_object_object_del(parent, key);
	}
	out = vf_xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}

static void reject_mutation(const char *path, const char *value)
{
	char *text = mutate(path, value), why[512];

	snprintf(why, sizeof(why), "%s = %s", path, value ? value : "(deleted)");
	assert_rejected(text, why);
	free(text);
}

/* ---- parse and format ------------------------------------------------------- */

static void test_parse_all_fields(void **state)
{
	struct store s;
	const struct dev_rec *r;

	(void)state;
	load_valid(&s);
	assert_int_equal(s.n, 3);
	r = &s.devs[0];
	assert_string_equal(r->bdf, "0000:00:03.0");
	assert_string_equal(r->original_driver, "e1000e");
	assert_int_equal(r->state, DEV_POOLED);
	assert_int_equal(r->n_unit, 1);
	assert_string_equal(r->unit[0], "0000:00:03.0");
	assert_string_equal(cons(r), "");
	assert_string_equal(r->tenant, "");
	assert_false(r->reset_pending);
	assert_false(r->no_reset_method);
	assert_int_equal(r->since, 1700000000);
	r = &s.devs[1];
	assert_string_equal(r->bdf, "0000:00:06.0");
	assert_string_equal(r->original_driver, "");
	assert_int_equal(r->state, DEV_ASSIGNED);
	assert_int_equal(r->n_unit, 2);
	assert_string_equal(r->unit[1], "0000:00:06.1");
	assert_string_equal(cons(r), "vm:web-1 (qemu)");
	assert_string_equal(r->tenant, "acme");
	assert_true(r->reset_pending);
	assert_true(r->no_reset_method);
	r = &s.devs[2];
	assert_int_equal(r->state, DEV_QUARANTINED);
	assert_int_equal(r->since, -5);
	assert_int_equal(s.intent.op, INTENT_RETURN);
	assert_int_equal(s.intent.n, 2);
	assert_string_equal(s.intent.devs[0].bdf, "0000:00:04.0");
	assert_string_equal(s.intent.devs[0].original_driver, "");
	assert_string_equal(s.intent.devs[1].original_driver, "nvme");
	assert_int_equal(s.intent.started, 1700000002);
	free(s.devs);
}

static void assert_same_store(const struct store *a, const struct store *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct dev_rec *x = &a->devs[i], *y = &b->devs[i];

		assert_string_equal(x->bdf, y->bdf);
		assert_string_equal(x->original_driver, y->original_driver);
		assert_int_equal(x->state, y->state);
		assert_int_equal(x->n_unit, y->n_unit);
		for (size_t u = 0; u < x->n_unit; u++)
			assert_string_equal(x->unit[u], y->unit[u]);
		assert_string_equal(cons(x), cons(y));
		assert_string_equal(x->tenant, y->tenant);
		assert_int_equal(x->reset_pending, y->reset_pending);
		assert_int_equal(x->no_reset_method, y->no_reset_method);
		assert_int_equal(x->since, y->since);
	}
	assert_int_equal(a->intent.op, b->intent.op);
	assert_int_equal(a->intent.n, b->intent.n);
	for (size_t i = 0; i < a->intent.n; i++) {
		assert_string_equal(a->intent.devs[i].bdf, b->intent.devs[i].bdf);
		assert_string_equal(a->intent.devs[i].original_driver,
				    b->intent.devs[i].original_driver);
	}
	assert_int_equal(a->intent.started, b->intent.started);
}

static void test_round_trip_with_intent(void **state)
{
	struct store a, b = { 0 };
	struct vf_err e = { 0 };
	char *t1, *t2;

	(void)state;
	load_valid(&a);
	t1 = store_format(&a);
	assert_non_null(strstr(t1, "\"op\": \"return\""));
	assert_int_equal(store_parse(&b, t1, &e), 0);
	assert_same_store(&a, &b);
	t2 = store_format(&b);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	free(a.devs);
	free(b.devs);
}

static void test_round_trip_without_intent(void **state)
{
	struct store a, b = { 0 };
	struct vf_err e = { 0 };
	char *text = replace(VALID, "\"intent\": {", "\"intent\": null, \"x\": {"), *t1, *t2;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(store_parse(&a, text, &e), 0);
	assert_int_equal(a.intent.op, INTENT_NONE);
	assert_int_equal(a.intent.n, 0);
	t1 = store_format(&a);
	assert_non_null(strstr(t1, "\"intent\": null"));
	assert_null(strstr(t1, "\"x\""));
	assert_int_equal(store_parse(&b, t1, &e), 0);
	assert_same_store(&a, &b);
	t2 = store_format(&b);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	free(text);
	free(a.devs);
	free(b.devs);
}

static void test_round_trip_empty_and_bind(void **state)
{
	struct store a = { 0 }, b = { 0 };
	struct vf_err e = { 0 };
	char *text;

	(void)state;
	text = store_format(&a);
	assert_int_equal(store_parse(&b, text, &e), 0);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.intent.op, INTENT_NONE);
	free(text);
	free(b.devs);

	/* a full unit, a bind intent, extreme values, escapes */
	memset(&b, 0, sizeof(b));
	a.devs = calloc(1, sizeof(*a.devs));
	a.n = 1;
	snprintf(a.devs[0].bdf, VF_BDF_LEN, "ffff:ff:1f.7");
	for (int i = 0; i < STATE_UNIT_MAX; i++)
		snprintf(a.devs[0].unit[a.devs[0].n_unit++], VF_BDF_LEN, "ffff:ff:1f.%d", i);
	a.devs[0].consumer.kind = CONSUMER_VM;
	snprintf(a.devs[0].consumer.name, sizeof(a.devs[0].consumer.name), "\"quoted\" \\ /slash \xc3\xa9 (a: b)");
	snprintf(a.devs[0].original_driver, sizeof(a.devs[0].original_driver), "%s", "mlx5_core");
	a.devs[0].since = INT64_MAX;
	a.intent.op = INTENT_BIND;
	a.intent.n = STATE_UNIT_MAX;
	for (int i = 0; i < STATE_UNIT_MAX; i++)
		snprintf(a.intent.devs[i].bdf, VF_BDF_LEN, "0000:00:1f.%d", i);
	a.intent.started = INT64_MIN;
	text = store_format(&a);
	assert_int_equal(store_parse(&b, text, &e), 0);
	assert_same_store(&a, &b);
	free(text);
	free(a.devs);
	free(b.devs);
}

static void test_parse_trailing_newline_ok(void **state)
{
	struct store s = { 0 };
	struct vf_err e = { 0 };
	char *text = replace(VALID, "}\n", "}\n\n  \n");

	(void)state;
	assert_int_equal(store_parse(&s, VALID, &e), 0);
	free(s.devs);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_parse(&s, text, &e), 0);
	free(s.devs);
	free(text);
}

/* ---- validation: each broken document is rejected, the store unchanged -------- */

static void test_reject_missing_keys(void **state)
{
	static const char *const keys[] = {
		"version", "devices", "intent",
		"devices.0.bdf", "devices.0.original_driver", "devices.0.state",
		"devices.0.unit", "devices.0.consumer", "devices.0.tenant",
		"devices.0.reset_pending", "devices.0.no_reset_method", "devices.0.since",
		"devices.2.since",
		"intent.op", "intent.devices", "intent.started",
		"intent.devices.1.bdf", "intent.devices.0.original_driver",
	};

	(void)state;
	for (size_t i = 0; i < VF_ARRAY_SIZE(keys); i++)
		reject_mutation(keys[i], NULL);
}

static void test_reject_wrong_types(void **state)
{
	static const struct {
		const char *path, *value;
	} cases[] = {
		{ "version", "\"1\"" },       { "version", "1.0" },
		{ "version", "true" },        { "version", "null" },
		{ "devices", "{}" },          { "devices", "null" },
		{ "devices", "\"x\"" },       { "intent", "[]" },
		{ "intent", "1" },            { "devices.0", "\"0000:00:03.0\"" },
		{ "devices.0", "null" },      { "devices.0", "[]" },
		{ "devices.0.bdf", "3" },     { "devices.0.bdf", "null" },
		{ "devices.0.original_driver", "1" },
		{ "devices.0.state", "0" },   { "devices.0.state", "null" },
		{ "devices.0.unit", "\"0000:00:03.0\"" },
		{ "devices.0.unit", "null" }, { "devices.0.consumer", "5" },
		{ "devices.0.consumer", "{}" },
		{ "devices.0.tenant", "true" },
		{ "devices.0.reset_pending", "0" },
		{ "devices.0.reset_pending", "null" },
		{ "devices.0.no_reset_method", "\"false\"" },
		{ "devices.0.since", "\"1\"" },
		{ "devices.0.since", "1.5" }, { "devices.0.since", "null" },
		{ "devices.0.unit.0", "5" },  { "devices.0.unit.0", "null" },
		{ "intent.op", "1" },         { "intent.op", "null" },
		{ "intent.devices", "{}" },   { "intent.started", "\"x\"" },
		{ "intent.started", "null" }, { "intent.devices.0", "\"0000:00:04.0\"" },
		{ "intent.devices.0", "null" },
		{ "intent.devices.0.bdf", "4" },
		{ "intent.devices.0.bdf", "null" },
		{ "intent.devices.0.original_driver", "[]" },
	};

	(void)state;
	for (size_t i = 0; i < VF_ARRAY_SIZE(cases); i++)
		reject_mutation(cases[i].path, cases[i].value);
}

static void test_reject_bad_values(void **state)
{
	static const struct {
		const char *path, *value;
	} cases[] = {
		/* BDFs: only the canonical form sysfs uses */
		{ "devices.0.bdf", "\"00:03.0\"" },
		{ "devices.0.bdf", "\"0000:00:03.0 \"" },
		{ "devices.0.bdf", "\"0000:00:1F.0\"" },
		{ "devices.0.bdf", "\"0000:00:20.0\"" },
		{ "devices.0.bdf", "\"0000:00:03.8\"" },
		{ "devices.0.bdf", "\"../../x\"" },
		{ "devices.0.bdf", "\"\"" },
		{ "devices.0.unit.0", "\"00:03.0\"" },
		{ "devices.0.unit.0", "\"\"" },
		{ "intent.devices.0.bdf", "\"x\"" },
		{ "intent.devices.0.bdf", "\"\"" },
		/* names that would become path components */
		{ "devices.0.original_driver", "\"../e1000e\"" },
		{ "devices.0.original_driver", "\"..\"" },
		{ "devices.0.original_driver", "\".\"" },
		{ "devices.0.original_driver", "\"a/b\"" },
		{ "devices.0.original_driver", "\"e1000e\\n\"" },
		{ "devices.0.original_driver",
		  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"" },
		{ "devices.0.tenant", "\"a/b\"" },
		{ "devices.0.tenant", "\"..\"" },
		{ "intent.devices.1.original_driver", "\"../x\"" },
		/* a consumer is printed: no control characters */
		{ "devices.0.consumer", "\"vm\\u0001\"" },
		{ "devices.0.consumer", "\"vm\\n\"" },
		{ "devices.0.consumer", "\"vm\\u007f\"" },
		/* states and intents */
		{ "devices.0.state", "\"free\"" },
		{ "devices.0.state", "\"POOLED\"" },
		{ "devices.0.state", "\"\"" },
		{ "intent.op", "\"unbind\"" },
		{ "intent.op", "\"none\"" },
		{ "intent.op", "\"\"" },
		{ "intent.devices", "[]" },
		{ "devices.0.unit", "[]" },
		/* versions */
		{ "version", "2" },
		{ "version", "0" },
		{ "version", "-1" },
		{ "version", "4294967297" },
	};

	(void)state;
	for (size_t i = 0; i < VF_ARRAY_SIZE(cases); i++)
		reject_mutation(cases[i].path, cases[i].value);
}

static void test_reject_long_strings(void **state)
{
	char value[700];

	(void)state;
	/* consumer[512], tenant[64]: a value that does not fit is not cut */
	snprintf(value, sizeof(value), "\"%0600d\"", 0);
	reject_mutation("devices.0.consumer", value);
	snprintf(value, sizeof(value), "\"%070d\"", 0);
	reject_mutation("devices.0.tenant", value);
	snprintf(value, sizeof(value), "\"%064d\"", 0);
	reject_mutation("devices.0.original_driver", value);
}

static void test_reject_duplicate_device(void **state)
{
	char *text = replace(VALID, "\"bdf\": \"0000:00:06.1\"", "\"bdf\": \"0000:00:03.0\"");

	(void)state;
	assert_rejected(text, "a device recorded twice");
	free(text);
}

static void test_reject_unit_too_long(void **state)
{
	char *nine = mutate("devices.1.unit",
			    "[\"0000:00:06.0\",\"0000:00:06.1\",\"0000:00:06.2\",\"0000:00:06.3\","
			    "\"0000:00:06.4\",\"0000:00:06.5\",\"0000:00:06.6\",\"0000:00:06.7\","
			    "\"0000:00:07.0\"]");
	char *eight = mutate("devices.1.unit",
			     "[\"0000:00:06.0\",\"0000:00:06.1\",\"0000:00:06.2\",\"0000:00:06.3\","
			     "\"0000:00:06.4\",\"0000:00:06.5\",\"0000:00:06.6\",\"0000:00:06.7\"]");
	char *intent9 = mutate("intent.devices",
			       "[{\"bdf\":\"0000:00:04.0\",\"original_driver\":null},"
			       "{\"bdf\":\"0000:00:04.1\",\"original_driver\":null},"
			       "{\"bdf\":\"0000:00:04.2\",\"original_driver\":null},"
			       "{\"bdf\":\"0000:00:04.3\",\"original_driver\":null},"
			       "{\"bdf\":\"0000:00:04.4\",\"original_driver\":null},"
			       "{\"bdf\":\"0000:00:04.5\",\"original_driver\":null},"
			       "{\"bdf\":\"0000:00:04.6\",\"original_driver\":null},"
			       "{\"bdf\":\"0000:00:04.7\",\"original_driver\":null},"
			       "{\"bdf\":\"0000:00:05.0\",\"original_driver\":null}]");
	struct store s = { 0 };
	struct vf_err e = { 0 };

	(void)state;
	assert_rejected(nine, "a unit of 9");
	assert_rejected(intent9, "an intent of 9");
	assert_int_equal(store_parse(&s, eight, &e), 0);
	assert_int_equal(s.devs[1].n_unit, STATE_UNIT_MAX);
	free(s.devs);
	free(nine);
	free(eight);
	free(intent9);
}

static void test_reject_bad_text(void **state)
{
	static const char deep[] =
		"{\"version\": 1, \"devices\": [], \"intent\": null,"
		" \"x\": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}";
	static const char *const texts[] = {
		"", " ", "null", "1", "[]", "\"x\"", "{", "{}",
		"{\"version\": 1, \"devices\": []}",
		"{\"version\": 1, \"devices\": [], \"intent\": null} x",
		"{\"version\": 1, \"devices\": [], \"intent\": null}{}",
		"{\"version\": 1, \"devices\": [], \"intent\": null,}",
		"{\"version\": 1, \"devices\": [], \"intent\": null /* c */}",
		"{\"version\": 01, \"devices\": [], \"intent\": null}",
		"{\"version\": 1, \"devices\": [], \"intent\": nul}",
		deep,
	};
	char *t;

	(void)state;
	for (size_t i = 0; i < VF_ARRAY_SIZE(texts); i++)
		assert_rejected(texts[i], texts[i]);
	/* trailing garbage after a valid document */
	t = replace(VALID, "}\n", "}\nx");
	assert_rejected(t, "trailing garbage");
	free(t);
	t = replace(VALID, "}\n", "}\n}");
	assert_rejected(t, "a trailing brace");
	free(t);
	/* nesting inside a record */
	t = replace(VALID, "\"tenant\": \"acme\"",
		    "\"tenant\": \"acme\", \"extra\": [[[[[[[[[[0]]]]]]]]]]");
	assert_rejected(t, "deep nesting in a record");
	free(t);
	/* invalid UTF-8 in a string */
	t = replace(VALID, "vm:web-1", "vm:\xff\xfe");
	assert_rejected(t, "invalid UTF-8");
	free(t);
	t = replace(VALID, "vm:web-1", "vm:\xe2\x82");
	assert_rejected(t, "a cut UTF-8 sequence");
	free(t);
	/* unknown keys are ignored when shallow: the depth is what is refused */
	{
		struct store s = { 0 };
		struct vf_err e = { 0 };

		t = replace(VALID, "\"tenant\": \"acme\"", "\"tenant\": \"acme\", \"extra\": [[0]]");
		assert_int_equal(store_parse(&s, t, &e), 0);
		free(s.devs);
		free(t);
	}
	/* but valid UTF-8 is fine */
	{
		struct store s = { 0 };
		struct vf_err e = { 0 };

		t = replace(VALID, "vm:web-1", "vm:\xc3\xa9t\xc3\xa9");
		assert_int_equal(store_parse(&s, t, &e), 0);
		assert_string_equal(cons(&s.devs[1]), "vm:\xc3\xa9t\xc3\xa9 (qemu)");
		free(s.devs);
		free(t);
	}
}

/* ---- files ------------------------------------------------------------------- */

struct dirfx {
	struct tree t;
	char dir[PATH_MAX];
	char file[PATH_MAX + 16];
};

static int dir_setup(void **state)
{
	struct dirfx *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	tree_init(&d->t);
	snprintf(d->dir, sizeof(d->dir), "%s/state", d->t.root);
	snprintf(d->file, sizeof(d->file), "%s/" STATE_FILE, d->dir);
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dirfx *d = *state;

	tree_destroy(&d->t);
	free(d);
	return 0;
}

/* Names in `dir` other than "." and ".."; with `prefix`, only those that start with it. */
static size_t count_entries(const char *dir, const char *prefix, char *first, size_t cap)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(dp);
	while ((de = readdir(dp))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (prefix && strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (first && n == 0)
			snprintf(first, cap, "%s", de->d_name);
		n++;
	}
	closedir(dp);
	return n;
}

static void test_open_missing_dir(void **state)
{
	struct dirfx *d = *state;
	struct store s;
	struct vf_err e = { 0 };
	struct stat st;

	assert_int_equal(store_open(&s, d->dir, &e), 0);
	assert_int_equal(stat(d->dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.intent.op, INTENT_NONE);
	assert_string_equal(s.dir, d->dir);
	/* nothing written until something is saved */
	assert_int_equal(count_entries(d->dir, NULL, NULL, 0), 0);
	store_close(&s);
	/* an existing directory is fine too */
	assert_int_equal(store_open(&s, d->dir, &e), 0);
	store_close(&s);
}

static void test_open_unusable_dir(void **state)
{
	struct dirfx *d = *state;
	struct store s;
	struct vf_err e = { 0 };
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/no/such/parent", d->t.root);
	assert_true(store_open(&s, path, &e) < 0);
	assert_true(e.msg[0]);
	store_close(&s);
	/* a file where the directory should be */
	snprintf(path, sizeof(path), "%s/afile", d->t.root);
	write_text(path, "x");
	assert_true(store_open(&s, path, &e) < 0);
	store_close(&s);
}

static void test_save_open_round_trip(void **state)
{
	struct dirfx *d = *state;
	struct store a, b;
	struct vf_err e = { 0 };
	struct stat st;
	char *text;

	assert_int_equal(store_open(&a, d->dir, &e), 0);
	free(a.devs);
	load_valid(&b);
	a.devs = b.devs;
	a.n = b.n;
	a.intent = b.intent;
	assert_int_equal(store_save(&a, &e), 0);
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* only the state file: no temporary left behind */
	assert_int_equal(count_entries(d->dir, NULL, NULL, 0), 1);
	text = read_text(d->file);
	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	assert_int_equal(store_open(&b, d->dir, &e), 0);
	assert_same_store(&a, &b);
	store_close(&b);
	/* saving again replaces it */
	store_remove(&a, "0000:00:03.0");
	memset(&a.intent, 0, sizeof(a.intent));
	assert_int_equal(store_save(&a, &e), 0);
	assert_int_equal(count_entries(d->dir, NULL, NULL, 0), 1);
	assert_int_equal(store_open(&b, d->dir, &e), 0);
	assert_same_store(&a, &b);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.intent.op, INTENT_NONE);
	store_close(&b);
	store_close(&a);
}

/* Writes `len` bytes to the state file, opens the store, expects it set aside. */
static void check_set_aside(struct dirfx *d, const void *data, size_t len)
{
	struct store s, s2;
	struct vf_err e = { 0 };
	char aside[256], path[PATH_MAX + 300];
	time_t t0, t1;
	long long when;
	struct dev_rec r = { 0 };

	assert_true(mkdir(d->dir, 0700) == 0 || errno == EEXIST);
	write_text_n(d->file, data, len);
	t0 = time(NULL);
	assert_int_equal(store_open(&s, d->dir, &e), 1);
	t1 = time(NULL);
	assert_non_null(strstr(e.msg, "corrupt"));
	assert_non_null(strstr(e.msg, STATE_FILE ".corrupt-"));
	assert_null(e.code);
	/* the store starts empty */
	assert_int_equal(s.n, 0);
	assert_int_equal(s.intent.op, INTENT_NONE);
	/* the file is kept aside with its content, the state file is gone */
	assert_int_equal(access(d->file, F_OK), -1);
	assert_int_equal(count_entries(d->dir, STATE_FILE ".corrupt-", aside, sizeof(aside)), 1);
	assert_int_equal(sscanf(aside, STATE_FILE ".corrupt-%lld", &when), 1);
	assert_true(when >= (long long)t0 && when <= (long long)t1);
	snprintf(path, sizeof(path), "%s/%s", d->dir, aside);
	assert_non_null(strstr(e.msg, path));
	{
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		char *buf = calloc(1, len + 1);

		assert_true(fd >= 0);
		assert_int_equal(read(fd, buf, len + 1), (ssize_t)len);
		assert_memory_equal(buf, data, len);
		close(fd);
		free(buf);
	}
	/* the next save and open work */
	snprintf(r.bdf, sizeof(r.bdf), "0000:00:03.0");
	snprintf(r.unit[r.n_unit++], VF_BDF_LEN, "0000:00:03.0");
	store_put(&s, &r);
	assert_int_equal(store_save(&s, &e), 0);
	assert_int_equal(store_open(&s2, d->dir, &e), 0);
	assert_same_store(&s, &s2);
	store_close(&s2);
	store_close(&s);
	/* clean up for the next case */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(unlink(d->file), 0);
}

static void test_open_corrupt(void **state)
{
	struct dirfx *d = *state;
	size_t half = strlen(VALID) / 2;
	static const char nul[] = "{\"version\": 1,\0 \"devices\": [], \"intent\": null}";
	char *v2 = replace(VALID, "\"version\": 1", "\"version\": 2");
	char *big;

	check_set_aside(d, "", 0);
	check_set_aside(d, VALID, half);
	check_set_aside(d, "\x7f" "ELF\x02\x01\x01 junk junk \xff\xfe", 20);
	check_set_aside(d, "not json at all\n", 16);
	check_set_aside(d, nul, sizeof(nul) - 1);
	check_set_aside(d, v2, strlen(v2));
	/* larger than the store may be (4 MiB) */
	big = malloc((4u << 20) + 2);
	assert_non_null(big);
	memset(big, ' ', (4u << 20) + 2);
	memcpy(big, "{}", 2);
	check_set_aside(d, big, (4u << 20) + 2);
	free(big);
	free(v2);
}

static void test_open_symlink_refused(void **state)
{
	struct dirfx *d = *state;
	struct store s;
	struct vf_err e = { 0 };
	char target[PATH_MAX + 16];

	/* a link at the state file's name is neither followed nor moved */
	assert_int_equal(mkdir(d->dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", d->t.root);
	write_text(target, VALID);
	assert_int_equal(symlink(target, d->file), 0);
	assert_true(store_open(&s, d->dir, &e) < 0);
	assert_true(e.msg[0]);
	store_close(&s);
	assert_int_equal(count_entries(d->dir, NULL, NULL, 0), 1);
}

/*
 * Two corrupt files set aside within one second get the same name: rename()
 * replaces the first, which the header promises is never deleted.
 */
static void test_bug_aside_overwrites(void **state)
{
	struct dirfx *d = *state;
	struct store s;
	struct vf_err e = { 0 };
	char path[PATH_MAX + 64];
	time_t t0 = time(NULL);

	assert_int_equal(mkdir(d->dir, 0700), 0);
	/* files set aside earlier in this second (and the next two) */
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/" STATE_FILE ".corrupt-%lld", d->dir,
			 (long long)t0 + i);
		write_text(path, "precious");
	}
	write_text(d->file, "junk");
	assert_int_equal(store_open(&s, d->dir, &e), 1);
	store_close(&s);
	for (int i = 0; i < 3; i++) {
		char *text;

		snprintf(path, sizeof(path), "%s/" STATE_FILE ".corrupt-%lld", d->dir,
			 (long long)t0 + i);
		text = read_text(path);
		assert_non_null(text);
		assert_string_equal(text, "precious");
		free(text);
	}
}

/* Only "<pid>\n", as store_lock writes it, names a holder. */
static void test_lock_holder(void **state)
{
	(void)state;
	assert_int_equal(store_lock_holder("1234\n", 5), 1234);
	assert_int_equal(store_lock_holder("1\n", 2), 1);
	assert_int_equal(store_lock_holder("2147483647\n", 11), 2147483647);
	assert_int_equal(store_lock_holder("", 0), 0);
	assert_int_equal(store_lock_holder("\n", 1), 0);
	assert_int_equal(store_lock_holder("1234", 4), 0);           /* half written */
	assert_int_equal(store_lock_holder("2147483648\n", 11), 0); /* not a pid */
	assert_int_equal(store_lock_holder("-1\n", 3), 0);
	assert_int_equal(store_lock_holder(" 12\n", 4), 0);
	assert_int_equal(store_lock_holder("12 \n", 4), 0);
	assert_int_equal(store_lock_holder("12\n\n", 4), 0);
	assert_int_equal(store_lock_holder("1\0002\n", 4), 0);
	assert_int_equal(store_lock_holder("123456789012345678901234567890\n", 31), 0);
}

/*
 * One holder at a time: a second taker (its own open file, as a second
 * daemon has) is refused as busy with the holder's pid, and touches
 * nothing; once the first lets go, the next one gets it.
 */
static void test_lock_exclusive(void **state)
{
	struct dirfx *d = *state;
	struct vf_err e = { 0 };
	char path[PATH_MAX + 16], want[PATH_MAX + 128], *text;
	struct stat st;
	int fd, fd2;

	fd = store_lock(d->dir, &e);
	assert_true(fd >= 0);
	assert_int_equal(stat(d->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/" STATE_LOCK_FILE, d->dir);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	text = read_text(path);
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	assert_string_equal(text, want);
	free(text);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	fd2 = store_lock(d->dir, &e);
	assert_true(fd2 < 0);
	assert_non_null(e.code);
	assert_string_equal(e.code, "busy");
	snprintf(want, sizeof(want), "another vfiod (pid %d) holds the state directory %s",
		 (int)getpid(), d->dir);
	assert_string_equal(e.msg, want);
	text = read_text(path);
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	assert_string_equal(text, want);
	free(text);
	assert_int_equal(count_entries(d->dir, NULL, NULL, 0), 1);

	/* a holder that has not written its pid yet: still refused, said so */
	assert_int_equal(truncate(path, 0), 0);
	vf_err_clear(&e);
	assert_true(store_lock(d->dir, &e) < 0);
	assert_string_equal(e.code, "busy");
	assert_non_null(strstr(e.msg, "pid not yet written"));

	close(fd);
	vf_err_clear(&e);
	fd2 = store_lock(d->dir, &e);
	assert_true(fd2 >= 0);
	text = read_text(path);
	assert_string_equal(text, want);
	free(text);
	close(fd2);
}

/* A link at the lock file's name is not followed: nothing is created or locked through it. */
static void test_lock_symlink_refused(void **state)
{
	struct dirfx *d = *state;
	struct vf_err e = { 0 };
	char path[PATH_MAX + 16], target[PATH_MAX + 16];
	struct stat st;

	assert_int_equal(mkdir(d->dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/" STATE_LOCK_FILE, d->dir);
	snprintf(target, sizeof(target), "%s/elsewhere", d->t.root);
	assert_int_equal(symlink(target, path), 0);
	assert_true(store_lock(d->dir, &e) < 0);
	assert_int_equal(e.errnum, ELOOP);
	assert_true(lstat(target, &st) < 0 && errno == ENOENT);
}

static void test_write_atomic(void **state)
{
	struct dirfx *d = *state;
	struct vf_err e = { 0 };
	char path[PATH_MAX + 16], tmp[PATH_MAX + 32], target[PATH_MAX + 16], *text;
	struct stat st;
	mode_t old = umask(022);

	snprintf(path, sizeof(path), "%s/rules", d->t.root);
	assert_int_equal(vf_write_atomic(path, "first\n", 0644, &e), 0);
	text = read_text(path);
	assert_string_equal(text, "first\n");
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	umask(old);
	assert_int_equal(vf_write_atomic(path, "second", 0644, &e), 0);
	text = read_text(path);
	assert_string_equal(text, "second");
	free(text);
	assert_int_equal(vf_write_atomic(path, "", 0644, &e), 0);
	text = read_text(path);
	assert_string_equal(text, "");
	free(text);
	/* no temporary left */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(count_entries(d->t.root, NULL, NULL, 0), 1);

	/* a link at the temporary name is not followed */
	snprintf(target, sizeof(target), "%s/target", d->t.root);
	write_text(target, "untouched");
	assert_int_equal(symlink(target, tmp), 0);
	assert_true(vf_write_atomic(path, "third", 0644, &e) < 0);
	assert_true(e.msg[0]);
	text = read_text(target);
	assert_string_equal(text, "untouched");
	free(text);
	text = read_text(path);
	assert_string_equal(text, ""); /* still the last good content */
	free(text);
	assert_int_equal(unlink(tmp), 0);

	/* a missing directory fails */
	snprintf(path, sizeof(path), "%s/missing/rules", d->t.root);
	assert_true(vf_write_atomic(path, "x", 0644, &e) < 0);
	assert_true(e.msg[0]);
}

static void test_write_atomic_relative(void **state)
{
	struct dirfx *d = *state;
	struct vf_err e = { 0 };
	char cwd[PATH_MAX], path[PATH_MAX + 16], *text;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(d->t.root), 0);
	assert_int_equal(vf_write_atomic("plain", "content", 0600, &e), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(path, sizeof(path), "%s/plain", d->t.root);
	text = read_text(path);
	assert_string_equal(text, "content");
	free(text);
}

/* ---- records ------------------------------------------------------------------- */

static void test_put_find_remove(void **state)
{
	struct store s = { 0 };
	struct dev_rec r = { 0 };
	const char *bdfs[] = { "0000:00:01.0", "0000:00:02.0", "0000:00:03.0" };

	(void)state;
	assert_null(store_find(&s, "0000:00:01.0"));
	store_remove(&s, "0000:00:01.0");
	for (size_t i = 0; i < 3; i++) {
		memset(&r, 0, sizeof(r));
		snprintf(r.bdf, sizeof(r.bdf), "%s", bdfs[i]);
		r.since = (int64_t)i;
		store_put(&s, &r);
	}
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(store_find(&s, bdfs[i])->since, (int64_t)i);
	/* put replaces a record of the same device */
	snprintf(r.bdf, sizeof(r.bdf), "%s", bdfs[1]);
	r.since = 42;
	r.state = DEV_ASSIGNED;
	r.consumer = (struct consumer){ .kind = CONSUMER_VM, .name = "a" };
	store_put(&s, &r);
	assert_int_equal(s.n, 3);
	assert_int_equal(store_find(&s, bdfs[1])->since, 42);
	assert_int_equal(store_find(&s, bdfs[1])->state, DEV_ASSIGNED);
	assert_string_equal(cons(store_find(&s, bdfs[1])), "vm:a");
	/* remove one in the middle: the others stay */
	store_remove(&s, bdfs[0]);
	assert_int_equal(s.n, 2);
	assert_null(store_find(&s, bdfs[0]));
	assert_int_equal(store_find(&s, bdfs[1])->since, 42);
	assert_int_equal(store_find(&s, bdfs[2])->since, 2);
	store_remove(&s, "0000:00:09.0");
	assert_int_equal(s.n, 2);
	store_remove(&s, bdfs[2]);
	store_remove(&s, bdfs[1]);
	assert_int_equal(s.n, 0);
	assert_null(store_find(&s, bdfs[1]));
	store_put(&s, &r);
	assert_int_equal(s.n, 1);
	free(s.devs);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dev_state_name(DEV_POOLED), "pooled");
	assert_string_equal(dev_state_name(DEV_ASSIGNED), "assigned");
	assert_string_equal(dev_state_name(DEV_QUARANTINED), "quarantined");
	assert_string_equal(intent_op_name(INTENT_BIND), "bind");
	assert_string_equal(intent_op_name(INTENT_RETURN), "return");
	assert_string_equal(intent_op_name(INTENT_NONE), "none");
}

/* A tenant's count for its quota: what it holds, assigned or quarantined, not pooled. */
static void test_tenant_holds(void **state)
{
	struct store s = { 0 };
	struct dev_rec r[4];
	const char *who[4] = { "acme", "acme", "acme", "beta" };
	const enum dev_state st[4] = { DEV_ASSIGNED, DEV_QUARANTINED, DEV_POOLED, DEV_ASSIGNED };

	(void)state;
	for (int i = 0; i < 4; i++) {
		char bdf[VF_BDF_LEN];

		snprintf(bdf, sizeof(bdf), "0000:00:0%d.0", i + 2);
		dev_rec_init(&r[i], bdf);
		r[i].state = st[i];
		snprintf(r[i].tenant, sizeof(r[i].tenant), "%s", who[i]);
	}
	s.devs = r;
	s.n = 4;
	assert_int_equal(store_tenant_holds(&s, "acme"), 2);
	assert_int_equal(store_tenant_holds(&s, "beta"), 1);
	assert_int_equal(store_tenant_holds(&s, "nobody"), 0);
	assert_int_equal(store_tenant_holds(&s, ""), 0);
}

/* The consumer: each kind round-trips through its text; junk is refused */
static void test_consumer_text(void **state)
{
	static const char *const good[] = {
		"", "cdi:/etc/cdi/vfiod-0000_00_02.0.json", "vm:web-1", "vm:a: b (c)",
		"pid:4242@123456", "holder:1@1",
	};
	static const char *const bad[] = {
		"cdi", "cdi:", "vm:", "pid:", "pid:x@1", "pid:-1@1", "holder:4242@", "tpu:x",
		":x", "VM:web",
	};
	struct consumer c, d;
	char buf[CONSUMER_NAME_MAX + 64];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (consumer_parse(good[i], &c) < 0)
			fail_msg("refused: %s", good[i]);
		assert_true(consumer_format(&c, buf, sizeof(buf)) >= 0);
		assert_string_equal(buf, good[i]);
		assert_int_equal(consumer_parse(buf, &d), 0);
		assert_true(consumer_equal(&c, &d));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (consumer_parse(bad[i], &c) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(c.kind, CONSUMER_NONE);
	}
	assert_int_equal(consumer_parse("pid:4242@123456", &c), 0);
	assert_int_equal(c.kind, CONSUMER_PID);
	assert_int_equal(c.pid, 4242);
	assert_int_equal(c.start, 123456);
	assert_string_equal(consumer_kind_name(c.kind), "pid");
	/* a reused pid is another process */
	assert_int_equal(consumer_parse("pid:4242@123457", &d), 0);
	assert_false(consumer_equal(&c, &d));
	/* too long for the buffer: nothing half-written */
	assert_int_equal(consumer_format(&c, buf, 8), -ENAMETOOLONG);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_all_fields),
		cmocka_unit_test(test_round_trip_with_intent),
		cmocka_unit_test(test_round_trip_without_intent),
		cmocka_unit_test(test_round_trip_empty_and_bind),
		cmocka_unit_test(test_parse_trailing_newline_ok),
		cmocka_unit_test(test_reject_missing_keys),
		cmocka_unit_test(test_reject_wrong_types),
		cmocka_unit_test(test_reject_bad_values),
		cmocka_unit_test(test_reject_long_strings),
		cmocka_unit_test(test_reject_duplicate_device),
		cmocka_unit_test(test_reject_unit_too_long),
		cmocka_unit_test(test_reject_bad_text),
#define D(fn) cmocka_unit_test_setup_teardown(fn, dir_setup, dir_teardown)
		D(test_open_missing_dir),
		D(test_open_unusable_dir),
		D(test_save_open_round_trip),
		D(test_open_corrupt),
		D(test_open_symlink_refused),
		D(test_bug_aside_overwrites),
		D(test_lock_exclusive),
		D(test_lock_symlink_refused),
		D(test_write_atomic),
		D(test_write_atomic_relative),
#undef D
		cmocka_unit_test(test_lock_holder),
		cmocka_unit_test(test_put_find_remove),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_consumer_text),
		cmocka_unit_test(test_tenant_holds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
