// SPDX-License-Identifier: GPL-2.0-or-later
#include "policy.h"
#include "policy_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define POLICY_MAX (1u << 20)
/* formatted lists wrap before this, well inside inih's 200-byte lines */
const struct policy_class policy_default_class = {
	.name = "default",
	.storm_threshold = 20000,
	.clear_threshold = 5000,
	.sustain_ms = 500,
	.cooldown_ms = 5000,
	.escalation_ms = 2000,
	.irq_cpu_max = 100,
	.vmm_cpu_max = 400,
	.storm_irq_cpu_max = 10,
	.storm_vmm_cpu_max = 100,
	.ladder = { POLICY_STEP_THROTTLE, POLICY_STEP_SILENCE, POLICY_STEP_QUARANTINE },
	.n_ladder = POLICY_NSTEPS,
};

static const char *const step_names[POLICY_NSTEPS] = {
	[POLICY_STEP_THROTTLE] = "throttle",
	[POLICY_STEP_SILENCE] = "silence",
	[POLICY_STEP_QUARANTINE] = "quarantine",
};

const char *policy_step_name(enum policy_step s)
{
	return (unsigned)s < POLICY_NSTEPS ? step_names[s] : "?";
}

struct keydef {
	const char *name;
	bool list; /* repeats append; a scalar may be set once */
};

static const struct keydef daemon_keys[POLICY_DAEMON_NKEYS] = {
	[POLICY_DAEMON_SOCKET_GROUP] = { "socket_group", false },
	[POLICY_DAEMON_ADMIN_GROUP] = { "admin_group", false },
	[POLICY_DAEMON_SAMPLE_INTERVAL_MS] = { "sample_interval_ms", false },
	[POLICY_DAEMON_HOUSEKEEPING_CPUS] = { "housekeeping_cpus", false },
	[POLICY_DAEMON_LIBVIRT_URI] = { "libvirt_uri", false },
	[POLICY_DAEMON_CDI_DIR] = { "cdi_dir", false },
	[POLICY_DAEMON_HOLDER_QUARANTINE] = { "holder_quarantine", false },
};

static const struct keydef class_keys[POLICY_CLASS_NKEYS] = {
	[POLICY_CLASS_MATCH] = { "match", true },
	[POLICY_CLASS_STORM_THRESHOLD] = { "storm_threshold", false },
	[POLICY_CLASS_SUSTAIN_MS] = { "sustain_ms", false },
	[POLICY_CLASS_CLEAR_THRESHOLD] = { "clear_threshold", false },
	[POLICY_CLASS_COOLDOWN_MS] = { "cooldown_ms", false },
	[POLICY_CLASS_ESCALATION_MS] = { "escalation_ms", false },
	[POLICY_CLASS_IRQ_CPU_MAX] = { "irq_cpu_max", false },
	[POLICY_CLASS_VMM_CPU_MAX] = { "vmm_cpu_max", false },
	[POLICY_CLASS_STORM_IRQ_CPU_MAX] = { "storm_irq_cpu_max", false },
	[POLICY_CLASS_STORM_VMM_CPU_MAX] = { "storm_vmm_cpu_max", false },
	[POLICY_CLASS_LADDER] = { "ladder", false },
};

const char *policy_class_key_name(int k)
{
	return k >= 0 && k < POLICY_CLASS_NKEYS ? class_keys[k].name : "?";
}

static const struct keydef tenant_keys[POLICY_TENANT_NKEYS] = {
	[POLICY_TENANT_UIDS] = { "uids", true },
	[POLICY_TENANT_GIDS] = { "gids", true },
	[POLICY_TENANT_DEVICES] = { "devices", true },
	[POLICY_TENANT_CLASSES] = { "classes", true },
	[POLICY_TENANT_QUOTA] = { "quota", false },
	[POLICY_TENANT_TRUSTED] = { "trusted", false },
};

void policy_daemon_defaults(struct policy_daemon *d)
{
	memset(d, 0, sizeof(*d));
	d->sample_interval_ms = 100;
	snprintf(d->libvirt_uri, sizeof(d->libvirt_uri), "qemu:///system");
	snprintf(d->cdi_dir, sizeof(d->cdi_dir), "/var/run/cdi");
}

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	policy_daemon_defaults(&p->daemon);
	p->initialized = true;
}

static void init_if_needed(struct policy *p)
{
	if (!p->initialized)
		policy_init(p);
}

/* ---- parsing ---------------------------------------------------------- */

enum section {
	SEC_NONE,
	SEC_DAEMON,
	SEC_CLASS,
	SEC_TENANT,
	SEC_RESERVED,
	SEC_COMPANIONS,
};

/*
 * inih hands the handler no line number in Debian's build; feeding it
 * through a reader that counts lines gives one, since inih parses each line
 * right after reading it. The reader also sees section headers, which
 * inih does not report (an empty section would go unnoticed).
 */
struct reader {
	const char *pos;
	int line;
	int too_long;  /* first line longer than inih's buffer, 0 if none */
	bool indented; /* the current line starts with blanks (a continuation) */
};

struct parse_ctx {
	struct reader rd; /* first: inih's stream is the context */
	struct policy *p;
	const char *name; /* interned in p->files */
	struct vf_err *e;
	int failed;  /* the line of the first semantic error, 0 if none */
	enum section sec;
	size_t idx;  /* the class or tenant of SEC_CLASS / SEC_TENANT */
	char title[64]; /* the current header, for messages */
};

/* Records "file:line: message" with errno EINVAL and no strerror. */
void policy_set_at(struct vf_err *e, const char *file, int line, const char *msg)
{
	vf_err_set(e, 0, "%s:%d: %s", file, line, msg);
	e->errnum = EINVAL;
}

