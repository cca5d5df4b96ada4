// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the interrupt sampler (irqmon.c): pure parsers, then sampling
 * over a mkdtemp sysroot whose files are rewritten in place between samples. */
#include "tree.h"

#include <stdint.h>

#include "hostfs.h"
#include "irqmon.h"
#include "monitor.h"

#include <time.h>

#define BDF "0000:00:02.0"
#define DEVDIR "sys/devices/pci0000:00/" BDF
#define BDF2 "0000:00:03.0"
#define DEVDIR2 "sys/devices/pci0000:00/" BDF2

/* ---- counter arithmetic ---- */

static void test_counter_delta(void **state)
{
	bool reset = false;

	(void)state;
	assert_int_equal(irqmon_counter_delta(10, 15, &reset), 5);
	assert_int_equal(irqmon_counter_delta(7, 7, &reset), 0);
	assert_false(reset);
	/* a 32-bit wrap: 6 counts to the top, then 10 */
	assert_int_equal(irqmon_counter_delta(UINT32_MAX - 5, 10, &reset), 16);
	assert_int_equal(irqmon_counter_delta(UINT32_MAX, 0, &reset), 1);
	/* the largest plausible wrap */
	assert_int_equal(irqmon_counter_delta(UINT64_C(1) << 31, 0, &reset),
			 UINT64_C(1) << 31);
	assert_false(reset);
	/* going back by a little is a reset, not a 4-billion-count wrap */
	assert_int_equal(irqmon_counter_delta(1000, 10, &reset), 0);
	assert_true(reset);
	reset = false;
	assert_int_equal(irqmon_counter_delta((UINT64_C(1) << 31) - 1, 0, &reset), 0);
	assert_true(reset);
	/* a counter wider than 32 bits going down cannot have wrapped at 2^32 */
	reset = false;
	assert_int_equal(irqmon_counter_delta(UINT64_C(1) << 40, 5, &reset), 0);
	assert_true(reset);
	reset = false;
	assert_int_equal(irqmon_counter_delta(0, UINT64_MAX, &reset), UINT64_MAX);
	assert_false(reset);
}

/* ---- per_cpu_count parser ---- */

static int pcc(const char *s, uint64_t *vals, size_t cap, struct vf_err *e)
{
	return irqmon_parse_per_cpu_count(s, strlen(s), vals, cap, e);
}

static void test_pcc_parse(void **state)
{
	struct vf_err e = { 0 };
	uint64_t v[8];

	(void)state;
	assert_int_equal(pcc("1,2,3\n", v, 8, &e), 3);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 2);
	assert_int_equal(v[2], 3);
	/* one CPU; the newline is optional */
	assert_int_equal(pcc("7\n", v, 8, &e), 1);
	assert_int_equal(v[0], 7);
	assert_int_equal(pcc("0", v, 8, &e), 1);
	assert_int_equal(v[0], 0);
	/* counts as large as 64 bits hold */
	assert_int_equal(pcc("4294967295,18446744073709551615\n", v, 8, &e), 2);
	assert_int_equal(v[0], UINT32_MAX);
	assert_int_equal(v[1], UINT64_MAX);
	/* exactly the capacity */
	assert_int_equal(pcc("1,2", v, 2, &e), 2);
}

static void test_pcc_parse_junk(void **state)
{
	static const char *const bad[] = {
		"",  "\n", "\n\n", "1,2,\n", "1,2,", ",1", "1,,2", " 1", "1 ", "1, 2",
		"1;2", "-1", "+1", "0x10", "1\n\n", "1\n2\n", "1\r\n", "abc", "1,x,3\n",
	};
	struct vf_err e = { 0 };
	uint64_t v[8];

	(void)state;
	for (size_t i = 0; i < VF_ARRAY_SIZE(bad); i++) {
		e.msg[0] = '\0';
		if (pcc(bad[i], v, 8, &e) >= 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(e.msg, "per_cpu_count"));
	}
	assert_true(pcc("18446744073709551616\n", v, 8, &e) < 0);
	assert_int_equal(e.errnum, ERANGE);
	assert_true(pcc("1,123456789012345678901234567890", v, 8, &e) < 0);
	assert_int_equal(e.errnum, ERANGE);
	assert_true(pcc("1,2,3", v, 2, &e) < 0);
	assert_int_equal(e.errnum, E2BIG);
	/* an embedded NUL is junk */
	assert_true(irqmon_parse_per_cpu_count("1,2\0003\n", 6, v, 8, &e) < 0);
	assert_int_equal(e.errnum, EINVAL);
}

/* ---- /proc/interrupts parser ---- */

