// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroup-probe: drives vfiod/cgroup.c against a storming device on the
 * testbed (tests/testbed/probe-cgroup.sh builds and runs it). It links
 * vfiod's objects and libcgroup, so the generic tests/tools rule cannot
 * build it:
 *   cc -std=gnu11 -D_GNU_SOURCE -Ivfiod -o OUT tests/testbed/cgroup-probe.c \
 *      vfiod/cgroup.c vfiod/hostfs.c vfiod/err.c vfiod/util.c vfiod/parse.c \
 *      vfiod/irqmon.c vfiod/policy.c $(pkg-config --cflags --libs libcgroup inih)
 *
 *   cgroup-probe BDF GROUP VECTOR
 *
 * Measures the IRQ thread's CPU use (utime+stime over 2 s) uncontained, in
 * the irq cgroup at 50% and at 5%, shows both cgroups' members, steers the
 * vector to CPU 0 and back, tears down and checks nothing is left. Lines
 * starting "RESULT " are for the script; exit 0 when every step worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "hostfs.h"
#include "policy.h"

static int fails;

static void step(const char *what, int rc, const struct vf_err *e)
{
	if (rc < 0) {
		fails++;
		printf("FAIL %s: %s\n", what, e->msg);
	} else {
		printf("ok   %s\n", what);
	}
	fflush(stdout);
}

static int read_stat(pid_t tid, struct devcg_stat *st)
{
	char path[64], buf[2048];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return devcg_parse_stat(buf, st);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* total interrupts of the vector */
static unsigned long long irq_count(unsigned vec)
{
	char path[64], buf[4096];
	unsigned long long sum = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/irq/%u/per_cpu_count", vec);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (char *p = buf; *p;) {
		char *end;

		sum += strtoull(p, &end, 10);
		p = *end ? end + 1 : end;
	}
	return sum;
}

static unsigned vec;

/* CPU use of the IRQ thread and of the holder over 2 s, percent of one CPU */
static void measure(const char *label, pid_t tid, pid_t holder)
{
	unsigned long long i0, i1;

	struct devcg_stat a, b, ha = { 0 }, hb = { 0 };
	double t0, t1, hz = (double)sysconf(_SC_CLK_TCK);

	if (read_stat(tid, &a) < 0 || (holder && read_stat(holder, &ha) < 0)) {
		printf("FAIL measure %s: task gone\n", label);
		fails++;
		return;
	}
	i0 = irq_count(vec);
	t0 = now();
	usleep(2000000);
	t1 = now();
	i1 = irq_count(vec);
	if (read_stat(tid, &b) < 0 || (holder && read_stat(holder, &hb) < 0)) {
		printf("FAIL measure %s: task gone\n", label);
		fails++;
		return;
	}
	printf("RESULT %s irq_thread_cpu=%.0f%% policy=%u nice=%ld vmm_cpu=%.0f%% irqs/s=%.0f over %.2f s\n",
	       label, (double)(b.utime + b.stime - a.utime - a.stime) / hz / (t1 - t0) * 100,
	       b.policy, b.nice,
	       (double)(hb.utime + hb.stime - ha.utime - ha.stime) / hz / (t1 - t0) * 100,
	       (double)(i1 - i0) / (t1 - t0), t1 - t0);
	fflush(stdout);
}

static void show_file(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		printf("  %s: %s\n", path, strerror(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '\n' && p[1])
			*p = ' ';
	printf("  %s: %s%s", path, buf, n > 0 && buf[n - 1] == '\n' ? "" : "\n");
}

static void show_groups(const struct devcg *c)
{
	static const char *const leaves[] = { "irq", "vmm" };
	char path[PATH_MAX + 64];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s/cgroup.procs", c->mount, c->base, leaves[i]);
		show_file(path);
		snprintf(path, sizeof(path), "%s/%s/%s/%s", c->mount, c->base, leaves[i],
			 c->hier == DEVCG_HIER_V2 ? "cgroup.threads" : "tasks");
		show_file(path);
		snprintf(path, sizeof(path), "%s/%s/%s/%s", c->mount, c->base, leaves[i],
			 c->hier == DEVCG_HIER_V2 ? "cpu.max" : "cpu.cfs_quota_us");
		show_file(path);
	}
	fflush(stdout);
}

