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
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"
#include "util.h"

/*
 * Tests replace the kernel's driver core with an in-process model
 * (tests/unit/kmodel.c): when `hooks` is set, writes and module loads go
 * to it instead of the host.
 */
struct hostfs_hooks {
	int (*write)(void *ctx, const char *path, const char *value, struct vf_err *e);
	int (*modprobe)(void *ctx, const char *module, struct vf_err *e);
};

struct hostfs {
	int rootfd;
	char *root; /* as given, for messages */
	const struct hostfs_hooks *hooks;
	void *hook_ctx;
	bool live;  /* the root is the running host's own "/" */
};

int hostfs_init(struct hostfs *h, const char *root, struct vf_err *e);

/*
 * True when the root is this host's own "/" (the same directory, not a
 * name that looks like it): what acts on the live host rather than on a
 * --sysroot tree (cgroups, processes, modules, live injection, libvirt,
 * uevents) asks this, and refuses or stays off otherwise.
 */
bool hostfs_is_live(const struct hostfs *h);

/*
 * The explicit way to the live host, for what exists only there and never
 * under a --sysroot (this process's /proc/self/mountinfo, cgroupfs): reads
 * the whole file at absolute `path`, at most `max` bytes, NUL-terminated,
 * into a malloc'd buffer. Callers act on the live host only (they check
 * hostfs_is_live first, or have nothing to do under a sysroot).
 */
int hostfs_read_live(const char *path, size_t max, char **out, struct vf_err *e);

/*
 * Writes `value` in one write() to the existing file at absolute `path` on
 * the live host (a cgroupfs control file), never following a link at its
 * last component. e->errnum is the kernel's answer (ENOENT: no such file).
 */
int hostfs_write_live(const char *path, const char *value, struct vf_err *e);

/* Opens the directory at absolute `path` on the live host (O_NOFOLLOW at its last component). */
int hostfs_open_live_dir(const char *path, struct vf_err *e);
void hostfs_fini(struct hostfs *h);

/*
 * Writes `value` to the existing file `path` (a sysfs attribute) in one
 * write(), as sysfs wants. Never creates a file. The kernel's errno comes
 * back in the message ("sys/bus/pci/drivers_probe: write \"...\": ...").
 */
int hostfs_write(const struct hostfs *h, const char *path, const char *value,
		 struct vf_err *e);

/*
 * Writes `len` bytes at `offset` of the existing file `path` (a device's
 * config space). Tests' hooks do not see it: it lands in their tree.
 */
int hostfs_pwrite(const struct hostfs *h, const char *path, off_t offset, const void *buf,
		  size_t len, struct vf_err *e);

/* Loads a kernel module with modprobe; only on the real root. */
int hostfs_modprobe(const struct hostfs *h, const char *module, struct vf_err *e);

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

/* Reads up to `cap` raw bytes of `name` below `dirfd`. Returns the count
 * (== cap means the content may be longer). */
int hostfs_read_raw_at(int dirfd, const char *name, void *buf, size_t cap,
		       struct vf_err *e);

/*
 * stat of the file `path` under the root, links resolved inside the root;
 * the file is not opened (O_PATH), so a device node is stat'ed, not opened.
 */
int hostfs_stat(const struct hostfs *h, const char *path, struct stat *st, struct vf_err *e);

/*
 * stat of what the entry `name` below `dirfd` (a /proc/PID/fd directory)
 * stands for: the kernel follows the magic link to the open file itself,
 * whatever path it has in the holder's mount namespace, so st_mode and
 * st_rdev are the open file's. Nothing is opened. In a fixture tree, where
 * the entry is a plain symlink, its target is stat'ed as the kernel would
 * follow it (outside the root).
 */
int hostfs_stat_open_file_at(int dirfd, const char *name, struct stat *st, struct vf_err *e);

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

#endif
