// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of hostcrit.c: the four table parsers on kernel text, and
 * hostcrit_collect() over a small sysroot tree.
 */
#include "tree.h"

#include "hostcrit.h"

/* ---- recording callbacks -------------------------------------------- */

#define REC_MAX 16

struct rec {
	size_t n;
	unsigned major[REC_MAX], minor[REC_MAX];
	char a[REC_MAX][128]; /* source, or the name */
	char b[REC_MAX][128]; /* mount point */
	char fstype[REC_MAX][32];
};

static void rec_mount(void *ctx, unsigned major, unsigned minor, const char *fstype,
		      const char *source, const char *mountpoint)
{
	struct rec *r = ctx;

	assert_true(r->n < REC_MAX);
	snprintf(r->fstype[r->n], sizeof(r->fstype[0]), "%s", fstype);
	r->major[r->n] = major;
	r->minor[r->n] = minor;
	snprintf(r->a[r->n], sizeof(r->a[0]), "%s", source);
	snprintf(r->b[r->n], sizeof(r->b[0]), "%s", mountpoint);
	r->n++;
}

static void rec_name(void *ctx, const char *name)
{
	struct rec *r = ctx;

	assert_true(r->n < REC_MAX);
	snprintf(r->a[r->n], sizeof(r->a[0]), "%s", name);
	r->n++;
}

/* ---- /proc/self/mountinfo ------------------------------------------- */

