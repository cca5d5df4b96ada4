// SPDX-License-Identifier: GPL-2.0-or-later
/* The interrupt sampler: see irqmon.h. */
#include "irqmon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* sysfs output stops at a page; a read that long without its "\n" was cut. */
#define SYSFS_PAGE 4096
/* Bounds on what is read: per_cpu_count is one page, /proc/interrupts large. */
#define PCC_MAX (1u << 20)
#define PROC_MAX ((size_t)64 << 20)

/* ---- pure helpers ---- */

uint64_t irqmon_counter_delta(uint64_t last, uint64_t now, bool *reset)
{
	uint64_t d;

	if (now >= last)
		return now - last;
	if (last <= UINT32_MAX) {
		d = (UINT64_C(1) << 32) - last + now;
		if (d <= IRQMON_MAX_WRAP_STEP)
			return d;
	}
	if (reset)
		*reset = true;
	return 0;
}

/* Parses the `len` bytes at `tok` as a decimal number up to `max`. */
static int parse_dec(const char *tok, size_t len, uint64_t max, uint64_t *out)
{
	char tmp[24];

	if (len == 0 || memchr(tok, '\0', len))
		return -EINVAL;
	if (len >= sizeof(tmp)) {
		for (size_t i = 0; i < len; i++)
			if (tok[i] < '0' || tok[i] > '9')
				return -EINVAL;
		return -ERANGE;
	}
	memcpy(tmp, tok, len);
	tmp[len] = '\0';
	return vf_parse_u64(tmp, 10, max, out);
}

/* A short printable copy of untrusted bytes, for messages. */
static void printable(char *out, size_t cap, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 4 < cap; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (o + 4 >= cap && len > o) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

int irqmon_parse_per_cpu_count(const char *buf, size_t len, uint64_t *vals, size_t cap,
			       struct vf_err *e)
{
	size_t n = 0, start = 0;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len == 0)
		return vf_err_set(e, EINVAL, "per_cpu_count: empty");
	for (size_t i = 0; i <= len; i++) {
		char safe[40];
		int r;

		if (i < len && buf[i] != ',')
			continue;
		if (n == cap)
			return vf_err_set(e, E2BIG, "per_cpu_count: more than %zu CPUs", cap);
		r = parse_dec(buf + start, i - start, UINT64_MAX, &vals[n]);
		if (r < 0) {
			printable(safe, sizeof(safe), buf + start, i - start);
			return vf_err_set(e, -r, "per_cpu_count: CPU %zu: \"%s\" is not a count",
					  n, safe);
		}
		n++;
		start = i + 1;
	}
	if (n > INT_MAX)
		return vf_err_set(e, E2BIG, "per_cpu_count: too many CPUs");
	return (int)n;
}

bool irqmon_is_irq_thread(const char *comm, unsigned vector)
{
	char want[24];
	int n = snprintf(want, sizeof(want), "irq/%u-", vector);

	return comm && n > 0 && strncmp(comm, want, (size_t)n) == 0;
}

/* ---- /proc/interrupts ---- */

struct vref {
	unsigned vec;
	size_t idx;
};

/* The requested vectors' per-CPU counts, as /proc/interrupts lists them. */
struct proc_table {
	unsigned *cpus;   /* CPU number of each column, increasing */
	size_t ncols;
	uint64_t *rows;   /* n x ncols */
	bool *found;      /* n */
	/* dense by CPU number, for updating state */
	uint64_t *dense;
	bool *present;
	size_t ndense;
};

static void proc_table_free(struct proc_table *t)
{
	free(t->cpus);
	free(t->rows);
	free(t->found);
	free(t->dense);
	free(t->present);
	memset(t, 0, sizeof(*t));
}

static bool next_token(const char *line, size_t len, size_t *pos, const char **tok,
		       size_t *toklen)
{
	size_t i = *pos, s;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len) {
		*pos = i;
		return false;
	}
	s = i;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	*tok = line + s;
	*toklen = i - s;
	*pos = i;
	return true;
}