static const char proc_text[] =
	"           CPU0       CPU1       CPU2       CPU3       \n"
	"  0:         36          0          0          0   IO-APIC   2-edge      timer\n"
	"  1:          0          0          9          0   IO-APIC   1-edge      i8042\n"
	"  9:          0          3          0          0   IO-APIC   9-fasteoi   acpi\n"
	" 16:        100        200          0          5   IO-APIC  16-fasteoi   "
	"ehci_hcd:usb1, vfio-intx(0000:00:1a.0)\n"
	" 40:       1000       2000       3000       4000  IR-PCI-MSI 98304-edge      "
	"vfio-msi[0](0000:00:02.0)\n"
	" 41:          1          2          3 4294967295  IR-PCI-MSIX-0000:00:02.0    "
	"1-edge      vfio-msix[1](0000:00:02.0)\n"
	" 42:          0          0          0          0  IR-PCI-MSI 98305-edge\n"
	"NMI:          0          0          0          0   Non-maskable interrupts\n"
	"LOC:     123456     234567     345678     456789   Local timer interrupts\n"
	"SPU:          0          0          0          0   Spurious interrupts\n"
	"IWI:          7          8          9         10   IRQ work interrupts\n"
	"ERR:          0\n"
	"MIS:          0\n"
	"PIN:          0          0          0          0   Posted-interrupt notification event\n";

static void test_proc_parse(void **state)
{
	const unsigned want[] = { 40, 41, 16, 99, 40, 42, 0 };
	uint64_t out[VF_ARRAY_SIZE(want)];
	struct vf_err e = { 0 };

	(void)state;
	assert_int_equal(irqmon_parse_proc_interrupts(proc_text, want, VF_ARRAY_SIZE(want),
						      out, &e),
			 6);
	assert_int_equal(out[0], 10000);
	assert_int_equal(out[1], UINT64_C(4294967295) + 6);
	assert_int_equal(out[2], 305);
	assert_int_equal(out[3], IRQMON_COUNT_MISSING);
	assert_int_equal(out[4], 10000); /* asked twice (a shared line): both get it */
	assert_int_equal(out[5], 0);
	assert_int_equal(out[6], 36);
	/* nothing asked */
	assert_int_equal(irqmon_parse_proc_interrupts(proc_text, NULL, 0, NULL, &e), 0);
}

static void test_proc_parse_sparse_cpus(void **state)
{
	/* CPU1 offline: columns name the CPUs; no trailing newline */
	const char text[] = "      CPU0  CPU2  CPU5\n"
			    " 40:    1     2     4   PCI-MSI 1-edge vfio-msi[0](0000:00:02.0)\n"
			    "LOC:    9     9     9   Local timer interrupts";
	const char text2[] = "      CPU0\n 40: 5";
	const unsigned want[] = { 40 };
	struct vf_err e = { 0 };
	uint64_t out[1];

	(void)state;
	assert_int_equal(irqmon_parse_proc_interrupts(text, want, 1, out, &e), 1);
	assert_int_equal(out[0], 7);
	assert_int_equal(irqmon_parse_proc_interrupts(text2, want, 1, out, &e), 1);
	assert_int_equal(out[0], 5);
}

static void test_proc_parse_junk(void **state)
{
	static const char *const bad[] = {
		"",                                      /* no header */
		"\n 40: 1\n",                            /* no CPU column */
		"  CPU0 CPUx\n 40: 1 2\n",               /* not a CPU */
		"  CPU0 GPU1\n 40: 1 2\n",
		"  CPU1 CPU0\n 40: 1 2\n",               /* not increasing */
		"  CPU0 CPU0\n 40: 1 2\n",
		"  CPU0 CPU1\n 40: 1\n",                 /* too few counts */
		"  CPU0 CPU1\n 40: 1 PCI-MSI 2\n",       /* junk count */
		"  CPU0 CPU1\n 40: 1 -2 PCI-MSI\n",
		"  CPU0 CPU1\n 40: 1 2 x\n 40: 1 2 x\n", /* listed twice */
		"  CPU0 CPU1\n 40: 1 99999999999999999999999 x\n",
	};
	const unsigned want[] = { 40 };
	struct vf_err e = { 0 };
	uint64_t out[1];

	(void)state;
	for (size_t i = 0; i < VF_ARRAY_SIZE(bad); i++) {
		e.msg[0] = '\0';
		if (irqmon_parse_proc_interrupts(bad[i], want, 1, out, &e) >= 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(e.msg, "proc/interrupts"));
	}
	/* junk on lines nobody asked about is not our business */
	assert_int_equal(irqmon_parse_proc_interrupts("  CPU0 CPU1\n 41: x\n junk\n"
						      " 40: 1 2 PCI-MSI\n",
						      want, 1, out, &e),
			 1);
	assert_int_equal(out[0], 3);
}

/* ---- IRQ thread names ---- */

static void test_irq_thread(void **state)
{
	(void)state;
	assert_true(irqmon_is_irq_thread("irq/42-vfio-msi", 42));
	assert_true(irqmon_is_irq_thread("irq/42-vfio-msi[0](0000:00:02.0)", 42));
	assert_true(irqmon_is_irq_thread("irq/42-s-vfio-ms", 42)); /* secondary thread */
	assert_true(irqmon_is_irq_thread("irq/4294967295-", UINT32_MAX));
	assert_true(irqmon_is_irq_thread("irq/0-x", 0));
	assert_false(irqmon_is_irq_thread("irq/42-vfio-msi", 4));
	assert_false(irqmon_is_irq_thread("irq/42-vfio-msi", 420));
	assert_false(irqmon_is_irq_thread("irq/4-vfio-msix", 42));
	assert_false(irqmon_is_irq_thread("irq/042-vfio-ms", 42));
	assert_false(irqmon_is_irq_thread("irq/42", 42));
	assert_false(irqmon_is_irq_thread("irq/42 foo", 42));
	assert_false(irqmon_is_irq_thread("kworker/42-vfio", 42));
	assert_false(irqmon_is_irq_thread("ksoftirqd/42", 42));
	assert_false(irqmon_is_irq_thread("", 42));
	assert_false(irqmon_is_irq_thread(NULL, 42));
}