static const char mountinfo[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
	"23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"25 24 0:6 / /sys/kernel/security rw,nosuid,nodev,noexec,relatime - securityfs "
	"securityfs rw\n"
	"40 22 254:0 / /home rw,relatime shared:30 - ext4 /dev/mapper/vg-home rw\n"
	"41 22 0:45 /@data /mnt/my\\040disk rw,relatime shared:31 master:2 - btrfs "
	"/dev/nvme1n1p1 rw,ssd,space_cache=v2,subvolid=256,subvol=/@data\n"
	"42 22 259:3 / /srv\\011tab rw,relatime master:5 propagate_from:1 unbindable - xfs "
	"/dev/disk\\040one rw,attr2,inode64\n"
	"60 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
	"cgroup2 rw,nsdelegate\n";

static void test_mountinfo(void **state)
{
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(hostcrit_parse_mountinfo(mountinfo, rec_mount, &r), 8);
	assert_int_equal(r.n, 8);

	assert_int_equal(r.major[0], 8);
	assert_int_equal(r.minor[0], 1);
	assert_string_equal(r.a[0], "/dev/sda1");
	assert_string_equal(r.b[0], "/");
	assert_string_equal(r.fstype[0], "ext4");

	assert_int_equal(r.major[1], 0);
	assert_int_equal(r.minor[1], 21);
	assert_string_equal(r.a[1], "proc");
	assert_string_equal(r.b[1], "/proc");

	/* no optional fields: the separator is field 7 */
	assert_int_equal(r.major[3], 0);
	assert_int_equal(r.minor[3], 6);
	assert_string_equal(r.a[3], "securityfs");
	assert_string_equal(r.b[3], "/sys/kernel/security");

	assert_int_equal(r.major[4], 254);
	assert_int_equal(r.minor[4], 0);
	assert_string_equal(r.a[4], "/dev/mapper/vg-home");
	assert_string_equal(r.b[4], "/home");

	/* btrfs: an anonymous device number, two optional fields, an escape */
	assert_int_equal(r.major[5], 0);
	assert_int_equal(r.minor[5], 45);
	assert_string_equal(r.a[5], "/dev/nvme1n1p1");
	assert_string_equal(r.b[5], "/mnt/my disk");

	/* three optional fields; escapes in the mount point and the source */
	assert_int_equal(r.major[6], 259);
	assert_int_equal(r.minor[6], 3);
	assert_string_equal(r.a[6], "/dev/disk one");
	assert_string_equal(r.b[6], "/srv\ttab");

	assert_string_equal(r.a[7], "cgroup2");
	assert_string_equal(r.b[7], "/sys/fs/cgroup");
}

static void test_mountinfo_backslash_not_octal(void **state)
{
	struct rec r = { 0 };

	(void)state;
	/* the kernel writes a backslash as \134; a lone one stays as is */
	assert_int_equal(hostcrit_parse_mountinfo("30 22 8:2 / /a\\134b\\9x rw - ext4 /dev/sda2 "
						  "rw\n",
						  rec_mount, &r),
			 1);
	assert_string_equal(r.b[0], "/a\\b\\9x");
}

static void test_mountinfo_malformed(void **state)
{
	static const char *const bad[] = {
		/* missing fields */
		"22 1 8:1 / / rw,relatime shared:1 - ext4\n",
		"22 1 8:1 / /\n",
		"22\n",
		/* no " - " separator */
		"22 1 8:1 / / rw,relatime shared:1 ext4 /dev/sda1 rw,errors=remount-ro\n",
		"22 1 8:1 / / rw,relatime shared:1 -- ext4 /dev/sda1 rw\n",
		/* the separator without a type and source after it */
		"22 1 8:1 / / rw,relatime shared:1 shared:2 shared:3 - ext4\n",
		/* no superblock options after the source */
		"22 1 8:1 / / rw shared:1 shared:2 - ext4 /dev/sda1\n",
		/* junk device numbers */
		"22 1 8 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
		"22 1 8:x / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
		"22 1 x:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
		"22 1 -8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
		"22 1 8:-1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
		"22 1 :1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
		"22 1 8: / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
		"22 1 0x8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
		"22 1 4294967296:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rec r = { 0 };

		if (hostcrit_parse_mountinfo(bad[i], rec_mount, &r) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(r.n, 0);
	}
}

static void test_mountinfo_bad_line_fails_the_table(void **state)
{
	struct rec r = { 0 };

	(void)state;
	/* a good line, then a broken one: the whole table is refused */
	assert_int_equal(hostcrit_parse_mountinfo(
				 "22 1 8:1 / / rw shared:1 - ext4 /dev/sda1 rw\n"
				 "40 22 254:0 / /home rw shared:30 ext4 /dev/dm-0 rw\n"
				 "41 22 8:3 / /var rw shared:31 - ext4 /dev/sda3 rw\n",
				 rec_mount, &r),
			 -EINVAL);
	/* the callback never sees what follows the bad line */
	assert_true(r.n <= 1);
}

static void test_mountinfo_empty(void **state)
{
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(hostcrit_parse_mountinfo("", rec_mount, &r), 0);
	assert_int_equal(hostcrit_parse_mountinfo("\n\n", rec_mount, &r), 0);
	assert_int_equal(r.n, 0);
	/* a last line without a newline counts */
	assert_int_equal(hostcrit_parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw", rec_mount,
						  &r),
			 1);
	assert_string_equal(r.a[0], "/dev/sda1");
}

/* ---- /proc/swaps ---------------------------------------------------- */

static const char swaps[] =
	"Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	"/dev/nvme0n1p3                          partition\t8388604\t\t0\t\t-2\n"
	"/swapfile                               file\t\t2097148\t\t1024\t\t-3\n"
	"/dev/mapper/vg-swap\\040a                partition\t1048572\t\t0\t\t-4\n"
	"/var/swap\\040file                       file\t\t1048572\t\t0\t\t-5\n";

static void test_swaps(void **state)
{
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(hostcrit_parse_swaps(swaps, rec_name, &r), 2);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.a[0], "/dev/nvme0n1p3");
	assert_string_equal(r.a[1], "/dev/mapper/vg-swap a");
}

static void test_swaps_empty_and_header_only(void **state)
{
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(hostcrit_parse_swaps("", rec_name, &r), 0);
	assert_int_equal(hostcrit_parse_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
					      rec_name, &r),
			 0);
	assert_int_equal(r.n, 0);
}

