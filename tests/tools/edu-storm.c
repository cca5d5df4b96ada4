// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * edu-storm: a small VMM-like owner of QEMU's edu device (1234:11e8) that
 * storms it with MSI interrupts through VFIO, for vfiod's storm-containment
 * tests. It does what a VMM does: opens the container and the group, sets
 * up type1, takes the device fd, enables Memory Space and Bus Master through
 * the config region, mmaps BAR0 and routes MSI vector 0 to an eventfd.
 *
 *   edu-storm BDF [--rate N] [--seconds S] [--ack-only]
 *
 * Loop: write 1 to edu's raise-interrupt register (0x60), drain the eventfd
 * (non-blocking read), write the interrupt status (0x24) back to the
 * acknowledge register (0x64). --rate N paces to about N interrupts/s
 * (0 or absent: as fast as possible). --ack-only raises nothing: it holds
 * the device, waits on the eventfd and acknowledges whatever arrives (a
 * quiet VMM). Stops after --seconds S (default 10; 0 = until signalled) or
 * on SIGTERM/SIGINT.
 *
 * Prints once a second on stdout "edu-storm: R raised, D delivered in the
 * last second" and a summary at the end. Exits 0, or 1 with a one-line
 * reason on stderr naming the setup step that failed and errno.
 *
 * edu's registers (QEMU docs/specs/edu.txt) take 4-byte accesses only.
 * Self-contained on purpose: it links nothing of vfiod.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#define EDU_IDENT      0x00
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE  0x60
#define EDU_IRQ_ACK    0x64

#define PCI_COMMAND_OFF 0x04
#define CMD_MEMORY      0x0002
#define CMD_MASTER      0x0004

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *step, int err)
{
	fprintf(stderr, "edu-storm: %s: %s (errno %d)\n", step, strerror(err), err);
	exit(1);
}

