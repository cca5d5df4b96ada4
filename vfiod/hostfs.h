/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one host-access layer. Every /sys, /proc, /dev, /lib/modules access
 * of vfiod goes through a `struct hostfs` rooted at --sysroot (default "/").
 * Paths given to it are relative to that root ("sys/bus/pci/devices").
 *
 * Resolution uses openat2(RESOLVE_IN_ROOT): symlinks inside a captured tree
 * (absolute or with "..") resolve inside the root and can never escape it,
 * so a fixture tree or a hostile sysfs link cannot make vfiod read outside.
 * Attribute reads relative to an opened directory use O_NOFOLLOW on the last
 * component. Reads are bounded.
 */
#ifndef VFIOD_HOSTFS_H
#define VFIOD_HOSTFS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct hostfs {
	int rootfd;
	char *root; /* as given, for messages */
};

int hostfs_init(struct hostfs *h, const char *root, struct vf_err *e);
void hostfs_fini(struct hostfs *h);

/* Opens `path` (relative to the root) with `flags`; returns an fd or <0. */
int hostfs_open(const struct hostfs *h, const char *path, int flags,
		struct vf_err *e);

/* Opens a directory stream on `path` under the root. */
DIR *hostfs_opendir(const struct hostfs *h, const char *path, struct vf_err *e);

/* Opens a directory stream on `name` below the directory fd `dirfd`. */
DIR *hostfs_opendir_at(int dirfd, const char *name, struct vf_err *e);

/* True when `path` exists under the root (following links inside it). */
bool hostfs_exists(const struct hostfs *h, const char *path);

/*
 * Reads the whole file `path` under the root, at most `max` bytes, into a
 * NUL-terminated malloc'd buffer. A longer file is an error (E2BIG).
 */
int hostfs_read_all(const struct hostfs *h, const char *path, size_t max,
		    char **out, size_t *len, struct vf_err *e);

/*
 * Reads the sysfs attribute `name` of the directory `dirfd` (no symlink
 * followed) into `buf`, dropping one trailing newline. Content that does not
 * fit, or holds a NUL or a second line, is an error: sysfs attributes are one
 * value. Returns the length or <0.
 */
int hostfs_attr_at(int dirfd, const char *name, char *buf, size_t cap,
		   struct vf_err *e);

/* Reads up to cap-1 raw bytes of `name` below `dirfd`. Returns the count. */
int hostfs_read_raw_at(int dirfd, const char *name, void *buf, size_t cap,
		       struct vf_err *e);

/* readlink of `name` below `dirfd`, NUL-terminated. Returns the length. */
int hostfs_readlink_at(int dirfd, const char *name, char *buf, size_t cap,
		       struct vf_err *e);

/*
 * The link `name` below `dirfd` names something by its last component (a
 * driver, an IOMMU group, a PF): returns that component, checked with
 * vf_name_is_safe(). Returns 0, -ENOENT when there is no link, <0 otherwise.
 */
int hostfs_link_name_at(int dirfd, const char *name, char *buf, size_t cap,
			struct vf_err *e);

/*
 * Canonical path of `path` once every link is resolved inside the root,
 * written as an absolute path within the root ("/sys/devices/pci0000:00/...").
 */
int hostfs_canonical(const struct hostfs *h, const char *path, char *buf,
		     size_t cap, struct vf_err *e);

/* snprintf into a path buffer; -ENAMETOOLONG instead of truncating. */
int vf_path(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
