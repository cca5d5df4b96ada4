// SPDX-License-Identifier: GPL-2.0-or-later
#include "handoff.h"

#include "cgroup.h"
#include "domxml.h"
#include "inject.h"
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <linux/limits.h>
#include <unistd.h>


static struct json_object *vfio_edits(int group)
{
	struct json_object *edits = json_object_new_object();
	struct json_object *nodes = json_object_new_array();
	struct json_object *n;
	char path[64];

	n = json_object_new_object();
	json_object_object_add(n, "path", json_object_new_string("/dev/vfio/vfio"));
	json_object_array_add(nodes, n);
	n = json_object_new_object();
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	json_object_object_add(n, "path", json_object_new_string(path));
	json_object_array_add(nodes, n);
	json_object_object_add(edits, "deviceNodes", nodes);
	return edits;
}

static struct json_object *cdi_device(const char *name, int group)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "name", json_object_new_string(name));
	json_object_object_add(d, "containerEdits", vfio_edits(group));
	return d;
}

struct json_object *cdi_spec(const char (*bdfs)[VF_BDF_LEN], size_t n, int group)
{
	struct json_object *spec = json_object_new_object();
	struct json_object *devs = json_object_new_array();
	char alias[48];

	json_object_object_add(spec, "cdiVersion", json_object_new_string(CDI_VERSION));
	json_object_object_add(spec, "kind", json_object_new_string(CDI_KIND));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(devs, cdi_device(bdfs[i], group));
	/* the whole unit by one stable name: its IOMMU group is what it is */
	snprintf(alias, sizeof(alias), "iommu-group-%d", group);
	json_object_array_add(devs, cdi_device(alias, group));
	json_object_object_add(spec, "devices", devs);
	return spec;
}

void cdi_spec_name(const char *bdf, char *buf, size_t cap)
{
	size_t i;

	snprintf(buf, cap, "vfiod-%s.json", bdf);
	for (i = 0; buf[i]; i++)
		if (buf[i] == ':')
			buf[i] = '_';
}

static void set_unit(struct engine *en, const struct dev_rec *lead, enum dev_state st,
		     const struct consumer *consumer, const char *tenant)
{
	for (size_t i = 0; i < lead->n_unit; i++) {
		struct dev_rec *m = store_find(en->store, lead->unit[i]);

		if (!m)
			continue;
		m->state = st;
		if (consumer)
			m->consumer = *consumer;
		else
			memset(&m->consumer, 0, sizeof(m->consumer));
		snprintf(m->tenant, sizeof(m->tenant), "%s", tenant);
		m->since = (int64_t)time(NULL);
	}
}

/* The records of the unit of `lead`, as they are, to put back whole on failure. */
static size_t unit_save(struct engine *en, const struct dev_rec *lead, struct dev_rec *before)
{
	size_t n = 0;

	for (size_t i = 0; i < lead->n_unit; i++) {
		struct dev_rec *m = store_find(en->store, lead->unit[i]);

		if (m)
			before[n++] = *m;
	}
	return n;
}

static void unit_restore(struct engine *en, const struct dev_rec *before, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_put(en->store, &before[i]);
}

/* Writes the spec of the unit led by `lead` to `path`. */
static int cdi_write(struct engine *en, const struct dev_rec *lead, const char *path,
		     struct vf_err *e)
{
	struct json_object *spec;
	int group = engine_device_group(en, lead->bdf), rc;

	if (group < 0)
		return vf_err_set(e, 0, "%s: its IOMMU group cannot be read", lead->bdf);
	spec = cdi_spec(lead->unit, lead->n_unit, group);
	rc = vf_write_atomic(path, json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE),
			     0644, e);
	json_object_put(spec);
	return rc;
}

/* "busy": the unit is not in the pool, and whose it is. */
static int refuse_not_pooled(const char *bdf, const struct dev_rec *lead, struct vf_err *e)
{
	char who[CONSUMER_NAME_MAX + 64] = "";

	if (lead->state == DEV_ASSIGNED)
		consumer_describe(&lead->consumer, who, sizeof(who));
	return vf_err_refuse(e, "busy", "%s is %s%s%s%s%s", bdf, dev_state_name(lead->state),
			     who[0] ? " to " : "", who, lead->tenant[0] ? " for tenant " : "",
			     lead->tenant);
}

int engine_assign_cdi(struct engine *en, const char *bdf_in, const char *tenant,
		      const char *cdi_dir, struct unit_result *out, struct vf_err *e)
{
	struct dev_rec *own, *rec, before[STATE_UNIT_MAX];
	char name[64], path[4096];
	struct consumer consumer = { .kind = CONSUMER_CDI };
	const char *bdf;
	size_t nbefore;

	en->step = 0;
	if (engine_lookup(en, bdf_in, &own, &rec, out, e) < 0)
		return vf_err_append(e, " (bind it first)");
	bdf = own->bdf;
	if (engine_op_refuse(en, bdf, false, e) < 0)
		return -1;
	if (rec->state != DEV_POOLED)
		return refuse_not_pooled(bdf, rec, e);
	if (engine_device_group(en, bdf) < 0)
		return vf_err_set(e, 0, "%s: its IOMMU group cannot be read", bdf);
	/* the spec is named after the unit's lead */
	cdi_spec_name(rec->bdf, name, sizeof(name));
	if (vf_path(path, sizeof(path), "%s/%s", cdi_dir, name) < 0)
		return vf_err_set(e, ENAMETOOLONG, "CDI directory %s", cdi_dir);
	/* release unlinks this very path: it must be whole */
	if (vf_path(consumer.name, sizeof(consumer.name), "%s", path) < 0)
		return vf_err_set(e, ENAMETOOLONG, "assign %s: the CDI path %s is too long", bdf,
				  path);
	if (mkdir(cdi_dir, 0755) < 0 && errno != EEXIST)
		return vf_err_set(e, errno, "cannot create the CDI directory %s", cdi_dir);
	/*
	 * Recorded first, then the spec: a crash in between leaves a record
	 * without a spec, which reconcile puts back in the pool (no container
	 * could have been given it); never a usable spec for a pooled device.
	 */
	nbefore = unit_save(en, rec, before);
	set_unit(en, rec, DEV_ASSIGNED, &consumer, tenant);
	if (store_save(en->store, e) < 0) {
		unit_restore(en, before, nbefore);
		return vf_err_wrap(e, "assign %s", bdf);
	}
	engine_step(en, "recorded", bdf);
	if (cdi_write(en, rec, path, e) < 0) {
		struct vf_err se = { 0 };

		unlink(path); /* a rename that worked before the directory sync failed */
		unit_restore(en, before, nbefore);
		if (store_save(en->store, &se) < 0)
			vf_err_append(e, "; and recording that failed: %s", se.msg);
		return vf_err_wrap(e, "assign %s", bdf);
	}
	engine_step(en, "spec written", bdf);
	return 0;
}

