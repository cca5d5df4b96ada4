// SPDX-License-Identifier: GPL-2.0-or-later
#include "hostfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "parse.h"
#include "util.h"

int hostfs_init(struct hostfs *h, const char *root, struct vf_err *e)
{
	h->hooks = NULL;
	h->hook_ctx = NULL;
	h->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->rootfd < 0)
		return vf_err_set(e, errno, "cannot open sysroot %s", root);
	h->root = vf_xstrdup(root);
	{
		struct stat r, slash;

		h->live = fstat(h->rootfd, &r) == 0 && stat("/", &slash) == 0 &&
			  r.st_dev == slash.st_dev && r.st_ino == slash.st_ino;
	}
	return 0;
}

bool hostfs_is_live(const struct hostfs *h)
{
	return h && h->rootfd >= 0 && h->live;
}

void hostfs_fini(struct hostfs *h)
{
	if (h->rootfd >= 0)
		close(h->rootfd);
	h->rootfd = -1;
	free(h->root);
	h->root = NULL;
}

static int open_in_root(const struct hostfs *h, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	while (*path == '/')
		path++;
	if (*path == '\0')
		path = ".";
	/* RESOLVE_IN_ROOT fails with EAGAIN when a rename anywhere races a ".."
	 * step (sysfs links are full of them): try again, a bounded number */
	for (int tries = 0; tries < 64; tries++) {
		fd = syscall(SYS_openat2, h->rootfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd < 0 ? -1 : (int)fd;
}

int hostfs_open(const struct hostfs *h, const char *path, int flags,
		struct vf_err *e)
{
	int fd = open_in_root(h, path, flags);

	if (fd < 0)
		return vf_err_set(e, errno, "%s", path);
	return fd;
}

static DIR *fdopendir_or_close(int fd, const char *what, struct vf_err *e)
{
	DIR *d = fdopendir(fd);

	if (!d) {
		vf_err_set(e, errno, "%s", what);
		close(fd);
	}
	return d;
}

DIR *hostfs_opendir(const struct hostfs *h, const char *path, struct vf_err *e)
{
	int fd = open_in_root(h, path, O_RDONLY | O_DIRECTORY);

	if (fd < 0) {
		vf_err_set(e, errno, "%s", path);
		return NULL;
	}
	return fdopendir_or_close(fd, path, e);
}

DIR *hostfs_opendir_at(int dirfd, const char *name, struct vf_err *e)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		vf_err_set(e, errno, "%s", name);
		return NULL;
	}
	return fdopendir_or_close(fd, name, e);
}

