// SPDX-License-Identifier: GPL-2.0-or-later
#include "policy.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define POLICY_MAX (1u << 20)

/*
 * inih hands the handler no line number in Debian's build; feeding it
 * through a reader that counts lines gives one, since inih parses each line
 * right after reading it.
 */
struct reader {
	const char *pos;
	int line;
	int too_long;  /* first line longer than inih's buffer, 0 if none */
};

static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	size_t len, keep;

	if (!*r->pos)
		return NULL;
	r->line++;
	len = strcspn(r->pos, "\n");
	keep = len < (size_t)num - 1 ? len : (size_t)num - 1;
	/* inih would read the rest of a long line as a line of its own */
	if (len > keep && !r->too_long)
		r->too_long = r->line;
	memcpy(str, r->pos, keep);
	str[keep] = '\0';
	r->pos += len + (r->pos[len] == '\n');
	return str;
}

struct parse_ctx {
	struct policy *p;
	const char *name;
	struct reader rd;
	struct vf_err *e;
	int failed;  /* the line of the first semantic error, 0 if none */
};

/* Records "file:line: message" and stops the parse (inih stops on 0). */
static int fail(struct parse_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parse_ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vf_err_set(c->e, 0, "%s:%d: %s", c->name, c->rd.line, msg);
	c->e->errnum = EINVAL;
	c->failed = c->rd.line;
	return 0;
}

static int add_reserved(struct parse_ctx *c, const char *value)
{
	char copy[4096], *save = NULL;

	if (snprintf(copy, sizeof(copy), "%s", value) >= (int)sizeof(copy))
		return fail(c, "value too long");
	for (char *t = strtok_r(copy, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
		struct policy_reserved *r;
		struct vf_bdf b;

		if (vf_parse_bdf(t, &b) < 0)
			return fail(c, "\"%s\" is not a PCI address", t);
		c->p->reserved = vf_xreallocarray(c->p->reserved, c->p->n_reserved + 1,
						  sizeof(*c->p->reserved));
		r = &c->p->reserved[c->p->n_reserved++];
		vf_bdf_format(&b, r->bdf);
		snprintf(r->source, sizeof(r->source), "%s:%d", c->name, c->rd.line);
	}
	return 1;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse_ctx *c = user;

	if (c->failed)
		return 0;
	if (strcmp(section, "reserved") == 0) {
		if (strcmp(name, "devices") == 0)
			return add_reserved(c, value);
		return fail(c, "unknown key \"%s\" in [%s]", name, section);
	}
	return fail(c, "unknown section [%s]", section);
}

int policy_parse(struct policy *p, const char *name, const char *text,
		 struct vf_err *e)
{
	struct parse_ctx c = { .p = p, .name = name, .rd = { text, 0, 0 }, .e = e };
	int r;

	r = ini_parse_stream(read_line, &c.rd, handler, &c);
	/* inih goes on after a syntax error: report whichever came first */
	if (c.rd.too_long && (!c.failed || c.rd.too_long <= c.failed) &&
	    (r <= 0 || c.rd.too_long <= r))
		return vf_err_set(e, EINVAL,
				  "%s:%d: line longer than %d bytes (split a long list over several keys)",
				  name, c.rd.too_long, INI_MAX_LINE - 1);
	if (r > 0 && (!c.failed || r < c.failed))
		return vf_err_set(e, EINVAL, "%s:%d: malformed line", name, r);
	if (c.failed)
		return -1;
	if (r != 0)
		return vf_err_set(e, EINVAL, "%s: cannot be parsed", name);
	return 0;
}

int policy_load(struct policy *p, const char *path, struct vf_err *e)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t n;

	if (!f)
		return vf_err_set(e, errno, "cannot open policy %s", path);
	buf = vf_xcalloc(1, POLICY_MAX + 1);
	n = fread(buf, 1, POLICY_MAX + 1, f);
	if (ferror(f))
		return vf_err_set(e, EIO, "cannot read policy %s", path);
	if (n > POLICY_MAX)
		return vf_err_set(e, E2BIG, "policy %s is larger than %u bytes", path,
				  POLICY_MAX);
	buf[n] = '\0';
	if (memchr(buf, '\0', n))
		return vf_err_set(e, EINVAL, "policy %s holds a NUL byte", path);
	return policy_parse(p, path, buf, e);
}

void policy_free(struct policy *p)
{
	free(p->reserved);
	p->reserved = NULL;
	p->n_reserved = 0;
}

const struct policy_reserved *policy_reserved_find(const struct policy *p,
						   const char *bdf)
{
	for (size_t i = 0; i < p->n_reserved; i++)
		if (strcmp(p->reserved[i].bdf, bdf) == 0)
			return &p->reserved[i];
	return NULL;
}
