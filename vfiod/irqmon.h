/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interrupt sampler: maps an owned device to its interrupt vectors and
 * reads their counts cheaply and often (every ~100 ms).
 *
 * Discovery (rare: at ownership, and again whenever the consumer may have
 * changed its interrupt mode) lists sys/bus/pci/devices/BDF/msi_irqs/ (MSI and
 * MSI-X, present only while enabled) and adds the INTx line from `irq` when it
 * is non-zero and not one of the MSI vectors. For every vector it keeps an fd
 * open on sys/kernel/irq/<N>/per_cpu_count and the per-CPU values last seen.
 *
 * Sampling (often) costs one pread() and one fstat() per owned vector: no
 * path lookup, no directory scan, nothing that grows with the host's number of
 * IRQs or devices. Per CPU the kernel's counter is an unsigned int:
 *   - a value below the last one is a 32-bit wrap: 2^32 - last + value;
 *     except that a "wrap" of more than IRQMON_MAX_WRAP_STEP counts (no CPU
 *     takes 2^31 interrupts between two samples) is a reset, not a wrap: the
 *     CPU is re-baselined with no count and re-discovery is flagged;
 *   - per_cpu_count holds one value per possible CPU, by position: a CPU that
 *     appears starts from its value as a baseline, one that vanishes is
 *     dropped (and starts from a fresh baseline if it comes back);
 *   - a vector whose file fails to read, was removed, or holds junk (the IRQ
 *     was freed, maybe reused under the same number) is dropped from the device
 *     and irqmon_rediscover_needed() turns true; what it counted stays in the
 *     total, so the total never goes down, and a re-discovered vector starts
 *     from a fresh baseline.
 * The device's total is a monotonically increasing 64-bit count.
 *
 * Fallback: on kernels without sys/kernel/irq (older ones, or without
 * CONFIG_SPARSE_IRQ), or a vector without per_cpu_count, counts come from
 * /proc/interrupts. That file costs O(host IRQs x online CPUs) to generate
 * and parse (megabytes on a large host, and the kernel walks every IRQ
 * descriptor), so irqmon_sample_all() reads it once per sample for all
 * devices together; calling irqmon_sample() per device reads it once per
 * device. /proc/interrupts names its CPUs in the header ("CPU0 CPU3 ...",
 * online ones only): CPUs are tracked by number there, with the same wrap and
 * hotplug rules; a vector whose line vanished is dropped as above. IRQ reuse
 * cannot be seen there except through the reset rule.
 *
 * Limits: each per_cpu_count vector holds an fd (raise RLIMIT_NOFILE for many
 * VFs with many MSI-X vectors). An INTx line may be shared with other devices:
 * its count is the line's, not the device's.
 *
 * Parsers are pure and take buffers; tests and fuzzers feed them from memory.
 */
#ifndef VFIOD_IRQMON_H
#define VFIOD_IRQMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "hostfs.h"
#include "parse.h"

/* A decrease implying more counts than this since the last sample is a reset. */
#define IRQMON_MAX_WRAP_STEP (UINT64_C(1) << 31)

/* Highest CPU number accepted from the host (the kernel's NR_CPUS is 8192). */
#define IRQMON_MAX_CPUS 65536

/* What irqmon_parse_proc_interrupts() reports for a vector it did not find. */
#define IRQMON_COUNT_MISSING UINT64_MAX

struct irqmon_vec {
	unsigned irq;
	int fd;              /* per_cpu_count; -1: counted from /proc/interrupts */
	dev_t st_dev;        /* identity of the file behind fd */
	ino_t st_ino;
	uint64_t *last;      /* raw count per CPU number, valid where seen[] */
	bool *seen;
	size_t ncpu;         /* size of last[] and seen[] */
};

/*
 * One device's sampler state. Zero-initialise it before the first
 * irqmon_discover(); the hostfs must outlive it. Not shared between threads.
 */
struct irqmon_dev {
	char bdf[VF_BDF_LEN];
	const struct hostfs *h;
	struct irqmon_vec *vecs;   /* sorted by irq, MSI first then INTx */
	size_t n;
	uint64_t total;            /* monotonic, kept across re-discovery */
	bool rediscover;
	char why[256];             /* why re-discovery was flagged, "" if not */
	/* scratch, reused by every sample */
	char *buf;
	size_t bufcap;
	uint64_t *vals;
	size_t valcap;
};

