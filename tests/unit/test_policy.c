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
	/* reported at the header (inih does not report headers; the reader sees them) */
	expect_error("[reserved]\ndevices = 00:02.0\n\n; tenants come later\n[tenants]\n"
		     "alice = 00:03.0\n",
		     "t.ini:5:", "unknown section [tenants]");
	/* even an empty one */
	expect_error("[reserved]\n[Reserved]\n", "t.ini:2:", "unknown section [Reserved]");
	expect_error("[ reserved ]\n", "t.ini:1:", "unknown section [ reserved ]");
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

/* ---- the whole format ------------------------------------------------- */

/* Parses `doc` into *p, which must succeed. */
static void parse_ok(struct policy *p, const char *doc)
{
	struct vf_err e = { 0 };

	memset(p, 0, sizeof(*p));
	if (policy_parse(p, "t.ini", doc, &e) != 0)
		fail_msg("refused \"%s\": %s", doc, e.msg);
}

static void test_sections(void **state)
{
	(void)state;
	expect_error("[class]\nmatch = *\n", "t.ini:1:", "needs a name: [class NAME]");
	expect_error("[tenant]\nuids = 1\n", "t.ini:1:", "needs a name: [tenant NAME]");
	expect_error("[class a b]\nmatch = *\n", "t.ini:1:", "\"a b\" is not a class name");
	expect_error("[class ..]\nmatch = *\n", "t.ini:1:", "\"..\" is not a class name");
	expect_error("[class a/b]\nmatch = *\n", "t.ini:1:", "\"a/b\" is not a class name");
	expect_error("[tenant x$]\nuids = 1\n", "t.ini:1:", "\"x$\" is not a tenant name");
	expect_error("[tenant abcdefghijabcdefghijabcdefghijabc]\nuids = 1\n", "t.ini:1:",
		     "is not a tenant name");
	expect_error("[class default]\nmatch = *\n", "t.ini:1:", "built-in class");
	/* duplicates, of every kind of section */
	expect_error("[class a]\nmatch = *\n\n[class b]\nmatch = *\n[class a]\nmatch = *\n",
		     "t.ini:6:", "section [class a] appears twice (first at line 1)");
	expect_error("[tenant a]\nuids = 1\n[tenant a]\nuids = 2\n", "t.ini:3:",
		     "section [tenant a] appears twice (first at line 1)");
	/* a class and a tenant may share a name */
	{
		struct policy p;

		parse_ok(&p, "[class a]\nmatch = *\n[tenant a]\nuids = 1\nclasses = a\n");
		policy_free(&p);
	}
	expect_error("[daemon]\n[reserved]\n[daemon]\n", "t.ini:3:",
		     "section [daemon] appears twice (first at line 1)");
	expect_error("[reserved]\ndevices = 00:02.0\n[reserved]\n", "t.ini:3:",
		     "section [reserved] appears twice");
	expect_error("[companions]\n[companions]\n", "t.ini:2:", "section [companions] appears twice");
	/* headers start their line and end at ']' (a comment may follow) */
	expect_error("[reserved]\n  [daemon]\n", "t.ini:2:", "must start at the beginning");
	expect_error("[reserved] junk\n", "t.ini:1:", "text after the section header");
	{
		struct policy p;

		parse_ok(&p, "\xEF\xBB\xBF[daemon] ; the daemon\nsample_interval_ms = 50\n"
			     "[reserved] # comment\r\n");
		assert_int_equal(p.daemon.sample_interval_ms, 50);
		assert_int_equal(p.daemon.src.line, 1);
		assert_int_equal(p.reserved_src.line, 3);
		policy_free(&p);
	}
}

static void test_daemon_defaults(void **state)
{
	struct policy p, q;
	char *a, *b;

	(void)state;
	parse_ok(&p, "");
	assert_true(p.initialized);
	assert_string_equal(p.daemon.socket_group, "");
	assert_string_equal(p.daemon.admin_group, "");
	assert_int_equal(p.daemon.sample_interval_ms, 100);
	assert_int_equal(p.daemon.n_housekeeping, 0);
	assert_true(policy_housekeeping_cpu(&p, 0));
	assert_true(policy_housekeeping_cpu(&p, 4000));
	assert_string_equal(p.daemon.libvirt_uri, "qemu:///system");
	assert_string_equal(p.daemon.cdi_dir, "/var/run/cdi");
	assert_false(p.daemon.holder_signal);
	assert_int_equal(p.daemon.src.line, 0);
	assert_int_equal(p.n_classes, 0);
	assert_int_equal(p.n_tenants, 0);
	/* policy_init() gives the same policy; a zeroed one formats the same too */
	policy_init(&q);
	a = policy_format(&p);
	b = policy_format(&q);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	free(b);
	policy_free(&q);
	b = policy_format(&q);
	assert_string_equal(a, b);
	free(a);
	free(b);
	policy_free(&p);
}

