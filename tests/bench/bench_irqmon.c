// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `make bench`: what the interrupt sampler (vfiod/irqmon.c) costs per sample,
 * against the number of devices vfiod owns (D), the host's number of IRQs
 * (H) and its number of CPUs (C), over synthetic sysroot trees built in a
 * temporary directory (removed on exit, Ctrl-C included). See
 * docs/testing.md, "Benchmarks (make bench)".
 *
 * Every figure is wall time from clock_gettime(CLOCK_MONOTONIC) around one
 * operation, repeated; medians and p90 are printed, and the ratios are of
 * medians measured in the same run. The cases are interleaved (round-robin,
 * a small batch of each per round) so that a burst of load from other
 * processes hits every case alike rather than one row of the table.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "hostfs.h"
#include "irqmon.h"
#include "monitor.h"
#include "policy.h"
#include "storm.h"

#define V 4              /* vectors per owned device */
#define SAMPLE_MS 100    /* simulated time between samples, for storm_feed */
#define DEADLINE_S 45.0  /* measuring stops here whatever the counts */

/* ---- housekeeping ---- */

static char g_top[PATH_MAX];
static volatile sig_atomic_t g_signal;

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static double now_s(void);

static void cleanup(void)
{
	double t0 = now_s();

	if (!g_top[0])
		return;
	if (nftw(g_top, rm_one, 64, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "bench: could not remove %s entirely\n", g_top);
	else
		printf("removed %s in %.1f s\n", g_top, now_s() - t0);
	g_top[0] = '\0';
}

static void on_signal(int sig)
{
	g_signal = sig;
}

static void check_signal(void)
{
	if (g_signal) {
		fprintf(stderr, "bench: signal %d, cleaning up\n", (int)g_signal);
		exit(128 + g_signal);
	}
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *xcalloc(size_t n, size_t s)
{
	void *p = calloc(n ? n : 1, s ? s : 1);

	if (!p)
		die("out of memory");
	return p;
}

/* ---- synthetic trees ---- */

static void mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			die("mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", tmp, strerror(errno));
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write %s: %s", path, strerror(errno));
		off += (size_t)n;
	}
	if (close(fd) < 0)
		die("close %s: %s", path, strerror(errno));
}

/*
 * The count of IRQ `irq` on CPU `cpu`: deterministic, so that a given IRQ
 * holds the same numbers in every tree; half zero, the rest 1 to 9 digits
 * (what a real host shows: most vectors fire on few CPUs).
 */
static unsigned count_of(unsigned irq, unsigned cpu)
{
	uint64_t x = ((uint64_t)irq << 32 | cpu) * UINT64_C(0x9E3779B97F4A7C15) + 1;
	static const unsigned mod[] = { 10, 100, 1000, 10000, 100000, 1000000,
					10000000, 100000000, 1000000000 };

	x ^= x >> 29;
	x *= UINT64_C(0xBF58476D1CE4E5B9);
	x ^= x >> 32;
	if (x & 1)
		return 0;
	return (unsigned)((x >> 8) % mod[(x >> 40) % 9]);
}

/* sys/kernel/irq/<irq>/per_cpu_count as the kernel writes it: "c0,c1,...\n". */
static size_t fmt_pcc(char *buf, size_t cap, unsigned irq, unsigned ncpu, unsigned bump)
{
	size_t o = 0;

	for (unsigned c = 0; c < ncpu; c++) {
		int n = snprintf(buf + o, cap - o, "%s%u", c ? "," : "", count_of(irq, c) + bump);

		if (n < 0 || (size_t)n >= cap - o)
			die("per_cpu_count buffer too small");
		o += (size_t)n;
	}
	if (o + 1 >= cap)
		die("per_cpu_count buffer too small");
	buf[o++] = '\n';
	return o;
}

struct strbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct strbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct strbuf *s, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		int n;

		va_start(ap, fmt);
		n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("vsnprintf");
		if ((size_t)n < s->cap - s->len) {
			s->len += (size_t)n;
			return;
		}
		s->cap = s->cap ? s->cap * 2 : 1 << 16;
		s->p = realloc(s->p, s->cap);
		if (!s->p)
			die("out of memory");
	}
}

