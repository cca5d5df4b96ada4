// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * irqbal-ctl: one request to a running irqbalance's control socket, as its
 * irqbalance-ui does (SCM_CREDENTIALS attached), and its answer on stdout.
 * The "other tool" of the testbed's irqbalance scenario.
 *
 *   irqbal-ctl PID 'setup' | 'settings ban irqs 9' | ...
 *
 * Waits for the answer until irqbalance closes (never closes first: an
 * irqbalance 1.9.2 still to answer "setup" would die of SIGPIPE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct ucred cred = { .pid = getpid(), .uid = getuid(), .gid = getgid() };
	char ctl[CMSG_SPACE(sizeof(cred))] = { 0 }, buf[4096];
	struct iovec iov;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ssize_t n;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: irqbal-ctl PID REQUEST\n");
		return 2;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "/run/irqbalance/irqbalance%s.sock", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("irqbal-ctl: connect");
		return 1;
	}
	iov.iov_base = argv[2];
	iov.iov_len = strlen(argv[2]);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	if (sendmsg(fd, &m, 0) < 0) {
		perror("irqbal-ctl: send");
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (strncmp(argv[2], "setup", 5) == 0)
		putchar('\n');
	close(fd);
	return n < 0;
}