static void test_daemon_keys(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(&p, "[daemon]\nsocket_group = vfio\nadmin_group = vfio-admin\n"
		     "sample_interval_ms = 10\nhousekeeping_cpus = 0-1,4\n"
		     "libvirt_uri = qemu+ssh://root@host/system\ncdi_dir = /etc/cdi\n"
		     "holder_quarantine = signal\n");
	assert_string_equal(p.daemon.socket_group, "vfio");
	assert_string_equal(p.daemon.admin_group, "vfio-admin");
	assert_int_equal(p.daemon.sample_interval_ms, 10);
	assert_int_equal(p.daemon.n_housekeeping, 3);
	assert_true(policy_housekeeping_cpu(&p, 0));
	assert_true(policy_housekeeping_cpu(&p, 1));
	assert_false(policy_housekeeping_cpu(&p, 2));
	assert_false(policy_housekeeping_cpu(&p, 3));
	assert_true(policy_housekeeping_cpu(&p, 4));
	assert_false(policy_housekeeping_cpu(&p, 5));
	assert_false(policy_housekeeping_cpu(&p, 100000));
	assert_string_equal(p.daemon.libvirt_uri, "qemu+ssh://root@host/system");
	assert_string_equal(p.daemon.cdi_dir, "/etc/cdi");
	assert_int_equal(p.daemon.line[POLICY_DAEMON_CDI_DIR], 7);
	assert_true(p.daemon.holder_signal);
	assert_int_equal(p.daemon.line[POLICY_DAEMON_HOLDER_QUARANTINE], 8);
	policy_free(&p);
	parse_ok(&p, "[daemon]\nholder_quarantine = leave\n");
	assert_false(p.daemon.holder_signal);
	policy_free(&p);

	/* empty group: none */
	parse_ok(&p, "[daemon]\nsocket_group =\nadmin_group = ; nobody\nsample_interval_ms = 10000\n");
	assert_string_equal(p.daemon.socket_group, "");
	assert_string_equal(p.daemon.admin_group, "");
	assert_int_equal(p.daemon.sample_interval_ms, 10000);
	policy_free(&p);
	parse_ok(&p, "[daemon]\nsocket_group = _svc.grp$\n");
	policy_free(&p);

	expect_error("[daemon]\nsocket_group = vfio users\n", "t.ini:2:",
		     "socket_group: \"vfio users\" is not a group name");
	expect_error("[daemon]\nadmin_group = -wheel\n", "t.ini:2:", "not a group name");
	expect_error("[daemon]\nadmin_group = a$b\n", "t.ini:2:", "not a group name");
	expect_error("[daemon]\nadmin_group = abcdefghijabcdefghijabcdefghijabc\n", "t.ini:2:",
		     "not a group name");
	expect_error("[daemon]\nadmin_group = ..\n", "t.ini:2:", "not a group name");
	expect_error("[daemon]\nsample_interval_ms = 9\n", "t.ini:2:",
		     "sample_interval_ms: 9 is out of range (10..10000)");
	expect_error("[daemon]\nsample_interval_ms = 10001\n", "t.ini:2:", "out of range");
	expect_error("[daemon]\nsample_interval_ms = -100\n", "t.ini:2:", "out of range");
	expect_error("[daemon]\nsample_interval_ms = 100ms\n", "t.ini:2:",
		     "sample_interval_ms: \"100ms\" is not a number");
	expect_error("[daemon]\nsample_interval_ms =\n", "t.ini:2:", "\"\" is not a number");
	expect_error("[daemon]\nsample_interval_ms = 0x10\n", "t.ini:2:", "is not a number");
	expect_error("[daemon]\nsample_interval_ms = 1e3\n", "t.ini:2:", "is not a number");
	expect_error("[daemon]\nlibvirt_uri =\n", "t.ini:2:", "libvirt_uri: \"\" is not a URI");
	expect_error("[daemon]\nlibvirt_uri = system\n", "t.ini:2:", "is not a URI");
	expect_error("[daemon]\nlibvirt_uri = 1qemu:///system\n", "t.ini:2:", "is not a URI");
	expect_error("[daemon]\nlibvirt_uri = qemu:///sys tem\n", "t.ini:2:", "is not a URI");
	expect_error("[daemon]\ncdi_dir = var/run/cdi\n", "t.ini:2:",
		     "cdi_dir: \"var/run/cdi\" is not an absolute directory path");
	expect_error("[daemon]\ncdi_dir = /var/../cdi\n", "t.ini:2:", "not an absolute");
	expect_error("[daemon]\ncdi_dir = /var//cdi\n", "t.ini:2:", "not an absolute");
	expect_error("[daemon]\ncdi_dir = /var/cdi/\n", "t.ini:2:", "not an absolute");
	expect_error("[daemon]\ncdi_dir = /var/./cdi\n", "t.ini:2:", "not an absolute");
	expect_error("[daemon]\ncdi_dir =\n", "t.ini:2:", "not an absolute");
	expect_error("[daemon]\nholder_quarantine = kill\n", "t.ini:2:",
		     "holder_quarantine: \"kill\" is neither leave nor signal");
	expect_error("[daemon]\nholder_quarantine =\n", "t.ini:2:", "neither leave nor signal");
	expect_error("[daemon]\ncolor = blue\n", "t.ini:2:", "unknown key \"color\" in [daemon]");
	/* scalars are set once; a continued value is not a second value either */
	expect_error("[daemon]\nsample_interval_ms = 100\n\n; again\nsample_interval_ms = 100\n",
		     "t.ini:5:", "\"sample_interval_ms\" set twice, first at line 2");
	expect_error("[daemon]\nsocket_group = a\nsocket_group = a\n", "t.ini:3:", "set twice");
	expect_error("[daemon]\nlibvirt_uri = qemu:///system\n  qemu:///session\n", "t.ini:3:",
		     "\"libvirt_uri\" takes one value (this line continues line 2)");
}

static void test_cpu_lists(void **state)
{
	static const struct {
		const char *list;
		size_t n;
		unsigned yes, no;
	} good[] = {
		{ "0", 1, 0, 1 },
		{ "0-3", 4, 3, 4 },
		{ "0-1,4", 3, 4, 2 },
		{ "0-1, 4", 3, 4, 3 },
		{ "0-3,2", 4, 2, 5 },
		{ "5-5", 1, 5, 4 },
		{ "8191", 1, 8191, 8190 },
		{ "0-8191", 8192, 8191, 8192 },
		{ "12,10-11", 3, 11, 9 },
	};
	static const struct {
		const char *list, *word;
	} bad[] = {
		{ "3-1", "range 3-1 runs backwards" },
		{ "0-99999", "CPU 99999 is out of range (0..8191)" },
		{ "8192", "CPU 8192 is out of range" },
		{ "a", "\"a\" is not a CPU or a range of CPUs" },
		{ "1,,2", "has an empty item" },
		{ ",1", "has an empty item" },
		{ "1,", "has an empty item" },
		{ "1-", "is not a CPU" },
		{ "-1", "is not a CPU" },
		{ "1-2-3", "is not a CPU" },
		{ "0 1", "is not a CPU" },
		{ "0x1", "is not a CPU" },
	};
	char doc[256];

	(void)state;
	for (size_t i = 0; i < VF_ARRAY_SIZE(good); i++) {
		struct policy p;

		snprintf(doc, sizeof(doc), "[daemon]\nhousekeeping_cpus = %s\n", good[i].list);
		parse_ok(&p, doc);
		assert_int_equal(p.daemon.n_housekeeping, good[i].n);
		assert_true(policy_housekeeping_cpu(&p, good[i].yes));
		assert_false(policy_housekeeping_cpu(&p, good[i].no));
		policy_free(&p);
	}
	for (size_t i = 0; i < VF_ARRAY_SIZE(bad); i++) {
		snprintf(doc, sizeof(doc), "[daemon]\n\nhousekeeping_cpus = %s\n", bad[i].list);
		expect_error(doc, "t.ini:3: housekeeping_cpus: ", bad[i].word);
	}
}