/* A reconcile finding: one line of en->report. */
static void cdi_report(struct engine *en, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cdi_report(struct engine *en, const char *fmt, ...)
{
	char line[VF_ERR_MSG_MAX + 512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vf_strv_add(&en->report, line);
}

/* The device a file name of the CDI directory is the spec of: exactly cdi_spec_name's. */
static bool cdi_spec_bdf(const char *name, char bdf[VF_BDF_LEN])
{
	char again[64];
	size_t len = strlen(name);

	if (len != strlen("vfiod-0000_00_00.0.json") || strncmp(name, "vfiod-", 6) != 0)
		return false;
	snprintf(bdf, VF_BDF_LEN, "%.12s", name + 6);
	for (char *c = bdf; *c; c++)
		if (*c == '_')
			*c = ':';
	if (!vf_is_canonical_bdf(bdf))
		return false;
	cdi_spec_name(bdf, again, sizeof(again));
	return strcmp(again, name) == 0;
}

/* True when a record assigned through CDI names this spec. */
static bool cdi_backed(const struct engine *en, const struct consumer *c)
{
	for (size_t i = 0; i < en->store->n; i++)
		if (en->store->devs[i].state == DEV_ASSIGNED &&
		    consumer_equal(&en->store->devs[i].consumer, c))
			return true;
	return false;
}

/* Removes the specs of `cdi_dir` that no record backs; symlinks and other files stay. */
static int cdi_sweep(struct engine *en, const char *cdi_dir, struct vf_err *e)
{
	_cleanup_close_ int dfd = -1;
	DIR *dir;
	struct dirent *de;
	int rc = 0;

	dfd = open(cdi_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : vf_err_set(e, errno, "the CDI directory %s", cdi_dir);
	dir = fdopendir(dup(dfd));
	if (!dir)
		return vf_err_set(e, errno, "the CDI directory %s", cdi_dir);
	while ((de = readdir(dir))) {
		char bdf[VF_BDF_LEN];
		struct consumer consumer = { .kind = CONSUMER_CDI };
		struct stat st;

		if (!cdi_spec_bdf(de->d_name, bdf) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		/* the path as engine_assign_cdi records it */
		if (vf_path(consumer.name, sizeof(consumer.name), "%s/%s", cdi_dir, de->d_name) < 0 ||
		    cdi_backed(en, &consumer))
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0) {
			cdi_report(en, "%s: the CDI spec %s/%s is backed by no record, and cannot be removed: %s",
				   bdf, cdi_dir, de->d_name, strerror(errno));
			rc = vf_err_set(e, errno, "cannot remove %s/%s", cdi_dir, de->d_name);
			continue;
		}
		cdi_report(en, "%s: removed the CDI spec %s/%s, which no record backs (a container handoff interrupted, or a spec left behind)",
			   bdf, cdi_dir, de->d_name);
	}
	closedir(dir);
	return rc;
}

int engine_reconcile_cdi(struct engine *en, const char *cdi_dir, struct vf_err *e)
{
	struct vf_strv lost = { 0 };
	int rc = 0;

	/* a record without its spec: the assign never finished (or the spec was removed) */
	for (size_t i = 0; i < en->store->n; i++) {
		const struct dev_rec *r = &en->store->devs[i];
		struct stat st;

		if (r->state != DEV_ASSIGNED || r->consumer.kind != CONSUMER_CDI ||
		    (r->n_unit && strcmp(r->unit[0], r->bdf) != 0))
			continue;
		if (fstatat(AT_FDCWD, r->consumer.name, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT)
			vf_strv_add(&lost, r->bdf);
	}
	for (size_t i = 0; i < lost.n; i++) {
		struct unit_result u;
		struct vf_err re = { 0 };

		if (engine_release(en, lost.v[i], &u, &re) < 0) {
			cdi_report(en, "%s: assigned through CDI but its spec is missing, and cannot be put back in the pool: %s",
				   lost.v[i], re.msg);
			*e = re;
			rc = -1;
		} else {
			cdi_report(en, "%s: assigned through CDI but its spec is missing (an assign interrupted before the spec was written, or the spec was removed): back to the pool%s%s%s",
				   lost.v[i], u.warning[0] ? " (" : "", u.warning, u.warning[0] ? ")" : "");
		}
	}
	vf_strv_free(&lost);
	if (cdi_dir && cdi_dir[0] && cdi_sweep(en, cdi_dir, e) < 0)
		rc = -1;
	return rc;
}

/* ---- operations in flight ------------------------------------------ */

/*
 * A domain's part of an operation: one call of the VM manager (the attach,
 * or the detach and its wait for the guest), made by a thread of its own
 * that touches nothing but this struct and the manager (ops, with its
 * ctx). The caller's thread reads rc and err once it has joined it.
 */
struct vm_job {
	const struct engine_vm_ops *ops;
	void *ctx;
	bool attach;
	char domain[CONSUMER_NAME_MAX];
	struct vf_bdf host[STATE_UNIT_MAX];
	size_t n;
	struct vf_bdf guest;
	bool has_guest;
	unsigned flags;
	int fd;                /* eventfd, written when the call has returned; -1: none */
	pthread_t thread;
	bool running;          /* a thread was started and is not joined yet */
	int rc;
	struct vf_err err;
};

struct engine_op {
	enum engine_op_kind kind;
	struct consumer consumer;  /* the process (pid, start) or the domain (name) */
	char bdf[VF_BDF_LEN];      /* the unit's lead */
	char dev[VF_BDF_LEN];      /* the device messages name */
	char tenant[64];           /* an assign's */
	/* a live process: the child working in its /dev */
	struct inject_job job;
	struct proc_pin pin;
	struct inject_nodes nodes;
	/* a domain: the thread calling the VM manager */
	struct vm_job vm;
	/* a VM assign: the unit's records before it was recorded, put back on failure */
	struct dev_rec before[STATE_UNIT_MAX];
	size_t nbefore;
	/* a quarantine: each device's command register before it was silenced */
	unsigned old_command[STATE_UNIT_MAX];
};

static struct engine_op *op_new(enum engine_op_kind kind, const struct dev_rec *lead,
				const char *dev)
{
	struct engine_op *op = vf_xcalloc(1, sizeof(*op));

	op->kind = kind;
	op->job.fd = -1;
	op->pin.pidfd = op->pin.dirfd = -1;
	op->vm.fd = -1;
	snprintf(op->bdf, sizeof(op->bdf), "%s", lead->bdf);
	snprintf(op->dev, sizeof(op->dev), "%s", dev);
	return op;
}

static void vm_job_join(struct vm_job *j)
{
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = false;
}

static void op_free(struct engine_op *op)
{
	if (!op)
		return;
	if (op->job.child) {
		struct vf_err ign = { 0 };

		inject_end(&op->job, true, &ign);
	}
	proc_pin_close(&op->pin);
	vm_job_join(&op->vm);
	if (op->vm.fd >= 0)
		close(op->vm.fd);
	free(op);
}

static void op_register(struct engine *en, struct engine_op *op)
{
	en->ops[en->n_ops++] = op;
}

static void op_unregister(struct engine *en, const struct engine_op *op)
{
	for (size_t i = 0; i < en->n_ops; i++)
		if (en->ops[i] == op) {
			en->ops[i] = en->ops[--en->n_ops];
			return;
		}
}

const struct engine_op *engine_op_on(const struct engine *en, const char *bdf)
{
	const struct dev_rec *r = store_find(en->store, bdf);
	const char *lead = r && r->n_unit ? r->unit[0] : bdf;

	for (size_t i = 0; i < en->n_ops; i++)
		if (strcmp(en->ops[i]->bdf, lead) == 0)
			return en->ops[i];
	return NULL;
}

int engine_op_refuse(const struct engine *en, const char *bdf, bool starting, struct vf_err *e)
{
	const struct engine_op *op = engine_op_on(en, bdf);
	char what[CONSUMER_NAME_MAX + 64];

	if (op) {
		engine_op_describe(op, what, sizeof(what));
		return vf_err_refuse(e, "busy", "%s: %s is in flight; try again when it has ended",
				     bdf, what);
	}
	if (starting && en->n_ops >= ENGINE_MAX_OPS)
		return vf_err_refuse(e, "busy",
				     "%d operations (live injections, VM hand-offs) are in flight; try again",
				     ENGINE_MAX_OPS);
	return 0;
}

int engine_op_fd(const struct engine_op *op)
{
	return op->consumer.kind == CONSUMER_VM ? op->vm.fd : op->job.fd;
}

int64_t engine_op_deadline(const struct engine_op *op)
{
	return op->consumer.kind == CONSUMER_VM ? INT64_MAX : op->job.deadline_ms;
}

const char *engine_op_bdf(const struct engine_op *op)
{
	return op->dev;
}

enum engine_op_kind engine_op_kind(const struct engine_op *op)
{
	return op->kind;
}

const struct consumer *engine_op_consumer(const struct engine_op *op)
{
	return &op->consumer;
}

void engine_op_describe(const struct engine_op *op, char *buf, size_t cap)
{
	if (op->consumer.kind == CONSUMER_PID)
		snprintf(buf, cap, "%s live injection into process %d",
			 op->kind == ENGINE_OP_ASSIGN ? "a" : "the undoing of a", op->consumer.pid);
	else if (op->kind == ENGINE_OP_ASSIGN)
		snprintf(buf, cap, "an assign to domain %s", op->consumer.name);
	else if (op->kind == ENGINE_OP_RELEASE)
		snprintf(buf, cap, "a release from domain %s", op->consumer.name);
	else
		snprintf(buf, cap, "a quarantine (its detach from domain %s)", op->consumer.name);
}

/* The manager's call, wherever it runs. */
static void vm_job_run(struct vm_job *j)
{
	if (j->attach)
		j->rc = j->ops->attach(j->ctx, j->domain, j->host, j->n,
				       j->has_guest ? &j->guest : NULL, j->flags, &j->err);
	else
		j->rc = j->ops->detach(j->ctx, j->domain, j->host, j->n, &j->err);
}

static void *vm_worker(void *arg)
{
	struct vm_job *j = arg;
	uint64_t one = 1;

	vm_job_run(j);
	/* the last touch of the job: the loop joins the thread before it reads it */
	(void)!write(j->fd, &one, sizeof(one));
	return NULL;
}

/* Starts the job's thread. */
static int vm_job_launch(struct vm_job *j, struct vf_err *e)
{
	int r;

	j->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (j->fd < 0)
		return vf_err_set(e, errno, "cannot make an eventfd for the libvirt call");
	r = pthread_create(&j->thread, NULL, vm_worker, j);
	if (r != 0) {
		close(j->fd);
		j->fd = -1;
		return vf_err_set(e, r, "cannot start a thread for the libvirt call");
	}
	j->running = true;
	return 0;
}

/* ---- live injection into a running process ----------------------- */

/*
 * The whole of /proc/<pid>/cgroup of the pinned process into `text` (NUL-
 * terminated). A file that does not fit is an error (E2BIG), never a cut
 * path taken for the process's cgroup.
 */
static int pin_cgroup_text(const struct proc_pin *p, char *text, size_t cap, struct vf_err *e)
{
	_cleanup_close_ int fd = openat(p->dirfd, "cgroup", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = 0;

	if (fd < 0)
		return vf_err_set(e, errno, "process %d: its cgroups", p->pid);
	for (;;) {
		ssize_t n = read(fd, text + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vf_err_set(e, errno, "process %d: its cgroups", p->pid);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1)
			return vf_err_set(e, E2BIG, "process %d: its cgroups", p->pid);
	}
	text[len] = '\0';
	return 0;
}

/*
 * The process's cgroup from its pinned /proc directory: on the v2 hierarchy
 * (`controller` NULL) or a v1 controller's. ENOENT: no such line.
 */
static int pin_cgroup(const struct proc_pin *p, const char *controller, char *out, size_t cap,
		      struct vf_err *e)
{
	_cleanup_free_ char *text = vf_xcalloc(1, 65536);
	int r;

	if (pin_cgroup_text(p, text, 65536, e) < 0)
		return -1;
	r = vf_parse_proc_cgroup(text, controller, out, cap);
	if (r < 0)
		return controller ? vf_err_set(e, -r, "process %d: its %s controller's cgroup cannot be read",
					       p->pid, controller)
				  : vf_err_set(e, -r, "process %d: its cgroup v2 membership cannot be read",
					       p->pid);
	return 0;
}

/*
 * Whether a cgroup v2 device program governs the process: 1 yes, 0 no, -1
 * cannot tell (fails closed; cgroup.c does the looking).
 */
static int v2_device_program(const struct proc_pin *p, struct vf_err *e)
{
	char rel[PATH_MAX];
	int r;

	if (pin_cgroup(p, NULL, rel, sizeof(rel), e) < 0)
		return -1;
	r = devcg_v2_device_program(rel, e);
	if (r < 0)
		return vf_err_wrap(e, "process %d", p->pid);
	return r;
}

/* Allows (or denies) the nodes in the process's cgroup v1 device controller. */
static int v1_devices(const struct proc_pin *p, const struct inject_nodes *n, bool allow,
		      struct vf_err *e)
{
	char rel[PATH_MAX];
	const dev_t rdev[2] = { n->ctl_rdev, n->grp_rdev };
	struct vf_err ce = { 0 };

	if (pin_cgroup(p, "devices", rel, sizeof(rel), &ce) < 0) {
		if (ce.errnum == ENOENT)
			return 0; /* no device controller: nothing restricts it */
		if (e)
			*e = ce;
		return -1;
	}
	if (devcg_v1_device_rules(rel, rdev, 2, allow, e) < 0)
		return vf_err_wrap(e, "process %d's device cgroup", p->pid);
	return 0;
}

int engine_assign_pid_start(struct engine *en, const char *bdf_in, const char *tenant,
			    struct proc_pin *pin, struct engine_op **opp, struct unit_result *out,
			    struct vf_err *e)
{
	struct dev_rec *own, *rec;
	struct engine_op *op;
	struct stat self;
	int group, r;

	*opp = NULL;
	if (engine_lookup(en, bdf_in, &own, &rec, out, e) < 0)
		return vf_err_append(e, " (bind it first)");
	if (engine_op_refuse(en, own->bdf, true, e) < 0)
		return -1;
	if (rec->state != DEV_POOLED)
		return refuse_not_pooled(own->bdf, rec, e);
	if (stat("/proc/self/ns/mnt", &self) < 0)
		return vf_err_set(e, errno, "vfiod's own mount namespace");
	if ((uint64_t)self.st_ino == pin->mntns)
		return vf_err_refuse(e, "bad-request",
				     "process %d shares vfiod's mount namespace: its /dev is the host's, there is nothing to inject (hand the device to a container's process)",
				     pin->pid);
	op = op_new(ENGINE_OP_ASSIGN, rec, rec->bdf);
	group = engine_device_group(en, own->bdf);
	if (group < 0) {
		op_free(op);
		return vf_err_set(e, 0, "%s: its IOMMU group cannot be read", own->bdf);
	}
	if (inject_host_nodes(en->h, group, &op->nodes, e) < 0) {
		op_free(op);
		return -1;
	}
	r = v2_device_program(pin, e);
	if (r != 0) {
		op_free(op);
		if (r < 0) {
			vf_err_wrap(e, "assign %s", own->bdf);
			e->code = "not-permitted";
			return vf_err_append(e, "; refused: vfiod cannot tell, and fails closed");
		}
		return vf_err_refuse(e, "not-permitted",
				     "process %d is governed by a cgroup v2 device program (its container runtime's): vfiod cannot allow the device there; hand it over with --cdi when the container starts",
				     pin->pid);
	}
	if (v1_devices(pin, &op->nodes, true, e) < 0) {
		op_free(op);
		return vf_err_wrap(e, "assign %s to process %d", own->bdf, pin->pid);
	}
	if (inject_start(&op->job, pin->dirfd, pin->pid, &op->nodes, false, INJECT_DEADLINE_MS,
			 e) < 0) {
		v1_devices(pin, &op->nodes, false, &(struct vf_err){ 0 });
		op_free(op);
		return vf_err_wrap(e, "assign %s to process %d", own->bdf, pin->pid);
	}
	/* the pin is the operation's from here on */
	op->pin = *pin;
	pin->pidfd = pin->dirfd = -1;
	op->consumer = (struct consumer){ .kind = CONSUMER_PID, .pid = op->pin.pid,
					  .start = op->pin.start };
	snprintf(op->tenant, sizeof(op->tenant), "%s", tenant);
	op_register(en, op);
	*opp = op;
	return 0;
}

static int release_to_pool(struct engine *en, struct dev_rec *rec, struct unit_result *out,
			   struct vf_err *e);

/* A live process's operation ends: its child reported, or it expired. */
static int pid_op_end(struct engine *en, struct engine_op *op, bool expired,
		      struct unit_result *out, struct vf_err *e)
{
	struct dev_rec *own, *rec;
	bool remove = op->kind != ENGINE_OP_ASSIGN;

	if (inject_end(&op->job, expired, e) < 0) {
		/* nothing was recorded: the record is as it was before the start */
		if (!remove)
			v1_devices(&op->pin, &op->nodes, false, &(struct vf_err){ 0 });
		else if (engine_lookup(en, op->bdf, &own, &rec, out, &(struct vf_err){ 0 }) == 0)
			vf_err_append(e, "; %s stays assigned to it", op->bdf);
		return -1;
	}
	if (engine_lookup(en, op->bdf, &own, &rec, out, e) < 0)
		return -1;
	if (!remove && rec->state != DEV_POOLED) {
		/* the unit changed meanwhile (a reconcile): the nodes go again */
		inject_run(op->pin.dirfd, op->pin.pid, &op->nodes, true, INJECT_DEADLINE_MS,
			   &(struct vf_err){ 0 });
		v1_devices(&op->pin, &op->nodes, false, &(struct vf_err){ 0 });
		return vf_err_refuse(e, "busy", "%s became %s during the injection", op->bdf,
				     dev_state_name(rec->state));
	}
	if (!remove) {
		set_unit(en, rec, DEV_ASSIGNED, &op->consumer, op->tenant);
		if (store_save(en->store, e) < 0) {
			set_unit(en, rec, DEV_POOLED, NULL, "");
			inject_run(op->pin.dirfd, op->pin.pid, &op->nodes, true, INJECT_DEADLINE_MS,
				   &(struct vf_err){ 0 });
			v1_devices(&op->pin, &op->nodes, false, &(struct vf_err){ 0 });
			return vf_err_wrap(e, "assign %s", op->bdf);
		}
		return 0;
	}
	if (rec->state != DEV_ASSIGNED || !consumer_equal(&rec->consumer, &op->consumer))
		return vf_err_refuse(e, "busy", "%s became %s during the release", op->bdf,
				     dev_state_name(rec->state));
	/* the nodes are gone from its /dev: its device cgroup denies them again */
	if (proc_pin_alive(&op->pin))
		v1_devices(&op->pin, &op->nodes, false, &(struct vf_err){ 0 });
	return release_to_pool(en, rec, out, e);
}

/* ---- VMs, through the VM manager (engine->vm) ---------------------- */

/* The unit of `lead` as PCI addresses. */
static size_t unit_addrs(const struct dev_rec *lead, struct vf_bdf *out)
{
	size_t n = 0;

	for (size_t i = 0; i < lead->n_unit; i++)
		if (vf_parse_bdf(lead->unit[i], &out[n]) == 0)
			n++;
	return n;
}

/* A domain's operation on the unit of `lead`, its call to the manager filled in (not started). */
static struct engine_op *vm_op_new(struct engine *en, enum engine_op_kind kind,
				   const struct dev_rec *lead, const char *dev, const char *domain)
{
	struct engine_op *op = op_new(kind, lead, dev);

	op->consumer.kind = CONSUMER_VM;
	snprintf(op->consumer.name, sizeof(op->consumer.name), "%s", domain);
	op->vm.ops = en->vm;
	op->vm.ctx = en->vm_ctx;
	op->vm.attach = kind == ENGINE_OP_ASSIGN;
	snprintf(op->vm.domain, sizeof(op->vm.domain), "%s", domain);
	op->vm.n = unit_addrs(lead, op->vm.host);
	return op;
}

/*
 * The VM assign's start: every check, then the record (before the manager
 * is asked). The operation returned has its attach to make.
 */
static int vm_assign_begin(struct engine *en, const char *bdf_in, const char *tenant,
			   const char *domain, const struct vf_bdf *guest, unsigned flags,
			   bool starting, struct engine_op **opp, struct unit_result *out,
			   struct vf_err *e)
{
	struct dev_rec *own, *rec;
	struct consumer consumer = { .kind = CONSUMER_VM };
	struct engine_op *op;
	const char *bdf;

	*opp = NULL;
	if (!domxml_name_ok(domain))
		return vf_err_refuse(e, "bad-request",
				     "\"%s\" is not a domain name vfiod accepts (1-64 of A-Z a-z 0-9 _ . : + -)",
				     domain);
	if (engine_lookup(en, bdf_in, &own, &rec, out, e) < 0)
		return vf_err_append(e, " (bind it first)");
	bdf = own->bdf;
	if (!en->vm)
		return vf_err_refuse(e, "libvirt-unavailable", "VM handoff is not available here");
	if (engine_op_refuse(en, bdf, starting, e) < 0)
		return -1;
	if (rec->state != DEV_POOLED)
		return refuse_not_pooled(bdf, rec, e);
	if (guest && rec->n_unit > 1)
		return vf_err_refuse(e, "bad-request",
				     "%s moves as a unit of %zu devices: one guest address cannot take them all (leave it out: each gets a free root port)",
				     bdf, rec->n_unit);
	op = vm_op_new(en, ENGINE_OP_ASSIGN, rec, bdf, domain);
	op->vm.has_guest = guest != NULL;
	if (guest)
		op->vm.guest = *guest;
	op->vm.flags = flags;
	snprintf(op->tenant, sizeof(op->tenant), "%s", tenant);
	/* the records as they are, to put back (their times too) on failure */
	op->nbefore = unit_save(en, rec, op->before);
	snprintf(consumer.name, sizeof(consumer.name), "%s", domain);
	/* recorded first: a crash during the attach leaves something to reconcile */
	set_unit(en, rec, DEV_ASSIGNED, &consumer, tenant);
	if (store_save(en->store, e) < 0) {
		unit_restore(en, op->before, op->nbefore);
		op_free(op);
		return vf_err_wrap(e, "assign %s", bdf);
	}
	*opp = op;
	return 0;
}

int engine_assign_vm(struct engine *en, const char *bdf_in, const char *tenant, const char *domain,
		     const struct vf_bdf *guest, unsigned flags, struct unit_result *out,
		     struct vf_err *e)
{
	struct engine_op *op;

	if (vm_assign_begin(en, bdf_in, tenant, domain, guest, flags, false, &op, out, e) < 0)
		return -1;
	vm_job_run(&op->vm);
	return engine_op_end(en, op, false, out, e);
}

/* The VM assign, started: its attach runs in a thread of its own. */
static int vm_assign_start(struct engine *en, const char *bdf_in, const struct assign_req *a,
			   struct unit_result *out, struct vf_err *e)
{
	struct engine_op *op;

	*a->op = NULL;
	if (vm_assign_begin(en, bdf_in, a->tenant, a->domain, a->guest, a->flags, true, &op, out,
			    e) < 0)
		return -1;
	if (vm_job_launch(&op->vm, &op->vm.err) < 0) {
		/* ended as a failed attach: the record goes back */
		op->vm.rc = -1;
		return engine_op_end(en, op, false, out, e);
	}
	op_register(en, op);
	*a->op = op;
	return 0;
}

int handoff_vm_detach_start(struct engine *en, struct dev_rec *lead, enum engine_op_kind kind,
			    const char *dev, const unsigned *old, struct engine_op **opp,
			    struct vf_err *e)
{
	struct engine_op *op = vm_op_new(en, kind, lead, dev, lead->consumer.name);

	if (old)
		memcpy(op->old_command, old, sizeof(op->old_command));
	if (vm_job_launch(&op->vm, e) < 0) {
		op_free(op);
		return -1;
	}
	op_register(en, op);
	*opp = op;
	return 0;
}

/* Gives the assign's unit its records back as they were before the start. */
static void vm_assign_undo(struct engine *en, const struct engine_op *op)
{
	for (size_t i = 0; i < op->nbefore; i++) {
		struct dev_rec *m = store_find(en->store, op->before[i].bdf);

		/* what the hand-off changed; what the storm ladder recorded meanwhile stays */
		if (!m)
			continue;
		m->state = op->before[i].state;
		m->consumer = op->before[i].consumer;
		memcpy(m->tenant, op->before[i].tenant, sizeof(m->tenant));
		m->since = op->before[i].since;
	}
}

static const char *op_verb(enum engine_op_kind k)
{
	return k == ENGINE_OP_ASSIGN ? "assign" : k == ENGINE_OP_RELEASE ? "release" : "quarantine";
}

/* A domain's operation ends: its call to the manager has returned. */
static int vm_op_end(struct engine *en, struct engine_op *op, struct unit_result *out,
		     struct vf_err *e)
{
	struct dev_rec *own, *rec;
	struct vm_job *j = &op->vm;
	bool same;

	vm_job_join(j); /* at once when it has reported */
	if (engine_lookup(en, op->dev, &own, &rec, out, e) < 0) {
		if (op->kind == ENGINE_OP_QUARANTINE)
			contain_unsilence(en, out, out->n, op->old_command);
		return vf_err_wrap(e, "%s %s", op_verb(op->kind), op->dev);
	}
	/* as the start left it: assigned to this domain */
	same = rec->state == DEV_ASSIGNED && consumer_equal(&rec->consumer, &op->consumer);
	switch (op->kind) {
	case ENGINE_OP_ASSIGN:
		if (j->rc == 0 && same)
			return 0;
		if (j->rc == 0)
			return vf_err_refuse(e, "busy",
					     "%s became %s while it was attached to domain %s, which may hold it now",
					     op->dev, dev_state_name(rec->state), op->consumer.name);
		*e = j->err;
		if (same) {
			struct vf_err se = { 0 };

			vm_assign_undo(en, op);
			if (store_save(en->store, &se) < 0)
				vf_err_append(e, "; and recording that failed: %s", se.msg);
		}
		return vf_err_wrap(e, "assign %s to domain %s", op->dev, op->consumer.name);
	case ENGINE_OP_RELEASE:
		if (!same)
			return vf_err_refuse(e, "busy", "%s became %s during the release", op->dev,
					     dev_state_name(rec->state));
		if (j->rc < 0) {
			*e = j->err;
			return vf_err_wrap(e, "release %s", op->dev);
		}
		return release_to_pool(en, rec, out, e);
	case ENGINE_OP_QUARANTINE:
		if (!same || j->rc < 0) {
			contain_unsilence(en, out, out->n, op->old_command);
			if (!same)
				return vf_err_refuse(e, "busy", "%s became %s during the quarantine",
						     op->dev, dev_state_name(rec->state));
			*e = j->err;
			return vf_err_wrap(e, "quarantine %s: detaching failed", op->dev);
		}
		return contain_record(en, out, op->old_command, e);
	}
	return vf_err_set(e, 0, "%s: an operation of no known kind", op->dev);
}

int engine_op_end(struct engine *en, struct engine_op *op, bool expired,
		  struct unit_result *out, struct vf_err *e)
{
	int rc;

	op_unregister(en, op);
	if (op->consumer.kind == CONSUMER_VM)
		rc = vm_op_end(en, op, out, e);
	else
		rc = pid_op_end(en, op, expired, out, e);
	op_free(op);
	return rc;
}

int engine_release_consumer(struct engine *en, const struct consumer *consumer,
			    struct vf_strv *released, struct vf_err *e)
{
	char (*failed)[VF_BDF_LEN] = vf_xcalloc(en->store->n + 1, sizeof(*failed));
	size_t nfailed = 0;
	int back = 0;
	bool again = true;

	/* releasing changes the store: start over after each unit */
	while (again) {
		again = false;
		for (size_t i = 0; i < en->store->n; i++) {
			struct dev_rec *r = &en->store->devs[i];
			struct unit_result u;
			struct vf_err re = { 0 };
			char bdf[VF_BDF_LEN];
			bool tried = false;

			if (r->state != DEV_ASSIGNED || !consumer_equal(&r->consumer, consumer) ||
			    (r->n_unit && strcmp(r->unit[0], r->bdf) != 0))
				continue;
			for (size_t k = 0; k < nfailed; k++)
				tried |= strcmp(failed[k], r->bdf) == 0;
			if (tried)
				continue;
			snprintf(bdf, sizeof(bdf), "%s", r->bdf);
			if (engine_release(en, bdf, &u, &re) < 0) {
				/* still assigned, and not tried again */
				snprintf(failed[nfailed++], VF_BDF_LEN, "%s", bdf);
				*e = re; /* the last failure, its code included */
				continue;
			}
			back++;
			if (released)
				vf_strv_add(released, bdf);
			again = true;
			break;
		}
	}
	free(failed);
	return nfailed ? -1 : back;
}

int engine_adopt_holder(struct engine *en, const char *bdf_in, int pid, struct vf_err *e)
{
	struct dev_rec *own, *rec;
	struct unit_result u;
	struct consumer c = { .kind = CONSUMER_HOLDER, .pid = pid };

	if (engine_lookup(en, bdf_in, &own, &rec, &u, e) < 0)
		return -1;
	/* an operation in flight decides what the unit becomes; the next scan sees it */
	if (rec->state != DEV_POOLED || engine_op_on(en, own->bdf))
		return 0;
	c.start = proc_start_of(en->h, pid);
	if (!c.start)
		return 0; /* gone already */
	set_unit(en, rec, DEV_ASSIGNED, &c, "");
	if (store_save(en->store, e) < 0) {
		set_unit(en, rec, DEV_POOLED, NULL, "");
		return vf_err_wrap(e, "record %s's holder", own->bdf);
	}
	return 1;
}

/* ---- one back end per kind of consumer ---- */

/* A process found holding the group: the recorded one, not whoever has its pid now. */
static int holder_detach(struct engine *en, struct dev_rec *rec, bool quarantine,
			 struct vf_err *e)
{
	const struct consumer *c = &rec->consumer;

	if (!proc_is(en->h, c->pid, c->start))
		return 0;
	if (!quarantine)
		return vf_err_refuse(e, "busy",
				     "%s is held by process %d, which vfiod did not hand it to: stop that process first (or quarantine the device)",
				     rec->bdf, c->pid);
	if (en->policy && en->policy->daemon.holder_signal &&
	    proc_signal(en->h, c->pid, c->start, SIGTERM, e) < 0 && errno != ESRCH)
		return vf_err_wrap(e, "%s: cannot signal its holder", rec->bdf);
	return 0; /* holder_quarantine = leave: it keeps a silenced device */
}

static int vm_detach(struct engine *en, struct dev_rec *rec, bool quarantine, struct vf_err *e)
{
	struct vf_bdf host[STATE_UNIT_MAX];
	size_t n = unit_addrs(rec, host);

	(void)quarantine;
	if (!en->vm)
		return vf_err_refuse(e, "libvirt-unavailable",
				     "%s is in domain %s and VM handoff is not available here",
				     rec->bdf, rec->consumer.name);
	return en->vm->detach(en->vm_ctx, rec->consumer.name, host, n, e);
}

static int cdi_detach(struct engine *en, struct dev_rec *rec, bool quarantine, struct vf_err *e)
{
	(void)en;
	(void)quarantine;
	if (unlink(rec->consumer.name) < 0 && errno != ENOENT)
		return vf_err_set(e, errno, "cannot remove the CDI spec %s", rec->consumer.name);
	return 0;
}

static int pid_detach(struct engine *en, struct dev_rec *rec, bool quarantine, struct vf_err *e)
{
	const struct consumer *c = &rec->consumer;
	struct inject_nodes n;
	struct proc_pin pin;
	int group = engine_device_group(en, rec->bdf), rc = 0;

	(void)quarantine;
	if (group < 0 || inject_host_nodes(en->h, group, &n, e) < 0)
		return vf_err_set(e, 0, "%s: cannot detach from process %d", rec->bdf, c->pid);
	/* a process that is gone has taken its namespace along; a reused pid
	 * is someone else, never touched */
	if (proc_pin_open(en->h, c->pid, &pin, &(struct vf_err){ 0 }) < 0)
		return 0;
	if (c->start == 0 || pin.start == c->start) {
		/* its device cgroup first: that needs no answer from its /dev */
		v1_devices(&pin, &n, false, &(struct vf_err){ 0 });
		rc = inject_run(pin.dirfd, c->pid, &n, true, INJECT_DEADLINE_MS, e);
	}
	proc_pin_close(&pin);
	return rc;
}

static void describe_path(const struct consumer *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "a container (CDI spec %s)", c->name);
}

static void describe_vm(const struct consumer *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "domain %s", c->name);
}

static void describe_pid(const struct consumer *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "process %d", c->pid);
}

static void describe_holder(const struct consumer *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "process %d, holding its group", c->pid);
}

static int cdi_assign(struct engine *en, const char *bdf, const struct assign_req *a,
		      struct unit_result *out, struct vf_err *e)
{
	return engine_assign_cdi(en, bdf, a->tenant, a->cdi_dir, out, e);
}

static int pid_assign(struct engine *en, const char *bdf, const struct assign_req *a,
		      struct unit_result *out, struct vf_err *e)
{
	return engine_assign_pid_start(en, bdf, a->tenant, a->pin, a->op, out, e);
}

static int vm_assign(struct engine *en, const char *bdf, const struct assign_req *a,
		     struct unit_result *out, struct vf_err *e)
{
	if (a->op)
		return vm_assign_start(en, bdf, a, out, e);
	return engine_assign_vm(en, bdf, a->tenant, a->domain, a->guest, a->flags, out, e);
}

/*
 * Each kind of consumer behind one interface: how it is handed a unit
 * (none for a holder, which vfiod adopts and never assigns), how it lets
 * go, and how messages name it.
 */
static const struct consumer_ops {
	int (*assign)(struct engine *en, const char *bdf, const struct assign_req *a,
		      struct unit_result *out, struct vf_err *e);
	int (*detach)(struct engine *en, struct dev_rec *rec, bool quarantine, struct vf_err *e);
	void (*describe)(const struct consumer *c, char *buf, size_t cap);
} consumer_ops[] = {
	[CONSUMER_CDI] = { cdi_assign, cdi_detach, describe_path },
	[CONSUMER_PID] = { pid_assign, pid_detach, describe_pid },
	[CONSUMER_VM] = { vm_assign, vm_detach, describe_vm },
	[CONSUMER_HOLDER] = { NULL, holder_detach, describe_holder },
};

int engine_assign(struct engine *en, const char *bdf, const struct assign_req *a,
		  struct unit_result *out, struct vf_err *e)
{
	if (a->kind <= CONSUMER_NONE || a->kind >= VF_ARRAY_SIZE(consumer_ops) ||
	    !consumer_ops[a->kind].assign)
		return vf_err_refuse(e, "bad-request", "%s: no consumer to assign it to", bdf);
	return consumer_ops[a->kind].assign(en, bdf, a, out, e);
}

void consumer_describe(const struct consumer *c, char *buf, size_t cap)
{
	if (c->kind > CONSUMER_NONE && c->kind < VF_ARRAY_SIZE(consumer_ops))
		consumer_ops[c->kind].describe(c, buf, cap);
	else
		snprintf(buf, cap, "no one");
}

int handoff_detach(struct engine *en, struct dev_rec *rec, bool quarantine, struct vf_err *e)
{
	if (rec->consumer.kind == CONSUMER_NONE)
		return 0;
	if (rec->consumer.kind >= VF_ARRAY_SIZE(consumer_ops))
		return vf_err_set(e, 0, "%s: unknown consumer", rec->bdf);
	return consumer_ops[rec->consumer.kind].detach(en, rec, quarantine, e);
}

/* The consumer let go: back to the pool, then a clean device. */
static int release_to_pool(struct engine *en, struct dev_rec *rec, struct unit_result *out,
			   struct vf_err *e)
{
	char bdf[VF_BDF_LEN];

	snprintf(bdf, sizeof(bdf), "%s", rec->bdf);
	set_unit(en, rec, DEV_POOLED, NULL, "");
	for (size_t i = 0; i < out->n; i++) {
		struct dev_rec *m = store_find(en->store, out->bdf[i]);

		if (m)
			m->reset_pending = true;
	}
	if (store_save(en->store, e) < 0)
		return vf_err_wrap(e, "release %s", bdf);
	/*
	 * The consumer is gone and the device is pooled whatever the reset
	 * does: a failed reset is not a failed release. It stays recorded as
	 * pending, and the result says so.
	 */
	for (size_t i = 0; i < out->n; i++) {
		struct vf_err re = { 0 };
		size_t len = strlen(out->warning);

		/* engine_reset records the outcome (reset, pending, or no method) itself */
		if (engine_reset(en, out->bdf[i], &re) >= 0)
			continue;
		out->reset_pending[i] = true;
		/* re.msg already ends in the errno's text */
		snprintf(out->warning + len, sizeof(out->warning) - len, "%s%s: pooled with its reset pending",
			 len ? "; " : "", re.msg);
	}
	return 0;
}

int engine_release(struct engine *en, const char *bdf_in, struct unit_result *out,
		   struct vf_err *e)
{
	struct dev_rec *own, *rec;
	const char *bdf;

	if (engine_lookup(en, bdf_in, &own, &rec, out, e) < 0)
		return -1;
	bdf = own->bdf;
	if (engine_op_refuse(en, bdf, false, e) < 0)
		return -1;
	if (rec->state != DEV_ASSIGNED)
		return vf_err_refuse(e, "not-found", "%s is not assigned (it is %s)", bdf,
				     dev_state_name(rec->state));
	if (handoff_detach(en, rec, false, e) < 0)
		return vf_err_wrap(e, "release %s", bdf);
	return release_to_pool(en, rec, out, e);
}

int engine_release_start(struct engine *en, const char *bdf_in, struct engine_op **opp,
			 struct unit_result *out, struct vf_err *e)
{
	struct dev_rec *own, *rec;
	struct engine_op *op;
	uint64_t start;
	int pid, group;

	*opp = NULL;
	if (engine_lookup(en, bdf_in, &own, &rec, out, e) < 0)
		return -1;
	if (engine_op_refuse(en, own->bdf, true, e) < 0)
		return -1;
	/* a guest may take its time to let go, or never does: not waited for here */
	if (rec->state == DEV_ASSIGNED && rec->consumer.kind == CONSUMER_VM && en->vm) {
		if (handoff_vm_detach_start(en, rec, ENGINE_OP_RELEASE, own->bdf, NULL, opp, e) < 0)
			return vf_err_wrap(e, "release %s", own->bdf);
		return 1;
	}
	if (rec->state != DEV_ASSIGNED || rec->consumer.kind != CONSUMER_PID)
		return engine_release(en, bdf_in, out, e) < 0 ? -1 : 0;
	pid = rec->consumer.pid;
	start = rec->consumer.start;
	op = op_new(ENGINE_OP_RELEASE, rec, rec->bdf);
	op->consumer = rec->consumer;
	group = engine_device_group(en, rec->bdf);
	if (group < 0 || inject_host_nodes(en->h, group, &op->nodes, e) < 0) {
		op_free(op);
		return group < 0 ? vf_err_set(e, 0, "%s: its IOMMU group cannot be read", rec->bdf)
				 : vf_err_wrap(e, "release %s", rec->bdf);
	}
	if (proc_pin_open(en->h, pid, &op->pin, &(struct vf_err){ 0 }) < 0 ||
	    (start && op->pin.start != start)) {
		/* gone, its namespace with it; or a reused pid, never touched */
		op_free(op);
		return release_to_pool(en, rec, out, e) < 0 ? -1 : 0;
	}
	if (inject_start(&op->job, op->pin.dirfd, pid, &op->nodes, true, INJECT_DEADLINE_MS,
			 e) < 0) {
		op_free(op);
		return vf_err_wrap(e, "release %s", rec->bdf);
	}
	op_register(en, op);
	*opp = op;
	return 1;
}