static int parse_header(const char *line, size_t len, struct proc_table *t,
			struct vf_err *e)
{
	size_t pos = 0, tl;
	const char *tok;

	while (next_token(line, len, &pos, &tok, &tl)) {
		char safe[40];
		uint64_t cpu;

		if (tl < 4 || memcmp(tok, "CPU", 3) != 0 ||
		    parse_dec(tok + 3, tl - 3, IRQMON_MAX_CPUS - 1, &cpu) < 0) {
			printable(safe, sizeof(safe), tok, tl);
			return vf_err_set(e, EINVAL, "header: \"%s\" is not a CPU column", safe);
		}
		if (t->ncols && cpu <= t->cpus[t->ncols - 1])
			return vf_err_set(e, EINVAL, "header: CPU%u after CPU%u",
					  (unsigned)cpu, t->cpus[t->ncols - 1]);
		t->cpus = vf_xreallocarray(t->cpus, t->ncols + 1, sizeof(*t->cpus));
		t->cpus[t->ncols++] = (unsigned)cpu;
	}
	if (!t->ncols)
		return vf_err_set(e, EINVAL, "header: no CPU column");
	return 0;
}

static int cmp_vref(const void *a, const void *b)
{
	const struct vref *x = a, *y = b;

	if (x->vec != y->vec)
		return x->vec < y->vec ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* First entry of the sorted `refs` for `vec`, or n. */
static size_t vref_find(const struct vref *refs, size_t n, unsigned vec)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (refs[mid].vec < vec)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && refs[lo].vec == vec ? lo : n;
}

/* One line "  42:  1  2  chip hwirq  name": the counts if 42 is wanted. */
static int parse_line(const char *line, size_t len, const struct vref *refs, size_t n,
		      struct proc_table *t, struct vf_err *e)
{
	size_t pos = 0, tl, first, dst;
	const char *tok;
	uint64_t vec;

	if (!next_token(line, len, &pos, &tok, &tl) || tl < 2 || tok[tl - 1] != ':')
		return 0; /* not an IRQ line; nothing vfiod asks for */
	if (parse_dec(tok, tl - 1, UINT_MAX, &vec) < 0)
		return 0; /* a named line: NMI, LOC, ERR, MIS... */
	first = vref_find(refs, n, (unsigned)vec);
	if (first == n)
		return 0;
	dst = refs[first].idx;
	if (t->found[dst])
		return vf_err_set(e, EINVAL, "IRQ %u listed twice", (unsigned)vec);
	for (size_t c = 0; c < t->ncols; c++) {
		uint64_t *cell = &t->rows[dst * t->ncols + c];
		char safe[40];
		int r;

		if (!next_token(line, len, &pos, &tok, &tl))
			return vf_err_set(e, EINVAL, "IRQ %u: %zu counts for %zu CPUs",
					  (unsigned)vec, c, t->ncols);
		r = parse_dec(tok, tl, UINT64_MAX, cell);
		if (r < 0) {
			printable(safe, sizeof(safe), tok, tl);
			return vf_err_set(e, -r, "IRQ %u: CPU%u: \"%s\" is not a count",
					  (unsigned)vec, t->cpus[c], safe);
		}
	}
	/* every request for this vector (a shared INTx line) gets the row */
	for (size_t k = first; k < n && refs[k].vec == (unsigned)vec; k++) {
		size_t idx = refs[k].idx;

		if (idx != dst)
			memcpy(&t->rows[idx * t->ncols], &t->rows[dst * t->ncols],
			       t->ncols * sizeof(*t->rows));
		t->found[idx] = true;
	}
	return 0;
}

static int proc_table_parse(const char *buf, const unsigned *vectors, size_t n,
			    struct proc_table *t, struct vf_err *e)
{
	_cleanup_free_ struct vref *refs = NULL;
	const char *p = buf, *nl;
	size_t len;