/* Records the error at `line` and stops the parse (inih stops on 0). */
static int fail_at(struct parse_ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct parse_ctx *c, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	policy_set_at(c->e, c->name, line, msg);
	c->failed = line;
	return 0;
}

#define fail(c, ...) fail_at((c), (c)->rd.line, __VA_ARGS__)

/* "line 3" within the same file, "other.conf:3" across files. */
static const char *where(const struct parse_ctx *c, const struct policy_src *s, char *buf,
			 size_t cap)
{
	if (s->file && strcmp(s->file, c->name) != 0)
		snprintf(buf, cap, "%s:%d", s->file, s->line);
	else
		snprintf(buf, cap, "line %d", s->line);
	return buf;
}

static bool valid_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= POLICY_NAME_MAX || !vf_name_is_safe(s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static bool valid_group(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= POLICY_GROUP_MAX || s[0] == '-' || !vf_name_is_safe(s))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]) &&
		    !(s[i] == '$' && i == len - 1 && len > 1))
			return false;
	return true;
}

static struct policy_class *cur_class(struct parse_ctx *c)
{
	return &c->p->classes[c->idx];
}

static struct policy_tenant *cur_tenant(struct parse_ctx *c)
{
	return &c->p->tenants[c->idx];
}

/* Fills the defaults that depend on other keys and checks what spans keys. */
static bool close_class(struct parse_ctx *c, struct policy_class *cl)
{
	const int *ln = cl->line;

	if (cl->n_match == 0)
		return fail_at(c, cl->src.line,
			       "[class %s] needs a match (class=..., id=VENDOR:DEVICE or *)",
			       cl->name);
	if (!ln[POLICY_CLASS_CLEAR_THRESHOLD])
		cl->clear_threshold = cl->storm_threshold / 4;
	else if (cl->clear_threshold >= cl->storm_threshold)
		return fail_at(c, ln[POLICY_CLASS_CLEAR_THRESHOLD],
			       "clear_threshold %" PRIu64 " must be below storm_threshold %" PRIu64,
			       cl->clear_threshold, cl->storm_threshold);
	if (!ln[POLICY_CLASS_STORM_IRQ_CPU_MAX])
		cl->storm_irq_cpu_max = cl->irq_cpu_max / 10 ? cl->irq_cpu_max / 10 : 1;
	else if (cl->storm_irq_cpu_max > cl->irq_cpu_max)
		return fail_at(c, ln[POLICY_CLASS_STORM_IRQ_CPU_MAX],
			       "storm_irq_cpu_max %u is above irq_cpu_max %u (a storm cap is at most the static cap)",
			       cl->storm_irq_cpu_max, cl->irq_cpu_max);
	if (!ln[POLICY_CLASS_STORM_VMM_CPU_MAX])
		cl->storm_vmm_cpu_max = cl->vmm_cpu_max / 4 ? cl->vmm_cpu_max / 4 : 1;
	else if (cl->storm_vmm_cpu_max > cl->vmm_cpu_max)
		return fail_at(c, ln[POLICY_CLASS_STORM_VMM_CPU_MAX],
			       "storm_vmm_cpu_max %u is above vmm_cpu_max %u (a storm cap is at most the static cap)",
			       cl->storm_vmm_cpu_max, cl->vmm_cpu_max);
	return true;
}

static bool close_section(struct parse_ctx *c)
{
	enum section s = c->sec;

	c->sec = SEC_NONE;
	if (s == SEC_CLASS)
		return close_class(c, cur_class(c));
	if (s == SEC_TENANT) {
		struct policy_tenant *t = cur_tenant(c);

		if (t->n_uids == 0 && t->n_gids == 0)
			return fail_at(c, t->src.line,
				       "[tenant %s] needs uids or gids (who may act as it)", t->name);
	}
	return true;
}

static bool once(struct parse_ctx *c, struct policy_src *s, const char *title)
{
	char buf[300];

	if (s->line)
		return fail(c, "section [%s] appears twice (first at %s)", title,
			    where(c, s, buf, sizeof(buf)));
	s->file = c->name;
	s->line = c->rd.line;
	return true;
}

static bool open_section(struct parse_ctx *c, const char *title)
{
	struct policy *p = c->p;
	struct policy_src here = { c->name, c->rd.line };
	char buf[300];
	const char *nm;

	snprintf(c->title, sizeof(c->title), "%s", title);
	if (strcmp(title, "daemon") == 0) {
		c->sec = SEC_DAEMON;
		return once(c, &p->daemon.src, title);
	}
	if (strcmp(title, "reserved") == 0) {
		c->sec = SEC_RESERVED;
		return once(c, &p->reserved_src, title);
	}
	if (strcmp(title, "companions") == 0) {
		c->sec = SEC_COMPANIONS;
		return once(c, &p->companions_src, title);
	}
	if (strcmp(title, "class") == 0 || strcmp(title, "tenant") == 0)
		return fail(c, "section [%s] needs a name: [%s NAME]", title, title);
	if (strncmp(title, "class ", 6) == 0) {
		struct policy_class *cl;

		nm = title + 6;
		if (!valid_name(nm))
			return fail(c, "\"%s\" is not a class name (1..%d letters, digits, '.', '_', '-')",
				    nm, POLICY_NAME_MAX - 1);
		if (strcmp(nm, "default") == 0)
			return fail(c, "[class default] is the built-in class for devices no class matches; it cannot be redefined");
		for (size_t i = 0; i < p->n_classes; i++)
			if (strcmp(p->classes[i].name, nm) == 0)
				return fail(c, "section [class %s] appears twice (first at %s)", nm,
					    where(c, &p->classes[i].src, buf, sizeof(buf)));
		p->classes = vf_xreallocarray(p->classes, p->n_classes + 1, sizeof(*p->classes));
		cl = &p->classes[p->n_classes];
		*cl = policy_default_class;
		snprintf(cl->name, sizeof(cl->name), "%s", nm);
		cl->src = here;
		c->idx = p->n_classes++;
		c->sec = SEC_CLASS;
		return true;
	}
	if (strncmp(title, "tenant ", 7) == 0) {
		struct policy_tenant *t;

		nm = title + 7;
		if (!valid_name(nm))
			return fail(c, "\"%s\" is not a tenant name (1..%d letters, digits, '.', '_', '-')",
				    nm, POLICY_NAME_MAX - 1);
		for (size_t i = 0; i < p->n_tenants; i++)
			if (strcmp(p->tenants[i].name, nm) == 0)
				return fail(c, "section [tenant %s] appears twice (first at %s)", nm,
					    where(c, &p->tenants[i].src, buf, sizeof(buf)));
		p->tenants = vf_xreallocarray(p->tenants, p->n_tenants + 1, sizeof(*p->tenants));
		t = &p->tenants[p->n_tenants];
		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", nm);
		t->quota = 1;
		t->src = here;
		c->idx = p->n_tenants++;
		c->sec = SEC_TENANT;
		return true;
	}
	return fail(c, "unknown section [%s]", title);
}

