/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Processes that vfiod acts on (live injection targets, holders of a
 * device), pinned so that a pid the kernel reuses is never mistaken for
 * them: a pidfd (signals and checks go through it), the process's /proc
 * directory opened while the pidfd says it still lives, and what names it
 * beyond its pid: its start time (clock ticks since boot), recorded with
 * the pid ("<pid>@<start>") wherever vfiod keeps it.
 */
#ifndef VFIOD_PROC_H
#define VFIOD_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "hostfs.h"

struct proc_pin {
	int pid;
	int pidfd;      /* -1 when not pinned */
	int dirfd;      /* /proc/<pid>, the same process as pidfd's */
	uint64_t start; /* /proc/<pid>/stat field 22 */
	uint32_t uid[4], gid[4]; /* real, effective, saved, filesystem */
	uint64_t mntns; /* inode of its mount namespace */
};

/*
 * Pins process `pid` on the host of `h` (the real root only). Fails with
 * code "not-found" when there is no such process.
 */
int proc_pin_open(const struct hostfs *h, int pid, struct proc_pin *p, struct vf_err *e);
void proc_pin_close(struct proc_pin *p);
/* True while the pinned process has not exited. */
bool proc_pin_alive(const struct proc_pin *p);

/*
 * True when process `pid` lives and, when `start` is not 0, started at
 * `start`: the same process as the one recorded, not a reused pid. A
 * zombie has exited: it holds nothing and lives no more.
 */
bool proc_is(const struct hostfs *h, int pid, uint64_t start);

/* The start time of `pid`, 0 when it cannot be read. */
uint64_t proc_start_of(const struct hostfs *h, int pid);

/*
 * "<pid>@<start>" <-> pid and start. Parsing also takes a bare "<pid>"
 * (records written before start times were kept): start 0, unknown.
 */
void proc_id_format(int pid, uint64_t start, char *buf, size_t cap);
int proc_id_parse(const char *s, int *pid, uint64_t *start);

/*
 * Sends `sig` to the process `pid` only if it is the one that started at
 * `start` (through a pidfd, so the check and the signal name one process).
 * Returns 0, or -1 with ESRCH when that process is gone.
 */
int proc_signal(const struct hostfs *h, int pid, uint64_t start, int sig, struct vf_err *e);

#endif