	memset(t, 0, sizeof(*t));
	nl = strchr(p, '\n');
	len = nl ? (size_t)(nl - p) : strlen(p);
	if (parse_header(p, len, t, e) < 0)
		goto fail;
	t->rows = vf_xcalloc(n ? n * t->ncols : 1, sizeof(*t->rows));
	t->found = vf_xcalloc(n ? n : 1, sizeof(*t->found));
	refs = vf_xcalloc(n ? n : 1, sizeof(*refs));
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct vref){ .vec = vectors[i], .idx = i };
	if (n)
		qsort(refs, n, sizeof(*refs), cmp_vref);
	while (nl) {
		p = nl + 1;
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (parse_line(p, len, refs, n, t, e) < 0)
			goto fail;
	}
	return 0;
fail:
	proc_table_free(t);
	return -1;
}

int irqmon_parse_proc_interrupts(const char *buf, const unsigned *vectors, size_t n,
				 uint64_t *counts_out, struct vf_err *e)
{
	struct proc_table t;
	int found = 0;

	if (!buf)
		return vf_err_set(e, EINVAL, "proc/interrupts: no text");
	if (proc_table_parse(buf, vectors, n, &t, e) < 0)
		return vf_err_wrap(e, "proc/interrupts");
	for (size_t i = 0; i < n; i++) {
		uint64_t sum = 0;

		if (!t.found[i]) {
			counts_out[i] = IRQMON_COUNT_MISSING;
			continue;
		}
		for (size_t c = 0; c < t.ncols; c++) {
			uint64_t v = t.rows[i * t.ncols + c];

			/* saturate below the "missing" marker */
			sum = v >= IRQMON_COUNT_MISSING - 1 - sum ? IRQMON_COUNT_MISSING - 1
								  : sum + v;
		}
		counts_out[i] = sum;
		if (found < INT_MAX)
			found++;
	}
	proc_table_free(&t);
	return found;
}

/* Reads /proc/interrupts for `vectors`, with the dense per-CPU arrays ready. */
static int proc_table_read(const struct hostfs *h, const unsigned *vectors, size_t n,
			   struct proc_table *t, struct vf_err *e)
{
	_cleanup_free_ char *buf = NULL;

	if (hostfs_read_all(h, "proc/interrupts", PROC_MAX, &buf, NULL, e) < 0)
		return -1;
	if (proc_table_parse(buf, vectors, n, t, e) < 0)
		return vf_err_wrap(e, "proc/interrupts");
	t->ndense = (size_t)t->cpus[t->ncols - 1] + 1;
	t->dense = vf_xcalloc(t->ndense, sizeof(*t->dense));
	t->present = vf_xcalloc(t->ndense, sizeof(*t->present));
	for (size_t c = 0; c < t->ncols; c++)
		t->present[t->cpus[c]] = true;
	return 0;
}

/* ---- per-vector state ---- */

static void vec_free(struct irqmon_vec *v)
{
	if (v->fd >= 0)
		close(v->fd);
	free(v->last);
	free(v->seen);
	memset(v, 0, sizeof(*v));
	v->fd = -1;
}

/*
 * Folds a reading into the state: vals[c] for CPU c < nvals, where present[c]
 * (NULL: all). CPUs seen before count their delta; new ones set a baseline;
 * absent ones are forgotten. Returns the sum of the deltas.
 */
static uint64_t vec_update(struct irqmon_vec *v, const uint64_t *vals, const bool *present,
			   size_t nvals, bool *reset)
{
	uint64_t sum = 0;

	if (nvals > v->ncpu) {
		v->last = vf_xreallocarray(v->last, nvals, sizeof(*v->last));
		v->seen = vf_xreallocarray(v->seen, nvals, sizeof(*v->seen));
		memset(v->seen + v->ncpu, 0, (nvals - v->ncpu) * sizeof(*v->seen));
		v->ncpu = nvals;
	}
	for (size_t c = 0; c < v->ncpu; c++) {
		if (c >= nvals || (present && !present[c])) {
			v->seen[c] = false;
			continue;
		}
		if (v->seen[c])
			sum += irqmon_counter_delta(v->last[c], vals[c], reset);
		v->seen[c] = true;
		v->last[c] = vals[c];
	}
	return sum;
}

