// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of bind.c: the binding engine over an in-process model of the
 * kernel's PCI driver core (kmodel.h). Binds and returns, refusals that must
 * change nothing, injected kernel failures that must roll back, resets, and
 * crash recovery by engine_reconcile() from hand-made interrupted states.
 */
#include "engine_fx.h"

#include "engine.h"
#include "state.h"

#define NIC "0000:00:03.0"   /* e1000e, group 3, flr */
#define EDU "0000:00:04.0"   /* no driver, group 4, no reset method */
#define GPU "0000:00:06.0"   /* no driver, group 6 */
#define AUD "0000:00:06.1"   /* snd_hda_intel, group 6, flr */
#define NIC_GROUP 3
#define EDU_GROUP 4
#define GPU_GROUP 6


static int setup(void **state)
{
	*state = fx_new(true);
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static bool rules_have(const struct fx *f, const char *bdf)
{
	char *text = read_text(f->rules), needle[64];
	bool found;

	if (!text)
		return false;
	snprintf(needle, sizeof(needle), "KERNEL==\"%s\"", bdf);
	found = strstr(text, needle) != NULL;
	free(text);
	return found;
}

static void add_nic(struct fx *f)
{
	km_add_driver(&f->m, "e1000e", 0x8086, 0x10d3);
	km_add_dev(&f->m, NIC, 0x8086, 0x10d3, 0x020000, NIC_GROUP, "e1000e", "flr");
}

static void add_edu(struct fx *f)
{
	km_add_dev(&f->m, EDU, 0x1234, 0x11e8, 0x00ff00, EDU_GROUP, NULL, NULL);
}

static void add_gpu_unit(struct fx *f)
{
	km_add_driver(&f->m, "snd_hda_intel", 0x8086, 0x293e);
	km_add_dev(&f->m, GPU, 0x1234, 0x1111, 0x030000, GPU_GROUP, NULL, NULL);
	km_add_dev(&f->m, AUD, 0x8086, 0x293e, 0x040300, GPU_GROUP, "snd_hda_intel", "flr");
}

/* Closes and opens the store again from disk, as a new start would. */
static void reopen(struct fx *f)
{
	struct vf_err e = { 0 };

	store_close(&f->s);
	assert_int_equal(store_open(&f->s, f->dir, &e), 0);
	f->en.store = &f->s;
}

static void assert_pooled(struct fx *f, const char *bdf, const char *orig)
{
	const struct dev_rec *r = store_find(&f->s, bdf);

	assert_non_null(r);
	assert_int_equal(r->state, DEV_POOLED);
	assert_string_equal(r->original_driver, orig);
	assert_string_equal(km_driver(&f->m, bdf), "vfio-pci");
	assert_string_equal(km_override(&f->m, bdf), "vfio-pci");
}

static void assert_host(struct fx *f, const char *bdf, const char *drv)
{
	assert_null(store_find(&f->s, bdf));
	assert_string_equal(km_driver(&f->m, bdf), drv);
	assert_string_equal(km_override(&f->m, bdf), "(null)");
}

static void assert_no_intent(struct fx *f)
{
	struct store disk = { 0 };
	struct vf_err e = { 0 };

	assert_int_equal(f->s.intent.op, INTENT_NONE);
	assert_int_equal(store_open(&disk, f->dir, &e), 0);
	assert_int_equal(disk.intent.op, INTENT_NONE);
	store_close(&disk);
}

/* What a refusal must leave alone: the store in memory and on disk. */
struct snap {
	char *mem, *disk;
};

static struct snap snap_take(const struct fx *f)
{
	struct snap s = { store_format(&f->s), state_file_text(f) };

	return s;
}

static void snap_check(const struct fx *f, struct snap *s)
{
	struct snap now = snap_take(f);

	assert_string_equal(now.mem, s->mem);
	if (s->disk)
		assert_string_equal(now.disk, s->disk);
	else
		assert_null(now.disk);
	free(now.mem);
	free(now.disk);
	free(s->mem);
	free(s->disk);
}

static bool report_has(const struct fx *f, const char *needle)
{
	for (size_t i = 0; i < f->en.report.n; i++)
		if (strstr(f->en.report.v[i], needle))
			return true;
	return false;
}

/* Expects a refusal with `code` that wrote nothing and changed no record. */
static void assert_bind_refused(struct fx *f, const char *bdf, const char *code)
{
	struct unit_result res;
	struct vf_err e = { 0 };
	struct snap s = snap_take(f);

	km_log_reset(&f->m);
	assert_int_equal(engine_bind(&f->en, bdf, &res, &e), -1);
	assert_non_null(e.code);
	assert_string_equal(e.code, code);
	assert_true(e.msg[0]);
	if (f->m.n_writes)
		km_log_dump(&f->m);
	assert_int_equal(f->m.n_writes, 0);
	assert_int_equal(f->m.n_modprobe, 0);
	snap_check(f, &s);
}

static void bind_ok(struct fx *f, const char *bdf, struct unit_result *res)
{
	struct vf_err e = { 0 };
	int r = engine_bind(&f->en, bdf, res, &e);

	if (r < 0) {
		km_log_dump(&f->m);
		fail_msg("bind %s: %s", bdf, e.msg);
	}
}

static void return_ok(struct fx *f, const char *bdf, struct unit_result *res)
{
	struct vf_err e = { 0 };
	int r = engine_return(&f->en, bdf, res, &e);

	if (r < 0) {
		km_log_dump(&f->m);
		fail_msg("return %s: %s", bdf, e.msg);
	}
}

static void put_rec(struct fx *f, const char *bdf, const char *orig, enum dev_state st,
		    const char *const *unit, size_t n_unit)
{
	struct dev_rec r = { 0 };

	snprintf(r.bdf, sizeof(r.bdf), "%s", bdf);
	snprintf(r.original_driver, sizeof(r.original_driver), "%s", orig);
	r.state = st;
	for (size_t i = 0; i < n_unit; i++)
		snprintf(r.unit[r.n_unit++], VF_BDF_LEN, "%s", unit[i]);
	r.since = 1700000000;
	store_put(&f->s, &r);
}

static void set_intent(struct fx *f, enum intent_op op, const char *const *bdfs,
		       const char *const *origs, size_t n)
{
	struct intent *in = &f->s.intent;
	struct vf_err e = { 0 };

	memset(in, 0, sizeof(*in));
	in->op = op;
	in->started = 1700000000;
	for (size_t i = 0; i < n; i++) {
		snprintf(in->devs[i].bdf, VF_BDF_LEN, "%s", bdfs[i]);
		snprintf(in->devs[i].original_driver, sizeof(in->devs[i].original_driver),
			 "%s", origs[i]);
	}
	in->n = n;
	assert_int_equal(store_save(&f->s, &e), 0);
}

/* A store saved by hand, then a fresh start: open it again and reconcile. */
static int restart_and_reconcile(struct fx *f, struct vf_err *e)
{
	struct vf_err se = { 0 };

	assert_int_equal(store_save(&f->s, &se), 0);
	reopen(f);
	vf_strv_free(&f->en.report);
	km_log_reset(&f->m);
	return engine_reconcile(&f->en, e);
}

/* ---- bind and return ---------------------------------------------------- */

static void test_bind_return_nic(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct store disk = { 0 };
	struct vf_err e = { 0 };
	const struct dev_rec *r;
	char *text;

	add_nic(f);
	assert_false(km_drv_loaded(&f->m, "vfio-pci"));
	bind_ok(f, NIC, &res);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.bdf[0], NIC);
	assert_false(res.already);
	assert_pooled(f, NIC, "e1000e");
	assert_true(km_vfio_node(&f->m, NIC_GROUP));
	assert_true(km_exists(&f->m, "dev/vfio/vfio"));
	assert_int_equal(f->m.n_modprobe, 1);
	r = store_find(&f->s, NIC);
	assert_int_equal(r->n_unit, 1);
	assert_string_equal(r->unit[0], NIC);
	assert_false(r->no_reset_method);
	assert_false(r->reset_pending);
	assert_true(r->since > 0);
	assert_int_equal(f->s.intent.op, INTENT_NONE);
	/* the file on disk parses again and says the same */
	text = state_file_text(f);
	assert_non_null(text);
	assert_int_equal(store_parse(&disk, text, &e), 0);
	assert_int_equal(disk.n, 1);
	assert_string_equal(disk.devs[0].bdf, NIC);
	assert_string_equal(disk.devs[0].original_driver, "e1000e");
	assert_int_equal(disk.devs[0].state, DEV_POOLED);
	assert_int_equal(disk.intent.op, INTENT_NONE);
	free(disk.devs);
	free(text);
	assert_true(rules_have(f, NIC));
	/* no write went anywhere but to this device */
	assert_int_equal(km_log_count(&f->m, "unbind", NIC), 1);
	assert_int_equal(km_log_count(&f->m, "e1000e/unbind", NULL), 1);

	km_log_reset(&f->m);
	return_ok(f, NIC, &res);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.bdf[0], NIC);
	assert_host(f, NIC, "e1000e");
	assert_false(km_vfio_node(&f->m, NIC_GROUP));
	assert_int_equal(f->s.n, 0);
	assert_no_intent(f);
	assert_false(rules_have(f, NIC));
	assert_int_equal(f->m.n_modprobe, 0);
}