/*
 * /proc/interrupts as kernel/irq/proc.c writes it: a header of CPU columns,
 * one line per IRQ ("%*d: " then "%10u " per CPU, chip, hwirq, name), then
 * the named lines. IRQ `bumped` has every count one higher.
 */
static void fmt_proc(struct strbuf *s, unsigned nirq, unsigned ncpu, unsigned bumped)
{
	int prec = 3;

	for (unsigned j = nirq; j >= 1000; j /= 10)
		prec++;
	s->len = 0;
	sb_printf(s, "%*s", prec + 8, "");
	for (unsigned c = 0; c < ncpu; c++)
		sb_printf(s, "CPU%-8u", c);
	sb_printf(s, "\n");
	for (unsigned i = 0; i < nirq; i++) {
		sb_printf(s, "%*u: ", prec, i);
		for (unsigned c = 0; c < ncpu; c++)
			sb_printf(s, "%10u ", count_of(i, c) + (i == bumped));
		sb_printf(s, " IR-PCI-MSI %u-edge      vfio-msi[%u]\n", 524288 + i, i % 4);
	}
	sb_printf(s, "%*s: ", prec, "NMI");
	for (unsigned c = 0; c < ncpu; c++)
		sb_printf(s, "%10u ", 0u);
	sb_printf(s, "  Non-maskable interrupts\n%*s: ", prec, "LOC");
	for (unsigned c = 0; c < ncpu; c++)
		sb_printf(s, "%10u ", 123456u + c);
	sb_printf(s, "  Local timer interrupts\n%*s: %10u\n%*s: %10u\n", prec, "ERR", 0u, prec,
		  "MIS", 0u);
}

enum host_kind { HOST_SYSFS, HOST_PROC };

/* One synthetic host: a sysroot tree and the devices vfiod owns on it. */
struct host {
	enum host_kind kind;
	unsigned nirq, ncpu;
	size_t ndev;
	char root[PATH_MAX];
	struct hostfs h;
	struct monitor_dev *mdev;    /* ndev of them, as the monitor keeps them */
	struct irqmon_dev **ptrs;    /* &mdev[i].irq, for irqmon_sample_all */
	uint64_t *totals;
	uint64_t sim_ms;
	struct strbuf proc;          /* HOST_PROC: the /proc/interrupts text */
	size_t heap_bytes;           /* heap held after discovery + 1 sample */
	double build_s;
};

/* Vector k (of ndev * V) of the host: spread evenly over the IRQ numbers. */
static unsigned vector_irq(const struct host *x, size_t k)
{
	size_t nvec = x->ndev * V;

	return (unsigned)((k * x->nirq) / nvec + (x->nirq / nvec) / 2);
}

static void dev_bdf(size_t d, char bdf[VF_BDF_LEN])
{
	snprintf(bdf, VF_BDF_LEN, "0000:%02x:00.%x", (unsigned)(1 + d / 8), (unsigned)(d % 8));
}

