// SPDX-License-Identifier: GPL-2.0-or-later
#include "cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libcgroup.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroup_int.h"
#include "irqmon.h"
#include "log.h"
#include "util.h"

struct devcg_origin {
	pid_t tid;
	char *path; /* cgroup on our hierarchy before vfiod moved it ("/" ...) */
};

struct devcg_saved_sched {
	pid_t tid;
	unsigned long long starttime;
	unsigned policy;
	unsigned rt_priority;
	long nice;
};

const char *devcg_hier_name(enum devcg_hier h)
{
	switch (h) {
	case DEVCG_HIER_V1:
		return "v1";
	case DEVCG_HIER_V2:
		return "v2";
	default:
		return "none";
	}
}

const char *devcg_how_name(enum devcg_how how)
{
	switch (how) {
	case DEVCG_MOVED_DEMOTED:
		return "moved+demoted";
	case DEVCG_DEMOTED_ONLY:
		return "demoted-only";
	default:
		return "failed";
	}
}

/* ---- pure helpers ---- */

int devcg_quota_us(unsigned pct, uint64_t *quota)
{
	if (pct == 0 || pct > POLICY_CAP_MAX)
		return -EINVAL;
	*quota = (uint64_t)pct * DEVCG_PERIOD_US / 100;
	return 0;
}

int devcg_cpu_max(unsigned pct, char *buf, size_t cap)
{
	uint64_t q;

	if (devcg_quota_us(pct, &q) < 0)
		return -EINVAL;
	return vf_path(buf, cap, "%" PRIu64 " %u", q, DEVCG_PERIOD_US);
}

int devcg_cfs_values(unsigned pct, char *quota, size_t qcap, char *period, size_t pcap)
{
	uint64_t q;

	if (devcg_quota_us(pct, &q) < 0)
		return -EINVAL;
	if (vf_path(quota, qcap, "%" PRIu64, q) < 0 ||
	    vf_path(period, pcap, "%u", DEVCG_PERIOD_US) < 0)
		return -ENAMETOOLONG;
	return 0;
}

int devcg_name(const char *bdf, const char *leaf, char *buf, size_t cap)
{
	char dev[VF_BDF_LEN];

	if (!bdf || !vf_is_canonical_bdf(bdf) || (leaf && !vf_name_is_safe(leaf)))
		return -EINVAL;
	memcpy(dev, bdf, VF_BDF_LEN);
	for (char *p = dev; *p; p++)
		if (*p == ':')
			*p = '_';
	if (leaf)
		return vf_path(buf, cap, DEVCG_SLICE "/%s/%s", dev, leaf);
	return vf_path(buf, cap, DEVCG_SLICE "/%s", dev);
}

/* True when the blank-separated `list` (cgroup.controllers, a command line) has `name`. */
bool devcg_list_has(const char *list, const char *name)
{
	char buf[4096];
	char *tok, *save = NULL;

	if (!list || !*name || snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return false;
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
		if (strcmp(tok, name) == 0)
			return true;
	return false;
}

/*
 * One mountinfo line into *m (see devcg_parse_mountinfo_line); with `want`,
 * *has_want says whether a v1 mount binds that controller too.
 */
static int parse_cgroup_mount(const char *line, struct devcg_mount *m, const char *want,
			      bool *has_want)
{
	char *copy = vf_xstrdup(line);
	struct vf_mountinfo mi;
	int rc = -EINVAL;

	memset(m, 0, sizeof(*m));
	if (has_want)
		*has_want = false;
	if (vf_parse_mountinfo_line(copy, &mi) < 0)
		goto out;
	if (strcmp(mi.fstype, "cgroup2") == 0) {
		m->hier = DEVCG_HIER_V2;
	} else if (strcmp(mi.fstype, "cgroup") == 0) {
		m->hier = DEVCG_HIER_V1;
		m->v1_cpu = vf_list_has(mi.superopts, strlen(mi.superopts), "cpu", ',');
		if (want && has_want)
			*has_want = vf_list_has(mi.superopts, strlen(mi.superopts), want, ',');
	} else {
		rc = 0;
		goto out;
	}
	if (mi.mountpoint[0] != '/' ||
	    snprintf(m->path, sizeof(m->path), "%s", mi.mountpoint) >= (int)sizeof(m->path) ||
	    snprintf(m->root, sizeof(m->root), "%s", mi.root) >= (int)sizeof(m->root)) {
		memset(m, 0, sizeof(*m));
		goto out;
	}
	rc = 1;
out:
	free(copy);
	return rc;
}

int devcg_parse_mountinfo_line(const char *line, struct devcg_mount *m)
{
	return parse_cgroup_mount(line, m, NULL, NULL);
}

int devcg_scan_mountinfo(const char *text, struct devcg_mount *v2, struct devcg_mount *v1cpu)
{
	struct devcg_mount *m = vf_xcalloc(1, sizeof(*m));
	int found = 0;

	memset(v2, 0, sizeof(*v2));
	memset(v1cpu, 0, sizeof(*v1cpu));
	for (const char *p = text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *line;
		int r;

		if (len == 0) {
			p = end ? end + 1 : NULL;
			continue;
		}
		line = vf_xcalloc(1, len + 1);
		memcpy(line, p, len);
		r = devcg_parse_mountinfo_line(line, m);
		free(line);
		if (r < 0) {
			free(m);
			return -EINVAL;
		}
		if (r == 1 && m->hier == DEVCG_HIER_V2 && !(found & 1)) {
			*v2 = *m;
			found |= 1;
		} else if (r == 1 && m->hier == DEVCG_HIER_V1 && m->v1_cpu && !(found & 2)) {
			*v1cpu = *m;
			found |= 2;
		}
		p = end ? end + 1 : NULL;
	}
	free(m);
	return found;
}

int devcg_parse_proc_cgroup(const char *text, enum devcg_hier hier, char *path, size_t cap)
{
	if (hier != DEVCG_HIER_V1 && hier != DEVCG_HIER_V2)
		return -ENOENT;
	return vf_parse_proc_cgroup(text, hier == DEVCG_HIER_V2 ? NULL : "cpu", path, cap);
}

/* ---- libcgroup and the real cgroup filesystem ---- */

static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static enum devcg_hier lib_hier;
static char lib_mount[PATH_MAX];

static int lib_errno(int ret)
{
	int en;

	switch (ret) {
	case 0:
		return 0;
	case ECGOTHER:
		en = cgroup_get_last_errno();
		return en ? en : EIO;
	case ECGROUPNOTOWNER:
		return EPERM;
	case ECGROUPNOTEXIST:
		return ENOENT;
	case ECGROUPNOTMOUNTED:
	case ECGROUPSUBSYSNOTMOUNTED:
		return ENODEV;
	case ECGROUPNOTALLOWED:
		return EACCES;
	default:
		return EIO;
	}
}

static int lib_fail(struct vf_err *e, int ret, const char *what)
{
	if (ret == ECGOTHER)
		return vf_err_set(e, lib_errno(ret), "%s", what);
	return vf_err_set(e, lib_errno(ret), "%s (libcgroup: %s)", what, cgroup_strerror(ret));
}

int devcg_find_v2_mount(struct devcg_mount *v2, struct vf_err *e)
{
	_cleanup_free_ char *text = NULL;
	struct devcg_mount *v1;
	int r;

	if (hostfs_read_live("/proc/self/mountinfo", 64u << 20, &text, e) < 0)
		return -1;
	v1 = vf_xcalloc(1, sizeof(*v1));
	r = devcg_scan_mountinfo(text, v2, v1);
	free(v1);
	if (r < 0)
		return vf_err_set(e, EINVAL, "/proc/self/mountinfo: malformed line");
	return r & 1;
}

/* The first cgroup v1 mount with `controller` bound: 1 found, 0 none, -1 error. */
static int find_v1_mount(const char *controller, struct devcg_mount *m, struct vf_err *e)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;

	if (hostfs_read_live("/proc/self/mountinfo", 64u << 20, &text, e) < 0)
		return -1;
	/* a malformed line is no cgroup mount here: the search goes on */
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool has = false;

		if (parse_cgroup_mount(line, m, controller, &has) == 1 && m->hier == DEVCG_HIER_V1 &&
		    has)
			return 1;
	}
	memset(m, 0, sizeof(*m));
	return 0;
}

