// SPDX-License-Identifier: GPL-2.0-or-later
#include "hostcrit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_MAX (16u << 20)  /* a mount table of 16 MiB is already absurd */
#define LOWER_DEPTH_MAX 8      /* dm on md on dm ...; bond of vlans ... */

/* Splits `line` (modified) into at most `max` space-separated fields. */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t", &save); t && n < max;
	     t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	return n;
}

struct mount_arg {
	hostcrit_mount_cb cb;
	void *ctx;
};

static int mountinfo_line(char *line, void *arg)
{
	struct mount_arg *a = arg;
	struct vf_mountinfo m;

	if (vf_parse_mountinfo_line(line, &m) < 0)
		return -EINVAL;
	a->cb(a->ctx, m.major, m.minor, m.fstype, m.source, m.mountpoint);
	return 1;
}

int hostcrit_parse_mountinfo(const char *buf, hostcrit_mount_cb cb, void *ctx)
{
	struct mount_arg a = { cb, ctx };

	return vf_for_each_line(buf, mountinfo_line, &a);
}

struct name_arg {
	hostcrit_name_cb cb;
	void *ctx;
	bool header_seen;
};

static int swaps_line(char *line, void *arg)
{
	struct name_arg *a = arg;
	char *f[8];
	size_t n = split_fields(line, f, VF_ARRAY_SIZE(f));

	/* Filename Type Size Used Priority */
	if (!a->header_seen) {
		a->header_seen = true;
		return n && strcmp(f[0], "Filename") == 0 ? 0 : -EINVAL;
	}
	if (n < 5)
		return -EINVAL;
	if (strcmp(f[1], "partition") != 0)
		return 0; /* a swap file lives on a filesystem already counted */
	vf_unescape_octal(f[0]);
	a->cb(a->ctx, f[0]);
	return 1;
}

int hostcrit_parse_swaps(const char *buf, hostcrit_name_cb cb, void *ctx)
{
	struct name_arg a = { cb, ctx, false };

	return vf_for_each_line(buf, swaps_line, &a);
}

#define RTF_UP 0x0001
#define RTF_REJECT 0x0200

static int route_line(char *line, void *arg)
{
	struct name_arg *a = arg;
	char *f[16];
	size_t n = split_fields(line, f, VF_ARRAY_SIZE(f));
	uint64_t dest, flags, mask;

	/* Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT */
	if (!a->header_seen) {
		a->header_seen = true;
		return n && strcmp(f[0], "Iface") == 0 ? 0 : -EINVAL;
	}
	if (n < 8)
		return -EINVAL;
	if (vf_parse_u64(f[1], 16, UINT32_MAX, &dest) < 0 ||
	    vf_parse_u64(f[3], 16, UINT32_MAX, &flags) < 0 ||
	    vf_parse_u64(f[7], 16, UINT32_MAX, &mask) < 0)
		return -EINVAL;
	if (dest || mask || !(flags & RTF_UP) || (flags & RTF_REJECT))
		return 0;
	a->cb(a->ctx, f[0]);
	return 1;
}

int hostcrit_parse_route(const char *buf, hostcrit_name_cb cb, void *ctx)
{
	struct name_arg a = { cb, ctx, false };

	return vf_for_each_line(buf, route_line, &a);
}

static int ipv6_route_line(char *line, void *arg)
{
	struct name_arg *a = arg;
	char *f[16];
	size_t n = split_fields(line, f, VF_ARRAY_SIZE(f));
	uint64_t plen, flags;

	/* dest plen src splen nexthop metric refcnt use flags iface */
	if (n < 10 || strlen(f[0]) != 32)
		return -EINVAL;
	if (vf_parse_u64(f[1], 16, 128, &plen) < 0 ||
	    vf_parse_u64(f[8], 16, UINT32_MAX, &flags) < 0)
		return -EINVAL;
	if (strspn(f[0], "0") != 32 || plen != 0 || !(flags & RTF_UP) ||
	    (flags & RTF_REJECT) || strcmp(f[9], "lo") == 0)
		return 0;
	a->cb(a->ctx, f[9]);
	return 1;
}

int hostcrit_parse_ipv6_route(const char *buf, hostcrit_name_cb cb, void *ctx)
{
	struct name_arg a = { cb, ctx, true };

	return vf_for_each_line(buf, ipv6_route_line, &a);
}

