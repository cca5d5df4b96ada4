/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host-critical devices: the PCI devices the host itself runs on, found from
 * the mount table, the active swap areas and the default routes, mapped to
 * PCI addresses through sysfs (dm/md slaves and bond/bridge/VLAN lower
 * devices followed). The boot GPU is a plain PCI fact (boot_vga) and is
 * judged in verdict.c.
 *
 * The table parsers are pure (buffers in, callbacks out) for tests and
 * fuzzers; hostcrit_collect() does the reading. When a table cannot be read
 * or parsed, vfiod cannot prove a storage or network device is not the
 * host's own, and the collect result says so (fail closed).
 */
#ifndef VFIOD_HOSTCRIT_H
#define VFIOD_HOSTCRIT_H

#include "hostfs.h"
#include "pci.h"

/* A mount: device numbers, filesystem type, source ("/dev/sda1",
 * "rpool/root", a 9p tag, ...), mount point. */
typedef void (*hostcrit_mount_cb)(void *ctx, unsigned major, unsigned minor,
				  const char *fstype, const char *source,
				  const char *mountpoint);
typedef void (*hostcrit_name_cb)(void *ctx, const char *name);

/* Parsers return the number of entries reported, or -EINVAL on a malformed line. */
int hostcrit_parse_mountinfo(const char *buf, hostcrit_mount_cb cb, void *ctx);
/* Reports the path of every active swap area of type "partition". */
int hostcrit_parse_swaps(const char *buf, hostcrit_name_cb cb, void *ctx);
/* Reports the interface of every IPv4 default route that is up. */
int hostcrit_parse_route(const char *buf, hostcrit_name_cb cb, void *ctx);
/* Reports the interface of every IPv6 default route that is up and usable. */
int hostcrit_parse_ipv6_route(const char *buf, hostcrit_name_cb cb, void *ctx);

struct host_critical {
	char bdf[VF_BDF_LEN];
	char why[512]; /* completes "is host-critical: it ..." */
};

struct host_critical_set {
	struct host_critical *v;
	size_t n;
	/* Non-empty when a table could not be read: storage / network devices
	 * cannot be cleared. The text says which table and why. */
	char storage_unknown[512];
	char network_unknown[512];
};

void hostcrit_collect(const struct hostfs *h, struct host_critical_set *out);
void hostcrit_free(struct host_critical_set *s);

const struct host_critical *hostcrit_find(const struct host_critical_set *s,
					  const char *bdf);

#endif