/*
 * The directory of cgroup `rel` (as /proc/PID/cgroup names it) under the
 * mount `m`, which may show only a subtree of its hierarchy (its root).
 */
static int cgroup_dir(const struct devcg_mount *m, const char *rel, char *out, size_t cap,
		      struct vf_err *e)
{
	size_t rlen = strcmp(m->root, "/") == 0 ? 0 : strlen(m->root);

	if (rlen && (strncmp(rel, m->root, rlen) != 0 || (rel[rlen] && rel[rlen] != '/')))
		return vf_err_set(e, 0, "cgroup %s is outside the mount at %s", rel, m->path);
	if (vf_path(out, cap, "%s%s", m->path, rel + rlen) < 0)
		return vf_err_set(e, ENAMETOOLONG, "cgroup %s", rel);
	return 0;
}

int devcg_v2_device_program(const char *rel, struct vf_err *e)
{
	struct devcg_mount v2;
	char path[PATH_MAX * 2];
	_cleanup_close_ int fd = -1;
	union bpf_attr attr;
	int r = devcg_find_v2_mount(&v2, e);

	if (r < 0)
		return -1;
	if (r == 0)
		return vf_err_set(e, 0,
				  "no cgroup2 hierarchy is mounted where vfiod can see it, so a device program cannot be ruled out");
	if (cgroup_dir(&v2, rel, path, sizeof(path), e) < 0)
		return -1;
	fd = hostfs_open_live_dir(path, e);
	if (fd < 0)
		return vf_err_wrap(e, "cgroup");
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (__u32)fd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.query_flags = BPF_F_QUERY_EFFECTIVE;
	if (syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) < 0)
		return vf_err_set(e, errno, "querying the device programs of %s", path);
	return attr.query.prog_cnt > 0;
}

int devcg_v1_device_rules(const char *rel, const dev_t *rdev, size_t n, bool allow,
			  struct vf_err *e)
{
	struct devcg_mount m;
	char dir[PATH_MAX * 2], path[PATH_MAX * 2 + 32], rule[64];
	int r = find_v1_mount("devices", &m, e);

	if (r < 0)
		return -1;
	if (r == 0)
		return vf_err_set(e, 0, "no cgroup v1 devices hierarchy is mounted where vfiod can see it");
	if (cgroup_dir(&m, rel, dir, sizeof(dir), e) < 0)
		return -1;
	if (vf_path(path, sizeof(path), "%s/devices.%s", dir, allow ? "allow" : "deny") < 0)
		return vf_err_set(e, ENAMETOOLONG, "device cgroup %s", rel);
	for (size_t i = 0; i < n; i++) {
		snprintf(rule, sizeof(rule), "c %u:%u rwm", major(rdev[i]), minor(rdev[i]));
		if (hostfs_write_live(path, rule, e) < 0)
			return -1;
	}
	return 0;
}

