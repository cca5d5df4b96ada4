// SPDX-License-Identifier: GPL-2.0-or-later
#include "hostwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_rtnl(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int hostwatch_open(struct hostwatch *w, const struct hostfs *h, struct vf_err *e)
{
	struct vf_err ignored = { 0 };

	/* both report a change as POLLPRI (with POLLERR); nothing is read from them */
	w->mounts_fd = hostfs_open(h, "proc/self/mountinfo", O_RDONLY, &ignored);
	w->swaps_fd = hostfs_open(h, "proc/swaps", O_RDONLY, &ignored);
	w->nl_fd = open_rtnl();
	if (w->mounts_fd < 0 && w->swaps_fd < 0 && w->nl_fd < 0)
		return vf_err_set(e, EIO, "neither the mount table, the swaps nor the routes can be watched");
	if (w->mounts_fd < 0 || w->swaps_fd < 0 || w->nl_fd < 0)
		vf_err_set(e, EIO, "watching %s%s%s only",
			   w->mounts_fd >= 0 ? "mounts " : "", w->swaps_fd >= 0 ? "swaps " : "",
			   w->nl_fd >= 0 ? "routes" : "");
	return 0;
}

void hostwatch_pollfds(const struct hostwatch *w, struct pollfd *pfd)
{
	pfd[0] = (struct pollfd){ .fd = w->mounts_fd, .events = POLLPRI };
	pfd[1] = (struct pollfd){ .fd = w->swaps_fd, .events = POLLPRI };
	pfd[2] = (struct pollfd){ .fd = w->nl_fd, .events = POLLIN };
}

/* Reads every queued rtnetlink message; true when one was the kernel's (or some were lost). */
static bool drain_rtnl(int fd)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct nlmsghdr))));
	bool changed = false;

	for (;;) {
		struct sockaddr_nl from;
		socklen_t len = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				changed = true; /* messages lost: assume the worst */
			if (errno == EAGAIN || errno == ENOBUFS)
				break;
			break;
		}
		/* only the kernel's word counts: a process could send to our port */
		if (len == sizeof(from) && from.nl_pid == 0 && r >= (ssize_t)sizeof(struct nlmsghdr))
			changed = true;
		if (r == 0)
			break;
	}
	return changed;
}

bool hostwatch_changed(struct hostwatch *w, const struct pollfd *pfd)
{
	bool changed = false;

	/* the poll that reported a mount or swap change consumed it: nothing to read */
	changed |= pfd[0].fd >= 0 && (pfd[0].revents & (POLLPRI | POLLERR));
	changed |= pfd[1].fd >= 0 && (pfd[1].revents & (POLLPRI | POLLERR));
	if (pfd[2].fd >= 0 && (pfd[2].revents & (POLLIN | POLLERR)))
		changed |= drain_rtnl(w->nl_fd);
	return changed;
}

void hostwatch_close(struct hostwatch *w)
{
	int *fds[] = { &w->mounts_fd, &w->swaps_fd, &w->nl_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
