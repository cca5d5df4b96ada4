// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the CPU-containment module (cgroup.c): the pure helpers, the
 * read-only discovery of IRQ threads and VFIO holders over a mkdtemp /proc,
 * IRQ steering through hostfs hooks, and the refusals that come before any
 * host action. Nothing here touches the build machine's cgroups or tasks. */
#include "tree.h"

#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "hostfs.h"
#include "policy.h"

/* ---- quota ---- */

static void test_quota(void **state)
{
	uint64_t q = 0;
	char buf[64], qb[32], pb[32];
	static const unsigned pcts[] = { 1, 5, 50, 99, 100, 150, 250, 6400, POLICY_CAP_MAX };

	(void)state;
	assert_int_equal(devcg_quota_us(5, &q), 0);
	assert_int_equal(q, 5000);
	assert_int_equal(devcg_quota_us(1, &q), 0);
	assert_int_equal(q, 1000); /* the kernel's smallest quota */
	assert_int_equal(devcg_quota_us(100, &q), 0);
	assert_int_equal(q, 100000);
	assert_int_equal(devcg_quota_us(250, &q), 0);
	assert_int_equal(q, 250000);
	assert_int_equal(devcg_quota_us(POLICY_CAP_MAX, &q), 0);
	assert_int_equal(q, (uint64_t)POLICY_CAP_MAX * 1000);
	assert_int_equal(devcg_quota_us(0, &q), -EINVAL);
	assert_int_equal(devcg_quota_us(POLICY_CAP_MAX + 1, &q), -EINVAL);

	assert_int_equal(devcg_cpu_max(5, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "5000 100000");
	assert_true(devcg_cpu_max(50, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "50000 100000");
	/* several CPUs: quota above the period */
	assert_true(devcg_cpu_max(250, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "250000 100000");
	assert_true(devcg_cpu_max(POLICY_CAP_MAX, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "819200000 100000");
	assert_int_equal(devcg_cpu_max(0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(devcg_cpu_max(POLICY_CAP_MAX + 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(devcg_cpu_max(5, buf, 11), -ENAMETOOLONG);

	assert_int_equal(devcg_cfs_values(5, qb, sizeof(qb), pb, sizeof(pb)), 0);
	assert_string_equal(qb, "5000");
	assert_string_equal(pb, "100000");
	assert_int_equal(devcg_cfs_values(300, qb, sizeof(qb), pb, sizeof(pb)), 0);
	assert_string_equal(qb, "300000");
	assert_int_equal(devcg_cfs_values(0, qb, sizeof(qb), pb, sizeof(pb)), -EINVAL);
	assert_int_equal(devcg_cfs_values(5, qb, 4, pb, sizeof(pb)), -ENAMETOOLONG);

	/* a cap is always a number: "max" (no limit) and -1 are never produced */
	for (size_t i = 0; i < VF_ARRAY_SIZE(pcts); i++) {
		assert_true(devcg_cpu_max(pcts[i], buf, sizeof(buf)) > 0);
		assert_null(strstr(buf, "max"));
		assert_true(buf[0] >= '1' && buf[0] <= '9');
		assert_int_equal(devcg_cfs_values(pcts[i], qb, sizeof(qb), pb, sizeof(pb)), 0);
		assert_true(qb[0] >= '1' && qb[0] <= '9');
	}
}

/* ---- names ---- */

static void test_name(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(devcg_name("0000:00:02.0", NULL, buf, sizeof(buf)), 24);
	assert_string_equal(buf, "vfiod.slice/0000_00_02.0");
	assert_true(devcg_name("0000:00:02.0", "irq", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "vfiod.slice/0000_00_02.0/irq");
	assert_true(devcg_name("0001:af:1f.7", "vmm", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "vfiod.slice/0001_af_1f.7/vmm");
	/* only canonical addresses, only safe leaves */
	assert_int_equal(devcg_name("00:02.0", NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(devcg_name("0000:00:02.0/..", NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(devcg_name("0000:00:02.0", "..", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(devcg_name("0000:00:02.0", "a/b", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(devcg_name("0000:00:02.0", "", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(devcg_name("", NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(devcg_name("0000:00:02.0", "irq", buf, 20), -ENAMETOOLONG);
}

/* ---- /proc/<pid>/stat ---- */

/* A 6.1-style stat line: 52 fields, the given ones set. */
static void stat_line(char *buf, size_t cap, int pid, const char *comm, unsigned long flags,
		      unsigned policy, unsigned rtprio, long nice, unsigned long long start)
{
	char f[53][32];
	size_t o;

	for (int i = 3; i <= 52; i++)
		snprintf(f[i], sizeof(f[i]), "0");
	snprintf(f[3], sizeof(f[3]), "S");
	snprintf(f[4], sizeof(f[4]), "2");
	snprintf(f[8], sizeof(f[8]), "-1");
	snprintf(f[9], sizeof(f[9]), "%lu", flags);
	snprintf(f[14], sizeof(f[14]), "17");
	snprintf(f[15], sizeof(f[15]), "342");
	snprintf(f[18], sizeof(f[18]), "%d", policy ? -1 - (int)rtprio : 20 + (int)nice);
	snprintf(f[19], sizeof(f[19]), "%ld", nice);
	snprintf(f[20], sizeof(f[20]), "1");
	snprintf(f[22], sizeof(f[22]), "%llu", start);
	snprintf(f[25], sizeof(f[25]), "18446744073709551615");
	snprintf(f[38], sizeof(f[38]), "17");
	snprintf(f[39], sizeof(f[39]), "1");
	snprintf(f[40], sizeof(f[40]), "%u", rtprio);
	snprintf(f[41], sizeof(f[41]), "%u", policy);
	o = (size_t)snprintf(buf, cap, "%d (%s)", pid, comm);
	for (int i = 3; i <= 52; i++)
		o += (size_t)snprintf(buf + o, cap - o, " %s", f[i]);
	snprintf(buf + o, cap - o, "\n");
}

static void test_parse_stat(void **state)
{
	struct devcg_stat st;
	char line[1024];

	(void)state;
	stat_line(line, sizeof(line), 123, "irq/30-vfio-msi[0](0000:00:02.0)", 0x208040, 1, 50, 0,
		  2500);
	assert_int_equal(devcg_parse_stat(line, &st), 0);
	assert_int_equal(st.pid, 123);
	assert_string_equal(st.comm, "irq/30-vfio-msi[0](0000:00:02.0)");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.flags, 0x208040);
	assert_true(devcg_stat_is_kthread(&st));
	assert_int_equal(st.utime, 17);
	assert_int_equal(st.stime, 342);
	assert_int_equal(st.nice, 0);
	assert_int_equal(st.starttime, 2500);
	assert_int_equal(st.rt_priority, 50);
	assert_int_equal(st.policy, SCHED_FIFO);

	/* a user process, nice 19, SCHED_OTHER */
	stat_line(line, sizeof(line), 4242, "edu-storm", 0x400000, 0, 0, 19, 99);
	assert_int_equal(devcg_parse_stat(line, &st), 0);
	assert_false(devcg_stat_is_kthread(&st));
	assert_int_equal(st.nice, 19);
	assert_int_equal(st.policy, SCHED_OTHER);

	/* comm with spaces and parentheses: from the first '(' to the last ')' */
	stat_line(line, sizeof(line), 7, "a) b) (c", 0, 0, 0, -5, 1);
	assert_int_equal(devcg_parse_stat(line, &st), 0);
	assert_string_equal(st.comm, "a) b) (c");
	assert_int_equal(st.nice, -5);
	stat_line(line, sizeof(line), 8, ") S 1 2 3 (", 0, 0, 0, 0, 1);
	assert_int_equal(devcg_parse_stat(line, &st), 0);
	assert_string_equal(st.comm, ") S 1 2 3 (");
	assert_int_equal(st.state, 'S');
	stat_line(line, sizeof(line), 9, "", 0, 0, 0, 0, 1);
	assert_int_equal(devcg_parse_stat(line, &st), 0);
	assert_string_equal(st.comm, "");

	/* a long comm is cut, not refused */
	{
		char comm[300];

		memset(comm, 'x', sizeof(comm) - 1);
		comm[sizeof(comm) - 1] = '\0';
		stat_line(line, sizeof(line), 10, comm, 0, 0, 0, 0, 1);
		assert_int_equal(devcg_parse_stat(line, &st), 0);
		assert_int_equal(strlen(st.comm), DEVCG_COMM_MAX - 1);
	}

	/* only up to the policy field (an older kernel) is enough */
	stat_line(line, sizeof(line), 11, "k", 0x200000, 2, 10, 0, 1);
	{
		char *p = line;

		for (int i = 0; i < 41; i++)
			p = strchr(p + 1, ' ');
		*p = '\0';
	}
	assert_int_equal(devcg_parse_stat(line, &st), 0);
	assert_int_equal(st.policy, SCHED_RR);
	assert_int_equal(st.rt_priority, 10);
}

static void test_parse_stat_junk(void **state)
{
	struct devcg_stat st;
	char line[1024], *p;

	(void)state;
	assert_int_equal(devcg_parse_stat("", &st), -EINVAL);
	assert_int_equal(devcg_parse_stat("123 irq/30 S 2", &st), -EINVAL);
	assert_int_equal(devcg_parse_stat("123 (irq/30) S 2 0 0", &st), -EINVAL);
	assert_int_equal(devcg_parse_stat("(x) S", &st), -EINVAL);
	stat_line(line, sizeof(line), 1, "x", 0, 0, 0, 0, 1);
	/* no pid, a bad pid */
	assert_int_equal(devcg_parse_stat(line + 1, &st), -EINVAL);
	line[0] = 'a';
	assert_int_equal(devcg_parse_stat(line, &st), -EINVAL);
	line[0] = '0';
	assert_int_equal(devcg_parse_stat(line, &st), -EINVAL);
	/* a field that is not a number */
	stat_line(line, sizeof(line), 1, "x", 0, 0, 0, 0, 1);
	p = strstr(line, " 342 ");
	assert_non_null(p);
	p[1] = 'z';
	assert_int_equal(devcg_parse_stat(line, &st), -EINVAL);
	/* a double space shifts the fields */
	stat_line(line, sizeof(line), 1, "x", 0, 0, 0, 0, 1);
	p = strstr(line, " 342 ");
	memmove(p + 1, p, strlen(p) + 1);
	assert_int_equal(devcg_parse_stat(line, &st), -EINVAL);
	/* state must be one letter; no space after ')' */
	stat_line(line, sizeof(line), 1, "x", 0, 0, 0, 0, 1);
	p = strstr(line, ") S ");
	p[2] = '1';
	assert_int_equal(devcg_parse_stat(line, &st), -EINVAL);
	stat_line(line, sizeof(line), 1, "x", 0, 0, 0, 0, 1);
	p = strstr(line, ") S ");
	p[1] = 'S';
	assert_int_equal(devcg_parse_stat(line, &st), -EINVAL);
	/* a nice value out of range */
	stat_line(line, sizeof(line), 1, "x", 0, 0, 0, 25, 1);
	assert_int_equal(devcg_parse_stat(line, &st), -EINVAL);
}

/* ---- IRQ thread names ---- */

static void test_vfio_irq_thread(void **state)
{
	(void)state;
	assert_true(devcg_is_vfio_irq_thread("irq/30-vfio-msi[0](0000:00:02.0)", 30));
	assert_true(devcg_is_vfio_irq_thread("irq/130-vfio-msix[7](0000:3b:00.1)", 130));
	assert_true(devcg_is_vfio_irq_thread("irq/11-vfio-intx(0000:00:03.0)", 11));
	assert_true(devcg_is_vfio_irq_thread("irq/11-s-vfio-intx(0000:00:03.0)", 11));
	/* the number matches exactly */
	assert_false(devcg_is_vfio_irq_thread("irq/30-vfio-msi[0](0000:00:02.0)", 3));
	assert_false(devcg_is_vfio_irq_thread("irq/30-vfio-msi[0](0000:00:02.0)", 300));
	assert_false(devcg_is_vfio_irq_thread("irq/300-vfio-msi[0](0000:00:02.0)", 30));
	/* another handler on a shared line is not vfio's */
	assert_false(devcg_is_vfio_irq_thread("irq/11-e1000e", 11));
	assert_false(devcg_is_vfio_irq_thread("irq/11-s-snd_hda_intel", 11));
	assert_false(devcg_is_vfio_irq_thread("irq/11-vfi", 11));
	/* cut at 15 characters by an older kernel */
	assert_true(devcg_is_vfio_irq_thread("irq/30-vfio-msi", 30));
	assert_true(devcg_is_vfio_irq_thread("irq/1234567-vfi", 1234567));
	assert_true(devcg_is_vfio_irq_thread("irq/123456-s-vf", 123456));
	assert_false(devcg_is_vfio_irq_thread("irq/1234567-e10", 1234567));
	assert_false(devcg_is_vfio_irq_thread("kworker/0:1", 30));
	assert_false(devcg_is_vfio_irq_thread("", 30));
}

/* ---- mountinfo ---- */

#define MI_V2 "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot"
#define MI_TMPFS "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755"
#define MI_CPU "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu"
#define MI_CPUACCT "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct"
#define MI_CPUSET "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset"
#define MI_COMBINED "34 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct"
#define MI_UNIFIED "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw"
#define MI_SYSTEMD "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd"
#define MI_ROOT "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro"

static void test_mountinfo_line(void **state)
{
	struct devcg_mount m;

	(void)state;
	assert_int_equal(devcg_parse_mountinfo_line(MI_V2, &m), 1);
	assert_int_equal(m.hier, DEVCG_HIER_V2);
	assert_string_equal(m.path, "/sys/fs/cgroup");
	assert_string_equal(m.root, "/");
	assert_int_equal(devcg_parse_mountinfo_line(MI_CPU, &m), 1);
	assert_int_equal(m.hier, DEVCG_HIER_V1);
	assert_true(m.v1_cpu);
	assert_string_equal(m.path, "/sys/fs/cgroup/cpu");
	assert_int_equal(devcg_parse_mountinfo_line(MI_COMBINED, &m), 1);
	assert_true(m.v1_cpu);
	assert_string_equal(m.path, "/sys/fs/cgroup/cpu,cpuacct");
	/* cpuacct and cpuset are not cpu */
	assert_int_equal(devcg_parse_mountinfo_line(MI_CPUACCT, &m), 1);
	assert_false(m.v1_cpu);
	assert_int_equal(devcg_parse_mountinfo_line(MI_CPUSET, &m), 1);
	assert_false(m.v1_cpu);
	assert_int_equal(devcg_parse_mountinfo_line(MI_SYSTEMD, &m), 1);
	assert_false(m.v1_cpu);
	assert_int_equal(devcg_parse_mountinfo_line(MI_TMPFS, &m), 0);
	assert_int_equal(devcg_parse_mountinfo_line(MI_ROOT, &m), 0);
	/* no optional fields, several, escapes in the mount point */
	assert_int_equal(devcg_parse_mountinfo_line(
				 "50 22 0:40 /sub /mnt/my\\040cg rw shared:3 master:1 - cgroup cg rw,cpu",
				 &m),
			 1);
	assert_string_equal(m.path, "/mnt/my cg");
	assert_string_equal(m.root, "/sub");
	/* junk */
	assert_int_equal(devcg_parse_mountinfo_line("", &m), -EINVAL);
	assert_int_equal(devcg_parse_mountinfo_line("35 24 0:30 / /sys/fs/cgroup rw cgroup2 cgroup2 rw",
						   &m),
			 -EINVAL);
	assert_int_equal(devcg_parse_mountinfo_line("35 24 0:30 / /sys/fs/cgroup rw - cgroup2", &m),
			 -EINVAL);
	/* a lone backslash (the kernel writes \\134) stays as it is, as libmount keeps it */
	assert_int_equal(devcg_parse_mountinfo_line("35 24 0:30 / /x\\9 rw - cgroup2 cgroup2 rw", &m),
			 1);
	assert_string_equal(m.path, "/x\\9");
	assert_int_equal(devcg_parse_mountinfo_line("35 24 0:30 / rel rw - cgroup2 cgroup2 rw", &m),
			 -EINVAL);
}

static void test_mountinfo_scan(void **state)
{
	struct devcg_mount *v2 = calloc(2, sizeof(*v2)), *v1 = v2 + 1;

	(void)state;
	assert_non_null(v2);
	/* the testbed: pure v2 */
	assert_int_equal(devcg_scan_mountinfo(MI_ROOT "\n" MI_V2 "\n", v2, v1), 1);
	assert_string_equal(v2->path, "/sys/fs/cgroup");
	/* the build machines: hybrid, cpu on v1, an empty unified v2 */
	assert_int_equal(devcg_scan_mountinfo(MI_ROOT "\n" MI_TMPFS "\n" MI_CPUSET "\n" MI_CPU
					      "\n" MI_CPUACCT "\n" MI_SYSTEMD "\n" MI_UNIFIED "\n",
					      v2, v1),
			 3);
	assert_string_equal(v1->path, "/sys/fs/cgroup/cpu");
	assert_string_equal(v2->path, "/sys/fs/cgroup/unified");
	/* v1 without the cpu controller; the first cpu mount wins */
	assert_int_equal(devcg_scan_mountinfo(MI_CPUSET "\n" MI_CPUACCT, v2, v1), 0);
	assert_int_equal(devcg_scan_mountinfo(MI_COMBINED "\n" MI_CPU "\n", v2, v1), 2);
	assert_string_equal(v1->path, "/sys/fs/cgroup/cpu,cpuacct");
	assert_int_equal(devcg_scan_mountinfo("", v2, v1), 0);
	assert_int_equal(devcg_scan_mountinfo(MI_ROOT "\ngarbage\n", v2, v1), -EINVAL);
	free(v2);
}

static void test_list_has(void **state)
{
	(void)state;
	assert_true(devcg_list_has("cpuset cpu io memory hugetlb pids rdma misc\n", "cpu"));
	assert_true(devcg_list_has("cpu", "cpu"));
	assert_false(devcg_list_has("cpuset cpuacct io\n", "cpu"));
	assert_false(devcg_list_has("", "cpu"));
	assert_false(devcg_list_has("\n", "cpu"));
	assert_false(devcg_list_has("cpu", ""));
}

/* ---- /proc/<pid>/cgroup ---- */

static void test_proc_cgroup(void **state)
{
	char p[64];
	static const char hybrid[] = "12:pids:/user.slice\n"
				     "5:cpu,cpuacct:/machine/qemu-1.libvirt-qemu/emulator\n"
				     "2:cpuset:/\n"
				     "1:name=systemd:/init.scope\n"
				     "0::/init.scope\n";

	(void)state;
	assert_int_equal(devcg_parse_proc_cgroup("0::/vfiod.slice/0000_00_02.0/irq\n",
						 DEVCG_HIER_V2, p, sizeof(p)),
			 0);
	assert_string_equal(p, "/vfiod.slice/0000_00_02.0/irq");
	assert_int_equal(devcg_parse_proc_cgroup("0::/\n", DEVCG_HIER_V2, p, sizeof(p)), 0);
	assert_string_equal(p, "/");
	assert_int_equal(devcg_parse_proc_cgroup(hybrid, DEVCG_HIER_V1, p, sizeof(p)), 0);
	assert_string_equal(p, "/machine/qemu-1.libvirt-qemu/emulator");
	assert_int_equal(devcg_parse_proc_cgroup(hybrid, DEVCG_HIER_V2, p, sizeof(p)), 0);
	assert_string_equal(p, "/init.scope");
	assert_int_equal(devcg_parse_proc_cgroup("3:cpu:/a:b\n", DEVCG_HIER_V1, p, sizeof(p)), 0);
	assert_string_equal(p, "/a:b");
	/* not there */
	assert_int_equal(devcg_parse_proc_cgroup("2:cpuset:/\n4:cpuacct:/\n", DEVCG_HIER_V1, p,
						 sizeof(p)),
			 -ENOENT);
	assert_int_equal(devcg_parse_proc_cgroup("2:cpuset:/\n", DEVCG_HIER_V2, p, sizeof(p)),
			 -ENOENT);
	assert_int_equal(devcg_parse_proc_cgroup("", DEVCG_HIER_V2, p, sizeof(p)), -ENOENT);
	/* junk */
	assert_int_equal(devcg_parse_proc_cgroup("0:/x\n", DEVCG_HIER_V2, p, sizeof(p)), -EINVAL);
	assert_int_equal(devcg_parse_proc_cgroup("0::x\n", DEVCG_HIER_V2, p, sizeof(p)), -EINVAL);
	assert_int_equal(devcg_parse_proc_cgroup("0::\n", DEVCG_HIER_V2, p, sizeof(p)), -EINVAL);
	assert_int_equal(devcg_parse_proc_cgroup("0::/abcdef\n", DEVCG_HIER_V2, p, 4),
			 -ENAMETOOLONG);
}

/* ---- CPU lists ---- */

/* ---- discovery over a tree ---- */

struct fx {
	struct tree t;
	struct hostfs h;
	struct vf_strv writes; /* "path=value" of every hooked write */
};

static int hook_write(void *ctx, const char *path, const char *value, struct vf_err *e)
{
	struct fx *f = ctx;

	(void)e;
	vf_strv_addf(&f->writes, "%s=%s", path, value);
	return 0;
}

static const struct hostfs_hooks hooks = { .write = hook_write };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct vf_err e = { 0 };

	assert_non_null(f);
	tree_init(&f->t);
	tree_mkdir(&f->t, "proc");
	assert_int_equal(hostfs_init(&f->h, f->t.root, &e), 0);
	f->h.hooks = &hooks;
	f->h.hook_ctx = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vf_strv_free(&f->writes);
	hostfs_fini(&f->h);
	tree_destroy(&f->t);
	free(f);
	return 0;
}

static void add_task(struct fx *f, int pid, const char *comm, unsigned long flags, unsigned policy)
{
	char rel[64], line[1024];

	snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
	snprintf(line, sizeof(line), "%s\n", comm);
	tree_write(&f->t, rel, line);
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	stat_line(line, sizeof(line), pid, comm, flags, policy, policy ? 50 : 0, 0, 1000 + pid);
	tree_write(&f->t, rel, line);
}

static void test_find_irq_threads(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	struct devcg_task *t = NULL;
	size_t n = 99;
	const unsigned vec[] = { 30, 31 };

	add_task(f, 1, "init", 0x400100, 0);
	add_task(f, 30, "irq/30-vfio-msi[0](0000:00:02.0)", 0x208040, 1);
	/* a user process that names itself like one */
	add_task(f, 31, "irq/30-vfio-msi[0](0000:00:02.0)", 0x400000, 0);
	add_task(f, 32, "irq/31-vfio-msix[1](0000:00:02.0)", 0x208040, 1);
	add_task(f, 33, "irq/300-vfio-msi[0](0000:00:03.0)", 0x208040, 1);
	add_task(f, 40, "irq/30-s-nvme0q1", 0x208040, 1);
	add_task(f, 41, "irq/31-vfio-msix[1](0000:00:02.0)", 0x208040, 1);
	tree_write(&f->t, "proc/41/stat", "junk\n"); /* cannot be parsed: skipped */
	tree_mkdir(&f->t, "proc/42");                 /* exited while listed */
	tree_write(&f->t, "proc/self/comm", "irq/30-vfio-msi[0](x)\n");
	tree_write(&f->t, "proc/interrupts", "");

	assert_int_equal(devcg_find_irq_threads(&f->h, vec, 2, &t, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(t[0].tid, 30);
	assert_int_equal(t[0].vector, 30);
	assert_int_equal(t[0].st.policy, SCHED_FIFO);
	assert_int_equal(t[0].st.rt_priority, 50);
	assert_int_equal(t[0].st.starttime, 1030);
	assert_int_equal(t[1].tid, 32);
	assert_int_equal(t[1].vector, 31);
	free(t);

	assert_int_equal(devcg_find_irq_threads(&f->h, vec + 1, 1, &t, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].tid, 32);
	free(t);
	assert_int_equal(devcg_find_irq_threads(&f->h, vec, 0, &t, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(t);
}

/* An fd of process `pid` open on `target`, with its fdinfo flags (octal text, NULL: none). */
static void add_fd(struct fx *f, int pid, int fd, const char *target, const char *flags)
{
	char rel[64], info[64];

	snprintf(rel, sizeof(rel), "proc/%d/fd/%d", pid, fd);
	tree_link(&f->t, rel, target);
	if (!flags)
		return;
	snprintf(rel, sizeof(rel), "proc/%d/fdinfo/%d", pid, fd);
	snprintf(info, sizeof(info), "pos:\t0\nflags:\t%s\nmnt_id:\t24\nino:\t5\n", flags);
	tree_write(&f->t, rel, info);
}

/*
 * A character device at `rel` in the tree with /dev/null's number, the
 * stand-in for the host's /dev/vfio/<group>: an fd link of the tree pointing
 * at the real /dev/null is then open on "the device". Needs CAP_MKNOD.
 */
static bool mknod_null(struct fx *f, const char *rel)
{
	char path[PATH_MAX];
	struct stat null;

	assert_int_equal(stat("/dev/null", &null), 0);
	tree_mkparent(&f->t, rel);
	tree_abs(&f->t, rel, path, sizeof(path));
	if (mknod(path, S_IFCHR | 0600, null.st_rdev) == 0)
		return true;
	assert_int_equal(errno, EPERM);
	return false;
}

static void test_find_holders(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char regular[PATH_MAX];
	pid_t *p = NULL;
	size_t n = 99;

	if (!mknod_null(f, "dev/vfio/12"))
		skip(); /* no CAP_MKNOD: test_find_holders_live still runs */
	tree_write(&f->t, "home/u/dev/vfio/12", "a regular file\n");
	tree_abs(&f->t, "home/u/dev/vfio/12", regular, sizeof(regular));

	/* the device node, whatever its path in the holder's namespace */
	add_fd(f, 100, 3, "/dev/null", "0100002");
	add_fd(f, 100, 4, "/dev/zero", "02");          /* another character device */
	add_fd(f, 200, 7, "/dev/vfio/vfio", "02");     /* the container only */
	add_fd(f, 300, 5, "/dev/null", "02");          /* vfiod itself */
	/*
	 * The old check's text, but open on no device with the node's number:
	 * what a regular file at /dev/vfio/12 in the holder's own mount
	 * namespace reads as. Not a holder.
	 */
	add_fd(f, 400, 9, "/dev/vfio/12", "02");
	add_fd(f, 410, 3, regular, "02");              /* a regular file: never */
	add_fd(f, 500, 0, "/dev/pts/0", "02");
	add_fd(f, 500, 11, "/dev/null", "012000000"); /* O_PATH: holds nothing */
	add_fd(f, 500, 12, "/dev/null", "02");
	add_fd(f, 510, 4, "/dev/null", "012000000");  /* only an O_PATH fd */
	add_fd(f, 520, 4, "/dev/null", NULL);         /* its fdinfo gone: closed meanwhile */
	add_fd(f, 600, 1, "anon_inode:[vfio-device]", "02");
	add_fd(f, 610, 1, "socket:[4242]", "02");
	tree_mkdir(&f->t, "proc/700"); /* a kernel thread: fd unreadable */
	tree_link(&f->t, "proc/self", "500");

	assert_int_equal(devcg_find_holders(&f->h, 12, 300, &p, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0], 100);
	assert_int_equal(p[1], 500);
	free(p);
	assert_int_equal(devcg_find_holders(&f->h, 12, 0, &p, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[1], 300);
	free(p);

	/* the host node missing, or a regular file: no holder, and an error */
	n = 99;
	assert_int_equal(devcg_find_holders(&f->h, 7, 0, &p, &n, &e), -1);
	assert_int_equal(e.errnum, ENOENT);
	assert_int_equal(n, 0);
	assert_null(p);
	tree_write(&f->t, "dev/vfio/13", "");
	add_fd(f, 420, 3, "/dev/vfio/13", "02");
	memset(&e, 0, sizeof(e));
	assert_int_equal(devcg_find_holders(&f->h, 13, 0, &p, &n, &e), -1);
	assert_non_null(strstr(e.msg, "not a character device"));
	assert_null(p);
	assert_int_equal(devcg_find_holders(&f->h, -1, 0, &p, &n, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
}

static void test_fdinfo_flags(void **state)
{
	static const char *const bad[] = {
		"",
		"pos:\t0\n",
		"pos:\t0\nflags:\n",
		"pos:\t0\nflags:\t\n",
		"pos:\t0\nflags:\t0100008\n",
		"flags:\t0x10\n",
		"flags:\t-1\n",
		"flags:\t2000000000000000000000\n",
		"flags:\t012345678901234567890123456789012\n",
	};
	const char *ok = "pos:\t0\nflags:\t012100002\nmnt_id:\t24\n";
	uint64_t v = 0;

	(void)state;
	assert_int_equal(devcg_fdinfo_flags(ok, strlen(ok), &v), 0);
	assert_int_equal(v, 012100002);
	/* the last line need not end in a newline; only the length counts */
	assert_int_equal(devcg_fdinfo_flags("flags:\t02", 9, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(devcg_fdinfo_flags("flags:\t02\n", 8, &v), 0);
	assert_int_equal(v, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (devcg_fdinfo_flags(bad[i], strlen(bad[i]), &v) == 0)
			fail_msg("\"%s\" parsed as %" PRIo64, bad[i], v);
}

/*
 * A child that opens `path` with `flags` as its only fd (after `remount`,
 * when set, in a mount namespace of its own) and waits to be killed.
 * Returns its pid once the fd is open; -1 when the namespace cannot be made.
 */
static pid_t child_holding(const char *path, int flags, bool remount)
{
	int sync[2];
	char c = 0;
	pid_t pid;

	assert_int_equal(pipe(sync), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		close(sync[0]);
		if (remount &&
		    (unshare(CLONE_NEWNS) < 0 ||
		     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		     mount("tmpfs", "/dev", "tmpfs", 0, "size=64k") < 0 ||
		     close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0))
			_exit(1);
		if (dup2(sync[1], 100) < 0 || close_range(0, 99, 0) < 0 ||
		    close_range(101, ~0U, 0) < 0)
			_exit(1);
		fd = open(path, flags | O_CLOEXEC);
		if (fd < 0 || write(100, "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(sync[1]);
	if (read(sync[0], &c, 1) != 1) {
		close(sync[0]);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		return -1;
	}
	close(sync[0]);
	return pid;
}

static bool has_pid(const pid_t *p, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == pid)
			return true;
	return false;
}

/*
 * The same against the kernel's own /proc, rooted at "/": holders of
 * /dev/zero. An fd open on it is found; an O_PATH fd on it is not; nor is
 * a regular file at /dev/zero in another mount namespace, whose fd link
 * reads "/dev/zero" exactly (root only: skipped without it).
 */
static void test_find_holders_live(void **state)
{
	struct hostfs h;
	struct vf_err e = { 0 };
	pid_t reader, opath, impostor;
	pid_t *p = NULL;
	size_t n = 0;
	char link[64] = "", path[64];

	(void)state;
	assert_int_equal(hostfs_init(&h, "/", &e), 0);
	reader = child_holding("/dev/zero", O_RDONLY, false);
	opath = child_holding("/dev/zero", O_PATH, false);
	impostor = child_holding("/dev/zero", O_RDONLY, true);
	assert_true(reader > 0 && opath > 0);
	if (impostor > 0) {
		snprintf(path, sizeof(path), "/proc/%d/fd/0", (int)impostor);
		assert_true(readlink(path, link, sizeof(link) - 1) > 0);
		assert_string_equal(link, "/dev/zero");
	}

	assert_int_equal(devcg_find_node_holders(&h, "dev/zero", getpid(), &p, &n, &e), 0);
	assert_true(has_pid(p, n, reader));
	assert_false(has_pid(p, n, opath));
	if (impostor > 0)
		assert_false(has_pid(p, n, impostor));
	assert_false(has_pid(p, n, getpid()));
	free(p);

	for (pid_t *c = (pid_t[]){ reader, opath, impostor }, *end = c + 3; c < end; c++)
		if (*c > 0) {
			kill(*c, SIGKILL);
			assert_int_equal(waitpid(*c, NULL, 0), *c);
		}
	hostfs_fini(&h);
	if (impostor < 0)
		print_message("no mount namespace here: the impostor case was not run\n");
}

/* ---- IRQ steering (writes go to the hooks) ---- */

static void parse_policy(struct policy *p, const char *text)
{
	struct vf_err e = { 0 };

	memset(p, 0, sizeof(*p));
	if (policy_parse(p, "test", text, &e) < 0)
		fail_msg("policy: %s", e.msg);
}

static void test_steer_restore(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	struct devcg c = { 0 };
	struct policy hk0, all, off;
	const unsigned vec[] = { 30, 31 }, vec_gone[] = { 99, 30 };

	tree_write(&f->t, "sys/devices/system/cpu/online", "0-3\n");
	tree_write(&f->t, "proc/irq/30/smp_affinity_list", "0-3\n");
	tree_write(&f->t, "proc/irq/31/smp_affinity_list", "2\n");
	parse_policy(&hk0, "[daemon]\nhousekeeping_cpus = 0,2\n");
	parse_policy(&all, "[daemon]\nhousekeeping_cpus = 0-3\n");
	parse_policy(&off, "[daemon]\nhousekeeping_cpus = 8-9\n");

	assert_int_equal(devcg_steer_irqs(&c, &f->h, vec, 2, &hk0, &e), 0);
	assert_int_equal(f->writes.n, 2);
	assert_string_equal(f->writes.v[0], "proc/irq/30/smp_affinity_list=0,2");
	assert_string_equal(f->writes.v[1], "proc/irq/31/smp_affinity_list=0,2");
	/* steering again keeps the lists of before the first steering */
	tree_write(&f->t, "proc/irq/30/smp_affinity_list", "0,2\n");
	assert_int_equal(devcg_steer_irqs(&c, &f->h, vec, 1, &hk0, &e), 0);
	assert_int_equal(f->writes.n, 3);
	assert_int_equal(c.n_aff, 2);

	vf_strv_free(&f->writes);
	assert_int_equal(devcg_restore_irqs(&c, &f->h, &e), 0);
	assert_int_equal(f->writes.n, 2);
	assert_string_equal(f->writes.v[0], "proc/irq/30/smp_affinity_list=0-3");
	assert_string_equal(f->writes.v[1], "proc/irq/31/smp_affinity_list=2");
	assert_int_equal(c.n_aff, 0);

	/* a vector freed meanwhile is skipped at restore */
	vf_strv_free(&f->writes);
	tree_write(&f->t, "proc/irq/30/smp_affinity_list", "1-3\n");
	assert_int_equal(devcg_steer_irqs(&c, &f->h, vec, 2, &hk0, &e), 0);
	tree_destroy(&f->t);
	tree_init(&f->t);
	hostfs_fini(&f->h);
	assert_int_equal(hostfs_init(&f->h, f->t.root, &e), 0);
	f->h.hooks = &hooks;
	f->h.hook_ctx = f;
	tree_write(&f->t, "sys/devices/system/cpu/online", "0-3\n");
	tree_write(&f->t, "proc/irq/30/smp_affinity_list", "0,2\n");
	vf_strv_free(&f->writes);
	assert_int_equal(devcg_restore_irqs(&c, &f->h, &e), 0);
	assert_int_equal(f->writes.n, 1);
	assert_string_equal(f->writes.v[0], "proc/irq/30/smp_affinity_list=1-3");

	/* every CPU keeps house: nothing to steer */
	vf_strv_free(&f->writes);
	assert_int_equal(devcg_steer_irqs(&c, &f->h, vec, 1, &all, &e), 0);
	assert_int_equal(f->writes.n, 0);
	assert_int_equal(c.n_aff, 0);
	/* none named: the host's default, its first CPU here (no NUMA, no isolation) */
	{
		struct policy none;

		parse_policy(&none, "[daemon]\n");
		assert_int_equal(devcg_steer_irqs(&c, &f->h, vec, 1, &none, &e), 0);
		assert_int_equal(f->writes.n, 1);
		assert_string_equal(f->writes.v[0], "proc/irq/30/smp_affinity_list=0");
		assert_int_equal(devcg_restore_irqs(&c, &f->h, &e), 0);
		vf_strv_free(&f->writes);
		policy_free(&none);
	}
	/* no housekeeping CPU online: refused, nothing written */
	assert_int_equal(devcg_steer_irqs(&c, &f->h, vec, 1, &off, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
	assert_int_equal(f->writes.n, 0);
	/* a vector without an affinity file fails, the others are still steered */
	assert_int_equal(devcg_steer_irqs(&c, &f->h, vec_gone, 2, &hk0, &e), -1);
	assert_int_equal(e.errnum, ENOENT);
	assert_int_equal(f->writes.n, 1);
	assert_int_equal(c.n_aff, 1);

	devcg_free(&c);
	policy_free(&hk0);
	policy_free(&all);
	policy_free(&off);
}

/* ---- refusals before any host action ---- */

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	struct devcg c = { 0 };
	struct devcg_report r = { 0 };
	const unsigned vec[] = { 30 };

	/* bad arguments are refused before the host is looked at */
	assert_int_equal(devcg_setup(&c, "00:02.0", 50, 50, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
	assert_int_equal(devcg_setup(&c, NULL, 50, 50, &e), -1);
	assert_int_equal(devcg_setup(&c, "0000:00:02.0", 0, 50, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
	assert_non_null(strstr(e.msg, "1.."));
	assert_int_equal(devcg_setup(&c, "0000:00:02.0", 50, POLICY_CAP_MAX + 1, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
	assert_false(c.ready);

	/* nothing set up yet */
	assert_int_equal(devcg_set_caps(&c, 5, 5, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
	assert_int_equal(devcg_attach_irq_threads(&c, &f->h, vec, 1, &r, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
	assert_int_equal(devcg_attach_holders(&c, &f->h, 12, &r, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
	assert_int_equal(devcg_teardown(&c, &e), 0);

	/* set up (as far as this struct knows), but a fixture sysroot: cgroup
	 * actions and sched_setscheduler() act on the real host only */
	snprintf(c.bdf, sizeof(c.bdf), "0000:00:02.0");
	c.ready = true;
	c.hier = DEVCG_HIER_V2;
	add_task(f, 30, "irq/30-vfio-msi[0](0000:00:02.0)", 0x208040, 1);
	assert_int_equal(devcg_attach_irq_threads(&c, &f->h, vec, 1, &r, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
	assert_non_null(strstr(e.msg, "real root"));
	assert_int_equal(r.n_threads, 0);
	assert_int_equal(devcg_attach_holders(&c, &f->h, 12, &r, &e), -1);
	assert_non_null(strstr(e.msg, "real root"));
	assert_int_equal(r.hier, DEVCG_HIER_V2);
	/* another device's handle */
	assert_int_equal(devcg_setup(&c, "0000:00:03.0", 50, 50, &e), -1);
	assert_int_equal(e.errnum, EINVAL);
	assert_non_null(strstr(e.msg, "belongs to 0000:00:02.0"));
	devcg_report_free(&r);
	devcg_report_free(&r);
	devcg_free(&c);
	assert_false(c.ready);
}

static void test_names_of_enums(void **state)
{
	(void)state;
	assert_string_equal(devcg_hier_name(DEVCG_HIER_V1), "v1");
	assert_string_equal(devcg_hier_name(DEVCG_HIER_V2), "v2");
	assert_string_equal(devcg_hier_name(DEVCG_HIER_NONE), "none");
	assert_string_equal(devcg_how_name(DEVCG_MOVED_DEMOTED), "moved+demoted");
	assert_string_equal(devcg_how_name(DEVCG_DEMOTED_ONLY), "demoted-only");
	assert_string_equal(devcg_how_name(DEVCG_FAILED), "failed");
}

/* The housekeeping CPUs when the policy names none. */
static void test_default_housekeeping(void **state)
{
	uint64_t online[DEVCG_CPU_MAX / 64] = { 0 }, iso[DEVCG_CPU_MAX / 64] = { 0 };
	uint64_t nodes[2][DEVCG_CPU_MAX / 64] = { { 0 } }, out[DEVCG_CPU_MAX / 64];
	char list[64];

	(void)state;
	assert_int_equal(vf_parse_cpulist("0-15", 0, online, DEVCG_CPU_MAX, NULL), 16);
	/* no isolation, no NUMA: the first online CPU */
	devcg_default_housekeeping(online, iso, NULL, 0, out);
	vf_format_cpulist(out, DEVCG_CPU_MAX, list, sizeof(list));
	assert_string_equal(list, "0");
	/* two nodes: the first CPU of each */
	vf_parse_cpulist("0-7", 0, nodes[0], DEVCG_CPU_MAX, NULL);
	vf_parse_cpulist("8-15", 0, nodes[1], DEVCG_CPU_MAX, NULL);
	devcg_default_housekeeping(online, iso, (const uint64_t(*)[DEVCG_CPU_MAX / 64])nodes, 2, out);
	vf_format_cpulist(out, DEVCG_CPU_MAX, list, sizeof(list));
	assert_string_equal(list, "0,8");
	/* CPU 0 offline: node 0's first online one */
	online[0] &= ~1ull;
	devcg_default_housekeeping(online, iso, (const uint64_t(*)[DEVCG_CPU_MAX / 64])nodes, 2, out);
	vf_format_cpulist(out, DEVCG_CPU_MAX, list, sizeof(list));
	assert_string_equal(list, "1,8");
	/* isolated CPUs (isolcpus, nohz_full): every other online CPU keeps house */
	vf_parse_cpulist("4-15", 0, iso, DEVCG_CPU_MAX, NULL);
	devcg_default_housekeeping(online, iso, (const uint64_t(*)[DEVCG_CPU_MAX / 64])nodes, 2, out);
	vf_format_cpulist(out, DEVCG_CPU_MAX, list, sizeof(list));
	assert_string_equal(list, "1-3");
	/* every online CPU isolated: back to the first of each node */
	vf_parse_cpulist("0-3", 0, iso, DEVCG_CPU_MAX, NULL);
	devcg_default_housekeeping(online, iso, (const uint64_t(*)[DEVCG_CPU_MAX / 64])nodes, 2, out);
	vf_format_cpulist(out, DEVCG_CPU_MAX, list, sizeof(list));
	assert_string_equal(list, "1,8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_housekeeping),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_parse_stat_junk),
		cmocka_unit_test(test_vfio_irq_thread),
		cmocka_unit_test(test_mountinfo_line),
		cmocka_unit_test(test_mountinfo_scan),
		cmocka_unit_test(test_list_has),
		cmocka_unit_test(test_proc_cgroup),
		cmocka_unit_test(test_names_of_enums),
		cmocka_unit_test_setup_teardown(test_find_irq_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_holders, setup, teardown),
		cmocka_unit_test(test_fdinfo_flags),
		cmocka_unit_test(test_find_holders_live),
		cmocka_unit_test_setup_teardown(test_steer_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