/* Finds the hierarchy with the cpu controller (see cgroup.h). */
int devcg_detect(enum devcg_hier *hier, char *mount, size_t cap, struct vf_err *e)
{
	_cleanup_free_ char *text = NULL;
	struct devcg_mount *v2 = vf_xcalloc(2, sizeof(*v2)), *v1 = v2 + 1;
	int found;

	if (hostfs_read_live("/proc/self/mountinfo", 64u << 20, &text, e) < 0) {
		free(v2);
		return -1;
	}
	found = devcg_scan_mountinfo(text, v2, v1);
	if (found < 0) {
		free(v2);
		return vf_err_set(e, EINVAL, "/proc/self/mountinfo: malformed line");
	}
	*hier = DEVCG_HIER_NONE;
	if (found & 1) {
		_cleanup_free_ char *ctl = NULL;
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/cgroup.controllers", v2->path);
		if (hostfs_read_live(path, 1u << 16, &ctl, NULL) == 0 && devcg_list_has(ctl, "cpu")) {
			*hier = DEVCG_HIER_V2;
			snprintf(mount, cap, "%s", v2->path);
		}
	}
	if (*hier == DEVCG_HIER_NONE && (found & 2)) {
		*hier = DEVCG_HIER_V1;
		snprintf(mount, cap, "%s", v1->path);
	}
	free(v2);
	if (*hier == DEVCG_HIER_NONE)
		return vf_err_set(e, ENODEV,
				  "no cpu controller: neither a cgroup2 mount with cpu in "
				  "cgroup.controllers nor a cgroup v1 cpu hierarchy is mounted");
	return 0;
}

/* (Re)initialises libcgroup when the host's hierarchy differs from its last view. */
static int lib_init(enum devcg_hier hier, const char *mount, struct vf_err *e)
{
	int ret = 0;

	pthread_mutex_lock(&lib_lock);
	if (lib_hier != hier || strcmp(lib_mount, mount) != 0) {
		ret = cgroup_init();
		if (ret == 0) {
			lib_hier = hier;
			snprintf(lib_mount, sizeof(lib_mount), "%s", mount);
		}
	}
	pthread_mutex_unlock(&lib_lock);
	if (ret)
		return lib_fail(e, ret, "cgroup_init");
	return 0;
}

/* A libcgroup group `name` on the cpu controller, with the cap `pct` when pct != 0. */
static struct cgroup *cg_build(const char *name, enum devcg_hier hier, unsigned pct,
			       struct vf_err *e)
{
	struct cgroup *cg = cgroup_new_cgroup(name);
	struct cgroup_controller *cc;
	char a[32], b[32];
	int ret = 0;

	if (!cg) {
		vf_err_set(e, ENOMEM, "%s: cgroup_new_cgroup", name);
		return NULL;
	}
	cc = cgroup_add_controller(cg, "cpu");
	if (!cc) {
		cgroup_free(&cg);
		vf_err_set(e, ENOMEM, "%s: cgroup_add_controller cpu", name);
		return NULL;
	}
	if (pct && hier == DEVCG_HIER_V2) {
		devcg_cpu_max(pct, a, sizeof(a));
		ret = cgroup_add_value_string(cc, "cpu.max", a);
	} else if (pct) {
		devcg_cfs_values(pct, a, sizeof(a), b, sizeof(b));
		/* the period first: the quota is checked against it */
		ret = cgroup_add_value_string(cc, "cpu.cfs_period_us", b);
		if (!ret)
			ret = cgroup_add_value_string(cc, "cpu.cfs_quota_us", a);
	}
	if (ret) {
		cgroup_free(&cg);
		lib_fail(e, ret, name);
		return NULL;
	}
	return cg;
}

/* Moves one task into the group `name` ("/" is the root); e->errnum says why not. */
static int cg_attach(const char *name, pid_t tid, struct vf_err *e)
{
	struct cgroup *cg = cgroup_new_cgroup(name);
	char what[PATH_MAX + 48];
	int ret;

	snprintf(what, sizeof(what), "moving task %d into cgroup %s", (int)tid, name);
	if (!cg)
		return vf_err_set(e, ENOMEM, "%s", what);
	if (!cgroup_add_controller(cg, "cpu")) {
		cgroup_free(&cg);
		return vf_err_set(e, ENOMEM, "%s", what);
	}
	ret = cgroup_attach_task_pid(cg, tid);
	cgroup_free(&cg);
	return ret ? lib_fail(e, ret, what) : 0;
}

static int leaf_name(const struct devcg *c, const char *leaf, char *buf, size_t cap)
{
	return vf_path(buf, cap, "%s/%s", c->base, leaf);
}

/* Path of a file of the group `rel` (relative to the mount, "" for the group itself). */
static int real_path(const struct devcg *c, const char *rel, const char *file, char *buf,
		     size_t cap)
{
	return vf_path(buf, cap, "%s/%s%s%s", c->mount, rel, *file ? "/" : "", file);
}

static int read_back(const struct devcg *c, const char *rel, const char *file, const char *want,
		     struct vf_err *e)
{
	_cleanup_free_ char *got = NULL;
	char path[PATH_MAX];
	size_t len;

	if (real_path(c, rel, file, path, sizeof(path)) < 0)
		return vf_err_set(e, ENAMETOOLONG, "%s/%s", rel, file);
	if (hostfs_read_live(path, 4096, &got, e) < 0)
		return vf_err_wrap(e, "reading back");
	len = strlen(got);
	if (len && got[len - 1] == '\n')
		got[--len] = '\0';
	if (strcmp(got, want) != 0)
		return vf_err_set(e, EIO, "%s is \"%s\", not \"%s\" as written", path, got, want);
	return 0;
}