static void test_bind_short_bdf(void **state)
{
	struct fx *f = *state;
	struct unit_result res;

	add_nic(f);
	bind_ok(f, "00:03.0", &res);
	assert_string_equal(res.bdf[0], NIC);
	assert_pooled(f, NIC, "e1000e");
	return_ok(f, "0000:00:03.0", &res);
	assert_host(f, NIC, "e1000e");
}

static void test_bind_return_no_driver(void **state)
{
	struct fx *f = *state;
	struct unit_result res;

	add_edu(f);
	/* a driver that would claim it if anything asked the driver core */
	km_add_driver(&f->m, "edu", 0x1234, 0x11e8);
	bind_ok(f, EDU, &res);
	assert_pooled(f, EDU, "");
	assert_true(km_vfio_node(&f->m, EDU_GROUP));
	assert_true(store_find(&f->s, EDU)->no_reset_method);
	assert_int_equal(km_log_count(&f->m, "unbind", NULL), 0);

	km_log_reset(&f->m);
	return_ok(f, EDU, &res);
	assert_host(f, EDU, "");
	assert_false(km_vfio_node(&f->m, EDU_GROUP));
	/* none stays none: nobody asked the driver core to probe it */
	assert_int_equal(km_log_count(&f->m, "drivers_probe", NULL), 0);
	assert_int_equal(km_log_count(&f->m, "/bind", NULL), 0);
	assert_int_equal(f->s.n, 0);
}