/* ---- sampling over a tree ---- */

struct fx {
	struct tree t;
	struct hostfs h;
	struct irqmon_dev d;
};

static void add_device(struct fx *f, const char *bdf, const char *devdir)
{
	char link[128], target[128];

	tree_mkdir(&f->t, devdir);
	snprintf(link, sizeof(link), "sys/bus/pci/devices/%s", bdf);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", bdf);
	tree_link(&f->t, link, target);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct vf_err e = { 0 };

	assert_non_null(f);
	tree_init(&f->t);
	add_device(f, BDF, DEVDIR);
	tree_mkdir(&f->t, "sys/kernel/irq");
	assert_int_equal(hostfs_init(&f->h, f->t.root, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	irqmon_close(&f->d);
	hostfs_fini(&f->h);
	tree_destroy(&f->t);
	free(f);
	return 0;
}

/* Rewrites sys/kernel/irq/<irq>/per_cpu_count in place (same inode, as sysfs). */
static void set_pcc(struct fx *f, unsigned irq, const char *text)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "sys/kernel/irq/%u/per_cpu_count", irq);
	tree_write(&f->t, rel, text);
}

static void add_msi(struct fx *f, const char *devdir, unsigned irq)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "%s/msi_irqs/%u", devdir, irq);
	tree_write(&f->t, rel, "msix\n");
}

