// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the strict parsers in parse.c. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"

#define SENTINEL_U 0x5a5a5a5aull
#define SENTINEL_I 0x5a5a5a5all

static void assert_bdf_equal(const struct vf_bdf *a, const struct vf_bdf *b)
{
	assert_int_equal(a->domain, b->domain);
	assert_int_equal(a->bus, b->bus);
	assert_int_equal(a->dev, b->dev);
	assert_int_equal(a->fn, b->fn);
}

/* Parses `s`; on failure asserts the error and that *out was left alone. */
static int u64(const char *s, int base, uint64_t max, uint64_t *out)
{
	int r;

	*out = SENTINEL_U;
	r = vf_parse_u64(s, base, max, out);
	if (r < 0)
		assert_int_equal(*out, SENTINEL_U);
	return r;
}

static int i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int r;

	*out = SENTINEL_I;
	r = vf_parse_i64(s, min, max, out);
	if (r < 0)
		assert_int_equal(*out, SENTINEL_I);
	return r;
}

static void test_u64_decimal(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(u64("0", 10, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(u64("42", 10, UINT64_MAX, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(u64("000123", 10, UINT64_MAX, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(u64("18446744073709551615", 10, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	/* hex digits and a 0x prefix are not decimal */
	assert_int_equal(u64("1f", 10, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("0x10", 10, UINT64_MAX, &v), -EINVAL);
}

static void test_u64_hex(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(u64("1f", 16, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0x1f);
	assert_int_equal(u64("0x1F", 16, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0x1f);
	assert_int_equal(u64("0X8086", 16, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0x8086);
	assert_int_equal(u64("AbCdEf", 16, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0xabcdef);
	assert_int_equal(u64("0x0", 16, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(u64("ffffffffffffffff", 16, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(u64("0x010802", 16, 0xffffff, &v), 0);
	assert_int_equal(v, 0x010802);
	/* one prefix only, and nothing after it is not a number */
	assert_int_equal(u64("0x", 16, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("0X", 16, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("0x0x1", 16, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("x1", 16, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("1g", 16, UINT64_MAX, &v), -EINVAL);
}

static void test_u64_rejects_junk(void **state)
{
	static const char *const junk[] = {
		"", "+1", "-1", "-0", " 1", "1 ", "1\n", "\t1", "12xyz", "1.0", "1,0",
		"١", /* not ASCII */
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		assert_int_equal(u64(junk[i], 10, UINT64_MAX, &v), -EINVAL);
		assert_int_equal(u64(junk[i], 16, UINT64_MAX, &v), -EINVAL);
	}
	assert_int_equal(u64(NULL, 10, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("12abc", 10, UINT64_MAX, &v), -EINVAL);
	/* only bases 8, 10 and 16; octal takes no 8, 9 or "0x" */
	assert_int_equal(u64("8", 8, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("0x7", 8, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("0100002", 8, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0100002);
	assert_int_equal(u64("2000000000000000000000", 8, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(u64("1", 2, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("1", 0, UINT64_MAX, &v), -EINVAL);
}

static void test_u64_range(void **state)
{
	uint64_t v;

	(void)state;
	/* overflow of uint64 itself */
	assert_int_equal(u64("18446744073709551616", 10, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(u64("99999999999999999999999999", 10, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(u64("10000000000000000", 16, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(u64("0x1ffffffffffffffff", 16, UINT64_MAX, &v), -ERANGE);
	/* above the caller's max */
	assert_int_equal(u64("255", 10, 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(u64("256", 10, 255, &v), -ERANGE);
	assert_int_equal(u64("0xffff", 16, 0xffff, &v), 0);
	assert_int_equal(u64("0x10000", 16, 0xffff, &v), -ERANGE);
	assert_int_equal(u64("2", 10, 1, &v), -ERANGE);
	assert_int_equal(u64("0", 10, 0, &v), 0);
	assert_int_equal(u64("1", 10, 0, &v), -ERANGE);
	assert_int_equal(u64("4294967296", 10, UINT32_MAX, &v), -ERANGE);
}

static void test_i64(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(i64("-1", -1, INT32_MAX, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(i64("0", -1, INT32_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(i64("-0", -1, 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(i64("17", -1, INT32_MAX, &v), 0);
	assert_int_equal(v, 17);
	/* bounds given by the caller */
	assert_int_equal(i64("-2", -1, INT32_MAX, &v), -ERANGE);
	assert_int_equal(i64("-1", 0, 10, &v), -ERANGE);
	assert_int_equal(i64("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(i64("11", 0, 10, &v), -ERANGE);
	assert_int_equal(i64("2147483648", -1, INT32_MAX, &v), -ERANGE);
	/* the limits of int64 */
	assert_int_equal(i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -ERANGE);
	assert_int_equal(i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), -ERANGE);
	assert_int_equal(i64("-99999999999999999999", INT64_MIN, INT64_MAX, &v), -ERANGE);
	assert_int_equal(i64("-9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == -INT64_MAX);
	assert_int_equal(i64("-9223372036854775808", INT64_MIN + 1, INT64_MAX, &v), -ERANGE);
}

static void test_i64_rejects_junk(void **state)
{
	static const char *const junk[] = {
		"", "-", "--1", "+1", "- 1", " -1", "-1 ", "1-", "0x10", "-0x1", "1e3", "-a",
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(i64(junk[i], INT64_MIN, INT64_MAX, &v), -EINVAL);
	assert_int_equal(i64(NULL, INT64_MIN, INT64_MAX, &v), -EINVAL);
}

static void expect_bdf(const char *s, unsigned domain, unsigned bus, unsigned dev, unsigned fn)
{
	struct vf_bdf b;

	memset(&b, 0xee, sizeof(b));
	assert_int_equal(vf_parse_bdf(s, &b), 0);
	assert_int_equal(b.domain, domain);
	assert_int_equal(b.bus, bus);
	assert_int_equal(b.dev, dev);
	assert_int_equal(b.fn, fn);
}

static void test_bdf_valid(void **state)
{
	(void)state;
	expect_bdf("0000:00:00.0", 0, 0, 0, 0);
	expect_bdf("0000:00:1f.7", 0, 0, 0x1f, 7);
	expect_bdf("0000:03:00.1", 0, 3, 0, 1);
	expect_bdf("ffff:ff:1f.7", 0xffff, 0xff, 0x1f, 7);
	expect_bdf("10de:0a:1e.3", 0x10de, 0x0a, 0x1e, 3);
	/* upper case */
	expect_bdf("ABCD:EF:1F.3", 0xabcd, 0xef, 0x1f, 3);
	expect_bdf("0000:0A:0B.2", 0, 0x0a, 0x0b, 2);
	/* short form: domain 0 */
	expect_bdf("00:02.0", 0, 0, 2, 0);
	expect_bdf("3a:1f.7", 0, 0x3a, 0x1f, 7);
	expect_bdf("FF:00.1", 0, 0xff, 0, 1);
}

static void test_bdf_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"..",
		".",
		"0000:00:20.0",   /* device above 0x1f */
		"0000:00:ff.0",
		"00:20.0",
		"0000:00:1f.8",   /* function 8 */
		"0000:00:1f.9",
		"00:02.8",
		"0000:00:1f.a",
		"0000:00:02.00",  /* wrong lengths */
		"000:00:02.0",
		"00000:00:02.0",
		"0000:0:02.0",
		"0000:000:02.0",
		"0000:00:2.0",
		"0:02.0",
		"002.0",
		"00:02",
		"0000:00:02",
		"0000:00:02.0\n", /* trailing junk */
		"0000:00:02.0 ",
		" 0000:00:02.0",
		"00:02.0\n",
		"0000-00:02.0",   /* junk separators */
		"0000:00-02.0",
		"0000:00:02:0",
		"0000.00:02.0",
		"0000:00.02.0",
		"00.02.0",
		"00:02:0",
		"0000:0g:00.0",   /* junk digits */
		"000g:00:00.0",
		"0000:00:0x.0",
		"+000:00:00.0",
		"0000:+0:00.0",
		"0000:00: 2.0",
		"0000:00:-1.0",
		"0000:00:02.-",
		"..:..:...",
		"0000:00:1f./",
	};
	struct vf_bdf b = { 1, 2, 3, 4 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vf_parse_bdf(bad[i], &b) != -EINVAL)
			fail_msg("\"%s\" was accepted as a BDF", bad[i]);
	}
	assert_int_equal(vf_parse_bdf(NULL, &b), -EINVAL);
	/* failures leave the output alone */
	assert_int_equal(b.domain, 1);
	assert_int_equal(b.bus, 2);
	assert_int_equal(b.dev, 3);
	assert_int_equal(b.fn, 4);
}

/* What operators paste: virsh's node device names and lspci's short form. */
static void test_bdf_loose(void **state)
{
	static const char *const bad[] = {
		"",
		"pci_",
		"pci_0000_3b_00",
		"pci_0000_3b_00_0_",
		"pci_0000_3b_00_8",     /* function 8 */
		"pci_0000_3b_20_0",     /* device above 0x1f */
		"pci_0000:3b:00.0",     /* mixed forms */
		"pci_0000_3b:00_0",
		"pci_000_03b_00_0",
		"pci_0000_3b_00_0\n",
		" pci_0000_3b_00_0",
		"PCI_0000_3b_00_0",
		"pci 0000_3b_00_0",
		"usb_1_2",
		"net_eth0_52_54_00_12_34_56",
		"pci_0000_3b_00_0/../x",
		"pci_../../../etc_00_0",
		"pci_0000_3b_00_0;rm",
		"3b:00.0 ",
		"3b_00_0",
		"0000_3b_00_0",
		"0000:00:1f.8",
	};
	struct vf_bdf b = { 1, 2, 3, 4 };
	char out[VF_BDF_LEN];

	(void)state;
	assert_int_equal(vf_parse_bdf_loose("pci_0000_3b_00_0", &b), 0);
	vf_bdf_format(&b, out);
	assert_string_equal(out, "0000:3b:00.0");
	assert_int_equal(vf_parse_bdf_loose("pci_ABCD_EF_1F_7", &b), 0);
	vf_bdf_format(&b, out);
	assert_string_equal(out, "abcd:ef:1f.7");
	assert_int_equal(vf_parse_bdf_loose("3b:00.0", &b), 0);
	vf_bdf_format(&b, out);
	assert_string_equal(out, "0000:3b:00.0");
	assert_int_equal(vf_parse_bdf_loose("0001:3b:00.1", &b), 0);
	vf_bdf_format(&b, out);
	assert_string_equal(out, "0001:3b:00.1");
	b = (struct vf_bdf){ 1, 2, 3, 4 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vf_parse_bdf_loose(bad[i], &b) != -EINVAL)
			fail_msg("\"%s\" was accepted as a BDF", bad[i]);
	assert_int_equal(vf_parse_bdf_loose(NULL, &b), -EINVAL);
	assert_int_equal(b.domain, 1);
	assert_int_equal(b.fn, 4);
	/* the strict parser, which the daemon uses, still refuses virsh's form */
	assert_int_equal(vf_parse_bdf("pci_0000_3b_00_0", &b), -EINVAL);
}

static void test_bdf_format_round_trip(void **state)
{
	static const char *const in[] = {
		"0000:00:00.0", "0000:00:1f.7", "0000:03:00.1", "ffff:ff:1f.7",
		"ABCD:EF:1F.3", "00:02.0", "3A:1F.6", "0001:80:0a.2",
	};
	static const char *const canon[] = {
		"0000:00:00.0", "0000:00:1f.7", "0000:03:00.1", "ffff:ff:1f.7",
		"abcd:ef:1f.3", "0000:00:02.0", "0000:3a:1f.6", "0001:80:0a.2",
	};
	char buf[VF_BDF_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct vf_bdf b, again;

		assert_int_equal(vf_parse_bdf(in[i], &b), 0);
		memset(buf, 'X', sizeof(buf));
		vf_bdf_format(&b, buf);
		assert_string_equal(buf, canon[i]);
		assert_int_equal(strlen(buf), VF_BDF_LEN - 1);
		assert_true(vf_is_canonical_bdf(buf));
		assert_int_equal(vf_parse_bdf(buf, &again), 0);
		assert_bdf_equal(&b, &again);
	}
	/* every device and function number survives the trip */
	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			struct vf_bdf b = { 0x1234, 0x56, (uint8_t)dev, (uint8_t)fn }, again;

			vf_bdf_format(&b, buf);
			assert_true(vf_is_canonical_bdf(buf));
			assert_int_equal(vf_parse_bdf(buf, &again), 0);
			assert_bdf_equal(&b, &again);
		}
	}
}

static void test_is_canonical_bdf(void **state)
{
	(void)state;
	assert_true(vf_is_canonical_bdf("0000:00:1f.7"));
	assert_true(vf_is_canonical_bdf("0000:00:00.0"));
	assert_true(vf_is_canonical_bdf("abcd:ef:1f.3"));
	assert_false(vf_is_canonical_bdf("ABCD:EF:1F.3")); /* upper case */
	assert_false(vf_is_canonical_bdf("0000:00:1F.7"));
	assert_false(vf_is_canonical_bdf("00:1f.7"));     /* short form */
	assert_false(vf_is_canonical_bdf("0000:00:20.0"));
	assert_false(vf_is_canonical_bdf("0000:00:1f.8"));
	assert_false(vf_is_canonical_bdf("0000:00:1f.7 "));
	assert_false(vf_is_canonical_bdf("pci0000:00"));
	assert_false(vf_is_canonical_bdf("0:0:0:0"));
	assert_false(vf_is_canonical_bdf(""));
	assert_false(vf_is_canonical_bdf(NULL));
}

static void test_bdf_same_slot(void **state)
{
	struct vf_bdf a, b;

	(void)state;
	assert_int_equal(vf_parse_bdf("0000:00:06.0", &a), 0);
	assert_int_equal(vf_parse_bdf("0000:00:06.1", &b), 0);
	assert_true(vf_bdf_same_slot(&a, &b));
	assert_true(vf_bdf_same_slot(&b, &a));
	assert_true(vf_bdf_same_slot(&a, &a));
	assert_int_equal(vf_parse_bdf("0000:00:06.7", &b), 0);
	assert_true(vf_bdf_same_slot(&a, &b));
	assert_int_equal(vf_parse_bdf("0000:00:07.0", &b), 0);
	assert_false(vf_bdf_same_slot(&a, &b));
	assert_int_equal(vf_parse_bdf("0000:01:06.0", &b), 0);
	assert_false(vf_bdf_same_slot(&a, &b));
	assert_int_equal(vf_parse_bdf("0001:00:06.0", &b), 0);
	assert_false(vf_bdf_same_slot(&a, &b));
}

static void test_name_is_safe(void **state)
{
	static const char *const ok[] = {
		"eth0", "vfio-pci", "snd_hda_intel", "0000:00:1f.2", "nvme0n1p2", "a",
		"...", ".hidden", "a.", "a b", "caf\xc3\xa9", "~", "lower_eth1",
	};
	static const char *const bad[] = {
		"", ".", "..", "/", "a/b", "/a", "a/", "../x", "a\nb", "a\tb", "\x1b[31m",
		"a\x7f", "\x01", "line\r",
	};
	char name[300];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!vf_name_is_safe(ok[i]))
			fail_msg("\"%s\" was refused", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vf_name_is_safe(bad[i]))
			fail_msg("\"%s\" was accepted", bad[i]);
	assert_false(vf_name_is_safe(NULL));

	memset(name, 'a', sizeof(name));
	name[255] = '\0';
	assert_true(vf_name_is_safe(name)); /* 255 bytes: NAME_MAX */
	name[255] = 'a';
	name[256] = '\0';
	assert_false(vf_name_is_safe(name)); /* 256 bytes */
	name[254] = '/';
	name[255] = '\0';
	assert_false(vf_name_is_safe(name));
}

/* A real line (kernel 6.1) and a hostile command name with ") " inside. */
static void test_proc_start(void **state)
{
	const char *real = "1234 (sleep) S 1 1234 1234 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 "
			   "567890 5500928 219 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	const char *hostile = "99 (a) S 1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9 1 ) R 1 1 1 0 -1 0 0 0 0 0 0 0 "
			      "0 0 20 0 1 0 42 1 1\n";
	uint64_t st = 0;

	(void)state;
	assert_int_equal(vf_parse_proc_start(real, &st), 0);
	assert_int_equal(st, 567890);
	/* the fields after the LAST ')': a name cannot forge the start time */
	assert_int_equal(vf_parse_proc_start(hostile, &st), 0);
	assert_int_equal(st, 42);
	assert_int_equal(vf_parse_proc_start("1 (x) S 1 2 3\n", &st), -EINVAL);
	assert_int_equal(vf_parse_proc_start("no paren", &st), -EINVAL);
	assert_int_equal(vf_parse_proc_start(NULL, &st), -EINVAL);
}

static void test_proc_state(void **state)
{
	char c = 0;

	(void)state;
	assert_int_equal(vf_parse_proc_state("12 (a) Z) S 1 2\n", &c), 0);
	assert_int_equal(c, 'S'); /* after the last ')' */
	assert_int_equal(vf_parse_proc_state("12 (sleep) Z 1 2\n", &c), 0);
	assert_int_equal(c, 'Z');
	assert_int_equal(vf_parse_proc_state("12 (sleep)", &c), -EINVAL);
	assert_int_equal(vf_parse_proc_state("12 (sleep) ZZ 1", &c), -EINVAL);
}

static void test_status_ids(void **state)
{
	const char *text = "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t7\n"
			   "Uid:\t1002\t1003\t1004\t1005\nGid:\t10\t10\t10\t10\nGroups:\t10 \n";
	uint32_t ids[4] = { 0 };

	(void)state;
	assert_int_equal(vf_parse_status_ids(text, "Uid:", ids), 0);
	assert_int_equal(ids[0], 1002);
	assert_int_equal(ids[3], 1005);
	assert_int_equal(vf_parse_status_ids(text, "Gid:", ids), 0);
	assert_int_equal(ids[1], 10);
	assert_int_equal(vf_parse_status_ids("Uid:\t1\t2\t3\n", "Uid:", ids), -EINVAL);
	assert_int_equal(vf_parse_status_ids("Uid:\t1\t2\t3\t4\t5\n", "Uid:", ids), -EINVAL);
	assert_int_equal(vf_parse_status_ids("Uid:\t-1\t2\t3\t4\n", "Uid:", ids), -EINVAL);
	assert_int_equal(vf_parse_status_ids("Name:\tUid:\t1\n", "Uid:", ids), -EINVAL);
}

static void test_cpulist(void **state)
{
	uint64_t m[8192 / 64];
	char buf[64];

	(void)state;
	memset(m, 0, sizeof(m));
	assert_int_equal(vf_parse_cpulist("0-3,8,10-11\n", 0, m, 8192, NULL), 7);
	assert_int_equal(vf_format_cpulist(m, 8192, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "0-3,8,10-11");
	/* overlaps merge, adjacent items join */
	memset(m, 0, sizeof(m));
	assert_int_equal(vf_parse_cpulist("0-3,2-5,6", 0, m, 8192, NULL), 7);
	assert_true(vf_format_cpulist(m, 8192, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "0-6");
	memset(m, 0, sizeof(m));
	assert_int_equal(vf_parse_cpulist("0", 0, m, 8192, NULL), 1);
	assert_true(vf_format_cpulist(m, 8192, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "0");
	/* the last CPU, across a word boundary */
	memset(m, 0, sizeof(m));
	assert_int_equal(vf_parse_cpulist("63-64,8191", 0, m, 8192, NULL), 3);
	assert_true(vf_format_cpulist(m, 8192, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "63-64,8191");
	memset(m, 0, sizeof(m));
	assert_int_equal(vf_parse_cpulist("", 0, m, 8192, NULL), 0);
	assert_int_equal(vf_format_cpulist(m, 8192, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* every other CPU of 64 does not fit in 10 bytes */
	for (unsigned c = 0; c < 64; c += 2)
		m[0] |= UINT64_C(1) << c;
	assert_int_equal(vf_format_cpulist(m, 8192, buf, 10), -ENAMETOOLONG);
	assert_string_equal(buf, "");
	/* junk */
	memset(m, 0, sizeof(m));
	assert_int_equal(vf_parse_cpulist("3-1", 0, m, 8192, NULL), -EINVAL);
	assert_int_equal(vf_parse_cpulist(",", 0, m, 8192, NULL), -EINVAL);
	assert_int_equal(vf_parse_cpulist("1,", 0, m, 8192, NULL), -EINVAL);
	assert_int_equal(vf_parse_cpulist("1,,2", 0, m, 8192, NULL), -EINVAL);
	assert_int_equal(vf_parse_cpulist("1-", 0, m, 8192, NULL), -EINVAL);
	assert_int_equal(vf_parse_cpulist("1--2", 0, m, 8192, NULL), -EINVAL);
	assert_int_equal(vf_parse_cpulist("a", 0, m, 8192, NULL), -EINVAL);
	assert_int_equal(vf_parse_cpulist(" 1", 0, m, 8192, NULL), -EINVAL);
	assert_int_equal(vf_parse_cpulist("8192", 0, m, 8192, NULL), -ERANGE);
	assert_int_equal(vf_parse_cpulist("4", 0, m, 4, NULL), -ERANGE);
	assert_int_equal(vf_parse_cpulist("99999999999999999999", 0, m, 8192, NULL), -ERANGE);
}

/* the policy's flavour: blanks around items, and what was wrong */
static void test_cpulist_errors(void **state)
{
	uint64_t m[8192 / 64];
	struct vf_cpulist_err e;
	const char *s;

	(void)state;
	memset(m, 0, sizeof(m));
	assert_int_equal(vf_parse_cpulist(" 0 - 1 ", VF_CPULIST_BLANKS, m, 8192, &e), -EINVAL);
	assert_int_equal(e.kind, VF_CPULIST_NOT_A_CPU);
	assert_int_equal(vf_parse_cpulist(" 0-1 ,\t4 ", VF_CPULIST_BLANKS, m, 8192, &e), 3);
	assert_int_equal(vf_parse_cpulist(" 0-1", 0, m, 8192, &e), -EINVAL);
	s = "1, x-2 ,3";
	assert_int_equal(vf_parse_cpulist(s, VF_CPULIST_BLANKS, m, 8192, &e), -EINVAL);
	assert_int_equal(e.kind, VF_CPULIST_NOT_A_CPU);
	assert_int_equal(e.at, 3);
	assert_int_equal(e.len, 3); /* "x-2", blanks trimmed */
	assert_int_equal(vf_parse_cpulist("1,,2", VF_CPULIST_BLANKS, m, 8192, &e), -EINVAL);
	assert_int_equal(e.kind, VF_CPULIST_EMPTY_ITEM);
	assert_int_equal(vf_parse_cpulist("9000-3", 0, m, 8192, &e), -ERANGE);
	assert_int_equal(e.kind, VF_CPULIST_OUT_OF_RANGE);
	assert_int_equal(e.cpu, 9000);
	assert_int_equal(vf_parse_cpulist("5-3", 0, m, 8192, &e), -EINVAL);
	assert_int_equal(e.kind, VF_CPULIST_BACKWARDS);
	assert_int_equal(e.lo, 5);
	assert_int_equal(e.hi, 3);
	/* past 2^64 is not a number at all */
	assert_int_equal(vf_parse_cpulist("99999999999999999999", 0, m, 8192, &e), -ERANGE);
	assert_int_equal(e.kind, VF_CPULIST_NOT_A_CPU);
}

/* one mountinfo line, split in place */
static void test_mountinfo_line(void **state)
{
	char l1[] = "36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 - ext3 /dev/r\\134oot rw,errors=continue";
	char l2[] = "22 1 8:1 / / rw - ext4 /dev/sda1 rw";
	char l3[] = "22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw";
	char l4[] = "22 1 8:x / / rw - ext4 /dev/sda1 rw";
	char l5[] = "22 1 8:1 /\\9 /\\ rw - ext4 src rw";
	struct vf_mountinfo m;

	(void)state;
	assert_int_equal(vf_parse_mountinfo_line(l1, &m), 0);
	assert_int_equal(m.major, 98);
	assert_int_equal(m.minor, 0);
	assert_string_equal(m.root, "/mnt1");
	assert_string_equal(m.mountpoint, "/mnt 2");
	assert_string_equal(m.fstype, "ext3");
	assert_string_equal(m.source, "/dev/r\\oot");
	assert_string_equal(m.superopts, "rw,errors=continue");
	assert_int_equal(vf_parse_mountinfo_line(l2, &m), 0);
	assert_string_equal(m.source, "/dev/sda1");
	assert_int_equal(vf_parse_mountinfo_line(l3, &m), -EINVAL);
	assert_int_equal(vf_parse_mountinfo_line(l4, &m), -EINVAL);
	/* a backslash without three octal digits stays */
	assert_int_equal(vf_parse_mountinfo_line(l5, &m), 0);
	assert_string_equal(m.root, "/\\9");
	assert_string_equal(m.mountpoint, "/\\");
}

/* /proc/PID/cgroup: the v2 line, or the v1 line of one controller */
static void test_proc_cgroup(void **state)
{
	const char *hybrid = "12:devices:/user.slice\n4:cpu,cpuacct:/a b\n1:name=systemd:/x\n0::/v2/p\n";
	char p[64];

	(void)state;
	assert_int_equal(vf_parse_proc_cgroup(hybrid, "devices", p, sizeof(p)), 0);
	assert_string_equal(p, "/user.slice");
	assert_int_equal(vf_parse_proc_cgroup(hybrid, "cpu", p, sizeof(p)), 0);
	assert_string_equal(p, "/a b");
	assert_int_equal(vf_parse_proc_cgroup(hybrid, NULL, p, sizeof(p)), 0);
	assert_string_equal(p, "/v2/p");
	/* cpuacct is not cpu; no line at all */
	assert_int_equal(vf_parse_proc_cgroup("4:cpuacct:/a\n", "cpu", p, sizeof(p)), -ENOENT);
	assert_int_equal(vf_parse_proc_cgroup("4:cpuacct:/a\n", "devices", p, sizeof(p)), -ENOENT);
	/* malformed lines, relative paths, too long */
	assert_int_equal(vf_parse_proc_cgroup("12:devices\n", "devices", p, sizeof(p)), -EINVAL);
	assert_int_equal(vf_parse_proc_cgroup("12:devices:rel\n", "devices", p, sizeof(p)), -EINVAL);
	assert_int_equal(vf_parse_proc_cgroup("12:devices:/abcdef\n", "devices", p, 4), -ENAMETOOLONG);
	assert_true(vf_list_has("cpu,cpuacct", 11, "cpuacct", ','));
	assert_false(vf_list_has("cpu,cpuacct", 3, "cpuacct", ','));
	assert_true(vf_list_has("memory cpu\n", 11, "cpu", ' '));
	assert_false(vf_list_has("", 0, "cpu", ','));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_decimal),
		cmocka_unit_test(test_u64_hex),
		cmocka_unit_test(test_u64_rejects_junk),
		cmocka_unit_test(test_u64_range),
		cmocka_unit_test(test_i64),
		cmocka_unit_test(test_i64_rejects_junk),
		cmocka_unit_test(test_bdf_valid),
		cmocka_unit_test(test_bdf_invalid),
		cmocka_unit_test(test_bdf_loose),
		cmocka_unit_test(test_bdf_format_round_trip),
		cmocka_unit_test(test_is_canonical_bdf),
		cmocka_unit_test(test_bdf_same_slot),
		cmocka_unit_test(test_name_is_safe),
		cmocka_unit_test(test_proc_start),
		cmocka_unit_test(test_proc_state),
		cmocka_unit_test(test_status_ids),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_cpulist_errors),
		cmocka_unit_test(test_mountinfo_line),
		cmocka_unit_test(test_proc_cgroup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
