// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuse-stall DIR: mounts a FUSE file system on DIR whose server never
 * answers (not even the kernel's INIT), prints "ready" and sleeps until
 * killed. Every access below DIR then waits, killably, for an answer that
 * never comes: the hostile tenant's /dev in tests/testbed/scenario-hostile.sh.
 * Run it in a mount namespace of its own (unshare -m).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char opts[128];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: fuse-stall DIR\n");
		return 2;
	}
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("/dev/fuse");
		return 1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
	if (mount("stall", argv[1], "fuse", MS_NOSUID | MS_NODEV, opts) < 0) {
		perror("mount fuse");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