static void flag(struct irqmon_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void flag(struct irqmon_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (d->rediscover)
		return; /* keep the first reason */
	d->rediscover = true;
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
}

/* Drops vector i; what it counted stays in the total. */
static void vec_drop(struct irqmon_dev *d, size_t i, const char *why)
{
	flag(d, "IRQ %u dropped: %s", d->vecs[i].irq, why);
	vec_free(&d->vecs[i]);
	memmove(&d->vecs[i], &d->vecs[i + 1], (d->n - i - 1) * sizeof(*d->vecs));
	d->n--;
}

/*
 * Reads v's per_cpu_count into d->vals: one pread, one fstat. Returns the
 * number of CPUs, or -1 with `why` filled (the file failed, was removed, or
 * holds junk).
 */
static int read_pcc(struct irqmon_dev *d, const struct irqmon_vec *v, char *why,
		    size_t whycap)
{
	struct vf_err pe = { 0 };
	size_t len, fields = 1;
	struct stat st;
	ssize_t r;
	int n;

	for (;;) {
		if (!d->buf) {
			d->bufcap = SYSFS_PAGE;
			d->buf = vf_xcalloc(1, d->bufcap);
		}
		r = pread(v->fd, d->buf, d->bufcap, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, whycap, "per_cpu_count: %s", strerror(errno));
			return -1;
		}
		if ((size_t)r < d->bufcap)
			break;
		if (d->bufcap >= PCC_MAX) {
			snprintf(why, whycap, "per_cpu_count: larger than %u bytes", PCC_MAX);
			return -1;
		}
		d->bufcap *= 2;
		d->buf = vf_xreallocarray(d->buf, d->bufcap, 1);
	}
	if (fstat(v->fd, &st) < 0) {
		snprintf(why, whycap, "per_cpu_count: %s", strerror(errno));
		return -1;
	}
	if (st.st_nlink == 0) {
		snprintf(why, whycap, "per_cpu_count was removed");
		return -1;
	}
	len = (size_t)r;
	/*
	 * Cut at a page by the kernel (no "\n" at the end of a page-long read):
	 * the last number may be partial, or absent after a final ','. Only the
	 * numbers before the last ',' are whole; CPUs past them go uncounted.
	 */
	if (len >= SYSFS_PAGE - 1 && d->buf[len - 1] != '\n') {
		char *comma = memrchr(d->buf, ',', len);

		if (comma)
			len = (size_t)(comma - d->buf);
	}
	for (size_t i = 0; i < len; i++)
		fields += d->buf[i] == ',';
	if (fields > IRQMON_MAX_CPUS)
		fields = IRQMON_MAX_CPUS; /* the parser reports the excess */
	if (fields > d->valcap) {
		d->vals = vf_xreallocarray(d->vals, fields, sizeof(*d->vals));
		d->valcap = fields;
	}
	n = irqmon_parse_per_cpu_count(d->buf, len, d->vals, fields, &pe);
	if (n < 0) {
		snprintf(why, whycap, "%s", pe.msg);
		return -1;
	}
	return n;
}

/* ---- discovery ---- */

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static int read_intx(int devfd, const char *bdf, unsigned *irq, struct vf_err *e)
{
	struct vf_err ae = { 0 };
	char buf[64], safe[40];
	uint64_t v;
	int r;

	*irq = 0;
	r = hostfs_attr_at(devfd, "irq", buf, sizeof(buf), &ae);
	if (r < 0) {
		if (ae.errnum == ENOENT)
			return 0;
		*e = ae;
		return vf_err_wrap(e, "%s", bdf);
	}
	r = vf_parse_u64(buf, 10, UINT_MAX, &v);
	if (r < 0) {
		printable(safe, sizeof(safe), buf, strlen(buf));
		return vf_err_set(e, -r, "%s: irq: \"%s\" is not an IRQ number", bdf, safe);
	}
	*irq = (unsigned)v;
	return 0;
}

