/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside cgroup.h's implementation, which is split by role: cgroup.c (the
 * cgroups themselves through libcgroup: setup, caps, moving threads,
 * teardown, the set, device cgroups), cgroup_tasks.c (which tasks do what:
 * /proc/PID/stat, IRQ threads of vectors, holders of device nodes) and
 * cgroup_cpus.c (housekeeping CPUs, IRQ affinity steering, what the kernel
 * lets a throttle do). Not for anyone else.
 */
#ifndef VFIOD_CGROUP_INT_H
#define VFIOD_CGROUP_INT_H

#include "cgroup.h"

#define MASK_WORDS (DEVCG_CPU_MAX / 64)

/* A vector's affinity before vfiod steered it. */
struct devcg_saved_affinity {
	unsigned irq;
	char *list;
};

/* Only decimal digits, at least one. */
bool devcg_all_digits(const char *s);

/* Reads "<dir>/stat" below dirfd into st; <0 when it cannot (gone, junk). */
int devcg_read_stat_at(int dirfd, const char *dir, struct devcg_stat *st);

/* Finds the hierarchy with the cpu controller (see cgroup.h). */
int devcg_detect(enum devcg_hier *hier, char *mount, size_t cap, struct vf_err *e);

#endif
