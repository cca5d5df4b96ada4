// SPDX-License-Identifier: GPL-2.0-or-later
#include "cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libcgroup.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "irqmon.h"
#include "log.h"
#include "util.h"

#define MASK_WORDS (DEVCG_CPU_MAX / 64)

struct devcg_origin {
	pid_t tid;
	char *path; /* cgroup on our hierarchy before vfiod moved it ("/" ...) */
};

struct devcg_saved_sched {
	pid_t tid;
	unsigned long long starttime;
	unsigned policy;
	unsigned rt_priority;
	long nice;
};

struct devcg_saved_affinity {
	unsigned irq;
	char *list;
};

const char *devcg_hier_name(enum devcg_hier h)
{
	switch (h) {
	case DEVCG_HIER_V1:
		return "v1";
	case DEVCG_HIER_V2:
		return "v2";
	default:
		return "none";
	}
}

const char *devcg_how_name(enum devcg_how how)
{
	switch (how) {
	case DEVCG_MOVED_DEMOTED:
		return "moved+demoted";
	case DEVCG_DEMOTED_ONLY:
		return "demoted-only";
	default:
		return "failed";
	}
}

/* ---- pure helpers ---- */

int devcg_quota_us(unsigned pct, uint64_t *quota)
{
	if (pct == 0 || pct > POLICY_CAP_MAX)
		return -EINVAL;
	*quota = (uint64_t)pct * DEVCG_PERIOD_US / 100;
	return 0;
}

int devcg_cpu_max(unsigned pct, char *buf, size_t cap)
{
	uint64_t q;

	if (devcg_quota_us(pct, &q) < 0)
		return -EINVAL;
	return vf_path(buf, cap, "%" PRIu64 " %u", q, DEVCG_PERIOD_US);
}

int devcg_cfs_values(unsigned pct, char *quota, size_t qcap, char *period, size_t pcap)
{
	uint64_t q;

	if (devcg_quota_us(pct, &q) < 0)
		return -EINVAL;
	if (vf_path(quota, qcap, "%" PRIu64, q) < 0 ||
	    vf_path(period, pcap, "%u", DEVCG_PERIOD_US) < 0)
		return -ENAMETOOLONG;
	return 0;
}

int devcg_name(const char *bdf, const char *leaf, char *buf, size_t cap)
{
	char dev[VF_BDF_LEN];

	if (!bdf || !vf_is_canonical_bdf(bdf) || (leaf && !vf_name_is_safe(leaf)))
		return -EINVAL;
	memcpy(dev, bdf, VF_BDF_LEN);
	for (char *p = dev; *p; p++)
		if (*p == ':')
			*p = '_';
	if (leaf)
		return vf_path(buf, cap, DEVCG_SLICE "/%s/%s", dev, leaf);
	return vf_path(buf, cap, DEVCG_SLICE "/%s", dev);
}

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

/* True when the blank-separated `list` (cgroup.controllers, a command line) has `name`. */
bool devcg_list_has(const char *list, const char *name)
{
	char buf[4096];
	char *tok, *save = NULL;

	if (!list || !*name || snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return false;
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
		if (strcmp(tok, name) == 0)
			return true;
	return false;
}

int devcg_parse_mountinfo_line(const char *line, struct devcg_mount *m)
{
	char *copy = vf_xstrdup(line);
	struct vf_mountinfo mi;
	int rc = -EINVAL;

	memset(m, 0, sizeof(*m));
	if (vf_parse_mountinfo_line(copy, &mi) < 0)
		goto out;
	if (strcmp(mi.fstype, "cgroup2") == 0) {
		m->hier = DEVCG_HIER_V2;
	} else if (strcmp(mi.fstype, "cgroup") == 0) {
		m->hier = DEVCG_HIER_V1;
		m->v1_cpu = vf_list_has(mi.superopts, strlen(mi.superopts), "cpu", ',');
	} else {
		rc = 0;
		goto out;
	}
	if (mi.mountpoint[0] != '/' ||
	    snprintf(m->path, sizeof(m->path), "%s", mi.mountpoint) >= (int)sizeof(m->path) ||
	    snprintf(m->root, sizeof(m->root), "%s", mi.root) >= (int)sizeof(m->root)) {
		memset(m, 0, sizeof(*m));
		goto out;
	}
	rc = 1;
out:
	free(copy);
	return rc;
}

int devcg_scan_mountinfo(const char *text, struct devcg_mount *v2, struct devcg_mount *v1cpu)
{
	struct devcg_mount *m = vf_xcalloc(1, sizeof(*m));
	int found = 0;

	memset(v2, 0, sizeof(*v2));
	memset(v1cpu, 0, sizeof(*v1cpu));
	for (const char *p = text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *line;
		int r;

		if (len == 0) {
			p = end ? end + 1 : NULL;
			continue;
		}
		line = vf_xcalloc(1, len + 1);
		memcpy(line, p, len);
		r = devcg_parse_mountinfo_line(line, m);
		free(line);
		if (r < 0) {
			free(m);
			return -EINVAL;
		}
		if (r == 1 && m->hier == DEVCG_HIER_V2 && !(found & 1)) {
			*v2 = *m;
			found |= 1;
		} else if (r == 1 && m->hier == DEVCG_HIER_V1 && m->v1_cpu && !(found & 2)) {
			*v1cpu = *m;
			found |= 2;
		}
		p = end ? end + 1 : NULL;
	}
	free(m);
	return found;
}

int devcg_parse_proc_cgroup(const char *text, enum devcg_hier hier, char *path, size_t cap)
{
	if (hier != DEVCG_HIER_V1 && hier != DEVCG_HIER_V2)
		return -ENOENT;
	return vf_parse_proc_cgroup(text, hier == DEVCG_HIER_V2 ? NULL : "cpu", path, cap);
}

/* ---- discovery ---- */

static bool all_digits(const char *s)
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
static int read_stat_at(int dirfd, const char *dir, struct devcg_stat *st)
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

		if (!all_digits(de->d_name) ||
		    vf_path(path, sizeof(path), "%s/comm", de->d_name) < 0 ||
		    hostfs_attr_at(dirfd(d), path, comm, sizeof(comm), NULL) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (devcg_is_vfio_irq_thread(comm, vectors[i]))
				break;
		if (i == n)
			continue;
		/* a user process may call itself so: kernel threads only */
		if (read_stat_at(dirfd(d), de->d_name, &st) < 0 || !devcg_stat_is_kthread(&st))
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

		if (!all_digits(de->d_name) || vf_parse_i64(de->d_name, 1, INT32_MAX, &pid) < 0 ||
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

/* ---- libcgroup and the real cgroup filesystem ---- */

static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static enum devcg_hier lib_hier;
static char lib_mount[PATH_MAX];

static int lib_errno(int ret)
{
	int en;

	switch (ret) {
	case 0:
		return 0;
	case ECGOTHER:
		en = cgroup_get_last_errno();
		return en ? en : EIO;
	case ECGROUPNOTOWNER:
		return EPERM;
	case ECGROUPNOTEXIST:
		return ENOENT;
	case ECGROUPNOTMOUNTED:
	case ECGROUPSUBSYSNOTMOUNTED:
		return ENODEV;
	case ECGROUPNOTALLOWED:
		return EACCES;
	default:
		return EIO;
	}
}

static int lib_fail(struct vf_err *e, int ret, const char *what)
{
	if (ret == ECGOTHER)
		return vf_err_set(e, lib_errno(ret), "%s", what);
	return vf_err_set(e, lib_errno(ret), "%s (libcgroup: %s)", what, cgroup_strerror(ret));
}

/* Reads a whole file of the real root (not through hostfs), NUL-terminated. */
static int read_real(const char *path, size_t max, char **out, struct vf_err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, got = 0;
	char *buf;

	if (fd < 0)
		return vf_err_set(e, errno, "%s", path);
	buf = vf_xcalloc(1, cap + 1);
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			free(buf);
			return vf_err_set(e, err, "%s", path);
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap) {
			if (cap >= max) {
				free(buf);
				return vf_err_set(e, E2BIG, "%s: larger than %zu bytes", path, max);
			}
			cap *= 2;
			buf = vf_xreallocarray(buf, cap + 1, 1);
		}
	}
	buf[got] = '\0';
	*out = buf;
	return 0;
}

int devcg_find_v2_mount(struct devcg_mount *v2, struct vf_err *e)
{
	_cleanup_free_ char *text = NULL;
	struct devcg_mount *v1;
	int r;

	if (read_real("/proc/self/mountinfo", 64u << 20, &text, e) < 0)
		return -1;
	v1 = vf_xcalloc(1, sizeof(*v1));
	r = devcg_scan_mountinfo(text, v2, v1);
	free(v1);
	if (r < 0)
		return vf_err_set(e, EINVAL, "/proc/self/mountinfo: malformed line");
	return r & 1;
}

/* The first cgroup v1 mount with `controller` bound: 1 found, 0 none, -1 error. */
static int find_v1_mount(const char *controller, struct devcg_mount *m, struct vf_err *e)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;

	if (read_real("/proc/self/mountinfo", 64u << 20, &text, e) < 0)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *copy = vf_xstrdup(line);
		struct vf_mountinfo mi;
		bool hit = vf_parse_mountinfo_line(copy, &mi) == 0 && strcmp(mi.fstype, "cgroup") == 0 &&
			   vf_list_has(mi.superopts, strlen(mi.superopts), controller, ',') &&
			   devcg_parse_mountinfo_line(line, m) == 1;

		free(copy);
		if (hit)
			return 1;
	}
	return 0;
}