/* ---- mapping to PCI devices ---------------------------------------- */

struct collect {
	const struct hostfs *h;
	struct host_critical_set *set;
};

static void add(struct host_critical_set *s, const char *bdf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add(struct host_critical_set *s, const char *bdf, const char *fmt, ...)
{
	va_list ap;
	struct host_critical *c;

	if (hostcrit_find(s, bdf))
		return; /* the first reason found is enough to refuse */
	s->v = vf_xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	c = &s->v[s->n++];
	memcpy(c->bdf, bdf, VF_BDF_LEN);
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/*
 * Finds the PCI devices under the sysfs object `path` (a block or net
 * class entry): its own PCI ancestor, or those of its lower devices
 * (`lower_dir` = "slaves" for block, NULL for net which uses lower_*).
 */
static void pci_under(struct collect *c, const char *path, bool block,
		      int depth, void (*found)(struct collect *, const char *, void *),
		      void *arg)
{
	char canon[1024], sub[1200], bdf[VF_BDF_LEN];
	_cleanup_closedir_ DIR *dir = NULL;
	struct vf_err e = { 0 };
	struct dirent *de;

	if (depth > LOWER_DEPTH_MAX ||
	    hostfs_canonical(c->h, path, canon, sizeof(canon), &e) < 0)
		return;
	if (pci_bdf_of_syspath(canon, bdf)) {
		found(c, bdf, arg);
		return;
	}
	if (vf_path(sub, sizeof(sub), "%s%s", canon, block ? "/slaves" : "") < 0)
		return;
	dir = hostfs_opendir(c->h, sub, &e);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		const char *name = de->d_name;
		char next[512];

		if (!block) {
			if (strncmp(name, "lower_", 6) != 0)
				continue;
			name += 6;
		}
		if (!vf_name_is_safe(name) ||
		    vf_path(next, sizeof(next), "sys/class/%s/%s",
			    block ? "block" : "net", name) < 0)
			continue;
		pci_under(c, next, block, depth + 1, found, arg);
	}
}

static void found_mount(struct collect *c, const char *bdf, void *arg)
{
	add(c->set, bdf, "backs the filesystem mounted at %s", (const char *)arg);
}

static void found_swap(struct collect *c, const char *bdf, void *arg)
{
	add(c->set, bdf, "backs the active swap area %s", (const char *)arg);
}

static void found_route(struct collect *c, const char *bdf, void *arg)
{
	add(c->set, bdf, "carries the host's default route (interface %s)",
	    (const char *)arg);
}

/* "/dev/x" resolved inside the root to its block device name. */
static bool block_name_of_dev(struct collect *c, const char *dev, char *name,
			      size_t cap)
{
	char canon[1024];
	struct vf_err e = { 0 };
	const char *base;

	if (strncmp(dev, "/dev/", 5) != 0 ||
	    hostfs_canonical(c->h, dev, canon, sizeof(canon), &e) < 0) {
		if (strncmp(dev, "/dev/", 5) != 0)
			return false;
		/* no such node in the root: fall back to the name itself */
		snprintf(canon, sizeof(canon), "%s", dev);
	}
	base = strrchr(canon, '/') + 1;
	if (!vf_name_is_safe(base))
		return false;
	return vf_path(name, cap, "%s", base) >= 0;
}

/*
 * A 9p filesystem names its virtio transport by tag: the PCI device is the
 * parent of the virtio device whose mount_tag matches.
 */
static void virtio_9p_mount(struct collect *c, const char *tag, const char *mountpoint)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct vf_err e = { 0 };
	struct dirent *de;

	dir = hostfs_opendir(c->h, "sys/bus/virtio/devices", &e);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char path[512], mt[256];
		_cleanup_close_ int fd = -1;
		int n;

		if (!vf_name_is_safe(de->d_name) || de->d_name[0] == '.' ||
		    vf_path(path, sizeof(path), "sys/bus/virtio/devices/%s", de->d_name) < 0)
			continue;
		fd = hostfs_open(c->h, path, O_RDONLY | O_DIRECTORY, &e);
		if (fd < 0)
			continue;
		/* the kernel pads mount_tag with NULs */
		n = hostfs_read_raw_at(fd, "mount_tag", mt, sizeof(mt) - 1, &e);
		if (n < 0)
			continue;
		mt[n] = '\0';
		mt[strcspn(mt, "\n")] = '\0';
		if (strcmp(mt, tag) == 0)
			pci_under(c, path, true, 0, found_mount, (void *)mountpoint);
	}
}