static int read_msi(int devfd, const char *bdf, unsigned **out, size_t *n,
		    struct vf_err *e)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct vf_err de = { 0 };
	struct dirent *ent;

	*out = NULL;
	*n = 0;
	dir = hostfs_opendir_at(devfd, "msi_irqs", &de);
	if (!dir) {
		if (de.errnum == ENOENT)
			return 0;
		*e = de;
		return vf_err_wrap(e, "%s", bdf);
	}
	for (;;) {
		char safe[40];
		uint64_t v;

		errno = 0;
		ent = readdir(dir);
		if (!ent)
			break;
		if (ent->d_name[0] == '.')
			continue;
		if (vf_parse_u64(ent->d_name, 10, UINT_MAX, &v) < 0) {
			printable(safe, sizeof(safe), ent->d_name, strlen(ent->d_name));
			free(*out);
			*out = NULL;
			*n = 0;
			return vf_err_set(e, EINVAL, "%s: msi_irqs: \"%s\" is not a vector",
					  bdf, safe);
		}
		*out = vf_xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (unsigned)v;
	}
	if (errno) {
		int err = errno;

		free(*out);
		*out = NULL;
		*n = 0;
		return vf_err_set(e, err, "%s: msi_irqs", bdf);
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_unsigned);
	return 0;
}

enum { VEC_SKIP, VEC_PCC, VEC_PROC };

/* Opens sys/kernel/irq/<irq>/per_cpu_count; says which way to count it. */
static int open_vector(const struct hostfs *h, bool irq_root, unsigned irq, int *fd,
		       struct vf_err *e)
{
	char path[64];

	*fd = -1;
	if (!irq_root)
		return VEC_PROC;
	if (vf_path(path, sizeof(path), "sys/kernel/irq/%u/per_cpu_count", irq) < 0)
		return vf_err_set(e, ENAMETOOLONG, "IRQ %u", irq);
	*fd = hostfs_open(h, path, O_RDONLY, e);
	if (*fd >= 0)
		return VEC_PCC;
	if (e->errnum != ENOENT)
		return -1;
	vf_path(path, sizeof(path), "sys/kernel/irq/%u", irq);
	/* no descriptor: nothing allocated, nothing to count */
	return hostfs_exists(h, path) ? VEC_PROC : VEC_SKIP;
}

static bool same_file(int oldfd, const struct stat *now)
{
	struct stat st;

	return fstat(oldfd, &st) == 0 && st.st_nlink > 0 && st.st_dev == now->st_dev &&
	       st.st_ino == now->st_ino;
}

static struct irqmon_vec *find_old(struct irqmon_dev *d, unsigned irq, size_t *idx)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->vecs[i].irq == irq) {
			*idx = i;
			return &d->vecs[i];
		}
	return NULL;
}

int irqmon_discover(struct irqmon_dev *d, const struct hostfs *h, const char *bdf,
		    struct vf_err *e)
{
	_cleanup_free_ unsigned *irqs = NULL;
	_cleanup_free_ struct irqmon_vec *nv = NULL;
	_cleanup_free_ size_t *keep = NULL;
	_cleanup_close_ int devfd = -1;
	size_t nirqs = 0, nn = 0, nproc = 0;
	char path[128], why[VF_ERR_MSG_MAX];
	unsigned intx;
	bool irq_root, dummy = false;

	if (!bdf || !vf_is_canonical_bdf(bdf))
		return vf_err_set(e, EINVAL, "interrupts: not a canonical PCI address");
	if (d->h && (d->h != h || strcmp(d->bdf, bdf) != 0))
		irqmon_close(d); /* another device: start over */
	if (vf_path(path, sizeof(path), "sys/bus/pci/devices/%s", bdf) < 0)
		return vf_err_set(e, ENAMETOOLONG, "%s", bdf);
	devfd = hostfs_open(h, path, O_RDONLY | O_DIRECTORY, e);
	if (devfd < 0)
		return vf_err_wrap(e, "interrupts of %s", bdf);
	if (read_msi(devfd, bdf, &irqs, &nirqs, e) < 0 || read_intx(devfd, bdf, &intx, e) < 0)
		return vf_err_wrap(e, "interrupts");
	if (intx && !(nirqs && bsearch(&intx, irqs, nirqs, sizeof(*irqs), cmp_unsigned))) {
		irqs = vf_xreallocarray(irqs, nirqs + 1, sizeof(*irqs));
		irqs[nirqs++] = intx;
	}