static void rm_rel(struct fx *f, const char *rel)
{
	char path[PATH_MAX];

	tree_abs(&f->t, rel, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
}

static void mv_rel(struct fx *f, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	tree_abs(&f->t, from, a, sizeof(a));
	tree_abs(&f->t, to, b, sizeof(b));
	assert_int_equal(rename(a, b), 0);
}

static uint64_t sample(struct fx *f)
{
	struct vf_err e = { 0 };
	uint64_t total = 12345;

	if (irqmon_sample(&f->d, &total, &e) < 0)
		fail_msg("sample: %s", e.msg);
	return total;
}

static void discover(struct fx *f)
{
	struct vf_err e = { 0 };

	if (irqmon_discover(&f->d, &f->h, BDF, &e) < 0)
		fail_msg("discover: %s", e.msg);
}

static void assert_vectors(const struct irqmon_dev *d, const unsigned *want, size_t n)
{
	unsigned got[16];
	size_t total = 0;

	assert_int_equal(irqmon_vectors(d, got, VF_ARRAY_SIZE(got), &total), n);
	assert_int_equal(total, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

static void msi_40_41(struct fx *f)
{
	add_msi(f, DEVDIR, 40);
	add_msi(f, DEVDIR, 41);
	tree_write(&f->t, DEVDIR "/irq", "0\n");
}

static void test_sample_growth(void **state)
{
	struct fx *f = *state;
	const unsigned want[] = { 40, 41 };

	msi_40_41(f);
	set_pcc(f, 40, "10,20,0,0\n");
	set_pcc(f, 41, "0,0,0,7\n");
	discover(f);
	assert_vectors(&f->d, want, 2);
	assert_false(irqmon_uses_proc_interrupts(&f->d));
	/* discovery set the baseline: nothing counted yet */
	assert_int_equal(sample(f), 0);
	set_pcc(f, 40, "15,30,0,0\n");
	set_pcc(f, 41, "1,2,0,7\n");
	assert_int_equal(sample(f), 5 + 10 + 1 + 2);
	assert_int_equal(sample(f), 18); /* no change, no count */
	set_pcc(f, 40, "115,30,1000,0\n");
	assert_int_equal(sample(f), 18 + 100 + 1000);
	assert_false(irqmon_rediscover_needed(&f->d));
	assert_string_equal(irqmon_rediscover_reason(&f->d), "");
}

static void test_sample_wrap(void **state)
{
	struct fx *f = *state;

	msi_40_41(f);
	set_pcc(f, 40, "4294967290,100\n");
	set_pcc(f, 41, "4294967295\n");
	discover(f);
	set_pcc(f, 40, "5,101\n");
	set_pcc(f, 41, "0\n");
	/* 6 to the top and 5 after it, plus 1, plus one wrap to 0 */
	assert_int_equal(sample(f), 11 + 1 + 1);
	set_pcc(f, 40, "10,101\n");
	assert_int_equal(sample(f), 13 + 5);
	assert_false(irqmon_rediscover_needed(&f->d));
}

static void test_sample_reset(void **state)
{
	struct fx *f = *state;

	msi_40_41(f);
	set_pcc(f, 40, "1000\n");
	set_pcc(f, 41, "0\n");
	discover(f);
	set_pcc(f, 40, "1010\n");
	assert_int_equal(sample(f), 10);
	/* back by a little: a counter reset (the IRQ reused?), not a wrap */
	set_pcc(f, 40, "3\n");
	assert_int_equal(sample(f), 10);
	assert_true(irqmon_rediscover_needed(&f->d));
	assert_non_null(strstr(irqmon_rediscover_reason(&f->d), "IRQ 40"));
	/* counting goes on from the new value */
	set_pcc(f, 40, "8\n");
	assert_int_equal(sample(f), 15);
	discover(f);
	assert_false(irqmon_rediscover_needed(&f->d));
	set_pcc(f, 40, "9\n");
	assert_int_equal(sample(f), 16);
}

static void test_sample_hotplug(void **state)
{
	struct fx *f = *state;

	add_msi(f, DEVDIR, 40);
	set_pcc(f, 40, "10,10\n");
	discover(f);
	/* CPU2 appears with 500: its baseline, not 500 counts */
	set_pcc(f, 40, "11,11,500\n");
	assert_int_equal(sample(f), 2);
	set_pcc(f, 40, "12,12,505\n");
	assert_int_equal(sample(f), 9);
	/* CPUs 1 and 2 vanish: dropped, CPU0 still counts */
	set_pcc(f, 40, "13\n");
	assert_int_equal(sample(f), 10);
	/* CPU1 comes back lower than it left: a fresh baseline, no wrap */
	set_pcc(f, 40, "14,7\n");
	assert_int_equal(sample(f), 11);
	set_pcc(f, 40, "15,9\n");
	assert_int_equal(sample(f), 14);
	assert_false(irqmon_rediscover_needed(&f->d));
}

static void test_sample_vector_removed(void **state)
{
	struct fx *f = *state;
	const unsigned both[] = { 40, 41 }, one[] = { 40 };

	msi_40_41(f);
	set_pcc(f, 40, "100,100\n");
	set_pcc(f, 41, "500,500\n");
	discover(f);
	set_pcc(f, 40, "101,101\n");
	set_pcc(f, 41, "600,600\n");
	assert_int_equal(sample(f), 202);
	/* IRQ 41 freed: its file goes; the total keeps what it counted */
	set_pcc(f, 40, "102,102\n");
	rm_rel(f, "sys/kernel/irq/41/per_cpu_count");
	assert_int_equal(sample(f), 204);
	assert_true(irqmon_rediscover_needed(&f->d));
	assert_non_null(strstr(irqmon_rediscover_reason(&f->d), "IRQ 41"));
	assert_vectors(&f->d, one, 1);
	assert_int_equal(sample(f), 204);
	/* IRQ 41 is back (reused), with a fresh counter: a fresh baseline, no jump */
	set_pcc(f, 41, "3,4\n");
	discover(f);
	assert_vectors(&f->d, both, 2);
	assert_false(irqmon_rediscover_needed(&f->d));
	assert_int_equal(sample(f), 204);
	set_pcc(f, 41, "5,4\n");
	assert_int_equal(sample(f), 206);
}

static void test_sample_junk_drops(void **state)
{
	struct fx *f = *state;
	const unsigned one[] = { 40 };

	msi_40_41(f);
	set_pcc(f, 40, "1\n");
	set_pcc(f, 41, "1\n");
	discover(f);
	set_pcc(f, 40, "2\n");
	set_pcc(f, 41, "2,junk\n");
	assert_int_equal(sample(f), 1);
	assert_true(irqmon_rediscover_needed(&f->d));
	assert_non_null(strstr(irqmon_rediscover_reason(&f->d), "junk"));
	assert_vectors(&f->d, one, 1);
}

static void test_msi_changes(void **state)
{
	struct fx *f = *state;
	const unsigned intx[] = { 16 }, msix[] = { 40, 41, 16 }, other[] = { 42, 16 };

	/* INTx until the consumer enables MSI-X */
	tree_write(&f->t, DEVDIR "/irq", "16\n");
	set_pcc(f, 16, "5,5\n");
	set_pcc(f, 40, "70,70\n");
	set_pcc(f, 41, "80,80\n");
	set_pcc(f, 42, "90,90\n");
	discover(f);
	assert_vectors(&f->d, intx, 1);
	set_pcc(f, 16, "6,5\n");
	assert_int_equal(sample(f), 1);

	/* MSI-X enabled: msi_irqs appears; IRQ 16 keeps its state */
	msi_40_41(f);
	tree_write(&f->t, DEVDIR "/irq", "16\n");
	set_pcc(f, 16, "8,5\n");
	discover(f);
	assert_vectors(&f->d, msix, 3);
	set_pcc(f, 40, "71,70\n");
	assert_int_equal(sample(f), 1 + 2 + 1);

	/* re-enabled with another vector set */
	rm_rel(f, DEVDIR "/msi_irqs/40");
	rm_rel(f, DEVDIR "/msi_irqs/41");
	add_msi(f, DEVDIR, 42);
	discover(f);
	assert_vectors(&f->d, other, 2);
	set_pcc(f, 40, "1000,1000\n"); /* no longer ours */
	set_pcc(f, 42, "91,90\n");
	assert_int_equal(sample(f), 5);
}

static void test_intx_only(void **state)
{
	struct fx *f = *state;
	const unsigned intx[] = { 16 }, msi[] = { 40 };

	tree_write(&f->t, DEVDIR "/irq", "16\n");
	set_pcc(f, 16, "0,0,0,0\n");
	discover(f);
	assert_vectors(&f->d, intx, 1);
	set_pcc(f, 16, "1,2,3,4\n");
	assert_int_equal(sample(f), 10);

	/* MSI: irq shows the first MSI vector; it is not counted twice */
	irqmon_close(&f->d);
	tree_write(&f->t, DEVDIR "/irq", "40\n");
	add_msi(f, DEVDIR, 40);
	set_pcc(f, 40, "1\n");
	discover(f);
	assert_vectors(&f->d, msi, 1);

	/* no interrupt at all */
	irqmon_close(&f->d);
	rm_rel(f, DEVDIR "/msi_irqs/40");
	tree_write(&f->t, DEVDIR "/irq", "0\n");
	discover(f);
	assert_vectors(&f->d, NULL, 0);
	assert_int_equal(sample(f), 0);

	/* no irq attribute either */
	rm_rel(f, DEVDIR "/irq");
	discover(f);
	assert_vectors(&f->d, NULL, 0);
}

static void test_unallocated_vector_skipped(void **state)
{
	struct fx *f = *state;
	const unsigned one[] = { 40 };

	/* irq 41 has no descriptor: nothing can fire on it */
	msi_40_41(f);
	set_pcc(f, 40, "1\n");
	discover(f);
	assert_vectors(&f->d, one, 1);
	assert_false(irqmon_rediscover_needed(&f->d));
}

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

static void test_no_scan_per_sample(void **state)
{
	struct fx *f = *state;
	uint64_t want = 0;
	char text[64];
	int fds;

	msi_40_41(f);
	set_pcc(f, 40, "0,0\n");
	set_pcc(f, 41, "0,0\n");
	discover(f);
	/* nothing is reachable by path any more: only the open fds work */
	mv_rel(f, DEVDIR "/msi_irqs", DEVDIR "/msi_irqs.gone");
	mv_rel(f, "sys/bus", "sys/bus.gone");
	mv_rel(f, "sys/kernel/irq", "sys/kernel/irq.gone");
	fds = count_fds();
	for (unsigned i = 1; i <= 100; i++) {
		snprintf(text, sizeof(text), "%u,%u\n", i, 2 * i);
		tree_write(&f->t, "sys/kernel/irq.gone/40/per_cpu_count", text);
		tree_write(&f->t, "sys/kernel/irq.gone/41/per_cpu_count", text);
		want += 2 * 3;
		assert_int_equal(sample(f), want);
	}
	assert_int_equal(count_fds(), fds);
	assert_false(irqmon_rediscover_needed(&f->d));
}

static void test_page_cut(void **state)
{
	struct fx *f = *state;
	static char text[8192];
	size_t len, total = 0;

	/*
	 * sysfs stops at a page without the "\n": the last number may be cut
	 * short ("4" of "4294967290"), and where it is cut moves when earlier
	 * numbers grow a digit (here it then ends on a bare ',').
	 */
	add_msi(f, DEVDIR, 40);
	len = (size_t)snprintf(text, sizeof(text), "9");
	while (len < 5000)
		len += (size_t)snprintf(text + len, sizeof(text) - len, ",4294967290");
	tree_write_n(&f->t, "sys/kernel/irq/40/per_cpu_count", text, 4095);
	assert_int_equal(text[4094], '4');
	discover(f);
	text[0] = '1';
	memmove(text + 2, text + 1, len);
	text[1] = '0';
	tree_write_n(&f->t, "sys/kernel/irq/40/per_cpu_count", text, 4095);
	assert_int_equal(text[4094], ',');
	assert_int_equal(sample(f), 1);
	/* now the cut falls at the end of a whole number: the "4" read first
	 * must not turn into 4294967290 counts */
	memmove(text + 3, text + 2, len);
	memcpy(text, "100", 3);
	tree_write_n(&f->t, "sys/kernel/irq/40/per_cpu_count", text, 4095);
	assert_int_equal(text[4094], '0');
	assert_int_equal(sample(f), 91);
	assert_false(irqmon_rediscover_needed(&f->d));
	assert_int_equal(irqmon_vectors(&f->d, NULL, 0, &total), 0);
	assert_int_equal(total, 1);
}

static void test_discover_errors(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	const unsigned both[] = { 40, 41 };
	int fds;

	assert_true(irqmon_discover(&f->d, &f->h, "00:02.0", &e) < 0);
	assert_int_equal(e.errnum, EINVAL);
	assert_true(irqmon_discover(&f->d, &f->h, "0000:00:1f.7", &e) < 0);
	assert_int_equal(e.errnum, ENOENT);
	assert_non_null(strstr(e.msg, "0000:00:1f.7"));

	msi_40_41(f);
	set_pcc(f, 40, "1\n");
	set_pcc(f, 41, "1\n");
	discover(f);
	set_pcc(f, 40, "2\n");

	/* a failed re-discovery leaves the previous state working */
	tree_write(&f->t, DEVDIR "/msi_irqs/forty-two", "msix\n");
	assert_true(irqmon_discover(&f->d, &f->h, BDF, &e) < 0);
	assert_non_null(strstr(e.msg, "forty-two"));
	assert_vectors(&f->d, both, 2);
	assert_int_equal(sample(f), 1);
	rm_rel(f, DEVDIR "/msi_irqs/forty-two");

	tree_write(&f->t, DEVDIR "/irq", "sixteen\n");
	assert_true(irqmon_discover(&f->d, &f->h, BDF, &e) < 0);
	assert_non_null(strstr(e.msg, "sixteen"));
	tree_write(&f->t, DEVDIR "/irq", "0\n");

	add_msi(f, DEVDIR, 42);
	set_pcc(f, 42, "1,,2\n");
	fds = count_fds();
	assert_true(irqmon_discover(&f->d, &f->h, BDF, &e) < 0);
	assert_int_equal(count_fds(), fds);
	assert_non_null(strstr(e.msg, "IRQ 42"));
	assert_vectors(&f->d, both, 2);
	set_pcc(f, 40, "3\n");
	assert_int_equal(sample(f), 2);
}

static void test_two_devices(void **state)
{
	struct fx *f = *state;
	struct irqmon_dev d2 = { 0 };
	struct irqmon_dev *devs[] = { &f->d, &d2 };
	struct vf_err e = { 0 };
	uint64_t totals[2];

	add_device(f, BDF2, DEVDIR2);
	add_msi(f, DEVDIR, 40);
	add_msi(f, DEVDIR2, 50);
	set_pcc(f, 40, "0\n");
	set_pcc(f, 50, "0\n");
	discover(f);
	assert_int_equal(irqmon_discover(&d2, &f->h, BDF2, &e), 0);
	set_pcc(f, 40, "3\n");
	set_pcc(f, 50, "7\n");
	assert_int_equal(irqmon_sample_all(devs, 2, totals, &e), 0);
	assert_int_equal(totals[0], 3);
	assert_int_equal(totals[1], 7);
	/* the same state reused for another device starts over */
	assert_int_equal(irqmon_discover(&d2, &f->h, BDF, &e), 0);
	set_pcc(f, 40, "4\n");
	assert_int_equal(irqmon_sample_all(devs, 2, totals, &e), 0);
	assert_int_equal(totals[0], 4);
	assert_int_equal(totals[1], 1);
	irqmon_close(&d2);
}

/* ---- fallback: no sys/kernel/irq, counts from /proc/interrupts ---- */

static void set_proc(struct fx *f, const char *cpus, const char *l40, const char *l41)
{
	char text[1024];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text),
			     "%s\n  0:  1  1  IO-APIC   2-edge      timer\n", cpus);
	if (l40)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      " 40: %s  IR-PCI-MSI 98304-edge  vfio-msi[0](" BDF ")\n",
				      l40);
	if (l41)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      " 41: %s  IR-PCI-MSI 98305-edge  vfio-msi[1](" BDF ")\n",
				      l41);
	snprintf(text + n, sizeof(text) - n,
		 "NMI:  0  0  Non-maskable interrupts\nLOC:  1  2  Local timer interrupts\n"
		 "ERR:  0\n");
	tree_write(&f->t, "proc/interrupts", text);
}

