/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fixture the engine tests share: the kernel model (kmodel.h) plugged
 * into a hostfs, a state store and a place for the udev rule file and the
 * CDI directory in a second temporary tree, and an engine over them.
 */
#ifndef VFIOD_TEST_ENGINE_FX_H
#define VFIOD_TEST_ENGINE_FX_H

#include "kmodel.h"

#include "engine.h"
#include "state.h"

struct fx {
	struct kmodel m;
	struct hostfs h;
	struct tree st;             /* the state dir, rules file and CDI dir live here */
	char dir[PATH_MAX];         /* the state directory */
	char rules[PATH_MAX];       /* the udev rule file */
	char cdi[PATH_MAX];         /* the CDI directory (not created up front) */
	struct store s;
	struct engine en;
};

/* A fresh fixture; with_rules: the engine writes its udev rule file. */
static inline struct fx *fx_new(bool with_rules)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct vf_err e = { 0 };

	assert_non_null(f);
	km_init(&f->m);
	assert_int_equal(hostfs_init(&f->h, f->m.t.root, &e), 0);
	km_attach(&f->m, &f->h);
	tree_init(&f->st);
	snprintf(f->dir, sizeof(f->dir), "%s/state", f->st.root);
	snprintf(f->rules, sizeof(f->rules), "%s/99-vfiod.rules", f->st.root);
	snprintf(f->cdi, sizeof(f->cdi), "%s/cdi", f->st.root);
	assert_int_equal(store_open(&f->s, f->dir, &e), 0);
	f->en.h = &f->h;
	f->en.store = &f->s;
	f->en.udev_rules = with_rules ? f->rules : NULL;
	f->en.fault_step = 0; /* it would SIGKILL the test */
	return f;
}

static inline void fx_free(struct fx *f)
{
	vf_strv_free(&f->en.report);
	store_close(&f->s);
	hostfs_fini(&f->h);
	km_destroy(&f->m);
	tree_destroy(&f->st);
	free(f);
}

/* A file's whole text (NULL when it does not exist); the caller frees it. */
/* A record's consumer as the store writes it ("" for none), in a static buffer. */
static inline const char *consumer_of(const struct dev_rec *r)
{
	static char buf[CONSUMER_NAME_MAX + 64];

	consumer_format(&r->consumer, buf, sizeof(buf));
	return buf;
}

/* The consumer that text names (what the store would record). */
static inline struct consumer consumer_from(const char *text)
{
	struct consumer c;

	if (consumer_parse(text, &c) < 0)
		fail_msg("not a consumer: %s", text);
	return c;
}

static inline char *read_text(const char *path)
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

/* The store's file as it is on disk. */
static inline char *state_file_text(const struct fx *f)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/" STATE_FILE, f->dir);
	return read_text(path);
}

#endif
