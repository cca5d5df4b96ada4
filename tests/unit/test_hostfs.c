// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the rooted host access in hostfs.c, over a mkdtemp tree. */
#include "tree.h"

#include "hostfs.h"
#include "util.h"

struct fx {
	struct tree t;
	struct hostfs h;
	int dev; /* fd of sys/devices/pci0000:00/0000:00:02.0 */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct vf_err e = { 0 };

	assert_non_null(f);
	tree_init(&f->t);
	tree_mkdir(&f->t, "sys/devices/pci0000:00/0000:00:02.0");
	tree_link(&f->t, "sys/bus/pci/devices/0000:00:02.0",
		  "../../../devices/pci0000:00/0000:00:02.0");
	assert_int_equal(hostfs_init(&f->h, f->t.root, &e), 0);
	f->dev = hostfs_open(&f->h, "sys/bus/pci/devices/0000:00:02.0",
			     O_RDONLY | O_DIRECTORY, &e);
	assert_true(f->dev >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->dev);
	hostfs_fini(&f->h);
	tree_destroy(&f->t);
	free(f);
	return 0;
}

#define DEV "sys/devices/pci0000:00/0000:00:02.0/"

static void test_init_missing_root(void **state)
{
	struct hostfs h;
	struct vf_err e = { 0 };

	(void)state;
	assert_true(hostfs_init(&h, "/nonexistent/vfiod-sysroot", &e) < 0);
	assert_int_equal(e.errnum, ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/vfiod-sysroot"));
}

static void test_attr_one_line(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char buf[64];

	tree_write(&f->t, DEV "vendor", "0x8086\n");
	assert_int_equal(hostfs_attr_at(f->dev, "vendor", buf, sizeof(buf), &e), 6);
	assert_string_equal(buf, "0x8086");

	/* no newline at all is fine too */
	tree_write(&f->t, DEV "numa_node", "-1");
	assert_int_equal(hostfs_attr_at(f->dev, "numa_node", buf, sizeof(buf), &e), 2);
	assert_string_equal(buf, "-1");

	/* an empty attribute is an empty value */
	tree_write(&f->t, DEV "driver_override", "\n");
	assert_int_equal(hostfs_attr_at(f->dev, "driver_override", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "");

	/* content that exactly fills the buffer, NUL included */
	tree_write(&f->t, DEV "class", "0x01080");
	assert_int_equal(hostfs_attr_at(f->dev, "class", buf, 8, &e), 7);
	assert_string_equal(buf, "0x01080");
}

static void test_attr_rejects_two_lines(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char buf[64];

	tree_write(&f->t, DEV "vendor", "0x8086\n0x10de\n");
	assert_true(hostfs_attr_at(f->dev, "vendor", buf, sizeof(buf), &e) < 0);
	assert_non_null(strstr(e.msg, "vendor"));
	assert_non_null(strstr(e.msg, "single-line"));

	/* only one trailing newline is dropped */
	tree_write(&f->t, DEV "device", "0x10d3\n\n");
	assert_true(hostfs_attr_at(f->dev, "device", buf, sizeof(buf), &e) < 0);

	/* nor may the value hold a NUL */
	tree_write_n(&f->t, DEV "class", "0x02\0000\n", 7);
	assert_true(hostfs_attr_at(f->dev, "class", buf, sizeof(buf), &e) < 0);
	assert_non_null(strstr(e.msg, "single-line"));
}

static void test_attr_rejects_long_content(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char buf[8];

	tree_write(&f->t, DEV "modalias", "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00\n");
	memset(buf, 'X', sizeof(buf));
	assert_true(hostfs_attr_at(f->dev, "modalias", buf, sizeof(buf), &e) < 0);
	assert_non_null(strstr(e.msg, "longer than 7 bytes"));

	/* one byte too many */
	tree_write(&f->t, DEV "vendor", "01234567");
	assert_true(hostfs_attr_at(f->dev, "vendor", buf, sizeof(buf), &e) < 0);

	/* a buffer that cannot hold a value and its NUL */
	tree_write(&f->t, DEV "irq", "1\n");
	assert_true(hostfs_attr_at(f->dev, "irq", buf, 1, &e) < 0);
	assert_int_equal(e.errnum, EINVAL);
}

static void test_attr_missing_and_symlink(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char buf[64];

	assert_true(hostfs_attr_at(f->dev, "boot_vga", buf, sizeof(buf), &e) < 0);
	assert_int_equal(e.errnum, ENOENT);

	/* attributes are read without following a link */
	tree_write(&f->t, DEV "vendor", "0x8086\n");
	tree_link(&f->t, DEV "vendor_link", "vendor");
	assert_true(hostfs_attr_at(f->dev, "vendor_link", buf, sizeof(buf), &e) < 0);
	assert_int_equal(e.errnum, ELOOP);
}

static void test_link_name(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char buf[32];

	tree_link(&f->t, DEV "driver", "../../../bus/pci/drivers/e1000e");
	assert_int_equal(hostfs_link_name_at(f->dev, "driver", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "e1000e");

	tree_link(&f->t, DEV "iommu_group", "../../../kernel/iommu_groups/7");
	assert_int_equal(hostfs_link_name_at(f->dev, "iommu_group", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "7");

	/* dangling is fine: only the name matters */
	tree_link(&f->t, DEV "physfn", "../0000:00:01.0");
	assert_int_equal(hostfs_link_name_at(f->dev, "physfn", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "0000:00:01.0");

	/* trailing slashes do not hide the name */
	tree_link(&f->t, DEV "virtfn0", "../0000:00:02.1//");
	assert_int_equal(hostfs_link_name_at(f->dev, "virtfn0", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "0000:00:02.1");

	/* a bare name */
	tree_link(&f->t, DEV "virtfn1", "0000:00:02.2");
	assert_int_equal(hostfs_link_name_at(f->dev, "virtfn1", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "0000:00:02.2");
}

static void test_link_name_no_link(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char buf[64] = "untouched";

	assert_int_equal(hostfs_link_name_at(f->dev, "driver", buf, sizeof(buf), &e), -ENOENT);
	assert_int_equal(e.errnum, 0);
	assert_string_equal(e.msg, "");

	/* a plain file is not "no link": it is an error of its own */
	tree_write(&f->t, DEV "driver", "e1000e\n");
	e.errnum = 0;
	assert_true(hostfs_link_name_at(f->dev, "driver", buf, sizeof(buf), &e) < 0);
	assert_int_not_equal(hostfs_link_name_at(f->dev, "driver", buf, sizeof(buf), &e), -ENOENT);
	assert_int_equal(e.errnum, EINVAL);
}

static void test_link_name_refuses_non_names(void **state)
{
	static const char *const targets[] = { "..", "../..", "../../..", "/", "foo/..", "a/./." };
	struct fx *f = *state;
	char buf[64];

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct vf_err e = { 0 };
		char path[PATH_MAX];

		tree_link(&f->t, DEV "x", targets[i]);
		strcpy(buf, "untouched");
		if (hostfs_link_name_at(f->dev, "x", buf, sizeof(buf), &e) != -EINVAL)
			fail_msg("link to \"%s\" gave a name \"%s\"", targets[i], buf);
		assert_non_null(strstr(e.msg, "not a name"));
		tree_abs(&f->t, DEV "x", path, sizeof(path));
		assert_int_equal(unlink(path), 0);
	}
}

static void test_link_name_too_long(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char buf[4];

	tree_link(&f->t, DEV "driver", "../../../bus/pci/drivers/snd_hda_intel");
	assert_int_equal(hostfs_link_name_at(f->dev, "driver", buf, sizeof(buf), &e),
			 -ENAMETOOLONG);
}

static void test_absolute_link_stays_in_root(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char *buf = NULL, canon[PATH_MAX];
	size_t len = 0;

	/* the host has /etc/passwd; the root does not */
	assert_int_equal(access("/etc/passwd", F_OK), 0);
	tree_link(&f->t, "sys/x", "/etc");
	assert_false(hostfs_exists(&f->h, "sys/x/passwd"));
	assert_true(hostfs_read_all(&f->h, "sys/x/passwd", 1 << 20, &buf, NULL, &e) < 0);
	assert_int_equal(e.errnum, ENOENT);
	assert_null(buf);

	tree_write(&f->t, "etc/marker", "inside\n");
	assert_true(hostfs_exists(&f->h, "sys/x/marker"));
	assert_int_equal(hostfs_read_all(&f->h, "sys/x/marker", 1 << 20, &buf, &len, &e), 0);
	assert_string_equal(buf, "inside\n");
	assert_int_equal(len, 7);
	free(buf);
	assert_int_equal(hostfs_canonical(&f->h, "sys/x/marker", canon, sizeof(canon), &e), 0);
	assert_string_equal(canon, "/etc/marker");

	/* an absolute path given to hostfs is relative to the root as well */
	assert_false(hostfs_exists(&f->h, "/etc/passwd"));
	assert_true(hostfs_exists(&f->h, "/etc/marker"));
}

static void test_dotdot_cannot_escape(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char *buf = NULL, canon[PATH_MAX];
	DIR *d;

	assert_false(hostfs_exists(&f->h, "../../../etc/passwd"));
	assert_false(hostfs_exists(&f->h, "sys/../../../../../../etc/passwd"));
	assert_true(hostfs_read_all(&f->h, "../../../../../../etc/passwd", 1 << 20, &buf, NULL,
				    &e) < 0);
	assert_null(buf);

	/* a relative link climbing out lands on the root */
	tree_link(&f->t, "sys/up", "../../../../../../../../../etc");
	assert_false(hostfs_exists(&f->h, "sys/up/passwd"));
	tree_write(&f->t, "etc/marker", "inside\n");
	assert_true(hostfs_exists(&f->h, "sys/up/marker"));
	assert_true(hostfs_exists(&f->h, "../../../etc/marker"));
	assert_int_equal(hostfs_canonical(&f->h, "sys/up", canon, sizeof(canon), &e), 0);
	assert_string_equal(canon, "/etc");
	assert_int_equal(hostfs_canonical(&f->h, "../../..", canon, sizeof(canon), &e), 0);
	assert_string_equal(canon, "/");

	/* listing ".." of the root lists the root */
	d = hostfs_opendir(&f->h, "..", &e);
	assert_non_null(d);
	{
		struct dirent *de;
		bool saw_sys = false, saw_etc = false;

		while ((de = readdir(d))) {
			saw_sys |= strcmp(de->d_name, "sys") == 0;
			saw_etc |= strcmp(de->d_name, "etc") == 0;
		}
		assert_true(saw_sys && saw_etc);
	}
	closedir(d);
}

static void test_canonical(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char canon[PATH_MAX];

	assert_int_equal(hostfs_canonical(&f->h, "sys/bus/pci/devices/0000:00:02.0", canon,
					  sizeof(canon), &e),
			 0);
	assert_string_equal(canon, "/sys/devices/pci0000:00/0000:00:02.0");

	/* links in the middle of the path, and an absolute one */
	tree_mkdir(&f->t, "sys/devices/pci0000:00/0000:00:02.0/net/eth0");
	tree_link(&f->t, "sys/class/net/eth0",
		  "../../devices/pci0000:00/0000:00:02.0/net/eth0");
	tree_link(&f->t, "sys/abs", "/sys/class");
	assert_int_equal(hostfs_canonical(&f->h, "sys/abs/net/eth0/../..", canon, sizeof(canon),
					  &e),
			 0);
	assert_string_equal(canon, "/sys/devices/pci0000:00/0000:00:02.0");
	assert_int_equal(hostfs_canonical(&f->h, "/sys/abs/net/eth0", canon, sizeof(canon), &e),
			 0);
	assert_string_equal(canon, "/sys/devices/pci0000:00/0000:00:02.0/net/eth0");

	/* the root itself */
	assert_int_equal(hostfs_canonical(&f->h, "", canon, sizeof(canon), &e), 0);
	assert_string_equal(canon, "/");
	assert_int_equal(hostfs_canonical(&f->h, "/", canon, sizeof(canon), &e), 0);
	assert_string_equal(canon, "/");

	/* missing, and a buffer too small */
	assert_true(hostfs_canonical(&f->h, "sys/class/net/eth9", canon, sizeof(canon), &e) < 0);
	assert_int_equal(e.errnum, ENOENT);
	assert_true(hostfs_canonical(&f->h, "sys/class/net/eth0", canon, 10, &e) < 0);
	assert_int_equal(e.errnum, ENAMETOOLONG);
}

static void test_read_all_max(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	char *big = malloc(9000), *buf = NULL;
	size_t len = 0;

	assert_non_null(big);
	memset(big, 'x', 9000);

	tree_write_n(&f->t, "proc/a", big, 11);
	assert_true(hostfs_read_all(&f->h, "proc/a", 10, &buf, &len, &e) < 0);
	assert_int_equal(e.errnum, E2BIG);
	assert_null(buf);
	assert_int_equal(hostfs_read_all(&f->h, "proc/a", 11, &buf, &len, &e), 0);
	assert_int_equal(len, 11);
	assert_int_equal(strlen(buf), 11);
	free(buf);
	buf = NULL;

	/* around the first 4 KiB read */
	tree_write_n(&f->t, "proc/b", big, 4096);
	assert_int_equal(hostfs_read_all(&f->h, "proc/b", 4096, &buf, &len, &e), 0);
	assert_int_equal(len, 4096);
	assert_int_equal(buf[4096], '\0');
	free(buf);
	buf = NULL;
	e.errnum = 0;
	assert_true(hostfs_read_all(&f->h, "proc/b", 4095, &buf, &len, &e) < 0);
	assert_int_equal(e.errnum, E2BIG);
	assert_null(buf);

	/* larger than one buffer */
	tree_write_n(&f->t, "proc/c", big, 9000);
	e.errnum = 0;
	assert_true(hostfs_read_all(&f->h, "proc/c", 8999, &buf, &len, &e) < 0);
	assert_int_equal(e.errnum, E2BIG);
	assert_non_null(strstr(e.msg, "larger than 8999 bytes"));
	assert_true(hostfs_read_all(&f->h, "proc/c", 5000, &buf, &len, &e) < 0);
	assert_int_equal(e.errnum, E2BIG);
	assert_int_equal(hostfs_read_all(&f->h, "proc/c", 9000, &buf, &len, &e), 0);
	assert_int_equal(len, 9000);
	assert_int_equal(strlen(buf), 9000);
	free(buf);
	buf = NULL;

	/* empty and missing */
	tree_write(&f->t, "proc/empty", "");
	assert_int_equal(hostfs_read_all(&f->h, "proc/empty", 10, &buf, NULL, &e), 0);
	assert_string_equal(buf, "");
	free(buf);
	buf = NULL;
	assert_true(hostfs_read_all(&f->h, "proc/none", 10, &buf, NULL, &e) < 0);
	assert_int_equal(e.errnum, ENOENT);
	assert_null(buf);
	free(big);
}

static void test_opendir_at_no_follow(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	DIR *d;

	tree_mkdir(&f->t, DEV "msi_irqs");
	tree_write(&f->t, DEV "msi_irqs/33", "msix\n");
	d = hostfs_opendir_at(f->dev, "msi_irqs", &e);
	assert_non_null(d);
	closedir(d);

	tree_link(&f->t, DEV "msi_link", "msi_irqs");
	assert_null(hostfs_opendir_at(f->dev, "msi_link", &e));
	assert_true(e.errnum == ENOTDIR || e.errnum == ELOOP);
	assert_null(hostfs_opendir_at(f->dev, "nothing", &e));
	assert_int_equal(e.errnum, ENOENT);
}

static void test_read_raw_at(void **state)
{
	struct fx *f = *state;
	struct vf_err e = { 0 };
	unsigned char cfg[64];
	unsigned char data[256];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	tree_write_n(&f->t, DEV "config", data, sizeof(data));
	memset(cfg, 0xee, sizeof(cfg));
	/* a short read stops at the end of the file */
	assert_int_equal(hostfs_read_raw_at(f->dev, "config", cfg, 16, &e), 16);
	assert_int_equal(cfg[15], 15);
	assert_int_equal(cfg[16], 0xee);
	assert_true(hostfs_read_raw_at(f->dev, "nope", cfg, sizeof(cfg), &e) < 0);
	assert_int_equal(e.errnum, ENOENT);
}

static void test_vf_path(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(vf_path(buf, sizeof(buf), "%s/%d", "ab", 42), 5);
	assert_string_equal(buf, "ab/42");
	assert_int_equal(vf_path(buf, sizeof(buf), "%s", "1234567"), 7);
	assert_int_equal(vf_path(buf, sizeof(buf), "%s", "12345678"), -ENAMETOOLONG);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_missing_root),
		T(test_attr_one_line),
		T(test_attr_rejects_two_lines),
		T(test_attr_rejects_long_content),
		T(test_attr_missing_and_symlink),
		T(test_link_name),
		T(test_link_name_no_link),
		T(test_link_name_refuses_non_names),
		T(test_link_name_too_long),
		T(test_absolute_link_stays_in_root),
		T(test_dotdot_cannot_escape),
		T(test_canonical),
		T(test_read_all_max),
		T(test_opendir_at_no_follow),
		T(test_read_raw_at),
		cmocka_unit_test(test_vf_path),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
