// SPDX-License-Identifier: GPL-2.0-or-later
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "parse.h"
#include "util.h"

static int sys_pidfd_open(int pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int sys_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Reads a small /proc file below `dirfd` into `buf`, NUL-terminated. */
static int read_small(int dirfd, const char *name, char *buf, size_t cap)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return 0;
}

/* Its start time; -1 when unreadable, or when it has exited (a zombie). */
static int start_at(int dirfd, uint64_t *start)
{
	char buf[1024], state;

	if (read_small(dirfd, "stat", buf, sizeof(buf)) < 0 ||
	    vf_parse_proc_state(buf, &state) < 0 || state == 'Z' || state == 'X')
		return -1;
	return vf_parse_proc_start(buf, start) < 0 ? -1 : 0;
}

static int open_procdir(const struct hostfs *h, int pid, struct vf_err *e)
{
	char path[32];

	snprintf(path, sizeof(path), "proc/%d", pid);
	return hostfs_open(h, path, O_RDONLY | O_DIRECTORY, e);
}

int proc_pin_open(const struct hostfs *h, int pid, struct proc_pin *p, struct vf_err *e)
{
	char buf[4096];
	struct stat st;
	struct vf_err ign = { 0 };

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->pidfd = p->dirfd = -1;
	if (pid < 1)
		return vf_err_refuse(e, "bad-request", "%d is not a process id", pid);
	if (!hostfs_is_live(h))
		return vf_err_refuse(e, "bad-request", "processes are pinned on the real root only");
	p->pidfd = sys_pidfd_open(pid);
	if (p->pidfd < 0) {
		if (errno == ESRCH)
			return vf_err_refuse(e, "not-found", "no process %d", pid);
		return vf_err_set(e, errno, "pidfd_open(%d)", pid);
	}
	p->dirfd = open_procdir(h, pid, &ign);
	/* the pidfd still names a live process: /proc/<pid> is that one, not a
	 * successor that got its pid in between */
	if (p->dirfd < 0 || !proc_pin_alive(p)) {
		proc_pin_close(p);
		return vf_err_refuse(e, "not-found", "no process %d", pid);
	}
	if (start_at(p->dirfd, &p->start) < 0 ||
	    read_small(p->dirfd, "status", buf, sizeof(buf)) < 0 ||
	    vf_parse_status_ids(buf, "Uid:", p->uid) < 0 ||
	    vf_parse_status_ids(buf, "Gid:", p->gid) < 0 ||
	    fstatat(p->dirfd, "ns/mnt", &st, 0) < 0) {
		int err = errno;

		proc_pin_close(p);
		return vf_err_set(e, err, "process %d: cannot read its identity from /proc", pid);
	}
	p->mntns = (uint64_t)st.st_ino;
	return 0;
}

void proc_pin_close(struct proc_pin *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->dirfd >= 0)
		close(p->dirfd);
	p->pidfd = p->dirfd = -1;
}

bool proc_pin_alive(const struct proc_pin *p)
{
	return p->pidfd >= 0 && sys_pidfd_signal(p->pidfd, 0) == 0;
}

uint64_t proc_start_of(const struct hostfs *h, int pid)
{
	struct vf_err ign = { 0 };
	_cleanup_close_ int fd = pid > 0 ? open_procdir(h, pid, &ign) : -1;
	uint64_t start = 0;

	if (fd < 0 || start_at(fd, &start) < 0)
		return 0;
	return start;
}

bool proc_is(const struct hostfs *h, int pid, uint64_t start)
{
	uint64_t now = proc_start_of(h, pid);

	return now != 0 && (start == 0 || now == start);
}

void proc_id_format(int pid, uint64_t start, char *buf, size_t cap)
{
	snprintf(buf, cap, "%d@%llu", pid, (unsigned long long)start);
}

int proc_id_parse(const char *s, int *pid, uint64_t *start)
{
	char num[16];
	const char *at = strchr(s, '@');
	size_t n = at ? (size_t)(at - s) : strlen(s);
	uint64_t v, st = 0;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (vf_parse_u64(num, 10, INT32_MAX, &v) < 0 || v < 1)
		return -EINVAL;
	if (at && vf_parse_u64(at + 1, 10, UINT64_MAX, &st) < 0)
		return -EINVAL;
	*pid = (int)v;
	*start = st;
	return 0;
}

int proc_signal(const struct hostfs *h, int pid, uint64_t start, int sig, struct vf_err *e)
{
	_cleanup_close_ int pidfd = -1;

	/* pinned first, then checked: the check and the signal name one process */
	pidfd = pid > 0 ? sys_pidfd_open(pid) : -1;
	if (pidfd < 0 || !proc_is(h, pid, start)) {
		errno = ESRCH;
		return vf_err_set(e, ESRCH, "process %d (started at %llu)", pid,
				  (unsigned long long)start);
	}
	if (sys_pidfd_signal(pidfd, sig) < 0)
		return vf_err_set(e, errno, "signal %d to process %d", sig, pid);
	return 0;
}
