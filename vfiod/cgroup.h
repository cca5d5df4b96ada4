/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU containment of a device's threads (design: "Containment ladder").
 *
 * Every owned device gets two cgroups with CPU caps, made through libcgroup:
 *   vfiod.slice/<BDF with ':' -> '_'>/irq   the kernel's IRQ threads of its vectors
 *   vfiod.slice/<BDF with ':' -> '_'>/vmm   every thread of the processes that
 *                                           hold /dev/vfio/<group> open
 * A cap is a percent of one CPU: quota = pct * 100000 / 100 us per 100000 us
 * period (pct > 100 spans several CPUs); "max" is never written. On cgroup
 * v2 that is cpu.max "QUOTA 100000", on v1 cpu.cfs_period_us 100000 and
 * cpu.cfs_quota_us QUOTA. Every value written is read back.
 *
 * Hierarchy: vfiod uses whichever hierarchy holds the cpu controller, read
 * from the real /proc/self/mountinfo (not through hostfs: libcgroup itself
 * works on the real mounts, and both must agree): a cgroup2 mount whose
 * cgroup.controllers lists "cpu" (pure v2, or hybrid with cpu on v2), else a
 * cgroup v1 mount with the cpu controller (hybrid hosts, cpu or cpu,cpuacct).
 * libcgroup 2.0.2 has no cgroup_setup_mode(); its view is re-read with
 * cgroup_init() whenever the detected hierarchy changes. On v2 libcgroup
 * enables +cpu in the subtree_control of the groups it creates but not in the
 * root's: vfiod enables it there when missing (systemd hosts have it) and
 * leaves it on. Groups are created without chown (libcgroup 2.0.2 chowns a
 * v1-only "tasks" file otherwise, ENOENT on v2) and removed with rmdir() once
 * emptied (libcgroup's delete moves tasks to the parent, which on v2 is an
 * inner node that refuses them).
 *
 * IRQ threads (irq/<N>-vfio-..., SCHED_FIFO 50 under threadirqs) are not
 * throttled by a CPU quota while they are real-time: each is demoted to
 * SCHED_OTHER first (measured on the testbed: a FIFO thread in a 5% cgroup
 * kept 63% of a CPU, demoted it fell to 6%), then moved into the irq cgroup.
 * A kernel that refuses the move (newer kernels refuse IRQ threads; v2
 * refuses some kernel threads with EINVAL) gets the fallback: demoted, nice
 * 19, and pinned to the housekeeping CPUs (c->policy). The report says per
 * thread what took effect.
 *
 * Measured on the testbed (6.1, TCG, edu MSI storm): the IRQ thread used
 * 54-75% of a CPU uncontained, 5% with a 5% cap, on v2 and on v1 alike; both
 * hierarchies accepted the IRQ thread's move. The hard-IRQ part is not
 * capped: the vector kept 30,000-70,000 interrupts/s (silencing is the next
 * step of the ladder).
 *
 * Restoration: the cgroup every task came from, and the scheduling policy,
 * priority, nice value and affinity of every IRQ thread touched, are
 * remembered; devcg_teardown() puts them back (tasks whose origin is unknown,
 * after a daemon restart, go to the root cgroup), removes the device's
 * cgroups and vfiod.slice when it is empty. On v2 a move is per process
 * (cgroup.procs): a process whose threads sat in different threaded
 * sub-cgroups returns whole to its main thread's cgroup.
 *
 * Host facts (/proc, /sys) are read through the hostfs; cgroup actions,
 * sched_setscheduler() and friends act on the real host, so the attach calls
 * refuse a hostfs that is not rooted at "/". Not thread-safe per struct devcg;
 * different devices may be handled from different threads.
 */
#ifndef VFIOD_CGROUP_H
#define VFIOD_CGROUP_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "hostfs.h"
#include "levers.h"
#include "parse.h"
#include "policy.h"

#define DEVCG_SLICE "vfiod.slice"
#define DEVCG_PERIOD_US 100000u
/* Highest CPU count handled in masks (the kernel's largest NR_CPUS). */
#define DEVCG_CPU_MAX POLICY_CPU_MAX
/* task_struct.flags bit of a kernel thread (field 9 of /proc/<pid>/stat) */
#define DEVCG_PF_KTHREAD 0x00200000ul
/* Longest comm kept from /proc/<pid>/stat (6.1 shows a kthread's whole name). */
#define DEVCG_COMM_MAX 128

