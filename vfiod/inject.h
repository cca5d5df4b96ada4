/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live injection: the work done in another process's /dev, the part of
 * vfiod that writes where a tenant controls the file system. Rules (each
 * one an attack that worked before it):
 *
 * - Every path is resolved from the process's own root (/proc/<pid>/root,
 *   held by a pinned /proc directory) with openat2(RESOLVE_BENEATH |
 *   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS): a symbolic link anywhere
 *   on the way is refused, never followed.
 * - /dev and /dev/vfio must be tmpfs (devtmpfs reports tmpfs) and must not
 *   be the host's own /dev (a bind mount of it, or devtmpfs mounted again,
 *   shares its superblock): what vfiod creates or removes there is the
 *   container's alone.
 * - Nodes are made with mknodat in the held directory, checked through an
 *   O_PATH descriptor of their own (a character device with the host's
 *   st_rdev, else refused), and chowned through that descriptor. A node
 *   is removed only when fstatat (no link followed) shows the expected
 *   device.
 * - The work runs in a child process with a deadline: a /dev that never
 *   answers (an unanswered FUSE mount) stalls that child, which is killed,
 *   never the daemon. The checks that can stall come before any change.
 */
#ifndef VFIOD_INJECT_H
#define VFIOD_INJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "hostfs.h"

#define INJECT_DEADLINE_MS 5000

/* The host's nodes, as the container's must be. */
struct inject_nodes {
	char group[16];          /* the group node's name under /dev/vfio */
	dev_t ctl_rdev, grp_rdev;
	mode_t ctl_mode, grp_mode;
	uid_t ctl_uid, grp_uid;
	gid_t ctl_gid, grp_gid;
	dev_t host_dev;          /* st_dev of the host's /dev/vfio */
};

/* Reads the host's /dev/vfio/vfio and /dev/vfio/<group> (the real root only). */
int inject_host_nodes(const struct hostfs *h, int group, struct inject_nodes *n,
		      struct vf_err *e);

/* What the child reports: the step it stopped at and errno (0 and 0: done). */
struct inject_result {
	int step;
	int err;
};

struct inject_job {
	pid_t child;          /* 0 when none runs */
	int fd;               /* readable when the child reports or exits */
	int64_t deadline_ms;  /* CLOCK_MONOTONIC */
	bool remove;
	int pid;              /* the target, for messages */
};

/*
 * Starts a child that creates (or, with `remove`, takes away) the group's
 * nodes below the root of the process whose /proc directory is `procdir`.
 */
int inject_start(struct inject_job *j, int procdir, int pid, const struct inject_nodes *n,
		 bool remove, int deadline_ms, struct vf_err *e);

/*
 * Ends the job: call when j->fd is readable, or once the deadline has
 * passed (`expired`: the child is killed, code "timeout"). Returns 0 when
 * the child did all of it, else -1 with a sentence (code "not-permitted"
 * when the target's /dev breaks a rule above).
 */
int inject_end(struct inject_job *j, bool expired, struct vf_err *e);

/* inject_start then inject_end, waiting (at most deadline_ms) for the child. */
int inject_run(int procdir, int pid, const struct inject_nodes *n, bool remove, int deadline_ms,
	       struct vf_err *e);

#endif
