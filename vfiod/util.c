// SPDX-License-Identifier: GPL-2.0-or-later
#include "util.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

int vf_path(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return n;
}

void *vf_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		abort();
	return p;
}

void *vf_xreallocarray(void *p, size_t n, size_t size)
{
	void *q = reallocarray(p, n ? n : 1, size ? size : 1);

	if (!q)
		abort();
	return q;
}

char *vf_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

int vf_strv_add(struct vf_strv *sv, const char *s)
{
	sv->v = vf_xreallocarray(sv->v, sv->n + 1, sizeof(*sv->v));
	sv->v[sv->n++] = vf_xstrdup(s);
	return 0;
}

int vf_strv_addf(struct vf_strv *sv, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	sv->v = vf_xreallocarray(sv->v, sv->n + 1, sizeof(*sv->v));
	sv->v[sv->n++] = s;
	return 0;
}

void vf_strv_free(struct vf_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

uint64_t vf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct json_object *vf_json_str_or_null(const char *s)
{
	return s && s[0] ? json_object_new_string(s) : NULL;
}

struct vf_json_text {
	unsigned refs;
	size_t len;
	char text[];
};

struct vf_json_text *vf_json_text_new(const char *text)
{
	size_t len = strlen(text);
	struct vf_json_text *t = vf_xcalloc(1, sizeof(*t) + len + 1);

	t->refs = 1;
	t->len = len;
	memcpy(t->text, text, len);
	return t;
}

void vf_json_text_put(struct vf_json_text *t)
{
	if (t && --t->refs == 0)
		free(t);
}

static int text_to_json(struct json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct vf_json_text *t = json_object_get_userdata(jso);

	(void)level;
	(void)flags;
	return printbuf_memappend(pb, t->text, (int)t->len) < 0 ? -1 : 0;
}

static void text_release(struct json_object *jso, void *userdata)
{
	(void)jso;
	vf_json_text_put(userdata);
}

struct json_object *vf_json_text_obj(struct vf_json_text *t)
{
	struct json_object *o = json_object_new_object();

	t->refs++;
	json_object_set_serializer(o, text_to_json, t, text_release);
	return o;
}
