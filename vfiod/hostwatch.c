// SPDX-License-Identifier: GPL-2.0-or-later
#include "hostwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int watch(struct hostwatch *w, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

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
	int n = 0;

	w->mounts_fd = w->swaps_fd = w->nl_fd = -1;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return vf_err_set(e, errno, "epoll_create1");
	/* both report a change as POLLPRI (with POLLERR); nothing is read from them */
	w->mounts_fd = hostfs_open(h, "proc/self/mountinfo", O_RDONLY, &ignored);
	if (w->mounts_fd >= 0 && watch(w, w->mounts_fd, EPOLLPRI) == 0)
		n++;
	w->swaps_fd = hostfs_open(h, "proc/swaps", O_RDONLY, &ignored);
	if (w->swaps_fd >= 0 && watch(w, w->swaps_fd, EPOLLPRI) == 0)
		n++;
	w->nl_fd = open_rtnl();
	if (w->nl_fd >= 0 && watch(w, w->nl_fd, EPOLLIN) == 0)
		n++;
	if (n == 0) {
		hostwatch_close(w);
		return vf_err_set(e, EIO, "neither the mount table, the swaps nor the routes can be watched");
	}
	if (n < 3)
		vf_err_set(e, EIO, "watching %s%s%s only",
			   w->mounts_fd >= 0 ? "mounts " : "", w->swaps_fd >= 0 ? "swaps " : "",
			   w->nl_fd >= 0 ? "routes" : "");
	return 0;
}

int hostwatch_fd(const struct hostwatch *w)
{
	return w->epfd;
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

bool hostwatch_changed(struct hostwatch *w)
{
	struct epoll_event ev[4];
	bool changed = false;
	int n;

	if (w->epfd < 0)
		return false;
	n = epoll_wait(w->epfd, ev, 4, 0);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.fd == w->nl_fd)
			changed |= drain_rtnl(w->nl_fd);
		else
			changed |= (ev[i].events & (EPOLLPRI | EPOLLERR)) != 0;
	}
	return changed;
}

void hostwatch_close(struct hostwatch *w)
{
	int *fds[] = { &w->mounts_fd, &w->swaps_fd, &w->nl_fd, &w->epfd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