	irq_root = hostfs_exists(h, "sys/kernel/irq");
	nv = vf_xcalloc(nirqs ? nirqs : 1, sizeof(*nv));
	keep = vf_xcalloc(nirqs ? nirqs : 1, sizeof(*keep));
	for (size_t i = 0; i < nirqs; i++) {
		struct irqmon_vec *v = &nv[nn], *old;
		size_t oi = SIZE_MAX;
		struct stat st;
		int fd, kind, n;

		if (i && irqs[i] == irqs[i - 1])
			continue;
		old = find_old(d, irqs[i], &oi);
		kind = open_vector(h, irq_root, irqs[i], &fd, e);
		if (kind < 0) {
			vf_err_wrap(e, "interrupts of %s", bdf);
			goto fail;
		}
		if (kind == VEC_SKIP)
			continue;
		v->irq = irqs[i];
		v->fd = -1;
		keep[nn] = SIZE_MAX;
		if (kind == VEC_PROC) {
			if (old && old->fd < 0)
				keep[nn] = oi;
			else
				nproc++;
			nn++;
			continue;
		}
		if (fstat(fd, &st) < 0) {
			vf_err_set(e, errno, "interrupts of %s: IRQ %u", bdf, irqs[i]);
			close(fd);
			goto fail;
		}
		if (old && old->fd >= 0 && same_file(old->fd, &st)) {
			close(fd); /* the same file: keep counting on the old fd */
			keep[nn++] = oi;
			continue;
		}
		v->fd = fd;
		v->st_dev = st.st_dev;
		v->st_ino = st.st_ino;
		nn++;
		n = read_pcc(d, v, why, sizeof(why));
		if (n < 0) {
			vf_err_set(e, 0, "interrupts of %s: IRQ %u: %s", bdf, irqs[i], why);
			goto fail;
		}
		vec_update(v, d->vals, NULL, (size_t)n, &dummy); /* the baseline */
	}

	if (nproc) {
		_cleanup_free_ unsigned *want = vf_xcalloc(nproc, sizeof(*want));
		struct proc_table t;
		size_t k = 0, w = 0;

		for (size_t i = 0; i < nn; i++)
			if (nv[i].fd < 0 && keep[i] == SIZE_MAX)
				want[k++] = nv[i].irq;
		if (proc_table_read(h, want, nproc, &t, e) < 0) {
			vf_err_wrap(e, "interrupts of %s", bdf);
			goto fail;
		}
		k = 0;
		for (size_t i = 0; i < nn; i++) {
			if (nv[i].fd < 0 && keep[i] == SIZE_MAX) {
				size_t row = k++;

				if (!t.found[row]) {
					vec_free(&nv[i]); /* not listed: not in use */
					continue;
				}
				for (size_t c = 0; c < t.ncols; c++)
					t.dense[t.cpus[c]] = t.rows[row * t.ncols + c];
				vec_update(&nv[i], t.dense, t.present, t.ndense, &dummy);
			}
			nv[w] = nv[i];
			keep[w++] = keep[i];
		}
		nn = w;
		proc_table_free(&t);
	}

	/* commit: carry kept vectors over, close the rest */
	for (size_t i = 0; i < nn; i++) {
		if (keep[i] == SIZE_MAX)
			continue;
		nv[i] = d->vecs[keep[i]];
		d->vecs[keep[i]].fd = -1;
		d->vecs[keep[i]].last = NULL;
		d->vecs[keep[i]].seen = NULL;
	}
	for (size_t i = 0; i < d->n; i++)
		vec_free(&d->vecs[i]);
	free(d->vecs);
	d->vecs = nv;
	nv = NULL;
	d->n = nn;
	d->h = h;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->rediscover = false;
	d->why[0] = '\0';
	return 0;

fail:
	for (size_t i = 0; i < nn; i++)
		if (keep[i] == SIZE_MAX)
			vec_free(&nv[i]);
	return -1;
}

