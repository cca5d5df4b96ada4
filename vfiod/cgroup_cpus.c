// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CPUs: the housekeeping CPUs (the policy's, or the host's default), a
 * storming device's vectors steered to them and back, and what this kernel
 * lets a throttle do (levers.h), probed and learned (cgroup.h declares
 * them; cgroup_int.h says how the module is split).
 */
#include "cgroup_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

void devcg_default_housekeeping(const uint64_t *online, const uint64_t *isolated,
				const uint64_t (*nodes)[DEVCG_CPU_MAX / 64], size_t nnodes,
				uint64_t *out)
{
	bool any_isolated = false;

	memset(out, 0, MASK_WORDS * sizeof(*out));
	for (size_t w = 0; w < MASK_WORDS; w++)
		any_isolated |= (online[w] & isolated[w]) != 0;
	if (any_isolated) {
		/* the host said which CPUs are the tenants': the others keep house */
		for (size_t w = 0; w < MASK_WORDS; w++)
			out[w] = online[w] & ~isolated[w];
		for (size_t w = 0; w < MASK_WORDS; w++)
			if (out[w])
				return;
	}
	/* else the first online CPU of each NUMA node (of the host without nodes) */
	for (size_t n = 0; n < (nnodes ? nnodes : 1); n++)
		for (unsigned cpu = 0; cpu < DEVCG_CPU_MAX; cpu++)
			if (vf_cpu_isset(online, cpu) && (!nnodes || vf_cpu_isset(nodes[n], cpu))) {
				vf_cpu_set(out, cpu);
				break;
			}
}

/* A CPU list attribute below `dirfd` into `mask` (added); a missing one adds nothing. */
static void read_cpulist_at(int dirfd, const char *name, uint64_t *mask)
{
	char buf[4096];

	if (dirfd >= 0 && hostfs_attr_at(dirfd, name, buf, sizeof(buf), NULL) >= 0)
		vf_parse_cpulist(buf, 0, mask, DEVCG_CPU_MAX, NULL);
}

/* The default housekeeping set of this host (devcg_default_housekeeping). */
static void host_default_housekeeping(const struct hostfs *h, const uint64_t *online,
				      uint64_t *out)
{
	uint64_t isolated[MASK_WORDS] = { 0 };
	uint64_t (*nodes)[MASK_WORDS] = NULL;
	size_t nnodes = 0;
	_cleanup_close_ int cpu = hostfs_open(h, "sys/devices/system/cpu", O_RDONLY | O_DIRECTORY, NULL);
	_cleanup_closedir_ DIR *d = hostfs_opendir(h, "sys/devices/system/node", NULL);
	struct dirent *de;

	read_cpulist_at(cpu, "isolated", isolated);
	read_cpulist_at(cpu, "nohz_full", isolated);
	while (d && (de = readdir(d))) {
		char name[300];

		if (strncmp(de->d_name, "node", 4) != 0 || !devcg_all_digits(de->d_name + 4) ||
		    vf_path(name, sizeof(name), "%s/cpulist", de->d_name) < 0)
			continue;
		nodes = vf_xreallocarray(nodes, nnodes + 1, sizeof(*nodes));
		memset(nodes[nnodes], 0, sizeof(nodes[nnodes]));
		read_cpulist_at(dirfd(d), name, nodes[nnodes]);
		nnodes++;
	}
	devcg_default_housekeeping(online, isolated, (const uint64_t(*)[MASK_WORDS])nodes, nnodes,
				   out);
	free(nodes);
}

/*
 * Online CPUs that are housekeeping CPUs: the policy's, else this host's
 * default (devcg_default_housekeeping); *all when that is every online CPU.
 */
static int housekeeping_mask(const struct hostfs *h, const struct policy *p, uint64_t *mask,
			     bool *all, struct vf_err *e)
{
	uint64_t online[MASK_WORDS] = { 0 }, dflt[MASK_WORDS];
	char buf[4096];
	_cleanup_close_ int fd = -1;
	bool named = p && p->daemon.n_housekeeping;
	int r;

	fd = hostfs_open(h, "sys/devices/system/cpu", O_RDONLY | O_DIRECTORY, e);
	if (fd < 0 || hostfs_attr_at(fd, "online", buf, sizeof(buf), e) < 0)
		return vf_err_wrap(e, "online CPUs");
	r = vf_parse_cpulist(buf, 0, online, DEVCG_CPU_MAX, NULL);
	if (r <= 0)
		return vf_err_set(e, EINVAL, "sys/devices/system/cpu/online: \"%s\" is not a CPU list",
				  buf);
	if (!named)
		host_default_housekeeping(h, online, dflt);
	*all = true;
	memset(mask, 0, MASK_WORDS * sizeof(*mask));
	for (unsigned cpu = 0; cpu < DEVCG_CPU_MAX; cpu++) {
		if (!vf_cpu_isset(online, cpu))
			continue;
		if (named ? policy_housekeeping_cpu(p, cpu) : vf_cpu_isset(dflt, cpu))
			vf_cpu_set(mask, cpu);
		else
			*all = false;
	}
	for (size_t i = 0; i < MASK_WORDS; i++)
		if (mask[i])
			return 0;
	return vf_err_set(e, EINVAL, "none of the housekeeping CPUs is online");
}