bool hostfs_exists(const struct hostfs *h, const char *path)
{
	int fd = open_in_root(h, path, O_PATH);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Reads from fd until EOF or `cap` bytes; returns the count or -errno. */
static ssize_t read_bounded(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The whole of `fd` (named `path` in messages), at most `max` bytes, NUL-terminated. */
static int read_fd_all(int fd, const char *path, size_t max, char **out, size_t *len,
		       struct vf_err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 4096, got = 0;

	buf = vf_xcalloc(1, cap + 1);
	for (;;) {
		ssize_t n = read_bounded(fd, buf + got, cap - got);

		if (n < 0)
			return vf_err_set(e, (int)-n, "%s", path);
		got += (size_t)n;
		if (got < cap)
			break;
		if (cap > max)
			return vf_err_set(e, E2BIG, "%s: larger than %zu bytes",
					  path, max);
		cap *= 2;
		buf = vf_xreallocarray(buf, cap + 1, 1);
	}
	if (got > max)
		return vf_err_set(e, E2BIG, "%s: larger than %zu bytes", path, max);
	buf[got] = '\0';
	*out = buf;
	buf = NULL;
	if (len)
		*len = got;
	return 0;
}

int hostfs_read_all(const struct hostfs *h, const char *path, size_t max,
		    char **out, size_t *len, struct vf_err *e)
{
	_cleanup_close_ int fd = open_in_root(h, path, O_RDONLY);

	if (fd < 0)
		return vf_err_set(e, errno, "%s", path);
	return read_fd_all(fd, path, max, out, len, e);
}

int hostfs_read_raw_at(int dirfd, const char *name, void *buf, size_t cap,
		       struct vf_err *e)
{
	_cleanup_close_ int fd =
		openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return vf_err_set(e, errno, "%s", name);
	n = read_bounded(fd, buf, cap);
	if (n < 0)
		return vf_err_set(e, (int)-n, "%s", name);
	return (int)n;
}

int hostfs_attr_at(int dirfd, const char *name, char *buf, size_t cap,
		   struct vf_err *e)
{
	int n;

	if (cap < 2)
		return vf_err_set(e, EINVAL, "%s: buffer too small", name);
	n = hostfs_read_raw_at(dirfd, name, buf, cap, e);
	if (n < 0)
		return n;
	if ((size_t)n >= cap)
		return vf_err_set(e, 0, "%s: value longer than %zu bytes", name,
				  cap - 1);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (memchr(buf, '\0', (size_t)n) || memchr(buf, '\n', (size_t)n))
		return vf_err_set(e, 0, "%s: not a single-line value", name);
	return n;
}

int hostfs_stat(const struct hostfs *h, const char *path, struct stat *st, struct vf_err *e)
{
	_cleanup_close_ int fd = open_in_root(h, path, O_PATH);

	if (fd < 0 || fstat(fd, st) < 0)
		return vf_err_set(e, errno, "%s", path);
	return 0;
}

int hostfs_stat_open_file_at(int dirfd, const char *name, struct stat *st, struct vf_err *e)
{
	if (fstatat(dirfd, name, st, 0) < 0)
		return vf_err_set(e, errno, "%s", name);
	return 0;
}

int hostfs_readlink_at(int dirfd, const char *name, char *buf, size_t cap,
		       struct vf_err *e)
{
	ssize_t n = readlinkat(dirfd, name, buf, cap);

	if (n < 0)
		return vf_err_set(e, errno, "%s", name);
	if ((size_t)n >= cap)
		return vf_err_set(e, ENAMETOOLONG, "%s", name);
	buf[n] = '\0';
	return (int)n;
}

int hostfs_link_name_at(int dirfd, const char *name, char *buf, size_t cap,
			struct vf_err *e)
{
	char target[4096];
	struct vf_err local = { 0 };
	const char *last;
	size_t len;

	if (!e)
		e = &local;
	if (hostfs_readlink_at(dirfd, name, target, sizeof(target), e) < 0) {
		if (e->errnum != ENOENT)
			return -EIO;
		vf_err_clear(e);
		return -ENOENT;
	}
	while ((len = strlen(target)) > 1 && target[len - 1] == '/')
		target[len - 1] = '\0';
	last = strrchr(target, '/');
	last = last ? last + 1 : target;
	if (!vf_name_is_safe(last)) {
		vf_err_set(e, 0, "%s: link target \"%s\" is not a name", name,
			   target);
		return -EINVAL;
	}
	if (vf_path(buf, cap, "%s", last) < 0) {
		vf_err_set(e, ENAMETOOLONG, "%s", name);
		return -ENAMETOOLONG;
	}
	return 0;
}

int hostfs_canonical(const struct hostfs *h, const char *path, char *buf,
		     size_t cap, struct vf_err *e)
{
	_cleanup_close_ int fd = open_in_root(h, path, O_PATH);
	char proc[64], full[4096], rootpath[4096];
	ssize_t n, rn;
	size_t rl;

	if (fd < 0)
		return vf_err_set(e, errno, "%s", path);
	/*
	 * The kernel knows where the fd landed; the process's own fd link
	 * says so. This is vfiod's /proc, not the sysroot's.
	 */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, full, sizeof(full) - 1);
	if (n < 0)
		return vf_err_set(e, errno, "%s: resolving", path);
	full[n] = '\0';
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", h->rootfd);
	rn = readlink(proc, rootpath, sizeof(rootpath) - 1);
	if (rn < 0)
		return vf_err_set(e, errno, "%s: resolving the root", path);
	rootpath[rn] = '\0';
	rl = strcmp(rootpath, "/") == 0 ? 0 : (size_t)rn;
	if (strncmp(full, rootpath, rl) != 0 || (full[rl] != '/' && full[rl]))
		return vf_err_set(e, EXDEV, "%s: resolved outside the root", path);
	if (vf_path(buf, cap, "%s", full[rl] ? full + rl : "/") < 0)
		return vf_err_set(e, ENAMETOOLONG, "%s", path);
	return 0;
}

int hostfs_write(const struct hostfs *h, const char *path, const char *value,
		 struct vf_err *e)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	ssize_t n;

	if (h->hooks && h->hooks->write)
		return h->hooks->write(h->hook_ctx, path, value, e);
	fd = open_in_root(h, path, O_WRONLY);
	if (fd < 0)
		return vf_err_set(e, errno, "%s: open for writing", path);
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return vf_err_set(e, errno, "%s: write \"%.*s\"", path,
				  (int)strcspn(value, "\n"), value);
	if ((size_t)n != len)
		return vf_err_set(e, EIO, "%s: short write", path);
	return 0;
}

int hostfs_modprobe(const struct hostfs *h, const char *module, struct vf_err *e)
{
	char cmd[512];
	int rc;

	if (h->hooks && h->hooks->modprobe)
		return h->hooks->modprobe(h->hook_ctx, module, e);
	if (!hostfs_is_live(h))
		return vf_err_set(e, 0, "cannot load %s under a sysroot (%s)", module, h->root);
	if (!vf_name_is_safe(module) || strspn(module, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(module))
		return vf_err_set(e, EINVAL, "refusing to load module \"%s\"", module);
	snprintf(cmd, sizeof(cmd), "modprobe -q -- %s", module);
	rc = system(cmd);
	if (rc != 0)
		return vf_err_set(e, 0, "modprobe %s failed (status %d)", module, rc);
	return 0;
}

int hostfs_pwrite(const struct hostfs *h, const char *path, off_t offset, const void *buf,
		  size_t len, struct vf_err *e)
{
	_cleanup_close_ int fd = open_in_root(h, path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return vf_err_set(e, errno, "%s: open for writing", path);
	do
		n = pwrite(fd, buf, len, offset);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return vf_err_set(e, errno, "%s: write at offset %lld", path, (long long)offset);
	if ((size_t)n != len)
		return vf_err_set(e, EIO, "%s: short write at offset %lld", path, (long long)offset);
	return 0;
}

int hostfs_read_live(const char *path, size_t max, char **out, struct vf_err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return vf_err_set(e, errno, "%s", path);
	return read_fd_all(fd, path, max, out, NULL, e);
}

int hostfs_write_live(const char *path, const char *value, struct vf_err *e)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = strlen(value);

	if (fd < 0)
		return vf_err_set(e, errno, "%s", path);
	if (write(fd, value, len) != (ssize_t)len)
		return vf_err_set(e, errno ? errno : EIO, "%s: write \"%s\"", path, value);
	return 0;
}

int hostfs_open_live_dir(const char *path, struct vf_err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	return fd < 0 ? vf_err_set(e, errno, "%s", path) : fd;
}