static int verify_cap(const struct devcg *c, const char *rel, unsigned pct, struct vf_err *e)
{
	char a[32], b[32];

	if (c->hier == DEVCG_HIER_V2) {
		devcg_cpu_max(pct, a, sizeof(a));
		return read_back(c, rel, "cpu.max", a, e);
	}
	devcg_cfs_values(pct, a, sizeof(a), b, sizeof(b));
	if (read_back(c, rel, "cpu.cfs_period_us", b, e) < 0)
		return -1;
	return read_back(c, rel, "cpu.cfs_quota_us", a, e);
}

/* Creates (create) or updates one leaf with its cap, and checks the value. */
static int apply_cap(struct devcg *c, const char *leaf, unsigned pct, bool create,
		     struct vf_err *e)
{
	struct cgroup *cg;
	char name[128];
	int ret;

	leaf_name(c, leaf, name, sizeof(name));
	cg = cg_build(name, c->hier, pct, e);
	if (!cg)
		return -1;
	/* ownership ignored: vfiod runs as root and the groups stay root's (with
	 * ownership, libcgroup 2.0.2 chowns a "tasks" file that v2 lacks: ENOENT) */
	ret = create ? cgroup_create_cgroup(cg, 1) : cgroup_modify_cgroup(cg);
	cgroup_free(&cg);
	if (ret) {
		char what[192];

		snprintf(what, sizeof(what), "%s %s on cgroup %s",
			 create ? "creating" : "setting the cap of", name, devcg_hier_name(c->hier));
		return lib_fail(e, ret, what);
	}
	if (verify_cap(c, name, pct, e) < 0)
		return vf_err_wrap(e, "%s", name);
	return 0;
}

static int remove_group(const struct devcg *c, const char *rel, struct vf_err *e);

/*
 * v2: libcgroup 2.0.2 writes "+cpu" to the subtree_control of each group it
 * creates below the mount, but not to the root's (measured on the testbed:
 * the write to vfiod.slice/cgroup.subtree_control then fails with ENOENT).
 * The root's is enabled here when it is not already (systemd hosts have it);
 * it is left enabled at teardown, as other groups may rely on it.
 */
static int v2_enable_root_cpu(const char *mount, struct vf_err *e)
{
	_cleanup_free_ char *cur = NULL;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", mount);
	if (hostfs_read_live(path, 1u << 16, &cur, e) < 0)
		return -1;
	if (devcg_list_has(cur, "cpu"))
		return 0;
	if (hostfs_write_live(path, "+cpu", e) < 0)
		return vf_err_wrap(e, "enabling the cpu controller");
	return 0;
}

static int check_pcts(unsigned irq_pct, unsigned vmm_pct, struct vf_err *e)
{
	uint64_t q;

	if (devcg_quota_us(irq_pct, &q) < 0 || devcg_quota_us(vmm_pct, &q) < 0)
		return vf_err_set(e, EINVAL, "CPU caps %u%% and %u%%: each must be 1..%u", irq_pct,
				  vmm_pct, POLICY_CAP_MAX);
	return 0;
}

int devcg_setup(struct devcg *c, const char *bdf, unsigned irq_pct, unsigned vmm_pct,
		struct vf_err *e)
{
	enum devcg_hier hier;
	char mount[PATH_MAX], base[sizeof(c->base)];