static void test_bind_return_gpu_audio(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	const struct dev_rec *r;

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	assert_int_equal(res.n, 2);
	assert_string_equal(res.bdf[0], GPU);
	assert_string_equal(res.bdf[1], AUD);
	assert_pooled(f, GPU, "");
	assert_pooled(f, AUD, "snd_hda_intel");
	assert_true(km_vfio_node(&f->m, GPU_GROUP));
	for (int i = 0; i < 2; i++) {
		r = store_find(&f->s, i ? AUD : GPU);
		assert_int_equal(r->n_unit, 2);
		assert_string_equal(r->unit[0], GPU);
		assert_string_equal(r->unit[1], AUD);
	}
	assert_true(store_find(&f->s, GPU)->no_reset_method);
	assert_false(store_find(&f->s, AUD)->no_reset_method);
	assert_true(rules_have(f, GPU));
	assert_true(rules_have(f, AUD));

	/* binding a member again is a no-op that names the whole unit */
	km_log_reset(&f->m);
	bind_ok(f, AUD, &res);
	assert_true(res.already);
	assert_int_equal(res.n, 2);
	assert_int_equal(f->m.n_writes, 0);

	/* returning the audio function returns the unit */
	return_ok(f, AUD, &res);
	assert_int_equal(res.n, 2);
	assert_host(f, GPU, "");
	assert_host(f, AUD, "snd_hda_intel");
	assert_false(km_vfio_node(&f->m, GPU_GROUP));
	assert_int_equal(f->s.n, 0);
	assert_no_intent(f);
	assert_false(rules_have(f, GPU));
	assert_false(rules_have(f, AUD));
}

static void test_vfio_present_no_modprobe(void **state)
{
	struct fx *f = *state;
	struct unit_result res;

	add_nic(f);
	km_add_driver(&f->m, "vfio-pci", 0, 0);
	bind_ok(f, NIC, &res);
	assert_pooled(f, NIC, "e1000e");
	assert_int_equal(f->m.n_modprobe, 0);
}

static void test_vfio_modprobe_fails(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	struct snap s;

	add_nic(f);
	km_fail_modprobe(&f->m);
	s = snap_take(f);
	assert_int_equal(engine_bind(&f->en, NIC, &res, &e), -1);
	assert_non_null(e.code);
	assert_string_equal(e.code, "vfio-unavailable");
	assert_non_null(strstr(e.msg, "vfio-pci"));
	assert_int_equal(f->m.n_modprobe, 1);
	assert_int_equal(f->m.n_writes, 0);
	assert_int_equal(f->s.intent.op, INTENT_NONE);
	assert_int_equal(f->s.intent.n, 0);
	snap_check(f, &s);
	assert_host(f, NIC, "e1000e");
	/* the next try loads it */
	bind_ok(f, NIC, &res);
	assert_pooled(f, NIC, "e1000e");
}

static void test_vfio_not_available(void **state)
{
	struct fx *f = *state;

	add_nic(f);
	tree_write(&f->m.t, "lib/modules/" KM_REL "/modules.dep", "kernel/e1000e.ko:\n");
	assert_bind_refused(f, NIC, "vfio-unavailable");
}

/* ---- refusals ------------------------------------------------------------ */

static void test_refuse_unknown(void **state)
{
	struct fx *f = *state;

	add_nic(f);
	assert_bind_refused(f, "0000:00:1f.0", "not-found");
}

static void test_refuse_malformed(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = { "00:1f", "../../x", "", "0000:00:03.0\n",
					   "0000:00:03.8", "0000:00:03.0/../../x" };

	add_nic(f);
	for (size_t i = 0; i < VF_ARRAY_SIZE(bad); i++) {
		struct unit_result res;
		struct vf_err e = { 0 };

		assert_bind_refused(f, bad[i], "bad-request");
		km_log_reset(&f->m);
		assert_int_equal(engine_return(&f->en, bad[i], &res, &e), -1);
		assert_string_equal(e.code, "bad-request");
		assert_int_equal(engine_reset(&f->en, bad[i], &e), -1);
		assert_string_equal(e.code, "bad-request");
		assert_int_equal(f->m.n_writes, 0);
	}
}

static void test_refuse_bridge(void **state)
{
	struct fx *f = *state;

	km_add_driver(&f->m, "pcieport", 0x8086, 0x2948);
	km_add_dev(&f->m, "0000:00:1c.0", 0x8086, 0x2948, 0x060400, 8, "pcieport", NULL);
	km_set_header_type(&f->m, "0000:00:1c.0", 1);
	assert_bind_refused(f, "0000:00:1c.0", "not-endpoint");
	assert_string_equal(km_driver(&f->m, "0000:00:1c.0"), "pcieport");
}

static void test_refuse_group_not_viable(void **state)
{
	struct fx *f = *state;

	/* the edu shares group 4 with a NIC of another slot on its host driver */
	add_edu(f);
	km_add_driver(&f->m, "e1000e", 0x8086, 0x10d3);
	km_add_dev(&f->m, "0000:00:05.0", 0x8086, 0x10d3, 0x020000, EDU_GROUP, "e1000e", NULL);
	assert_bind_refused(f, EDU, "group-not-viable");
	assert_string_equal(km_driver(&f->m, "0000:00:05.0"), "e1000e");
}

static void test_refuse_host_critical(void **state)
{
	struct fx *f = *state;

	/* no mount table: no storage controller can be cleared */
	km_add_dev(&f->m, "0000:00:1f.2", 0x8086, 0x2922, 0x010601, 9, "ahci", NULL);
	km_unlink(&f->m, "proc/self/mountinfo");
	assert_bind_refused(f, "0000:00:1f.2", "host-critical");
	/* the boot GPU */
	km_add_dev(&f->m, "0000:00:02.0", 0x1234, 0x1111, 0x030000, 2, NULL, NULL);
	km_dev_attr(&f->m, "0000:00:02.0", "boot_vga", "1\n");
	assert_bind_refused(f, "0000:00:02.0", "host-critical");
}