/*
 * The directory of cgroup `rel` (as /proc/PID/cgroup names it) under the
 * mount `m`, which may show only a subtree of its hierarchy (its root).
 */
static int cgroup_dir(const struct devcg_mount *m, const char *rel, char *out, size_t cap,
		      struct vf_err *e)
{
	size_t rlen = strcmp(m->root, "/") == 0 ? 0 : strlen(m->root);

	if (rlen && (strncmp(rel, m->root, rlen) != 0 || (rel[rlen] && rel[rlen] != '/')))
		return vf_err_set(e, 0, "cgroup %s is outside the mount at %s", rel, m->path);
	if (vf_path(out, cap, "%s%s", m->path, rel + rlen) < 0)
		return vf_err_set(e, ENAMETOOLONG, "cgroup %s", rel);
	return 0;
}

int devcg_v2_device_program(const char *rel, struct vf_err *e)
{
	struct devcg_mount v2;
	char path[PATH_MAX * 2];
	_cleanup_close_ int fd = -1;
	union bpf_attr attr;
	int r = devcg_find_v2_mount(&v2, e);

	if (r < 0)
		return -1;
	if (r == 0)
		return vf_err_set(e, 0,
				  "no cgroup2 hierarchy is mounted where vfiod can see it, so a device program cannot be ruled out");
	if (cgroup_dir(&v2, rel, path, sizeof(path), e) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return vf_err_set(e, errno, "cgroup %s", path);
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (__u32)fd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.query_flags = BPF_F_QUERY_EFFECTIVE;
	if (syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) < 0)
		return vf_err_set(e, errno, "querying the device programs of %s", path);
	return attr.query.prog_cnt > 0;
}

int devcg_v1_device_rules(const char *rel, const dev_t *rdev, size_t n, bool allow,
			  struct vf_err *e)
{
	struct devcg_mount m;
	char dir[PATH_MAX * 2], path[PATH_MAX * 2 + 32], rule[64];
	int r = find_v1_mount("devices", &m, e);

	if (r < 0)
		return -1;
	if (r == 0)
		return vf_err_set(e, 0, "no cgroup v1 devices hierarchy is mounted where vfiod can see it");
	if (cgroup_dir(&m, rel, dir, sizeof(dir), e) < 0)
		return -1;
	if (vf_path(path, sizeof(path), "%s/devices.%s", dir, allow ? "allow" : "deny") < 0)
		return vf_err_set(e, ENAMETOOLONG, "device cgroup %s", rel);
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd < 0)
			return vf_err_set(e, errno, "%s", path);
		snprintf(rule, sizeof(rule), "c %u:%u rwm", major(rdev[i]), minor(rdev[i]));
		if (write(fd, rule, strlen(rule)) < 0)
			return vf_err_set(e, errno, "%s: %s", path, rule);
	}
	return 0;
}

/* Finds the hierarchy with the cpu controller (see cgroup.h). */
static int detect(enum devcg_hier *hier, char *mount, size_t cap, struct vf_err *e)
{
	_cleanup_free_ char *text = NULL;
	struct devcg_mount *v2 = vf_xcalloc(2, sizeof(*v2)), *v1 = v2 + 1;
	int found;

	if (read_real("/proc/self/mountinfo", 64u << 20, &text, e) < 0) {
		free(v2);
		return -1;
	}
	found = devcg_scan_mountinfo(text, v2, v1);
	if (found < 0) {
		free(v2);
		return vf_err_set(e, EINVAL, "/proc/self/mountinfo: malformed line");
	}
	*hier = DEVCG_HIER_NONE;
	if (found & 1) {
		_cleanup_free_ char *ctl = NULL;
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/cgroup.controllers", v2->path);
		if (read_real(path, 1u << 16, &ctl, NULL) == 0 && devcg_list_has(ctl, "cpu")) {
			*hier = DEVCG_HIER_V2;
			snprintf(mount, cap, "%s", v2->path);
		}
	}
	if (*hier == DEVCG_HIER_NONE && (found & 2)) {
		*hier = DEVCG_HIER_V1;
		snprintf(mount, cap, "%s", v1->path);
	}
	free(v2);
	if (*hier == DEVCG_HIER_NONE)
		return vf_err_set(e, ENODEV,
				  "no cpu controller: neither a cgroup2 mount with cpu in "
				  "cgroup.controllers nor a cgroup v1 cpu hierarchy is mounted");
	return 0;
}

/* (Re)initialises libcgroup when the host's hierarchy differs from its last view. */
static int lib_init(enum devcg_hier hier, const char *mount, struct vf_err *e)
{
	int ret = 0;

	pthread_mutex_lock(&lib_lock);
	if (lib_hier != hier || strcmp(lib_mount, mount) != 0) {
		ret = cgroup_init();
		if (ret == 0) {
			lib_hier = hier;
			snprintf(lib_mount, sizeof(lib_mount), "%s", mount);
		}
	}
	pthread_mutex_unlock(&lib_lock);
	if (ret)
		return lib_fail(e, ret, "cgroup_init");
	return 0;
}