enum devcg_hier {
	DEVCG_HIER_NONE = 0,
	DEVCG_HIER_V1,  /* cgroup v1, cpu controller */
	DEVCG_HIER_V2,  /* cgroup v2 with cpu in cgroup.controllers */
};

/* "none", "v1", "v2" */
const char *devcg_hier_name(enum devcg_hier h);

/* What containment took effect for one IRQ thread. */
enum devcg_how {
	DEVCG_MOVED_DEMOTED,  /* SCHED_OTHER and in the irq cgroup: capped */
	DEVCG_DEMOTED_ONLY,   /* move refused: SCHED_OTHER only (it follows its vector) */
	DEVCG_FAILED,         /* not even demoted (err) */
};

/* "moved+demoted", "demoted-only", "failed" */
const char *devcg_how_name(enum devcg_how how);

struct devcg_thread_report {
	pid_t tid;
	unsigned vector;
	char comm[DEVCG_COMM_MAX];
	enum devcg_how how;
	bool already;      /* it was contained so by an earlier call */
	bool was_rt;       /* it ran SCHED_FIFO/SCHED_RR before vfiod demoted it */
	int move_err;      /* errno of the refused move (DEMOTED_ONLY) */
	int err;           /* FAILED: errno */
};

struct devcg_holder_report {
	pid_t pid;
	char comm[DEVCG_COMM_MAX];
	size_t threads;   /* threads seen */
	size_t moved;     /* moved into the vmm cgroup by this call */
	size_t failed;    /* could not be moved (err: the first errno) */
	int err;
};

struct devcg_report {
	enum devcg_hier hier;
	struct devcg_thread_report *threads;
	size_t n_threads;
	struct devcg_holder_report *holders;
	size_t n_holders;
};

/* Frees the arrays of a report and zeroes it (a zeroed report may be reused). */
void devcg_report_free(struct devcg_report *r);

/* Remembered state, private to cgroup.c. */
struct devcg_origin;
struct devcg_saved_sched;
struct devcg_saved_affinity;

/*
 * One device's containment. Zero-initialise it; set `policy` (optional, the
 * caller's, must outlive the struct) for the fallback's housekeeping CPUs.
 * devcg_free() releases memory without touching the host.
 */
struct devcg {
	char bdf[VF_BDF_LEN];
	char base[64];              /* "vfiod.slice/0000_00_02.0" */
	enum devcg_hier hier;       /* the hierarchy used */
	char mount[PATH_MAX];       /* where it is mounted ("/sys/fs/cgroup/cpu") */
	unsigned irq_pct, vmm_pct;  /* caps in effect */
	bool ready;
	const struct policy *policy;
	const struct hostfs *h;     /* of the last attach/steer call, for teardown */
	struct devcg_origin *orig;  /* cgroup each moved task came from */
	size_t n_orig;
	struct devcg_saved_sched *sched; /* IRQ threads' scheduling before vfiod */
	size_t n_sched;
	struct devcg_saved_affinity *aff; /* vectors' smp_affinity_list before steering */
	size_t n_aff;
};

/*
 * Creates (or re-applies: idempotent) vfiod.slice/<dev>/irq and /vmm with
 * the caps irq_pct and vmm_pct (1..POLICY_CAP_MAX percent of one CPU) on the
 * host's cpu hierarchy, via libcgroup. `bdf` is canonical; a struct already
 * set up for another device is refused. c->hier tells which hierarchy.
 */
int devcg_setup(struct devcg *c, const char *bdf, unsigned irq_pct, unsigned vmm_pct,
		struct vf_err *e);

/* Changes both caps (throttle tighter, unthrottle back). */
int devcg_set_caps(struct devcg *c, unsigned irq_pct, unsigned vmm_pct, struct vf_err *e);

