// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qtest-edu: drives an interrupt storm from an edu device (1234:11e8) that a
 * real QEMU owns through vfio-pci, without any guest OS. The QEMU runs with
 * a qtest socket, e.g.
 *
 *   qemu-system-x86_64 -M q35 -m 64 -accel tcg -nodefaults -display none \
 *     -device vfio-pci,host=BDF -qtest unix:SOCKET,server=on,wait=off \
 *     -qtest-log none
 *
 * or a libvirt domain whose <qemu:commandline> carries the -qtest arguments
 * and that gets the edu as a hostdev, at boot or live (see
 * tests/testbed/probe-qtest-libvirt.sh),
 * and this tool plays the guest driver over that socket (QEMU's qtest text
 * protocol: "outl PORT VAL", "inl PORT", "writel ADDR VAL", "readl ADDR",
 * each answered by one line "OK [VALUE]" or "FAIL ..."):
 *
 *   - looks for the edu through the config ports 0xcf8/0xcfc: bus 0, then
 *     the secondary buses of the PCI-to-PCI bridges (header type 1: PCIe
 *     root ports too), breadth first; the reads go pipelined, a bus costs
 *     2-4 round trips. A bridge on bus 0 that the firmware gave no bus
 *     number gets the next free one. An edu hot-plugged into a PCIe slot
 *     (libvirt's `attach-device --live` on a pcie-root-port) reads as absent
 *     at first: QEMU turns the power of empty slots off at reset and leaves
 *     it off on a hot-plug, for the OS to turn on; the tool does that (Slot
 *     Control: power on, power indicator on) for a slot with a device
 *     present and its power off, and turns it off again at exit (below);
 *   - waits for the firmware (SeaBIOS, under -accel tcg) to assign BAR0 and
 *     enable Memory Space, or assigns BAR0 itself when none came within
 *     --bios-wait (QEMU started with -S and never continued, or -accel
 *     qtest where the build has it: no firmware runs; Debian's 7.2 refuses
 *     -accel qtest, -accel tcg works). On bus 0 at --bar (default
 *     0xfe000000). Behind a bridge at the base of the parent bridge's
 *     memory window (SeaBIOS gives each hot-plug capable root port one,
 *     2 MiB, and bus numbers, even when empty; the top 1 MiB of it when
 *     other functions share that bus), or, where the firmware left no
 *     window, at --bar or below, clear of the other bridges' windows, with
 *     the windows on the way set to it. A hot-plugged edu (the tool powered
 *     its slot on, or the slot's Presence Detect Changed is set: a cold-plugged
 *     device never sets it) is assigned at once, without waiting for the
 *     firmware that ran before it existed; --no-bios-wait (= --bios-wait 0)
 *     says the same for any device;
 *   - enables Memory Space and Bus Master on the bridges above the edu;
 *   - enables Memory Space and Bus Master, checks edu's ident register;
 *   - programs the MSI capability (address 0xfee00000 | --msi-dest << 12,
 *     i.e. physical APIC ID 0 by default; data = --vector, fixed, edge) and
 *     enables it: QEMU's vfio-pci then enables MSI on the host device, routed
 *     to an eventfd, so the host kernel sees vfio-msi[0](BDF) interrupts;
 *   - checks that raise (0x60) sets and acknowledge (0x64) clears edu's
 *     interrupt status (0x24);
 *   - loops: writel BAR0+0x60 1 (raise: edu sends an MSI), writel BAR0+0x64 1
 *     (acknowledge), --rate N per second or --max (as fast as the socket
 *     allows: 16 raise+ack pairs per round trip); --rate sends what is due each time (pipelined, 16 at most per round
 *     trip) and never bursts to catch up: when QEMU cannot keep up, the
 *     raises it is late for by over 50 ms are skipped (counted);
 *     (--no-ack: raises only; with MSI every raise still sends one, and
 *     the socket carries half as many commands);
 *   - after --seconds S (default 10, 0 = until SIGTERM/SIGINT) disables MSI
 *     again (unless --leave-msi), so that QEMU releases the host vector,
 *     and turns the power of a slot it powered on off again (power
 *     indicator off too; also when it fails after powering it on; not with
 *     --leave-msi), as the hot-plug left it: a later device_del (libvirt's
 *     `detach-device --live`) then unplugs at once, with no OS to answer
 *     the attention button. That is a byte write to the upper half of Slot
 *     Control: QEMU 7.2 ejects the device itself on a word write that turns
 *     power and indicator off (the device would leave before anyone asked),
 *     but tests the written value unshifted, so a byte write escapes that.
 *     Killed with SIGKILL the tool leaves the slot powered, and a live
 *     detach then waits for an OS that never comes.
 *   - an unplug asked for while it runs (device_del pushes the slot's
 *     attention button: Slot Status ABP) is answered as a guest OS answers
 *     it: the tool stops (it checks once a second), disables MSI and powers
 *     the slot off with a word write, which QEMU takes as the go-ahead to
 *     eject the device: a VMM's quarantine detach completes.
 *
 *   qtest-edu SOCKET [--rate N[/s] | --max] [--seconds S]
 *             [--bios-wait S | --no-bios-wait]
 *             [--connect-wait S] [--bar ADDR] [--vector V] [--leave-msi]
 *             [--no-ack] [--msi-dest APICID]
 *
 * The nested guest has no OS: the MSIs it receives go to its (firmware's)
 * APIC, where they are never acknowledged; still each one costs QEMU a
 * vCPU kick (on the build machine, at 2000/s, ~16% of a CPU for QEMU's vCPU
 * thread). --msi-dest 0xfe (no such APIC) spares that, leaving QEMU's main
 * loop the only VMM thread at work.
 *
 * Prints what it found and did on stdout, "qtest-edu: R raises in the last
 * second" once a second and a summary at the end. Exits 0, or 1 with one
 * line on stderr naming the step that failed.
 *
 * The qtest socket serves one client at a time. Start QEMU with
 * "-qtest-log none" (or a file): without it QEMU logs every command to its
 * stderr, which costs more than the command.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define EDU_VENDOR     0x1234
#define EDU_DEVICE     0x11e8
#define EDU_IDENT      0x00
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE  0x60
#define EDU_IRQ_ACK    0x64

#define PCI_COMMAND     0x04
#define PCI_STATUS      0x06
#define PCI_BAR0        0x10
#define PCI_CAP_PTR     0x34
#define CMD_MEMORY      0x0002
#define CMD_MASTER      0x0004
#define STATUS_CAP_LIST 0x0010
#define CAP_ID_MSI      0x05
#define MSI_CTRL_ENABLE 0x0001
#define MSI_CTRL_64BIT  0x0080
#define MSI_CTRL_MME    0x0070
#define MSI_ADDR        0xfee00000u
#define CAP_ID_EXP      0x10
#define EXP_SLTCAP      0x14
#define EXP_SLTCTL      0x18    /* dword: Slot Control, Slot Status above */
#define SLTCAP_PCP      0x0002  /* power controller present */
#define SLTCAP_HPC      0x0040  /* hot-plug capable */
#define SLTCTL_PIC      0x0300  /* power indicator: 01 on, 11 off */
#define SLTCTL_PIC_ON   0x0100
#define SLTCTL_PIC_OFF  0x0300
#define SLTCTL_PCC      0x0400  /* power controller control: 1 = off */
#define SLTSTA_ABP      0x0001  /* attention button pressed: an unplug is asked for */
#define SLTSTA_PDC      0x0008  /* presence detect changed */
#define SLTSTA_PDS      0x0040  /* presence detect state */

/* one reply may take long: QEMU under TCG inside a TCG guest is slow */
#define REPLY_TIMEOUT_MS 30000
/* --max: raise+ack pairs sent before reading their replies */
#define PIPELINE 16

static volatile sig_atomic_t stop;
static int qfd = -1;
static char rbuf[4096];
static size_t rlen;
static unsigned long long commands;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: qtest-edu SOCKET [--rate N[/s] | --max] [--seconds S] [--bios-wait S | --no-bios-wait]\n"
		"                 [--connect-wait S] [--bar ADDR] [--vector V] [--leave-msi]\n"
		"                 [--no-ack] [--msi-dest APICID]\n");
	exit(2);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void slots_restore(void);
static void die(const char *fmt, ...)
{
	static bool dying;
	va_list ap;

	fflush(stdout);
	if (!dying && qfd >= 0) {   /* a slot we powered on goes off again */
		dying = true;
		slots_restore();
		fflush(stdout);
	}
	fputs("qtest-edu: ", stderr);
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

static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void sleep_s(double s)
{
	sleep_until(now_s() + s);
}

/* a number: decimal, or hex with 0x; an optional "/s" suffix if per_s */
static unsigned long long parse_num(const char *s, const char *what, bool per_s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (per_s && strcmp(end, "/s") == 0)
		end += 2;
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "qtest-edu: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

/* ------------------------------------------------------------ the socket */

static void qt_connect(const char *path, unsigned wait_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double give_up = now_s() + wait_s;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	for (;;) {
		qfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (qfd < 0)
			die("socket: %s", strerror(errno));
		if (connect(qfd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return;
		err = errno;
		close(qfd);
		qfd = -1;
		/* QEMU not up yet (ENOENT), or not listening yet (ECONNREFUSED) */
		if ((err != ENOENT && err != ECONNREFUSED) || now_s() >= give_up || stop)
			die("connect %s: %s (is QEMU running with -qtest unix:%s,server=on,wait=off?)",
			    path, strerror(err), path);
		sleep_s(0.2);
	}
}

static void qt_send(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(qfd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write to the qtest socket: %s (QEMU gone?)", n < 0 ? strerror(errno) : "short write");
		buf += n;
		len -= (size_t)n;
	}
}

/* reads one reply line (without the newline) into line; skips the
 * asynchronous "IRQ ..." lines that only irq_intercept_* would cause */
static void qt_line(char *line, size_t size, const char *cmd)
{
	for (;;) {
		char *nl = memchr(rbuf, '\n', rlen);

		if (nl) {
			size_t n = (size_t)(nl - rbuf);

			if (n >= size)
				n = size - 1;
			memcpy(line, rbuf, n);
			line[n] = '\0';
			rlen -= (size_t)(nl + 1 - rbuf);
			memmove(rbuf, nl + 1, rlen);
			if (strncmp(line, "IRQ ", 4) == 0)
				continue;
			return;
		}
		if (rlen == sizeof(rbuf))
			die("reply to '%s': line too long", cmd);

		struct pollfd pfd = { .fd = qfd, .events = POLLIN };
		int r = poll(&pfd, 1, REPLY_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("poll on the qtest socket: %s", strerror(errno));
		if (r == 0)
			die("no reply to '%s' in %d s", cmd, REPLY_TIMEOUT_MS / 1000);

		ssize_t got = read(qfd, rbuf + rlen, sizeof(rbuf) - rlen);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			die("reply to '%s': %s (QEMU gone?)", cmd,
			    got < 0 ? strerror(errno) : "connection closed");
		rlen += (size_t)got;
	}
}

/* checks a reply: "OK" or "OK VALUE"; returns VALUE (0 if none) */
static uint64_t qt_reply(const char *cmd)
{
	char line[256];
	char *end;
	uint64_t v;

	qt_line(line, sizeof(line), cmd);
	if (strncmp(line, "OK", 2) != 0 || (line[2] != '\0' && line[2] != ' '))
		die("'%s' answered: %s", cmd, line);
	commands++;
	if (line[2] == '\0')
		return 0;
	errno = 0;
	v = strtoull(line + 3, &end, 0);
	if (errno || end == line + 3)
		die("'%s' answered: %s (not a number)", cmd, line);
	return v;
}

/* one command, one reply */
static uint64_t qt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static uint64_t qt(const char *fmt, ...)
{
	char cmd[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) - 1)
		die("command too long");
	cmd[n] = '\n';
	qt_send(cmd, (size_t)n + 1);
	cmd[n] = '\0';
	return qt_reply(cmd);
}

/* ---------------------------------------------- config space, port I/O */

static unsigned dev_bus, dev_slot, dev_fn;

static uint32_t cfg_addr(unsigned bus, unsigned slot, unsigned fn, unsigned off)
{
	return 0x80000000u | (bus << 16) | (slot << 11) | (fn << 8) | (off & 0xfc);
}

/* reads n config dwords (CONFIG_ADDRESS values in addrs), pipelined: the
 * outl/inl pairs go out in batches of 32, one round trip per batch */
static void cfg_read_batch(unsigned n, const uint32_t *addrs, uint32_t *out)
{
	char buf[32 * 48];

	for (unsigned i = 0; i < n;) {
		unsigned m = n - i < 32 ? n - i : 32;
		size_t len = 0;

		for (unsigned j = 0; j < m; j++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						"outl 0xcf8 0x%x\ninl 0xcfc\n", addrs[i + j]);
		qt_send(buf, len);
		for (unsigned j = 0; j < m; j++) {
			qt_reply("outl 0xcf8");
			out[i + j] = (uint32_t)qt_reply("inl 0xcfc");
		}
		i += m;
	}
}

static uint32_t cfg_read32_at(unsigned bus, unsigned slot, unsigned fn, unsigned off)
{
	uint32_t a = cfg_addr(bus, slot, fn, off), v;

	cfg_read_batch(1, &a, &v);
	return v;
}

static uint16_t cfg_read16_at(unsigned bus, unsigned slot, unsigned fn, unsigned off)
{
	return (uint16_t)(cfg_read32_at(bus, slot, fn, off) >> ((off & 2) * 8));
}

static void cfg_write32_at(unsigned bus, unsigned slot, unsigned fn, unsigned off, uint32_t v)
{
	qt("outl 0xcf8 0x%x", cfg_addr(bus, slot, fn, off));
	qt("outl 0xcfc 0x%x", v);
}

/* 16-bit write through 0xcfc + (off & 2): leaves the other half alone
 * (the status register next to the command one is write-1-to-clear) */
static void cfg_write16_at(unsigned bus, unsigned slot, unsigned fn, unsigned off, uint16_t v)
{
	qt("outl 0xcf8 0x%x", cfg_addr(bus, slot, fn, off));
	qt("outw 0x%x 0x%x", 0xcfcu + (off & 2), v);
}

static void cfg_write8_at(unsigned bus, unsigned slot, unsigned fn, unsigned off, uint8_t v)
{
	qt("outl 0xcf8 0x%x", cfg_addr(bus, slot, fn, off));
	qt("outb 0x%x 0x%x", 0xcfcu + (off & 3), v);
}

static uint32_t cfg_read32(unsigned off)
{
	return cfg_read32_at(dev_bus, dev_slot, dev_fn, off);
}

static uint16_t cfg_read16(unsigned off)
{
	return (uint16_t)(cfg_read32(off) >> ((off & 2) * 8));
}

static uint8_t cfg_read8(unsigned off)
{
	return (uint8_t)(cfg_read32(off) >> ((off & 3) * 8));
}

static void cfg_write32(unsigned off, uint32_t v)
{
	cfg_write32_at(dev_bus, dev_slot, dev_fn, off, v);
}

static void cfg_write16(unsigned off, uint16_t v)
{
	cfg_write16_at(dev_bus, dev_slot, dev_fn, off, v);
}

/* ------------------------------------------------------------ topology */

/* a PCI-to-PCI bridge (header type 1) met on the walk */
struct bridge {
	unsigned bus, slot, fn;
	int parent;             /* index of the bridge above, -1 on bus 0 */
	uint32_t busnr;         /* config 0x18: primary, secondary, subordinate */
	uint32_t mem;           /* config 0x20: memory base (low), limit (high) */
	unsigned nfuncs;        /* functions seen on its secondary bus */
	unsigned excap;         /* PCI Express capability, 0 = none/not looked */
	bool powered_by_us;     /* we turned the slot power on */
};

#define MAX_BRIDGES 64
static struct bridge br[MAX_BRIDGES];
static int nbr;
static unsigned bus0_funcs;
static bool bus_seen[256];
static int edu_parent = -2;     /* -2: not found; -1: bus 0; else bridge */

static unsigned br_sec(const struct bridge *b) { return (b->busnr >> 8) & 0xff; }
static unsigned br_sub(const struct bridge *b) { return (b->busnr >> 16) & 0xff; }

/* the memory window [lo, hi]; false when unset (QEMU resets base and limit
 * to 0; firmware disables an unused window with base > limit) */
static bool br_window(const struct bridge *b, uint32_t *lo, uint32_t *hi)
{
	uint32_t base = (b->mem & 0xfff0u) << 16, limit = ((b->mem >> 16) & 0xfff0u) << 16 | 0xfffffu;

	if (b->mem == 0 || base > limit)
		return false;
	*lo = base;
	*hi = limit;
	return true;
}

static const char *bdf(unsigned bus, unsigned slot, unsigned fn)
{
	static char s[4][16];
	static int i;

	i = (i + 1) % 4;
	snprintf(s[i], sizeof(s[i]), "%02x:%02x.%x", bus, slot, fn);
	return s[i];
}

/* scans one bus (header reads batched: 2-4 round trips for a bus);
 * stops at the edu; records bridges and queues their secondary buses */
static void scan_bus(unsigned bus, int parent, unsigned *queue, int *qparent, unsigned *qn)
{
	uint32_t a[256], v[256], hdr[256];
	unsigned slot_of[256], fn_of[256], n = 0, nf = 0;
	uint32_t id0[32];

	bus_seen[bus] = true;
	for (unsigned s = 0; s < 32; s++)
		a[s] = cfg_addr(bus, s, 0, 0);
	cfg_read_batch(32, a, id0);
	for (unsigned s = 0; s < 32; s++) {
		if (id0[s] == 0xffffffffu || id0[s] == 0)
			continue;
		slot_of[n] = s;
		fn_of[n] = 0;
		v[n++] = id0[s];
	}
	for (unsigned i = 0; i < n; i++)
		a[i] = cfg_addr(bus, slot_of[i], 0, 0x0c);
	cfg_read_batch(n, a, hdr);
	/* functions 1-7 of multi-function devices */
	unsigned n0 = n, m = 0;
	uint32_t mid[224];
	unsigned mslot[224], mfn[224];
	for (unsigned i = 0; i < n0; i++) {
		if (!(hdr[i] & 0x00800000u))
			continue;
		for (unsigned f = 1; f < 8; f++) {
			mslot[m] = slot_of[i];
			mfn[m] = f;
			a[m++] = cfg_addr(bus, slot_of[i], f, 0);
		}
	}
	if (m) {
		cfg_read_batch(m, a, mid);
		unsigned k = 0;
		for (unsigned j = 0; j < m; j++) {
			if (mid[j] == 0xffffffffu || mid[j] == 0)
				continue;
			slot_of[n] = mslot[j];
			fn_of[n] = mfn[j];
			v[n] = mid[j];
			a[k++] = cfg_addr(bus, mslot[j], mfn[j], 0x0c);
			n++;
		}
		cfg_read_batch(k, a, hdr + n0);
	}
	nf = n;
	if (parent >= 0)
		br[parent].nfuncs = nf;
	else
		bus0_funcs = nf;

	for (unsigned i = 0; i < n; i++) {
		if (v[i] == ((uint32_t)EDU_DEVICE << 16 | EDU_VENDOR)) {
			dev_bus = bus;
			dev_slot = slot_of[i];
			dev_fn = fn_of[i];
			edu_parent = parent;
			return;
		}
	}
	/* bridges: bus numbers and memory window */
	unsigned bi[256], nb = 0;
	for (unsigned i = 0; i < n; i++) {
		if (((hdr[i] >> 16) & 0x7f) != 1 || nbr + (int)nb >= MAX_BRIDGES)
			continue;
		bi[nb] = i;
		a[2 * nb] = cfg_addr(bus, slot_of[i], fn_of[i], 0x18);
		a[2 * nb + 1] = cfg_addr(bus, slot_of[i], fn_of[i], 0x20);
		nb++;
	}
	cfg_read_batch(2 * nb, a, v + 0);   /* v[] no longer needed */
	for (unsigned j = 0; j < nb; j++) {
		struct bridge *b = &br[nbr];

		memset(b, 0, sizeof(*b));
		b->bus = bus;
		b->slot = slot_of[bi[j]];
		b->fn = fn_of[bi[j]];
		b->parent = parent;
		b->busnr = v[2 * j];
		b->mem = v[2 * j + 1];
		if (br_sec(b) > bus && !bus_seen[br_sec(b)] && *qn < 256) {
			queue[*qn] = br_sec(b);
			qparent[(*qn)++] = nbr;
		}
		nbr++;
	}
}

/* breadth first from the queued buses; true when the edu turned up */
static bool walk(unsigned *queue, int *qparent, unsigned qn)
{
	for (unsigned i = 0; i < qn && edu_parent == -2; i++)
		scan_bus(queue[i], qparent[i], queue, qparent, &qn);
	return edu_parent != -2;
}

/* the PCI Express capability of a bridge (0: none) */
static unsigned find_excap(struct bridge *b)
{
	if (b->excap)
		return b->excap;
	if (!(cfg_read16_at(b->bus, b->slot, b->fn, PCI_STATUS) & STATUS_CAP_LIST))
		return 0;
	unsigned pos = cfg_read32_at(b->bus, b->slot, b->fn, PCI_CAP_PTR) & 0xfc;
	for (int hops = 0; pos >= 0x40 && hops < 48; hops++) {
		uint32_t h = cfg_read32_at(b->bus, b->slot, b->fn, pos);

		if ((h & 0xff) == CAP_ID_EXP)
			return b->excap = pos;
		pos = (h >> 8) & 0xfc;
	}
	return 0;
}

/* a bridge's state, for the log */
static void show_bridge(const char *what, struct bridge *b)
{
	uint32_t cmd = cfg_read32_at(b->bus, b->slot, b->fn, PCI_COMMAND);
	uint32_t pref = cfg_read32_at(b->bus, b->slot, b->fn, 0x24);
	uint32_t io = cfg_read32_at(b->bus, b->slot, b->fn, 0x1c);
	unsigned x = find_excap(b);
	char slot[96] = "";

	if (x) {
		uint32_t sc = cfg_read32_at(b->bus, b->slot, b->fn, x + EXP_SLTCAP);
		uint32_t ss = cfg_read32_at(b->bus, b->slot, b->fn, x + EXP_SLTCTL);

		snprintf(slot, sizeof(slot), ", slot cap 0x%08x control 0x%04x status 0x%04x",
			 sc, ss & 0xffff, ss >> 16);
	}
	printf("qtest-edu: %s bridge %s: buses 0x%08x (pri %02x sec %02x sub %02x), "
	       "memory 0x%08x, prefetchable 0x%08x, io 0x%04x, command 0x%04x%s\n",
	       what, bdf(b->bus, b->slot, b->fn), b->busnr, b->busnr & 0xff, br_sec(b), br_sub(b),
	       b->mem, pref, io & 0xffff, cmd & 0xffff, slot);
}

/* turns a slot's power off again (power indicator off too), as the
 * hot-plug left it: QEMU's device_del then unplugs at once, no OS needed.
 * A byte write to the upper half of Slot Control: QEMU 7.2 ejects the
 * device on a word write that turns power and indicator off, but checks
 * only the low byte's bits of a byte write (its eject test reads PCC and
 * PIC from the written value, unshifted) */
static void slot_power_off(struct bridge *b)
{
	unsigned x = find_excap(b);
	uint16_t ctl, sta;

	if (!x || !b->powered_by_us)
		return;
	b->powered_by_us = false;
	ctl = cfg_read16_at(b->bus, b->slot, b->fn, x + EXP_SLTCTL);
	sta = cfg_read16_at(b->bus, b->slot, b->fn, x + EXP_SLTCTL + 2);
	if (sta & SLTSTA_ABP) {
		/* an unplug was asked for (device_del pushed the attention
		 * button): answer as a guest OS does, powering the slot off with
		 * a word write, which QEMU takes as the go-ahead to eject */
		cfg_write16_at(b->bus, b->slot, b->fn, x + EXP_SLTCTL,
			       (uint16_t)((ctl & ~SLTCTL_PIC) | SLTCTL_PCC | SLTCTL_PIC_OFF));
		printf("qtest-edu: slot of bridge %s: unplug requested: powered off, ejected\n",
		       bdf(b->bus, b->slot, b->fn));
		return;
	}
	cfg_write8_at(b->bus, b->slot, b->fn, x + EXP_SLTCTL + 1,
		      (uint8_t)((ctl | SLTCTL_PCC | SLTCTL_PIC_OFF) >> 8));
	printf("qtest-edu: slot of bridge %s: power off again (control 0x%04x -> 0x%04x)\n",
	       bdf(b->bus, b->slot, b->fn), ctl, cfg_read16_at(b->bus, b->slot, b->fn, x + EXP_SLTCTL));
}

/* true when a slot we powered has its attention button pushed (device_del) */
static bool unplug_requested(void)
{
	for (int i = 0; i < nbr; i++) {
		unsigned x;

		if (!br[i].powered_by_us || !(x = find_excap(&br[i])))
			continue;
		if (cfg_read16_at(br[i].bus, br[i].slot, br[i].fn, x + EXP_SLTCTL + 2) & SLTSTA_ABP)
			return true;
	}
	return false;
}

static void slots_restore(void)
{
	for (int i = 0; i < nbr; i++)
		slot_power_off(&br[i]);
}

/* BAR0 for an edu behind a bridge: in the parent's memory window, or, when
 * the firmware left that unset, at want (or below, clear of the windows of
 * the other bridges), with the windows on the way set to hold it */
static uint32_t place_bar(uint32_t want, bool given)
{
	struct bridge *p = &br[edu_parent];
	uint32_t lo, hi, a;

	if (br_window(p, &lo, &hi)) {
		if (given) {
			if (want < lo || want - lo > hi - lo - 0xfffffu)
				die("--bar 0x%08x is outside the memory window 0x%08x-0x%08x of bridge %s",
				    want, lo, hi, bdf(p->bus, p->slot, p->fn));
			return want;
		}
		if (p->nfuncs <= 1)
			return lo;
		/* other functions on that bus: the top 1 MiB (their BARs are
		 * not read: firmware packs from the bottom) */
		printf("qtest-edu: %u other functions behind bridge %s: BAR0 at the top of its window\n",
		       p->nfuncs - 1, bdf(p->bus, p->slot, p->fn));
		return hi - 0xfffffu;
	}
	for (a = want;; a -= 0x100000u) {
		bool clash = false;

		for (int i = 0; i < nbr && !clash; i++) {
			bool on_path = false;

			for (int j = edu_parent; j >= 0; j = br[j].parent)
				on_path |= j == i;
			if (!on_path && br_window(&br[i], &lo, &hi) && a <= hi && a + 0xfffffu >= lo)
				clash = true;
		}
		if (!clash)
			break;
		if (given || a < 0x80100000u)
			die("no room for BAR0 at 0x%08x: other bridges' windows there", a);
	}
	for (int i = edu_parent; i >= 0; i = br[i].parent) {
		struct bridge *b = &br[i];

		if (br_window(b, &lo, &hi)) {
			if (a < lo || a - lo > hi - lo - 0xfffffu)
				die("bridge %s: its memory window 0x%08x-0x%08x does not hold BAR0 0x%08x",
				    bdf(b->bus, b->slot, b->fn), lo, hi, a);
			continue;
		}
		b->mem = (a >> 16 & 0xfff0u) | (a >> 16 & 0xfff0u) << 16;
		cfg_write32_at(b->bus, b->slot, b->fn, 0x20, b->mem);
		printf("qtest-edu: bridge %s had no memory window: set 0x%08x-0x%08x\n",
		       bdf(b->bus, b->slot, b->fn), a, a + 0xfffffu);
	}
	return a;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "max", no_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 's' },
		{ "bios-wait", required_argument, NULL, 'b' },
		{ "no-bios-wait", no_argument, NULL, 'W' },
		{ "connect-wait", required_argument, NULL, 'c' },
		{ "bar", required_argument, NULL, 'B' },
		{ "vector", required_argument, NULL, 'v' },
		{ "leave-msi", no_argument, NULL, 'l' },
		{ "no-ack", no_argument, NULL, 'n' },
		{ "msi-dest", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long rate = 0, seconds = 10, bios_wait = 60, connect_wait = 30;
	unsigned long long bar_want = 0xfe000000ull, vector = 0x68, dest = 0;
	bool max = false, leave_msi = false, ack = true, bar_given = false;
	const char *path;
	int c;

	while ((c = getopt_long(argc, argv, "r:ms:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rate = parse_num(optarg, "--rate", true); break;
		case 'm': max = true; break;
		case 's': seconds = parse_num(optarg, "--seconds", false); break;
		case 'b': bios_wait = parse_num(optarg, "--bios-wait", false); break;
		case 'c': connect_wait = parse_num(optarg, "--connect-wait", false); break;
		case 'W': bios_wait = 0; break;
		case 'B': bar_want = parse_num(optarg, "--bar", false); bar_given = true; break;
		case 'v': vector = parse_num(optarg, "--vector", false); break;
		case 'l': leave_msi = true; break;
		case 'n': ack = false; break;
		case 'd': dest = parse_num(optarg, "--msi-dest", false); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || (max && rate))
		usage();
	if (!rate)
		max = true;
	if (bar_want & 0xfffff || bar_want > 0xfff00000ull || !bar_want) {
		fprintf(stderr, "qtest-edu: bad --bar: 0x%llx (edu's BAR0 is 1 MiB: "
			"a 1 MiB-aligned address below 4 GiB)\n", bar_want);
		exit(2);
	}
	if (vector < 0x10 || vector > 0xfe) {
		fprintf(stderr, "qtest-edu: bad --vector: %llu (0x10-0xfe)\n", vector);
		exit(2);
	}
	if (dest > 0xff) {
		fprintf(stderr, "qtest-edu: bad --msi-dest: %llu (0-255)\n", dest);
		exit(2);
	}
	path = argv[optind];
	uint32_t msi_addr = MSI_ADDR | (uint32_t)dest << 12;
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: sleeps end */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	qt_connect(path, (unsigned)connect_wait);
	printf("qtest-edu: connected to %s\n", path);

	/* --- find the edu: bus 0, then behind the bridges (breadth first) */
	unsigned queue[256];
	int qparent[256];

	queue[0] = 0;
	qparent[0] = -1;
	bool found = walk(queue, qparent, 1);
	if (!found) {
		/* bridges on bus 0 the firmware gave no bus number */
		unsigned qn = 0, next = 0;

		for (int i = 0; i < nbr; i++)
			if (br_sub(&br[i]) > next)
				next = br_sub(&br[i]);
		for (int i = 0; i < nbr && next < 0xff; i++) {
			struct bridge *b = &br[i];

			if (br_sec(b) || b->bus != 0)
				continue;
			next++;
			b->busnr = (b->busnr & 0xff000000u) | next << 16 | next << 8;
			cfg_write32_at(b->bus, b->slot, b->fn, 0x18, b->busnr);
			printf("qtest-edu: bridge %s had no bus number: gave it bus %02x\n",
			       bdf(b->bus, b->slot, b->fn), next);
			queue[qn] = next;
			qparent[qn++] = i;
		}
		found = qn && walk(queue, qparent, qn);
	}
	/* a hot-plugged device in a slot whose power is off (QEMU turns the
	 * power of empty slots off at reset, and a hot-plug leaves it off for
	 * the OS to turn on) reads as absent: the OS's part, for empty hot-plug
	 * slots that report a device present */
	for (int i = 0; i < nbr && !found; i++) {
		struct bridge *b = &br[i];
		unsigned x;

		if (!br_sec(b) || b->nfuncs || !bus_seen[br_sec(b)] || !(x = find_excap(b)))
			continue;
		uint32_t sc = cfg_read32_at(b->bus, b->slot, b->fn, x + EXP_SLTCAP);
		uint32_t ss = cfg_read32_at(b->bus, b->slot, b->fn, x + EXP_SLTCTL);
		uint16_t ctl = (uint16_t)ss, sta = (uint16_t)(ss >> 16);

		if (!(sc & SLTCAP_PCP) || !(sta & SLTSTA_PDS) || !(ctl & SLTCTL_PCC))
			continue;
		printf("qtest-edu: slot of bridge %s: device present, power off "
		       "(control 0x%04x status 0x%04x): powering it on\n",
		       bdf(b->bus, b->slot, b->fn), ctl, sta);
		/* the hot-plug itself pushed the attention button (QEMU signals
		 * a plug with ABP and PDC): acknowledge both (write 1 to clear),
		 * so that a later ABP means an unplug request */
		cfg_write16_at(b->bus, b->slot, b->fn, x + EXP_SLTCTL + 2,
			       (uint16_t)(sta & (SLTSTA_ABP | SLTSTA_PDC)));
		cfg_write16_at(b->bus, b->slot, b->fn, x + EXP_SLTCTL,
			       (uint16_t)((ctl & ~(SLTCTL_PCC | SLTCTL_PIC)) | SLTCTL_PIC_ON));
		b->powered_by_us = true;
		queue[0] = br_sec(b);
		qparent[0] = i;
		bus_seen[br_sec(b)] = false;
		found = walk(queue, qparent, 1);
		if (!found)
			slot_power_off(b);
	}
	if (!found)
		die("no %04x:%04x on bus 0 of the guest nor behind its bridges (is "
		    "-device vfio-pci,host=BDF on the QEMU command line, or the hostdev "
		    "attached, and is the host device an edu?)", EDU_VENDOR, EDU_DEVICE);
	printf("qtest-edu: edu at guest %s (%d bridges, %llu qtest commands so far)\n",
	       bdf(dev_bus, dev_slot, dev_fn), nbr, commands);

	bool hotplugged = false;
	if (edu_parent >= 0) {
		struct bridge *p = &br[edu_parent];
		unsigned x;

		for (int i = edu_parent; i >= 0; i = br[i].parent)
			show_bridge(i == edu_parent ? "parent" : "upstream", &br[i]);
		if (p->powered_by_us)
			hotplugged = true;
		else if ((x = find_excap(p)) &&
			 (cfg_read32_at(p->bus, p->slot, p->fn, x + EXP_SLTCTL) >> 16) & SLTSTA_PDC)
			hotplugged = true;   /* presence changed since reset */
	}
	if (hotplugged && bios_wait) {
		printf("qtest-edu: hot-plugged after the firmware ran: not waiting for it\n");
		bios_wait = 0;
	}

	/* --- BAR0: the firmware's, or ours */
	uint32_t bar0 = 0;
	uint16_t cmd = 0;
	double give_up = now_s() + (double)bios_wait, waited_from = now_s();
	bool assigned_by_us = false;

	for (;;) {
		cmd = cfg_read16(PCI_COMMAND);
		bar0 = cfg_read32(PCI_BAR0);
		/* SeaBIOS sizes the BARs (all ones), assigns them, and enables
		 * Memory Space in a later pass: that bit means BAR0 is final */
		if ((cmd & CMD_MEMORY) && (bar0 & ~0xfu) && (bar0 & ~0xfu) != 0xfff00000u)
			break;
		if (now_s() >= give_up || stop)
			break;
		sleep_s(0.2);
	}
	if (bar0 & 0x1)
		die("BAR0 0x%08x is an I/O BAR: not an edu", bar0);
	if (!(cmd & CMD_MEMORY) || !(bar0 & ~0xfu) || (bar0 & ~0xfu) == 0xfff00000u) {
		if (stop)
			die("signalled while waiting for the firmware");
		/* no firmware (-accel qtest), too slow, or hot-plugged: assign
		 * it ourselves (behind a bridge: inside its memory window) */
		uint32_t want = edu_parent >= 0 ? place_bar((uint32_t)bar_want, bar_given)
						: (uint32_t)bar_want;

		cfg_write16(PCI_COMMAND, (uint16_t)(cmd & ~CMD_MEMORY));
		cfg_write32(PCI_BAR0, want);
		if ((bar0 & 0x6) == 0x4)   /* 64-bit BAR: upper half */
			cfg_write32(PCI_BAR0 + 4, 0);
		bar0 = cfg_read32(PCI_BAR0);
		if ((bar0 & ~0xfu) != want)
			die("assigning BAR0 0x%08x: reads back 0x%08x", want, bar0);
		assigned_by_us = true;
	}
	uint64_t base = bar0 & ~0xfull;

	/* the bridges above forward memory and bus-master cycles */
	for (int i = edu_parent; i >= 0; i = br[i].parent) {
		struct bridge *b = &br[i];
		uint16_t bc = cfg_read16_at(b->bus, b->slot, b->fn, PCI_COMMAND);

		if ((bc & (CMD_MEMORY | CMD_MASTER)) == (CMD_MEMORY | CMD_MASTER))
			continue;
		cfg_write16_at(b->bus, b->slot, b->fn, PCI_COMMAND, (uint16_t)(bc | CMD_MEMORY | CMD_MASTER));
		printf("qtest-edu: bridge %s: command 0x%04x -> 0x%04x\n", bdf(b->bus, b->slot, b->fn),
		       bc, cfg_read16_at(b->bus, b->slot, b->fn, PCI_COMMAND));
	}

	cmd = cfg_read16(PCI_COMMAND);
	cfg_write16(PCI_COMMAND, (uint16_t)(cmd | CMD_MEMORY | CMD_MASTER));
	cmd = cfg_read16(PCI_COMMAND);
	if ((cmd & (CMD_MEMORY | CMD_MASTER)) != (CMD_MEMORY | CMD_MASTER))
		die("command register 0x%04x: Memory Space and Bus Master did not stick", cmd);
	printf("qtest-edu: BAR0 0x%08llx (%s after %.1f s), command 0x%04x\n",
	       (unsigned long long)base, assigned_by_us ? "assigned by qtest-edu" : "assigned by the firmware",
	       now_s() - waited_from, cmd);

	uint32_t ident = (uint32_t)qt("readl 0x%llx", (unsigned long long)(base + EDU_IDENT));
	if ((ident & 0xff) != 0xed)
		die("BAR0 ident 0x%08x: not an edu (or BAR0 not reaching the device)", ident);

	/* --- MSI capability */
	unsigned msi = 0;
	if (cfg_read16(PCI_STATUS) & STATUS_CAP_LIST) {
		unsigned pos = cfg_read8(PCI_CAP_PTR) & 0xfc;

		for (int hops = 0; pos >= 0x40 && hops < 48; hops++) {
			uint32_t hdr = cfg_read32(pos);

			if ((hdr & 0xff) == CAP_ID_MSI) {
				msi = pos;
				break;
			}
			pos = (hdr >> 8) & 0xfc;
		}
	}
	if (!msi)
		die("no MSI capability in the guest's view of the device");

	uint16_t ctrl = cfg_read16(msi + 2);
	bool is64 = ctrl & MSI_CTRL_64BIT;
	unsigned data_off = msi + (is64 ? 0x0c : 0x08);

	/* address and data first: vfio-pci reads them when the enable bit
	 * comes; one vector (MME 0), fixed delivery to APIC 0, edge */
	cfg_write16(msi + 2, (uint16_t)(ctrl & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME)));
	cfg_write32(msi + 4, msi_addr);
	if (is64)
		cfg_write32(msi + 8, 0);
	cfg_write16(data_off, (uint16_t)vector);
	cfg_write16(msi + 2, (uint16_t)((ctrl & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE));
	ctrl = cfg_read16(msi + 2);
	if (!(ctrl & MSI_CTRL_ENABLE))
		die("MSI control 0x%04x: the enable bit did not stick", ctrl);
	printf("qtest-edu: ident 0x%08x; MSI enabled (cap 0x%02x, %s, address 0x%08x data 0x%04x)\n",
	       ident, msi, is64 ? "64-bit" : "32-bit", msi_addr, (unsigned)vector);

	/* --- raise and acknowledge reach the device */
	char raise_cmd[64], ack_cmd[64];
	snprintf(raise_cmd, sizeof(raise_cmd), "writel 0x%llx 0x1\n",
		 (unsigned long long)(base + EDU_IRQ_RAISE));
	snprintf(ack_cmd, sizeof(ack_cmd), "writel 0x%llx 0x1\n",
		 (unsigned long long)(base + EDU_IRQ_ACK));

	uint32_t st0 = (uint32_t)qt("readl 0x%llx", (unsigned long long)(base + EDU_IRQ_STATUS));
	if (st0)
		qt("writel 0x%llx 0x%x", (unsigned long long)(base + EDU_IRQ_ACK), st0);
	qt("writel 0x%llx 0x1", (unsigned long long)(base + EDU_IRQ_RAISE));
	uint32_t st1 = (uint32_t)qt("readl 0x%llx", (unsigned long long)(base + EDU_IRQ_STATUS));
	qt("writel 0x%llx 0x1", (unsigned long long)(base + EDU_IRQ_ACK));
	uint32_t st2 = (uint32_t)qt("readl 0x%llx", (unsigned long long)(base + EDU_IRQ_STATUS));
	if (!(st1 & 1) || (st2 & 1))
		die("edu's interrupt status 0x%x after a raise, 0x%x after the ack: "
		    "the registers do not reach the device", st1, st2);
	printf("qtest-edu: raise/ack checked (status 0x%x -> 0x%x); %s, %llu s\n", st1, st2,
	       max ? "storming as fast as possible" : "storming paced", seconds);
	if (!max)
		printf("qtest-edu: target rate %llu/s\n", rate);

	/* --- the storm */
	double start = now_s(), end = seconds ? start + (double)seconds : 1e300;
	double next_print = start + 1.0, next_wake = start;
	double tick = max ? 0 : (rate <= 10000 ? 1.0 / (double)rate : 1e-4);
	unsigned long long raised = 0, at_print = 0, sched = 0, skipped = 0;
	/* --rate: at most 50 ms of raises owed at once */
	unsigned long long owe_max = rate / 20 + 1;
	char batch[PIPELINE * 2 * 64];
	size_t rl = strlen(raise_cmd), al = strlen(ack_cmd), blen = 0;

	ack_cmd[--al] = '\0';      /* names for errors */
	raise_cmd[--rl] = '\0';
	for (int i = 0; i < PIPELINE; i++) {
		memcpy(batch + blen, raise_cmd, rl);
		blen += rl;
		batch[blen++] = '\n';
		if (ack) {
			memcpy(batch + blen, ack_cmd, al);
			blen += al;
			batch[blen++] = '\n';
		}
	}

	while (!stop) {
		double t;

		if (max) {
			qt_send(batch, blen);
			for (int i = 0; i < PIPELINE; i++) {
				qt_reply(raise_cmd);
				if (ack)
					qt_reply(ack_cmd);
			}
			raised += PIPELINE;
		} else {
			unsigned long long due = (unsigned long long)((now_s() - start) * (double)rate);

			if (due > sched + owe_max) {   /* late: skip, no burst */
				skipped += due - sched - owe_max;
				sched = due - owe_max;
			}
			/* what is due, pipelined (PIPELINE at most per round
			 * trip): a round trip to a QEMU under TCG in a TCG guest
			 * takes milliseconds, one raise per round trip could not
			 * reach a few hundred per second */
			while (sched < due && !stop && now_s() < end) {
				unsigned n = due - sched < PIPELINE ? (unsigned)(due - sched) : PIPELINE;

				qt_send(batch, blen / PIPELINE * n);
				for (unsigned i = 0; i < n; i++) {
					qt_reply(raise_cmd);
					if (ack)
						qt_reply(ack_cmd);
				}
				sched += n;
				raised += n;
				due = (unsigned long long)((now_s() - start) * (double)rate);
				if (due > sched + owe_max) {
					skipped += due - sched - owe_max;
					sched = due - owe_max;
				}
			}
			next_wake += tick;
			if (next_wake < now_s() - tick)   /* late: no spinning to catch up */
				next_wake = now_s();
			if (next_wake > now_s())
				sleep_until(next_wake < end ? next_wake : end);
		}
		t = now_s();
		if (t >= next_print) {
			printf("qtest-edu: %llu raises in the last second\n", raised - at_print);
			at_print = raised;
			next_print += 1.0;
			if (next_print < t)
				next_print = t + 1.0;
			/* a guest asked to give the device up stops using it */
			if (unplug_requested()) {
				printf("qtest-edu: the VMM asks for the device back (attention button): stopping\n");
				break;
			}
		}
		if (t >= end)
			break;
	}
	double el = now_s() - start;
	if (el <= 0)
		el = 1e-9;
	printf("qtest-edu: done after %.2f s%s: %llu raises, %llu acks (%.0f raises/s), "
	       "%llu qtest commands in all\n",
	       el, stop ? " (signalled)" : "", raised, ack ? raised : 0, (double)raised / el, commands);
	if (skipped)
		printf("qtest-edu: QEMU could not keep up with %llu/s: %llu raises skipped\n",
		       rate, skipped);
	if (!ack)   /* leave the status clean */
		qt("writel 0x%llx 0x1", (unsigned long long)(base + EDU_IRQ_ACK));

	/* --- quiet again: MSI off, so QEMU releases the host vector */
	if (!leave_msi) {
		ctrl = cfg_read16(msi + 2);
		cfg_write16(msi + 2, (uint16_t)(ctrl & ~MSI_CTRL_ENABLE));
		printf("qtest-edu: MSI disabled\n");
		slots_restore();
	}
	close(qfd);
	return 0;
}
