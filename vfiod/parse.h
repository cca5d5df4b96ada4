/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The strict parsers, one per format: integers, PCI addresses, names that
 * will become path components, /proc/PID files, CPU lists, mount tables.
 * Everything that reads one of these from the host, a file or a client goes
 * through them. They take
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

/*
 * What an operator pastes: vf_parse_bdf's two forms, or libvirt's node
 * device name "pci_dddd_bb_dd_f" (virsh nodedev-list), exactly so, hex of
 * either case. Nothing else: no spaces, no prefixes, no trailing junk.
 * Returns 0 or -EINVAL (the output untouched).
 */
int vf_parse_bdf_loose(const char *s, struct vf_bdf *out);

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

/* ---- CPU lists: one parser and one formatter for the policy and sysfs ---- */

/* Bit `cpu` of a CPU mask (uint64_t words, CPU 0 in bit 0 of word 0). */
static inline bool vf_cpu_isset(const uint64_t *mask, size_t cpu)
{
	return (mask[cpu / 64] >> (cpu % 64)) & 1;
}

static inline void vf_cpu_set(uint64_t *mask, size_t cpu)
{
	mask[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

/* What was wrong with a CPU list, for a message naming it. */
struct vf_cpulist_err {
	enum {
		VF_CPULIST_EMPTY_ITEM = 1, /* a leading, trailing or doubled comma */
		VF_CPULIST_NOT_A_CPU,      /* an item that is neither N nor N-M */
		VF_CPULIST_OUT_OF_RANGE,   /* a CPU at or above nbits: cpu */
		VF_CPULIST_BACKWARDS,      /* N-M with N > M: lo, hi */
	} kind;
	size_t at, len;       /* the item within the text (blanks trimmed) */
	uint64_t cpu, lo, hi;
};

/* Blanks (spaces, tabs) around items are allowed (a policy file's). */
#define VF_CPULIST_BLANKS 1u

/*
 * "0-3,8,10-11" (sysfs's and the kernel's own CPU lists, "" for none, one
 * trailing newline ignored): comma-separated items, each N or N-M with
 * N <= M, every CPU below `nbits`. Sets their bits in `mask` (which it
 * does not clear first) and returns how many were not set yet; or -EINVAL
 * (malformed) or -ERANGE (a CPU too large), with `err` (may be NULL) saying
 * which item and why. Items are checked in order: empty, not a number
 * (which covers numbers past 2^64), out of range, backwards.
 */
int vf_parse_cpulist(const char *s, unsigned flags, uint64_t *mask, size_t nbits,
		     struct vf_cpulist_err *err);

/*
 * The set bits of `mask` below `nbits` as a CPU list, ranges joined
 * ("0-3,8"; "" when none). Returns its length, or -ENAMETOOLONG (buf then
 * holds "") when it does not fit in `cap`.
 */
int vf_format_cpulist(const uint64_t *mask, size_t nbits, char *buf, size_t cap);

/* ---- line tables: mountinfo and its escapes ---- */

/*
 * Calls fn for each non-empty line of a copy of `text` (the line without
 * its newline, writable). Stops at the first negative return and returns
 * it; otherwise the sum of the returns.
 */
int vf_for_each_line(const char *text, int (*fn)(char *line, void *arg), void *arg);

/*
 * Decodes the kernel's \ooo escapes (space, tab, newline and backslash in
 * mount tables) in place. A backslash not followed by three octal digits,
 * which the kernel never writes, stays as it is (as libmount does).
 */
void vf_unescape_octal(char *s);

/* One line of /proc/PID/mountinfo: pointers into the line, unescaped. */
struct vf_mountinfo {
	unsigned major, minor;
	char *root, *mountpoint, *fstype, *source, *superopts;
};

/*
 * Splits one mountinfo line in place: "id parent major:minor root
 * mountpoint options [optional...] - fstype source superopts" (fields
 * separated by blanks). Returns 0, or -EINVAL for a malformed line (too
 * few fields, no "-" separator where it must be, device numbers that are
 * not two decimal numbers).
 */
int vf_parse_mountinfo_line(char *line, struct vf_mountinfo *m);

/*
 * True when `name` is an item of the `sep`-separated list in list[0..len)
 * ("cpu,cpuacct" with ','; cgroup.controllers with ' '); trailing blanks
 * and newlines of an item are ignored.
 */
bool vf_list_has(const char *list, size_t len, const char *name, char sep);

/*
 * A task's cgroup from the text of /proc/PID/cgroup: with `controller`
 * NULL the cgroup v2 line ("0::/path"), else the v1 line whose controller
 * list names it ("4:cpu,cpuacct:/path"). Returns 0, -ENOENT (no such
 * line), -EINVAL (a malformed line, a path that is not absolute) or
 * -ENAMETOOLONG.
 */
int vf_parse_proc_cgroup(const char *text, const char *controller, char *path, size_t cap);

#endif