/*
 * Finds the IRQ threads of `vectors` (one scan of /proc/[0-9]* per call;
 * kernel threads only), demotes each to SCHED_OTHER and moves it into the
 * irq cgroup, or applies the fallback when the move is refused. r (zeroed
 * or freed) gets one entry per thread found. Returns 0 when every thread was
 * at least demoted, <0 otherwise (the report is filled either way).
 */
int devcg_attach_irq_threads(struct devcg *c, const struct hostfs *h, const unsigned *vectors,
			     size_t n, struct devcg_report *r, struct vf_err *e);

/*
 * Finds every process holding /dev/vfio/<group> open (a scan of every
 * /proc/<pid>/fd: costly on big hosts, run it at a slow pace) other than
 * vfiod itself, and moves all its threads into the vmm cgroup; threads
 * started later are caught by the next call. r gets the holders. Returns 0
 * when every thread is in the vmm cgroup, <0 otherwise.
 */
int devcg_attach_holders(struct devcg *c, const struct hostfs *h, int group,
			 struct devcg_report *r, struct vf_err *e);

/*
 * Writes the housekeeping CPUs (policy_housekeeping_cpu() among the online
 * ones) to /proc/irq/<N>/smp_affinity_list of each vector, remembering the
 * list each had before its first steering. Nothing is written when every
 * online CPU is a housekeeping CPU. All vectors are tried; <0 if one failed.
 */
int devcg_steer_irqs(struct devcg *c, const struct hostfs *h, const unsigned *vectors,
		     size_t n, const struct policy *p, struct vf_err *e);

/* Writes back the remembered lists and forgets them; a vector freed since is skipped. */
int devcg_restore_irqs(struct devcg *c, const struct hostfs *h, struct vf_err *e);

/*
 * Moves every task out of the device's cgroups (to where it came from, else
 * the root cgroup), restores the IRQ threads' scheduling and the vectors'
 * affinity (through the hostfs of the last attach or steer call, which must
 * still be alive), removes
 * irq, vmm, the device's cgroup and vfiod.slice when no other device uses
 * it. A struct never set up is a no-op. Returns <0 if something was left
 * behind; the struct is then still set up, and teardown may be retried.
 */
int devcg_teardown(struct devcg *c, struct vf_err *e);

/* Frees remembered state (no host access) and zeroes the struct. */
void devcg_free(struct devcg *c);

/*
 * The cgroups of every owned device, shared by the main loop (which syncs
 * the set and attaches threads) and the monitor thread (which throttles):
 * one mutex keeps them apart. Lock order: the monitor's mutex, then this
 * one. Only the main loop changes the set (devcg_set_sync), so it may walk
 * it unlocked; everyone else finds a device under the lock.
 */
struct devcg_set {
	pthread_mutex_t mu;
	struct devcg *v;
	size_t n;
};

void devcg_set_init(struct devcg_set *s);
/* Frees the set; the cgroups stay (the devices stay owned and capped). */
void devcg_set_fini(struct devcg_set *s);
void devcg_set_lock(struct devcg_set *s);
void devcg_set_unlock(struct devcg_set *s);
/* The device's cgroups, or NULL. Called with the lock held. */
struct devcg *devcg_set_find(struct devcg_set *s, const char *bdf);

/* What the set asks of its owner as it changes (called with the lock held). */
struct devcg_set_member {
	const char *bdf;
	unsigned irq_pct, vmm_pct;  /* the class's static caps */
};

/*
 * Every member gets its irq and vmm cgroups at its caps (created, or
 * updated); every device of the set that is no longer a member loses them
 * (threads back where they came from, nothing left behind), and `gone` is
 * told its address before it goes. Failures are logged; a device without
 * cgroups stays in the set, not ready, and is tried again at the next sync.
 */
void devcg_set_sync(struct devcg_set *s, const struct devcg_set_member *m, size_t n,
		    const struct policy *policy, void (*gone)(void *ctx, const char *bdf),
		    void *ctx);

/*
 * At start: removes what an earlier vfiod left under vfiod.slice for
 * devices not in `keep` (the devices owned now): it died between a device
 * leaving and its cgroups going. Tasks are moved out as devcg_teardown
 * does (to the root cgroup: their origins died with that vfiod). Entries
 * that are not a device's cgroup are left alone. Returns how many were
 * removed, or <0 (e: the first that could not be).
 */