static void test_fallback_proc_interrupts(void **state)
{
	struct fx *f = *state;
	const unsigned both[] = { 40, 41 }, one[] = { 40 };

	char path[PATH_MAX];
	struct vf_err e = { 0 };
	uint64_t total = 0;

	tree_abs(&f->t, "sys/kernel/irq", path, sizeof(path));
	assert_int_equal(rmdir(path), 0);
	msi_40_41(f);
	set_proc(f, "   CPU0  CPU1", "10 20", "0 0");
	discover(f);
	assert_vectors(&f->d, both, 2);
	assert_true(irqmon_uses_proc_interrupts(&f->d));
	assert_int_equal(sample(f), 0);
	set_proc(f, "   CPU0  CPU1", "11 22", "0 4");
	assert_int_equal(sample(f), 7);
	/* a wrap on CPU1 */
	set_proc(f, "   CPU0  CPU1", "11 4294967295", "0 4");
	assert_int_equal(sample(f), 7 + 4294967273u);
	set_proc(f, "   CPU0  CPU1", "11 1", "0 4");
	assert_int_equal(sample(f), 7 + 4294967273u + 2);
	/* CPU1 goes offline, CPU2 comes online: by number, not by column */
	set_proc(f, "   CPU0  CPU2", "12 900", "0 50");
	assert_int_equal(sample(f), 7 + 4294967275u + 1);
	set_proc(f, "   CPU0  CPU2", "12 901", "0 51");
	assert_int_equal(sample(f), 7 + 4294967276u + 2);
	assert_false(irqmon_rediscover_needed(&f->d));
	/* IRQ 41 freed: its line goes */
	set_proc(f, "   CPU0  CPU2", "13 901", NULL);
	assert_int_equal(sample(f), 7 + 4294967279u);
	assert_true(irqmon_rediscover_needed(&f->d));
	assert_vectors(&f->d, one, 1);
	/* an unreadable /proc/interrupts is a failure; the total still comes */
	rm_rel(f, "proc/interrupts");
	assert_true(irqmon_sample(&f->d, &total, &e) < 0);
	assert_non_null(strstr(e.msg, "proc/interrupts"));
	assert_int_equal(total, 7 + 4294967279u);
}

