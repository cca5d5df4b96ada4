// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the policy parser (policy.c). */
#include "tree.h"

#include "policy.h"

static void test_empty(void **state)
{
	static const char *const docs[] = {
		"",
		"\n\n",
		"; nothing reserved yet\n# another comment\n\n",
		"[reserved]\n",
		"[reserved]\ndevices =\n",
		"[reserved]\ndevices = , ,\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct policy p = { 0 };
		struct vf_err e = { 0 };

		if (policy_parse(&p, "empty.ini", docs[i], &e) != 0)
			fail_msg("refused \"%s\": %s", docs[i], e.msg);
		assert_int_equal(p.n_reserved, 0);
		assert_null(policy_reserved_find(&p, "0000:00:02.0"));
		policy_free(&p);
	}
}

static const char host_ini[] =
	"; vfiod policy for this host\n"                            /* 1 */
	"# the devices the host keeps\n"                            /* 2 */
	"\n"                                                        /* 3 */
	"[reserved]\n"                                              /* 4 */
	"devices = 0000:00:1f.2, 00:19.0 ,0000:00:1F.3\t01:00.0\n" /* 5 */
	"\n"                                                        /* 6 */
	"; the second NIC as well\n"                                /* 7 */
	"devices=0000:03:00.0 ; inline comment\n"                   /* 8 */
	"  ABCD:EF:1f.7\n";                                         /* 9: continuation */

static void test_reserved_list(void **state)
{
	static const struct {
		const char *bdf, *source;
	} want[] = {
		{ "0000:00:1f.2", "host.ini:5" }, { "0000:00:19.0", "host.ini:5" },
		{ "0000:00:1f.3", "host.ini:5" }, { "0000:01:00.0", "host.ini:5" },
		{ "0000:03:00.0", "host.ini:8" }, { "abcd:ef:1f.7", "host.ini:9" },
	};
	struct policy p = { 0 };
	struct vf_err e = { 0 };

	(void)state;
	assert_int_equal(policy_parse(&p, "host.ini", host_ini, &e), 0);
	assert_int_equal(p.n_reserved, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < p.n_reserved; i++) {
		assert_string_equal(p.reserved[i].bdf, want[i].bdf);
		assert_string_equal(p.reserved[i].source, want[i].source);
	}
	policy_free(&p);
	assert_null(p.reserved);
	assert_int_equal(p.n_reserved, 0);
}

static void test_crlf(void **state)
{
	struct policy p = { 0 };
	struct vf_err e = { 0 };

	(void)state;
	assert_int_equal(policy_parse(&p, "dos.ini", "\r\n[reserved]\r\ndevices = 00:02.0\r\n", &e),
			 0);
	assert_int_equal(p.n_reserved, 1);
	assert_string_equal(p.reserved[0].bdf, "0000:00:02.0");
	assert_string_equal(p.reserved[0].source, "dos.ini:3");
	policy_free(&p);
}

static void test_find(void **state)
{
	struct policy p = { 0 };
	struct vf_err e = { 0 };
	const struct policy_reserved *r;

	(void)state;
	assert_int_equal(policy_parse(&p, "host.ini", host_ini, &e), 0);
	r = policy_reserved_find(&p, "0000:03:00.0");
	assert_non_null(r);
	assert_string_equal(r->bdf, "0000:03:00.0");
	assert_string_equal(r->source, "host.ini:8");
	r = policy_reserved_find(&p, "0000:00:19.0");
	assert_non_null(r);
	assert_string_equal(r->source, "host.ini:5");
	assert_null(policy_reserved_find(&p, "0000:00:02.0"));
	assert_null(policy_reserved_find(&p, "0000:00:1f.0"));
	assert_null(policy_reserved_find(&p, ""));
	policy_free(&p);
}

/* Parses `doc`, expects a failure whose message starts with `prefix` and holds `word`. */
static void expect_error(const char *doc, const char *prefix, const char *word)
{
	struct policy p = { 0 };
	struct vf_err e = { 0 };

	assert_true(policy_parse(&p, "t.ini", doc, &e) < 0);
	assert_int_equal(e.errnum, EINVAL);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", e.msg, prefix);
	if (!strstr(e.msg, word))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, word);
	policy_free(&p);
}

static void test_unknown_section(void **state)
{
	(void)state;
	expect_error("[reserved]\ndevices = 00:02.0\n\n; tenants come later\n[tenants]\n"
		     "alice = 00:03.0\n",
		     "t.ini:6:", "unknown section [tenants]");
	/* a key before any section */
	expect_error("# comment\ndevices = 00:02.0\n", "t.ini:2:", "unknown section []");
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("[reserved]\n; comment\n\ndevices = 00:02.0\ndevice = 00:03.0\n", "t.ini:5:",
		     "unknown key \"device\" in [reserved]");
}