int devcg_sweep(const char (*keep)[VF_BDF_LEN], size_t n, struct vf_err *e);

/* ---- pure helpers (no I/O), unit-tested ---- */

/* quota in us for pct percent of one CPU: pct * DEVCG_PERIOD_US / 100. 0 or -EINVAL (pct 0 or > POLICY_CAP_MAX). */
int devcg_quota_us(unsigned pct, uint64_t *quota);

/* v2 cpu.max value "QUOTA PERIOD". Returns the length, -EINVAL or -ENAMETOOLONG. */
int devcg_cpu_max(unsigned pct, char *buf, size_t cap);

/* v1 cpu.cfs_quota_us and cpu.cfs_period_us values. 0 or -EINVAL/-ENAMETOOLONG. */
int devcg_cfs_values(unsigned pct, char *quota, size_t qcap, char *period, size_t pcap);

/*
 * The cgroup name of a device (`leaf` NULL) or of one of its groups (`leaf`
 * "irq" or "vmm"), relative to the hierarchy's root: "vfiod.slice/0000_00_02.0/irq".
 * `bdf` must be canonical. Returns the length, -EINVAL or -ENAMETOOLONG.
 */
int devcg_name(const char *bdf, const char *leaf, char *buf, size_t cap);

/* One /proc/<pid>/stat line. */
struct devcg_stat {
	pid_t pid;
	char comm[DEVCG_COMM_MAX]; /* cut at DEVCG_COMM_MAX - 1 bytes */
	char state;
	unsigned long flags;       /* field 9 */
	unsigned long long utime, stime; /* fields 14, 15, clock ticks */
	long nice;                 /* field 19 */
	unsigned long long starttime; /* field 22: identity of the task with pid */
	unsigned rt_priority;      /* field 40 */
	unsigned policy;           /* field 41: SCHED_* */
};

/*
 * Parses a stat line. comm may hold spaces and parentheses: it runs from the
 * first '(' to the last ')'. Returns 0 or -EINVAL (too few fields, junk).
 */
int devcg_parse_stat(const char *line, struct devcg_stat *st);

static inline bool devcg_stat_is_kthread(const struct devcg_stat *st)
{
	return (st->flags & DEVCG_PF_KTHREAD) != 0;
}

/*
 * True when `comm` names vfio's IRQ thread of `vector`:
 * irqmon_is_irq_thread() and the action is vfio's ("irq/30-vfio-msi[0](BDF)",
 * "irq/30-s-vfio-intx(BDF)"; a name cut at 15 characters by an older kernel
 * must still be a prefix of it). Other handlers sharing an INTx line are not.
 */
bool devcg_is_vfio_irq_thread(const char *comm, unsigned vector);

/* A cgroup filesystem mount, from one /proc/self/mountinfo line. */
struct devcg_mount {
	enum devcg_hier hier;   /* V2 for cgroup2, V1 for cgroup */
	bool v1_cpu;            /* v1: the cpu controller is bound there */
	char path[PATH_MAX];    /* mount point, unescaped */
	char root[PATH_MAX];    /* root of the mount within its hierarchy */
};

/*
 * Parses one mountinfo line (without its newline). Returns 1 for a cgroup or
 * cgroup2 mount (m filled), 0 for another filesystem, -EINVAL for junk.
 */
int devcg_parse_mountinfo_line(const char *line, struct devcg_mount *m);

/*
 * Scans mountinfo text: the first cgroup2 mount into *v2, the first v1 mount
 * with the cpu controller into *v1cpu. Returns a mask: 1 when v2 was found,
 * 2 when v1cpu was; -EINVAL on a malformed line.
 */
int devcg_scan_mountinfo(const char *text, struct devcg_mount *v2, struct devcg_mount *v1cpu);

/*
 * The first cgroup2 mount of the real /proc/self/mountinfo (hybrid hosts
 * have it at /sys/fs/cgroup/unified). Returns 1 when found, 0 when none
 * is mounted, <0 on error.
 */
int devcg_find_v2_mount(struct devcg_mount *v2, struct vf_err *e);