static void test_class_defaults(void **state)
{
	const struct policy_class *d = &policy_default_class;
	const struct policy_class *c;
	struct policy p;

	(void)state;
	/* the built-in class */
	assert_string_equal(d->name, "default");
	assert_int_equal(d->n_match, 0);
	assert_int_equal(d->storm_threshold, 20000);
	assert_int_equal(d->clear_threshold, 5000);
	assert_int_equal(d->sustain_ms, 500);
	assert_int_equal(d->cooldown_ms, 5000);
	assert_int_equal(d->escalation_ms, 2000);
	assert_int_equal(d->irq_cpu_max, 100);
	assert_int_equal(d->vmm_cpu_max, 400);
	assert_int_equal(d->storm_irq_cpu_max, 10);
	assert_int_equal(d->storm_vmm_cpu_max, 100);
	assert_int_equal(d->n_ladder, 3);
	assert_int_equal(d->ladder[0], POLICY_STEP_THROTTLE);
	assert_int_equal(d->ladder[1], POLICY_STEP_SILENCE);
	assert_int_equal(d->ladder[2], POLICY_STEP_QUARANTINE);
	assert_string_equal(policy_step_name(POLICY_STEP_SILENCE), "silence");

	/* a class that says only its match has the built-in values */
	parse_ok(&p, "[class any]\nmatch = *\n");
	c = &p.classes[0];
	assert_string_equal(c->name, "any");
	assert_int_equal(c->storm_threshold, d->storm_threshold);
	assert_int_equal(c->clear_threshold, d->clear_threshold);
	assert_int_equal(c->sustain_ms, d->sustain_ms);
	assert_int_equal(c->cooldown_ms, d->cooldown_ms);
	assert_int_equal(c->escalation_ms, d->escalation_ms);
	assert_int_equal(c->irq_cpu_max, d->irq_cpu_max);
	assert_int_equal(c->vmm_cpu_max, d->vmm_cpu_max);
	assert_int_equal(c->storm_irq_cpu_max, d->storm_irq_cpu_max);
	assert_int_equal(c->storm_vmm_cpu_max, d->storm_vmm_cpu_max);
	assert_int_equal(c->n_ladder, 3);
	assert_int_equal(c->src.line, 1);
	assert_int_equal(c->line[POLICY_CLASS_MATCH], 2);
	assert_int_equal(c->line[POLICY_CLASS_STORM_THRESHOLD], 0);
	policy_free(&p);

	/* the defaults that follow other keys: clear = storm / 4, storm caps
	 * = irq / 10 and vmm / 4 (at least 1) */
	parse_ok(&p, "[class a]\nmatch = *\nstorm_threshold = 1000\nirq_cpu_max = 50\n"
		     "vmm_cpu_max = 200\n[class b]\nmatch = *\nstorm_threshold = 3\n"
		     "irq_cpu_max = 5\nvmm_cpu_max = 3\n");
	assert_int_equal(p.classes[0].clear_threshold, 250);
	assert_int_equal(p.classes[0].storm_irq_cpu_max, 5);
	assert_int_equal(p.classes[0].storm_vmm_cpu_max, 50);
	assert_int_equal(p.classes[1].clear_threshold, 0);
	assert_int_equal(p.classes[1].storm_irq_cpu_max, 1);
	assert_int_equal(p.classes[1].storm_vmm_cpu_max, 1);
	policy_free(&p);
}

static void test_class_keys(void **state)
{
	struct policy p;
	const struct policy_class *c;

	(void)state;
	parse_ok(&p, "[class nic]\n"
		     "match = class=0200 id=8086:154C\n"
		     "match = id=15b3:*\n"
		     "storm_threshold = 1000000\n"
		     "sustain_ms = 2000\n"
		     "clear_threshold = 999999\n"
		     "cooldown_ms = 0\n"
		     "escalation_ms = 3600000\n"
		     "irq_cpu_max = 200\n"
		     "vmm_cpu_max = 819200\n"
		     "storm_irq_cpu_max = 200\n"
		     "storm_vmm_cpu_max = 1\n"
		     "ladder = throttle quarantine\n");
	c = &p.classes[0];
	assert_int_equal(c->n_match, 3);
	assert_int_equal(c->match[0].kind, POLICY_MATCH_CLASS);
	assert_int_equal(c->match[0].class_prefix, 0x0200);
	assert_int_equal(c->match[0].class_digits, 4);
	assert_int_equal(c->match[1].kind, POLICY_MATCH_ID);
	assert_int_equal(c->match[1].vendor, 0x8086);
	assert_int_equal(c->match[1].device, 0x154c);
	assert_false(c->match[1].any_device);
	assert_true(c->match[2].any_device);
	assert_int_equal(c->storm_threshold, 1000000);
	assert_int_equal(c->sustain_ms, 2000);
	assert_int_equal(c->clear_threshold, 999999);
	assert_int_equal(c->cooldown_ms, 0);
	assert_int_equal(c->escalation_ms, 3600000);
	assert_int_equal(c->irq_cpu_max, 200);
	assert_int_equal(c->vmm_cpu_max, 819200);
	assert_int_equal(c->storm_irq_cpu_max, 200);
	assert_int_equal(c->storm_vmm_cpu_max, 1);
	assert_int_equal(c->n_ladder, 2);
	assert_int_equal(c->ladder[0], POLICY_STEP_THROTTLE);
	assert_int_equal(c->ladder[1], POLICY_STEP_QUARANTINE);
	policy_free(&p);

	parse_ok(&p, "[class a]\nmatch = *\nladder = none\n[class b]\nmatch = *\n"
		     "ladder = silence, quarantine\n");
	assert_int_equal(p.classes[0].n_ladder, 0);
	assert_int_equal(p.classes[1].n_ladder, 2);
	assert_int_equal(p.classes[1].ladder[0], POLICY_STEP_SILENCE);
	policy_free(&p);

#define CLASS "[class c]\nmatch = *\n"
	/* ranges and types */
	expect_error(CLASS "storm_threshold = 0\n", "t.ini:3:",
		     "storm_threshold: 0 is out of range (1..100000000)");
	expect_error(CLASS "storm_threshold = 100000001\n", "t.ini:3:", "out of range");
	expect_error(CLASS "storm_threshold = lots\n", "t.ini:3:",
		     "storm_threshold: \"lots\" is not a number");
	expect_error(CLASS "storm_threshold = 5.5\n", "t.ini:3:", "is not a number");
	expect_error(CLASS "sustain_ms = 600001\n", "t.ini:3:", "sustain_ms: 600001 is out of range");
	expect_error(CLASS "sustain_ms = -1\n", "t.ini:3:", "out of range");
	expect_error(CLASS "cooldown_ms = 3600001\n", "t.ini:3:", "cooldown_ms: 3600001 is out");
	expect_error(CLASS "escalation_ms = x\n", "t.ini:3:", "escalation_ms: \"x\" is not");
	expect_error(CLASS "clear_threshold = -1\n", "t.ini:3:", "clear_threshold: -1 is out");
	expect_error(CLASS "irq_cpu_max = 0\n", "t.ini:3:", "irq_cpu_max: 0 is out of range (1..819200)");
	expect_error(CLASS "vmm_cpu_max = 819201\n", "t.ini:3:", "vmm_cpu_max: 819201 is out");
	expect_error(CLASS "storm_irq_cpu_max = 0\n", "t.ini:3:", "storm_irq_cpu_max: 0 is out");
	expect_error(CLASS "storm_vmm_cpu_max = 50%\n", "t.ini:3:", "\"50%\" is not a number");
	expect_error(CLASS "irq_cpu_max = 10\nirq_cpu_max = 10\n", "t.ini:4:",
		     "\"irq_cpu_max\" set twice, first at line 3");
	expect_error(CLASS "ladder = none\nladder = none\n", "t.ini:4:", "set twice");
	expect_error(CLASS "storm = 5\n", "t.ini:3:", "unknown key \"storm\" in [class c]");
	/* clear below storm, whichever of them is the default */
	expect_error(CLASS "storm_threshold = 100\nclear_threshold = 100\n", "t.ini:4:",
		     "clear_threshold 100 must be below storm_threshold 100");
	expect_error(CLASS "clear_threshold = 30000\n", "t.ini:3:",
		     "clear_threshold 30000 must be below storm_threshold 20000");
	expect_error(CLASS "clear_threshold = 500\n\nstorm_threshold = 400\n[reserved]\n", "t.ini:3:",
		     "must be below storm_threshold 400");
	/* storm caps at most the static ones, explicit or default */
	expect_error(CLASS "irq_cpu_max = 50\nstorm_irq_cpu_max = 51\n", "t.ini:4:",
		     "storm_irq_cpu_max 51 is above irq_cpu_max 50");
	expect_error(CLASS "storm_irq_cpu_max = 101\n", "t.ini:3:",
		     "storm_irq_cpu_max 101 is above irq_cpu_max 100");
	expect_error(CLASS "storm_vmm_cpu_max = 200\nvmm_cpu_max = 100\n", "t.ini:3:",
		     "storm_vmm_cpu_max 200 is above vmm_cpu_max 100");
	{
		parse_ok(&p, CLASS "irq_cpu_max = 50\nstorm_irq_cpu_max = 50\n");
		assert_int_equal(p.classes[0].storm_irq_cpu_max, 50);
		policy_free(&p);
	}
	/* the ladder */
	expect_error(CLASS "ladder = throttle escalate\n", "t.ini:3:",
		     "ladder: \"escalate\" is not a step");
	expect_error(CLASS "ladder = silence throttle\n", "t.ini:3:",
		     "ladder: \"throttle\" is out of order");
	expect_error(CLASS "ladder = throttle throttle\n", "t.ini:3:",
		     "ladder: \"throttle\" is listed twice");
	expect_error(CLASS "ladder =\n", "t.ini:3:", "ladder: empty");
	expect_error(CLASS "ladder = none throttle\n", "t.ini:3:", "\"none\" is not a step");
	expect_error(CLASS "ladder = Throttle\n", "t.ini:3:", "is not a step");
#undef CLASS
	/* match: required, and every rule checked */
	expect_error("[class a]\nstorm_threshold = 5\n\n[class b]\nmatch = *\n", "t.ini:1:",
		     "[class a] needs a match");
	expect_error("[class a]\nmatch =\n", "t.ini:1:", "[class a] needs a match");
	expect_error("[reserved]\n[class a]\n", "t.ini:2:", "[class a] needs a match");
	static const char *const bad_rules[] = {
		"class=3", "class=030", "class=0300000", "class=0x03", "class=", "class=zz",
		"id=10de", "id=10de:", "id=10de:2330a", "id=10d:2330", "id=zzzz:*",
		"id=10de:*x", "id=*:2330", "vendor=10de", "0300", "**", "class=+3",
	};
	for (size_t i = 0; i < VF_ARRAY_SIZE(bad_rules); i++) {
		char doc[128], word[128];

		snprintf(doc, sizeof(doc), "[class a]\nmatch = *\nmatch = %s\n", bad_rules[i]);
		snprintf(word, sizeof(word), "match: \"%s\" is not a rule", bad_rules[i]);
		expect_error(doc, "t.ini:3:", word);
	}
	expect_error("[class a]\nmatch = class=03 id=10de:*\nmatch = ID=10DE:*\n", "t.ini:3:",
		     "is not a rule");
	expect_error("[class a]\nmatch = class=03 id=10de:*\nmatch = id=10DE:*\n", "t.ini:3:",
		     "match: \"id=10DE:*\" is listed twice");
}