/* A libcgroup group `name` on the cpu controller, with the cap `pct` when pct != 0. */
static struct cgroup *cg_build(const char *name, enum devcg_hier hier, unsigned pct,
			       struct vf_err *e)
{
	struct cgroup *cg = cgroup_new_cgroup(name);
	struct cgroup_controller *cc;
	char a[32], b[32];
	int ret = 0;

	if (!cg) {
		vf_err_set(e, ENOMEM, "%s: cgroup_new_cgroup", name);
		return NULL;
	}
	cc = cgroup_add_controller(cg, "cpu");
	if (!cc) {
		cgroup_free(&cg);
		vf_err_set(e, ENOMEM, "%s: cgroup_add_controller cpu", name);
		return NULL;
	}
	if (pct && hier == DEVCG_HIER_V2) {
		devcg_cpu_max(pct, a, sizeof(a));
		ret = cgroup_add_value_string(cc, "cpu.max", a);
	} else if (pct) {
		devcg_cfs_values(pct, a, sizeof(a), b, sizeof(b));
		/* the period first: the quota is checked against it */
		ret = cgroup_add_value_string(cc, "cpu.cfs_period_us", b);
		if (!ret)
			ret = cgroup_add_value_string(cc, "cpu.cfs_quota_us", a);
	}
	if (ret) {
		cgroup_free(&cg);
		lib_fail(e, ret, name);
		return NULL;
	}
	return cg;
}

/* Moves one task into the group `name` ("/" is the root); e->errnum says why not. */
static int cg_attach(const char *name, pid_t tid, struct vf_err *e)
{
	struct cgroup *cg = cgroup_new_cgroup(name);
	char what[PATH_MAX + 48];
	int ret;

	snprintf(what, sizeof(what), "moving task %d into cgroup %s", (int)tid, name);
	if (!cg)
		return vf_err_set(e, ENOMEM, "%s", what);
	if (!cgroup_add_controller(cg, "cpu")) {
		cgroup_free(&cg);
		return vf_err_set(e, ENOMEM, "%s", what);
	}
	ret = cgroup_attach_task_pid(cg, tid);
	cgroup_free(&cg);
	return ret ? lib_fail(e, ret, what) : 0;
}

static int leaf_name(const struct devcg *c, const char *leaf, char *buf, size_t cap)
{
	return vf_path(buf, cap, "%s/%s", c->base, leaf);
}

/* Path of a file of the group `rel` (relative to the mount, "" for the group itself). */
static int real_path(const struct devcg *c, const char *rel, const char *file, char *buf,
		     size_t cap)
{
	return vf_path(buf, cap, "%s/%s%s%s", c->mount, rel, *file ? "/" : "", file);
}

static int read_back(const struct devcg *c, const char *rel, const char *file, const char *want,
		     struct vf_err *e)
{
	_cleanup_free_ char *got = NULL;
	char path[PATH_MAX];
	size_t len;

	if (real_path(c, rel, file, path, sizeof(path)) < 0)
		return vf_err_set(e, ENAMETOOLONG, "%s/%s", rel, file);
	if (read_real(path, 4096, &got, e) < 0)
		return vf_err_wrap(e, "reading back");
	len = strlen(got);
	if (len && got[len - 1] == '\n')
		got[--len] = '\0';
	if (strcmp(got, want) != 0)
		return vf_err_set(e, EIO, "%s is \"%s\", not \"%s\" as written", path, got, want);
	return 0;
}

static int verify_cap(const struct devcg *c, const char *rel, unsigned pct, struct vf_err *e)
{
	char a[32], b[32];

	if (c->hier == DEVCG_HIER_V2) {
		devcg_cpu_max(pct, a, sizeof(a));
		return read_back(c, rel, "cpu.max", a, e);
	}
	devcg_cfs_values(pct, a, sizeof(a), b, sizeof(b));
	if (read_back(c, rel, "cpu.cfs_period_us", b, e) < 0)
		return -1;
	return read_back(c, rel, "cpu.cfs_quota_us", a, e);
}

/* Creates (create) or updates one leaf with its cap, and checks the value. */
static int apply_cap(struct devcg *c, const char *leaf, unsigned pct, bool create,
		     struct vf_err *e)
{
	struct cgroup *cg;
	char name[128];
	int ret;

	leaf_name(c, leaf, name, sizeof(name));
	cg = cg_build(name, c->hier, pct, e);
	if (!cg)
		return -1;
	/* ownership ignored: vfiod runs as root and the groups stay root's (with
	 * ownership, libcgroup 2.0.2 chowns a "tasks" file that v2 lacks: ENOENT) */
	ret = create ? cgroup_create_cgroup(cg, 1) : cgroup_modify_cgroup(cg);
	cgroup_free(&cg);
	if (ret) {
		char what[192];

		snprintf(what, sizeof(what), "%s %s on cgroup %s",
			 create ? "creating" : "setting the cap of", name, devcg_hier_name(c->hier));
		return lib_fail(e, ret, what);
	}
	if (verify_cap(c, name, pct, e) < 0)
		return vf_err_wrap(e, "%s", name);
	return 0;
}

static int remove_group(const struct devcg *c, const char *rel, struct vf_err *e);

/*
 * v2: libcgroup 2.0.2 writes "+cpu" to the subtree_control of each group it
 * creates below the mount, but not to the root's (measured on the testbed:
 * the write to vfiod.slice/cgroup.subtree_control then fails with ENOENT).
 * The root's is enabled here when it is not already (systemd hosts have it);
 * it is left enabled at teardown, as other groups may rely on it.
 */
static int v2_enable_root_cpu(const char *mount, struct vf_err *e)
{
	_cleanup_free_ char *cur = NULL;
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", mount);
	if (read_real(path, 1u << 16, &cur, e) < 0)
		return -1;
	if (devcg_list_has(cur, "cpu"))
		return 0;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "+cpu", 4) != 4)
		return vf_err_set(e, errno, "%s: enabling the cpu controller", path);
	return 0;
}

static int check_pcts(unsigned irq_pct, unsigned vmm_pct, struct vf_err *e)
{
	uint64_t q;

	if (devcg_quota_us(irq_pct, &q) < 0 || devcg_quota_us(vmm_pct, &q) < 0)
		return vf_err_set(e, EINVAL, "CPU caps %u%% and %u%%: each must be 1..%u", irq_pct,
				  vmm_pct, POLICY_CAP_MAX);
	return 0;
}

int devcg_setup(struct devcg *c, const char *bdf, unsigned irq_pct, unsigned vmm_pct,
		struct vf_err *e)
{
	enum devcg_hier hier;
	char mount[PATH_MAX], base[sizeof(c->base)];