static struct devcg_saved_affinity *saved_aff(struct devcg *c, unsigned irq)
{
	for (size_t i = 0; i < c->n_aff; i++)
		if (c->aff[i].irq == irq)
			return &c->aff[i];
	return NULL;
}

int devcg_steer_irqs(struct devcg *c, const struct hostfs *h, const unsigned *vectors,
		     size_t n, const struct policy *p, struct vf_err *e)
{
	uint64_t hk[MASK_WORDS];
	char list[8192];
	bool all;
	int rc = 0;

	if (n == 0)
		return 0;
	if (housekeeping_mask(h, p, hk, &all, e) < 0)
		return vf_err_wrap(e, "steering IRQs");
	if (all)
		return 0; /* every online CPU keeps house: nowhere else to go */
	if (vf_format_cpulist(hk, DEVCG_CPU_MAX, list, sizeof(list)) <= 0)
		return vf_err_set(e, ENAMETOOLONG, "steering IRQs: CPU list too long");
	c->h = h;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *old = NULL;
		char path[64];
		size_t len;

		vf_path(path, sizeof(path), "proc/irq/%u/smp_affinity_list", vectors[i]);
		if (!saved_aff(c, vectors[i])) {
			if (hostfs_read_all(h, path, sizeof(list), &old, NULL, rc ? NULL : e) < 0) {
				rc = -1;
				continue;
			}
			len = strlen(old);
			if (len && old[len - 1] == '\n')
				old[--len] = '\0';
		}
		if (hostfs_write(h, path, list, rc ? NULL : e) < 0) {
			rc = -1;
			continue;
		}
		if (old) {
			c->aff = vf_xreallocarray(c->aff, c->n_aff + 1, sizeof(*c->aff));
			c->aff[c->n_aff].irq = vectors[i];
			c->aff[c->n_aff].list = old;
			old = NULL;
			c->n_aff++;
		}
	}
	if (rc)
		return vf_err_wrap(e, "steering IRQs to CPUs %s", list);
	return 0;
}

int devcg_restore_irqs(struct devcg *c, const struct hostfs *h, struct vf_err *e)
{
	int rc = 0;

	for (size_t i = 0; i < c->n_aff; i++) {
		char path[64], dir[32];

		vf_path(dir, sizeof(dir), "proc/irq/%u", c->aff[i].irq);
		vf_path(path, sizeof(path), "%s/smp_affinity_list", dir);
		if (hostfs_exists(h, dir) && hostfs_write(h, path, c->aff[i].list, rc ? NULL : e) < 0)
			rc = -1;
		free(c->aff[i].list);
	}
	free(c->aff);
	c->aff = NULL;
	c->n_aff = 0;
	if (rc)
		return vf_err_wrap(e, "restoring IRQ affinity");
	return 0;
}

/* The first kernel thread named irq/<N>-...: its stat, or -ENOENT. */
static int any_irq_thread(const struct hostfs *h, struct devcg_stat *st)
{
	_cleanup_closedir_ DIR *d = hostfs_opendir(h, "proc", NULL);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char path[64], comm[256];

		if (!devcg_all_digits(de->d_name) ||
		    vf_path(path, sizeof(path), "%s/comm", de->d_name) < 0 ||
		    hostfs_attr_at(dirfd(d), path, comm, sizeof(comm), NULL) < 0 ||
		    strncmp(comm, "irq/", 4) != 0)
			continue;
		if (devcg_read_stat_at(dirfd(d), de->d_name, st) == 0 && devcg_stat_is_kthread(st))
			return 0;
	}
	return -ENOENT;
}

