/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the host-critical verdicts rest on, watched (live host only): the
 * mount table (/proc/self/mountinfo reports a change as POLLPRI), the swap
 * areas (/proc/swaps does the same) and the routes and links (an rtnetlink
 * socket subscribed to link, IPv4 and IPv6 route changes). The main loop
 * polls the three itself (hostwatch_pollfds); hostwatch_changed() drains
 * them and says whether anything changed. Not behind an epoll descriptor:
 * the first poll of /proc/self/mountinfo after a change reports it and
 * consumes it, and a poll of an epoll descriptor polls its members, so the
 * epoll_wait after it would find nothing (seen on 6.1). The messages themselves
 * are not parsed: any of them means "read the host-critical facts again"
 * (view_mark_host), which is how they are judged anyway. A message lost
 * (ENOBUFS) counts as a change.
 */
#ifndef VFIOD_HOSTWATCH_H
#define VFIOD_HOSTWATCH_H

#include <stdbool.h>

#include "err.h"
#include "hostfs.h"

#include <poll.h>

#define HOSTWATCH_NFDS 3

struct hostwatch {
	int mounts_fd;   /* -1: not watched */
	int swaps_fd;
	int nl_fd;
};

/* Opens what it can; <0 only when nothing can be watched (e says why). */
int hostwatch_open(struct hostwatch *w, const struct hostfs *h, struct vf_err *e);
/* Fills HOSTWATCH_NFDS entries to poll (fd -1 for what is not watched). */
void hostwatch_pollfds(const struct hostwatch *w, struct pollfd *pfd);
/* After poll: drains what `pfd` (as filled) reports; true when the mounts, swaps, routes or links changed. */
bool hostwatch_changed(struct hostwatch *w, const struct pollfd *pfd);
void hostwatch_close(struct hostwatch *w);

#endif