static void test_return_not_owned(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	struct snap s;

	add_nic(f);
	s = snap_take(f);
	assert_int_equal(engine_return(&f->en, NIC, &res, &e), -1);
	assert_string_equal(e.code, "not-found");
	assert_int_equal(engine_return(&f->en, "0000:00:1f.0", &res, &e), -1);
	assert_string_equal(e.code, "not-found");
	assert_int_equal(engine_reset(&f->en, NIC, &e), -1);
	assert_string_equal(e.code, "not-found");
	assert_int_equal(f->m.n_writes, 0);
	snap_check(f, &s);
	assert_host(f, NIC, "e1000e");
}

static void test_bind_already_pooled(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct snap s;

	add_nic(f);
	bind_ok(f, NIC, &res);
	km_log_reset(&f->m);
	s = snap_take(f);
	bind_ok(f, NIC, &res);
	assert_true(res.already);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.bdf[0], NIC);
	assert_int_equal(f->m.n_writes, 0);
	assert_int_equal(f->m.n_modprobe, 0);
	snap_check(f, &s);
}

static void test_refuse_busy(void **state)
{
	struct fx *f = *state;
	static const char *const unit[] = { NIC };
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	add_edu(f);
	/* an assigned device is not re-bound or returned */
	put_rec(f, NIC, "e1000e", DEV_ASSIGNED, unit, 1);
	assert_bind_refused(f, NIC, "busy");
	assert_int_equal(engine_return(&f->en, NIC, &res, &e), -1);
	assert_string_equal(e.code, "busy");
	/* an open transition blocks another one */
	store_remove(&f->s, NIC);
	f->s.intent.op = INTENT_BIND;
	f->s.intent.n = 1;
	snprintf(f->s.intent.devs[0].bdf, VF_BDF_LEN, "%s", NIC);
	assert_bind_refused(f, EDU, "busy");
	memset(&f->s.intent, 0, sizeof(f->s.intent));
}

/* ---- injected failures roll back ------------------------------------------ */

static void test_fail_probe_rolls_back(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	km_fail_probe(&f->m, NIC);
	assert_int_equal(engine_bind(&f->en, NIC, &res, &e), -1);
	assert_null(e.code);
	assert_non_null(strstr(e.msg, NIC));
	assert_non_null(strstr(e.msg, "bind"));
	assert_non_null(strstr(e.msg, "no driver"));
	assert_host(f, NIC, "e1000e");
	assert_int_equal(f->s.n, 0);
	assert_no_intent(f);
	assert_false(km_vfio_node(&f->m, NIC_GROUP));
	assert_false(rules_have(f, NIC));
}

static void test_fail_unbind_rolls_back(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	km_fail_unbind(&f->m, NIC, EBUSY);
	assert_int_equal(engine_bind(&f->en, NIC, &res, &e), -1);
	assert_null(e.code);
	assert_non_null(strstr(e.msg, "unbind"));
	assert_non_null(strstr(e.msg, NIC));
	assert_non_null(strstr(e.msg, strerror(EBUSY)));
	assert_host(f, NIC, "e1000e");
	assert_int_equal(f->s.n, 0);
	assert_no_intent(f);
}

static void test_fail_second_of_unit(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	km_fail_unbind(&f->m, AUD, EBUSY);
	assert_int_equal(engine_bind(&f->en, GPU, &res, &e), -1);
	assert_non_null(strstr(e.msg, AUD));
	/* the first device had made it to vfio-pci: it is back too */
	assert_host(f, GPU, "");
	assert_host(f, AUD, "snd_hda_intel");
	assert_false(km_vfio_node(&f->m, GPU_GROUP));
	assert_int_equal(f->s.n, 0);
	assert_no_intent(f);

	/* the same with the probe of the second failing */
	km_fail_probe(&f->m, AUD);
	assert_int_equal(engine_bind(&f->en, GPU, &res, &e), -1);
	assert_non_null(strstr(e.msg, AUD));
	assert_host(f, GPU, "");
	assert_host(f, AUD, "snd_hda_intel");
	assert_int_equal(f->s.n, 0);
	assert_no_intent(f);

	/* and nothing is stuck: it works now */
	bind_ok(f, GPU, &res);
	assert_pooled(f, GPU, "");
	assert_pooled(f, AUD, "snd_hda_intel");
}

static void test_vanish_mid_move(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	/* writes: GPU override, GPU probe, AUD override, AUD unbind: gone */
	km_vanish_after(&f->m, AUD, 4);
	assert_int_equal(engine_bind(&f->en, GPU, &res, &e), -1);
	assert_non_null(strstr(e.msg, AUD));
	assert_non_null(strstr(e.msg, "disappeared"));
	assert_false(km_exists(&f->m, "sys/bus/pci/devices/" AUD));
	/* the device still there is back where it was */
	assert_string_equal(km_driver(&f->m, GPU), "");
	assert_string_equal(km_override(&f->m, GPU), "(null)");
	/* nothing is recorded as pooled */
	assert_int_equal(f->s.n, 0);
	assert_false(km_vfio_node(&f->m, GPU_GROUP));
}