static void test_bad_bdf(void **state)
{
	(void)state;
	expect_error("[reserved]\n\n# c\ndevices = 00:02.0, 00:20.0\n", "t.ini:4:",
		     "\"00:20.0\" is not a PCI address");
	expect_error("[reserved]\ndevices = 00:02.0\ndevices = 0000:00:02.0.1\n", "t.ini:3:",
		     "\"0000:00:02.0.1\" is not a PCI address");
	expect_error("[reserved]\ndevices = eth0\n", "t.ini:2:", "\"eth0\" is not a PCI address");
	/* a continuation line is checked like the first */
	expect_error("[reserved]\ndevices = 00:02.0\n  bogus\n", "t.ini:3:",
		     "\"bogus\" is not a PCI address");
}

static void test_malformed_line(void **state)
{
	(void)state;
	expect_error("[reserved]\n\n; x\nthis line has no equals sign\n", "t.ini:4:",
		     "malformed line");
	expect_error("[reserved]\ndevices = 00:02.0\n[unterminated\n", "t.ini:3:",
		     "malformed line");
	/* the first error wins, though inih parses on after a syntax error */
	expect_error("[reserved]\nbad line\n\ndevices = 00:20.0\n", "t.ini:2:", "malformed line");
	expect_error("[reserved\ndevices = 00:02.0\n", "t.ini:1:", "malformed line");
	/* ... and a semantic error before a syntax error still comes first */
	expect_error("[reserved]\ndevices = 00:20.0\nbad line\n", "t.ini:2:",
		     "not a PCI address");
}

static void test_long_line(void **state)
{
	char doc[1024] = "[reserved]\n; a comment\ndevices =";
	struct policy p = { 0 };
	struct vf_err e = { 0 };

	(void)state;
	/* longer than inih's 200-byte line buffer: a clear error, not a bogus address */
	for (int i = 0; i < 20; i++)
		snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), " 0000:00:%02x.0", i);
	strcat(doc, "\n");
	expect_error(doc, "t.ini:3:", "line longer than 199 bytes");
	/* the same list over several keys is fine */
	assert_int_equal(policy_parse(&p, "t.ini",
				      "[reserved]\ndevices = 0000:00:01.0 0000:00:02.0\n"
				      "devices = 0000:00:03.0\n", &e), 0);
	assert_int_equal(p.n_reserved, 3);
	policy_free(&p);
}

static void test_stops_at_first_bad_entry(void **state)
{
	struct policy p = { 0 };
	struct vf_err e = { 0 };

	(void)state;
	/* the parse stops at the first bad entry and says so */
	assert_true(policy_parse(&p, "t.ini", "[reserved]\ndevices = 00:02.0 zz 00:03.0\n", &e) <
		    0);
	assert_null(policy_reserved_find(&p, "0000:00:03.0"));
	policy_free(&p);
}

static void test_load(void **state)
{
	struct tree t;
	struct policy p = { 0 };
	struct vf_err e = { 0 };
	char path[PATH_MAX];

	(void)state;
	tree_init(&t);
	tree_write(&t, "policy.ini", "[reserved]\n\ndevices = 00:1f.2\n");
	tree_abs(&t, "policy.ini", path, sizeof(path));
	assert_int_equal(policy_load(&p, path, &e), 0);
	assert_int_equal(p.n_reserved, 1);
	assert_string_equal(p.reserved[0].bdf, "0000:00:1f.2");
	assert_true(strlen(p.reserved[0].source) > 2);
	assert_string_equal(p.reserved[0].source + strlen(p.reserved[0].source) - 2, ":3");
	assert_int_equal(strncmp(p.reserved[0].source, path, strlen(path)), 0);
	policy_free(&p);

	/* a NUL byte would hide the rest of the file from the parser */
	tree_write_n(&t, "nul.ini", "[reserved]\n\0devices = 00:02.0\n", 30);
	tree_abs(&t, "nul.ini", path, sizeof(path));
	assert_true(policy_load(&p, path, &e) < 0);
	assert_int_equal(e.errnum, EINVAL);
	assert_non_null(strstr(e.msg, "NUL"));
	policy_free(&p);

	tree_abs(&t, "missing.ini", path, sizeof(path));
	assert_true(policy_load(&p, path, &e) < 0);
	assert_int_equal(e.errnum, ENOENT);
	assert_non_null(strstr(e.msg, "missing.ini"));
	tree_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_reserved_list),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_bdf),
		cmocka_unit_test(test_malformed_line),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_stops_at_first_bad_entry),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
