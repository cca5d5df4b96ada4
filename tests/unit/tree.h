/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for unit tests that build a small sysroot tree in a mkdtemp
 * directory: files, directories and symlinks named relative to the root.
 * Every helper asserts (through cmocka) that the operation worked.
 */
#ifndef VFIOD_TEST_TREE_H
#define VFIOD_TEST_TREE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct tree {
	char root[PATH_MAX];
};

static inline void tree_init(struct tree *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/vfiod-unit-XXXXXX");
	assert_non_null(mkdtemp(t->root));
}

static inline int tree_rm_one(const char *path, const struct stat *st, int type,
			      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static inline void tree_destroy(struct tree *t)
{
	if (t->root[0])
		assert_int_equal(nftw(t->root, tree_rm_one, 32, FTW_DEPTH | FTW_PHYS), 0);
	t->root[0] = '\0';
}

static inline void tree_abs(const struct tree *t, const char *rel, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%s", t->root, rel);

	assert_true(n > 0 && (size_t)n < cap);
}

/* mkdir -p of `rel` below the root. */
static inline void tree_mkdir(const struct tree *t, const char *rel)
{
	char path[PATH_MAX];

	tree_abs(t, rel, path, sizeof(path));
	for (char *p = path + strlen(t->root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

/* Creates the parent directories of `rel`. */
static inline void tree_mkparent(const struct tree *t, const char *rel)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	tree_mkdir(t, dir);
}

/* Writes `len` bytes of `data` to `rel`, creating parents. */
static inline void tree_write_n(const struct tree *t, const char *rel, const void *data,
				size_t len)
{
	char path[PATH_MAX];
	int fd;

	tree_mkparent(t, rel);
	tree_abs(t, rel, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static inline void tree_write(const struct tree *t, const char *rel, const char *text)
{
	tree_write_n(t, rel, text, strlen(text));
}

/* Creates the symlink `rel` -> `target` (target stored verbatim), creating parents. */
static inline void tree_link(const struct tree *t, const char *rel, const char *target)
{
	char path[PATH_MAX];

	tree_mkparent(t, rel);
	tree_abs(t, rel, path, sizeof(path));
	assert_int_equal(symlink(target, path), 0);
}

#endif
