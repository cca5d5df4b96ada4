/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI hotplug through libudev: the kernel's uevents (the "kernel" netlink
 * source, so it works with or without udevd running), filtered to the pci
 * subsystem. The daemon polls the fd and reacts: an owned device that
 * vanishes is reported; one that comes back is reconciled.
 */
#ifndef VFIOD_HOTPLUG_H
#define VFIOD_HOTPLUG_H

#include "err.h"
#include "parse.h"

struct udev;
struct udev_monitor;

struct hotplug {
	struct udev *udev;
	struct udev_monitor *mon;
};

int hotplug_open(struct hotplug *hp, struct vf_err *e);
int hotplug_fd(const struct hotplug *hp);
/* Reads one event: 1 with `action` ("add", "remove", ...) and `bdf` set,
 * 0 when there was nothing (or nothing about a PCI device). */
int hotplug_next(struct hotplug *hp, char action[16], char bdf[VF_BDF_LEN]);
void hotplug_close(struct hotplug *hp);

#endif