static void test_class_matching(void **state)
{
	struct policy p;
	const struct policy_class *c;

	(void)state;
	parse_ok(&p, "[class h100]\nmatch = id=10de:2330\n"
		     "[class nvidia]\nmatch = id=10de:*\n"
		     "[class vga]\nmatch = class=0300\n"
		     "[class display]\nmatch = class=03\n"
		     "[class xhci]\nmatch = class=0c0330 class=0c0320\n");
	assert_string_equal(policy_class_for(&p, 0x10de, 0x2330, 0x030200)->name, "h100");
	assert_string_equal(policy_class_for(&p, 0x10de, 0x2331, 0x030200)->name, "nvidia");
	assert_string_equal(policy_class_for(&p, 0x10de, 0x22bb, 0x040300)->name, "nvidia");
	assert_string_equal(policy_class_for(&p, 0x1002, 0x73bf, 0x030000)->name, "vga");
	assert_string_equal(policy_class_for(&p, 0x1002, 0x740f, 0x038000)->name, "display");
	assert_string_equal(policy_class_for(&p, 0x8086, 0x1234, 0x0c0330)->name, "xhci");
	assert_string_equal(policy_class_for(&p, 0x8086, 0x1234, 0x0c0320)->name, "xhci");
	/* a prefix is a prefix of the 6 digits, not of fewer */
	c = policy_class_for(&p, 0x8086, 0x1234, 0x0c0310);
	assert_ptr_equal(c, &policy_default_class);
	c = policy_class_for(&p, 0x8086, 0x10d3, 0x020000);
	assert_ptr_equal(c, &policy_default_class);
	assert_true(policy_class_matches(&p.classes[3], 0, 0, 0x03ffff));
	assert_false(policy_class_matches(&p.classes[3], 0, 0, 0x040300));
	assert_false(policy_class_matches(&policy_default_class, 0, 0, 0));
	policy_free(&p);

	/* the first in file order wins, even over a narrower one after it */
	parse_ok(&p, "[class all]\nmatch = *\n[class h100]\nmatch = id=10de:2330\n");
	assert_string_equal(policy_class_for(&p, 0x10de, 0x2330, 0x030200)->name, "all");
	assert_string_equal(policy_class_for(&p, 0x1234, 0x5678, 0xff0000)->name, "all");
	policy_free(&p);

	/* no classes at all: the default, even on a zeroed policy */
	memset(&p, 0, sizeof(p));
	assert_ptr_equal(policy_class_for(&p, 0x10de, 0x2330, 0x030200), &policy_default_class);
}

static const char tenants_ini[] =
	"[class gpu]\n"                        /* 1 */
	"match = class=03\n"                   /* 2 */
	"[class nic]\n"                        /* 3 */
	"match = class=02\n"                   /* 4 */
	"[tenant ml]\n"                        /* 5 */
	"uids = 1000, 1001\n"                  /* 6 */
	"gids = 2000\n"                        /* 7 */
	"classes = gpu\n"                      /* 8 */
	"devices = 41:00.0\n"                  /* 9 */
	"quota = 4\n"                          /* 10 */
	"trusted = true\n"                     /* 11 */
	"[tenant batch]\n"                     /* 12 */
	"uids = 1001\n"                        /* 13 */
	"uids = 1100\n"                        /* 14 */
	"devices = 0000:41:00.0 0000:42:00.0\n" /* 15 */
	"[tenant ops]\n"                       /* 16 */
	"gids = 3000 3001\n"                   /* 17 */
	"classes = default nic\n"              /* 18 */
	"quota = 0\n"                          /* 19 */
	"trusted = false\n";                   /* 20 */

