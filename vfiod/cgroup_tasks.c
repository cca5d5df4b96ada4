// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which tasks do what, read from /proc through hostfs: a task's stat line,
 * the IRQ threads of a device's vectors, the processes holding a device
 * node open (cgroup.h declares them; cgroup_int.h says how the module is
 * split).
 */
#include "cgroup_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "irqmon.h"
#include "util.h"

static int parse_ull(const char *s, unsigned long long *out)
{
	uint64_t v;

	if (vf_parse_u64(s, 10, UINT64_MAX, &v) < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int devcg_parse_stat(const char *line, struct devcg_stat *st)
{
	/* fields 3..41 after the comm: state is [0], policy [38] */
	enum { F_STATE = 0, F_FLAGS = 6, F_UTIME = 11, F_STIME = 12, F_NICE = 16,
	       F_START = 19, F_RTPRIO = 37, F_POLICY = 38, F_NEED = 39 };
	const char *open, *close;
	char *copy, *tok, *save = NULL;
	char pidbuf[16];
	unsigned long long v[F_NEED];
	const char *f[F_NEED];
	size_t n = 0, len;
	int64_t pid, nice;
	int rc = -EINVAL;

	memset(st, 0, sizeof(*st));
	open = strchr(line, '(');
	close = strrchr(line, ')');
	if (!open || !close || close < open || open == line || open[-1] != ' ')
		return -EINVAL;
	len = (size_t)(open - line - 1);
	if (len == 0 || len >= sizeof(pidbuf))
		return -EINVAL;
	memcpy(pidbuf, line, len);
	pidbuf[len] = '\0';
	if (vf_parse_i64(pidbuf, 1, INT32_MAX, &pid) < 0)
		return -EINVAL;
	len = (size_t)(close - open - 1);
	if (len >= sizeof(st->comm))
		len = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, len);
	st->comm[len] = '\0';
	if (close[1] != ' ')
		return -EINVAL;
	copy = vf_xstrdup(close + 2);
	len = strlen(copy);
	if (len && copy[len - 1] == '\n')
		copy[--len] = '\0';
	if (strstr(copy, "  ") || copy[0] == ' ' || (len && copy[len - 1] == ' '))
		goto out;
	for (tok = strtok_r(copy, " ", &save); tok && n < F_NEED; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < F_NEED || strlen(f[F_STATE]) != 1 || !isalpha((unsigned char)f[F_STATE][0]))
		goto out;
	/* every field is a number (a shifted line is junk); the ones used are unsigned */
	for (size_t i = 1; i < F_NEED; i++) {
		int64_t any;

		if (vf_parse_i64(f[i], INT64_MIN, INT64_MAX, &any) < 0 && parse_ull(f[i], &v[i]) < 0)
			goto out;
	}
	if (parse_ull(f[F_FLAGS], &v[F_FLAGS]) < 0 || parse_ull(f[F_UTIME], &v[F_UTIME]) < 0 ||
	    parse_ull(f[F_STIME], &v[F_STIME]) < 0 || parse_ull(f[F_START], &v[F_START]) < 0 ||
	    parse_ull(f[F_RTPRIO], &v[F_RTPRIO]) < 0 || parse_ull(f[F_POLICY], &v[F_POLICY]) < 0 ||
	    vf_parse_i64(f[F_NICE], -20, 19, &nice) < 0)
		goto out;
	st->pid = (pid_t)pid;
	st->state = f[F_STATE][0];
	st->flags = (unsigned long)v[F_FLAGS];
	st->utime = v[F_UTIME];
	st->stime = v[F_STIME];
	st->nice = (long)nice;
	st->starttime = v[F_START];
	if (v[F_RTPRIO] > 99 || v[F_POLICY] > 16)
		goto out;
	st->rt_priority = (unsigned)v[F_RTPRIO];
	st->policy = (unsigned)v[F_POLICY];
	rc = 0;
out:
	free(copy);
	return rc;
}

bool devcg_is_vfio_irq_thread(const char *comm, unsigned vector)
{
	static const char action[] = "vfio";
	char want[24];
	const char *rest;
	int n;

	if (!irqmon_is_irq_thread(comm, vector))
		return false;
	n = snprintf(want, sizeof(want), "irq/%u-", vector);
	rest = comm + n;
	if (strncmp(rest, "s-", 2) == 0)
		rest += 2;
	if (strncmp(rest, action, sizeof(action) - 1) == 0)
		return true;
	/* cut at 15 characters (TASK_COMM_LEN) by an older kernel */
	return strlen(comm) == 15 && strlen(rest) < sizeof(action) - 1 &&
	       strncmp(action, rest, strlen(rest)) == 0;
}

bool devcg_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int cmp_task(const void *a, const void *b)
{
	const struct devcg_task *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Reads "<dir>/stat" below dirfd into st. */
int devcg_read_stat_at(int dirfd, const char *dir, struct devcg_stat *st)
{
	char path[64], buf[2048];
	int n;

	if (vf_path(path, sizeof(path), "%s/stat", dir) < 0)
		return -ENAMETOOLONG;
	n = hostfs_read_raw_at(dirfd, path, buf, sizeof(buf) - 1, NULL);
	if (n <= 0 || n >= (int)sizeof(buf) - 1)
		return -EINVAL;
	buf[n] = '\0';
	return devcg_parse_stat(buf, st);
}

int devcg_find_irq_threads(const struct hostfs *h, const unsigned *vectors, size_t n,
			   struct devcg_task **out, size_t *nout, struct vf_err *e)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct devcg_task *v = NULL;
	size_t nv = 0;
	struct dirent *de;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	d = hostfs_opendir(h, "proc", e);
	if (!d)
		return vf_err_wrap(e, "listing IRQ threads");
	while ((de = readdir(d))) {
		char path[64], comm[256];
		struct devcg_stat st;
		size_t i;

		if (!devcg_all_digits(de->d_name) ||
		    vf_path(path, sizeof(path), "%s/comm", de->d_name) < 0 ||
		    hostfs_attr_at(dirfd(d), path, comm, sizeof(comm), NULL) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (devcg_is_vfio_irq_thread(comm, vectors[i]))
				break;
		if (i == n)
			continue;
		/* a user process may call itself so: kernel threads only */
		if (devcg_read_stat_at(dirfd(d), de->d_name, &st) < 0 || !devcg_stat_is_kthread(&st))
			continue;
		v = vf_xreallocarray(v, nv + 1, sizeof(*v));
		v[nv].tid = st.pid;
		v[nv].vector = vectors[i];
		v[nv].st = st;
		nv++;
	}
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_task);
	*out = v;
	*nout = nv;
	return 0;
}

/* Link texts of open files that are no device node: not worth a stat. */
static bool surely_not_a_node(const char *link)
{
	static const char *const kinds[] = { "socket:", "pipe:", "anon_inode:" };

	for (size_t i = 0; i < VF_ARRAY_SIZE(kinds); i++)
		if (strncmp(link, kinds[i], strlen(kinds[i])) == 0)
			return true;
	return false;
}

int devcg_fdinfo_flags(const char *buf, size_t len, uint64_t *flags)
{
	const char *end = buf + len;

	for (const char *line = buf; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = (size_t)((nl ? nl : end) - line);
		char val[32];
		size_t k = strlen("flags:");

		if (n > k && memcmp(line, "flags:", k) == 0) {
			while (k < n && (line[k] == '\t' || line[k] == ' '))
				k++;
			if (n - k == 0 || n - k >= sizeof(val))
				return -1;
			memcpy(val, line + k, n - k);
			val[n - k] = '\0';
			return vf_parse_u64(val, 8, UINT64_MAX, flags);
		}
		line += n + 1;
	}
	return -1;
}

/*
 * The fd `fd` of process `pid` is open on the device node: its fdinfo can
 * be read and says it is no O_PATH fd (one anybody may take on a node he
 * may not open, which holds nothing).
 */
static bool opened_for_real(int procfd, const char *pid, const char *fd)
{
	char path[64], buf[1024];
	uint64_t flags;
	int n;

	if (vf_path(path, sizeof(path), "%s/fdinfo/%s", pid, fd) < 0)
		return false;
	n = hostfs_read_raw_at(procfd, path, buf, sizeof(buf) - 1, NULL);
	if (n < 0)
		return false; /* closed meanwhile */
	return devcg_fdinfo_flags(buf, (size_t)n, &flags) == 0 && !(flags & O_PATH);
}

int devcg_find_node_holders(const struct hostfs *h, const char *node, pid_t self, pid_t **out,
			    size_t *nout, struct vf_err *e)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct stat want;
	pid_t *v = NULL;
	size_t nv = 0;
	struct dirent *de;

	*out = NULL;
	*nout = 0;
	if (hostfs_stat(h, node, &want, e) < 0)
		return vf_err_wrap(e, "listing holders of /%s", node);
	if (!S_ISCHR(want.st_mode))
		return vf_err_set(e, 0, "listing holders of /%s: not a character device", node);
	d = hostfs_opendir(h, "proc", e);
	if (!d)
		return vf_err_wrap(e, "listing holders of /%s", node);
	while ((de = readdir(d))) {
		_cleanup_closedir_ DIR *fds = NULL;
		struct dirent *fe;
		char path[64];
		int64_t pid;

		if (!devcg_all_digits(de->d_name) || vf_parse_i64(de->d_name, 1, INT32_MAX, &pid) < 0 ||
		    (pid_t)pid == self || vf_path(path, sizeof(path), "%s/fd", de->d_name) < 0)
			continue;
		fds = hostfs_opendir_at(dirfd(d), path, NULL);
		if (!fds)
			continue; /* gone, or a kernel thread's that cannot be read */
		while ((fe = readdir(fds))) {
			char link[PATH_MAX];
			struct stat st;

			/*
			 * The open file, not the link's text: in its own mount
			 * namespace a process may open any file at
			 * /dev/vfio/<group>, and the node may have any path
			 * there. A node is the device when it is a character
			 * device with the host node's number.
			 */
			if (fe->d_name[0] == '.' ||
			    hostfs_readlink_at(dirfd(fds), fe->d_name, link, sizeof(link), NULL) < 0 ||
			    surely_not_a_node(link) ||
			    hostfs_stat_open_file_at(dirfd(fds), fe->d_name, &st, NULL) < 0 ||
			    !S_ISCHR(st.st_mode) || st.st_rdev != want.st_rdev ||
			    !opened_for_real(dirfd(d), de->d_name, fe->d_name))
				continue;
			v = vf_xreallocarray(v, nv + 1, sizeof(*v));
			v[nv++] = (pid_t)pid;
			break;
		}
	}
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_pid);
	*out = v;
	*nout = nv;
	return 0;
}

int devcg_find_holders(const struct hostfs *h, int group, pid_t self, pid_t **out,
		       size_t *nout, struct vf_err *e)
{
	char node[64];

	*out = NULL;
	*nout = 0;
	if (group < 0)
		return vf_err_set(e, EINVAL, "IOMMU group %d", group);
	vf_path(node, sizeof(node), "dev/vfio/%d", group);
	return devcg_find_node_holders(h, node, self, out, nout, e);
}