static void host_build(struct host *x, const char *name)
{
	char path[PATH_MAX + 128], buf[16384];
	double t0 = now_s();

	if ((size_t)x->nirq < x->ndev * V)
		die("%s: %zu devices need %zu IRQs", name, x->ndev, x->ndev * V);
	snprintf(x->root, sizeof(x->root), "%s/%s", g_top, name);
	mkdirs(x->root);
	if (x->kind == HOST_SYSFS) {
		for (unsigned i = 0; i < x->nirq; i++) {
			size_t len;

			if ((i & 1023) == 0)
				check_signal();
			snprintf(path, sizeof(path), "%s/sys/kernel/irq/%u", x->root, i);
			mkdirs(path);
			len = fmt_pcc(buf, sizeof(buf), i, x->ncpu, 0);
			snprintf(path, sizeof(path), "%s/sys/kernel/irq/%u/per_cpu_count", x->root, i);
			write_file(path, buf, len);
		}
	} else {
		fmt_proc(&x->proc, x->nirq, x->ncpu, UINT_MAX);
		snprintf(path, sizeof(path), "%s/proc", x->root);
		mkdirs(path);
		snprintf(path, sizeof(path), "%s/proc/interrupts", x->root);
		write_file(path, x->proc.p, x->proc.len);
	}
	/* devices: sys/bus/pci/devices/BDF -> ../../../devices/pci0000:00/BDF */
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", x->root);
	mkdirs(path);
	for (size_t d = 0; d < x->ndev; d++) {
		char bdf[VF_BDF_LEN], link[128];
		int n;

		dev_bdf(d, bdf);
		snprintf(path, sizeof(path), "%s/sys/devices/pci0000:00/%s/msi_irqs", x->root, bdf);
		mkdirs(path);
		for (size_t v = 0; v < V; v++) {
			snprintf(path, sizeof(path), "%s/sys/devices/pci0000:00/%s/msi_irqs/%u",
				 x->root, bdf, vector_irq(x, d * V + v));
			write_file(path, "msi\n", 4);
		}
		/* with MSI on, the kernel shows the first MSI vector in `irq` */
		n = snprintf(buf, sizeof(buf), "%u\n", vector_irq(x, d * V));
		snprintf(path, sizeof(path), "%s/sys/devices/pci0000:00/%s/irq", x->root, bdf);
		write_file(path, buf, (size_t)n);
		snprintf(link, sizeof(link), "../../../devices/pci0000:00/%s", bdf);
		snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", x->root, bdf);
		if (symlink(link, path) < 0)
			die("symlink %s: %s", path, strerror(errno));
	}
	x->build_s = now_s() - t0;
}

/* Discovers every device, as monitor_set() + the first sample_one() do. */
static void host_open(struct host *x)
{
	struct vf_err e = { 0 };
	struct mallinfo2 before, after;

	if (hostfs_init(&x->h, x->root, &e) < 0)
		die("%s", e.msg);
	x->mdev = xcalloc(x->ndev, sizeof(*x->mdev));
	x->ptrs = xcalloc(x->ndev, sizeof(*x->ptrs));
	x->totals = xcalloc(x->ndev, sizeof(*x->totals));
	before = mallinfo2();
	for (size_t d = 0; d < x->ndev; d++) {
		struct monitor_dev *md = &x->mdev[d];
		unsigned vecs[V + 1];
		uint64_t total;
		size_t nvec;

		dev_bdf(d, md->bdf);
		md->cls = policy_default_class;
		storm_init(&md->storm, &md->cls);
		if (irqmon_discover(&md->irq, &x->h, md->bdf, &e) < 0)
			die("discover %s: %s", md->bdf, e.msg);
		if (irqmon_vectors(&md->irq, vecs, V + 1, &nvec) != V || nvec != V)
			die("%s: %zu vectors, want %d", md->bdf, nvec, V);
		for (size_t v = 0; v < V; v++)
			if (vecs[v] != vector_irq(x, d * V + v))
				die("%s: vector %zu is IRQ %u, want %u", md->bdf, v, vecs[v],
				    vector_irq(x, d * V + v));
		if (irqmon_uses_proc_interrupts(&md->irq) != (x->kind == HOST_PROC))
			die("%s: counted from the wrong source", md->bdf);
		if (irqmon_sample(&md->irq, &total, &e) < 0)
			die("sample %s: %s", md->bdf, e.msg);
		md->discovered_ms = 1;
		x->ptrs[d] = &md->irq;
	}
	after = mallinfo2();
	x->heap_bytes = after.uordblks - before.uordblks;
}

/*
 * Proves that the sampler reads the counts: bumps every CPU's count of
 * device 0's first vector by one; the next sample must add exactly ncpu.
 */