	if (devcg_name(bdf ? bdf : "", NULL, base, sizeof(base)) < 0)
		return vf_err_set(e, EINVAL, "cgroups of \"%s\": not a canonical PCI address",
				  bdf ? bdf : "");
	if (c->ready && strcmp(c->bdf, bdf) != 0)
		return vf_err_set(e, EINVAL, "cgroups of %s: this handle belongs to %s", bdf,
				  c->bdf);
	if (check_pcts(irq_pct, vmm_pct, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", bdf);
	if (detect(&hier, mount, sizeof(mount), e) < 0 || lib_init(hier, mount, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", bdf);
	if (c->ready && (c->hier != hier || strcmp(c->mount, mount) != 0))
		return vf_err_set(e, EBUSY, "cgroups of %s: set up on cgroup %s at %s, the host "
				  "now has cpu on %s at %s", bdf, devcg_hier_name(c->hier), c->mount,
				  devcg_hier_name(hier), mount);
	if (hier == DEVCG_HIER_V2 && v2_enable_root_cpu(mount, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", bdf);
	snprintf(c->bdf, sizeof(c->bdf), "%s", bdf);
	snprintf(c->base, sizeof(c->base), "%s", base);
	c->hier = hier;
	snprintf(c->mount, sizeof(c->mount), "%s", mount);
	if (apply_cap(c, "irq", irq_pct, true, e) < 0 || apply_cap(c, "vmm", vmm_pct, true, e) < 0) {
		/* a first setup that failed leaves nothing behind (empty groups only) */
		if (!c->ready) {
			char rel[sizeof(c->base) + 8];

			leaf_name(c, "irq", rel, sizeof(rel));
			remove_group(c, rel, NULL);
			leaf_name(c, "vmm", rel, sizeof(rel));
			remove_group(c, rel, NULL);
			remove_group(c, c->base, NULL);
			remove_group(c, DEVCG_SLICE, NULL);
		}
		return vf_err_wrap(e, "cgroups of %s", bdf);
	}
	c->irq_pct = irq_pct;
	c->vmm_pct = vmm_pct;
	c->ready = true;
	return 0;
}

int devcg_set_caps(struct devcg *c, unsigned irq_pct, unsigned vmm_pct, struct vf_err *e)
{
	if (!c->ready)
		return vf_err_set(e, EINVAL, "CPU caps: the device's cgroups are not set up");
	if (check_pcts(irq_pct, vmm_pct, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	if (lib_init(c->hier, c->mount, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	if (apply_cap(c, "irq", irq_pct, false, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	c->irq_pct = irq_pct;
	if (apply_cap(c, "vmm", vmm_pct, false, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	c->vmm_pct = vmm_pct;
	return 0;
}

/* ---- remembered state ---- */

static const char *origin_of(const struct devcg *c, pid_t tid)
{
	for (size_t i = 0; i < c->n_orig; i++)
		if (c->orig[i].tid == tid)
			return c->orig[i].path;
	return NULL;
}

static void add_origin(struct devcg *c, pid_t tid, const char *path)
{
	for (size_t i = 0; i < c->n_orig; i++)
		if (c->orig[i].tid == tid) {
			free(c->orig[i].path);
			c->orig[i].path = vf_xstrdup(path);
			return;
		}
	c->orig = vf_xreallocarray(c->orig, c->n_orig + 1, sizeof(*c->orig));
	c->orig[c->n_orig].tid = tid;
	c->orig[c->n_orig].path = vf_xstrdup(path);
	c->n_orig++;
}

/* Forgets the origins of tasks that have exited. */
static void prune_origins(struct devcg *c, const struct hostfs *h)
{
	size_t o = 0;

	for (size_t i = 0; i < c->n_orig; i++) {
		char path[32];

		vf_path(path, sizeof(path), "proc/%d", (int)c->orig[i].tid);
		if (hostfs_exists(h, path))
			c->orig[o++] = c->orig[i];
		else
			free(c->orig[i].path);
	}
	c->n_orig = o;
}

static struct devcg_saved_sched *saved_sched(struct devcg *c, const struct devcg_stat *st)
{
	struct devcg_saved_sched *s;

	for (size_t i = 0; i < c->n_sched; i++) {
		s = &c->sched[i];
		if (s->tid != st->pid)
			continue;
		if (s->starttime == st->starttime)
			return s;
		/* the pid was reused: a different thread */
		memset(s, 0, sizeof(*s));
		goto fill;
	}
	c->sched = vf_xreallocarray(c->sched, c->n_sched + 1, sizeof(*c->sched));
	s = &c->sched[c->n_sched++];
	memset(s, 0, sizeof(*s));
fill:
	s->tid = st->pid;
	s->starttime = st->starttime;
	s->policy = st->policy;
	s->rt_priority = st->rt_priority;
	s->nice = st->nice;
	return s;
}

/* ---- attaching ---- */

static int check_attach(struct devcg *c, const struct hostfs *h, const char *what,
			struct vf_err *e)
{
	if (!c->ready)
		return vf_err_set(e, EINVAL, "%s: the device's cgroups are not set up", what);
	if (!hostfs_is_live(h))
		return vf_err_set(e, EINVAL, "%s: cgroup actions run only on the real root, not "
				  "sysroot %s", what, h && h->root ? h->root : "?");
	c->h = h;
	return lib_init(c->hier, c->mount, e);
}

/* The task's current cgroup on our hierarchy ("proc/<dir>/cgroup"). */
static int task_cgroup(const struct devcg *c, const struct hostfs *h, const char *dir,
		       char *path, size_t cap)
{
	_cleanup_free_ char *text = NULL;
	char file[96];

	if (vf_path(file, sizeof(file), "proc/%s/cgroup", dir) < 0 ||
	    hostfs_read_all(h, file, 1u << 16, &text, NULL, NULL) < 0)
		return -ENOENT;
	return devcg_parse_proc_cgroup(text, c->hier, path, cap);
}

void devcg_default_housekeeping(const uint64_t *online, const uint64_t *isolated,
				const uint64_t (*nodes)[DEVCG_CPU_MAX / 64], size_t nnodes,
				uint64_t *out)
{
	bool any_isolated = false;

	memset(out, 0, MASK_WORDS * sizeof(*out));
	for (size_t w = 0; w < MASK_WORDS; w++)
		any_isolated |= (online[w] & isolated[w]) != 0;
	if (any_isolated) {
		/* the host said which CPUs are the tenants': the others keep house */
		for (size_t w = 0; w < MASK_WORDS; w++)
			out[w] = online[w] & ~isolated[w];
		for (size_t w = 0; w < MASK_WORDS; w++)
			if (out[w])
				return;
	}
	/* else the first online CPU of each NUMA node (of the host without nodes) */
	for (size_t n = 0; n < (nnodes ? nnodes : 1); n++)
		for (unsigned cpu = 0; cpu < DEVCG_CPU_MAX; cpu++)
			if (vf_cpu_isset(online, cpu) && (!nnodes || vf_cpu_isset(nodes[n], cpu))) {
				vf_cpu_set(out, cpu);
				break;
			}
}

/* A CPU list attribute below `dirfd` into `mask` (added); a missing one adds nothing. */
static void read_cpulist_at(int dirfd, const char *name, uint64_t *mask)
{
	char buf[4096];

	if (dirfd >= 0 && hostfs_attr_at(dirfd, name, buf, sizeof(buf), NULL) >= 0)
		vf_parse_cpulist(buf, 0, mask, DEVCG_CPU_MAX, NULL);
}

/* The default housekeeping set of this host (devcg_default_housekeeping). */
static void host_default_housekeeping(const struct hostfs *h, const uint64_t *online,
				      uint64_t *out)
{
	uint64_t isolated[MASK_WORDS] = { 0 };
	uint64_t (*nodes)[MASK_WORDS] = NULL;
	size_t nnodes = 0;
	_cleanup_close_ int cpu = hostfs_open(h, "sys/devices/system/cpu", O_RDONLY | O_DIRECTORY, NULL);
	_cleanup_closedir_ DIR *d = hostfs_opendir(h, "sys/devices/system/node", NULL);
	struct dirent *de;

	read_cpulist_at(cpu, "isolated", isolated);
	read_cpulist_at(cpu, "nohz_full", isolated);
	while (d && (de = readdir(d))) {
		char name[300];

		if (strncmp(de->d_name, "node", 4) != 0 || !all_digits(de->d_name + 4) ||
		    vf_path(name, sizeof(name), "%s/cpulist", de->d_name) < 0)
			continue;
		nodes = vf_xreallocarray(nodes, nnodes + 1, sizeof(*nodes));
		memset(nodes[nnodes], 0, sizeof(nodes[nnodes]));
		read_cpulist_at(dirfd(d), name, nodes[nnodes]);
		nnodes++;
	}
	devcg_default_housekeeping(online, isolated, (const uint64_t(*)[MASK_WORDS])nodes, nnodes,
				   out);
	free(nodes);
}

/*
 * Online CPUs that are housekeeping CPUs: the policy's, else this host's
 * default (devcg_default_housekeeping); *all when that is every online CPU.
 */
static int housekeeping_mask(const struct hostfs *h, const struct policy *p, uint64_t *mask,
			     bool *all, struct vf_err *e)
{
	uint64_t online[MASK_WORDS] = { 0 }, dflt[MASK_WORDS];
	char buf[4096];
	_cleanup_close_ int fd = -1;
	bool named = p && p->daemon.n_housekeeping;
	int r;

	fd = hostfs_open(h, "sys/devices/system/cpu", O_RDONLY | O_DIRECTORY, e);
	if (fd < 0 || hostfs_attr_at(fd, "online", buf, sizeof(buf), e) < 0)
		return vf_err_wrap(e, "online CPUs");
	r = vf_parse_cpulist(buf, 0, online, DEVCG_CPU_MAX, NULL);
	if (r <= 0)
		return vf_err_set(e, EINVAL, "sys/devices/system/cpu/online: \"%s\" is not a CPU list",
				  buf);
	if (!named)
		host_default_housekeeping(h, online, dflt);
	*all = true;
	memset(mask, 0, MASK_WORDS * sizeof(*mask));
	for (unsigned cpu = 0; cpu < DEVCG_CPU_MAX; cpu++) {
		if (!vf_cpu_isset(online, cpu))
			continue;
		if (named ? policy_housekeeping_cpu(p, cpu) : vf_cpu_isset(dflt, cpu))
			vf_cpu_set(mask, cpu);
		else
			*all = false;
	}
	for (size_t i = 0; i < MASK_WORDS; i++)
		if (mask[i])
			return 0;
	return vf_err_set(e, EINVAL, "none of the housekeeping CPUs is online");
}

static void contain_irq_thread(struct devcg *c, const struct devcg_task *t, const char *target,
			       struct devcg_thread_report *tr)
{
	char dir[16], cur[PATH_MAX];
	bool known, in_target;
	struct sched_param sp = { 0 };
	struct vf_err ae = { 0 };
	int err;

	memset(tr, 0, sizeof(*tr));
	tr->tid = t->tid;
	tr->vector = t->vector;
	snprintf(tr->comm, sizeof(tr->comm), "%s", t->st.comm);
	vf_path(dir, sizeof(dir), "%d", (int)t->tid);
	known = task_cgroup(c, c->h, dir, cur, sizeof(cur)) == 0;
	in_target = known && strcmp(cur, target) == 0;
	tr->was_rt = t->st.policy == SCHED_FIFO || t->st.policy == SCHED_RR;
	if (tr->was_rt) {
		saved_sched(c, &t->st);
		if (sched_setscheduler(t->tid, SCHED_OTHER, &sp) < 0) {
			tr->how = DEVCG_FAILED;
			tr->err = errno;
			return;
		}
	}
	if (in_target) {
		tr->how = DEVCG_MOVED_DEMOTED;
		tr->already = !tr->was_rt;
		return;
	}
	err = cg_attach(target + 1, t->tid, &ae) < 0 ? ae.errnum : 0;
	if (err == 0) {
		if (known)
			add_origin(c, t->tid, cur);
		tr->how = DEVCG_MOVED_DEMOTED;
		return;
	}
	if (err == ESRCH) {
		tr->how = DEVCG_FAILED;
		tr->err = err;
		return;
	}
	/*
	 * Refused (Linux 6.19 and later: PF_NO_SETAFFINITY): SCHED_OTHER at
	 * its nice value is as far as it goes. Lower (nice 19, SCHED_IDLE) a
	 * storming vector's thread starves on a busy CPU, and the kernel's
	 * spurious-interrupt detector ("nobody cared") disables the vector for
	 * good: measured with tests/testbed/probe-demote.sh on 6.1 and 7.2. Its
	 * CPU follows the vector's affinity, which the throttle steers.
	 */
	tr->how = DEVCG_DEMOTED_ONLY;
	tr->move_err = err;
}

int devcg_attach_irq_threads(struct devcg *c, const struct hostfs *h, const unsigned *vectors,
			     size_t n, struct devcg_report *r, struct vf_err *e)
{
	struct devcg_task *tasks = NULL;
	size_t nt = 0, failed = 0;
	char target[128];

	free(r->threads);
	r->threads = NULL;
	r->n_threads = 0;
	r->hier = c->hier;
	if (check_attach(c, h, "IRQ threads", e) < 0)
		return -1;
	r->hier = c->hier;
	if (devcg_find_irq_threads(h, vectors, n, &tasks, &nt, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	vf_path(target, sizeof(target), "/%s/irq", c->base);
	r->threads = vf_xcalloc(nt, sizeof(*r->threads));
	for (size_t i = 0; i < nt; i++) {
		struct devcg_thread_report *tr = &r->threads[r->n_threads++];

		contain_irq_thread(c, &tasks[i], target, tr);
		if (tr->how == DEVCG_FAILED && failed++ == 0)
			vf_err_set(e, tr->err, "cgroups of %s: IRQ thread %d (%s)", c->bdf,
				   (int)tr->tid, tr->comm);
	}
	free(tasks);
	return failed ? -1 : 0;
}

static void attach_holder(struct devcg *c, const struct hostfs *h, pid_t pid, const char *target,
			  struct devcg_holder_report *hr)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[64];
	_cleanup_close_ int fd = -1;

	memset(hr, 0, sizeof(*hr));
	hr->pid = pid;
	vf_path(path, sizeof(path), "proc/%d", (int)pid);
	fd = hostfs_open(h, path, O_RDONLY | O_DIRECTORY, NULL);
	if (fd >= 0)
		hostfs_attr_at(fd, "comm", hr->comm, sizeof(hr->comm), NULL);
	vf_path(path, sizeof(path), "proc/%d/task", (int)pid);
	d = hostfs_opendir(h, path, NULL);
	if (!d) {
		hr->err = ESRCH; /* it exited */
		return;
	}
	while ((de = readdir(d))) {
		char dir[64], cur[PATH_MAX];
		struct vf_err ae = { 0 };
		int64_t tid;
		int err;

		if (!all_digits(de->d_name) || vf_parse_i64(de->d_name, 1, INT32_MAX, &tid) < 0)
			continue;
		vf_path(dir, sizeof(dir), "%d/task/%d", (int)pid, (int)tid);
		if (task_cgroup(c, h, dir, cur, sizeof(cur)) < 0)
			continue; /* exited meanwhile */
		hr->threads++;
		if (strcmp(cur, target) == 0)
			continue;
		err = cg_attach(target + 1, (pid_t)tid, &ae) < 0 ? ae.errnum : 0;
		if (err == 0) {
			add_origin(c, (pid_t)tid, cur);
			hr->moved++;
		} else if (err == ESRCH) {
			hr->threads--;
		} else {
			if (hr->failed++ == 0)
				hr->err = err;
		}
	}
}

int devcg_attach_holders(struct devcg *c, const struct hostfs *h, int group,
			 struct devcg_report *r, struct vf_err *e)
{
	pid_t *pids = NULL;
	size_t np = 0, failed = 0;
	char target[128];

	free(r->holders);
	r->holders = NULL;
	r->n_holders = 0;
	r->hier = c->hier;
	if (check_attach(c, h, "VMM threads", e) < 0)
		return -1;
	r->hier = c->hier;
	if (devcg_find_holders(h, group, getpid(), &pids, &np, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	prune_origins(c, h);
	vf_path(target, sizeof(target), "/%s/vmm", c->base);
	r->holders = vf_xcalloc(np, sizeof(*r->holders));
	for (size_t i = 0; i < np; i++) {
		struct devcg_holder_report *hr = &r->holders[r->n_holders++];

		attach_holder(c, h, pids[i], target, hr);
		if (hr->failed && failed++ == 0)
			vf_err_set(e, hr->err, "cgroups of %s: %zu of the %zu threads of %d (%s) "
				   "could not be moved into the vmm group", c->bdf, hr->failed,
				   hr->threads, (int)hr->pid, hr->comm);
	}
	free(pids);
	return failed ? -1 : 0;
}

/* ---- IRQ affinity ---- */

static struct devcg_saved_affinity *saved_aff(struct devcg *c, unsigned irq)
{
	for (size_t i = 0; i < c->n_aff; i++)
		if (c->aff[i].irq == irq)
			return &c->aff[i];
	return NULL;
}

int devcg_steer_irqs(struct devcg *c, const struct hostfs *h, const unsigned *vectors,
		     size_t n, const struct policy *p, struct vf_err *e)
{
	uint64_t hk[MASK_WORDS];
	char list[8192];
	bool all;
	int rc = 0;

	if (n == 0)
		return 0;
	if (housekeeping_mask(h, p, hk, &all, e) < 0)
		return vf_err_wrap(e, "steering IRQs");
	if (all)
		return 0; /* every online CPU keeps house: nowhere else to go */
	if (vf_format_cpulist(hk, DEVCG_CPU_MAX, list, sizeof(list)) <= 0)
		return vf_err_set(e, ENAMETOOLONG, "steering IRQs: CPU list too long");
	c->h = h;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *old = NULL;
		char path[64];
		size_t len;

		vf_path(path, sizeof(path), "proc/irq/%u/smp_affinity_list", vectors[i]);
		if (!saved_aff(c, vectors[i])) {
			if (hostfs_read_all(h, path, sizeof(list), &old, NULL, rc ? NULL : e) < 0) {
				rc = -1;
				continue;
			}
			len = strlen(old);
			if (len && old[len - 1] == '\n')
				old[--len] = '\0';
		}
		if (hostfs_write(h, path, list, rc ? NULL : e) < 0) {
			rc = -1;
			continue;
		}
		if (old) {
			c->aff = vf_xreallocarray(c->aff, c->n_aff + 1, sizeof(*c->aff));
			c->aff[c->n_aff].irq = vectors[i];
			c->aff[c->n_aff].list = old;
			old = NULL;
			c->n_aff++;
		}
	}
	if (rc)
		return vf_err_wrap(e, "steering IRQs to CPUs %s", list);
	return 0;
}

int devcg_restore_irqs(struct devcg *c, const struct hostfs *h, struct vf_err *e)
{
	int rc = 0;

	for (size_t i = 0; i < c->n_aff; i++) {
		char path[64], dir[32];

		vf_path(dir, sizeof(dir), "proc/irq/%u", c->aff[i].irq);
		vf_path(path, sizeof(path), "%s/smp_affinity_list", dir);
		if (hostfs_exists(h, dir) && hostfs_write(h, path, c->aff[i].list, rc ? NULL : e) < 0)
			rc = -1;
		free(c->aff[i].list);
	}
	free(c->aff);
	c->aff = NULL;
	c->n_aff = 0;
	if (rc)
		return vf_err_wrap(e, "restoring IRQ affinity");
	return 0;
}

/* ---- teardown ---- */

/* Moves every task out of one leaf. Returns the number left, or <0; `first` keeps the first failure. */
static int evacuate(struct devcg *c, const char *leaf, struct vf_err *first)
{
	_cleanup_free_ char *text = NULL;
	char rel[128], path[PATH_MAX], own[2][136];
	struct vf_err e = { 0 };
	int left = 0;

	leaf_name(c, leaf, rel, sizeof(rel));
	vf_path(own[0], sizeof(own[0]), "/%s/irq", c->base);
	vf_path(own[1], sizeof(own[1]), "/%s/vmm", c->base);
	if (real_path(c, rel, c->hier == DEVCG_HIER_V2 ? "cgroup.procs" : "tasks", path,
		      sizeof(path)) < 0) {
		vf_err_set(&e, ENAMETOOLONG, "the tasks of %s", rel);
		vf_err_keep_first(first, &e);
		return -1;
	}
	if (read_real(path, 64u << 20, &text, &e) < 0) {
		if (e.errnum == ENOENT)
			return 0; /* no such leaf */
		vf_err_keep_first(first, &e);
		return -1;
	}
	for (char *p = text, *end; *p; p = end) {
		const char *orig;
		int64_t id;
		int rc = -1;

		end = strchr(p, '\n');
		if (end)
			*end++ = '\0';
		else
			end = p + strlen(p);
		if (vf_parse_i64(p, 1, INT32_MAX, &id) < 0)
			continue;
		/* back where it came from, else (origin gone, or unknown after a
		 * restart) to the root cgroup, which takes any task */
		vf_err_clear(&e);
		orig = origin_of(c, (pid_t)id);
		if (orig && strcmp(orig, own[0]) != 0 && strcmp(orig, own[1]) != 0 &&
		    strcmp(orig, "/") != 0)
			rc = cg_attach(orig, (pid_t)id, &e);
		if (rc < 0 && e.errnum != ESRCH) {
			vf_err_clear(&e);
			rc = cg_attach("/", (pid_t)id, &e);
		}
		if (rc < 0 && e.errnum != ESRCH) {
			left++;
			vf_err_keep_first(first, &e);
		}
	}
	return left;
}

static void restore_sched(struct devcg *c, struct vf_err *first)
{
	for (size_t i = 0; i < c->n_sched; i++) {
		struct devcg_saved_sched *s = &c->sched[i];
		struct sched_param sp = { .sched_priority = (int)s->rt_priority };
		struct devcg_stat st;
		struct vf_err e = { 0 };
		char dir[16];
		_cleanup_close_ int fd = -1;

		/* only the very thread saved: a pid may have been reused */
		if (!c->h)
			continue;
		fd = hostfs_open(c->h, "proc", O_RDONLY | O_DIRECTORY, NULL);
		vf_path(dir, sizeof(dir), "%d", (int)s->tid);
		if (fd < 0 || read_stat_at(fd, dir, &st) < 0 || st.starttime != s->starttime)
			continue; /* gone: its IRQ was freed */
		if ((s->policy == SCHED_FIFO || s->policy == SCHED_RR) &&
		    sched_setscheduler(s->tid, (int)s->policy, &sp) < 0 && errno != ESRCH) {
			vf_err_set(&e, errno, "restoring the scheduling of thread %d", (int)s->tid);
			vf_err_keep_first(first, &e);
		}
		if (setpriority(PRIO_PROCESS, (id_t)s->tid, (int)s->nice) < 0 && errno != ESRCH) {
			vf_err_set(&e, errno, "restoring the nice value of thread %d", (int)s->tid);
			vf_err_keep_first(first, &e);
		}
	}
}

/* rmdir of a group; a missing one is fine. */
static int remove_group(const struct devcg *c, const char *rel, struct vf_err *e)
{
	char path[PATH_MAX];

	if (real_path(c, rel, "", path, sizeof(path)) < 0)
		return vf_err_set(e, ENAMETOOLONG, "cgroup %s", rel);
	if (rmdir(path) < 0 && errno != ENOENT)
		return vf_err_set(e, errno, "removing %s", path);
	return 0;
}

static void free_state(struct devcg *c)
{
	for (size_t i = 0; i < c->n_orig; i++)
		free(c->orig[i].path);
	free(c->orig);
	free(c->sched);
	for (size_t i = 0; i < c->n_aff; i++)
		free(c->aff[i].list);
	free(c->aff);
	c->orig = NULL;
	c->n_orig = 0;
	c->sched = NULL;
	c->n_sched = 0;
	c->aff = NULL;
	c->n_aff = 0;
}

int devcg_teardown(struct devcg *c, struct vf_err *e)
{
	static const char *const leaves[] = { "irq", "vmm" };
	struct vf_err first = { 0 }, rm = { 0 }, aff = { 0 };
	int left = 0, r;
	char rel[128];

	if (!c->ready)
		return 0;
	if (lib_init(c->hier, c->mount, e) < 0)
		return vf_err_wrap(e, "removing the cgroups of %s", c->bdf);
	if (c->n_aff && c->h && devcg_restore_irqs(c, c->h, &aff) < 0)
		vf_err_keep_first(&first, &aff);
	/* a VMM may start a thread between the listing and the rmdir: a few rounds */
	for (int round = 0; round < 5; round++) {
		left = 0;
		vf_err_clear(&rm);
		for (size_t i = 0; i < VF_ARRAY_SIZE(leaves); i++) {
			r = evacuate(c, leaves[i], &first);
			left += r > 0 ? r : 0;
		}
		for (size_t i = 0; i < VF_ARRAY_SIZE(leaves); i++) {
			struct vf_err re = { 0 };

			leaf_name(c, leaves[i], rel, sizeof(rel));
			if (remove_group(c, rel, &re) < 0)
				vf_err_keep_first(&rm, &re);
		}
		if (!vf_err_is_set(&rm))
			break;
		usleep(10000);
	}
	restore_sched(c, &first);
	if (!vf_err_is_set(&rm))
		remove_group(c, c->base, &rm);
	if (vf_err_is_set(&rm)) {
		if (left) {
			*e = vf_err_is_set(&first) ? first : rm;
			return vf_err_wrap(e, "removing the cgroups of %s: %d task%s could not be moved out",
					   c->bdf, left, left == 1 ? "" : "s");
		}
		*e = rm;
		return vf_err_wrap(e, "removing the cgroups of %s", c->bdf);
	}
	{
		struct vf_err se = { 0 };

		/* the slice stays while other devices' groups are in it */
		if (remove_group(c, DEVCG_SLICE, &se) < 0 && se.errnum != EBUSY &&
		    se.errnum != ENOTEMPTY)
			vf_err_keep_first(&first, &se);
	}
	free_state(c);
	c->ready = false;
	if (vf_err_is_set(&first)) {
		*e = first;
		return vf_err_wrap(e, "cgroups of %s removed, but restoring %s failed", c->bdf,
				   vf_err_is_set(&aff) ? "IRQ affinity" : "a task's scheduling or cgroup");
	}
	return 0;
}

int devcg_sweep(const char (*keep)[VF_BDF_LEN], size_t n, struct vf_err *e)
{
	enum devcg_hier hier;
	char mount[PATH_MAX], dir[PATH_MAX + 16];
	struct dirent *de;
	DIR *dp;
	int removed = 0, failed = 0;

	if (detect(&hier, mount, sizeof(mount), e) < 0)
		return -1;
	if (vf_path(dir, sizeof(dir), "%s/" DEVCG_SLICE, mount) < 0)
		return vf_err_set(e, ENAMETOOLONG, "%s/" DEVCG_SLICE, mount);
	dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : vf_err_set(e, errno, "cannot list %s", dir);
	while ((de = readdir(dp))) {
		char bdf[VF_BDF_LEN];
		struct devcg c = { 0 };
		struct vf_err ce = { 0 };
		bool owned = false;

		if (de->d_type != DT_DIR || strlen(de->d_name) != VF_BDF_LEN - 1)
			continue;
		/* "dddd_bb_dd.f": a device's cgroup, named as devcg_name does */
		memcpy(bdf, de->d_name, VF_BDF_LEN);
		bdf[4] = bdf[4] == '_' ? ':' : '?';
		bdf[7] = bdf[7] == '_' ? ':' : '?';
		if (!vf_is_canonical_bdf(bdf))
			continue;
		for (size_t i = 0; i < n; i++)
			owned |= strcmp(keep[i], bdf) == 0;
		if (owned)
			continue;
		/* adopt it as it is (caps do not matter now), then tear it down */
		if (devcg_setup(&c, bdf, 100, 100, &ce) < 0 || devcg_teardown(&c, &ce) < 0) {
			if (!failed++)
				vf_err_set(e, ce.errnum, "%s", ce.msg);
		} else {
			removed++;
		}
		devcg_free(&c);
	}
	closedir(dp);
	return failed ? -1 : removed;
}

void devcg_free(struct devcg *c)
{
	free_state(c);
	memset(c, 0, sizeof(*c));
}

void devcg_report_free(struct devcg_report *r)
{
	free(r->threads);
	free(r->holders);
	memset(r, 0, sizeof(*r));
}

/* ---- what this kernel lets a throttle do (levers.h) ---- */

/* The first kernel thread named irq/<N>-...: its stat, or -ENOENT. */
static int any_irq_thread(const struct hostfs *h, struct devcg_stat *st)
{
	_cleanup_closedir_ DIR *d = hostfs_opendir(h, "proc", NULL);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char path[64], comm[256];

		if (!all_digits(de->d_name) ||
		    vf_path(path, sizeof(path), "%s/comm", de->d_name) < 0 ||
		    hostfs_attr_at(dirfd(d), path, comm, sizeof(comm), NULL) < 0 ||
		    strncmp(comm, "irq/", 4) != 0)
			continue;
		if (read_stat_at(dirfd(d), de->d_name, st) == 0 && devcg_stat_is_kthread(st))
			return 0;
	}
	return -ENOENT;
}

/* Moves `tid` into the cgroup it is in already: the kernel's veto, without a move. */
static int move_in_place(enum devcg_hier hier, const char *mount, const struct hostfs *h,
			 pid_t tid, struct vf_err *e)
{
	char dir[16], rel[PATH_MAX], path[PATH_MAX * 2], num[16];
	_cleanup_free_ char *text = NULL;
	char file[48];
	_cleanup_close_ int fd = -1;
	int n;

	vf_path(dir, sizeof(dir), "%d", (int)tid);
	if (vf_path(file, sizeof(file), "proc/%s/cgroup", dir) < 0 ||
	    hostfs_read_all(h, file, 1u << 16, &text, NULL, NULL) < 0 ||
	    devcg_parse_proc_cgroup(text, hier, rel, sizeof(rel)) < 0)
		return vf_err_set(e, ENOENT, "the cgroup of thread %d", (int)tid);
	if (vf_path(path, sizeof(path), "%s%s/%s", mount, strcmp(rel, "/") == 0 ? "" : rel,
		    hier == DEVCG_HIER_V2 ? "cgroup.threads" : "tasks") < 0)
		return vf_err_set(e, ENAMETOOLONG, "the cgroup of thread %d", (int)tid);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && hier == DEVCG_HIER_V2) {
		/* a domain cgroup without threads: the process file */
		vf_path(path, sizeof(path), "%s%s/cgroup.procs", mount,
			strcmp(rel, "/") == 0 ? "" : rel);
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return vf_err_set(e, errno, "%s", path);
	n = snprintf(num, sizeof(num), "%d", (int)tid);
	if (write(fd, num, (size_t)n) < 0)
		return vf_err_set(e, errno, "moving thread %d into %s", (int)tid, path);
	return 0;
}

int devcg_probe_levers(const struct hostfs *h, const struct policy *p, struct levers *l)
{
	_cleanup_free_ char *cmdline = NULL;
	uint64_t hk[MASK_WORDS];
	char rt[8] = "", mount[PATH_MAX];
	enum devcg_hier hier = DEVCG_HIER_NONE;
	struct devcg_stat st;
	struct vf_err ign = { 0 };
	_cleanup_close_ int kfd = -1;
	bool all = true;

	memset(l, 0, sizeof(*l));
	kfd = hostfs_open(h, "sys/kernel", O_RDONLY | O_DIRECTORY, NULL);
	if (kfd >= 0)
		hostfs_attr_at(kfd, "realtime", rt, sizeof(rt), NULL);
	if (hostfs_read_all(h, "proc/cmdline", 1u << 16, &cmdline, NULL, NULL) == 0 &&
	    devcg_list_has(cmdline, "threadirqs")) {
		l->threaded = LEVER_YES;
		snprintf(l->threaded_why, sizeof(l->threaded_why), "threadirqs on the command line");
	} else if (strcmp(rt, "1") == 0) {
		l->threaded = LEVER_YES;
		snprintf(l->threaded_why, sizeof(l->threaded_why), "a PREEMPT_RT kernel");
	} else {
		l->threaded = LEVER_NO;
		snprintf(l->threaded_why, sizeof(l->threaded_why),
			 "neither threadirqs nor PREEMPT_RT");
	}
	if (detect(&hier, mount, sizeof(mount), &ign) == 0 && hier != DEVCG_HIER_NONE)
		l->vmm_cgroup = LEVER_YES;
	else
		l->vmm_cgroup = LEVER_NO;
	/* any IRQ thread tells what the kernel allows for all of them */
	if (hostfs_is_live(h) && any_irq_thread(h, &st) == 0) {
		struct sched_param sp = { .sched_priority = (int)st.rt_priority };

		struct vf_err me = { 0 };

		if (hier != DEVCG_HIER_NONE)
			levers_learn(&l->irq_cgroup, &l->irq_cgroup_err,
				     move_in_place(hier, mount, h, st.pid, &me) < 0 ? me.errnum : 0);
		levers_learn(&l->irq_sched, &l->irq_sched_err,
			     sched_setscheduler(st.pid, (int)st.policy, &sp) < 0 ? errno : 0);
	}
	if (housekeeping_mask(h, p, hk, &all, &ign) == 0 && !all) {
		l->steer = true;
		vf_format_cpulist(hk, DEVCG_CPU_MAX, l->housekeeping, sizeof(l->housekeeping));
	}
	return 0;
}

void devcg_learn_levers(const struct devcg_report *r, struct levers *l)
{
	for (size_t i = 0; i < r->n_threads; i++) {
		const struct devcg_thread_report *t = &r->threads[i];

		if (t->how == DEVCG_MOVED_DEMOTED) {
			levers_learn(&l->irq_cgroup, &l->irq_cgroup_err, 0);
			l->threaded = LEVER_YES;
		} else if (t->how == DEVCG_DEMOTED_ONLY && t->move_err != ESRCH) {
			levers_learn(&l->irq_cgroup, &l->irq_cgroup_err, t->move_err);
		} else if (t->how == DEVCG_FAILED && t->was_rt && t->err != ESRCH) {
			levers_learn(&l->irq_sched, &l->irq_sched_err, t->err);
		}
	}
}

/* ---- the set of every owned device's cgroups ---- */

void devcg_set_init(struct devcg_set *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

void devcg_set_fini(struct devcg_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		devcg_free(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
	pthread_mutex_destroy(&s->mu);
}

void devcg_set_lock(struct devcg_set *s)
{
	pthread_mutex_lock(&s->mu);
}

void devcg_set_unlock(struct devcg_set *s)
{
	pthread_mutex_unlock(&s->mu);
}

struct devcg *devcg_set_find(struct devcg_set *s, const char *bdf)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].bdf, bdf) == 0)
			return &s->v[i];
	return NULL;
}

void devcg_set_sync(struct devcg_set *s, const struct devcg_set_member *m, size_t n,
		    const struct policy *policy, void (*gone)(void *ctx, const char *bdf),
		    void *ctx)
{
	struct vf_err e = { 0 };

	pthread_mutex_lock(&s->mu);
	for (size_t i = s->n; i-- > 0;) {
		bool member = false;

		for (size_t k = 0; k < n; k++)
			member |= strcmp(m[k].bdf, s->v[i].bdf) == 0;
		if (member)
			continue;
		if (devcg_teardown(&s->v[i], &e) < 0)
			vf_log(LOG_WARNING, "%s: cgroups left behind: %s", s->v[i].bdf, e.msg);
		if (gone)
			gone(ctx, s->v[i].bdf);
		devcg_free(&s->v[i]);
		s->v[i] = s->v[--s->n];
	}
	for (size_t k = 0; k < n; k++) {
		struct devcg *c = devcg_set_find(s, m[k].bdf);

		if (!c) {
			s->v = vf_xreallocarray(s->v, s->n + 1, sizeof(*s->v));
			c = &s->v[s->n++];
			memset(c, 0, sizeof(*c));
		}
		c->policy = policy;
		if (devcg_setup(c, m[k].bdf, m[k].irq_pct, m[k].vmm_pct, &e) < 0)
			vf_log(LOG_WARNING, "%s: no CPU cgroups: %s", m[k].bdf, e.msg);
	}
	pthread_mutex_unlock(&s->mu);
}