static void test_mixed_per_vector(void **state)
{
	struct fx *f = *state;
	const unsigned both[] = { 40, 41 };

	/* IRQ 41's directory has no per_cpu_count: that one vector falls back */
	msi_40_41(f);
	set_pcc(f, 40, "1,1\n");
	tree_mkdir(&f->t, "sys/kernel/irq/41");
	set_proc(f, "   CPU0  CPU1", "1 1", "10 10");
	discover(f);
	assert_vectors(&f->d, both, 2);
	assert_true(irqmon_uses_proc_interrupts(&f->d));
	set_pcc(f, 40, "2,1\n");
	set_proc(f, "   CPU0  CPU1", "500 500", "10 13"); /* 40's line is not read */
	assert_int_equal(sample(f), 1 + 3);
	assert_false(irqmon_rediscover_needed(&f->d));
}

/* ---- a device with more vectors than anyone's fixed array ---- */

#define MANY_VECS 2048
#define MANY_BASE 100u

struct many_ctx {
	pthread_mutex_t mu;
	size_t calls, n;
	bool in_order;
};

/* Reads every vector it is given, as devcg_steer_irqs does. */
static int many_throttle(void *ctx, const char *bdf, const struct policy_class *cls,
			 const struct policy *pol, const unsigned *vectors, size_t n,
			 struct vf_err *e)
{
	struct many_ctx *c = ctx;
	bool in_order = true;