/*
 * Called by the reader on each line before inih sees it. A header starts
 * at the beginning of its line (indented, inih could take it for a value
 * continued); its name ends at ']' as inih finds it; after ']' only a
 * comment may follow. What inih will call malformed is left to it.
 */
static bool header_line(struct parse_ctx *c, const char *line)
{
	const char *s = line, *end, *rest;
	bool was_space = false;
	char title[INI_MAX_LINE];

	if (c->rd.line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	if (*s != '[') {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[' && s != line)
			return fail(c, "a section header must start at the beginning of its line");
		return true;
	}
	for (end = s + 1; *end && *end != ']' && !(was_space && *end == ';'); end++)
		was_space = isspace((unsigned char)*end);
	if (*end != ']')
		return true;
	for (rest = end + 1; isspace((unsigned char)*rest); rest++)
		;
	if (*rest && *rest != ';' && *rest != '#')
		return fail(c, "text after the section header");
	snprintf(title, sizeof(title), "%.*s", (int)(end - s - 1), s + 1);
	if (!close_section(c))
		return false;
	return open_section(c, title);
}

static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	struct reader *r = &c->rd;
	size_t len, keep;

	if (!*r->pos || c->failed)
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
	r->indented = str[0] == ' ' || str[0] == '\t';
	if (!header_line(c, str))
		return NULL;
	return str;
}

/* Checks that a key may be set here and records where. */
static bool take_key(struct parse_ctx *c, const struct keydef *k, int *line)
{
	if (!k->list && *line) {
		if (c->rd.indented)
			return fail(c, "\"%s\" takes one value (this line continues line %d)",
				    k->name, *line);
		return fail(c, "\"%s\" set twice, first at line %d", k->name, *line);
	}
	if (!*line)
		*line = c->rd.line;
	return true;
}

static int find_key(const struct keydef *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool get_num(struct parse_ctx *c, const char *key, const char *v, int64_t min,
		    int64_t max, uint64_t *out)
{
	int64_t x;
	int r = vf_parse_i64(v, min, max, &x);

	if (r == -ERANGE)
		return fail(c, "%s: %s is out of range (%" PRId64 "..%" PRId64 ")", key, v, min, max);
	if (r < 0)
		return fail(c, "%s: \"%s\" is not a number", key, v);
	*out = (uint64_t)x;
	return true;
}

static bool get_u32(struct parse_ctx *c, const char *key, const char *v, int64_t min,
		    int64_t max, uint32_t *out)
{
	uint64_t x;

	if (!get_num(c, key, v, min, max, &x))
		return false;
	*out = (uint32_t)x;
	return true;
}

/* Splits a list value (blanks or commas) into `tok`; false when too long. */
struct tokens {
	char buf[INI_MAX_LINE + 1];
	char *v[INI_MAX_LINE];
	size_t n;
};

static bool split(struct parse_ctx *c, const char *key, const char *value, struct tokens *t)
{
	char *save = NULL;

	if (snprintf(t->buf, sizeof(t->buf), "%s", value) >= (int)sizeof(t->buf))
		return fail(c, "%s: value too long", key);
	t->n = 0;
	for (char *s = strtok_r(t->buf, " ,\t", &save); s; s = strtok_r(NULL, " ,\t", &save))
		t->v[t->n++] = s;
	return true;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[n] == '\0';
}

static bool parse_id4(const char *s, uint16_t *out)
{
	uint64_t v;

	if (strlen(s) != 4 || !is_hex(s, 4) || vf_parse_u64(s, 16, 0xffff, &v) < 0)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "*", "class=HEX" (2, 4 or 6 digits), "id=VVVV:DDDD", "id=VVVV:*". */
static bool parse_rule(const char *s, struct policy_match *m)
{
	memset(m, 0, sizeof(*m));
	if (strcmp(s, "*") == 0) {
		m->kind = POLICY_MATCH_ANY;
		return true;
	}
	if (strncmp(s, "class=", 6) == 0) {
		size_t n = strlen(s + 6);
		uint64_t v;

		if ((n != 2 && n != 4 && n != 6) || !is_hex(s + 6, n) ||
		    vf_parse_u64(s + 6, 16, 0xffffff, &v) < 0)
			return false;
		m->kind = POLICY_MATCH_CLASS;
		m->class_prefix = (uint32_t)v;
		m->class_digits = (uint8_t)n;
		return true;
	}
	if (strncmp(s, "id=", 3) == 0) {
		char vendor[5];

		size_t n = strlen(s + 3);

		if ((n != 9 && n != 6) || s[7] != ':')
			return false;
		memcpy(vendor, s + 3, 4);
		vendor[4] = '\0';
		if (!parse_id4(vendor, &m->vendor))
			return false;
		m->kind = POLICY_MATCH_ID;
		if (strcmp(s + 8, "*") == 0)
			m->any_device = true;
		else if (!parse_id4(s + 8, &m->device))
			return false;
		return true;
	}
	return false;
}

void policy_format_rule(const struct policy_match *m, char *buf, size_t cap)
{
	switch (m->kind) {
	case POLICY_MATCH_ANY:
		snprintf(buf, cap, "*");
		break;
	case POLICY_MATCH_CLASS:
		snprintf(buf, cap, "class=%0*x", m->class_digits, m->class_prefix);
		break;
	case POLICY_MATCH_ID:
		if (m->any_device)
			snprintf(buf, cap, "id=%04x:*", m->vendor);
		else
			snprintf(buf, cap, "id=%04x:%04x", m->vendor, m->device);
		break;
	}
}

static bool same_rule(const struct policy_match *a, const struct policy_match *b)
{
	return a->kind == b->kind && a->class_prefix == b->class_prefix &&
	       a->class_digits == b->class_digits && a->vendor == b->vendor &&
	       a->device == b->device && a->any_device == b->any_device;
}

bool policy_cpu_isset(const uint64_t *map, unsigned cpu)
{
	return cpu < POLICY_CPU_MAX && vf_cpu_isset(map, cpu);
}

/* "0-3,8,10-11", blanks around items allowed (parse.c). "" is none. */
static bool parse_cpus(struct parse_ctx *c, const char *key, const char *value,
		       struct policy_daemon *d)
{
	uint64_t map[POLICY_CPU_MAX / 64] = { 0 };
	struct vf_cpulist_err err;
	int n = vf_parse_cpulist(value, VF_CPULIST_BLANKS, map, POLICY_CPU_MAX, &err);

	if (n < 0) {
		switch (err.kind) {
		case VF_CPULIST_EMPTY_ITEM:
			return fail(c, "%s: \"%s\" has an empty item", key, value);
		case VF_CPULIST_OUT_OF_RANGE:
			return fail(c, "%s: CPU %" PRIu64 " is out of range (0..%d)", key, err.cpu,
				    POLICY_CPU_MAX - 1);
		case VF_CPULIST_BACKWARDS:
			return fail(c, "%s: range %" PRIu64 "-%" PRIu64 " runs backwards", key, err.lo,
				    err.hi);
		case VF_CPULIST_NOT_A_CPU:
		default:
			return fail(c, "%s: \"%.*s\" is not a CPU or a range of CPUs (N or N-M)", key,
				    (int)err.len, value + err.at);
		}
	}
	memcpy(d->housekeeping, map, sizeof(map));
	d->n_housekeeping = (size_t)n;
	return true;
}

static bool valid_uri(const char *s)
{
	const char *colon = strchr(s, ':');

	if (!colon || colon == s || !isalpha((unsigned char)s[0]) || strlen(s) >= POLICY_STR_MAX)
		return false;
	for (const char *q = s; q < colon; q++)
		if (!isalnum((unsigned char)*q) && !strchr("+.-", *q))
			return false;
	for (const unsigned char *q = (const unsigned char *)s; *q; q++)
		if (*q <= 0x20 || *q == 0x7f)
			return false;
	return true;
}

/* Absolute, no empty, "." or ".." components, no blanks or control characters. */
static bool valid_dir(const char *s)
{
	if (s[0] != '/' || strlen(s) >= POLICY_STR_MAX)
		return false;
	for (const unsigned char *q = (const unsigned char *)s; *q; q++)
		if (*q <= 0x20 || *q == 0x7f)
			return false;
	if (strcmp(s, "/") == 0)
		return true;
	for (const char *comp = s + 1;; ) {
		size_t n = strcspn(comp, "/");

		if (n == 0 || (n == 1 && comp[0] == '.') || (n == 2 && strncmp(comp, "..", 2) == 0))
			return false;
		if (!comp[n])
			return true;
		comp += n + 1;
	}
}

static int daemon_key(struct parse_ctx *c, const char *key, const char *value)
{
	struct policy_daemon *d = &c->p->daemon;
	int k = find_key(daemon_keys, POLICY_DAEMON_NKEYS, key);
	uint32_t v;

	if (k < 0)
		return fail(c, "unknown key \"%s\" in [%s]", key, c->title);
	if (!take_key(c, &daemon_keys[k], &d->line[k]))
		return 0;
	/* policy_format() writes "key = value" on one line: it must parse again */
	if (strlen(key) + 3 + strlen(value) > INI_MAX_LINE - 1)
		return fail(c, "%s: value longer than %zu bytes", key,
			    INI_MAX_LINE - 1 - 3 - strlen(key));
	switch ((enum policy_daemon_key)k) {
	case POLICY_DAEMON_SOCKET_GROUP:
	case POLICY_DAEMON_ADMIN_GROUP:
		if (*value && !valid_group(value))
			return fail(c, "%s: \"%s\" is not a group name", key, value);
		snprintf(k == POLICY_DAEMON_SOCKET_GROUP ? d->socket_group : d->admin_group,
			 POLICY_GROUP_MAX, "%s", value);
		return 1;
	case POLICY_DAEMON_SAMPLE_INTERVAL_MS:
		if (!get_u32(c, key, value, 10, 10000, &v))
			return 0;
		d->sample_interval_ms = v;
		return 1;
	case POLICY_DAEMON_HOUSEKEEPING_CPUS:
		return parse_cpus(c, key, value, d);
	case POLICY_DAEMON_LIBVIRT_URI:
		if (!valid_uri(value))
			return fail(c, "%s: \"%s\" is not a URI (like qemu:///system)", key, value);
		snprintf(d->libvirt_uri, sizeof(d->libvirt_uri), "%s", value);
		return 1;
	case POLICY_DAEMON_CDI_DIR:
		if (!valid_dir(value))
			return fail(c, "%s: \"%s\" is not an absolute directory path", key, value);
		snprintf(d->cdi_dir, sizeof(d->cdi_dir), "%s", value);
		return 1;
	case POLICY_DAEMON_HOLDER_QUARANTINE:
		if (strcmp(value, "leave") != 0 && strcmp(value, "signal") != 0)
			return fail(c, "%s: \"%s\" is neither leave nor signal", key, value);
		d->holder_signal = strcmp(value, "signal") == 0;
		return 1;
	case POLICY_DAEMON_NKEYS:
		break;
	}
	return 0;
}

static bool parse_ladder(struct parse_ctx *c, const char *key, const char *value,
			 struct policy_class *cl)
{
	struct tokens t;
	int prev = -1;

	if (!split(c, key, value, &t))
		return false;
	if (t.n == 0)
		return fail(c, "%s: empty (\"none\" watches without containing)", key);
	cl->n_ladder = 0;
	if (t.n == 1 && strcmp(t.v[0], "none") == 0)
		return true;
	for (size_t i = 0; i < t.n; i++) {
		int s = -1;

		for (int j = 0; j < POLICY_NSTEPS; j++)
			if (strcmp(t.v[i], step_names[j]) == 0)
				s = j;
		if (s < 0)
			return fail(c, "%s: \"%s\" is not a step (throttle, silence, quarantine, or none alone)",
				    key, t.v[i]);
		if (s <= prev)
			return fail(c, "%s: \"%s\" %s (the steps come in the order throttle, silence, quarantine)",
				    key, t.v[i], s == prev ? "is listed twice" : "is out of order");
		cl->ladder[cl->n_ladder++] = (enum policy_step)s;
		prev = s;
	}
	return true;
}

static int class_key(struct parse_ctx *c, const char *key, const char *value)
{
	struct policy_class *cl = cur_class(c);
	int k = find_key(class_keys, POLICY_CLASS_NKEYS, key);
	uint32_t *cap = NULL;
	uint64_t v;
	struct tokens t;

	if (k < 0)
		return fail(c, "unknown key \"%s\" in [%s]", key, c->title);
	if (!take_key(c, &class_keys[k], &cl->line[k]))
		return 0;
	switch ((enum policy_class_key)k) {
	case POLICY_CLASS_MATCH:
		if (!split(c, key, value, &t))
			return 0;
		for (size_t i = 0; i < t.n; i++) {
			struct policy_match m;

			if (!parse_rule(t.v[i], &m))
				return fail(c, "%s: \"%s\" is not a rule (class=HEX with 2, 4 or 6 digits, id=VENDOR:DEVICE, id=VENDOR:*, or *)",
					    key, t.v[i]);
			for (size_t j = 0; j < cl->n_match; j++)
				if (same_rule(&cl->match[j], &m))
					return fail(c, "%s: \"%s\" is listed twice", key, t.v[i]);
			cl->match = vf_xreallocarray(cl->match, cl->n_match + 1, sizeof(*cl->match));
			cl->match[cl->n_match++] = m;
		}
		return 1;
	case POLICY_CLASS_STORM_THRESHOLD:
		return get_num(c, key, value, 1, 100000000, &cl->storm_threshold);
	case POLICY_CLASS_CLEAR_THRESHOLD:
		/* below storm_threshold: checked once the section is read */
		return get_num(c, key, value, 0, 100000000, &cl->clear_threshold);
	case POLICY_CLASS_SUSTAIN_MS:
		return get_u32(c, key, value, 0, 600000, &cl->sustain_ms);
	case POLICY_CLASS_COOLDOWN_MS:
		return get_u32(c, key, value, 0, 3600000, &cl->cooldown_ms);
	case POLICY_CLASS_ESCALATION_MS:
		return get_u32(c, key, value, 0, 3600000, &cl->escalation_ms);
	case POLICY_CLASS_IRQ_CPU_MAX: cap = &cl->irq_cpu_max; break;
	case POLICY_CLASS_VMM_CPU_MAX: cap = &cl->vmm_cpu_max; break;
	case POLICY_CLASS_STORM_IRQ_CPU_MAX: cap = &cl->storm_irq_cpu_max; break;
	case POLICY_CLASS_STORM_VMM_CPU_MAX: cap = &cl->storm_vmm_cpu_max; break;
	case POLICY_CLASS_LADDER:
		return parse_ladder(c, key, value, cl);
	case POLICY_CLASS_NKEYS:
		return 0;
	}
	if (!get_num(c, key, value, 1, POLICY_CAP_MAX, &v))
		return 0;
	*cap = (uint32_t)v;
	return 1;
}

_Static_assert(sizeof(uid_t) == sizeof(uint32_t), "uid_t is 32 bits");
_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");

static bool add_ids(struct parse_ctx *c, const char *key, const char *value, uint32_t **ids,
		    size_t *n)
{
	struct tokens t;

	if (!split(c, key, value, &t))
		return false;
	for (size_t i = 0; i < t.n; i++) {
		uint64_t v;
		int r = vf_parse_u64(t.v[i], 10, UINT32_MAX - 1, &v);

		if (r == -ERANGE)
			return fail(c, "%s: %s is out of range (0..%u)", key, t.v[i], UINT32_MAX - 1);
		if (r < 0)
			return fail(c, "%s: \"%s\" is not a number (names are not resolved here)",
				    key, t.v[i]);
		for (size_t j = 0; j < *n; j++)
			if ((*ids)[j] == v)
				return fail(c, "%s: %s is listed twice", key, t.v[i]);
		*ids = vf_xreallocarray(*ids, *n + 1, sizeof(**ids));
		(*ids)[(*n)++] = (uint32_t)v;
	}
	return true;
}

static int tenant_key(struct parse_ctx *c, const char *key, const char *value)
{
	struct policy_tenant *t = cur_tenant(c);
	int k = find_key(tenant_keys, POLICY_TENANT_NKEYS, key);
	struct policy_src here = { c->name, c->rd.line };
	struct tokens tok;
	char buf[300];

	if (k < 0)
		return fail(c, "unknown key \"%s\" in [%s]", key, c->title);
	if (!take_key(c, &tenant_keys[k], &t->line[k]))
		return 0;
	switch ((enum policy_tenant_key)k) {
	case POLICY_TENANT_UIDS:
		return add_ids(c, key, value, (uint32_t **)&t->uids, &t->n_uids);
	case POLICY_TENANT_GIDS:
		return add_ids(c, key, value, (uint32_t **)&t->gids, &t->n_gids);
	case POLICY_TENANT_DEVICES:
		if (!split(c, key, value, &tok))
			return 0;
		for (size_t i = 0; i < tok.n; i++) {
			struct policy_tenant_device *d;
			struct vf_bdf b;
			char bdf[VF_BDF_LEN];

			if (vf_parse_bdf(tok.v[i], &b) < 0)
				return fail(c, "%s: \"%s\" is not a PCI address", key, tok.v[i]);
			vf_bdf_format(&b, bdf);
			for (size_t j = 0; j < t->n_devices; j++)
				if (strcmp(t->devices[j].bdf, bdf) == 0)
					return fail(c, "%s: %s is listed twice (first at %s)", key, bdf,
						    where(c, &t->devices[j].src, buf, sizeof(buf)));
			t->devices = vf_xreallocarray(t->devices, t->n_devices + 1, sizeof(*t->devices));
			d = &t->devices[t->n_devices++];
			memcpy(d->bdf, bdf, sizeof(bdf));
			d->src = here;
		}
		return 1;
	case POLICY_TENANT_CLASSES:
		if (!split(c, key, value, &tok))
			return 0;
		for (size_t i = 0; i < tok.n; i++) {
			struct policy_tenant_class *tc;

			if (!valid_name(tok.v[i]))
				return fail(c, "%s: \"%s\" is not a class name", key, tok.v[i]);
			for (size_t j = 0; j < t->n_classes; j++)
				if (strcmp(t->classes[j].name, tok.v[i]) == 0)
					return fail(c, "%s: %s is listed twice", key, tok.v[i]);
			/* whether the class exists is known once the whole policy is read */
			t->classes = vf_xreallocarray(t->classes, t->n_classes + 1, sizeof(*t->classes));
			tc = &t->classes[t->n_classes++];
			memset(tc, 0, sizeof(*tc));
			snprintf(tc->name, sizeof(tc->name), "%s", tok.v[i]);
			tc->src = here;
		}
		return 1;
	case POLICY_TENANT_QUOTA:
		return get_u32(c, key, value, 0, 65535, &t->quota);
	case POLICY_TENANT_TRUSTED:
		if (strcmp(value, "true") == 0)
			t->trusted = true;
		else if (strcmp(value, "false") == 0)
			t->trusted = false;
		else
			return fail(c, "%s: \"%s\" is not true or false", key, value);
		return 1;
	case POLICY_TENANT_NKEYS:
		break;
	}
	return 0;
}

static int add_reserved(struct parse_ctx *c, const char *key, const char *value)
{
	struct policy *p = c->p;
	struct tokens t;

	if (strcmp(key, "devices") != 0)
		return fail(c, "unknown key \"%s\" in [%s]", key, c->title);
	if (!split(c, key, value, &t))
		return 0;
	for (size_t i = 0; i < t.n; i++) {
		struct policy_reserved *r;
		struct vf_bdf b;
		char bdf[VF_BDF_LEN];

		if (vf_parse_bdf(t.v[i], &b) < 0)
			return fail(c, "%s: \"%s\" is not a PCI address", key, t.v[i]);
		vf_bdf_format(&b, bdf);
		r = (struct policy_reserved *)policy_reserved_find(p, bdf);
		if (r)
			return fail(c, "%s: %s is listed twice (first at %s)", key, bdf, r->source);
		p->reserved = vf_xreallocarray(p->reserved, p->n_reserved + 1, sizeof(*p->reserved));
		r = &p->reserved[p->n_reserved++];
		memcpy(r->bdf, bdf, sizeof(bdf));
		snprintf(r->source, sizeof(r->source), "%s:%d", c->name, c->rd.line);
	}
	return 1;
}

static int add_companion(struct parse_ctx *c, const char *key, const char *value)
{
	struct policy *p = c->p;
	struct policy_companion pair = { .src = { c->name, c->rd.line } };
	struct vf_bdf a, b;
	struct tokens t;
	char buf[300];

	if (strcmp(key, "allow") != 0)
		return fail(c, "unknown key \"%s\" in [%s]", key, c->title);
	if (!split(c, key, value, &t))
		return 0;
	if (t.n == 0)
		return 1;
	if (t.n != 2)
		return fail(c, "%s: one pair of PCI addresses a line (\"allow = BDF BDF\"), not %zu addresses",
			    key, t.n);
	if (vf_parse_bdf(t.v[0], &a) < 0)
		return fail(c, "%s: \"%s\" is not a PCI address", key, t.v[0]);
	if (vf_parse_bdf(t.v[1], &b) < 0)
		return fail(c, "%s: \"%s\" is not a PCI address", key, t.v[1]);
	vf_bdf_format(&a, pair.a);
	vf_bdf_format(&b, pair.b);
	if (strcmp(pair.a, pair.b) == 0)
		return fail(c, "%s: %s cannot be its own companion", key, pair.a);
	for (size_t i = 0; i < p->n_companions; i++) {
		const struct policy_companion *o = &p->companions[i];

		if ((strcmp(o->a, pair.a) == 0 && strcmp(o->b, pair.b) == 0) ||
		    (strcmp(o->a, pair.b) == 0 && strcmp(o->b, pair.a) == 0))
			return fail(c, "%s: the pair %s %s is listed twice (first at %s)", key,
				    pair.a, pair.b, where(c, &o->src, buf, sizeof(buf)));
	}
	p->companions = vf_xreallocarray(p->companions, p->n_companions + 1,
					 sizeof(*p->companions));
	p->companions[p->n_companions++] = pair;
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;

	if (c->failed)
		return 0;
	switch (c->sec) {
	case SEC_NONE:
		return fail(c, "unknown section [%s] (\"%s\" comes before any section header)",
			    section, name);
	case SEC_DAEMON: return daemon_key(c, name, value);
	case SEC_CLASS: return class_key(c, name, value);
	case SEC_TENANT: return tenant_key(c, name, value);
	case SEC_RESERVED: return add_reserved(c, name, value);
	case SEC_COMPANIONS: return add_companion(c, name, value);
	}
	return 0;
}

/* Parses one document into p; what spans documents waits for finish(). */
static int parse_one(struct policy *p, const char *name, const char *text, struct vf_err *e)
{
	struct parse_ctx c = { .rd = { text, 0, 0, false }, .p = p, .e = e };
	int r;

	init_if_needed(p);
	vf_strv_add(&p->files, name);
	c.name = p->files.v[p->files.n - 1];
	r = ini_parse_stream(read_line, &c, handler, &c);
	if (!c.failed)
		close_section(&c);
	/* inih goes on after a syntax error: report whichever came first */
	if (c.rd.too_long && (!c.failed || c.rd.too_long <= c.failed) &&
	    (r <= 0 || c.rd.too_long <= r)) {
		char msg[128];

		snprintf(msg, sizeof(msg),
			 "line longer than %d bytes (split a long list over several keys)",
			 INI_MAX_LINE - 1);
		policy_set_at(e, name, c.rd.too_long, msg);
		return -1;
	}
	if (r > 0 && (!c.failed || r < c.failed)) {
		policy_set_at(e, name, r, "malformed line");
		return -1;
	}
	if (c.failed)
		return -1;
	if (r != 0)
		return vf_err_set(e, EINVAL, "%s: cannot be parsed", name);
	return 0;
}

/* What needs the whole policy: the classes tenants name. */
static int finish(struct policy *p, struct vf_err *e)
{
	for (size_t i = 0; i < p->n_tenants; i++) {
		struct policy_tenant *t = &p->tenants[i];

		for (size_t j = 0; j < t->n_classes; j++) {
			struct policy_tenant_class *tc = &t->classes[j];
			char msg[256];

			tc->cls = NULL;
			if (strcmp(tc->name, policy_default_class.name) == 0)
				tc->cls = &policy_default_class;
			for (size_t k = 0; k < p->n_classes && !tc->cls; k++)
				if (strcmp(p->classes[k].name, tc->name) == 0)
					tc->cls = &p->classes[k];
			if (!tc->cls) {
				snprintf(msg, sizeof(msg),
					 "tenant %s names class \"%s\", which no [class] section defines",
					 t->name, tc->name);
				policy_set_at(e, tc->src.file, tc->src.line, msg);
				return -1;
			}
		}
	}
	return 0;
}

int policy_parse(struct policy *p, const char *name, const char *text, struct vf_err *e)
{
	if (parse_one(p, name, text, e) < 0)
		return -1;
	return finish(p, e);
}

/* ---- loading ---------------------------------------------------------- */

static int load_file(struct policy *p, const char *path, struct vf_err *e)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t n;

	if (!f)
		return vf_err_set(e, errno, "cannot open policy %s", path);
	buf = vf_xcalloc(1, POLICY_MAX + 1);
	n = fread(buf, 1, POLICY_MAX + 1, f);
	if (ferror(f))
		return vf_err_set(e, errno ? errno : EIO, "cannot read policy %s", path);
	if (n > POLICY_MAX)
		return vf_err_set(e, E2BIG, "policy %s is larger than %u bytes", path,
				  POLICY_MAX);
	buf[n] = '\0';
	if (memchr(buf, '\0', n))
		return vf_err_set(e, EINVAL, "policy %s holds a NUL byte", path);
	return parse_one(p, path, buf, e);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(struct policy *p, const char *path, struct vf_err *e)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	struct vf_strv names = { 0 };
	const char *sep = path[strlen(path) - 1] == '/' ? "" : "/";
	struct dirent *de;
	int r = 0;

	if (!d)
		return vf_err_set(e, errno, "cannot open policy directory %s", path);
	errno = 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] != '.' && len > 5 && strcmp(de->d_name + len - 5, ".conf") == 0)
			vf_strv_add(&names, de->d_name);
		errno = 0;
	}
	if (errno) {
		r = vf_err_set(e, errno, "cannot list policy directory %s", path);
		goto out;
	}
	if (names.n == 0) {
		r = vf_err_set(e, ENOENT, "policy directory %s holds no *.conf file", path);
		goto out;
	}
	qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n && r == 0; i++) {
		char file[4096];

		if (vf_path(file, sizeof(file), "%s%s%s", path, sep, names.v[i]) < 0)
			r = vf_err_set(e, ENAMETOOLONG, "policy path %s%s%s is too long", path, sep,
				       names.v[i]);
		else
			r = load_file(p, file, e);
	}
