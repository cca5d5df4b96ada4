/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cleanup attributes and small helpers shared by every module. */
#ifndef VFIOD_UTIL_H
#define VFIOD_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void vf_freep(void *p)
{
	free(*(void **)p);
}

static inline void vf_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void vf_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static inline void vf_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ __attribute__((cleanup(vf_freep)))
#define _cleanup_close_ __attribute__((cleanup(vf_closep)))
#define _cleanup_closedir_ __attribute__((cleanup(vf_closedirp)))
#define _cleanup_fclose_ __attribute__((cleanup(vf_fclosep)))

#define VF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A growable vector of owned strings. */
struct vf_strv {
	char **v;
	size_t n;
};

int vf_strv_add(struct vf_strv *sv, const char *s);
int vf_strv_addf(struct vf_strv *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vf_strv_free(struct vf_strv *sv);

/* snprintf into a path buffer; -ENAMETOOLONG instead of truncating. */
int vf_path(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Aborts on allocation failure: vfiod cannot do anything sensible without memory. */
/* Milliseconds of CLOCK_MONOTONIC: deadlines and intervals. */
uint64_t vf_now_ms(void);

void *vf_xcalloc(size_t n, size_t size);
void *vf_xreallocarray(void *p, size_t n, size_t size);
char *vf_xstrdup(const char *s);

struct json_object;
/* A JSON string, or NULL (JSON null) for NULL or "": how vfiod writes an absent text. */
struct json_object *vf_json_str_or_null(const char *s);

/*
 * JSON text already serialized, shared: vf_json_text_new copies `text` once
 * (one reference, the caller's); vf_json_text_obj gives a json_object that
 * serializes as exactly that text wherever it is nested (plain output), and
 * holds a reference until it is freed; vf_json_text_put drops one. For an
 * answer that many requests share (the list), serialized once.
 */
struct vf_json_text;
struct vf_json_text *vf_json_text_new(const char *text);
struct json_object *vf_json_text_obj(struct vf_json_text *t);
void vf_json_text_put(struct vf_json_text *t);

#endif
