// SPDX-License-Identifier: GPL-2.0-or-later
#include "inject.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Where the child stopped; each has its sentence in step_text(). */
enum step {
	STEP_DONE,
	STEP_ROOT,
	STEP_DEV_OPEN,
	STEP_DEV_FS,
	STEP_DEV_HOST,
	STEP_VFIO_MKDIR,
	STEP_VFIO_OPEN,
	STEP_VFIO_FS,
	STEP_VFIO_HOST,
	STEP_NODE_MAKE,
	STEP_NODE_OPEN,
	STEP_NODE_NOT_OURS,
	STEP_NODE_CHOWN,
	STEP_NODE_UNLINK,
	STEP_NODE_UNLINK_NOT_OURS,
};

int inject_host_nodes(const struct hostfs *h, int group, struct inject_nodes *n,
		      struct vf_err *e)
{
	char name[32];
	struct stat ctl, grp, dir;
	_cleanup_close_ int dfd = -1;

	memset(n, 0, sizeof(*n));
	if (!hostfs_is_live(h))
		return vf_err_refuse(e, "bad-request", "live injection works on the real root only");
	dfd = hostfs_open(h, "dev/vfio", O_RDONLY | O_DIRECTORY, e);
	if (dfd < 0)
		return vf_err_wrap(e, "the host's /dev/vfio");
	snprintf(name, sizeof(name), "%d", group);
	if (fstat(dfd, &dir) < 0 || fstatat(dfd, "vfio", &ctl, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fstatat(dfd, name, &grp, AT_SYMLINK_NOFOLLOW) < 0)
		return vf_err_set(e, errno, "the host's vfio device nodes (/dev/vfio/vfio, /dev/vfio/%d)",
				  group);
	if (!S_ISCHR(ctl.st_mode) || !S_ISCHR(grp.st_mode))
		return vf_err_set(e, 0, "the host's /dev/vfio/vfio or /dev/vfio/%d is not a character device",
				  group);
	snprintf(n->group, sizeof(n->group), "%d", group);
	n->ctl_rdev = ctl.st_rdev;
	n->grp_rdev = grp.st_rdev;
	n->ctl_mode = ctl.st_mode & 07777;
	n->grp_mode = grp.st_mode & 07777;
	n->ctl_uid = ctl.st_uid;
	n->grp_uid = grp.st_uid;
	n->ctl_gid = ctl.st_gid;
	n->grp_gid = grp.st_gid;
	n->host_dev = dir.st_dev;
	return 0;
}

/* ---- the child: async-signal-safe calls only (the daemon has threads) ---- */

static int open_beneath(int dirfd, const char *name, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
}

/* A directory the container may own: tmpfs, and not the host's /dev. */
static enum step dir_ok(int fd, const struct inject_nodes *n, enum step fs, enum step host,
			int *err)
{
	struct statfs sfs;
	struct stat st;

	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) {
		*err = errno;
		return fs;
	}
	if (sfs.f_type != TMPFS_MAGIC) {
		*err = 0;
		return fs;
	}
	if (st.st_dev == n->host_dev) {
		*err = 0;
		return host;
	}
	return STEP_DONE;
}

static enum step make_node(int vfio, const char *name, dev_t rdev, mode_t mode, uid_t uid,
			   gid_t gid, bool *madep, int *err)
{
	bool made = true;
	struct stat st;
	int fd;

	if (mknodat(vfio, name, S_IFCHR | mode, rdev) < 0) {
		if (errno != EEXIST) {
			*err = errno;
			return STEP_NODE_MAKE;
		}
		made = false;
	}
	fd = open_beneath(vfio, name, O_PATH);
	if (fd < 0) {
		*err = errno;
		return STEP_NODE_OPEN;
	}
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != rdev) {
		*err = 0;
		close(fd);
		return STEP_NODE_NOT_OURS;
	}
	/* a node that was there already is the container's own: left as it is */
	*madep = made;
	if (made && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
		*err = errno;
		close(fd);
		return STEP_NODE_CHOWN;
	}
	close(fd);
	return STEP_DONE;
}