out:
	vf_strv_free(&names);
	return r;
}

int policy_load(struct policy *p, const char *path, struct vf_err *e)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return vf_err_set(e, errno, "cannot open policy %s", path);
	init_if_needed(p);
	if (S_ISDIR(st.st_mode)) {
		if (load_dir(p, path, e) < 0)
			return -1;
	} else if (load_file(p, path, e) < 0) {
		return -1;
	}
	return finish(p, e);
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->n_classes; i++)
		free(p->classes[i].match);
	free(p->classes);
	for (size_t i = 0; i < p->n_tenants; i++) {
		struct policy_tenant *t = &p->tenants[i];

		free(t->uids);
		free(t->gids);
		free(t->devices);
		free(t->classes);
	}
	free(p->tenants);
	free(p->reserved);
	free(p->companions);
	vf_strv_free(&p->files);
	memset(p, 0, sizeof(*p));
}

/* ---- lookups ---------------------------------------------------------- */

const struct policy_reserved *policy_reserved_find(const struct policy *p, const char *bdf)
{
	for (size_t i = 0; i < p->n_reserved; i++)
		if (strcmp(p->reserved[i].bdf, bdf) == 0)
			return &p->reserved[i];
	return NULL;
}

bool policy_class_matches(const struct policy_class *cl, uint16_t vendor, uint16_t device,
			  uint32_t pci_class)
{
	for (size_t i = 0; i < cl->n_match; i++) {
		const struct policy_match *m = &cl->match[i];

		switch (m->kind) {
		case POLICY_MATCH_ANY:
			return true;
		case POLICY_MATCH_CLASS:
			if (((pci_class & 0xffffff) >> (4 * (6 - m->class_digits))) == m->class_prefix)
				return true;
			break;
		case POLICY_MATCH_ID:
			if (m->vendor == vendor && (m->any_device || m->device == device))
				return true;
			break;
		}
	}
	return false;
}