	if (devcg_name(bdf ? bdf : "", NULL, base, sizeof(base)) < 0)
		return vf_err_set(e, EINVAL, "cgroups of \"%s\": not a canonical PCI address",
				  bdf ? bdf : "");
	if (c->ready && strcmp(c->bdf, bdf) != 0)
		return vf_err_set(e, EINVAL, "cgroups of %s: this handle belongs to %s", bdf,
				  c->bdf);
	if (check_pcts(irq_pct, vmm_pct, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", bdf);
	if (devcg_detect(&hier, mount, sizeof(mount), e) < 0 || lib_init(hier, mount, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", bdf);
	if (c->ready && (c->hier != hier || strcmp(c->mount, mount) != 0))
		return vf_err_set(e, EBUSY, "cgroups of %s: set up on cgroup %s at %s, the host "
				  "now has cpu on %s at %s", bdf, devcg_hier_name(c->hier), c->mount,
				  devcg_hier_name(hier), mount);
	if (hier == DEVCG_HIER_V2 && v2_enable_root_cpu(mount, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", bdf);
	snprintf(c->bdf, sizeof(c->bdf), "%s", bdf);
	snprintf(c->base, sizeof(c->base), "%s", base);
	c->hier = hier;
	snprintf(c->mount, sizeof(c->mount), "%s", mount);
	if (apply_cap(c, "irq", irq_pct, true, e) < 0 || apply_cap(c, "vmm", vmm_pct, true, e) < 0) {
		/* a first setup that failed leaves nothing behind (empty groups only) */
		if (!c->ready) {
			char rel[sizeof(c->base) + 8];

			leaf_name(c, "irq", rel, sizeof(rel));
			remove_group(c, rel, NULL);
			leaf_name(c, "vmm", rel, sizeof(rel));
			remove_group(c, rel, NULL);
			remove_group(c, c->base, NULL);
			remove_group(c, DEVCG_SLICE, NULL);
		}
		return vf_err_wrap(e, "cgroups of %s", bdf);
	}
	c->irq_pct = irq_pct;
	c->vmm_pct = vmm_pct;
	c->ready = true;
	return 0;
}

int devcg_set_caps(struct devcg *c, unsigned irq_pct, unsigned vmm_pct, struct vf_err *e)
{
	if (!c->ready)
		return vf_err_set(e, EINVAL, "CPU caps: the device's cgroups are not set up");
	if (check_pcts(irq_pct, vmm_pct, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	if (lib_init(c->hier, c->mount, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	if (apply_cap(c, "irq", irq_pct, false, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	c->irq_pct = irq_pct;
	if (apply_cap(c, "vmm", vmm_pct, false, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	c->vmm_pct = vmm_pct;
	return 0;
}

/* ---- remembered state ---- */

static const char *origin_of(const struct devcg *c, pid_t tid)
{
	for (size_t i = 0; i < c->n_orig; i++)
		if (c->orig[i].tid == tid)
			return c->orig[i].path;
	return NULL;
}

static void add_origin(struct devcg *c, pid_t tid, const char *path)
{
	for (size_t i = 0; i < c->n_orig; i++)
		if (c->orig[i].tid == tid) {
			free(c->orig[i].path);
			c->orig[i].path = vf_xstrdup(path);
			return;
		}
	c->orig = vf_xreallocarray(c->orig, c->n_orig + 1, sizeof(*c->orig));
	c->orig[c->n_orig].tid = tid;
	c->orig[c->n_orig].path = vf_xstrdup(path);
	c->n_orig++;
}

/* Forgets the origins of tasks that have exited. */
static void prune_origins(struct devcg *c, const struct hostfs *h)
{
	size_t o = 0;

	for (size_t i = 0; i < c->n_orig; i++) {
		char path[32];

		vf_path(path, sizeof(path), "proc/%d", (int)c->orig[i].tid);
		if (hostfs_exists(h, path))
			c->orig[o++] = c->orig[i];
		else
			free(c->orig[i].path);
	}
	c->n_orig = o;
}

static struct devcg_saved_sched *saved_sched(struct devcg *c, const struct devcg_stat *st)
{
	struct devcg_saved_sched *s;

	for (size_t i = 0; i < c->n_sched; i++) {
		s = &c->sched[i];
		if (s->tid != st->pid)
			continue;
		if (s->starttime == st->starttime)
			return s;
		/* the pid was reused: a different thread */
		memset(s, 0, sizeof(*s));
		goto fill;
	}
	c->sched = vf_xreallocarray(c->sched, c->n_sched + 1, sizeof(*c->sched));
	s = &c->sched[c->n_sched++];
	memset(s, 0, sizeof(*s));
fill:
	s->tid = st->pid;
	s->starttime = st->starttime;
	s->policy = st->policy;
	s->rt_priority = st->rt_priority;
	s->nice = st->nice;
	return s;
}

/* ---- attaching ---- */

static int check_attach(struct devcg *c, const struct hostfs *h, const char *what,
			struct vf_err *e)
{
	if (!c->ready)
		return vf_err_set(e, EINVAL, "%s: the device's cgroups are not set up", what);
	if (!hostfs_is_live(h))
		return vf_err_set(e, EINVAL, "%s: cgroup actions run only on the real root, not "
				  "sysroot %s", what, h && h->root ? h->root : "?");
	c->h = h;
	return lib_init(c->hier, c->mount, e);
}

/* The task's current cgroup on our hierarchy ("proc/<dir>/cgroup"). */
static int task_cgroup(const struct devcg *c, const struct hostfs *h, const char *dir,
		       char *path, size_t cap)
{
	_cleanup_free_ char *text = NULL;
	char file[96];

	if (vf_path(file, sizeof(file), "proc/%s/cgroup", dir) < 0 ||
	    hostfs_read_all(h, file, 1u << 16, &text, NULL, NULL) < 0)
		return -ENOENT;
	return devcg_parse_proc_cgroup(text, c->hier, path, cap);
}

static void contain_irq_thread(struct devcg *c, const struct devcg_task *t, const char *target,
			       struct devcg_thread_report *tr)
{
	char dir[16], cur[PATH_MAX];
	bool known, in_target;
	struct sched_param sp = { 0 };
	struct vf_err ae = { 0 };
	int err;

	memset(tr, 0, sizeof(*tr));
	tr->tid = t->tid;
	tr->vector = t->vector;
	snprintf(tr->comm, sizeof(tr->comm), "%s", t->st.comm);
	vf_path(dir, sizeof(dir), "%d", (int)t->tid);
	known = task_cgroup(c, c->h, dir, cur, sizeof(cur)) == 0;
	in_target = known && strcmp(cur, target) == 0;
	tr->was_rt = t->st.policy == SCHED_FIFO || t->st.policy == SCHED_RR;
	if (tr->was_rt) {
		saved_sched(c, &t->st);
		if (sched_setscheduler(t->tid, SCHED_OTHER, &sp) < 0) {
			tr->how = DEVCG_FAILED;
			tr->err = errno;
			return;
		}
	}
	if (in_target) {
		tr->how = DEVCG_MOVED_DEMOTED;
		tr->already = !tr->was_rt;
		return;
	}
	err = cg_attach(target + 1, t->tid, &ae) < 0 ? ae.errnum : 0;
	if (err == 0) {
		if (known)
			add_origin(c, t->tid, cur);
		tr->how = DEVCG_MOVED_DEMOTED;
		return;
	}
	if (err == ESRCH) {
		tr->how = DEVCG_FAILED;
		tr->err = err;
		return;
	}
	/*
	 * Refused (Linux 6.19 and later: PF_NO_SETAFFINITY): SCHED_OTHER at
	 * its nice value is as far as it goes. Lower (nice 19, SCHED_IDLE) a
	 * storming vector's thread starves on a busy CPU, and the kernel's
	 * spurious-interrupt detector ("nobody cared") disables the vector for
	 * good: measured with tests/testbed/probe-demote.sh on 6.1 and 7.2. Its
	 * CPU follows the vector's affinity, which the throttle steers.
	 */
	tr->how = DEVCG_DEMOTED_ONLY;
	tr->move_err = err;
}

int devcg_attach_irq_threads(struct devcg *c, const struct hostfs *h, const unsigned *vectors,
			     size_t n, struct devcg_report *r, struct vf_err *e)
{
	struct devcg_task *tasks = NULL;
	size_t nt = 0, failed = 0;
	char target[128];

	free(r->threads);
	r->threads = NULL;
	r->n_threads = 0;
	r->hier = c->hier;
	if (check_attach(c, h, "IRQ threads", e) < 0)
		return -1;
	r->hier = c->hier;
	if (devcg_find_irq_threads(h, vectors, n, &tasks, &nt, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	vf_path(target, sizeof(target), "/%s/irq", c->base);
	r->threads = vf_xcalloc(nt, sizeof(*r->threads));
	for (size_t i = 0; i < nt; i++) {
		struct devcg_thread_report *tr = &r->threads[r->n_threads++];

		contain_irq_thread(c, &tasks[i], target, tr);
		if (tr->how == DEVCG_FAILED && failed++ == 0)
			vf_err_set(e, tr->err, "cgroups of %s: IRQ thread %d (%s)", c->bdf,
				   (int)tr->tid, tr->comm);
	}
	free(tasks);
	return failed ? -1 : 0;
}

static void attach_holder(struct devcg *c, const struct hostfs *h, pid_t pid, const char *target,
			  struct devcg_holder_report *hr)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[64];
	_cleanup_close_ int fd = -1;

	memset(hr, 0, sizeof(*hr));
	hr->pid = pid;
	vf_path(path, sizeof(path), "proc/%d", (int)pid);
	fd = hostfs_open(h, path, O_RDONLY | O_DIRECTORY, NULL);
	if (fd >= 0)
		hostfs_attr_at(fd, "comm", hr->comm, sizeof(hr->comm), NULL);
	vf_path(path, sizeof(path), "proc/%d/task", (int)pid);
	d = hostfs_opendir(h, path, NULL);
	if (!d) {
		hr->err = ESRCH; /* it exited */
		return;
	}
	while ((de = readdir(d))) {
		char dir[64], cur[PATH_MAX];
		struct vf_err ae = { 0 };
		int64_t tid;
		int err;

		if (!devcg_all_digits(de->d_name) || vf_parse_i64(de->d_name, 1, INT32_MAX, &tid) < 0)
			continue;
		vf_path(dir, sizeof(dir), "%d/task/%d", (int)pid, (int)tid);
		if (task_cgroup(c, h, dir, cur, sizeof(cur)) < 0)
			continue; /* exited meanwhile */
		hr->threads++;
		if (strcmp(cur, target) == 0)
			continue;
		err = cg_attach(target + 1, (pid_t)tid, &ae) < 0 ? ae.errnum : 0;
		if (err == 0) {
			add_origin(c, (pid_t)tid, cur);
			hr->moved++;
		} else if (err == ESRCH) {
			hr->threads--;
		} else {
			if (hr->failed++ == 0)
				hr->err = err;
		}
	}
}

int devcg_attach_holders(struct devcg *c, const struct hostfs *h, int group,
			 struct devcg_report *r, struct vf_err *e)
{
	pid_t *pids = NULL;
	size_t np = 0, failed = 0;
	char target[128];

	free(r->holders);
	r->holders = NULL;
	r->n_holders = 0;
	r->hier = c->hier;
	if (check_attach(c, h, "VMM threads", e) < 0)
		return -1;
	r->hier = c->hier;
	if (devcg_find_holders(h, group, getpid(), &pids, &np, e) < 0)
		return vf_err_wrap(e, "cgroups of %s", c->bdf);
	prune_origins(c, h);
	vf_path(target, sizeof(target), "/%s/vmm", c->base);
	r->holders = vf_xcalloc(np, sizeof(*r->holders));
	for (size_t i = 0; i < np; i++) {
		struct devcg_holder_report *hr = &r->holders[r->n_holders++];

		attach_holder(c, h, pids[i], target, hr);
		if (hr->failed && failed++ == 0)
			vf_err_set(e, hr->err, "cgroups of %s: %zu of the %zu threads of %d (%s) "
				   "could not be moved into the vmm group", c->bdf, hr->failed,
				   hr->threads, (int)hr->pid, hr->comm);
	}
	free(pids);
	return failed ? -1 : 0;
}

/* ---- teardown ---- */

/* Moves every task out of one leaf. Returns the number left, or <0; `first` keeps the first failure. */
static int evacuate(struct devcg *c, const char *leaf, struct vf_err *first)
{
	_cleanup_free_ char *text = NULL;
	char rel[128], path[PATH_MAX], own[2][136];
	struct vf_err e = { 0 };
	int left = 0;

	leaf_name(c, leaf, rel, sizeof(rel));
	vf_path(own[0], sizeof(own[0]), "/%s/irq", c->base);
	vf_path(own[1], sizeof(own[1]), "/%s/vmm", c->base);
	if (real_path(c, rel, c->hier == DEVCG_HIER_V2 ? "cgroup.procs" : "tasks", path,
		      sizeof(path)) < 0) {
		vf_err_set(&e, ENAMETOOLONG, "the tasks of %s", rel);
		vf_err_keep_first(first, &e);
		return -1;
	}
	if (hostfs_read_live(path, 64u << 20, &text, &e) < 0) {
		if (e.errnum == ENOENT)
			return 0; /* no such leaf */
		vf_err_keep_first(first, &e);
		return -1;
	}
	for (char *p = text, *end; *p; p = end) {
		const char *orig;
		int64_t id;
		int rc = -1;

		end = strchr(p, '\n');
		if (end)
			*end++ = '\0';
		else
			end = p + strlen(p);
		if (vf_parse_i64(p, 1, INT32_MAX, &id) < 0)
			continue;
		/* back where it came from, else (origin gone, or unknown after a
		 * restart) to the root cgroup, which takes any task */
		vf_err_clear(&e);
		orig = origin_of(c, (pid_t)id);
		if (orig && strcmp(orig, own[0]) != 0 && strcmp(orig, own[1]) != 0 &&
		    strcmp(orig, "/") != 0)
			rc = cg_attach(orig, (pid_t)id, &e);
		if (rc < 0 && e.errnum != ESRCH) {
			vf_err_clear(&e);
			rc = cg_attach("/", (pid_t)id, &e);
		}
		if (rc < 0 && e.errnum != ESRCH) {
			left++;
			vf_err_keep_first(first, &e);
		}
	}
	return left;
}

static void restore_sched(struct devcg *c, struct vf_err *first)
{
	for (size_t i = 0; i < c->n_sched; i++) {
		struct devcg_saved_sched *s = &c->sched[i];
		struct sched_param sp = { .sched_priority = (int)s->rt_priority };
		struct devcg_stat st;
		struct vf_err e = { 0 };
		char dir[16];
		_cleanup_close_ int fd = -1;

		/* only the very thread saved: a pid may have been reused */
		if (!c->h)
			continue;
		fd = hostfs_open(c->h, "proc", O_RDONLY | O_DIRECTORY, NULL);
		vf_path(dir, sizeof(dir), "%d", (int)s->tid);
		if (fd < 0 || devcg_read_stat_at(fd, dir, &st) < 0 || st.starttime != s->starttime)
			continue; /* gone: its IRQ was freed */
		if ((s->policy == SCHED_FIFO || s->policy == SCHED_RR) &&
		    sched_setscheduler(s->tid, (int)s->policy, &sp) < 0 && errno != ESRCH) {
			vf_err_set(&e, errno, "restoring the scheduling of thread %d", (int)s->tid);
			vf_err_keep_first(first, &e);
		}
		if (setpriority(PRIO_PROCESS, (id_t)s->tid, (int)s->nice) < 0 && errno != ESRCH) {
			vf_err_set(&e, errno, "restoring the nice value of thread %d", (int)s->tid);
			vf_err_keep_first(first, &e);
		}
	}
}

/* rmdir of a group; a missing one is fine. */
static int remove_group(const struct devcg *c, const char *rel, struct vf_err *e)
{
	char path[PATH_MAX];

	if (real_path(c, rel, "", path, sizeof(path)) < 0)
		return vf_err_set(e, ENAMETOOLONG, "cgroup %s", rel);
	if (rmdir(path) < 0 && errno != ENOENT)
		return vf_err_set(e, errno, "removing %s", path);
	return 0;
}

static void free_state(struct devcg *c)
{
	for (size_t i = 0; i < c->n_orig; i++)
		free(c->orig[i].path);
	free(c->orig);
	free(c->sched);
	for (size_t i = 0; i < c->n_aff; i++)
		free(c->aff[i].list);
	free(c->aff);
	c->orig = NULL;
	c->n_orig = 0;
	c->sched = NULL;
	c->n_sched = 0;
	c->aff = NULL;
	c->n_aff = 0;
}

int devcg_teardown(struct devcg *c, struct vf_err *e)
{
	static const char *const leaves[] = { "irq", "vmm" };
	struct vf_err first = { 0 }, rm = { 0 }, aff = { 0 };
	int left = 0, r;
	char rel[128];

	if (!c->ready)
		return 0;
	if (lib_init(c->hier, c->mount, e) < 0)
		return vf_err_wrap(e, "removing the cgroups of %s", c->bdf);
	if (c->n_aff && c->h && devcg_restore_irqs(c, c->h, &aff) < 0)
		vf_err_keep_first(&first, &aff);
	/* a VMM may start a thread between the listing and the rmdir: a few rounds */
	for (int round = 0; round < 5; round++) {
		left = 0;
		vf_err_clear(&rm);
		for (size_t i = 0; i < VF_ARRAY_SIZE(leaves); i++) {
			r = evacuate(c, leaves[i], &first);
			left += r > 0 ? r : 0;
		}
		for (size_t i = 0; i < VF_ARRAY_SIZE(leaves); i++) {
			struct vf_err re = { 0 };

			leaf_name(c, leaves[i], rel, sizeof(rel));
			if (remove_group(c, rel, &re) < 0)
				vf_err_keep_first(&rm, &re);
		}
		if (!vf_err_is_set(&rm))
			break;
		usleep(10000);
	}
	restore_sched(c, &first);
	if (!vf_err_is_set(&rm))
		remove_group(c, c->base, &rm);
	if (vf_err_is_set(&rm)) {
		if (left) {
			*e = vf_err_is_set(&first) ? first : rm;
			return vf_err_wrap(e, "removing the cgroups of %s: %d task%s could not be moved out",
					   c->bdf, left, left == 1 ? "" : "s");
		}
		*e = rm;
		return vf_err_wrap(e, "removing the cgroups of %s", c->bdf);
	}
	{
		struct vf_err se = { 0 };

		/* the slice stays while other devices' groups are in it */
		if (remove_group(c, DEVCG_SLICE, &se) < 0 && se.errnum != EBUSY &&
		    se.errnum != ENOTEMPTY)
			vf_err_keep_first(&first, &se);
	}
	free_state(c);
	c->ready = false;
	if (vf_err_is_set(&first)) {
		*e = first;
		return vf_err_wrap(e, "cgroups of %s removed, but restoring %s failed", c->bdf,
				   vf_err_is_set(&aff) ? "IRQ affinity" : "a task's scheduling or cgroup");
	}
	return 0;
}

int devcg_sweep(const char (*keep)[VF_BDF_LEN], size_t n, struct vf_err *e)
{
	enum devcg_hier hier;
	char mount[PATH_MAX], dir[PATH_MAX + 16];
	struct dirent *de;
	DIR *dp;
	int removed = 0, failed = 0;

	if (devcg_detect(&hier, mount, sizeof(mount), e) < 0)
		return -1;
	if (vf_path(dir, sizeof(dir), "%s/" DEVCG_SLICE, mount) < 0)
		return vf_err_set(e, ENAMETOOLONG, "%s/" DEVCG_SLICE, mount);
	{
		struct vf_err oe = { 0 };
		int fd = hostfs_open_live_dir(dir, &oe);

		if (fd < 0) {
			if (oe.errnum == ENOENT)
				return 0;
			*e = oe;
			return vf_err_wrap(e, "cannot list");
		}
		dp = fdopendir(fd);
		if (!dp) {
			close(fd);
			return vf_err_set(e, errno, "cannot list %s", dir);
		}
	}
	while ((de = readdir(dp))) {
		char bdf[VF_BDF_LEN];
		struct devcg c = { 0 };
		struct vf_err ce = { 0 };
		bool owned = false;

		if (de->d_type != DT_DIR || strlen(de->d_name) != VF_BDF_LEN - 1)
			continue;
		/* "dddd_bb_dd.f": a device's cgroup, named as devcg_name does */
		memcpy(bdf, de->d_name, VF_BDF_LEN);
		bdf[4] = bdf[4] == '_' ? ':' : '?';
		bdf[7] = bdf[7] == '_' ? ':' : '?';
		if (!vf_is_canonical_bdf(bdf))
			continue;
		for (size_t i = 0; i < n; i++)
			owned |= strcmp(keep[i], bdf) == 0;
		if (owned)
			continue;
		/* adopt it as it is (caps do not matter now), then tear it down */
		if (devcg_setup(&c, bdf, 100, 100, &ce) < 0 || devcg_teardown(&c, &ce) < 0) {
			if (!failed++)
				vf_err_set(e, ce.errnum, "%s", ce.msg);
		} else {
			removed++;
		}
		devcg_free(&c);
	}
	closedir(dp);
	return failed ? -1 : removed;
}

void devcg_free(struct devcg *c)
{
	free_state(c);
	memset(c, 0, sizeof(*c));
}

void devcg_report_free(struct devcg_report *r)
{
	free(r->threads);
	free(r->holders);
	memset(r, 0, sizeof(*r));
}

/* ---- the set of every owned device's cgroups ---- */

void devcg_set_init(struct devcg_set *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

void devcg_set_fini(struct devcg_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		devcg_free(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
	pthread_mutex_destroy(&s->mu);
}

void devcg_set_lock(struct devcg_set *s)
{
	pthread_mutex_lock(&s->mu);
}

void devcg_set_unlock(struct devcg_set *s)
{
	pthread_mutex_unlock(&s->mu);
}

struct devcg *devcg_set_find(struct devcg_set *s, const char *bdf)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].bdf, bdf) == 0)
			return &s->v[i];
	return NULL;
}

void devcg_set_sync(struct devcg_set *s, const struct devcg_set_member *m, size_t n,
		    const struct policy *policy, void (*gone)(void *ctx, const char *bdf),
		    void *ctx)
{
	struct vf_err e = { 0 };

	pthread_mutex_lock(&s->mu);
	for (size_t i = s->n; i-- > 0;) {
		bool member = false;

		for (size_t k = 0; k < n; k++)
			member |= strcmp(m[k].bdf, s->v[i].bdf) == 0;
		if (member)
			continue;
		if (devcg_teardown(&s->v[i], &e) < 0)
			vf_log(LOG_WARNING, "%s: cgroups left behind: %s", s->v[i].bdf, e.msg);
		if (gone)
			gone(ctx, s->v[i].bdf);
		devcg_free(&s->v[i]);
		s->v[i] = s->v[--s->n];
	}
	for (size_t k = 0; k < n; k++) {
		struct devcg *c = devcg_set_find(s, m[k].bdf);

		if (!c) {
			s->v = vf_xreallocarray(s->v, s->n + 1, sizeof(*s->v));
			c = &s->v[s->n++];
			memset(c, 0, sizeof(*c));
		}
		c->policy = policy;
		if (devcg_setup(c, m[k].bdf, m[k].irq_pct, m[k].vmm_pct, &e) < 0)
			vf_log(LOG_WARNING, "%s: no CPU cgroups: %s", m[k].bdf, e.msg);
	}
	pthread_mutex_unlock(&s->mu);
}