static void test_tenants(void **state)
{
	const struct policy_tenant *out[4];
	const struct policy_tenant *ml, *batch, *ops;
	static const gid_t groups[] = { 5, 3001 };
	struct policy p;

	(void)state;
	parse_ok(&p, tenants_ini);
	assert_int_equal(p.n_tenants, 3);
	ml = policy_tenant_find(&p, "ml");
	batch = policy_tenant_find(&p, "batch");
	ops = policy_tenant_find(&p, "ops");
	assert_non_null(ml);
	assert_non_null(batch);
	assert_non_null(ops);
	assert_null(policy_tenant_find(&p, "ML"));
	assert_null(policy_tenant_find(&p, ""));
	assert_int_equal(ml->n_uids, 2);
	assert_int_equal(ml->uids[1], 1001);
	assert_int_equal(ml->n_gids, 1);
	assert_int_equal(ml->quota, 4);
	assert_true(ml->trusted);
	assert_string_equal(ml->devices[0].bdf, "0000:41:00.0");
	assert_int_equal(ml->devices[0].src.line, 9);
	assert_ptr_equal(ml->classes[0].cls, &p.classes[0]);
	assert_int_equal(ml->src.line, 5);
	/* defaults: quota 1, untrusted */
	assert_int_equal(batch->quota, 1);
	assert_false(batch->trusted);
	assert_int_equal(batch->n_uids, 2);
	assert_int_equal(batch->n_gids, 0);
	assert_int_equal(ops->quota, 0);
	assert_ptr_equal(ops->classes[0].cls, &policy_default_class);
	assert_ptr_equal(ops->classes[1].cls, &p.classes[1]);

	/* by uid */
	assert_int_equal(policy_tenant_for_peer(&p, 1000, 100, NULL, 0, out, 4), 1);
	assert_ptr_equal(out[0], ml);
	assert_int_equal(policy_tenant_for_peer(&p, 1001, 100, NULL, 0, out, 4), 2);
	assert_ptr_equal(out[0], ml);
	assert_ptr_equal(out[1], batch);
	/* cap: counted, not stored */
	out[1] = NULL;
	assert_int_equal(policy_tenant_for_peer(&p, 1001, 100, NULL, 0, out, 1), 2);
	assert_ptr_equal(out[0], ml);
	assert_null(out[1]);
	assert_int_equal(policy_tenant_for_peer(&p, 1001, 100, NULL, 0, NULL, 0), 2);
	/* by primary gid, by supplementary group */
	assert_int_equal(policy_tenant_for_peer(&p, 7, 2000, NULL, 0, out, 4), 1);
	assert_ptr_equal(out[0], ml);
	assert_int_equal(policy_tenant_for_peer(&p, 7, 8, groups, 2, out, 4), 1);
	assert_ptr_equal(out[0], ops);
	assert_int_equal(policy_tenant_for_peer(&p, 1100, 3000, groups, 2, out, 4), 2);
	assert_ptr_equal(out[0], batch);
	assert_ptr_equal(out[1], ops);
	/* a uid is not a gid, nor the reverse */
	assert_int_equal(policy_tenant_for_peer(&p, 2000, 1000, NULL, 0, out, 4), 0);
	assert_int_equal(policy_tenant_for_peer(&p, 0, 0, groups, 1, out, 4), 0);
	assert_true(policy_tenant_has_peer(ops, 1, 1, groups, 2));
	assert_false(policy_tenant_has_peer(ops, 1, 1, groups, 1));
	policy_free(&p);
}

static void test_tenant_errors(void **state)
{
	(void)state;
	expect_error("[tenant t]\nquota = 1\n\n[reserved]\n", "t.ini:1:",
		     "[tenant t] needs uids or gids");
	expect_error("[tenant t]\nuids =\ngids =\n", "t.ini:1:", "needs uids or gids");
	expect_error("[tenant t]\n", "t.ini:1:", "needs uids or gids");
	expect_error("[tenant t]\nuids = 1000 alice\n", "t.ini:2:",
		     "uids: \"alice\" is not a number (names are not resolved here)");
	expect_error("[tenant t]\ngids = wheel\n", "t.ini:2:", "gids: \"wheel\" is not a number");
	expect_error("[tenant t]\nuids = -1\n", "t.ini:2:", "uids: \"-1\" is not a number");
	expect_error("[tenant t]\nuids = 4294967295\n", "t.ini:2:",
		     "uids: 4294967295 is out of range (0..4294967294)");
	expect_error("[tenant t]\nuids = 1 2\nuids = 1\n", "t.ini:3:", "uids: 1 is listed twice");
	expect_error("[tenant t]\nuids = 1\nquota = -1\n", "t.ini:3:", "quota: -1 is out of range (0..65535)");
	expect_error("[tenant t]\nuids = 1\nquota = 65536\n", "t.ini:3:", "out of range");
	expect_error("[tenant t]\nuids = 1\nquota = many\n", "t.ini:3:", "quota: \"many\" is not a number");
	expect_error("[tenant t]\nuids = 1\nquota = 1\nquota = 2\n", "t.ini:4:",
		     "\"quota\" set twice, first at line 3");
	expect_error("[tenant t]\nuids = 1\ntrusted = yes\n", "t.ini:3:",
		     "trusted: \"yes\" is not true or false");
	expect_error("[tenant t]\nuids = 1\ntrusted = TRUE\n", "t.ini:3:", "is not true or false");
	expect_error("[tenant t]\nuids = 1\ntrusted = true\ntrusted = true\n", "t.ini:4:", "set twice");
	expect_error("[tenant t]\nuids = 1\ndevices = 00:02.0 eth0\n", "t.ini:3:",
		     "devices: \"eth0\" is not a PCI address");
	expect_error("[tenant t]\nuids = 1\ndevices = 00:02.0\ndevices = 0000:00:02.0\n", "t.ini:4:",
		     "devices: 0000:00:02.0 is listed twice (first at line 3)");
	expect_error("[tenant t]\nuids = 1\nclasses = a/b\n", "t.ini:3:",
		     "classes: \"a/b\" is not a class name");
	expect_error("[class a]\nmatch = *\n[tenant t]\nuids = 1\nclasses = a a\n", "t.ini:5:",
		     "classes: a is listed twice");
	expect_error("[tenant t]\nuids = 1\nhome = /home/t\n", "t.ini:3:",
		     "unknown key \"home\" in [tenant t]");
	/* a class named before it is defined is fine; one never defined is not,
	 * reported where the tenant names it */
	{
		struct policy p;

		parse_ok(&p, "[tenant t]\nuids = 1\nclasses = later\n[class later]\nmatch = *\n");
		assert_ptr_equal(p.tenants[0].classes[0].cls, &p.classes[0]);
		policy_free(&p);
	}
	expect_error("[class gpu]\nmatch = *\n[tenant t]\nuids = 1\nclasses = gpu\n\nclasses = npu\n"
		     "[class other]\nmatch = *\n",
		     "t.ini:7:", "tenant t names class \"npu\", which no [class] section defines");
}

static void test_may_use(void **state)
{
	struct policy p;
	const struct policy_tenant *ml, *batch, *ops;

	(void)state;
	parse_ok(&p, tenants_ini);
	ml = policy_tenant_find(&p, "ml");
	batch = policy_tenant_find(&p, "batch");
	ops = policy_tenant_find(&p, "ops");
	/* ml: class gpu and device 0000:41:00.0 */
	assert_true(policy_tenant_may_use(&p, ml, "0000:65:00.0", 0x10de, 0x2330, 0x030200));
	assert_true(policy_tenant_may_use(&p, ml, "0000:41:00.0", 0x8086, 0x10d3, 0x020000));
	assert_true(policy_tenant_may_use(&p, ml, "41:00.0", 0x8086, 0x10d3, 0x020000));
	assert_false(policy_tenant_may_use(&p, ml, "0000:42:00.0", 0x8086, 0x10d3, 0x020000));
	assert_false(policy_tenant_may_use(&p, ml, "junk", 0x8086, 0x10d3, 0x020000));
	assert_true(policy_tenant_may_use(&p, ml, "junk", 0x1002, 0x1, 0x038000));
	/* batch: devices only */
	assert_true(policy_tenant_may_use(&p, batch, "0000:42:00.0", 0x10de, 0x2330, 0x030200));
	assert_false(policy_tenant_may_use(&p, batch, "0000:43:00.0", 0x10de, 0x2330, 0x030200));
	assert_false(policy_tenant_may_use(&p, batch, NULL, 0x10de, 0x2330, 0x030200));
	/* ops: the default class (devices no class matches) and nic */
	assert_true(policy_tenant_may_use(&p, ops, "0000:01:00.0", 0x1b36, 0x0010, 0x010802));
	assert_true(policy_tenant_may_use(&p, ops, "0000:01:00.0", 0x8086, 0x10d3, 0x020000));
	assert_false(policy_tenant_may_use(&p, ops, "0000:01:00.0", 0x10de, 0x2330, 0x030200));
	policy_free(&p);
}