const struct policy_class *policy_class_for(const struct policy *p, uint16_t vendor,
					    uint16_t device, uint32_t pci_class)
{
	for (size_t i = 0; i < p->n_classes; i++)
		if (policy_class_matches(&p->classes[i], vendor, device, pci_class))
			return &p->classes[i];
	return &policy_default_class;
}

const struct policy_tenant *policy_tenant_find(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_tenants; i++)
		if (strcmp(p->tenants[i].name, name) == 0)
			return &p->tenants[i];
	return NULL;
}

bool policy_tenant_has_peer(const struct policy_tenant *t, uid_t uid, gid_t gid,
			    const gid_t *groups, size_t ngroups)
{
	for (size_t i = 0; i < t->n_uids; i++)
		if (t->uids[i] == uid)
			return true;
	for (size_t i = 0; i < t->n_gids; i++) {
		if (t->gids[i] == gid)
			return true;
		for (size_t j = 0; j < ngroups; j++)
			if (t->gids[i] == groups[j])
				return true;
	}
	return false;
}

size_t policy_tenant_for_peer(const struct policy *p, uid_t uid, gid_t gid,
			      const gid_t *groups, size_t ngroups,
			      const struct policy_tenant **out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_tenants; i++) {
		if (!policy_tenant_has_peer(&p->tenants[i], uid, gid, groups, ngroups))
			continue;
		if (n < cap)
			out[n] = &p->tenants[i];
		n++;
	}
	return n;
}