/*
 * Maps the device `bdf` (canonical form) to its vectors and opens them with a
 * fresh baseline. On a device already discovered (same BDF) it refreshes:
 * vectors still there (same IRQ, same file) keep their state, new ones start
 * from a fresh baseline, gone ones are closed; the total carries on and the
 * re-discovery flag is cleared. A vector whose sys/kernel/irq/<N> does not
 * exist (not allocated) is skipped. On failure the previous state is intact.
 */
int irqmon_discover(struct irqmon_dev *d, const struct hostfs *h, const char *bdf,
		    struct vf_err *e);

/*
 * Reads every vector of `d` and stores the device's total in *total (always,
 * even on failure). Dropped vectors are not failures (see
 * irqmon_rediscover_needed()); a failure is an unreadable or malformed
 * /proc/interrupts in fallback mode.
 */
int irqmon_sample(struct irqmon_dev *d, uint64_t *total, struct vf_err *e);

/*
 * Samples `n` devices (discovered on one hostfs), reading /proc/interrupts
 * at most once for all of them. totals[i] is always set. Returns 0 or <0 (the other devices are still
 * sampled).
 */
int irqmon_sample_all(struct irqmon_dev *const *devs, size_t n, uint64_t *totals,
		      struct vf_err *e);

/* A vector vanished, failed or reset since the last discovery. */
bool irqmon_rediscover_needed(const struct irqmon_dev *d);

/* Why, in words ("" when not needed). */
const char *irqmon_rediscover_reason(const struct irqmon_dev *d);

/*
 * Copies up to `cap` vector numbers into `out` (may be NULL when cap is 0)
 * and returns how many it copied: never more than `cap`, so `out[0..ret)`
 * is what a caller may read. `total` (may be NULL) gets how many the device
 * has (d->n): a device may have thousands of MSI-X vectors, so a caller
 * that must see them all sizes its array from `total` (or d->n).
 */
size_t irqmon_vectors(const struct irqmon_dev *d, unsigned *out, size_t cap, size_t *total);

/* True when some vector of `d` is counted from /proc/interrupts. */
bool irqmon_uses_proc_interrupts(const struct irqmon_dev *d);

/* Closes the fds, frees everything and zeroes `d`. */
void irqmon_close(struct irqmon_dev *d);

/*
 * How much a per-CPU counter advanced from `last` to `now`: now - last, a
 * 32-bit wrap (2^32 - last + now) when now < last, or 0 with *reset set when
 * the decrease cannot be one wrap (more than IRQMON_MAX_WRAP_STEP, or a
 * counter above 32 bits going down).
 */
uint64_t irqmon_counter_delta(uint64_t last, uint64_t now, bool *reset);

/*
 * Parses the content of a per_cpu_count file, `len` bytes ("c0,c1,...\n":
 * decimal counts separated by commas, one optional trailing newline, nothing
 * else) into vals[0..]. Returns the number of CPUs (>= 1) or <0: junk, an
 * empty field, an empty file, or more than `cap` values.
 */
int irqmon_parse_per_cpu_count(const char *buf, size_t len, uint64_t *vals, size_t cap,
			       struct vf_err *e);

/*
 * Parses /proc/interrupts text (NUL-terminated) and stores in counts_out[i]
 * the sum over the listed CPUs of vector vectors[i], or IRQMON_COUNT_MISSING
 * when its line is absent. Lines of other vectors and named lines (NMI, LOC,
 * ERR...) are skipped; the header and the lines of the requested vectors are
 * checked strictly. Returns how many requested vectors were found, or <0.
 */
int irqmon_parse_proc_interrupts(const char *buf, const unsigned *vectors, size_t n,
				 uint64_t *counts_out, struct vf_err *e);

/*
 * True when `comm` is the name of the kernel thread of IRQ `vector`:
 * "irq/<N>-<action>" (or "irq/<N>-s-<action>" for a secondary thread),
 * usually truncated to 15 characters by the kernel ("irq/42-vfio-msi").
 * The number is matched exactly: never truncated, since "irq/" plus ten
 * digits plus "-" fits in 15. Any process may name itself so: the caller also
 * checks that the task is a kernel thread. A shared INTx line has one thread
 * per handler, other devices' included.
 */
bool irqmon_is_irq_thread(const char *comm, unsigned vector);

#endif