static void fail(const char *what, const char *arg)
{
	fprintf(stderr, "edu-storm: bad %s: %s\n", what, arg);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: edu-storm BDF [--rate N] [--seconds S] [--ack-only]\n");
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	/* EINTR on a signal: the caller sees stop and leaves */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static unsigned long parse_num(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		fail(what, s);
	return v;
}

static volatile uint32_t *bar0;

static inline uint32_t rd(unsigned off)
{
	return bar0[off / 4];
}

static inline void wr(unsigned off, uint32_t v)
{
	bar0[off / 4] = v;
}

/* reads whatever the eventfd has counted (0 when empty) */
static uint64_t drain(int efd)
{
	uint64_t n;

	if (read(efd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		return n;
	return 0;
}

static int group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("read iommu_group link", errno);
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	return (int)parse_num(base, "iommu group number");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "ack-only", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long rate = 0, seconds = 10;
	bool ack_only = false;
	const char *bdf;
	int c;

	while ((c = getopt_long(argc, argv, "r:s:ah", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rate = parse_num(optarg, "--rate"); break;
		case 's': seconds = parse_num(optarg, "--seconds"); break;
		case 'a': ack_only = true; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	bdf = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: sleeps and polls end */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* --- container and group */
	int group = group_of(bdf);
	int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		die("open /dev/vfio/vfio", errno);
	int v = ioctl(container, VFIO_GET_API_VERSION);
	if (v != VFIO_API_VERSION) {
		fprintf(stderr, "edu-storm: VFIO_GET_API_VERSION: got %d, want %d\n", v,
			VFIO_API_VERSION);
		return 1;
	}
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) <= 0)
		die("VFIO_CHECK_EXTENSION VFIO_TYPE1_IOMMU", errno ? errno : ENOTSUP);

	char gpath[64];
	snprintf(gpath, sizeof(gpath), "/dev/vfio/%d", group);
	int gfd = open(gpath, O_RDWR | O_CLOEXEC);
	if (gfd < 0)
		die("open /dev/vfio/<group>", errno);
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &gs))
		die("VFIO_GROUP_GET_STATUS", errno);
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "edu-storm: VFIO_GROUP_GET_STATUS: group %d not viable "
			"(a device in it is bound to a host driver)\n", group);
		return 1;
	}
	if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &container))
		die("VFIO_GROUP_SET_CONTAINER", errno);
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		die("VFIO_SET_IOMMU type1", errno);

	/* --- device */
	int dev = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD", errno);
	struct vfio_device_info di = { .argsz = sizeof(di) };
	if (ioctl(dev, VFIO_DEVICE_GET_INFO, &di))
		die("VFIO_DEVICE_GET_INFO", errno);
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX ||
	    di.num_irqs <= VFIO_PCI_MSI_IRQ_INDEX)
		die("VFIO_DEVICE_GET_INFO: not a vfio-pci device", ENODEV);

	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		die("VFIO_DEVICE_GET_REGION_INFO config", errno);
	struct vfio_region_info bar = { .argsz = sizeof(bar),
					.index = VFIO_PCI_BAR0_REGION_INDEX };
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &bar))
		die("VFIO_DEVICE_GET_REGION_INFO BAR0", errno);
	if (bar.size < 0x100 || !(bar.flags & VFIO_REGION_INFO_FLAG_MMAP))
		die("BAR0 region: too small or not mmappable", ENOTSUP);

	/* Memory Space + Bus Master: MSI writes are DMA */
	uint16_t cmd;
	if (pread(dev, &cmd, sizeof(cmd), (off_t)(cfg.offset + PCI_COMMAND_OFF)) != sizeof(cmd))
		die("pread config command register", errno ? errno : EIO);
	cmd |= CMD_MEMORY | CMD_MASTER;
	if (pwrite(dev, &cmd, sizeof(cmd), (off_t)(cfg.offset + PCI_COMMAND_OFF)) != sizeof(cmd))
		die("pwrite config command register", errno ? errno : EIO);

	void *map = mmap(NULL, (size_t)bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev,
			 (off_t)bar.offset);
	if (map == MAP_FAILED)
		die("mmap BAR0", errno);
	bar0 = map;
	uint32_t ident = rd(EDU_IDENT);
	if ((ident & 0xff) != 0xed) {
		fprintf(stderr, "edu-storm: BAR0 ident 0x%08x: not an edu device\n", ident);
		return 1;
	}

	/* --- MSI vector 0 -> eventfd */
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSI_IRQ_INDEX };
	if (ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii))
		die("VFIO_DEVICE_GET_IRQ_INFO MSI", errno);
	if (ii.count < 1 || !(ii.flags & VFIO_IRQ_INFO_EVENTFD))
		die("VFIO_DEVICE_GET_IRQ_INFO MSI: no eventfd-capable vector", ENOTSUP);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd", errno);
	union {
		struct vfio_irq_set s;
		char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} irq;
	memset(&irq, 0, sizeof(irq));
	irq.s.argsz = sizeof(irq.buf);
	irq.s.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq.s.index = VFIO_PCI_MSI_IRQ_INDEX;
	irq.s.start = 0;
	irq.s.count = 1;
	int32_t efd32 = efd;
	memcpy(irq.s.data, &efd32, sizeof(efd32));
	if (ioctl(dev, VFIO_DEVICE_SET_IRQS, &irq.s))
		die("VFIO_DEVICE_SET_IRQS MSI eventfd", errno);

	/* a stale status from an earlier owner would keep nothing from firing,
	 * but start clean anyway */
	wr(EDU_IRQ_ACK, rd(EDU_IRQ_STATUS));
	drain(efd);

	printf("edu-storm: %s group %d ident 0x%08x pid %d: MSI 0 -> eventfd, %s%s, %lu s\n",
	       bdf, group, ident, (int)getpid(),
	       ack_only ? "ack-only" : "storming",
	       ack_only ? "" : (rate ? " paced" : " unpaced"), seconds);
	if (rate && !ack_only)
		printf("edu-storm: target rate %lu/s\n", rate);

	/* --- the storm */
	double start = now_s(), end = seconds ? start + (double)seconds : 1e300;
	double next_print = start + 1.0;
	/* pacing: wake once per interrupt (at most every 100 us) and raise
	 * as many as are due by then. Raises sent back to back coalesce in
	 * the (v)CPU's local APIC into one interrupt, so batching them would
	 * deliver far fewer than asked for. */
	double tick = rate ? (rate <= 10000 ? 1.0 / (double)rate : 1e-4) : 0;
	double next_wake = start;
	uint64_t raised = 0, delivered = 0, sec_raised = 0, sec_delivered = 0;
	uint64_t raised_at_print = 0, delivered_at_print = 0;
	unsigned spin = 0;

	while (!stop) {
		double t;

		if (ack_only) {
			struct pollfd pfd = { .fd = efd, .events = POLLIN };
			int ms;

			t = now_s();
			ms = (int)((next_print - t) * 1000.0) + 1;
			if (ms < 1)
				ms = 1;
			if (poll(&pfd, 1, ms) > 0) {
				delivered += drain(efd);
				wr(EDU_IRQ_ACK, rd(EDU_IRQ_STATUS));
			}
		} else if (rate) {
			uint64_t due = (uint64_t)((now_s() - start) * (double)rate);

			while (raised < due && !stop) {
				wr(EDU_IRQ_RAISE, 1);
				raised++;
				delivered += drain(efd);
				wr(EDU_IRQ_ACK, rd(EDU_IRQ_STATUS));
			}
			next_wake += tick;
			if (next_wake > now_s())
				sleep_until(next_wake < end ? next_wake : end);
			delivered += drain(efd);
		} else {
			wr(EDU_IRQ_RAISE, 1);
			raised++;
			delivered += drain(efd);
			wr(EDU_IRQ_ACK, rd(EDU_IRQ_STATUS));
			/* the clock is cheap (vDSO) but not free: look every 64 */
			if (++spin & 63)
				continue;
		}

		t = now_s();
		if (t >= next_print) {
			sec_raised = raised - raised_at_print;
			sec_delivered = delivered - delivered_at_print;
			printf("edu-storm: %llu raised, %llu delivered in the last second\n",
			       (unsigned long long)sec_raised, (unsigned long long)sec_delivered);
			raised_at_print = raised;
			delivered_at_print = delivered;
			next_print += 1.0;
			if (next_print < t)   /* fell behind (stopped, slow guest) */
				next_print = t + 1.0;
		}
		if (t >= end)
			break;
	}

	/* late deliveries: give the IRQ thread a moment */
	double stopped = now_s();
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	while (poll(&pfd, 1, 100) > 0) {
		uint64_t n = drain(efd);
		if (!n)
			break;
		delivered += n;
	}
	wr(EDU_IRQ_ACK, rd(EDU_IRQ_STATUS));

	double el = stopped - start;
	if (el <= 0)
		el = 1e-9;
	printf("edu-storm: done after %.2f s%s: %llu raised, %llu delivered "
	       "(%.0f raised/s, %.0f delivered/s)\n",
	       el, stop ? " (signalled)" : "", (unsigned long long)raised,
	       (unsigned long long)delivered, (double)raised / el, (double)delivered / el);

	/* tear down like a VMM: interrupts off, unmap, close */
	memset(&irq, 0, sizeof(irq));
	irq.s.argsz = sizeof(struct vfio_irq_set);
	irq.s.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq.s.index = VFIO_PCI_MSI_IRQ_INDEX;
	irq.s.count = 0;
	if (ioctl(dev, VFIO_DEVICE_SET_IRQS, &irq.s))
		fprintf(stderr, "edu-storm: disabling MSI: %s (errno %d)\n", strerror(errno), errno);
	munmap(map, (size_t)bar.size);
	close(efd);
	close(dev);
	close(gfd);
	close(container);
	return 0;
}