/* Moves `tid` into the cgroup it is in already: the kernel's veto, without a move. */
static int move_in_place(enum devcg_hier hier, const char *mount, const struct hostfs *h,
			 pid_t tid, struct vf_err *e)
{
	char dir[16], rel[PATH_MAX], path[PATH_MAX * 2], num[16];
	_cleanup_free_ char *text = NULL;
	char file[48];
	int rc;

	vf_path(dir, sizeof(dir), "%d", (int)tid);
	if (vf_path(file, sizeof(file), "proc/%s/cgroup", dir) < 0 ||
	    hostfs_read_all(h, file, 1u << 16, &text, NULL, NULL) < 0 ||
	    devcg_parse_proc_cgroup(text, hier, rel, sizeof(rel)) < 0)
		return vf_err_set(e, ENOENT, "the cgroup of thread %d", (int)tid);
	if (vf_path(path, sizeof(path), "%s%s/%s", mount, strcmp(rel, "/") == 0 ? "" : rel,
		    hier == DEVCG_HIER_V2 ? "cgroup.threads" : "tasks") < 0)
		return vf_err_set(e, ENAMETOOLONG, "the cgroup of thread %d", (int)tid);
	snprintf(num, sizeof(num), "%d", (int)tid);
	rc = hostfs_write_live(path, num, e);
	if (rc < 0 && e->errnum == ENOENT && hier == DEVCG_HIER_V2) {
		/* a domain cgroup without threads: the process file */
		vf_path(path, sizeof(path), "%s%s/cgroup.procs", mount,
			strcmp(rel, "/") == 0 ? "" : rel);
		vf_err_clear(e);
		rc = hostfs_write_live(path, num, e);
	}
	return rc < 0 ? vf_err_wrap(e, "moving thread %d", (int)tid) : 0;
}

int devcg_probe_levers(const struct hostfs *h, const struct policy *p, struct levers *l)
{
	_cleanup_free_ char *cmdline = NULL;
	uint64_t hk[MASK_WORDS];
	char rt[8] = "", mount[PATH_MAX];
	enum devcg_hier hier = DEVCG_HIER_NONE;
	struct devcg_stat st;
	struct vf_err ign = { 0 };
	_cleanup_close_ int kfd = -1;
	bool all = true;

	memset(l, 0, sizeof(*l));
	kfd = hostfs_open(h, "sys/kernel", O_RDONLY | O_DIRECTORY, NULL);
	if (kfd >= 0)
		hostfs_attr_at(kfd, "realtime", rt, sizeof(rt), NULL);
	if (hostfs_read_all(h, "proc/cmdline", 1u << 16, &cmdline, NULL, NULL) == 0 &&
	    devcg_list_has(cmdline, "threadirqs")) {
		l->threaded = LEVER_YES;
		snprintf(l->threaded_why, sizeof(l->threaded_why), "threadirqs on the command line");
	} else if (strcmp(rt, "1") == 0) {
		l->threaded = LEVER_YES;
		snprintf(l->threaded_why, sizeof(l->threaded_why), "a PREEMPT_RT kernel");
	} else {
		l->threaded = LEVER_NO;
		snprintf(l->threaded_why, sizeof(l->threaded_why),
			 "neither threadirqs nor PREEMPT_RT");
	}
	if (devcg_detect(&hier, mount, sizeof(mount), &ign) == 0 && hier != DEVCG_HIER_NONE)
		l->vmm_cgroup = LEVER_YES;
	else
		l->vmm_cgroup = LEVER_NO;
	/* any IRQ thread tells what the kernel allows for all of them */
	if (hostfs_is_live(h) && any_irq_thread(h, &st) == 0) {
		struct sched_param sp = { .sched_priority = (int)st.rt_priority };

		struct vf_err me = { 0 };

		if (hier != DEVCG_HIER_NONE)
			levers_learn(&l->irq_cgroup, &l->irq_cgroup_err,
				     move_in_place(hier, mount, h, st.pid, &me) < 0 ? me.errnum : 0);
		levers_learn(&l->irq_sched, &l->irq_sched_err,
			     sched_setscheduler(st.pid, (int)st.policy, &sp) < 0 ? errno : 0);
	}
	if (housekeeping_mask(h, p, hk, &all, &ign) == 0 && !all) {
		l->steer = true;
		vf_format_cpulist(hk, DEVCG_CPU_MAX, l->housekeeping, sizeof(l->housekeeping));
	}
	return 0;
}

void devcg_learn_levers(const struct devcg_report *r, struct levers *l)
{
	for (size_t i = 0; i < r->n_threads; i++) {
		const struct devcg_thread_report *t = &r->threads[i];

		if (t->how == DEVCG_MOVED_DEMOTED) {
			levers_learn(&l->irq_cgroup, &l->irq_cgroup_err, 0);
			l->threaded = LEVER_YES;
		} else if (t->how == DEVCG_DEMOTED_ONLY && t->move_err != ESRCH) {
			levers_learn(&l->irq_cgroup, &l->irq_cgroup_err, t->move_err);
		} else if (t->how == DEVCG_FAILED && t->was_rt && t->err != ESRCH) {
			levers_learn(&l->irq_sched, &l->irq_sched_err, t->err);
		}
	}
}