	for (size_t i = 0; i < n; i++)
		in_order &= vectors[i] == MANY_BASE + i;
	pthread_mutex_lock(&c->mu);
	c->calls++;
	c->n = n;
	c->in_order = in_order;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static int many_unthrottle(void *ctx, const char *bdf, const struct policy_class *cls,
			   const struct policy *pol, const unsigned *vectors, size_t n,
			   struct vf_err *e)
{
	return 0;
}

static void test_many_vectors(void **state)
{
	static const struct monitor_ops ops = { many_throttle, many_unthrottle };
	struct fx *f = *state;
	struct many_ctx c = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct policy_class cls = policy_default_class;
	const struct policy_class *classes[1] = { &cls };
	const char bdfs[1][VF_BDF_LEN] = { BDF };
	const bool held[1] = { false };
	struct monitor m;
	struct vf_err e = { 0 };
	unsigned *vecs, *got;
	size_t n, total = 0, calls = 0;
	char count[32];

	for (unsigned i = 0; i < MANY_VECS; i++) {
		add_msi(f, DEVDIR, MANY_BASE + i);
		set_pcc(f, MANY_BASE + i, "0\n");
	}
	tree_write(&f->t, DEVDIR "/irq", "0\n");
	discover(f);
	/* the contract: what was copied, never more than asked; the total apart */
	vecs = calloc(MANY_VECS, sizeof(*vecs));
	assert_non_null(vecs);
	assert_int_equal(irqmon_vectors(&f->d, vecs, 256, &total), 256);
	assert_int_equal(total, MANY_VECS);
	assert_int_equal(irqmon_vectors(&f->d, vecs, MANY_VECS, NULL), MANY_VECS);
	assert_int_equal(vecs[MANY_VECS - 1], MANY_BASE + MANY_VECS - 1);
	free(vecs);

	/* the monitor hands all 2048 to its throttle op, and to the daemon */
	cls.storm_threshold = 10;
	cls.clear_threshold = 5;
	cls.sustain_ms = 0;
	cls.ladder[0] = POLICY_STEP_THROTTLE;
	cls.n_ladder = 1;
	assert_int_equal(monitor_start(&m, &f->h, 10, &ops, &c, &e), 0);
	monitor_set(&m, bdfs, classes, held, 1);
	for (unsigned k = 1; k <= 500 && !calls; k++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		snprintf(count, sizeof(count), "%u\n", k * 100000);
		set_pcc(f, MANY_BASE, count);
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&c.mu);
		calls = c.calls;
		pthread_mutex_unlock(&c.mu);
	}
	got = monitor_vectors(&m, BDF, &n);
	monitor_stop(&m);
	assert_true(calls > 0);
	assert_int_equal(c.n, MANY_VECS);
	assert_true(c.in_order);
	assert_non_null(got);
	assert_int_equal(n, MANY_VECS);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], MANY_BASE + i);
	free(got);
}