static void test_fail_return_stays_pooled(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	struct snap s;

	add_nic(f);
	bind_ok(f, NIC, &res);
	km_fail_probe(&f->m, NIC);
	km_fail_bind(&f->m, NIC, EINVAL);
	s = snap_take(f);
	km_log_reset(&f->m);
	assert_int_equal(engine_return(&f->en, NIC, &res, &e), -1);
	assert_null(e.code);
	assert_non_null(strstr(e.msg, "return"));
	assert_non_null(strstr(e.msg, NIC));
	assert_int_equal(km_log_count(&f->m, "e1000e/bind", NIC), 1);
	/* back on vfio-pci, still owned */
	assert_pooled(f, NIC, "e1000e");
	assert_true(km_vfio_node(&f->m, NIC_GROUP));
	assert_no_intent(f);
	snap_check(f, &s);
	assert_true(rules_have(f, NIC));
	/* and the next return works */
	return_ok(f, NIC, &res);
	assert_host(f, NIC, "e1000e");
}

static void test_return_explicit_bind(void **state)
{
	struct fx *f = *state;
	struct unit_result res;

	/* drivers_probe binds nothing: the original driver is asked by name */
	add_nic(f);
	bind_ok(f, NIC, &res);
	km_fail_probe(&f->m, NIC);
	km_log_reset(&f->m);
	return_ok(f, NIC, &res);
	assert_host(f, NIC, "e1000e");
	assert_int_equal(km_log_count(&f->m, "e1000e/bind", NIC), 1);
}

static void test_fail_return_second_of_unit(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	km_fail_probe(&f->m, AUD);
	km_fail_bind(&f->m, AUD, ENODEV);
	assert_int_equal(engine_return(&f->en, GPU, &res, &e), -1);
	assert_non_null(strstr(e.msg, AUD));
	assert_pooled(f, GPU, "");
	assert_pooled(f, AUD, "snd_hda_intel");
	assert_true(km_vfio_node(&f->m, GPU_GROUP));
	assert_no_intent(f);
}

/* ---- reset ------------------------------------------------------------- */

static void test_reset_flr(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	struct dev_rec *r;

	add_nic(f);
	bind_ok(f, NIC, &res);
	r = store_find(&f->s, NIC);
	r->reset_pending = true;
	km_log_reset(&f->m);
	assert_int_equal(engine_reset(&f->en, NIC, &e), 1);
	assert_int_equal(f->m.n_writes, 1);
	assert_string_equal(f->m.log[0].path, "sys/bus/pci/devices/" NIC "/reset");
	assert_string_equal(f->m.log[0].value, "1");
	assert_int_equal(f->m.log[0].err, 0);
	r = store_find(&f->s, NIC);
	assert_false(r->reset_pending);
	assert_false(r->no_reset_method);
	/* saved */
	reopen(f);
	assert_false(store_find(&f->s, NIC)->reset_pending);
	assert_string_equal(km_driver(&f->m, NIC), "vfio-pci");
}

static void test_reset_no_method(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_edu(f);
	bind_ok(f, EDU, &res);
	store_find(&f->s, EDU)->no_reset_method = false;
	store_find(&f->s, EDU)->reset_pending = true;
	km_log_reset(&f->m);
	assert_int_equal(engine_reset(&f->en, EDU, &e), 0);
	assert_int_equal(f->m.n_writes, 0);
	assert_true(store_find(&f->s, EDU)->no_reset_method);
	assert_false(store_find(&f->s, EDU)->reset_pending);
	reopen(f);
	assert_true(store_find(&f->s, EDU)->no_reset_method);
}

static void test_reset_empty_method(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	bind_ok(f, NIC, &res);
	km_dev_attr(&f->m, NIC, "reset_method", "");
	km_log_reset(&f->m);
	assert_int_equal(engine_reset(&f->en, NIC, &e), 0);
	assert_int_equal(f->m.n_writes, 0);
	assert_true(store_find(&f->s, NIC)->no_reset_method);
}

static void test_reset_fails(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	bind_ok(f, NIC, &res);
	/* the attribute is gone while reset_method still names a method */
	km_unlink(&f->m, "sys/devices/pci0000:00/" NIC "/reset");
	assert_int_equal(engine_reset(&f->en, NIC, &e), -1);
	assert_non_null(strstr(e.msg, NIC));
	assert_true(store_find(&f->s, NIC)->reset_pending);
	reopen(f);
	assert_true(store_find(&f->s, NIC)->reset_pending);
}

static void test_reset_gone(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	bind_ok(f, NIC, &res);
	km_remove_dev(&f->m, NIC);
	assert_int_equal(engine_reset(&f->en, NIC, &e), -1);
	assert_non_null(strstr(e.msg, "disappeared"));
}

/* ---- persistence ----------------------------------------------------------- */

static void test_persist(void **state)
{
	struct fx *f = *state;
	static const char *const u1[] = { NIC };
	static const char *const u2[] = { GPU, AUD };
	struct vf_err e = { 0 };
	char *text;

	put_rec(f, NIC, "e1000e", DEV_POOLED, u1, 1);
	put_rec(f, GPU, "", DEV_ASSIGNED, u2, 2);
	put_rec(f, AUD, "snd_hda_intel", DEV_POOLED, u2, 2);
	assert_int_equal(engine_persist(&f->en, &e), 0);
	text = read_text(f->rules);
	assert_non_null(text);
	assert_non_null(strstr(text, "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"" NIC
				     "\", ATTR{driver_override}=\"vfio-pci\"\n"));
	assert_true(rules_have(f, GPU));
	assert_true(rules_have(f, AUD));
	free(text);
	store_remove(&f->s, NIC);
	assert_int_equal(engine_persist(&f->en, &e), 0);
	assert_false(rules_have(f, NIC));
	/* no rules file configured: nothing to do */
	f->en.udev_rules = NULL;
	assert_int_equal(engine_persist(&f->en, &e), 0);
}

/* ---- crash recovery --------------------------------------------------------- */