static void host_check_counts(struct host *x)
{
	struct monitor_dev *md = &x->mdev[0];
	unsigned irq = vector_irq(x, 0);
	uint64_t before, after;
	struct vf_err e = { 0 };
	char path[PATH_MAX + 64];

	if (irqmon_sample(&md->irq, &before, &e) < 0)
		die("sample: %s", e.msg);
	if (x->kind == HOST_SYSFS) {
		char buf[16384];
		size_t len = fmt_pcc(buf, sizeof(buf), irq, x->ncpu, 1);

		snprintf(path, sizeof(path), "%s/sys/kernel/irq/%u/per_cpu_count", x->root, irq);
		write_file(path, buf, len); /* in place: same inode, as sysfs */
	} else {
		fmt_proc(&x->proc, x->nirq, x->ncpu, irq);
		snprintf(path, sizeof(path), "%s/proc/interrupts", x->root);
		write_file(path, x->proc.p, x->proc.len);
	}
	if (irqmon_sample(&md->irq, &after, &e) < 0)
		die("sample: %s", e.msg);
	if (after - before != x->ncpu || irqmon_rediscover_needed(&md->irq))
		die("%s: bumping IRQ %u on %u CPUs added %llu (%s)", x->root, irq, x->ncpu,
		    (unsigned long long)(after - before), irqmon_rediscover_reason(&md->irq));
}

static void host_close(struct host *x)
{
	for (size_t d = 0; d < x->ndev; d++)
		irqmon_close(&x->mdev[d].irq);
	free(x->mdev);
	free(x->ptrs);
	free(x->totals);
	free(x->proc.p);
	hostfs_fini(&x->h);
}

/* ---- the measured operations ---- */

enum op {
	OP_MONITOR,   /* monitor.c's sample_one steady state, for each device */
	OP_ALL,       /* one irqmon_sample_all() over the devices */
	OP_DISCOVER,  /* the periodic re-discovery (MONITOR_REDISCOVER_MS) */
	OP_PARSE,     /* irqmon_parse_proc_interrupts() on the in-memory text */
};

struct bcase {
	enum op op;
	struct host *x;
	size_t ndev;
	size_t target, batch, warm;
	uint64_t *ns;
	size_t n;
	double median_us, p90_us, min_us;
};