/*
 * Whether a cgroup v2 device program governs cgroup `rel` (a process's,
 * from /proc/PID/cgroup's v2 line), its own or an ancestor's: 1 yes, 0 no,
 * -1 cannot tell (e says why). Fails closed: no cgroup2 mount in sight, or
 * a cgroup outside it, is not "no".
 */
int devcg_v2_device_program(const char *rel, struct vf_err *e);

/*
 * Allows (or denies) the character devices `rdev` (rwm) in the cgroup v1
 * devices controller's cgroup `rel`, found where the devices hierarchy is
 * mounted (not at a fixed path).
 */
int devcg_v1_device_rules(const char *rel, const dev_t *rdev, size_t n, bool allow,
			  struct vf_err *e);

/* True when the space-separated list (cgroup.controllers) has `name`. */
bool devcg_list_has(const char *list, const char *name);

/*
 * The task's cgroup on hierarchy `hier` from /proc/<pid>/cgroup text: the
 * "0::/path" line on v2, the line whose controllers include cpu on v1.
 * Returns 0, -ENOENT (no such line), -EINVAL or -ENAMETOOLONG.
 */
int devcg_parse_proc_cgroup(const char *text, enum devcg_hier hier, char *path, size_t cap);


/* ---- read-only discovery (through hostfs; tested on trees) ---- */

struct devcg_task {
	pid_t tid;
	unsigned vector;
	struct devcg_stat st;
};

/*
 * Lists the kernel threads named as vfio's IRQ threads of `vectors` (one
 * scan of proc/[0-9]*). A user process with such a name is ignored; tasks
 * that vanish mid-scan are skipped. *out (malloc'd) gets them in pid order.
 */
int devcg_find_irq_threads(const struct hostfs *h, const unsigned *vectors, size_t n,
			   struct devcg_task **out, size_t *nout, struct vf_err *e);

/*
 * Lists the pids (increasing) that hold the device node `node` (a path
 * under the root, "dev/vfio/12") open, except `self` (vfiod's own pid, or
 * 0). A holder is found by what its fd is open on, not by the fd link's
 * text: an fd whose open file is a character device with the node's
 * st_rdev, and is no O_PATH fd (its fdinfo flags). A regular file at that
 * path in the holder's mount namespace is no holder; the node at another
 * path (a container's) is. Fds whose link text says socket, pipe or
 * anon_inode are not stat'ed. Fails when the node is missing or is not a
 * character device. *out is malloc'd.
 */
int devcg_find_node_holders(const struct hostfs *h, const char *node, pid_t self, pid_t **out,
			    size_t *nout, struct vf_err *e);
/* The holders of IOMMU group `group`'s node, dev/vfio/<group>. */
int devcg_find_holders(const struct hostfs *h, int group, pid_t self, pid_t **out,
		       size_t *nout, struct vf_err *e);
/* The "flags:" value (octal) of a /proc/PID/fdinfo/N text; <0 when absent or malformed. */
int devcg_fdinfo_flags(const char *buf, size_t len, uint64_t *flags);

/*
 * The housekeeping CPUs when the policy names none (pure): the online CPUs
 * that are neither isolated nor nohz_full when the host isolates any (it
 * has said which CPUs are its tenants'), else the first online CPU of each
 * NUMA node (`nodes`, nnodes masks; none: the first online CPU). A storm's
 * vectors steered there leave every other CPU to the tenants.
 */
void devcg_default_housekeeping(const uint64_t *online, const uint64_t *isolated,
				const uint64_t (*nodes)[DEVCG_CPU_MAX / 64], size_t nnodes,
				uint64_t *out);

/*
 * What this host lets a throttle do (levers.h): the kernel command line
 * (threadirqs) and PREEMPT_RT, the cpu controller, and, on one IRQ thread
 * of the host when there is any, a move into the cgroup it is in already
 * and its own scheduling policy set again (both no-ops the kernel may
 * refuse). The affinity lever stays unknown until a vector is steered.
 */
int devcg_probe_levers(const struct hostfs *h, const struct policy *p, struct levers *l);

/* What the attach calls found (a move refused, a demotion refused). */
void devcg_learn_levers(const struct devcg_report *r, struct levers *l);

#endif