static void test_reconcile_finishes_bind(void **state)
{
	struct fx *f = *state;
	static const char *const bdfs[] = { NIC };
	static const char *const origs[] = { "e1000e" };
	struct vf_err e = { 0 };

	add_nic(f);
	km_add_driver(&f->m, "vfio-pci", 0, 0);
	/* the previous run died after the probe: on vfio-pci, not recorded */
	km_set_override(&f->m, NIC, "vfio-pci");
	km_unbind_raw(&f->m, NIC);
	km_bind_raw(&f->m, NIC, "vfio-pci");
	set_intent(f, INTENT_BIND, bdfs, origs, 1);
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_pooled(f, NIC, "e1000e");
	assert_int_equal(store_find(&f->s, NIC)->n_unit, 1);
	assert_no_intent(f);
	assert_true(report_has(f, NIC));
	assert_true(rules_have(f, NIC));
	/* recorded on disk */
	reopen(f);
	assert_non_null(store_find(&f->s, NIC));
}

static void test_reconcile_rolls_back_half_bind(void **state)
{
	struct fx *f = *state;
	static const char *const bdfs[] = { GPU, AUD };
	static const char *const origs[] = { "", "snd_hda_intel" };
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	km_add_driver(&f->m, "vfio-pci", 0, 0);
	/* the GPU made it, the audio function was unbound with its override set */
	km_set_override(&f->m, GPU, "vfio-pci");
	km_bind_raw(&f->m, GPU, "vfio-pci");
	km_set_override(&f->m, AUD, "vfio-pci");
	km_unbind_raw(&f->m, AUD);
	set_intent(f, INTENT_BIND, bdfs, origs, 2);
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_host(f, GPU, "");
	assert_host(f, AUD, "snd_hda_intel");
	assert_false(km_vfio_node(&f->m, GPU_GROUP));
	assert_int_equal(f->s.n, 0);
	assert_no_intent(f);
	assert_true(report_has(f, "rolled back"));
}

static void test_reconcile_rolls_back_override_only(void **state)
{
	struct fx *f = *state;
	static const char *const bdfs[] = { NIC };
	static const char *const origs[] = { "e1000e" };
	struct vf_err e = { 0 };

	add_nic(f);
	km_add_driver(&f->m, "vfio-pci", 0, 0);
	/* died right after the override was written, and after the unbind */
	km_set_override(&f->m, NIC, "vfio-pci");
	set_intent(f, INTENT_BIND, bdfs, origs, 1);
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_host(f, NIC, "e1000e");
	assert_no_intent(f);

	km_set_override(&f->m, NIC, "vfio-pci");
	km_unbind_raw(&f->m, NIC);
	set_intent(f, INTENT_BIND, bdfs, origs, 1);
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_host(f, NIC, "e1000e");
	assert_int_equal(f->s.n, 0);
	assert_no_intent(f);
}

static void test_reconcile_finishes_return(void **state)
{
	struct fx *f = *state;
	static const char *const unit[] = { GPU, AUD };
	static const char *const origs[] = { "", "snd_hda_intel" };
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	km_add_driver(&f->m, "vfio-pci", 0, 0);
	put_rec(f, GPU, "", DEV_POOLED, unit, 2);
	put_rec(f, AUD, "snd_hda_intel", DEV_POOLED, unit, 2);
	/* the GPU was returned, the audio function unbound with its override cleared */
	km_unbind_raw(&f->m, GPU);
	km_unbind_raw(&f->m, AUD);
	km_set_override(&f->m, AUD, "vfio-pci");
	km_set_override(&f->m, AUD, "\n");
	set_intent(f, INTENT_RETURN, unit, origs, 2);
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_host(f, GPU, "");
	assert_host(f, AUD, "snd_hda_intel");
	assert_int_equal(f->s.n, 0);
	assert_no_intent(f);
	assert_true(report_has(f, "return"));
	assert_false(rules_have(f, GPU));
	assert_false(rules_have(f, AUD));
}

static void test_reconcile_repools_after_reboot(void **state)
{
	struct fx *f = *state;
	static const char *const unit[] = { NIC };
	struct vf_err e = { 0 };

	add_nic(f);
	add_edu(f);
	km_add_driver(&f->m, "edu", 0x1234, 0x11e8);
	put_rec(f, NIC, "e1000e", DEV_POOLED, unit, 1);
	/* after a reboot e1000e has it again; vfio-pci is not loaded */
	assert_string_equal(km_driver(&f->m, NIC), "e1000e");
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_pooled(f, NIC, "e1000e");
	assert_true(km_vfio_node(&f->m, NIC_GROUP));
	assert_int_equal(f->m.n_modprobe, 1);
	assert_true(report_has(f, "pooled again"));
	assert_true(rules_have(f, NIC));
	/* never a write for the device it has no record of */
	assert_false(km_log_mentions(&f->m, EDU));
	assert_string_equal(km_driver(&f->m, EDU), "");
	reopen(f);
	assert_non_null(store_find(&f->s, NIC));
}

static void test_reconcile_repool_refused_drops_record(void **state)
{
	struct fx *f = *state;
	static const char *const unit[] = { EDU };
	struct vf_err e = { 0 };

	/* after the reboot its group holds a NIC on its host driver */
	add_edu(f);
	km_add_driver(&f->m, "e1000e", 0x8086, 0x10d3);
	km_add_dev(&f->m, "0000:00:05.0", 0x8086, 0x10d3, 0x020000, EDU_GROUP, "e1000e", NULL);
	put_rec(f, EDU, "", DEV_POOLED, unit, 1);
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_null(store_find(&f->s, EDU));
	assert_true(report_has(f, "cannot be pooled again"));
	assert_int_equal(f->m.n_writes, 0);
	reopen(f);
	assert_null(store_find(&f->s, EDU));
}

