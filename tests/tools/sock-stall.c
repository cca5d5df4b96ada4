// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sock-stall: a UNIX socket server that accepts every connection and never
 * answers, as a wedged libvirtd does.
 *
 *   sock-stall PATH
 *
 * Listens on PATH (removed first when it is a socket), prints "listening"
 * once it does, accepts and holds every connection without reading or
 * writing, until SIGTERM or SIGINT (then removes PATH and exits 0).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction act = { .sa_handler = on_signal };
	struct stat st;
	int fd, held = 0;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: sock-stall PATH\n");
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	if (lstat(argv[1], &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(argv[1]);
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		fprintf(stderr, "sock-stall: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 200) == 1) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				held++; /* held open, never read or written */
		}
	}
	unlink(argv[1]);
	fprintf(stderr, "sock-stall: held %d connections\n", held);
	return 0;
}
