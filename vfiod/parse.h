/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The strict parsers: one for integers, one for PCI addresses, one check for
 * names that will become path components. Everything that reads a number or
 * a BDF from the host, a file or a client goes through these. They take
 * strings, never paths, so unit tests and fuzzers feed them from memory.
 */
#ifndef VFIOD_PARSE_H
#define VFIOD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses all of `s` as an unsigned number in `base` (8, 10 or 16; base 16
 * accepts an optional "0x" prefix). No sign, no whitespace, no trailing junk,
 * nothing above `max`. Returns 0, -EINVAL or -ERANGE.
 */
int vf_parse_u64(const char *s, int base, uint64_t max, uint64_t *out);

/* Decimal, optional leading '-', within [min, max]. Returns 0, -EINVAL or -ERANGE. */
int vf_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

struct vf_bdf {
	uint16_t domain;
	uint8_t bus;
	uint8_t dev;  /* 0..31 */
	uint8_t fn;   /* 0..7 */
};

/* "dddd:bb:dd.f" plus NUL */
#define VF_BDF_LEN 13

/*
 * Parses a PCI address, "dddd:bb:dd.f" or the short "bb:dd.f" (domain 0),
 * hex digits of either case, nothing else. Returns 0 or -EINVAL.
 */
int vf_parse_bdf(const char *s, struct vf_bdf *out);

/* Canonical form "dddd:bb:dd.f", lower case. `buf` holds VF_BDF_LEN bytes. */
void vf_bdf_format(const struct vf_bdf *b, char buf[VF_BDF_LEN]);

/* True when `s` is exactly a canonical BDF (what sysfs names devices). */
bool vf_is_canonical_bdf(const char *s);

/* Same domain, bus and device: functions of one slot. */
bool vf_bdf_same_slot(const struct vf_bdf *a, const struct vf_bdf *b);

/*
 * True when `name` may become one path component: 1..255 bytes, no '/',
 * not "." or "..", no control characters.
 */
bool vf_name_is_safe(const char *name);

/*
 * The start time of a process (field 22 of /proc/PID/stat, clock ticks
 * since boot) from the text of that file. The command name (field 2) may
 * hold spaces and parentheses: fields are counted after its last ')'.
 * Returns 0 or -EINVAL.
 */
int vf_parse_proc_start(const char *text, uint64_t *start);

/* The state letter of the same text (field 3: R, S, D, Z, X, ...). Returns 0 or -EINVAL. */
int vf_parse_proc_state(const char *text, char *state);

/*
 * The four ids of the line starting with `key` ("Uid:" or "Gid:") in the
 * text of /proc/PID/status: real, effective, saved, filesystem. Returns 0
 * or -EINVAL (no such line, not four ids).
 */
int vf_parse_status_ids(const char *text, const char *key, uint32_t out[4]);

#endif