static void test_companions(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(&p, "[companions]\n"
		     "allow = 0000:41:00.0 0000:42:00.0\n"
		     "allow = 65:00.0, 65:00.3 ; same slot, listed anyway\n"
		     "allow =\n");
	assert_int_equal(p.n_companions, 2);
	assert_string_equal(p.companions[1].a, "0000:65:00.0");
	assert_string_equal(p.companions[1].b, "0000:65:00.3");
	assert_int_equal(p.companions[1].src.line, 3);
	assert_true(policy_companion_allowed(&p, "0000:41:00.0", "0000:42:00.0"));
	assert_true(policy_companion_allowed(&p, "42:00.0", "41:00.0"));
	assert_true(policy_companion_allowed(&p, "0000:65:00.3", "0000:65:00.0"));
	assert_false(policy_companion_allowed(&p, "0000:41:00.0", "0000:65:00.0"));
	assert_false(policy_companion_allowed(&p, "0000:41:00.0", "0000:41:00.0"));
	assert_false(policy_companion_allowed(&p, "junk", "0000:42:00.0"));
	assert_false(policy_companion_allowed(&p, NULL, "0000:42:00.0"));
	policy_free(&p);
	/* none at all */
	parse_ok(&p, "");
	assert_false(policy_companion_allowed(&p, "0000:41:00.0", "0000:42:00.0"));
	policy_free(&p);

	expect_error("[companions]\nallow = 41:00.0\n", "t.ini:2:",
		     "allow: one pair of PCI addresses a line (\"allow = BDF BDF\"), not 1");
	expect_error("[companions]\nallow = 41:00.0 42:00.0 43:00.0\n", "t.ini:2:", "not 3");
	/* a pair does not continue on the next line */
	expect_error("[companions]\nallow = 41:00.0\n  42:00.0\n", "t.ini:2:", "one pair");
	expect_error("[companions]\nallow = 41:00.0 42:00.g\n", "t.ini:2:",
		     "allow: \"42:00.g\" is not a PCI address");
	expect_error("[companions]\nallow = 41:00.0 0000:41:00.0\n", "t.ini:2:",
		     "allow: 0000:41:00.0 cannot be its own companion");
	expect_error("[companions]\nallow = 41:00.0 42:00.0\n\nallow = 42:00.0 41:00.0\n", "t.ini:4:",
		     "the pair 0000:42:00.0 0000:41:00.0 is listed twice (first at line 2)");
	expect_error("[companions]\ndeny = 41:00.0 42:00.0\n", "t.ini:2:",
		     "unknown key \"deny\" in [companions]");
}

static void test_reserved_twice(void **state)
{
	(void)state;
	expect_error("[reserved]\ndevices = 00:02.0\ndevices = 0000:00:02.0\n", "t.ini:3:",
		     "devices: 0000:00:02.0 is listed twice (first at t.ini:2)");
}

static void test_load_dir(void **state)
{
	struct tree t;
	struct policy p = { 0 };
	struct vf_err e = { 0 };
	char path[PATH_MAX], file[PATH_MAX + 32];

	(void)state;
	tree_init(&t);
	/* read in name order: 10-b before 20-a; other names are not read */
	tree_write(&t, "pol/20-a.conf", "[class a]\nmatch = *\n[tenant t]\nuids = 1\nclasses = b\n");
	tree_write(&t, "pol/10-b.conf", "; b\n[class b]\nmatch = class=03\n[reserved]\ndevices = 00:02.0\n");
	tree_write(&t, "pol/notes.txt", "not a policy\n");
	tree_write(&t, "pol/.hidden.conf", "not a policy\n");
	tree_write(&t, "pol/conf", "not a policy\n");
	tree_write(&t, "pol/x.conf.orig", "not a policy\n");
	tree_mkdir(&t, "pol/sub");
	tree_write(&t, "pol/sub/c.conf", "not a policy\n");
	tree_abs(&t, "pol", path, sizeof(path));
	assert_int_equal(policy_load(&p, path, &e), 0);
	assert_int_equal(p.n_classes, 2);
	assert_string_equal(p.classes[0].name, "b");
	assert_string_equal(p.classes[1].name, "a");
	assert_string_equal(policy_class_for(&p, 1, 2, 0x030000)->name, "b");
	assert_string_equal(policy_class_for(&p, 1, 2, 0x020000)->name, "a");
	snprintf(file, sizeof(file), "%s/10-b.conf", path);
	assert_string_equal(p.classes[0].src.file, file);
	assert_int_equal(p.classes[0].src.line, 2);
	snprintf(file, sizeof(file), "%s/10-b.conf:5", path);
	assert_string_equal(p.reserved[0].source, file);
	assert_ptr_equal(p.tenants[0].classes[0].cls, &p.classes[0]);
	policy_free(&p);

	/* a trailing slash gives the same names */
	strcat(path, "/");
	assert_int_equal(policy_load(&p, path, &e), 0);
	path[strlen(path) - 1] = '\0';
	snprintf(file, sizeof(file), "%s/10-b.conf", path);
	assert_string_equal(p.classes[0].src.file, file);
	policy_free(&p);

	/* errors name the right file */
	tree_write(&t, "pol/30-c.conf", "[daemon]\n\n[reserved]\n");
	assert_true(policy_load(&p, path, &e) < 0);
	assert_int_equal(e.errnum, EINVAL);
	snprintf(file, sizeof(file), "%s/30-c.conf:3: section [reserved] appears twice (first at %s/10-b.conf:4)",
		 path, path);
	assert_string_equal(e.msg, file);
	policy_free(&p);
	tree_write(&t, "pol/30-c.conf", "[tenant u]\ngids = 1\n\nclasses = a c\n");
	assert_true(policy_load(&p, path, &e) < 0);
	snprintf(file, sizeof(file), "%s/30-c.conf:4: tenant u names class \"c\"", path);
	assert_int_equal(strncmp(e.msg, file, strlen(file)), 0);
	policy_free(&p);
	tree_write(&t, "pol/30-c.conf", "[class a]\nmatch = *\n");
	assert_true(policy_load(&p, path, &e) < 0);
	snprintf(file, sizeof(file), "%s/30-c.conf:1: section [class a] appears twice (first at %s/20-a.conf:1)",
		 path, path);
	assert_string_equal(e.msg, file);
	policy_free(&p);
	tree_write(&t, "pol/30-c.conf", "");
	assert_int_equal(policy_load(&p, path, &e), 0);
	policy_free(&p);

	/* a directory without policy files */
	tree_mkdir(&t, "empty");
	tree_write(&t, "empty/README", "nothing\n");
	tree_abs(&t, "empty", path, sizeof(path));
	assert_true(policy_load(&p, path, &e) < 0);
	assert_int_equal(e.errnum, ENOENT);
	assert_non_null(strstr(e.msg, "holds no *.conf file"));
	policy_free(&p);

	/* the size bound holds for each file */
	{
		size_t n = (1u << 20) + 1;
		char *big = malloc(n + 1);

		assert_non_null(big);
		memset(big, '\n', n);
		big[n] = '\0';
		tree_write(&t, "big/a.conf", big);
		free(big);
		tree_abs(&t, "big", path, sizeof(path));
		assert_true(policy_load(&p, path, &e) < 0);
		assert_int_equal(e.errnum, E2BIG);
		assert_non_null(strstr(e.msg, "a.conf is larger than"));
		policy_free(&p);
	}
	tree_destroy(&t);
}