/* The canonical form of a BDF, or false. */
static bool canon(const char *bdf, char out[VF_BDF_LEN])
{
	struct vf_bdf b;

	if (!bdf || vf_parse_bdf(bdf, &b) < 0)
		return false;
	vf_bdf_format(&b, out);
	return true;
}

bool policy_tenant_may_use(const struct policy *p, const struct policy_tenant *t,
			   const char *bdf, uint16_t vendor, uint16_t device,
			   uint32_t pci_class)
{
	const struct policy_class *cl;
	char b[VF_BDF_LEN];

	if (canon(bdf, b))
		for (size_t i = 0; i < t->n_devices; i++)
			if (strcmp(t->devices[i].bdf, b) == 0)
				return true;
	if (t->n_classes == 0)
		return false;
	cl = policy_class_for(p, vendor, device, pci_class);
	for (size_t i = 0; i < t->n_classes; i++)
		if (t->classes[i].cls == cl)
			return true;
	return false;
}

bool policy_companion_allowed(const struct policy *p, const char *a, const char *b)
{
	char ca[VF_BDF_LEN], cb[VF_BDF_LEN];

	if (!canon(a, ca) || !canon(b, cb))
		return false;
	for (size_t i = 0; i < p->n_companions; i++) {
		const struct policy_companion *pc = &p->companions[i];

		if ((strcmp(pc->a, ca) == 0 && strcmp(pc->b, cb) == 0) ||
		    (strcmp(pc->a, cb) == 0 && strcmp(pc->b, ca) == 0))
			return true;
	}
	return false;
}

bool policy_housekeeping_cpu(const struct policy *p, unsigned cpu)
{
	if (p->daemon.n_housekeeping == 0)
		return true;
	return policy_cpu_isset(p->daemon.housekeeping, cpu);
}
