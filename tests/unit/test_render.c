// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * render.c against golden files: the testbed's captured host
 * (tests/fixtures/captured/testbed-q35, names from tests/fixtures/pci.ids)
 * with a store that owns three of its devices (pooled, assigned to a VM
 * for a tenant, quarantined after silencing with a reset pending), rendered
 * as list, show (owned and watched, owned and not watched, not owned, not
 * there), status (with and without cgroups and libvirt) and a move's
 * answer. The golden files live in tests/unit/golden/render-*.json;
 * VFIOD_REGEN=1 rewrites them (review the diff). Besides the comparison,
 * independent assertions pin what each answer must say, so a regenerated
 * golden file cannot bless a wrong answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render.h"

#define ROOT "tests/fixtures/captured/testbed-q35/root"
#define IDS "tests/fixtures/pci.ids"

static const char STORE[] =
	"{ \"version\": 1, \"devices\": [\n"
	"  { \"bdf\": \"0000:00:02.0\", \"original_driver\": null, \"state\": \"pooled\",\n"
	"    \"unit\": [ \"0000:00:02.0\" ], \"consumer\": null, \"tenant\": null,\n"
	"    \"reset_pending\": false, \"no_reset_method\": false, \"since\": 1700000000 },\n"
	"  { \"bdf\": \"0000:00:03.0\", \"original_driver\": \"e1000e\", \"state\": \"assigned\",\n"
	"    \"unit\": [ \"0000:00:03.0\" ], \"consumer\": \"vm:web-1\", \"tenant\": \"acme\",\n"
	"    \"reset_pending\": false, \"no_reset_method\": false, \"since\": 1700000001 },\n"
	"  { \"bdf\": \"0000:00:06.0\", \"original_driver\": null, \"state\": \"quarantined\",\n"
	"    \"unit\": [ \"0000:00:06.0\", \"0000:00:06.1\" ], \"consumer\": null, \"tenant\": null,\n"
	"    \"reset_pending\": true, \"no_reset_method\": false, \"since\": 1700000002,\n"
	"    \"containment\": \"silenced\", \"saved_command\": 1031 },\n"
	"  { \"bdf\": \"0000:00:06.1\", \"original_driver\": \"snd_hda_intel\", \"state\": \"quarantined\",\n"
	"    \"unit\": [ \"0000:00:06.0\", \"0000:00:06.1\" ], \"consumer\": null, \"tenant\": null,\n"
	"    \"reset_pending\": false, \"no_reset_method\": true, \"since\": 1700000002,\n"
	"    \"containment\": \"silenced\", \"saved_command\": 6 }\n"
	"], \"intent\": null }\n";

struct fx {
	struct hostfs h;
	struct inventory inv;
	struct store st;
	struct pci_names *names;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct vf_err e = { 0 };

	if (!f || hostfs_init(&f->h, ROOT, &e) < 0)
		fail_msg("%s: %s", ROOT, e.msg);
	f->names = names_open(IDS);
	if (inventory_gather(&f->inv, &f->h, NULL, f->names, &e) < 0)
		fail_msg("inventory of %s: %s", ROOT, e.msg);
	if (store_parse(&f->st, STORE, &e) < 0)
		fail_msg("store: %s", e.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(&f->st);
	inventory_free(&f->inv);
	names_close(f->names);
	hostfs_fini(&f->h);
	free(f);
	return 0;
}

/* Compares (or, with VFIOD_REGEN=1, writes) tests/unit/golden/render-NAME.json; frees o. */
static void golden(const char *name, struct json_object *o)
{
	char path[256];
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_SPACED |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	FILE *fp;

	snprintf(path, sizeof(path), "tests/unit/golden/render-%s.json", name);
	if (getenv("VFIOD_REGEN")) {
		fp = fopen(path, "we");
		assert_non_null(fp);
		fprintf(fp, "%s\n", text);
		fclose(fp);
	} else {
		char *want = NULL;
		size_t len = 0;

		fp = fopen(path, "re");
		if (!fp)
			fail_msg("%s is missing (VFIOD_REGEN=1 writes it)", path);
		if (getdelim(&want, &len, '\0', fp) < 0)
			fail_msg("%s: unreadable", path);
		fclose(fp);
		if (strlen(want) != strlen(text) + 1 || strncmp(want, text, strlen(text)) != 0)
			fail_msg("render-%s differs from %s; got:\n%s", name, path, text);
		free(want);
	}
	json_object_put(o);
}

static struct json_object *find_bdf(struct json_object *list, const char *bdf)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *o = json_object_array_get_idx(list, i), *b;

		if (json_object_object_get_ex(o, "bdf", &b) && strcmp(json_object_get_string(b), bdf) == 0)
			return o;
	}
	return NULL;
}

static const char *field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "(missing)";
	return v ? json_object_get_string(v) : "(null)";
}

static void test_list(void **state)
{
	struct fx *f = *state;
	struct json_object *l = render_list(&f->inv, &f->st);

	assert_int_equal(json_object_array_length(l), f->inv.pci.n);
	assert_string_equal(field(find_bdf(l, "0000:00:02.0"), "state"), "pooled");
	assert_string_equal(field(find_bdf(l, "0000:00:03.0"), "state"), "assigned");
	assert_string_equal(field(find_bdf(l, "0000:00:03.0"), "consumer"), "vm:web-1");
	assert_string_equal(field(find_bdf(l, "0000:00:03.0"), "tenant"), "acme");
	assert_string_equal(field(find_bdf(l, "0000:00:03.0"), "consumer_kind"), "vm");
	assert_string_equal(field(find_bdf(l, "0000:00:02.0"), "consumer_kind"), "(null)");
	assert_string_equal(field(find_bdf(l, "0000:00:06.1"), "state"), "quarantined");
	/* not owned: host, no consumer; the boot GPU is not assignable, with its reason */
	assert_string_equal(field(find_bdf(l, "0000:00:01.0"), "state"), "host");
	assert_string_equal(field(find_bdf(l, "0000:00:01.0"), "consumer"), "(null)");
	assert_string_equal(field(find_bdf(l, "0000:00:01.0"), "assignable"), "false");
	assert_string_equal(field(find_bdf(l, "0000:00:01.0"), "reason"), "host-critical");
	assert_string_equal(field(find_bdf(l, "0000:00:02.0"), "id"), "1234:11e8");
	golden("list", l);
}

