/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the host-critical verdicts rest on, watched (live host only): the
 * mount table (/proc/self/mountinfo reports a change as POLLPRI), the swap
 * areas (/proc/swaps does the same) and the routes and links (an rtnetlink
 * socket subscribed to link, IPv4 and IPv6 route changes). The three sit
 * behind one epoll descriptor the main loop polls; hostwatch_changed()
 * drains them and says whether anything changed. The messages themselves
 * are not parsed: any of them means "read the host-critical facts again"
 * (view_mark_host), which is how they are judged anyway. A message lost
 * (ENOBUFS) counts as a change.
 */
#ifndef VFIOD_HOSTWATCH_H
#define VFIOD_HOSTWATCH_H

#include <stdbool.h>

#include "err.h"
#include "hostfs.h"

struct hostwatch {
	int epfd;        /* -1: not watching */
	int mounts_fd;
	int swaps_fd;
	int nl_fd;
};

/* Opens what it can; <0 only when nothing can be watched (e says why). */
int hostwatch_open(struct hostwatch *w, const struct hostfs *h, struct vf_err *e);
/* The descriptor to poll for POLLIN; -1 when not watching. */
int hostwatch_fd(const struct hostwatch *w);
/* Drains every source; true when the mounts, swaps, routes or links changed. */
bool hostwatch_changed(struct hostwatch *w);
void hostwatch_close(struct hostwatch *w);

#endif
