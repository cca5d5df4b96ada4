// SPDX-License-Identifier: GPL-2.0-or-later
#include "parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

int vf_parse_u64(const char *s, int base, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || (base != 8 && base != 10 && base != 16))
		return -EINVAL;
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		int d = digit_value(*s);

		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -ERANGE;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int vf_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	bool neg = false;
	uint64_t mag;
	int64_t v;
	int r;

	if (!s)
		return -EINVAL;
	if (*s == '-') {
		neg = true;
		s++;
	}
	r = vf_parse_u64(s, 10, (uint64_t)INT64_MAX + (neg ? 1 : 0), &mag);
	if (r < 0)
		return r;
	if (neg)
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	else
		v = (int64_t)mag;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Parses exactly `n` hex digits from s into *v. */
static bool hex_fixed(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = digit_value(s[i]);

		if (d > 15)
			return false;
		*v = *v * 16 + (unsigned)d;
	}
	return true;
}

int vf_parse_bdf(const char *s, struct vf_bdf *out)
{
	unsigned domain = 0, bus, dev, fn;
	size_t len;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len == 12) {
		if (!hex_fixed(s, 4, &domain) || s[4] != ':')
			return -EINVAL;
		s += 5;
	} else if (len != 7) {
		return -EINVAL;
	}
	if (!hex_fixed(s, 2, &bus) || s[2] != ':' || !hex_fixed(s + 3, 2, &dev) ||
	    s[5] != '.' || s[6] < '0' || s[6] > '7')
		return -EINVAL;
	fn = (unsigned)(s[6] - '0');
	if (dev > 0x1f)
		return -EINVAL;
	out->domain = (uint16_t)domain;
	out->bus = (uint8_t)bus;
	out->dev = (uint8_t)dev;
	out->fn = (uint8_t)fn;
	return 0;
}

int vf_parse_bdf_loose(const char *s, struct vf_bdf *out)
{
	char t[VF_BDF_LEN];

	if (!s)
		return -EINVAL;
	/* "pci_dddd_bb_dd_f": 16 bytes, '_' where the separators go */
	if (strncmp(s, "pci_", 4) == 0) {
		s += 4;
		if (strlen(s) != 12 || s[4] != '_' || s[7] != '_' || s[10] != '_')
			return -EINVAL;
		memcpy(t, s, 12);
		t[4] = ':';
		t[7] = ':';
		t[10] = '.';
		t[12] = '\0';
		s = t;
	}
	return vf_parse_bdf(s, out);
}

void vf_bdf_format(const struct vf_bdf *b, char buf[VF_BDF_LEN])
{
	snprintf(buf, VF_BDF_LEN, "%04x:%02x:%02x.%u", b->domain, b->bus, b->dev,
		 b->fn & 7u);
}

bool vf_is_canonical_bdf(const char *s)
{
	struct vf_bdf b;
	char canon[VF_BDF_LEN];

	if (!s || strlen(s) != 12 || vf_parse_bdf(s, &b) < 0)
		return false;
	vf_bdf_format(&b, canon);
	return strcmp(canon, s) == 0;
}

bool vf_bdf_same_slot(const struct vf_bdf *a, const struct vf_bdf *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev;
}

