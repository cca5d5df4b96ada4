// SPDX-License-Identifier: GPL-2.0-or-later
#include "hotplug.h"

#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>

int hotplug_open(struct hotplug *hp, struct vf_err *e)
{
	hp->udev = udev_new();
	if (!hp->udev)
		return vf_err_set(e, errno, "udev_new");
	hp->mon = udev_monitor_new_from_netlink(hp->udev, "kernel");
	if (!hp->mon || udev_monitor_filter_add_match_subsystem_devtype(hp->mon, "pci", NULL) < 0 ||
	    udev_monitor_enable_receiving(hp->mon) < 0) {
		vf_err_set(e, errno, "cannot watch PCI uevents");
		hotplug_close(hp);
		return -1;
	}
	return 0;
}

int hotplug_fd(const struct hotplug *hp)
{
	return hp->mon ? udev_monitor_get_fd(hp->mon) : -1;
}

int hotplug_next(struct hotplug *hp, char action[16], char bdf[VF_BDF_LEN])
{
	struct udev_device *d;
	const char *a, *name;
	int found = 0;

	if (!hp->mon)
		return 0;
	d = udev_monitor_receive_device(hp->mon);
	if (!d)
		return 0;
	a = udev_device_get_action(d);
	name = udev_device_get_sysname(d);
	if (a && name && vf_is_canonical_bdf(name) && strlen(a) < 16) {
		snprintf(action, 16, "%s", a);
		snprintf(bdf, VF_BDF_LEN, "%s", name);
		found = 1;
	}
	udev_device_unref(d);
	return found;
}

void hotplug_close(struct hotplug *hp)
{
	if (hp->mon)
		udev_monitor_unref(hp->mon);
	if (hp->udev)
		udev_unref(hp->udev);
	hp->mon = NULL;
	hp->udev = NULL;
}