static void show_task(const char *label, pid_t tid)
{
	char path[64], line[256];
	struct devcg_stat st;
	FILE *f;

	if (read_stat(tid, &st) < 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Cpus_allowed_list:", 18) == 0)
			break;
	if (f)
		fclose(f);
	line[strcspn(line, "\n")] = '\0';
	printf("RESULT %s policy=%u rtprio=%u nice=%ld cpus=%s\n", label, st.policy, st.rt_priority,
	       st.nice, f ? line + 18 + strspn(line + 18, "\t ") : "?");
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, value, strlen(value));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

/*
 * v2 only: a kernel that refuses the move, made with v2's no-internal-process
 * rule: irq gets a child and a domain controller (memory; cpu alone is a
 * threaded controller and would let irq be a thread root) in its
 * subtree_control, so writing to its cgroup.procs fails with EBUSY. The
 * fallback must take effect (SCHED_OTHER, its nice and CPUs unchanged)
 * and teardown must undo it.
 */
static void fallback(struct devcg *c, const struct hostfs *h, const char *bdf, pid_t tid)
{
	struct vf_err e = { 0 };
	struct devcg_report r = { 0 };
	struct policy pol1 = { 0 };
	char path[PATH_MAX + 96];
	const char *dirs[] = { "", DEVCG_SLICE, c->base, NULL, NULL };
	char irq[sizeof(c->base) + 8];
	int rc;

	printf("=== fallback: the kernel refuses the move\n");
	policy_parse(&pol1, "probe", "[daemon]\nhousekeeping_cpus = 1\n", &e);
	c->policy = &pol1;
	show_task("fallback_before", tid);
	rc = devcg_setup(c, bdf, 50, 50, &e);
	step("setup for the fallback", rc, &e);
	snprintf(irq, sizeof(irq), "%s/irq", c->base);
	dirs[3] = irq;
	snprintf(path, sizeof(path), "%s/%s/block", c->mount, irq);
	if (mkdir(path, 0755) < 0) {
		printf("FAIL mkdir %s: %s\n", path, strerror(errno));
		fails++;
	}
	for (size_t i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s/cgroup.subtree_control", c->mount, dirs[i]);
		if (write_file(path, "+memory") < 0) {
			printf("FAIL +memory in %s: %s\n", path, strerror(errno));
			fails++;
		}
	}
	rc = devcg_attach_irq_threads(c, h, &vec, 1, &r, &e);
	step("attach IRQ threads (refused move)", rc, &e);
	for (size_t i = 0; i < r.n_threads; i++) {
		const struct devcg_thread_report *t = &r.threads[i];

		printf("RESULT fallback_thread tid=%d how=%s was_rt=%d move_err=%s err=%s\n",
		       (int)t->tid, devcg_how_name(t->how), t->was_rt,
		       t->move_err ? strerrorname_np(t->move_err) : "-", t->err ? strerrorname_np(t->err) : "-");
	}
	show_task("fallback_contained", tid);
	measure("fallback_cap50", tid, 0);
	snprintf(path, sizeof(path), "%s/%s/block", c->mount, irq);
	rmdir(path);
	rc = devcg_teardown(c, &e);
	step("teardown after the fallback", rc, &e);
	show_task("fallback_after_teardown", tid);
	devcg_report_free(&r);
	policy_free(&pol1);
}

int main(int argc, char **argv)
{
	struct vf_err e = { 0 };
	struct hostfs h;
	struct devcg c = { 0 };
	struct devcg_report r = { 0 };
	struct policy pol = { 0 };
	int group, rc;
	pid_t tid = 0, holder = 0;
	char path[PATH_MAX + 64];
	struct stat sb;

	if (argc != 4) {
		fprintf(stderr, "usage: cgroup-probe BDF GROUP VECTOR\n");
		return 2;
	}
	group = atoi(argv[2]);
	vec = (unsigned)strtoul(argv[3], NULL, 10);
	if (hostfs_init(&h, "/", &e) < 0 ||
	    policy_parse(&pol, "probe", "[daemon]\nhousekeeping_cpus = 0\n", &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	c.policy = &pol;

	/* uncontained, for reference */
	{
		struct devcg_task *t = NULL;
		size_t n = 0;

		if (devcg_find_irq_threads(&h, &vec, 1, &t, &n, &e) < 0 || n == 0) {
			printf("FAIL no IRQ thread for vector %u\n", vec);
			return 1;
		}
		tid = t[0].tid;
		printf("IRQ thread %d (%s) policy %u rtprio %u\n", (int)tid, t[0].st.comm,
		       t[0].st.policy, t[0].st.rt_priority);
		free(t);
	}
	{
		pid_t *p = NULL;
		size_t n = 0;

		if (devcg_find_holders(&h, group, getpid(), &p, &n, &e) == 0 && n)
			holder = p[0];
		free(p);
	}
	measure("uncontained", tid, holder);

	rc = devcg_setup(&c, argv[1], 50, 50, &e);
	step("setup irq 50% vmm 50%", rc, &e);
	if (rc < 0)
		return 1;
	printf("RESULT hierarchy=%s mount=%s base=%s\n", devcg_hier_name(c.hier), c.mount, c.base);
	rc = devcg_setup(&c, argv[1], 50, 50, &e);
	step("setup again (idempotent)", rc, &e);

	rc = devcg_attach_irq_threads(&c, &h, &vec, 1, &r, &e);
	step("attach IRQ threads", rc, &e);
	for (size_t i = 0; i < r.n_threads; i++) {
		const struct devcg_thread_report *t = &r.threads[i];

		printf("RESULT irq_thread tid=%d comm=%s how=%s was_rt=%d move_err=%s "
		       "err=%s\n",
		       (int)t->tid, t->comm, devcg_how_name(t->how), t->was_rt,
		       t->move_err ? strerrorname_np(t->move_err) : "-", t->err ? strerrorname_np(t->err) : "-");
	}
	rc = devcg_attach_holders(&c, &h, group, &r, &e);
	step("attach holders", rc, &e);
	for (size_t i = 0; i < r.n_holders; i++) {
		const struct devcg_holder_report *hr = &r.holders[i];

		printf("RESULT holder pid=%d comm=%s threads=%zu moved=%zu failed=%zu err=%s\n",
		       (int)hr->pid, hr->comm, hr->threads, hr->moved, hr->failed,
		       hr->err ? strerrorname_np(hr->err) : "-");
	}
	/* a second pass finds everything in place */
	rc = devcg_attach_irq_threads(&c, &h, &vec, 1, &r, &e);
	step("attach IRQ threads again", rc, &e);
	for (size_t i = 0; i < r.n_threads; i++)
		printf("  again: tid=%d how=%s already=%d\n", (int)r.threads[i].tid,
		       devcg_how_name(r.threads[i].how), r.threads[i].already);
	rc = devcg_attach_holders(&c, &h, group, &r, &e);
	step("attach holders again", rc, &e);
	for (size_t i = 0; i < r.n_holders; i++)
		printf("  again: pid=%d threads=%zu moved=%zu\n", (int)r.holders[i].pid,
		       r.holders[i].threads, r.holders[i].moved);
	show_groups(&c);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)tid);
	show_file(path);

	measure("cap50", tid, holder);
	rc = devcg_set_caps(&c, 5, 50, &e);
	step("set caps irq 5% vmm 50%", rc, &e);
	show_groups(&c);
	measure("cap5", tid, holder);
	rc = devcg_set_caps(&c, 50, 50, &e);
	step("set caps back to irq 50%", rc, &e);

	snprintf(path, sizeof(path), "/proc/irq/%u/smp_affinity_list", vec);
	show_file(path);
	rc = devcg_steer_irqs(&c, &h, &vec, 1, &pol, &e);
	step("steer to housekeeping CPU 0", rc, &e);
	show_file(path);
	rc = devcg_restore_irqs(&c, &h, &e);
	step("restore affinity", rc, &e);
	show_file(path);
	/* steered again so that teardown has something to restore */
	rc = devcg_steer_irqs(&c, &h, &vec, 1, &pol, &e);
	step("steer again before teardown", rc, &e);

	rc = devcg_teardown(&c, &e);
	step("teardown", rc, &e);
	show_file(path);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)tid);
	show_file(path);
	{
		struct devcg_stat st;

		if (read_stat(tid, &st) == 0)
			printf("RESULT after_teardown irq_thread policy=%u rtprio=%u nice=%ld\n",
			       st.policy, st.rt_priority, st.nice);
	}
	snprintf(path, sizeof(path), "%s/" DEVCG_SLICE, c.mount); /* kept by teardown */
	rc = stat(path, &sb) == 0 ? -1 : 0;
	printf("RESULT left_behind=%s (%s)\n", rc ? "yes" : "no", path);
	if (rc)
		fails++;
	if (c.hier == DEVCG_HIER_V2)
		fallback(&c, &h, argv[1], tid);
	devcg_report_free(&r);
	devcg_free(&c);
	policy_free(&pol);
	hostfs_fini(&h);
	printf("RESULT fails=%d\n", fails);
	return fails ? 1 : 0;
}
