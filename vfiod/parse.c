// SPDX-License-Identifier: GPL-2.0-or-later
#include "parse.h"

#include <errno.h>
#include <stdio.h>
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