static void run_op(struct bcase *k)
{
	struct host *x = k->x;
	struct vf_err e = { 0 };

	switch (k->op) {
	case OP_MONITOR:
		x->sim_ms += SAMPLE_MS;
		for (size_t d = 0; d < k->ndev; d++) {
			struct monitor_dev *md = &x->mdev[d];
			uint64_t total;

			/* what sample_one does when no re-discovery is due */
			if (irqmon_rediscover_needed(&md->irq))
				die("%s: %s", md->bdf, irqmon_rediscover_reason(&md->irq));
			if (irqmon_sample(&md->irq, &total, &e) < 0)
				die("sample %s: %s", md->bdf, e.msg);
			if (storm_feed(&md->storm, x->sim_ms, total) != STORM_NONE)
				die("%s: the detector acted on a constant count", md->bdf);
		}
		break;
	case OP_ALL:
		if (irqmon_sample_all(x->ptrs, k->ndev, x->totals, &e) < 0)
			die("sample_all: %s", e.msg);
		break;
	case OP_DISCOVER:
		for (size_t d = 0; d < k->ndev; d++)
			if (irqmon_discover(&x->mdev[d].irq, &x->h, x->mdev[d].bdf, &e) < 0)
				die("discover: %s", e.msg);
		break;
	case OP_PARSE: {
		unsigned vecs[V];
		uint64_t counts[V];

		for (size_t v = 0; v < V; v++)
			vecs[v] = vector_irq(x, v);
		if (irqmon_parse_proc_interrupts(x->proc.p, vecs, V, counts, &e) != V)
			die("parse: %s", e.msg);
		break;
	}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void summarize(struct bcase *k)
{
	if (!k->n) {
		k->median_us = k->p90_us = k->min_us = -1;
		return;
	}
	qsort(k->ns, k->n, sizeof(*k->ns), cmp_u64);
	k->min_us = (double)k->ns[0] / 1e3;
	k->median_us = (double)k->ns[k->n / 2] / 1e3;
	if (k->n % 2 == 0)
		k->median_us = (double)(k->ns[k->n / 2 - 1] + k->ns[k->n / 2]) / 2e3;
	k->p90_us = (double)k->ns[(k->n * 9) / 10 < k->n ? (k->n * 9) / 10 : k->n - 1] / 1e3;
}

/* Interleaved: each round runs a batch of every case still short of its target. */
static void measure(struct bcase **cases, size_t n)
{
	double start = now_s();

	for (size_t i = 0; i < n; i++) {
		cases[i]->ns = xcalloc(cases[i]->target, sizeof(uint64_t));
		for (size_t w = 0; w < cases[i]->warm; w++)
			run_op(cases[i]);
	}
	for (size_t round = 0;; round++) {
		bool any = false;

		check_signal();
		if (now_s() - start > DEADLINE_S) {
			fprintf(stderr, "bench: %.0f s deadline reached; cases short of their "
					"target keep fewer samples (column n)\n", DEADLINE_S);
			break;
		}
		for (size_t j = 0; j < n; j++) {
			struct bcase *k = cases[(j + round) % n];

			for (size_t b = 0; b < k->batch && k->n < k->target; b++) {
				uint64_t t0 = now_ns();

				run_op(k);
				k->ns[k->n++] = now_ns() - t0;
				any = true;
			}
		}
		if (!any)
			break;
	}
	for (size_t i = 0; i < n; i++)
		summarize(cases[i]);
}

/* ---- the plan ---- */

static const unsigned H_GRID[] = { 64, 4096, 32768 };
static const size_t D_GRID[] = { 1, 8, 64 };
#define NH (sizeof(H_GRID) / sizeof(H_GRID[0]))
#define ND (sizeof(D_GRID) / sizeof(D_GRID[0]))

static double ratio(const struct bcase *a, const struct bcase *b)
{
	return a && b && a->median_us > 0 && b->median_us > 0 ? a->median_us / b->median_us : 0;
}

static const char *fs_name(const char *path)
{
	struct statfs st;

	if (statfs(path, &st) < 0)
		return "?";
	switch ((unsigned long)st.f_type) {
	case 0x01021994: return "tmpfs";
	case 0xEF53: return "ext4";
	case 0x58465342: return "xfs";
	case 0x9123683E: return "btrfs";
	case 0x794c7630: return "overlayfs";
	default: return "other";
	}
}

static struct bcase *new_case(enum op op, struct host *x, size_t ndev, size_t target,
			      size_t batch, size_t warm)
{
	struct bcase *k = xcalloc(1, sizeof(*k));

	*k = (struct bcase){ .op = op, .x = x, .ndev = ndev, .target = target,
			     .batch = batch, .warm = warm };
	return k;
}

static void print_row(const struct bcase *k, const char *label, const char *extra)
{
	size_t nvec = k->op == OP_PARSE ? V : k->ndev * V;

	printf("  %-10s %3zu %4zu %6u %4u %10.2f %10.2f %10.2f %10.3f %6zu%s\n", label, k->ndev,
	       nvec, k->x->nirq, k->x->ncpu, k->median_us, k->p90_us, k->min_us,
	       k->median_us / (double)nvec, k->n, extra ? extra : "");
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	struct rlimit rl;
	double t_start = now_s(), t_built;
	struct sigaction sa;
	/* sysfs hosts: C=64 for every H; C=8 and C=256 at H=4096 */
	struct host sys[NH], sys_c8, sys_c256, proc[NH];
	struct bcase *mon[NH][ND] = { { 0 } }, *c8, *c256, *disc[NH];
	struct bcase *parse[NH], *fb_one[NH], *fb_mon8[NH], *fb_all8[NH];
	struct bcase *all[64] = { 0 };
	size_t nall = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* one fd per owned vector: a few hundred here */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 && rl.rlim_max > rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/*
	 * ~50,000 small files: on tmpfs they are made and removed in about a
	 * second, on ext4 here removal alone took half a minute. $TMPDIR wins.
	 */
	if (!tmp || !*tmp) {
		struct statfs sf;

		tmp = statfs("/dev/shm", &sf) == 0 && (unsigned long)sf.f_type == 0x01021994 &&
			      access("/dev/shm", W_OK | X_OK) == 0
			      ? "/dev/shm"
			      : "/tmp";
	}
	snprintf(g_top, sizeof(g_top), "%s/vfiod-bench-XXXXXX", tmp);
	if (!mkdtemp(g_top)) {
		g_top[0] = '\0';
		die("mkdtemp: %s", strerror(errno));
	}
	atexit(cleanup);

	memset(sys, 0, sizeof(sys));
	memset(proc, 0, sizeof(proc));
	memset(&sys_c8, 0, sizeof(sys_c8));
	memset(&sys_c256, 0, sizeof(sys_c256));
	for (size_t i = 0; i < NH; i++) {
		char name[64];

		sys[i] = (struct host){ .kind = HOST_SYSFS, .nirq = H_GRID[i], .ncpu = 64 };
		/* D*V vectors must fit in H IRQs: H=64 takes 16 devices at most */
		sys[i].ndev = H_GRID[i] >= 64 * V ? 64 : 8;
		snprintf(name, sizeof(name), "sysfs-H%u-C64", H_GRID[i]);
		host_build(&sys[i], name);
		proc[i] = (struct host){ .kind = HOST_PROC, .nirq = H_GRID[i], .ncpu = 64, .ndev = 8 };
		snprintf(name, sizeof(name), "proc-H%u-C64", H_GRID[i]);
		host_build(&proc[i], name);
	}
	sys_c8 = (struct host){ .kind = HOST_SYSFS, .nirq = 4096, .ncpu = 8, .ndev = 8 };
	host_build(&sys_c8, "sysfs-H4096-C8");
	sys_c256 = (struct host){ .kind = HOST_SYSFS, .nirq = 4096, .ncpu = 256, .ndev = 8 };
	host_build(&sys_c256, "sysfs-H4096-C256");

	for (size_t i = 0; i < NH; i++) {
		host_open(&sys[i]);
		host_check_counts(&sys[i]);
		host_open(&proc[i]);
		host_check_counts(&proc[i]);
	}
	host_open(&sys_c8);
	host_check_counts(&sys_c8);
	host_open(&sys_c256);
	host_check_counts(&sys_c256);
	t_built = now_s();

	for (size_t i = 0; i < NH; i++) {
		/* proc text ~750 bytes per IRQ at C=64: fewer repetitions for big H */
		size_t slow = H_GRID[i] >= 32768 ? 9 : H_GRID[i] >= 4096 ? 150 : 1000;

		for (size_t j = 0; j < ND; j++) {
			if (D_GRID[j] > sys[i].ndev)
				continue;
			mon[i][j] = new_case(OP_MONITOR, &sys[i], D_GRID[j],
					     D_GRID[j] >= 64 ? 1000 : 2000,
					     D_GRID[j] >= 64 ? 10 : 20, 20);
			all[nall++] = mon[i][j];
		}
		disc[i] = new_case(OP_DISCOVER, &sys[i], 8, 300, 3, 5);
		all[nall++] = disc[i];
		parse[i] = new_case(OP_PARSE, &proc[i], 1, slow >= 100 ? slow * 2 : 30,
				    slow >= 100 ? slow / 50 : 1, 2);
		fb_one[i] = new_case(OP_MONITOR, &proc[i], 1, slow, slow >= 100 ? slow / 50 : 1, 2);
		fb_all8[i] = new_case(OP_ALL, &proc[i], 8, slow, slow >= 100 ? slow / 50 : 1, 2);
		all[nall++] = parse[i];
		all[nall++] = fb_one[i];
		all[nall++] = fb_all8[i];
		/* seconds per sample at H=32768 on this machine: measured at H <= 4096 only */
		fb_mon8[i] = NULL;
		if (H_GRID[i] >= 32768)
			continue;
		fb_mon8[i] = new_case(OP_MONITOR, &proc[i], 8, slow, slow / 50, 1);
		all[nall++] = fb_mon8[i];
	}
	c8 = new_case(OP_MONITOR, &sys_c8, 8, 2000, 20, 20);
	c256 = new_case(OP_MONITOR, &sys_c256, 8, 2000, 20, 20);
	all[nall++] = c8;
	all[nall++] = c256;
	measure(all, nall);

	printf("vfiod irqmon benchmark: synthetic sysroots in %s (%s), trees built and "
	       "checked in %.1f s\n", g_top, fs_name(g_top), t_built - t_start);
	printf("V=%d MSI vectors per owned device, spread evenly over the host's IRQ numbers; "
	       "wall time (CLOCK_MONOTONIC), interleaved rounds\n\n", V);

	printf("1. Per-sample cost, per_cpu_count path: one sample = every owned device once, as "
	       "monitor.c's\n   sample_one does when no re-discovery is due "
	       "(irqmon_rediscover_needed + irqmon_sample + storm_feed)\n");
	printf("  %-10s %3s %4s %6s %4s %10s %10s %10s %10s %6s\n", "", "D", "vecs", "H", "C",
	       "median_us", "p90_us", "min_us", "med/vector", "n");
	for (size_t j = 0; j < ND; j++)
		for (size_t i = 0; i < NH; i++) {
			if (mon[i][j])
				print_row(mon[i][j], "sample", NULL);
			else
				printf("  %-10s %3zu %4zu %6u %4u %10s   (D*V > H: not enough IRQs)\n",
				       "sample", D_GRID[j], D_GRID[j] * V, H_GRID[i], 64u, "n/a");
		}
	print_row(c8, "sample", NULL);
	print_row(mon[1][1], "sample", NULL);
	print_row(c256, "sample", NULL);

	printf("\n   ratios of medians (same run):\n");
	printf("   host size, fixed D (expect ~1):\n");
	printf("     D=1 : H=32768 / H=64   = %5.2f\n", ratio(mon[2][0], mon[0][0]));
	printf("     D=8 : H=32768 / H=64   = %5.2f\n", ratio(mon[2][1], mon[0][1]));
	printf("     D=64: H=32768 / H=4096 = %5.2f   (H=64 cannot hold 256 vectors)\n",
	       ratio(mon[2][2], mon[1][2]));
	printf("   owned devices, fixed H (expect ~D ratio: linear):\n");
	printf("     H=64   : D=8 / D=1  = %6.2f  (x8 devices)\n", ratio(mon[0][1], mon[0][0]));
	printf("     H=4096 : D=8 / D=1  = %6.2f  (x8),  D=64 / D=1 = %6.2f  (x64)\n",
	       ratio(mon[1][1], mon[1][0]), ratio(mon[1][2], mon[1][0]));
	printf("     H=32768: D=8 / D=1  = %6.2f  (x8),  D=64 / D=1 = %6.2f  (x64)\n",
	       ratio(mon[2][1], mon[2][0]), ratio(mon[2][2], mon[2][0]));
	printf("     same, ratios of minimums (the floor, less load noise): H=4096 D=64/D=1 = %.2f, "
	       "H=32768 D=64/D=1 = %.2f\n",
	       mon[1][2]->min_us / mon[1][0]->min_us, mon[2][2]->min_us / mon[2][0]->min_us);
	printf("   CPU width, D=8, H=4096 (per vector the sampler parses and folds C counts):\n");
	printf("     C=64 / C=8 = %5.2f,  C=256 / C=8 = %5.2f  (x8 and x32 CPUs)\n",
	       ratio(mon[1][1], c8), ratio(c256, c8));

	printf("\n2. Re-discovery of 8 devices (monitor: every %d ms per device, and when a vector "
	       "vanishes; C=64)\n", MONITOR_REDISCOVER_MS);
	printf("  %-10s %3s %4s %6s %4s %10s %10s %10s %10s %6s\n", "", "D", "vecs", "H", "C",
	       "median_us", "p90_us", "min_us", "med/vector", "n");
	for (size_t i = 0; i < NH; i++)
		print_row(disc[i], "discover", NULL);
	printf("   H=32768 / H=64 = %5.2f (expect ~1)\n", ratio(disc[2], disc[0]));

	printf("\n3. Fallback: /proc/interrupts (no sys/kernel/irq), C=64; its cost grows with H\n");
	printf("   parse: irqmon_parse_proc_interrupts() on the text in memory, 4 vectors asked\n");
	printf("   sample: irqmon_sample() per device, as monitor.c's sample_one calls it "
	       "(one read+parse per device)\n");
	printf("   sample_all: one irqmon_sample_all() for the 8 devices (one read+parse)\n");
	printf("  %-10s %3s %4s %6s %4s %10s %10s %10s %10s %6s  %s\n", "", "D", "vecs", "H", "C",
	       "median_us", "p90_us", "min_us", "med/vector", "n", "text size");
	for (size_t i = 0; i < NH; i++) {
		char sz[32];

		snprintf(sz, sizeof(sz), "  %.2f MB", (double)proc[i].proc.len / 1e6);
		print_row(parse[i], "parse", sz);
		print_row(fb_one[i], "sample", NULL);
		if (fb_mon8[i])
			print_row(fb_mon8[i], "sample", NULL);
		else
			printf("  %-10s %3d %4d %6u %4u %10s   (not run: ~8 x the D=1 row; seconds)\n",
			       "sample", 8, 8 * V, H_GRID[i], 64u, "skipped");
		print_row(fb_all8[i], "sample_all", NULL);
	}
	printf("   ratios: parse H=4096/H=64 = %.1f, H=32768/H=64 = %.1f;  "
	       "D=1 sample H=32768/H=64 = %.1f\n",
	       ratio(parse[1], parse[0]), ratio(parse[2], parse[0]), ratio(fb_one[2], fb_one[0]));
	printf("   D=8: per-device irqmon_sample / one irqmon_sample_all = %.1f at H=64, %.1f at "
	       "H=4096\n", ratio(fb_mon8[0], fb_all8[0]), ratio(fb_mon8[1], fb_all8[1]));
	printf("   D=8, H=32768: fallback sample_all / per_cpu_count sample = %.0f\n",
	       ratio(fb_all8[2], mon[2][1]));

	printf("\n4. Memory held per owned vector (heap; the kernel's side of each open fd is "
	       "not counted)\n");
	printf("   estimate: sizeof(struct irqmon_vec) = %zu, plus last[] and seen[] = C x "
	       "(%zu + %zu) bytes, plus one fd\n", sizeof(struct irqmon_vec), sizeof(uint64_t),
	       sizeof(bool));
	printf("   per device: sizeof(struct monitor_dev) = %zu (holds irqmon_dev %zu, storm %zu, "
	       "policy_class %zu),\n", sizeof(struct monitor_dev), sizeof(struct irqmon_dev),
	       sizeof(struct storm), sizeof(struct policy_class));
	printf("   plus the scratch: a read buffer (4096 bytes or more) and C x 8 bytes of "
	       "parsed values\n");
	printf("   measured: mallinfo2() uordblks before and after discovering and sampling "
	       "the devices once\n");
	printf("  %4s %4s %14s %16s %19s\n", "C", "D", "est. B/vector", "est. heap B/dev",
	       "measured heap B/dev");
	{
		const struct host *hs[] = { &sys_c8, &sys[1], &sys_c256 };

		for (size_t i = 0; i < 3; i++) {
			const struct host *x = hs[i];
			size_t pv = sizeof(struct irqmon_vec) + x->ncpu * (sizeof(uint64_t) + sizeof(bool));
			size_t scratch = x->mdev[0].irq.bufcap + x->mdev[0].irq.valcap * sizeof(uint64_t);

			printf("  %4u %4zu %14zu %16zu %19.0f\n", x->ncpu, x->ndev, pv, V * pv + scratch,
			       (double)x->heap_bytes / (double)x->ndev);
		}
	}
	printf("\ntotal run %.1f s\n", now_s() - t_start);

	for (size_t i = 0; i < NH; i++) {
		host_close(&sys[i]);
		host_close(&proc[i]);
	}
	host_close(&sys_c8);
	host_close(&sys_c256);
	for (size_t i = 0; i < nall; i++) {
		free(all[i]->ns);
		free(all[i]);
	}
	return 0;
}