/* ---- the monitor's snapshot of the policy ---- */

struct snap_ctx {
	pthread_mutex_t mu;
	size_t calls;
	bool hk0, hk1;       /* CPUs 0 and 1 housekeeping, as the last call saw them */
	uint64_t hk_sum;
};

/* Reads the whole snapshot it is handed, as devcg_steer_irqs would. */
static int snap_op(void *ctx, const char *bdf, const struct policy_class *cls,
		   const struct policy *pol, const unsigned *vectors, size_t n, struct vf_err *e)
{
	struct snap_ctx *c = ctx;
	uint64_t sum = 0;

	for (size_t i = 0; i < VF_ARRAY_SIZE(pol->daemon.housekeeping); i++)
		sum += pol->daemon.housekeeping[i];
	pthread_mutex_lock(&c->mu);
	c->calls++;
	c->hk0 = policy_housekeeping_cpu(pol, 0);
	c->hk1 = policy_housekeeping_cpu(pol, 1);
	c->hk_sum = sum;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static void parse_policy(struct policy *p, const char *text)
{
	struct vf_err e = { 0 };

	memset(p, 0, sizeof(*p));
	if (policy_parse(p, "test.conf", text, &e) < 0)
		fail_msg("policy: %s", e.msg);
}

static size_t snap_calls(struct snap_ctx *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->calls;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/*
 * Reloads swap the monitor's policy while it throttles and unthrottles: the
 * ops read a whole snapshot every time (ASan: never a freed one, though the
 * caller frees its policy at once), and the first call after a swap sees the
 * new housekeeping CPUs; the new interval is the monitor's.
 */
static void test_monitor_policy_swap(void **state)
{
	static const struct monitor_ops ops = { snap_op, snap_op };
	struct fx *f = *state;
	struct snap_ctx c = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct policy_class cls = policy_default_class;
	const struct policy_class *classes[1] = { &cls };
	const char bdfs[1][VF_BDF_LEN] = { BDF };
	const bool held[1] = { false };
	struct monitor m;
	struct vf_err e = { 0 };
	uint64_t count = 0;
	size_t before;
	char text[32];

	add_msi(f, DEVDIR, 40);
	set_pcc(f, 40, "0\n");
	tree_write(&f->t, DEVDIR "/irq", "0\n");
	cls.storm_threshold = 10;
	cls.clear_threshold = 5;
	cls.sustain_ms = 0;
	cls.cooldown_ms = 0;
	cls.ladder[0] = POLICY_STEP_THROTTLE;
	cls.n_ladder = 1;
	assert_int_equal(monitor_start(&m, &f->h, 5, &ops, &c, &e), 0);
	monitor_set(&m, bdfs, classes, held, 1);
	/* storms on and off, a reload every few milliseconds */
	for (unsigned k = 0; k < 400; k++) {
		struct timespec ts = { 0, 3 * 1000 * 1000 };
		struct policy p;

		parse_policy(&p, k % 2 ? "[daemon]\nsample_interval_ms = 10\nhousekeeping_cpus = 0\n"
				       : "[daemon]\nsample_interval_ms = 10\nhousekeeping_cpus = 1,4000-4095\n");
		monitor_set_policy(&m, &p);
		policy_free(&p); /* the monitor keeps a copy of its own */
		if ((k / 10) % 2 == 0)
			count += 100000;
		snprintf(text, sizeof(text), "%llu\n", (unsigned long long)count);
		set_pcc(f, 40, text);
		nanosleep(&ts, NULL);
	}
	assert_true(snap_calls(&c) >= 2);

	/* after a swap, the next call sees the new CPUs */
	{
		struct policy p;

		parse_policy(&p, "[daemon]\nhousekeeping_cpus = 1\nsample_interval_ms = 20\n");
		monitor_set_policy(&m, &p);
		policy_free(&p);
	}
	assert_int_equal(monitor_stats(&m).interval_ms, 20);
	before = snap_calls(&c);
	for (unsigned k = 0; k < 500 && snap_calls(&c) == before; k++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if ((k / 4) % 2 == 0)
			count += 100000;
		snprintf(text, sizeof(text), "%llu\n", (unsigned long long)count);
		set_pcc(f, 40, text);
		nanosleep(&ts, NULL);
	}
	monitor_stop(&m);
	assert_true(c.calls > before);
	assert_false(c.hk0);
	assert_true(c.hk1);
	assert_int_equal(c.hk_sum, 2); /* bit 1 of word 0, nothing else */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_delta),
		cmocka_unit_test(test_pcc_parse),
		cmocka_unit_test(test_pcc_parse_junk),
		cmocka_unit_test(test_proc_parse),
		cmocka_unit_test(test_proc_parse_sparse_cpus),
		cmocka_unit_test(test_proc_parse_junk),
		cmocka_unit_test(test_irq_thread),
		cmocka_unit_test_setup_teardown(test_sample_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_hotplug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_vector_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_junk_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unallocated_vector_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_scan_per_sample, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discover_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_proc_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_per_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_policy_swap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