static enum step do_nodes(int procdir, const struct inject_nodes *n, bool remove, int *err)
{
	int root, dev, vfio;
	enum step s;
	struct stat st;
	bool made_dir = !remove;

	*err = 0;
	/* the process's root: a magic link, the only one followed */
	root = openat(procdir, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		*err = errno;
		return STEP_ROOT;
	}
	dev = open_beneath(root, "dev", O_RDONLY | O_DIRECTORY);
	if (dev < 0) {
		*err = errno;
		return STEP_DEV_OPEN;
	}
	s = dir_ok(dev, n, STEP_DEV_FS, STEP_DEV_HOST, err);
	if (s != STEP_DONE)
		return s;
	if (!remove && mkdirat(dev, "vfio", 0755) < 0) {
		if (errno != EEXIST) {
			*err = errno;
			return STEP_VFIO_MKDIR;
		}
		made_dir = false;
	}
	vfio = open_beneath(dev, "vfio", O_RDONLY | O_DIRECTORY);
	if (vfio < 0) {
		*err = errno;
		return remove && errno == ENOENT ? STEP_DONE : STEP_VFIO_OPEN;
	}
	s = dir_ok(vfio, n, STEP_VFIO_FS, STEP_VFIO_HOST, err);
	if (s != STEP_DONE) {
		if (made_dir)
			unlinkat(dev, "vfio", AT_REMOVEDIR);
		return s;
	}
	if (!remove) {
		bool made_ctl = false, made_grp = false;

		s = make_node(vfio, "vfio", n->ctl_rdev, n->ctl_mode, n->ctl_uid, n->ctl_gid,
			      &made_ctl, err);
		if (s == STEP_DONE)
			s = make_node(vfio, n->group, n->grp_rdev, n->grp_mode, n->grp_uid,
				      n->grp_gid, &made_grp, err);
		if (s != STEP_DONE) {
			/* refused or failed: what this request made goes again */
			if (made_grp)
				unlinkat(vfio, n->group, 0);
			if (made_ctl)
				unlinkat(vfio, "vfio", 0);
			if (made_dir)
				unlinkat(dev, "vfio", AT_REMOVEDIR);
		}
		return s;
	}
	/* /dev/vfio/vfio serves every group: only the group's node goes */
	if (fstatat(vfio, n->group, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		*err = errno;
		return errno == ENOENT ? STEP_DONE : STEP_NODE_UNLINK;
	}
	if (!S_ISCHR(st.st_mode) || st.st_rdev != n->grp_rdev)
		return STEP_NODE_UNLINK_NOT_OURS;
	if (unlinkat(vfio, n->group, 0) < 0 && errno != ENOENT) {
		*err = errno;
		return STEP_NODE_UNLINK;
	}
	*err = 0;
	return STEP_DONE;
}

int inject_start(struct inject_job *j, int procdir, int pid, const struct inject_nodes *n,
		 bool remove, int deadline_ms, struct vf_err *e)
{
	int p[2];
	pid_t child;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	/* non-blocking: a spurious wake-up never blocks the loop in read() */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return vf_err_set(e, errno, "pipe");
	child = fork();
	if (child < 0) {
		int err = errno;

		close(p[0]);
		close(p[1]);
		return vf_err_set(e, err, "fork");
	}
	if (child == 0) {
		struct inject_result r;

		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		umask(0); /* the nodes get the host's modes exactly */
		r.step = (int)do_nodes(procdir, n, remove, &r.err);
		(void)!write(p[1], &r, sizeof(r));
		_exit(0);
	}
	close(p[1]);
	j->child = child;
	j->fd = p[0];
	j->remove = remove;
	j->pid = pid;
	j->deadline_ms = (int64_t)vf_now_ms() + deadline_ms;
	return 0;
}

static const char *step_text(int step)
{
	switch (step) {
	case STEP_ROOT: return "cannot open its root directory";
	case STEP_DEV_OPEN: return "cannot open its /dev without following a symbolic link";
	case STEP_DEV_FS: return "its /dev is not a tmpfs or devtmpfs";
	case STEP_DEV_HOST: return "its /dev is the host's own /dev";
	case STEP_VFIO_MKDIR: return "cannot create its /dev/vfio";
	case STEP_VFIO_OPEN: return "cannot open its /dev/vfio without following a symbolic link";
	case STEP_VFIO_FS: return "its /dev/vfio is not a tmpfs or devtmpfs";
	case STEP_VFIO_HOST: return "its /dev/vfio is the host's own /dev/vfio";
	case STEP_NODE_MAKE: return "cannot create a node in its /dev/vfio";
	case STEP_NODE_OPEN: return "a node in its /dev/vfio cannot be opened without following a symbolic link";
	case STEP_NODE_NOT_OURS: return "an entry in its /dev/vfio is there already and is not the device";
	case STEP_NODE_CHOWN: return "cannot set the owner of a node in its /dev/vfio";
	case STEP_NODE_UNLINK: return "cannot remove the group's node from its /dev/vfio";
	case STEP_NODE_UNLINK_NOT_OURS: return "its /dev/vfio group entry is not the device: left alone";
	default: return "the injection child failed";
	}
}

/* The steps that are the target's doing: refused, not failed. */
static bool step_is_refusal(int step, int err)
{
	switch (step) {
	case STEP_DEV_FS:
	case STEP_DEV_HOST:
	case STEP_VFIO_FS:
	case STEP_VFIO_HOST:
	case STEP_NODE_NOT_OURS:
	case STEP_NODE_UNLINK_NOT_OURS:
		return true;
	case STEP_DEV_OPEN:
	case STEP_VFIO_OPEN:
	case STEP_NODE_OPEN:
		return err == ELOOP || err == EXDEV || err == ENOTDIR;
	default:
		return false;
	}
}

int inject_end(struct inject_job *j, bool expired, struct vf_err *e)
{
	struct inject_result r = { .step = -1 };
	ssize_t got = -1;
	int status, rc;

	if (!j->child)
		return vf_err_set(e, 0, "no injection child");
	if (!expired)
		got = read(j->fd, &r, sizeof(r));
	if (got != (ssize_t)sizeof(r))
		kill(j->child, SIGKILL); /* our own child: its pid cannot be reused before the wait */
	while (waitpid(j->child, &status, 0) < 0 && errno == EINTR)
		;
	close(j->fd);
	j->fd = -1;
	j->child = 0;
	if (expired)
		return vf_err_refuse(e, "timeout",
				     "process %d's /dev did not answer within %d ms (a stalled file system, such as an unanswered FUSE mount); nothing was changed there",
				     j->pid, INJECT_DEADLINE_MS);
	if (got != (ssize_t)sizeof(r))
		return vf_err_set(e, 0, "process %d: the injection child died", j->pid);
	if (r.step == STEP_DONE)
		return 0;
	if (step_is_refusal(r.step, r.err))
		rc = vf_err_refuse(e, "not-permitted", "process %d: %s", j->pid, step_text(r.step));
	else
		rc = vf_err_set(e, r.err, "process %d: %s", j->pid, step_text(r.step));
	return rc;
}

int inject_run(int procdir, int pid, const struct inject_nodes *n, bool remove, int deadline_ms,
	       struct vf_err *e)
{
	struct inject_job j;
	int left;

	if (inject_start(&j, procdir, pid, n, remove, deadline_ms, e) < 0)
		return -1;
	do {
		struct pollfd pfd = { .fd = j.fd, .events = POLLIN };
		int r;

		left = (int)(j.deadline_ms - (int64_t)vf_now_ms());
		r = poll(&pfd, 1, left > 0 ? left : 0);
		if (r > 0)
			return inject_end(&j, false, e);
		if (r < 0 && errno != EINTR)
			break;
	} while (left > 0);
	return inject_end(&j, true, e);
}