/* A policy with every kind of value, long lists included. */
static const char rich_ini[] =
	"[daemon]\n"
	"socket_group = vfio\n"
	"admin_group = wheel\n"
	"sample_interval_ms = 250\n"
	"housekeeping_cpus = 4,0-1,2,9-11\n"
	"libvirt_uri = qemu:///session\n"
	"cdi_dir = /etc/cdi\n"
	"[class h100]\n"
	"match = id=10DE:2330 id=10de:2331 ; H100\n"
	"storm_threshold = 50000\n"
	"ladder = throttle, silence\n"
	"[class audio]\n"
	"match = class=0403 class=04 class=040300 id=1002:* *\n"
	"match = id=0001:0001 id=0002:0002 id=0003:0003 id=0004:0004 id=0005:0005\n"
	"match = id=0006:0001 id=0007:0002 id=0008:0003 id=0009:0004 id=000a:0005\n"
	"match = id=0016:0001 id=0017:0002 id=0018:0003 id=0019:0004 id=001a:0005\n"
	"storm_threshold = 3\n"
	"vmm_cpu_max = 1\n"
	"ladder = none\n"
	"[tenant ml]\n"
	"uids = 1000 0 4294967294\n"
	"gids = 2000 2001 2002 2003 2004 2005 2006 2007 2008 2009 2010 2011\n"
	"gids = 3000 3001 3002 3003 3004 3005 3006 3007 3008 3009 3010 3011\n"
	"devices = 0000:01:00.0 0000:02:00.0 0000:03:00.0 0000:04:00.0 0000:05:00.0\n"
	"devices = 0000:06:00.0 0000:07:00.0 0000:08:00.0 0000:09:00.0 0000:0a:00.0\n"
	"devices = ffff:ff:1f.7\n"
	"classes = audio default h100\n"
	"quota = 65535\n"
	"trusted = true\n"
	"[tenant empty]\n"
	"gids = 0\n"
	"quota = 0\n"
	"[reserved]\n"
	"devices = 0000:10:00.0 0000:11:00.0 0000:12:00.0 0000:13:00.0 0000:14:00.0\n"
	"devices = 0000:15:00.0 0000:16:00.0 0000:17:00.0 0000:18:00.0 0000:19:00.0\n"
	"devices = 0000:1a:00.0 0000:1b:00.0\n"
	"[companions]\n"
	"allow = 0000:41:00.0 0000:42:00.0\n"
	"allow = 43:00.1 43:00.0\n";

/* The two policies answer every lookup the same way. */
static void assert_same_lookups(const struct policy *a, const struct policy *b)
{
	static const struct {
		uint16_t vendor, device;
		uint32_t cls;
		const char *bdf;
	} dev[] = {
		{ 0x10de, 0x2330, 0x030200, "0000:01:00.0" }, { 0x10de, 0x2331, 0x030200, "0000:21:00.0" },
		{ 0x10de, 0x22bb, 0x040300, "0000:22:00.1" }, { 0x1002, 0x1234, 0x030000, "0000:23:00.0" },
		{ 0x8086, 0x10d3, 0x020000, "ffff:ff:1f.7" }, { 0x0009, 0x0004, 0x020000, "0000:24:00.0" },
	};
	static const gid_t groups[] = { 3011, 7 };

	assert_int_equal(a->n_classes, b->n_classes);
	assert_int_equal(a->n_tenants, b->n_tenants);
	assert_int_equal(a->n_reserved, b->n_reserved);
	for (size_t i = 0; i < VF_ARRAY_SIZE(dev); i++) {
		assert_string_equal(policy_class_for(a, dev[i].vendor, dev[i].device, dev[i].cls)->name,
				    policy_class_for(b, dev[i].vendor, dev[i].device, dev[i].cls)->name);
		assert_int_equal(policy_reserved_find(a, dev[i].bdf) != NULL,
				 policy_reserved_find(b, dev[i].bdf) != NULL);
		for (size_t t = 0; t < a->n_tenants; t++)
			assert_int_equal(policy_tenant_may_use(a, &a->tenants[t], dev[i].bdf,
							       dev[i].vendor, dev[i].device, dev[i].cls),
					 policy_tenant_may_use(b, &b->tenants[t], dev[i].bdf,
							       dev[i].vendor, dev[i].device, dev[i].cls));
		for (size_t j = 0; j < VF_ARRAY_SIZE(dev); j++)
			assert_int_equal(policy_companion_allowed(a, dev[i].bdf, dev[j].bdf),
					 policy_companion_allowed(b, dev[i].bdf, dev[j].bdf));
	}
	for (uid_t u = 0; u < 3; u++) {
		const struct policy_tenant *ta[4], *tb[4];
		size_t na = policy_tenant_for_peer(a, u * 1000, 3000 + u, groups, 2, ta, 4);
		size_t nb = policy_tenant_for_peer(b, u * 1000, 3000 + u, groups, 2, tb, 4);

		assert_int_equal(na, nb);
		for (size_t i = 0; i < na && i < 4; i++)
			assert_string_equal(ta[i]->name, tb[i]->name);
	}
	for (unsigned cpu = 0; cpu < 16; cpu++)
		assert_int_equal(policy_housekeeping_cpu(a, cpu), policy_housekeeping_cpu(b, cpu));
	assert_int_equal(memcmp(&a->daemon.housekeeping, &b->daemon.housekeeping,
				sizeof(a->daemon.housekeeping)), 0);
	assert_int_equal(a->daemon.sample_interval_ms, b->daemon.sample_interval_ms);
	for (size_t i = 0; i < a->n_classes; i++) {
		const struct policy_class *x = &a->classes[i], *y = &b->classes[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->n_match, y->n_match);
		assert_int_equal(x->storm_threshold, y->storm_threshold);
		assert_int_equal(x->clear_threshold, y->clear_threshold);
		assert_int_equal(x->storm_irq_cpu_max, y->storm_irq_cpu_max);
		assert_int_equal(x->storm_vmm_cpu_max, y->storm_vmm_cpu_max);
		assert_int_equal(x->n_ladder, y->n_ladder);
	}
}

/*
 * A value that fits its line as "key=value" but not as "key = value", the
 * way policy_format() writes it, is refused: the formatted policy must parse
 * again (found by fuzz_policy with a long libvirt_uri).
 */