/* Filesystems on block devices that no sysfs link leads back from. */
static bool unmappable_block_fs(const char *fstype)
{
	return strcmp(fstype, "zfs") == 0;
}

static void on_mount(void *ctx, unsigned major, unsigned minor, const char *fstype,
		     const char *source, const char *mountpoint)
{
	struct collect *c = ctx;
	char path[512], name[256];

	if (major != 0) {
		vf_path(path, sizeof(path), "sys/dev/block/%u:%u", major, minor);
	} else if (strcmp(fstype, "9p") == 0) {
		virtio_9p_mount(c, source, mountpoint);
		return;
	} else if (unmappable_block_fs(fstype)) {
		/* fail closed: the pool's disks are somewhere */
		if (!c->set->storage_unknown[0])
			snprintf(c->set->storage_unknown, sizeof(c->set->storage_unknown),
				 "%s is mounted from %s pool %s, whose disks cannot be traced",
				 mountpoint, fstype, source);
		return;
	} else if (block_name_of_dev(c, source, name, sizeof(name))) {
		/* btrfs and friends report an anonymous device number */
		if (vf_path(path, sizeof(path), "sys/class/block/%s", name) < 0)
			return;
	} else {
		return;
	}
	pci_under(c, path, true, 0, found_mount, (void *)mountpoint);
}

static void on_swap(void *ctx, const char *dev)
{
	struct collect *c = ctx;
	char path[512], name[256];

	if (!block_name_of_dev(c, dev, name, sizeof(name)) ||
	    vf_path(path, sizeof(path), "sys/class/block/%s", name) < 0)
		return;
	pci_under(c, path, true, 0, found_swap, (void *)dev);
}

static void on_route(void *ctx, const char *iface)
{
	struct collect *c = ctx;
	char path[512];

	if (!vf_name_is_safe(iface) ||
	    vf_path(path, sizeof(path), "sys/class/net/%s", iface) < 0)
		return;
	pci_under(c, path, false, 0, found_route, (void *)iface);
}

static int run_mountinfo(struct collect *c, const char *buf)
{
	return hostcrit_parse_mountinfo(buf, on_mount, c);
}

static int run_swaps(struct collect *c, const char *buf)
{
	return hostcrit_parse_swaps(buf, on_swap, c);
}

static int run_route(struct collect *c, const char *buf)
{
	return hostcrit_parse_route(buf, on_route, c);
}

static int run_ipv6_route(struct collect *c, const char *buf)
{
	return hostcrit_parse_ipv6_route(buf, on_route, c);
}

/* Reads and parses one table; returns false (with `why` set) when it cannot. */
static bool table(struct collect *c, const char *path, bool optional,
		  int (*run)(struct collect *, const char *), char *why,
		  size_t cap)
{
	_cleanup_free_ char *buf = NULL;
	struct vf_err e = { 0 };

	if (hostfs_read_all(c->h, path, TABLE_MAX, &buf, NULL, &e) < 0) {
		if (optional && e.errnum == ENOENT)
			return true;
		snprintf(why, cap, "cannot read %s", e.msg);
		return false;
	}
	if (run(c, buf) < 0) {
		snprintf(why, cap, "cannot parse %s", path);
		return false;
	}
	return true;
}

void hostcrit_collect(const struct hostfs *h, struct host_critical_set *out)
{
	struct collect c = { h, out };
	char *s = out->storage_unknown, *n = out->network_unknown;
	size_t sc = sizeof(out->storage_unknown), nc = sizeof(out->network_unknown);

	memset(out, 0, sizeof(*out));
	if (table(&c, "proc/self/mountinfo", false, run_mountinfo, s, sc))
		table(&c, "proc/swaps", true, run_swaps, s, sc);
	if (table(&c, "proc/net/route", true, run_route, n, nc))
		table(&c, "proc/net/ipv6_route", true, run_ipv6_route, n, nc);
}

void hostcrit_free(struct host_critical_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

const struct host_critical *hostcrit_find(const struct host_critical_set *s,
					  const char *bdf)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].bdf, bdf) == 0)
			return &s->v[i];
	return NULL;
}
