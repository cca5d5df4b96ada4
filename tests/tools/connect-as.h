/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connections opened as another uid, for the test tools that play many
 * users against vfiod's socket (vfiod-hostile, vfiod-stress): a child
 * takes the uid (gid NOGROUP, no other groups) and opens the connections
 * (SO_PEERCRED is taken at connect, so a setresuid after it would change
 * nothing), then hands each socket back over a socketpair (SCM_RIGHTS).
 * The daemon's socket must let NOGROUP in. Root only.
 */
#ifndef VFIOD_TOOLS_CONNECT_AS_H
#define VFIOD_TOOLS_CONNECT_AS_H

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOGROUP 65534

/* Sends one attempt's outcome: `err` (0: opened) and, when opened, `fd`. */
static int connect_as_send(int sock, int fd, int err)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &err, sizeof(err) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, 0) < 0 ? -1 : 0;
}

/*
 * Opens `n` connections as `uid`, each by `open_one(ctx)` (a connected fd,
 * or -1 with errno) run in the child. fds[i] is the socket, or -1 with
 * errs[i] the errno of its failure (ECHILD: the child stopped before it).
 * With `stop_at_error` the child opens nothing after the first failure
 * (the rest: -1, errs 0). Returns how many were opened, or -1 with errno
 * when no child could be started.
 */
static int connect_as(uid_t uid, int (*open_one)(void *), void *ctx, int n, bool stop_at_error,
		      int *fds, int *errs)
{
	int sv[2], got = 0, status;
	pid_t child;

	for (int i = 0; i < n; i++) {
		fds[i] = -1;
		errs[i] = 0;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	child = fork();
	if (child < 0) {
		int err = errno;

		close(sv[0]);
		close(sv[1]);
		errno = err;
		return -1;
	}
	if (child == 0) {
		gid_t g = NOGROUP;
		int ids = 0;

		close(sv[0]);
		if (setgroups(0, NULL) < 0 || setresgid(g, g, g) < 0 || setresuid(uid, uid, uid) < 0)
			ids = errno; /* never open anything as root instead */
		for (int i = 0; i < n; i++) {
			int fd = ids ? -1 : open_one(ctx);
			int err = ids ? ids : fd < 0 ? (errno ? errno : EIO) : 0;

			if (connect_as_send(sv[1], fd, err) < 0)
				_exit(3);
			if (fd >= 0)
				close(fd);
			if (err && stop_at_error)
				break;
		}
		_exit(0);
	}
	close(sv[1]);
	for (int i = 0; i < n; i++) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		int data = 0;
		struct iovec iov = { &data, sizeof(data) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;
		ssize_t r = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC);

		if (r <= 0) {
			errs[i] = ECHILD; /* the child stopped before this one */
			break;
		}
		cm = CMSG_FIRSTHDR(&mh);
		if (!cm || cm->cmsg_type != SCM_RIGHTS) {
			errs[i] = data ? data : EIO;
			if (stop_at_error)
				break;
			continue;
		}
		memcpy(&fds[i], CMSG_DATA(cm), sizeof(int));
		got++;
	}
	close(sv[0]);
	waitpid(child, &status, 0);
	return got;
}

#endif