/* ---- sampling ---- */

int irqmon_sample_all(struct irqmon_dev *const *devs, size_t n, uint64_t *totals,
		      struct vf_err *e)
{
	_cleanup_free_ unsigned *want = NULL;
	const struct hostfs *h = NULL;
	char why[VF_ERR_MSG_MAX];
	size_t nproc = 0;
	int ret = 0;

	/* per_cpu_count: one pread and one fstat per vector */
	for (size_t di = 0; di < n; di++) {
		struct irqmon_dev *d = devs[di];

		for (size_t i = 0; i < d->n;) {
			struct irqmon_vec *v = &d->vecs[i];
			bool reset = false;
			int cpus;

			if (v->fd < 0) {
				nproc++;
				h = d->h;
				i++;
				continue;
			}
			cpus = read_pcc(d, v, why, sizeof(why));
			if (cpus < 0) {
				vec_drop(d, i, why);
				continue;
			}
			d->total += vec_update(v, d->vals, NULL, (size_t)cpus, &reset);
			if (reset)
				flag(d, "IRQ %u: a count went back", v->irq);
			i++;
		}
	}

	/* fallback: one /proc/interrupts for every device */
	if (nproc) {
		struct proc_table t;
		size_t k = 0;

		want = vf_xcalloc(nproc, sizeof(*want));
		for (size_t di = 0; di < n; di++)
			for (size_t i = 0; i < devs[di]->n; i++)
				if (devs[di]->vecs[i].fd < 0)
					want[k++] = devs[di]->vecs[i].irq;
		if (proc_table_read(h, want, nproc, &t, e) < 0) {
			ret = -1;
		} else {
			k = 0;
			for (size_t di = 0; di < n; di++) {
				struct irqmon_dev *d = devs[di];

				for (size_t i = 0; i < d->n;) {
					struct irqmon_vec *v = &d->vecs[i];
					bool reset = false;
					size_t row;

					if (v->fd >= 0) {
						i++;
						continue;
					}
					row = k++;
					if (!t.found[row]) {
						vec_drop(d, i, "no longer in /proc/interrupts");
						continue;
					}
					for (size_t c = 0; c < t.ncols; c++)
						t.dense[t.cpus[c]] = t.rows[row * t.ncols + c];
					d->total += vec_update(v, t.dense, t.present, t.ndense,
							       &reset);
					if (reset)
						flag(d, "IRQ %u: a count went back", v->irq);
					i++;
				}
			}
			proc_table_free(&t);
		}
	}

	for (size_t di = 0; di < n; di++)
		totals[di] = devs[di]->total;
	return ret;
}

int irqmon_sample(struct irqmon_dev *d, uint64_t *total, struct vf_err *e)
{
	return irqmon_sample_all(&d, 1, total, e);
}

/* ---- accessors ---- */

bool irqmon_rediscover_needed(const struct irqmon_dev *d)
{
	return d->rediscover;
}

const char *irqmon_rediscover_reason(const struct irqmon_dev *d)
{
	return d->rediscover ? d->why : "";
}

size_t irqmon_vectors(const struct irqmon_dev *d, unsigned *out, size_t cap, size_t *total)
{
	size_t i;

	for (i = 0; i < d->n && i < cap; i++)
		out[i] = d->vecs[i].irq;
	if (total)
		*total = d->n;
	return i;
}

bool irqmon_uses_proc_interrupts(const struct irqmon_dev *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->vecs[i].fd < 0)
			return true;
	return false;
}

void irqmon_close(struct irqmon_dev *d)
{
	for (size_t i = 0; i < d->n; i++)
		vec_free(&d->vecs[i]);
	free(d->vecs);
	free(d->buf);
	free(d->vals);
	memset(d, 0, sizeof(*d));
}