bool vf_name_is_safe(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > 255 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int vf_parse_proc_start(const char *text, uint64_t *start)
{
	const char *p = text ? strrchr(text, ')') : NULL;
	char field[32];

	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	/* after the name: field 3 (state) ... field 22 (starttime) */
	for (int f = 3; f < 22; f++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	size_t n = strcspn(p, " \n");

	if (n == 0 || n >= sizeof(field))
		return -EINVAL;
	memcpy(field, p, n);
	field[n] = '\0';
	return vf_parse_u64(field, 10, UINT64_MAX, start) < 0 ? -EINVAL : 0;
}

int vf_parse_status_ids(const char *text, const char *key, uint32_t out[4])
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		if (strncmp(line, key, klen) == 0) {
			const char *p = line + klen;
			uint32_t ids[4];

			for (int i = 0; i < 4; i++) {
				char field[16];
				uint64_t v;
				size_t n;

				p += strspn(p, " \t");
				n = strcspn(p, " \t\n");
				if (n == 0 || n >= sizeof(field))
					return -EINVAL;
				memcpy(field, p, n);
				field[n] = '\0';
				if (vf_parse_u64(field, 10, UINT32_MAX, &v) < 0)
					return -EINVAL;
				ids[i] = (uint32_t)v;
				p += n;
			}
			p += strspn(p, " \t");
			if (*p != '\n' && *p != '\0')
				return -EINVAL;
			memcpy(out, ids, sizeof(ids));
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -EINVAL;
}

int vf_parse_proc_state(const char *text, char *state)
{
	const char *p = text ? strrchr(text, ')') : NULL;

	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EINVAL;
	*state = p[2];
	return 0;
}

/* ---- CPU lists ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A decimal number of s[i..end) (no sign, no blank): 0, -EINVAL or -ERANGE. */
static int cpu_number(const char *s, size_t i, size_t end, uint64_t *v)
{
	*v = 0;
	if (i >= end)
		return -EINVAL;
	for (; i < end; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (*v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -ERANGE;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}

static int cpulist_fail(struct vf_cpulist_err *err, int kind, size_t at, size_t len, int rc)
{
	if (err) {
		memset(err, 0, sizeof(*err));
		err->kind = kind;
		err->at = at;
		err->len = len;
	}
	return rc;
}

int vf_parse_cpulist(const char *s, unsigned flags, uint64_t *mask, size_t nbits,
		     struct vf_cpulist_err *err)
{
	size_t len = strlen(s);
	int count = 0;

	if (len && s[len - 1] == '\n')
		len--;
	if (len == 0)
		return 0;
	if (s[0] == ',' || s[len - 1] == ',')
		return cpulist_fail(err, VF_CPULIST_EMPTY_ITEM, 0, len, -EINVAL);
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == ',' && s[i + 1] == ',')
			return cpulist_fail(err, VF_CPULIST_EMPTY_ITEM, 0, len, -EINVAL);
	for (size_t i = 0; i < len;) {
		size_t end = i, next, a_end, b_at;
		uint64_t a, b;
		int r;

		while (end < len && s[end] != ',')
			end++;
		next = end + 1;

		if (flags & VF_CPULIST_BLANKS) {
			while (i < end && is_blank(s[i]))
				i++;
			while (end > i && is_blank(s[end - 1]))
				end--;
		}
		a_end = i;
		while (a_end < end && s[a_end] != '-')
			a_end++;
		b_at = a_end < end ? a_end + 1 : i;
		r = cpu_number(s, i, a_end, &a);
		if (r == 0)
			r = cpu_number(s, b_at, a_end < end ? end : a_end, &b);
		if (r < 0)
			return cpulist_fail(err, VF_CPULIST_NOT_A_CPU, i, end - i, r);
		if (a >= nbits || b >= nbits) {
			r = cpulist_fail(err, VF_CPULIST_OUT_OF_RANGE, i, end - i, -ERANGE);
			if (err)
				err->cpu = a > b ? a : b;
			return r;
		}
		if (a > b) {
			r = cpulist_fail(err, VF_CPULIST_BACKWARDS, i, end - i, -EINVAL);
			if (err) {
				err->lo = a;
				err->hi = b;
			}
			return r;
		}
		for (uint64_t c = a; c <= b; c++) {
			if (!vf_cpu_isset(mask, (size_t)c))
				count++;
			vf_cpu_set(mask, (size_t)c);
		}
		i = next;
	}
	return count;
}

int vf_format_cpulist(const uint64_t *mask, size_t nbits, char *buf, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	for (size_t c = 0; c < nbits; c++) {
		size_t end = c;
		int n;

		if (!vf_cpu_isset(mask, c))
			continue;
		while (end + 1 < nbits && vf_cpu_isset(mask, end + 1))
			end++;
		if (end == c)
			n = snprintf(buf + o, cap - o, "%s%zu", o ? "," : "", c);
		else
			n = snprintf(buf + o, cap - o, "%s%zu-%zu", o ? "," : "", c, end);
		if (n < 0 || (size_t)n >= cap - o) {
			buf[0] = '\0';
			return -ENAMETOOLONG;
		}
		o += (size_t)n;
		c = end;
	}
	return (int)o;
}

/* ---- line tables ---- */

int vf_for_each_line(const char *text, int (*fn)(char *line, void *arg), void *arg)
{
	size_t len = strlen(text);
	char *copy = malloc(len + 1), *save = NULL;
	int count = 0;

	if (!copy)
		abort();
	memcpy(copy, text, len + 1);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int r = fn(line, arg);

		if (r < 0) {
			count = r;
			break;
		}
		count += r;
	}
	free(copy);
	return count;
}

void vf_unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int vf_parse_mountinfo_line(char *line, struct vf_mountinfo *m)
{
	char *f[64], *save = NULL, *colon;
	size_t n = 0, sep;
	uint64_t major, minor;

	memset(m, 0, sizeof(*m));
	for (char *t = strtok_r(line, " \t", &save); t && n < sizeof(f) / sizeof(f[0]);
	     t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	if (n < 10)
		return -EINVAL;
	for (sep = 6; sep < n && strcmp(f[sep], "-") != 0; sep++)
		;
	if (sep + 3 >= n) /* "-" fstype source superopts */
		return -EINVAL;
	colon = strchr(f[2], ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (vf_parse_u64(f[2], 10, UINT32_MAX, &major) < 0 ||
	    vf_parse_u64(colon + 1, 10, UINT32_MAX, &minor) < 0)
		return -EINVAL;
	for (size_t i = 3; i <= 4; i++)
		vf_unescape_octal(f[i]);
	for (size_t i = sep + 1; i <= sep + 3; i++)
		vf_unescape_octal(f[i]);
	m->major = (unsigned)major;
	m->minor = (unsigned)minor;
	m->root = f[3];
	m->mountpoint = f[4];
	m->fstype = f[sep + 1];
	m->source = f[sep + 2];
	m->superopts = f[sep + 3];
	return 0;
}

/* ---- lists and /proc/PID/cgroup ---- */

bool vf_list_has(const char *list, size_t len, const char *name, char sep)
{
	size_t n = strlen(name);

	for (size_t i = 0; i <= len;) {
		size_t end = i, l;

		while (end < len && list[end] != sep)
			end++;
		l = end - i;
		while (l && (list[i + l - 1] == '\n' || list[i + l - 1] == ' '))
			l--;
		if (l == n && strncmp(list + i, name, n) == 0)
			return true;
		i = end + 1;
	}
	return false;
}

int vf_parse_proc_cgroup(const char *text, const char *controller, char *path, size_t cap)
{
	for (const char *p = text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *c1 = memchr(p, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
		const char *pp;
		size_t plen;
		bool match;

		if (len == 0) {
			p = end ? end + 1 : NULL;
			continue;
		}
		if (!c1 || !c2 || c1 == p)
			return -EINVAL;
		pp = c2 + 1;
		plen = len - (size_t)(pp - p);
		if (!controller)
			match = c1 - p == 1 && p[0] == '0' && c2 == c1 + 1;
		else
			match = vf_list_has(c1 + 1, (size_t)(c2 - c1 - 1), controller, ',');
		if (match) {
			if (plen == 0 || pp[0] != '/')
				return -EINVAL;
			if (plen >= cap)
				return -ENAMETOOLONG;
			memcpy(path, pp, plen);
			path[plen] = '\0';
			return 0;
		}
		p = end ? end + 1 : NULL;
	}
	return -ENOENT;
}