static void test_long_values(void **state)
{
	static const struct {
		const char *key;
		size_t max;
	} keys[] = { { "libvirt_uri", 185 }, { "cdi_dir", 189 }, { "housekeeping_cpus", 179 } };
	char value[200], doc[300], want[64];

	(void)state;
	for (size_t k = 0; k < VF_ARRAY_SIZE(keys); k++) {
		size_t max = keys[k].max;

		for (size_t len = max; len <= max + 2; len++) {
			struct policy p1, p2;
			char *t1;
			struct vf_err e = { 0 };

			if (strcmp(keys[k].key, "libvirt_uri") == 0) {
				memset(value, 'a', len);
				memcpy(value, "qemu:///", 8);
			} else if (strcmp(keys[k].key, "cdi_dir") == 0) {
				memset(value, 'd', len);
				value[0] = '/';
			} else { /* "0,2,4,..." cut to len, ending in a digit */
				size_t n = 0;

				for (unsigned cpu = 0; n < len; cpu += 2)
					n += (size_t)snprintf(value + n, sizeof(value) - n, "%s%u",
							      n ? "," : "", cpu);
				if (value[len - 1] == ',')
					value[len - 1] = '0';
			}
			value[len] = '\0';
			/* the line as written fits: only the formatted one would not */
			snprintf(doc, sizeof(doc), "[daemon]\n%s=%s\n", keys[k].key, value);
			assert_true(strlen(keys[k].key) + 1 + len <= 199);
			if (len > max) {
				snprintf(want, sizeof(want), "value longer than %zu bytes", max);
				expect_error(doc, "t.ini:2:", want);
				continue;
			}
			parse_ok(&p1, doc);
			t1 = policy_format(&p1);
			assert_non_null(t1);
			memset(&p2, 0, sizeof(p2));
			if (policy_parse(&p2, "t1.ini", t1, &e) != 0)
				fail_msg("%s of %zu bytes: the formatted policy does not parse: %s",
					 keys[k].key, len, e.msg);
			free(t1);
			policy_free(&p1);
			policy_free(&p2);
		}
	}
}

static void test_round_trip(void **state)
{
	static const char *const docs[] = { "", rich_ini, tenants_ini, host_ini };

	(void)state;
	for (size_t d = 0; d < VF_ARRAY_SIZE(docs); d++) {
		struct policy p1, p2, p3;
		char *t1, *t2, *t3;
		const char *line;

		parse_ok(&p1, docs[d]);
		t1 = policy_format(&p1);
		assert_non_null(t1);
		/* no line of the output is too long to be read again */
		for (line = t1; *line; line += strcspn(line, "\n") + 1)
			assert_true(strcspn(line, "\n") < 200);
		parse_ok(&p2, t1);
		t2 = policy_format(&p2);
		assert_non_null(t2);
		if (strcmp(t1, t2) != 0)
			fail_msg("formatting again changed the text:\n%s\n----\n%s", t1, t2);
		parse_ok(&p3, t2);
		t3 = policy_format(&p3);
		assert_string_equal(t2, t3);
		assert_same_lookups(&p1, &p2);
		assert_same_lookups(&p2, &p3);
		free(t1);
		free(t2);
		free(t3);
		policy_free(&p1);
		policy_free(&p2);
		policy_free(&p3);
	}
}

static void test_format(void **state)
{
	struct policy p;
	char *t;

	(void)state;
	parse_ok(&p, rich_ini);
	t = policy_format(&p);
	assert_non_null(t);
	/* normalized: canonical addresses, lower case, merged CPU ranges, defaults */
	assert_non_null(strstr(t, "\n[daemon]\nsocket_group = vfio\nadmin_group = wheel\n"
				  "sample_interval_ms = 250\nhousekeeping_cpus = 0-2,4,9-11\n"
				  "libvirt_uri = qemu:///session\ncdi_dir = /etc/cdi\n"));
	assert_non_null(strstr(t, "\n[class h100]\nmatch = id=10de:2330 id=10de:2331\n"
				  "storm_threshold = 50000\nsustain_ms = 500\nclear_threshold = 12500\n"
				  "cooldown_ms = 5000\nescalation_ms = 2000\nirq_cpu_max = 100\n"
				  "vmm_cpu_max = 400\nstorm_irq_cpu_max = 10\nstorm_vmm_cpu_max = 100\n"
				  "ladder = throttle silence\n"));
	assert_non_null(strstr(t, "match = class=0403 class=04 class=040300 id=1002:* *"));
	assert_non_null(strstr(t, "\nladder = none\n"));
	assert_non_null(strstr(t, "\n[tenant empty]\nuids =\ngids = 0\ndevices =\nclasses =\n"
				  "quota = 0\ntrusted = false\n"));
	assert_non_null(strstr(t, "\nallow = 0000:43:00.1 0000:43:00.0\n"));
	/* classes in file order, before tenants; the default class as a comment */
	assert_true(strstr(t, "[class h100]") < strstr(t, "[class audio]"));
	assert_true(strstr(t, "[class audio]") < strstr(t, "; [class default]"));
	assert_true(strstr(t, "; [class default]") < strstr(t, "[tenant ml]"));
	assert_non_null(strstr(t, "; storm_threshold = 20000\n"));
	free(t);
	policy_free(&p);
}

static void test_check_host(void **state)
{
	struct policy p;
	struct vf_err e = { 0 };

	(void)state;
	/* defaults fit any host: only set values are checked */
	parse_ok(&p, "[class a]\nmatch = *\n");
	assert_int_equal(policy_check_host(&p, 1, &e), 0);
	policy_free(&p);
	parse_ok(&p, "[daemon]\nhousekeeping_cpus = 0-3\n[class a]\nmatch = *\nvmm_cpu_max = 800\n"
		     "storm_vmm_cpu_max = 400\n");
	assert_int_equal(policy_check_host(&p, 8, &e), 0);
	assert_true(policy_check_host(&p, 4, &e) < 0);
	assert_int_equal(e.errnum, EINVAL);
	assert_string_equal(e.msg, "t.ini:5: vmm_cpu_max 800 is more than this host's 4 CPUs (at most 400)");
	assert_true(policy_check_host(&p, 2, &e) < 0);
	assert_string_equal(e.msg, "t.ini:5: vmm_cpu_max 800 is more than this host's 2 CPUs (at most 200)");
	policy_free(&p);
	parse_ok(&p, "[daemon]\nhousekeeping_cpus = 0-3\n");
	assert_int_equal(policy_check_host(&p, 4, &e), 0);
	assert_true(policy_check_host(&p, 3, &e) < 0);
	assert_string_equal(e.msg, "t.ini:2: housekeeping_cpus names CPU 3, but this host has CPUs 0-2");
	policy_free(&p);
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
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_daemon_defaults),
		cmocka_unit_test(test_daemon_keys),
		cmocka_unit_test(test_cpu_lists),
		cmocka_unit_test(test_class_defaults),
		cmocka_unit_test(test_class_keys),
		cmocka_unit_test(test_class_matching),
		cmocka_unit_test(test_tenants),
		cmocka_unit_test(test_tenant_errors),
		cmocka_unit_test(test_may_use),
		cmocka_unit_test(test_companions),
		cmocka_unit_test(test_reserved_twice),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_check_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