static void test_swaps_malformed(void **state)
{
	static const char *const bad[] = {
		/* wrong or missing header */
		"/dev/sda2 partition 8388604 0 -2\n",
		"Name Type Size Used Priority\n/dev/sda2 partition 8388604 0 -2\n",
		/* missing fields */
		"Filename Type Size Used Priority\n/dev/sda2 partition 8388604 0\n",
		"Filename Type Size Used Priority\n/dev/sda2\n",
		"Filename Type Size Used Priority\n/dev/sda2 partition 8388604 0 -2\n/dev/sdb2\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rec r = { 0 };

		if (hostcrit_parse_swaps(bad[i], rec_name, &r) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
}

/* ---- /proc/net/route ------------------------------------------------ */

/* The kernel pads every line of /proc/net/route to 127 columns. */
static char *route_table(const char *const *lines, size_t n)
{
	size_t cap = (n + 1) * 130 + 1, len = 0;
	char *buf = calloc(1, cap);

	assert_non_null(buf);
	len += (size_t)snprintf(buf + len, cap - len, "%-127s\n",
				"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\t"
				"Mask\t\tMTU\tWindow\tIRTT");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%-127s\n", lines[i]);
	return buf;
}

static void test_route(void **state)
{
	static const char *const lines[] = {
		/* the default route: up, gateway; dest and mask all zero */
		"eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
		/* the local network: not a default route */
		"eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0",
		/* a host route with a zero destination but a full mask */
		"eth3\t00000000\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0",
		/* a default route that is down */
		"eth2\t00000000\t0101A8C0\t0000\t0\t0\t200\t00000000\t0\t0\t0",
		/* an unreachable default route: RTF_REJECT */
		"*\t00000000\t00000000\t0201\t0\t0\t4278198272\t00000000\t0\t0\t0",
		/* a second default route, on a bond */
		"bond0\t00000000\t0102A8C0\t0003\t0\t0\t300\t00000000\t0\t0\t0",
		"docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
	};
	char *table = route_table(lines, sizeof(lines) / sizeof(lines[0]));
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(hostcrit_parse_route(table, rec_name, &r), 2);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.a[0], "eth0");
	assert_string_equal(r.a[1], "bond0");
	free(table);
}

static void test_route_empty(void **state)
{
	struct rec r = { 0 };
	char *table = route_table(NULL, 0);

	(void)state;
	assert_int_equal(hostcrit_parse_route("", rec_name, &r), 0);
	assert_int_equal(hostcrit_parse_route(table, rec_name, &r), 0);
	assert_int_equal(r.n, 0);
	free(table);
}

static void test_route_malformed(void **state)
{
	static const char *const bad[] = {
		/* wrong header, or none */
		"Destination\tIface\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n",
		"eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
		/* missing fields */
		"Iface\tDestination\tGateway\tFlags\neth0\t00000000\t0100A8C0\t0003\n",
		"Iface Destination\neth0\t00000000\t0100A8C0\t0003\t0\t0\t100\n",
		/* junk numbers */
		"Iface Destination\neth0\t0000000G\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
		"Iface Destination\neth0\t00000000\t0100A8C0\tzz\t0\t0\t100\t00000000\t0\t0\t0\n",
		"Iface Destination\neth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t-0000001\t0\t0\t0\n",
		"Iface Destination\neth0\t100000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rec r = { 0 };

		if (hostcrit_parse_route(bad[i], rec_name, &r) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(r.n, 0);
	}
}

/* ---- /proc/net/ipv6_route ------------------------------------------- */

#define Z32 "00000000000000000000000000000000"

static const char ipv6_route[] =
	/* default via eth0, learnt from a router advertisement */
	Z32 " 00 " Z32 " 00 fe80000000000000021122fffe334455 00000400 00000001 00000000 "
	    "00450003     eth0\n"
	/* a static default via wlan0 */
	Z32 " 00 " Z32 " 00 fe800000000000000000000000000001 00000400 00000002 00000000 "
	    "00000003    wlan0\n"
	/* non-default routes */
	"fe800000000000000000000000000000 40 " Z32 " 00 " Z32 " 00000100 00000001 00000000 "
	"00000001     eth0\n"
	"20010db8000000000000000000000000 40 " Z32 " 00 " Z32 " 00000100 00000001 00000000 "
	"00000001     eth0\n"
	"00000000000000000000000000000001 80 " Z32 " 00 " Z32 " 00000000 00000002 00000000 "
	"80200001       lo\n"
	/* a ::/0 default route that is down */
	Z32 " 00 " Z32 " 00 fe800000000000000000000000000002 00000400 00000000 00000000 "
	"00000002     eth1\n"
	/* the unreachable defaults the kernel keeps on lo */
	Z32 " 00 " Z32 " 00 " Z32 " ffffffff 00000001 00000000 00200200       lo\n"
	Z32 " 00 " Z32 " 00 " Z32 " ffffffff 00000001 00000000 00200200       lo\n";

static void test_ipv6_route(void **state)
{
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(hostcrit_parse_ipv6_route(ipv6_route, rec_name, &r), 2);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.a[0], "eth0");
	assert_string_equal(r.a[1], "wlan0");
}

static void test_ipv6_route_lo_and_reject(void **state)
{
	struct rec r = { 0 };

	(void)state;
	/* even "up" default entries on lo, or rejecting ones, are not the host's network */
	assert_int_equal(hostcrit_parse_ipv6_route(Z32 " 00 " Z32 " 00 " Z32
						   " 00000400 00000001 00000000 00000001 lo\n" Z32
						   " 00 " Z32 " 00 " Z32
						   " 00000400 00000001 00000000 00000201 eth0\n",
						   rec_name, &r),
			 0);
	assert_int_equal(r.n, 0);
}

static void test_ipv6_route_empty(void **state)
{
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(hostcrit_parse_ipv6_route("", rec_name, &r), 0);
	assert_int_equal(r.n, 0);
}

static void test_ipv6_route_malformed(void **state)
{
	static const char *const bad[] = {
		/* a header: the kernel prints none */
		"Destination Plen Source Slen NextHop Metric RefCnt Use Flags Iface\n",
		/* missing fields */
		Z32 " 00 " Z32 " 00 " Z32 " 00000400 00000001 00000000 00000003\n",
		Z32 " 00\n",
		/* a destination of the wrong length */
		"0000000000000000000000000000000 00 " Z32 " 00 " Z32
		" 00000400 00000001 00000000 00000003 eth0\n",
		/* junk numbers */
		Z32 " zz " Z32 " 00 " Z32 " 00000400 00000001 00000000 00000003 eth0\n",
		Z32 " 81 " Z32 " 00 " Z32 " 00000400 00000001 00000000 00000003 eth0\n",
		Z32 " 00 " Z32 " 00 " Z32 " 00000400 00000001 00000000 0000000x eth0\n",
		Z32 " 00 " Z32 " 00 " Z32 " 00000400 00000001 00000000 100000003 eth0\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rec r = { 0 };

		if (hostcrit_parse_ipv6_route(bad[i], rec_name, &r) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(r.n, 0);
	}
}

/* ---- hostcrit_collect over a sysroot -------------------------------- */

static const char collect_mountinfo[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
	"23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"26 22 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8131644k\n"
	"40 22 254:0 / /home rw,relatime shared:30 - ext4 /dev/mapper/vg-home rw\n"
	"41 22 0:45 /@data /srv/my\\040data rw,relatime shared:31 - btrfs /dev/sdb1 "
	"rw,ssd,subvolid=256,subvol=/@data\n"
	"43 22 0:46 / /tmp rw,nosuid,nodev shared:32 - tmpfs tmpfs rw\n";

static void build_sysroot(struct tree *t)
{
	/* / on sda1 behind the AHCI controller 00:1f.2 */
	tree_mkdir(t, "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/"
		      "block/sda/sda1");
	tree_link(t, "sys/dev/block/8:1",
		  "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/"
		  "sda/sda1");

	/* /home on dm-0, whose slave is an NVMe partition behind 04:00.0 */
	tree_mkdir(t, "sys/devices/virtual/block/dm-0/slaves");
	tree_mkdir(t, "sys/devices/pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/nvme0/nvme0n1/"
		      "nvme0n1p2");
	tree_link(t, "sys/dev/block/254:0", "../../devices/virtual/block/dm-0");
	tree_link(t, "sys/devices/virtual/block/dm-0/slaves/nvme0n1p2",
		  "../../../../pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/nvme0/nvme0n1/"
		  "nvme0n1p2");
	tree_link(t, "sys/class/block/nvme0n1p2",
		  "../../devices/pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/nvme0/nvme0n1/"
		  "nvme0n1p2");

	/* btrfs (device 0:45) on sdb1 behind the SATA controller 00:17.0 */
	tree_mkdir(t, "sys/devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/"
		      "block/sdb/sdb1");
	tree_link(t, "sys/class/block/sdb1",
		  "../../devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/"
		  "sdb/sdb1");

	/* swap on a partition of an NVMe disk behind 05:00.0; a swap file too */
	tree_mkdir(t, "sys/devices/pci0000:00/0000:00:1b.0/0000:05:00.0/nvme/nvme1/nvme1n1/"
		      "nvme1n1p3");
	tree_link(t, "sys/class/block/nvme1n1p3",
		  "../../devices/pci0000:00/0000:00:1b.0/0000:05:00.0/nvme/nvme1/nvme1n1/"
		  "nvme1n1p3");
	tree_write(t, "proc/swaps",
		   "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
		   "/dev/nvme1n1p3                          partition\t8388604\t\t0\t\t-2\n"
		   "/swapfile                               file\t\t2097148\t\t0\t\t-3\n");

	/* eth0 on 00:19.0 */
	tree_mkdir(t, "sys/devices/pci0000:00/0000:00:19.0/net/eth0");
	tree_link(t, "sys/class/net/eth0", "../../devices/pci0000:00/0000:00:19.0/net/eth0");

	/* bond0 over eth1 on 03:00.0 */
	tree_mkdir(t, "sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.0/net/eth1");
	tree_mkdir(t, "sys/devices/virtual/net/bond0");
	tree_link(t, "sys/class/net/bond0", "../../devices/virtual/net/bond0");
	tree_link(t, "sys/devices/virtual/net/bond0/lower_eth1",
		  "../../../pci0000:00/0000:00:1c.0/0000:03:00.0/net/eth1");
	tree_link(t, "sys/class/net/eth1",
		  "../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0/net/eth1");

	/* wlan0 on 06:00.0, the IPv6 default route */
	tree_mkdir(t, "sys/devices/pci0000:00/0000:00:1c.1/0000:06:00.0/net/wlan0");
	tree_link(t, "sys/class/net/wlan0",
		  "../../devices/pci0000:00/0000:00:1c.1/0000:06:00.0/net/wlan0");

	/* eth2 on 07:00.0 carries only a route that is down */
	tree_mkdir(t, "sys/devices/pci0000:00/0000:00:1c.2/0000:07:00.0/net/eth2");
	tree_link(t, "sys/class/net/eth2",
		  "../../devices/pci0000:00/0000:00:1c.2/0000:07:00.0/net/eth2");

	tree_write(t, "proc/self/mountinfo", collect_mountinfo);
	tree_write(t, "proc/net/route",
		   "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\t"
		   "Window\tIRTT\n"
		   "eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
		   "eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
		   "bond0\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n"
		   "eth2\t00000000\t0102A8C0\t0002\t0\t0\t300\t00000000\t0\t0\t0\n");
	tree_write(t, "proc/net/ipv6_route",
		   Z32 " 00 " Z32 " 00 fe800000000000000000000000000001 00000400 00000001 "
		       "00000000 00450003    wlan0\n" Z32 " 00 " Z32 " 00 " Z32
		       " ffffffff 00000001 00000000 00200200       lo\n");
}

struct cfx {
	struct tree t;
	struct hostfs h;
	struct host_critical_set set;
};

static int collect_setup(void **state)
{
	struct cfx *f = calloc(1, sizeof(*f));
	struct vf_err e = { 0 };

	assert_non_null(f);
	tree_init(&f->t);
	build_sysroot(&f->t);
	assert_int_equal(hostfs_init(&f->h, f->t.root, &e), 0);
	*state = f;
	return 0;
}

static int collect_teardown(void **state)
{
	struct cfx *f = *state;

	hostcrit_free(&f->set);
	hostfs_fini(&f->h);
	tree_destroy(&f->t);
	free(f);
	return 0;
}

static void expect_critical(const struct host_critical_set *s, const char *bdf, const char *why)
{
	const struct host_critical *c = hostcrit_find(s, bdf);

	if (!c)
		fail_msg("%s is not host-critical", bdf);
	assert_string_equal(c->why, why);
}

static void remove_file(const struct tree *t, const char *rel)
{
	char path[PATH_MAX];

	tree_abs(t, rel, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
}

static void test_collect(void **state)
{
	struct cfx *f = *state;

	hostcrit_collect(&f->h, &f->set);
	assert_string_equal(f->set.storage_unknown, "");
	assert_string_equal(f->set.network_unknown, "");
	expect_critical(&f->set, "0000:00:1f.2", "backs the filesystem mounted at /");
	expect_critical(&f->set, "0000:04:00.0", "backs the filesystem mounted at /home");
	expect_critical(&f->set, "0000:00:17.0", "backs the filesystem mounted at /srv/my data");
	expect_critical(&f->set, "0000:05:00.0", "backs the active swap area /dev/nvme1n1p3");
	expect_critical(&f->set, "0000:00:19.0",
			"carries the host's default route (interface eth0)");
	expect_critical(&f->set, "0000:03:00.0",
			"carries the host's default route (interface bond0)");
	expect_critical(&f->set, "0000:06:00.0",
			"carries the host's default route (interface wlan0)");
	/* exactly these: not the bridges above them, not eth2's NIC */
	assert_int_equal(f->set.n, 7);
	assert_null(hostcrit_find(&f->set, "0000:07:00.0"));
	assert_null(hostcrit_find(&f->set, "0000:00:1c.0"));
	assert_null(hostcrit_find(&f->set, "0000:00:1d.0"));
	assert_null(hostcrit_find(&f->set, "0000:00:1f.3"));
}

static void test_collect_first_reason_wins(void **state)
{
	struct cfx *f = *state;

	/* swap on a second partition of the root disk */
	tree_mkdir(&f->t, "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/"
			  "block/sda/sda2");
	tree_link(&f->t, "sys/class/block/sda2",
		  "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/"
		  "sda/sda2");
	tree_write(&f->t, "proc/swaps",
		   "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
		   "/dev/sda2                               partition\t8388604\t\t0\t\t-2\n");
	hostcrit_collect(&f->h, &f->set);
	expect_critical(&f->set, "0000:00:1f.2", "backs the filesystem mounted at /");
	assert_null(hostcrit_find(&f->set, "0000:05:00.0"));
	assert_int_equal(f->set.n, 6);
}

static void test_collect_swap_on_dm_through_dev_link(void **state)
{
	struct cfx *f = *state;

	/* /dev/mapper/vg-swap -> ../dm-1, whose slave is nvme1n1p3 */
	tree_link(&f->t, "dev/mapper/vg-swap", "../dm-1");
	tree_write(&f->t, "dev/dm-1", "");
	tree_mkdir(&f->t, "sys/devices/virtual/block/dm-1/slaves");
	tree_link(&f->t, "sys/class/block/dm-1", "../../devices/virtual/block/dm-1");
	tree_link(&f->t, "sys/devices/virtual/block/dm-1/slaves/nvme1n1p3",
		  "../../../../pci0000:00/0000:00:1b.0/0000:05:00.0/nvme/nvme1/nvme1n1/"
		  "nvme1n1p3");
	tree_write(&f->t, "proc/swaps",
		   "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
		   "/dev/mapper/vg-swap                     partition\t8388604\t\t0\t\t-2\n");
	hostcrit_collect(&f->h, &f->set);
	expect_critical(&f->set, "0000:05:00.0", "backs the active swap area /dev/mapper/vg-swap");
	assert_int_equal(f->set.n, 7);
}

static void test_collect_missing_mountinfo_fails_closed(void **state)
{
	struct cfx *f = *state;

	remove_file(&f->t, "proc/self/mountinfo");
	hostcrit_collect(&f->h, &f->set);
	assert_string_not_equal(f->set.storage_unknown, "");
	assert_non_null(strstr(f->set.storage_unknown, "proc/self/mountinfo"));
	assert_string_equal(f->set.network_unknown, "");
	/* nothing from the mount table; the network is still known */
	assert_null(hostcrit_find(&f->set, "0000:00:1f.2"));
	assert_non_null(hostcrit_find(&f->set, "0000:00:19.0"));
}

static void test_collect_unreadable_mountinfo_fails_closed(void **state)
{
	struct cfx *f = *state;

	/* a directory where the table should be: open works, read does not */
	remove_file(&f->t, "proc/self/mountinfo");
	tree_mkdir(&f->t, "proc/self/mountinfo");
	hostcrit_collect(&f->h, &f->set);
	assert_non_null(strstr(f->set.storage_unknown, "cannot read"));
	assert_non_null(strstr(f->set.storage_unknown, "proc/self/mountinfo"));
	assert_string_equal(f->set.network_unknown, "");
}

static void test_collect_malformed_mountinfo_fails_closed(void **state)
{
	struct cfx *f = *state;

	tree_write(&f->t, "proc/self/mountinfo",
		   "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		   "40 22 254:0 / /home rw,relatime shared:30 ext4 /dev/dm-0 rw\n");
	hostcrit_collect(&f->h, &f->set);
	assert_non_null(strstr(f->set.storage_unknown, "cannot parse"));
	assert_non_null(strstr(f->set.storage_unknown, "proc/self/mountinfo"));
}

static void test_collect_missing_optional_tables(void **state)
{
	struct cfx *f = *state;

	remove_file(&f->t, "proc/swaps");
	remove_file(&f->t, "proc/net/ipv6_route");
	hostcrit_collect(&f->h, &f->set);
	assert_string_equal(f->set.storage_unknown, "");
	assert_string_equal(f->set.network_unknown, "");
	assert_non_null(hostcrit_find(&f->set, "0000:00:1f.2"));
	assert_non_null(hostcrit_find(&f->set, "0000:00:19.0"));
	assert_null(hostcrit_find(&f->set, "0000:05:00.0")); /* no swap table */
	assert_null(hostcrit_find(&f->set, "0000:06:00.0")); /* no IPv6 table */
	assert_int_equal(f->set.n, 5);
	hostcrit_free(&f->set);

	/* no IPv4 routing table either (a host without IPv4) */
	remove_file(&f->t, "proc/net/route");
	hostcrit_collect(&f->h, &f->set);
	assert_string_equal(f->set.network_unknown, "");
	assert_null(hostcrit_find(&f->set, "0000:00:19.0"));
	assert_int_equal(f->set.n, 3);
}

static void test_collect_malformed_route_fails_closed(void **state)
{
	struct cfx *f = *state;

	tree_write(&f->t, "proc/net/route", "eth0\t00000000\t0100A8C0\t0003\n");
	hostcrit_collect(&f->h, &f->set);
	assert_non_null(strstr(f->set.network_unknown, "proc/net/route"));
	assert_string_equal(f->set.storage_unknown, "");
}

static void test_collect_hostile_names(void **state)
{
	struct cfx *f = *state;

	/* names that would climb out of sys/class are ignored, not followed */
	tree_write(&f->t, "proc/net/route",
		   "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\t"
		   "IRTT\n"
		   "..\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
	tree_write(&f->t, "proc/swaps",
		   "Filename Type Size Used Priority\n"
		   "/dev/.. partition 8388604 0 -2\n"
		   "/etc/passwd partition 8388604 0 -2\n");
	remove_file(&f->t, "proc/net/ipv6_route");
	hostcrit_collect(&f->h, &f->set);
	assert_string_equal(f->set.storage_unknown, "");
	assert_string_equal(f->set.network_unknown, "");
	assert_int_equal(f->set.n, 3); /* the three mounts */
}

static void test_collect_9p_by_tag(void **state)
{
	struct cfx *f = *state;

	/* a 9p mount names its virtio transport by tag */
	tree_mkdir(&f->t, "sys/devices/pci0000:00/0000:00:1e.0/virtio0");
	tree_mkdir(&f->t, "sys/devices/pci0000:00/0000:00:1e.1/virtio1");
	tree_link(&f->t, "sys/bus/virtio/devices/virtio0",
		  "../../../devices/pci0000:00/0000:00:1e.0/virtio0");
	tree_link(&f->t, "sys/bus/virtio/devices/virtio1",
		  "../../../devices/pci0000:00/0000:00:1e.1/virtio1");
	/* the kernel pads the tag with NULs */
	tree_write_n(&f->t, "sys/devices/pci0000:00/0000:00:1e.0/virtio0/mount_tag",
		       "host\0", 5);
	tree_write_n(&f->t, "sys/devices/pci0000:00/0000:00:1e.1/virtio1/mount_tag",
		       "results\0", 8);
	tree_write(&f->t, "proc/self/mountinfo",
		   "35 32 0:32 / /run/testbed rw,relatime - 9p results rw,trans=virtio\n");
	hostcrit_collect(&f->h, &f->set);
	expect_critical(&f->set, "0000:00:1e.1", "backs the filesystem mounted at /run/testbed");
	assert_null(hostcrit_find(&f->set, "0000:00:1e.0"));
	assert_string_equal(f->set.storage_unknown, "");
}

static void test_collect_zfs_fails_closed(void **state)
{
	struct cfx *f = *state;

	/* no sysfs link leads from a ZFS dataset to its disks */
	tree_write(&f->t, "proc/self/mountinfo",
		   "25 1 0:23 / / rw,relatime shared:1 - zfs rpool/ROOT/debian rw,xattr\n");
	hostcrit_collect(&f->h, &f->set);
	assert_non_null(strstr(f->set.storage_unknown, "zfs pool rpool/ROOT/debian"));
	assert_non_null(strstr(f->set.storage_unknown, "/ is mounted"));
}

int main(void)
{
#define C(fn) cmocka_unit_test_setup_teardown(fn, collect_setup, collect_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_mountinfo_backslash_not_octal),
		cmocka_unit_test(test_mountinfo_malformed),
		cmocka_unit_test(test_mountinfo_bad_line_fails_the_table),
		cmocka_unit_test(test_mountinfo_empty),
		cmocka_unit_test(test_swaps),
		cmocka_unit_test(test_swaps_empty_and_header_only),
		cmocka_unit_test(test_swaps_malformed),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_route_empty),
		cmocka_unit_test(test_route_malformed),
		cmocka_unit_test(test_ipv6_route),
		cmocka_unit_test(test_ipv6_route_lo_and_reject),
		cmocka_unit_test(test_ipv6_route_empty),
		cmocka_unit_test(test_ipv6_route_malformed),
		C(test_collect),
		C(test_collect_first_reason_wins),
		C(test_collect_swap_on_dm_through_dev_link),
		C(test_collect_missing_mountinfo_fails_closed),
		C(test_collect_unreadable_mountinfo_fails_closed),
		C(test_collect_malformed_mountinfo_fails_closed),
		C(test_collect_missing_optional_tables),
		C(test_collect_malformed_route_fails_closed),
		C(test_collect_hostile_names),
		C(test_collect_9p_by_tag),
		C(test_collect_zfs_fails_closed),
	};
#undef C

	return cmocka_run_group_tests(tests, NULL, NULL);
}