static void test_reconcile_keeps_gone(void **state)
{
	struct fx *f = *state;
	static const char *const unit[] = { "0000:00:09.0" };
	static const char *const unit2[] = { NIC };
	struct vf_err e = { 0 };

	add_nic(f);
	km_add_driver(&f->m, "vfio-pci", 0, 0);
	put_rec(f, "0000:00:09.0", "e1000e", DEV_POOLED, unit, 1);
	put_rec(f, NIC, "e1000e", DEV_POOLED, unit2, 1);
	km_remove_dev(&f->m, NIC);
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_non_null(store_find(&f->s, "0000:00:09.0"));
	assert_non_null(store_find(&f->s, NIC));
	assert_true(report_has(f, "0000:00:09.0"));
	assert_true(report_has(f, NIC));
	assert_true(report_has(f, "gone"));
	assert_int_equal(f->m.n_writes, 0);
	reopen(f);
	assert_int_equal(f->s.n, 2);
}

static void test_reconcile_touches_nothing_else(void **state)
{
	struct fx *f = *state;
	static const char *const u1[] = { NIC };
	static const char *const u2[] = { EDU };
	struct vf_err e = { 0 };

	add_nic(f);
	add_edu(f);
	add_gpu_unit(f);
	km_add_driver(&f->m, "vfio-pci", 0, 0);
	/* the NIC is pooled and on vfio-pci: adopted as it is */
	km_set_override(&f->m, NIC, "vfio-pci");
	km_unbind_raw(&f->m, NIC);
	km_bind_raw(&f->m, NIC, "vfio-pci");
	put_rec(f, NIC, "e1000e", DEV_POOLED, u1, 1);
	/* the edu is assigned but found on no driver: reported, left alone */
	put_rec(f, EDU, "", DEV_ASSIGNED, u2, 1);
	/* the GPU was put on vfio-pci by someone else */
	km_set_override(&f->m, GPU, "vfio-pci");
	km_bind_raw(&f->m, GPU, "vfio-pci");
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	if (f->m.n_writes)
		km_log_dump(&f->m);
	assert_int_equal(f->m.n_writes, 0);
	assert_int_equal(f->m.n_modprobe, 0);
	assert_pooled(f, NIC, "e1000e");
	assert_int_equal(store_find(&f->s, EDU)->state, DEV_ASSIGNED);
	assert_true(report_has(f, EDU));
	assert_string_equal(km_driver(&f->m, GPU), "vfio-pci");
	assert_string_equal(km_driver(&f->m, AUD), "snd_hda_intel");
	assert_null(store_find(&f->s, GPU));
	assert_false(report_has(f, GPU));
	assert_false(report_has(f, AUD));
}

static void test_reconcile_empty(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };

	add_nic(f);
	add_gpu_unit(f);
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_int_equal(f->m.n_writes, 0);
	assert_int_equal(f->en.report.n, 0);
	assert_int_equal(f->s.n, 0);
}

/* ---- regressions: bugs these tests found, fixed in vfiod/ ------------------ */

/*
 * engine_bind() refuses "companion already owned" after it has filled part of
 * store->intent.devs and bumped intent.n; the stale entries stay in memory and
 * the next bind moves them along with its own unit.
 */
static void test_bug_busy_companion_leaves_intent(void **state)
{
	struct fx *f = *state;
	static const char *const unit[] = { AUD };
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	add_nic(f);
	/* the audio function alone is owned (e.g. the GPU was hot-added later) */
	put_rec(f, AUD, "snd_hda_intel", DEV_POOLED, unit, 1);
	assert_int_equal(engine_bind(&f->en, GPU, &res, &e), -1);
	assert_string_equal(e.code, "busy");
	/* the NIC's bind moves the NIC alone */
	bind_ok(f, NIC, &res);
	assert_string_equal(km_driver(&f->m, GPU), "");
	assert_null(store_find(&f->s, GPU));
	assert_int_equal(res.n, 1);
	assert_int_equal(f->s.intent.n, 0);
}

/*
 * engine_reconcile() re-pools a unit only when its first member is off
 * vfio-pci; a later member that a host driver holds is neither re-pooled nor
 * reported, while the record says pooled.
 */
static void test_bug_reconcile_member_off_vfio(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	/* after a reboot snd_hda_intel got the audio function back */
	km_unbind_raw(&f->m, AUD);
	km_set_override(&f->m, AUD, "\n");
	km_bind_raw(&f->m, AUD, "snd_hda_intel");
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_string_equal(km_driver(&f->m, AUD), "vfio-pci");
	assert_pooled(f, GPU, "");
	assert_pooled(f, AUD, "snd_hda_intel");
}

/*
 * A device that vanishes mid-bind cannot be rolled back; undo() then keeps the
 * intent, so every later bind is refused "busy" and every start fails to
 * reconcile it again, for a device that no longer exists.
 */
static void test_bug_vanished_device_blocks_binds(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	add_nic(f);
	km_vanish_after(&f->m, AUD, 4);
	assert_int_equal(engine_bind(&f->en, GPU, &res, &e), -1);
	assert_no_intent(f);
	bind_ok(f, NIC, &res);
}

/*
 * undo() appends with vf_err_wrap(why, "%s; ... (%s)", why->msg, ...), and
 * vf_err_wrap() adds ": <old message>" itself: the first message appears twice.
 */
