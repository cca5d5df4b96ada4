// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfioctl: the operator's client. One subcommand table, one function per
 * verb; --help on stdout, errors on stderr with a non-zero exit. The verbs
 * that talk to the daemon (list, show, bind, ...) join the table with the
 * control plane; today it carries the ones that need no daemon.
 */
#include <stdio.h>
#include <string.h>

#ifndef VFIOD_VERSION
#define VFIOD_VERSION "0.1.0"
#endif

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int cmd_help(int argc, char **argv);

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "vfioctl: version takes no arguments\n");
		return 2;
	}
	printf("vfioctl %s\n", VFIOD_VERSION);
	return 0;
}

static const struct verb verbs[] = {
	{ "help", cmd_help, "show this help" },
	{ "version", cmd_version, "print the version" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: vfioctl VERB [ARGS]\n\nVerbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vfioctl: unknown verb \"%s\" (try vfioctl --help)\n", argv[1]);
	return 2;
}
