/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon: opens the store, reconciles it with the kernel, then serves
 * the control socket in one poll loop with signals (signalfd): SIGTERM and
 * SIGINT end it cleanly (no transition is ever left half-way: each runs to
 * completion inside one loop turn), SIGHUP reloads the policy and keeps the
 * old one when the new one does not parse.
 */
#ifndef VFIOD_DAEMON_H
#define VFIOD_DAEMON_H

struct daemon_opts {
	const char *sysroot;
	const char *state_dir;
	const char *socket;
	const char *policy;       /* NULL: none */
	const char *udev_rules;   /* NULL: none */
	const char *pci_ids;      /* NULL: libpci's default */
	int fault_step;           /* testing only */
};

/* Runs until a terminating signal; returns the process exit status. */
int daemon_run(const struct daemon_opts *o);

#endif