static void test_bug_rollback_message_doubled(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	const char *first;

	add_gpu_unit(f);
	/* the audio function does not land on vfio-pci, and the GPU cannot be
	 * taken off vfio-pci again */
	km_fail_probe(&f->m, AUD);
	km_fail_unbind(&f->m, GPU, EBUSY);
	assert_int_equal(engine_bind(&f->en, GPU, &res, &e), -1);
	assert_non_null(strstr(e.msg, "rolling back failed too"));
	assert_non_null(strstr(e.msg, GPU));
	/* the rollback failed: the intent stays for the next start */
	assert_int_equal(f->s.intent.op, INTENT_BIND);
	assert_string_equal(km_driver(&f->m, AUD), "snd_hda_intel");
	first = strstr(e.msg, "expected vfio-pci");
	assert_non_null(first);
	assert_null(strstr(first + 1, "expected vfio-pci"));
}

/*
 * reconcile_intent() finishing an interrupted return that fails rolls the
 * unit back to vfio-pci (right) but returns 0 and leaves only the report line
 * "an interrupted return is finished", written before the attempt.
 */
static void test_bug_reconcile_return_failure_reported(void **state)
{
	struct fx *f = *state;
	static const char *const unit[] = { NIC };
	static const char *const origs[] = { "e1000e" };
	struct vf_err e = { 0 };
	int rc;

	add_nic(f);
	km_add_driver(&f->m, "vfio-pci", 0, 0);
	put_rec(f, NIC, "e1000e", DEV_POOLED, unit, 1);
	km_set_override(&f->m, NIC, "\n");
	km_unbind_raw(&f->m, NIC);
	set_intent(f, INTENT_RETURN, unit, origs, 1);
	km_fail_probe(&f->m, NIC);
	km_fail_bind(&f->m, NIC, ENODEV);
	rc = restart_and_reconcile(f, &e);
	/* the unit is safe: back on vfio-pci and still owned */
	assert_pooled(f, NIC, "e1000e");
	assert_no_intent(f);
	assert_true(rc < 0 || report_has(f, "cannot") || report_has(f, "failed"));
}

/*
 * Finishing an interrupted bind calls bind_intent(en, -1, NULL, e): every
 * record gets no_reset_method = false, also for a device without reset_method.
 */
static void test_bug_reconcile_bind_no_reset_method(void **state)
{
	struct fx *f = *state;
	static const char *const bdfs[] = { EDU };
	static const char *const origs[] = { "" };
	struct vf_err e = { 0 };

	add_edu(f);
	km_add_driver(&f->m, "vfio-pci", 0, 0);
	km_set_override(&f->m, EDU, "vfio-pci");
	km_bind_raw(&f->m, EDU, "vfio-pci");
	set_intent(f, INTENT_BIND, bdfs, origs, 1);
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_pooled(f, EDU, "");
	assert_true(store_find(&f->s, EDU)->no_reset_method);
}

/*
 * Re-pooling a unit after a reboot binds it again through engine_bind(),
 * which records each member's *current* driver as its original one: a member
 * still on vfio-pci gets original_driver "vfio-pci", and a later return
 * leaves it there instead of giving it back to snd_hda_intel.
 */
static void test_bug_repool_loses_original_driver(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	/* after a reboot the GPU came up without a driver, the audio on vfio-pci */
	km_unbind_raw(&f->m, GPU);
	km_set_override(&f->m, GPU, "\n");
	assert_int_equal(restart_and_reconcile(f, &e), 0);
	assert_true(report_has(f, "pooled again"));
	assert_string_equal(km_driver(&f->m, GPU), "vfio-pci");
	assert_pooled(f, AUD, "snd_hda_intel");
	return_ok(f, GPU, &res);
	assert_host(f, AUD, "snd_hda_intel");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_bind_return_nic),
		T(test_bind_short_bdf),
		T(test_bind_return_no_driver),
		T(test_bind_return_gpu_audio),
		T(test_vfio_present_no_modprobe),
		T(test_vfio_modprobe_fails),
		T(test_vfio_not_available),
		T(test_refuse_unknown),
		T(test_refuse_malformed),
		T(test_refuse_bridge),
		T(test_refuse_group_not_viable),
		T(test_refuse_host_critical),
		T(test_return_not_owned),
		T(test_bind_already_pooled),
		T(test_refuse_busy),
		T(test_fail_probe_rolls_back),
		T(test_fail_unbind_rolls_back),
		T(test_fail_second_of_unit),
		T(test_vanish_mid_move),
		T(test_fail_return_stays_pooled),
		T(test_return_explicit_bind),
		T(test_fail_return_second_of_unit),
		T(test_reset_flr),
		T(test_reset_no_method),
		T(test_reset_empty_method),
		T(test_reset_fails),
		T(test_reset_gone),
		T(test_persist),
		T(test_reconcile_finishes_bind),
		T(test_reconcile_rolls_back_half_bind),
		T(test_reconcile_rolls_back_override_only),
		T(test_reconcile_finishes_return),
		T(test_reconcile_repools_after_reboot),
		T(test_reconcile_repool_refused_drops_record),
		T(test_reconcile_keeps_gone),
		T(test_reconcile_touches_nothing_else),
		T(test_reconcile_empty),
		T(test_bug_busy_companion_leaves_intent),
		T(test_bug_reconcile_member_off_vfio),
		T(test_bug_vanished_device_blocks_binds),
		T(test_bug_rollback_message_doubled),
		T(test_bug_reconcile_return_failure_reported),
		T(test_bug_reconcile_bind_no_reset_method),
		T(test_bug_repool_loses_original_driver),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