static void test_show(void **state)
{
	struct fx *f = *state;
	struct render_watch w = { .watched = true, .level = STORM_LEVEL_SILENCED, .rate = 0 };
	struct vf_err e = { 0 };
	struct json_object *o, *owned, *watch;

	o = render_show(&f->inv, &f->st, "0000:00:06.0", &w, &e);
	assert_non_null(o);
	assert_string_equal(field(o, "state"), "quarantined");
	assert_true(json_object_object_get_ex(o, "owned", &owned) && owned);
	assert_string_equal(field(owned, "containment"), "silenced");
	assert_string_equal(field(owned, "reset_pending"), "true");
	assert_true(json_object_object_get_ex(o, "interrupts_watch", &watch) && watch);
	assert_string_equal(field(watch, "level"), "silenced");
	golden("show-quarantined", o);

	o = render_show(&f->inv, &f->st, "0000:00:03.0", NULL, &e);
	assert_string_equal(field(o, "state"), "assigned");
	assert_string_equal(field(o, "interrupts_watch"), "(null)");
	golden("show-assigned", o);

	o = render_show(&f->inv, &f->st, "0000:00:01.0", NULL, &e);
	assert_string_equal(field(o, "state"), "host");
	assert_string_equal(field(o, "owned"), "(null)");
	golden("show-host", o);

	/* a device the host does not have: refused, nothing rendered */
	memset(&e, 0, sizeof(e));
	assert_null(render_show(&f->inv, &f->st, "0000:00:1f.7", &w, &e));
	assert_string_equal(e.code, "not-found");
}

static void test_status(void **state)
{
	struct fx *f = *state;
	struct levers lv = { .threaded = LEVER_YES, .irq_cgroup = LEVER_NO, .irq_cgroup_err = 22,
			     .irq_sched = LEVER_YES, .irq_affinity = LEVER_YES,
			     .vmm_cgroup = LEVER_YES, .steer = true };
	struct render_status s = { .version = "0.1.0", .pid = 4242, .uptime_s = 61,
				   .sysroot = "/", .state_dir = "/var/lib/vfiod",
				   .socket = "/run/vfiod/vfiod.sock", .interval_ms = 100,
				   .samples = 610, .late = 1, .max_late_us = 5236 };
	struct json_object *o, *owned;

	snprintf(lv.threaded_why, sizeof(lv.threaded_why), "threadirqs on the command line");
	snprintf(lv.housekeeping, sizeof(lv.housekeeping), "0");
	o = render_status(&f->inv, &f->st, &s);
	assert_true(json_object_object_get_ex(o, "owned", &owned));
	assert_string_equal(field(owned, "pooled"), "1");
	assert_string_equal(field(owned, "assigned"), "1");
	assert_string_equal(field(owned, "quarantined"), "2");
	assert_string_equal(field(o, "containment_levers"), "(missing)");
	assert_string_equal(field(o, "libvirt"), "(missing)");
	golden("status-bare", o);

	s.levers = &lv;
	s.libvirt_on = true;
	s.libvirt_uri = "qemu:///system";
	s.libvirt_connected = true;
	o = render_status(&f->inv, &f->st, &s);
	assert_string_not_equal(field(o, "containment_levers"), "(missing)");
	golden("status-full", o);
}

static void test_unit(void **state)
{
	struct unit_result u = { .n = 2, .already = false };
	struct json_object *o;

	(void)state;
	snprintf(u.bdf[0], sizeof(u.bdf[0]), "0000:00:06.0");
	snprintf(u.bdf[1], sizeof(u.bdf[1]), "0000:00:06.1");
	golden("unit", render_unit(&u, "pooled"));
	/* a release whose reset failed: done, pending named, the warning kept */
	u.reset_pending[1] = true;
	snprintf(u.warning, sizeof(u.warning), "0000:00:06.1: reset failed: Input/output error");
	o = render_unit(&u, "pooled");
	assert_string_equal(field(o, "reset_pending"), "true");
	golden("unit-reset-pending", o);
}

/* A shared serialized answer nests as exactly its text, and lives while any copy does. */
static void test_json_text(void **state)
{
	struct json_object *list = json_object_new_array(), *reply = json_object_new_object();
	struct vf_json_text *t;
	struct json_object *a, *b;

	(void)state;
	json_object_array_add(list, json_object_new_string("x\"y/z"));
	json_object_array_add(list, json_object_new_int(7));
	t = vf_json_text_new(json_object_to_json_string_ext(
		list, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	a = vf_json_text_obj(t);
	b = vf_json_text_obj(t);
	vf_json_text_put(t); /* the objects keep it */
	json_object_object_add(reply, "id", json_object_new_int(1));
	json_object_object_add(reply, "result", a);
	assert_string_equal(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE),
			    "{\"id\":1,\"result\":[\"x\\\"y/z\",7]}");
	json_object_put(reply);
	assert_string_equal(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN),
			    "[\"x\\\"y/z\",7]");
	json_object_put(b);
	json_object_put(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test(test_json_text),
		cmocka_unit_test_setup_teardown(test_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test(test_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
