// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of handoff.c and contain.c: the CDI spec (pure), handing a
 * pooled unit to a container through CDI and taking it back, and quarantine
 * (silencing through the PCI command register) and unquarantine, over the
 * in-process model of the kernel's driver core (kmodel.h). Config space
 * writes are not hooked: they land in the model tree's 64-byte `config`
 * file, which the tests read back. After every step the store on disk must
 * say what the store in memory says. VM handoff runs against a fake VM
 * manager in place of libvirt; holders against real child processes.
 */
#include "engine_fx.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "engine.h"
#include "consumers.h"
#include "handoff.h"
#include "state.h"
#include "virt.h"

#include <libvirt/libvirt.h>

#define NIC "0000:00:03.0"   /* e1000e, group 3, flr */
#define EDU "0000:00:04.0"   /* no driver, group 4, no reset method */
#define GPU "0000:00:06.0"   /* no driver, group 6, no reset method */
#define AUD "0000:00:06.1"   /* snd_hda_intel, group 6, flr */
#define NIC_GROUP 3
#define EDU_GROUP 4
#define GPU_GROUP 6

#define NIC_SPEC "vfiod-0000_00_03.0.json"
#define GPU_SPEC "vfiod-0000_00_06.0.json"


static int setup(void **state)
{
	*state = fx_new(false);
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Entries of a directory (. and .. left out); -1 when it cannot be opened. */
static int dir_count(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void spec_path(const struct fx *f, const char *name, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%s", f->cdi, name);

	assert_true(n > 0 && (size_t)n < cap);
}

static void add_nic(struct fx *f)
{
	km_add_driver(&f->m, "e1000e", 0x8086, 0x10d3);
	km_add_dev(&f->m, NIC, 0x8086, 0x10d3, 0x020000, NIC_GROUP, "e1000e", "flr");
}

static void add_edu(struct fx *f)
{
	km_add_dev(&f->m, EDU, 0x1234, 0x11e8, 0x00ff00, EDU_GROUP, NULL, NULL);
}

static void add_gpu_unit(struct fx *f)
{
	km_add_driver(&f->m, "snd_hda_intel", 0x8086, 0x293e);
	km_add_dev(&f->m, GPU, 0x1234, 0x1111, 0x030000, GPU_GROUP, NULL, NULL);
	km_add_dev(&f->m, AUD, 0x8086, 0x293e, 0x040300, GPU_GROUP, "snd_hda_intel", "flr");
}

static void bind_ok(struct fx *f, const char *bdf, struct unit_result *res)
{
	struct vf_err e = { 0 };

	if (engine_bind(&f->en, bdf, res, &e) < 0) {
		km_log_dump(&f->m);
		fail_msg("bind %s: %s", bdf, e.msg);
	}
}

static void assign_ok(struct fx *f, const char *bdf, const char *tenant,
		      struct unit_result *res)
{
	struct vf_err e = { 0 };

	if (engine_assign_cdi(&f->en, bdf, tenant, f->cdi, res, &e) < 0)
		fail_msg("assign %s: %s", bdf, e.msg);
}

static void release_ok(struct fx *f, const char *bdf, struct unit_result *res)
{
	struct vf_err e = { 0 };

	if (engine_release(&f->en, bdf, res, &e) < 0) {
		km_log_dump(&f->m);
		fail_msg("release %s: %s", bdf, e.msg);
	}
}

static void quarantine_ok(struct fx *f, const char *bdf, struct unit_result *res)
{
	struct vf_err e = { 0 };

	if (engine_quarantine(&f->en, bdf, res, &e) < 0)
		fail_msg("quarantine %s: %s", bdf, e.msg);
}

static void unquarantine_ok(struct fx *f, const char *bdf, struct unit_result *res)
{
	struct vf_err e = { 0 };

	if (engine_unquarantine(&f->en, bdf, res, &e) < 0) {
		km_log_dump(&f->m);
		fail_msg("unquarantine %s: %s", bdf, e.msg);
	}
}

/* The store on disk, opened as a second store, says what the one in memory says. */
static void assert_disk_agrees(struct fx *f)
{
	struct store disk = { 0 };
	struct vf_err e = { 0 };
	char *mem, *ondisk;

	assert_int_equal(store_open(&disk, f->dir, &e), 0);
	mem = store_format(&f->s);
	ondisk = store_format(&disk);
	assert_string_equal(ondisk, mem);
	free(mem);
	free(ondisk);
	store_close(&disk);
}

/* ---- the config space in the model tree --------------------------------- */

static void config_abs(const struct fx *f, const char *bdf, char *buf, size_t cap)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/config", bdf);
	tree_abs(&f->m.t, rel, buf, cap);
}

/* The 64 bytes of the device's config space as the tree holds them. */
static void config_read(const struct fx *f, const char *bdf, unsigned char cfg[64])
{
	char p[PATH_MAX];
	struct stat st;
	int fd;

	config_abs(f, bdf, p, sizeof(p));
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 64);
	assert_int_equal(pread(fd, cfg, 64, 0), 64);
	close(fd);
}

static unsigned command_of(const struct fx *f, const char *bdf)
{
	unsigned char cfg[64];

	config_read(f, bdf, cfg);
	return (unsigned)cfg[PCI_COMMAND] | (unsigned)cfg[PCI_COMMAND + 1] << 8;
}

/* What firmware and the driver left in the command register. */
static void set_command(struct fx *f, const char *bdf, unsigned cmd)
{
	unsigned char v[2] = { (unsigned char)(cmd & 0xff), (unsigned char)(cmd >> 8) };
	char p[PATH_MAX];
	int fd;

	config_abs(f, bdf, p, sizeof(p));
	fd = open(p, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, v, 2, PCI_COMMAND), 2);
	close(fd);
	assert_int_equal(command_of(f, bdf), cmd);
}

/* Every byte of the config space but the command register is as it was. */
static void assert_config_rest(const struct fx *f, const char *bdf,
			       const unsigned char before[64])
{
	unsigned char now[64];

	config_read(f, bdf, now);
	for (size_t i = 0; i < 64; i++)
		if (i != PCI_COMMAND && i != PCI_COMMAND + 1)
			assert_int_equal(now[i], before[i]);
}

/* ---- records -------------------------------------------------------------- */

static void assert_pooled_rec(struct fx *f, const char *bdf)
{
	const struct dev_rec *r = store_find(&f->s, bdf);

	assert_non_null(r);
	assert_int_equal(r->state, DEV_POOLED);
	assert_string_equal(consumer_of(r), "");
	assert_string_equal(r->tenant, "");
	assert_int_equal(r->saved_command, -1);
	assert_string_equal(km_driver(&f->m, bdf), "vfio-pci");
}

static void assert_assigned_rec(struct fx *f, const char *bdf, const char *spec,
				const char *tenant)
{
	const struct dev_rec *r = store_find(&f->s, bdf);
	char consumer[PATH_MAX + 64];

	assert_non_null(r);
	assert_int_equal(r->state, DEV_ASSIGNED);
	snprintf(consumer, sizeof(consumer), "cdi:%s", spec);
	assert_string_equal(consumer_of(r), consumer);
	assert_string_equal(r->tenant, tenant);
	assert_true(r->since > 0);
	assert_string_equal(km_driver(&f->m, bdf), "vfio-pci");
}

/* What a refusal must leave alone: the store in memory and on disk, the CDI dir. */
struct snap {
	char *mem, *disk;
	int cdi_entries;
};

static struct snap snap_take(const struct fx *f)
{
	struct snap s = { store_format(&f->s), state_file_text(f), dir_count(f->cdi) };

	return s;
}

static void snap_check(const struct fx *f, struct snap *s)
{
	struct snap now = snap_take(f);

	assert_string_equal(now.mem, s->mem);
	if (s->disk)
		assert_string_equal(now.disk, s->disk);
	else
		assert_null(now.disk);
	assert_int_equal(now.cdi_entries, s->cdi_entries);
	free(now.mem);
	free(now.disk);
	free(s->mem);
	free(s->disk);
}

/* ---- CDI device names ------------------------------------------------------ */

static bool cdi_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * The CDI device-name rule: letters, digits, '_', '-', ':', '.', starting
 * (and, as the reference parser also wants, ending) with a letter or digit.
 */
static bool cdi_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || !cdi_alnum(name[0]) || !cdi_alnum(name[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!cdi_alnum(name[i]) && !strchr("_-:.", name[i]))
			return false;
	return true;
}

static void test_cdi_name_rule(void **state)
{
	(void)state;
	assert_true(cdi_name_valid("0000:3b:00.0"));
	assert_true(cdi_name_valid("iommu-group-12"));
	assert_true(cdi_name_valid("a"));
	assert_false(cdi_name_valid(""));
	assert_false(cdi_name_valid("-a"));
	assert_false(cdi_name_valid(":0000"));
	assert_false(cdi_name_valid("a/b"));
	assert_false(cdi_name_valid("a b"));
	assert_false(cdi_name_valid("a="));
}

/* Every device of a spec has a valid, distinct name; returns how many. */
static size_t check_spec_names(struct json_object *spec)
{
	struct json_object *devs, *d, *name;
	size_t n;

	assert_true(json_object_object_get_ex(spec, "devices", &devs));
	assert_true(json_object_is_type(devs, json_type_array));
	n = json_object_array_length(devs);
	for (size_t i = 0; i < n; i++) {
		d = json_object_array_get_idx(devs, i);
		assert_true(json_object_object_get_ex(d, "name", &name));
		assert_true(json_object_is_type(name, json_type_string));
		if (!cdi_name_valid(json_object_get_string(name)))
			fail_msg("CDI device name \"%s\" is not valid", json_object_get_string(name));
		for (size_t k = 0; k < i; k++) {
			struct json_object *o = json_object_array_get_idx(devs, k), *on;

			assert_true(json_object_object_get_ex(o, "name", &on));
			assert_string_not_equal(json_object_get_string(on),
						json_object_get_string(name));
		}
	}
	return n;
}

static const char *plain(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- pure functions --------------------------------------------------------- */

static void test_silenced_command(void **state)
{
	(void)state;
	assert_int_equal(silenced_command(0x0000), 0x0400);
	assert_int_equal(silenced_command(0x0007), 0x0403);
	assert_int_equal(silenced_command(0x0507), 0x0503);
	assert_int_equal(silenced_command(0x0107), 0x0503);
	assert_int_equal(silenced_command(0x0403), 0x0403);
	assert_int_equal(silenced_command(0x0004), 0x0400);
	assert_int_equal(silenced_command(0xffff), 0xfffb);
	assert_int_equal(silenced_command(silenced_command(0x0146)), silenced_command(0x0146));
}

#define NODES(g)                                                                  \
	"\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/vfio/vfio\"},"     \
	"{\"path\":\"/dev/vfio/" g "\"}]}"

static void test_cdi_spec_one(void **state)
{
	static const char bdfs[1][VF_BDF_LEN] = { "0000:3b:00.0" };
	struct json_object *spec;

	(void)state;
	spec = cdi_spec(bdfs, 1, 42);
	assert_non_null(spec);
	assert_string_equal(plain(spec),
			    "{\"cdiVersion\":\"0.6.0\",\"kind\":\"vfiod.io/pci\",\"devices\":["
			    "{\"name\":\"0000:3b:00.0\"," NODES("42") "},"
			    "{\"name\":\"iommu-group-42\"," NODES("42") "}]}");
	assert_int_equal(check_spec_names(spec), 2);
	json_object_put(spec);
}

static void test_cdi_spec_two(void **state)
{
	static const char bdfs[2][VF_BDF_LEN] = { "0000:3b:00.0", "0000:3b:00.1" };
	struct json_object *spec;

	(void)state;
	spec = cdi_spec(bdfs, 2, 7);
	assert_non_null(spec);
	assert_string_equal(plain(spec),
			    "{\"cdiVersion\":\"0.6.0\",\"kind\":\"vfiod.io/pci\",\"devices\":["
			    "{\"name\":\"0000:3b:00.0\"," NODES("7") "},"
			    "{\"name\":\"0000:3b:00.1\"," NODES("7") "},"
			    "{\"name\":\"iommu-group-7\"," NODES("7") "}]}");
	assert_int_equal(check_spec_names(spec), 3);
	json_object_put(spec);

	/* group 0 and a large group number are names too */
	spec = cdi_spec(bdfs, 1, 0);
	assert_non_null(strstr(plain(spec), "\"name\":\"iommu-group-0\""));
	assert_non_null(strstr(plain(spec), "\"/dev/vfio/0\""));
	check_spec_names(spec);
	json_object_put(spec);
	spec = cdi_spec(bdfs, 2, 2147483647);
	assert_non_null(strstr(plain(spec), "\"name\":\"iommu-group-2147483647\""));
	assert_non_null(strstr(plain(spec), "\"/dev/vfio/2147483647\""));
	check_spec_names(spec);
	json_object_put(spec);
}

static void test_cdi_spec_name(void **state)
{
	char buf[64];

	(void)state;
	cdi_spec_name("0000:3b:00.0", buf, sizeof(buf));
	assert_string_equal(buf, "vfiod-0000_3b_00.0.json");
	cdi_spec_name("ffff:ff:1f.7", buf, sizeof(buf));
	assert_string_equal(buf, "vfiod-ffff_ff_1f.7.json");
	assert_null(strchr(buf, ':'));
	/* a short buffer truncates, terminated */
	cdi_spec_name("0000:3b:00.0", buf, 12);
	assert_string_equal(buf, "vfiod-0000_");
}

/* ---- assign ------------------------------------------------------------------ */

/* The spec file: there, mode 0644, parses, equals cdi_spec() of the unit. */
static void check_spec_file(const char *path, const char (*bdfs)[VF_BDF_LEN], size_t n,
			    int group)
{
	struct json_object *disk, *want;
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	disk = json_object_from_file(path);
	if (!disk)
		fail_msg("%s does not parse", path);
	want = cdi_spec(bdfs, n, group);
	if (!json_object_equal(disk, want))
		fail_msg("%s:\n%s\nwanted:\n%s", path, plain(disk), plain(want));
	assert_int_equal(check_spec_names(disk), n + 1);
	json_object_put(want);
	json_object_put(disk);
}

static void test_assign_nic(void **state)
{
	static const char bdfs[1][VF_BDF_LEN] = { NIC };
	struct fx *f = *state;
	struct unit_result res;
	char path[PATH_MAX];

	add_nic(f);
	bind_ok(f, NIC, &res);
	assert_false(path_exists(f->cdi));
	km_log_reset(&f->m);
	assign_ok(f, "00:03.0", "team-a", &res);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.bdf[0], NIC);
	assert_false(res.already);
	/* the directory was created, holds the spec and nothing else */
	spec_path(f, NIC_SPEC, path, sizeof(path));
	check_spec_file(path, bdfs, 1, NIC_GROUP);
	assert_int_equal(dir_count(f->cdi), 1);
	assert_assigned_rec(f, NIC, path, "team-a");
	assert_int_equal(store_find(&f->s, NIC)->saved_command, -1);
	/* the kernel is not touched */
	assert_int_equal(f->m.n_writes, 0);
	assert_string_equal(km_override(&f->m, NIC), "vfio-pci");
	assert_disk_agrees(f);
}

static void test_assign_no_tenant(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	char path[PATH_MAX];

	add_edu(f);
	bind_ok(f, EDU, &res);
	/* the CDI dir exists already */
	assert_int_equal(mkdir(f->cdi, 0755), 0);
	assign_ok(f, EDU, "", &res);
	spec_path(f, "vfiod-0000_00_04.0.json", path, sizeof(path));
	assert_true(path_exists(path));
	assert_assigned_rec(f, EDU, path, "");
	assert_disk_agrees(f);
}

static void test_assign_unit(void **state)
{
	static const char bdfs[2][VF_BDF_LEN] = { GPU, AUD };
	struct fx *f = *state;
	struct unit_result res;
	char path[PATH_MAX];

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	assert_int_equal(res.n, 2);
	/* asked through the second member: the spec is the unit's, named by its lead */
	assign_ok(f, AUD, "team-b", &res);
	assert_int_equal(res.n, 2);
	assert_string_equal(res.bdf[0], GPU);
	assert_string_equal(res.bdf[1], AUD);
	spec_path(f, GPU_SPEC, path, sizeof(path));
	check_spec_file(path, bdfs, 2, GPU_GROUP);
	assert_int_equal(dir_count(f->cdi), 1);
	assert_assigned_rec(f, GPU, path, "team-b");
	assert_assigned_rec(f, AUD, path, "team-b");
	assert_disk_agrees(f);
}

/* Expects a refusal with `code` that changed nothing. */
static void assert_assign_refused(struct fx *f, const char *bdf, const char *code)
{
	struct unit_result res;
	struct vf_err e = { 0 };
	struct snap s = snap_take(f);

	km_log_reset(&f->m);
	assert_int_equal(engine_assign_cdi(&f->en, bdf, "team-x", f->cdi, &res, &e), -1);
	assert_non_null(e.code);
	assert_string_equal(e.code, code);
	assert_true(e.msg[0]);
	assert_int_equal(f->m.n_writes, 0);
	snap_check(f, &s);
}

static void test_assign_refusals(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	char path[PATH_MAX];
	struct dev_rec *r;

	add_nic(f);
	add_edu(f);
	add_gpu_unit(f);
	/* nothing owned yet */
	assert_assign_refused(f, NIC, "not-found");
	assert_assign_refused(f, "0000:00:1f.0", "not-found");
	assert_assign_refused(f, "not-a-bdf", "bad-request");
	bind_ok(f, NIC, &res);
	bind_ok(f, GPU, &res);
	/* a device on the host is not vfiod's to hand out */
	assert_assign_refused(f, EDU, "not-found");

	/* assigned: busy, also through another member of the unit */
	assign_ok(f, NIC, "team-a", &res);
	assert_assign_refused(f, NIC, "busy");
	assign_ok(f, GPU, "team-a", &res);
	assert_assign_refused(f, AUD, "busy");
	assert_assign_refused(f, GPU, "busy");
	spec_path(f, NIC_SPEC, path, sizeof(path));
	{
		/* the refusal says whose it is: the consumer in words and the tenant */
		struct vf_err e = { 0 };
		char want[PATH_MAX + 128];

		assert_int_equal(engine_assign_cdi(&f->en, NIC, "team-x", f->cdi, &res, &e), -1);
		snprintf(want, sizeof(want), "%s is assigned to a container (CDI spec %s) for tenant team-a",
			 NIC, path);
		assert_string_equal(e.msg, want);
	}
	assert_assigned_rec(f, NIC, path, "team-a");

	/* quarantined: busy */
	release_ok(f, NIC, &res);
	quarantine_ok(f, NIC, &res);
	assert_int_equal(store_find(&f->s, NIC)->state, DEV_QUARANTINED);
	assert_assign_refused(f, NIC, "busy");
	r = store_find(&f->s, NIC);
	assert_int_equal(r->state, DEV_QUARANTINED);
	assert_string_equal(consumer_of(r), "");
	assert_false(path_exists(path));
	assert_disk_agrees(f);
}

static void test_assign_cdi_dir_blocked(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	char sub[PATH_MAX + 16];
	struct snap s;

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	/* a file where the CDI directory should be */
	tree_write(&f->st, "cdi", "not a directory\n");
	s = snap_take(f);
	assert_int_equal(engine_assign_cdi(&f->en, GPU, "team-a", f->cdi, &res, &e), -1);
	assert_true(e.msg[0]);
	assert_null(e.code); /* a failure, not a refusal */
	snap_check(f, &s);
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_disk_agrees(f);
	/* the file in the way is left alone */
	{
		char *text = read_text(f->cdi);

		assert_non_null(text);
		assert_string_equal(text, "not a directory\n");
		free(text);
	}

	/* a file in the way of the directory's parent */
	snprintf(sub, sizeof(sub), "%s/cdi", f->cdi);
	s = snap_take(f);
	vf_err_clear(&e);
	assert_int_equal(engine_assign_cdi(&f->en, AUD, "team-a", sub, &res, &e), -1);
	assert_true(e.msg[0]);
	assert_null(e.code);
	snap_check(f, &s);
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_disk_agrees(f);

	/* once the way is clear it works */
	assert_int_equal(unlink(f->cdi), 0);
	assign_ok(f, GPU, "team-a", &res);
	assert_int_equal(store_find(&f->s, AUD)->state, DEV_ASSIGNED);
}

/* ---- release ----------------------------------------------------------------- */

static void test_release_nic(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	const struct dev_rec *r;
	char path[PATH_MAX];

	add_nic(f);
	bind_ok(f, NIC, &res);
	assign_ok(f, NIC, "team-a", &res);
	spec_path(f, NIC_SPEC, path, sizeof(path));
	assert_true(path_exists(path));
	km_log_reset(&f->m);
	release_ok(f, "00:03.0", &res);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.bdf[0], NIC);
	assert_false(path_exists(path));
	assert_int_equal(dir_count(f->cdi), 0);
	assert_pooled_rec(f, NIC);
	r = store_find(&f->s, NIC);
	assert_false(r->reset_pending);
	assert_false(r->no_reset_method);
	/* one write: the reset */
	if (f->m.n_writes != 1)
		km_log_dump(&f->m);
	assert_int_equal(f->m.n_writes, 1);
	assert_string_equal(f->m.log[0].path, "sys/bus/pci/devices/" NIC "/reset");
	assert_string_equal(f->m.log[0].value, "1");
	assert_int_equal(f->m.log[0].err, 0);
	assert_disk_agrees(f);

	/* released again: not assigned */
	km_log_reset(&f->m);
	{
		struct snap s = snap_take(f);

		assert_int_equal(engine_release(&f->en, NIC, &res, &e), -1);
		assert_non_null(e.code);
		assert_string_equal(e.code, "not-found");
		snap_check(f, &s);
	}
	assert_int_equal(f->m.n_writes, 0);

	/* and it can be assigned again */
	assign_ok(f, NIC, "team-b", &res);
	assert_assigned_rec(f, NIC, path, "team-b");
	assert_disk_agrees(f);
}

static void test_release_unit(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	char path[PATH_MAX];

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	/* make the records say the opposite of what the kernel offers */
	store_find(&f->s, GPU)->no_reset_method = false;
	store_find(&f->s, AUD)->no_reset_method = true;
	assign_ok(f, GPU, "team-a", &res);
	spec_path(f, GPU_SPEC, path, sizeof(path));
	km_log_reset(&f->m);
	release_ok(f, AUD, &res);
	assert_int_equal(res.n, 2);
	assert_false(path_exists(path));
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	/* AUD has flr: reset; the GPU offers none: recorded */
	assert_int_equal(km_log_count(&f->m, AUD "/reset", "1"), 1);
	assert_int_equal(km_log_count(&f->m, GPU, NULL), 0);
	assert_int_equal(f->m.n_writes, 1);
	assert_true(store_find(&f->s, GPU)->no_reset_method);
	assert_false(store_find(&f->s, AUD)->no_reset_method);
	assert_false(store_find(&f->s, GPU)->reset_pending);
	assert_false(store_find(&f->s, AUD)->reset_pending);
	assert_disk_agrees(f);
}

static void test_release_refusals(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	struct snap s;

	add_nic(f);
	add_edu(f);
	/* not owned */
	s = snap_take(f);
	assert_int_equal(engine_release(&f->en, EDU, &res, &e), -1);
	assert_string_equal(e.code, "not-found");
	snap_check(f, &s);
	/* pooled */
	bind_ok(f, NIC, &res);
	km_log_reset(&f->m);
	s = snap_take(f);
	assert_int_equal(engine_release(&f->en, NIC, &res, &e), -1);
	assert_non_null(e.code);
	assert_string_equal(e.code, "not-found");
	snap_check(f, &s);
	assert_int_equal(f->m.n_writes, 0);
	/* quarantined: not assigned either */
	quarantine_ok(f, NIC, &res);
	s = snap_take(f);
	assert_int_equal(engine_release(&f->en, NIC, &res, &e), -1);
	assert_string_equal(e.code, "not-found");
	snap_check(f, &s);
	assert_int_equal(f->m.n_writes, 0);
}

/* ---- quarantine ---------------------------------------------------------------- */

static void test_quarantine_pooled(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	unsigned char before[64];
	const struct dev_rec *r;
	struct snap s;

	add_nic(f);
	bind_ok(f, NIC, &res);
	/* I/O, memory, bus master, SERR# */
	set_command(f, NIC, 0x0107);
	config_read(f, NIC, before);
	km_log_reset(&f->m);
	quarantine_ok(f, "00:03.0", &res);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.bdf[0], NIC);
	assert_false(res.already);
	assert_int_equal(command_of(f, NIC), 0x0503);
	assert_false(command_of(f, NIC) & PCI_COMMAND_MASTER);
	assert_true(command_of(f, NIC) & PCI_COMMAND_INTX_DISABLE);
	assert_config_rest(f, NIC, before);
	r = store_find(&f->s, NIC);
	assert_int_equal(r->state, DEV_QUARANTINED);
	assert_int_equal(r->saved_command, 0x0107);
	assert_string_equal(consumer_of(r), "");
	assert_true(r->since > 0);
	/* silencing is a config write, not a sysfs attribute write */
	assert_int_equal(f->m.n_writes, 0);
	assert_string_equal(km_driver(&f->m, NIC), "vfio-pci");
	assert_disk_agrees(f);

	/* again: already, and the old register is not overwritten */
	set_command(f, NIC, 0x0507); /* whatever it reads now */
	assert_int_equal(engine_quarantine(&f->en, NIC, &res, &e), 0);
	assert_true(res.already);
	assert_int_equal(res.n, 1);
	assert_int_equal(store_find(&f->s, NIC)->saved_command, 0x0107);
	assert_int_equal(command_of(f, NIC), 0x0507);
	assert_disk_agrees(f);
	set_command(f, NIC, 0x0503);

	/* unquarantine: reset, then the register exactly as it was */
	km_log_reset(&f->m);
	unquarantine_ok(f, NIC, &res);
	assert_int_equal(res.n, 1);
	assert_int_equal(f->m.n_writes, 1);
	assert_string_equal(f->m.log[0].path, "sys/bus/pci/devices/" NIC "/reset");
	assert_string_equal(f->m.log[0].value, "1");
	assert_int_equal(command_of(f, NIC), 0x0107);
	assert_config_rest(f, NIC, before);
	assert_pooled_rec(f, NIC);
	assert_false(store_find(&f->s, NIC)->reset_pending);
	assert_disk_agrees(f);

	/* unquarantine of a pooled device: busy, nothing done */
	km_log_reset(&f->m);
	s = snap_take(f);
	vf_err_clear(&e);
	assert_int_equal(engine_unquarantine(&f->en, NIC, &res, &e), -1);
	assert_non_null(e.code);
	assert_string_equal(e.code, "busy");
	snap_check(f, &s);
	assert_int_equal(f->m.n_writes, 0);
	assert_int_equal(command_of(f, NIC), 0x0107);

	/* a second round records the register anew */
	set_command(f, NIC, 0x0006);
	quarantine_ok(f, NIC, &res);
	assert_int_equal(command_of(f, NIC), 0x0402);
	assert_int_equal(store_find(&f->s, NIC)->saved_command, 0x0006);
	unquarantine_ok(f, NIC, &res);
	assert_int_equal(command_of(f, NIC), 0x0006);
	assert_disk_agrees(f);
}

static void test_quarantine_already_silent(void **state)
{
	struct fx *f = *state;
	struct unit_result res;

	add_edu(f);
	bind_ok(f, EDU, &res);
	/* bus master off, INTx disabled: nothing changes, zero is kept as zero */
	set_command(f, EDU, 0x0000);
	quarantine_ok(f, EDU, &res);
	assert_int_equal(command_of(f, EDU), 0x0400);
	assert_int_equal(store_find(&f->s, EDU)->saved_command, 0);
	assert_disk_agrees(f);
	/* no reset method: none written, recorded */
	km_log_reset(&f->m);
	unquarantine_ok(f, EDU, &res);
	assert_int_equal(f->m.n_writes, 0);
	assert_true(store_find(&f->s, EDU)->no_reset_method);
	assert_int_equal(command_of(f, EDU), 0x0000);
	assert_pooled_rec(f, EDU);
	assert_disk_agrees(f);

	set_command(f, EDU, 0x0403);
	quarantine_ok(f, EDU, &res);
	assert_int_equal(command_of(f, EDU), 0x0403);
	assert_int_equal(store_find(&f->s, EDU)->saved_command, 0x0403);
	unquarantine_ok(f, EDU, &res);
	assert_int_equal(command_of(f, EDU), 0x0403);
	assert_pooled_rec(f, EDU);
}

static void test_quarantine_assigned(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	const struct dev_rec *r;
	char path[PATH_MAX];

	add_nic(f);
	bind_ok(f, NIC, &res);
	assign_ok(f, NIC, "team-a", &res);
	spec_path(f, NIC_SPEC, path, sizeof(path));
	assert_true(path_exists(path));
	set_command(f, NIC, 0x0146);
	km_log_reset(&f->m);
	quarantine_ok(f, NIC, &res);
	assert_false(res.already);
	/* detached: the spec is gone */
	assert_false(path_exists(path));
	assert_int_equal(dir_count(f->cdi), 0);
	assert_int_equal(command_of(f, NIC), 0x0542);
	r = store_find(&f->s, NIC);
	assert_int_equal(r->state, DEV_QUARANTINED);
	assert_int_equal(r->saved_command, 0x0146);
	assert_string_equal(consumer_of(r), "");
	assert_int_equal(f->m.n_writes, 0);
	assert_disk_agrees(f);

	/* again: already */
	assert_int_equal(engine_quarantine(&f->en, NIC, &res, &e), 0);
	assert_true(res.already);
	assert_int_equal(store_find(&f->s, NIC)->saved_command, 0x0146);
	assert_int_equal(command_of(f, NIC), 0x0542);

	km_log_reset(&f->m);
	unquarantine_ok(f, NIC, &res);
	assert_int_equal(km_log_count(&f->m, NIC "/reset", "1"), 1);
	assert_int_equal(command_of(f, NIC), 0x0146);
	assert_pooled_rec(f, NIC);
	assert_false(path_exists(path));
	assert_disk_agrees(f);
}

static void test_quarantine_unit(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	unsigned char gpu_before[64], aud_before[64];
	char path[PATH_MAX];

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	assign_ok(f, GPU, "team-a", &res);
	spec_path(f, GPU_SPEC, path, sizeof(path));
	set_command(f, GPU, 0x0007);
	set_command(f, AUD, 0x0106);
	config_read(f, GPU, gpu_before);
	config_read(f, AUD, aud_before);
	/* through the second member */
	quarantine_ok(f, AUD, &res);
	assert_int_equal(res.n, 2);
	assert_false(path_exists(path));
	assert_int_equal(command_of(f, GPU), 0x0403);
	assert_int_equal(command_of(f, AUD), 0x0502);
	assert_config_rest(f, GPU, gpu_before);
	assert_config_rest(f, AUD, aud_before);
	for (int i = 0; i < 2; i++) {
		const struct dev_rec *r = store_find(&f->s, i ? AUD : GPU);

		assert_int_equal(r->state, DEV_QUARANTINED);
		assert_string_equal(consumer_of(r), "");
		assert_int_equal(r->saved_command, i ? 0x0106 : 0x0007);
	}
	assert_disk_agrees(f);

	/* through either member: already */
	assert_int_equal(engine_quarantine(&f->en, GPU, &res, &e), 0);
	assert_true(res.already);
	assert_int_equal(store_find(&f->s, GPU)->saved_command, 0x0007);
	assert_int_equal(store_find(&f->s, AUD)->saved_command, 0x0106);

	/* neither can be assigned now */
	assert_assign_refused(f, GPU, "busy");
	assert_assign_refused(f, AUD, "busy");

	km_log_reset(&f->m);
	unquarantine_ok(f, GPU, &res);
	assert_int_equal(res.n, 2);
	/* the audio function has flr, the GPU has no method */
	assert_int_equal(km_log_count(&f->m, AUD "/reset", "1"), 1);
	assert_int_equal(km_log_count(&f->m, GPU, NULL), 0);
	assert_true(store_find(&f->s, GPU)->no_reset_method);
	assert_int_equal(command_of(f, GPU), 0x0007);
	assert_int_equal(command_of(f, AUD), 0x0106);
	assert_config_rest(f, GPU, gpu_before);
	assert_config_rest(f, AUD, aud_before);
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_disk_agrees(f);

	/* unquarantine again: busy, through either member */
	vf_err_clear(&e);
	assert_int_equal(engine_unquarantine(&f->en, AUD, &res, &e), -1);
	assert_string_equal(e.code, "busy");
}

static void test_quarantine_refusals(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	unsigned char before[64];
	struct snap s;

	add_nic(f);
	set_command(f, NIC, 0x0007);
	config_read(f, NIC, before);
	s = snap_take(f);
	/* not owned: nothing silenced */
	assert_int_equal(engine_quarantine(&f->en, NIC, &res, &e), -1);
	assert_string_equal(e.code, "not-found");
	assert_int_equal(command_of(f, NIC), 0x0007);
	vf_err_clear(&e);
	assert_int_equal(engine_quarantine(&f->en, "zz:zz", &res, &e), -1);
	assert_string_equal(e.code, "bad-request");
	vf_err_clear(&e);
	assert_int_equal(engine_unquarantine(&f->en, NIC, &res, &e), -1);
	assert_string_equal(e.code, "not-found");
	snap_check(f, &s);
	assert_config_rest(f, NIC, before);
}

/* ---- regressions: bugs these tests found, fixed in vfiod/ ---------------------- */

/*
 * engine_assign_cdi() records the consumer "cdi:<cdi_dir>/<spec>" in
 * dev_rec.consumer[256], truncating it silently when cdi_dir is longer than
 * about 227 characters (the policy accepts up to 255). engine_release()
 * then unlinks the truncated path (ENOENT, ignored) and reports success,
 * while the spec stays in the CDI directory: the container can still be
 * given the device.
 */
static void test_bug_long_cdi_dir_leaves_spec(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	char path[PATH_MAX];
	size_t len;

	add_nic(f);
	bind_ok(f, NIC, &res);
	/* an absolute directory of 235 characters, as the policy allows */
	assert_int_equal(mkdir(f->cdi, 0755), 0);
	for (len = strlen(f->cdi); len < 235; len = strlen(f->cdi)) {
		strncat(f->cdi, "/dddddddddddddddddddd", 235 - len);
		assert_int_equal(mkdir(f->cdi, 0755), 0);
	}
	spec_path(f, NIC_SPEC, path, sizeof(path));
	assign_ok(f, NIC, "team-a", &res);
	assert_true(path_exists(path));
	release_ok(f, NIC, &res);
	assert_false(path_exists(path));
}

/*
 * engine_unquarantine() resets and restores the unit one device at a time:
 * when the reset of a later member fails, the earlier ones are already
 * pooled (and saved so by engine_reset's store_save), the failing one stays
 * quarantined, and every retry is refused "busy" because the lead is pooled.
 * The unit is split for good.
 */
static void test_bug_unquarantine_splits_unit(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	set_command(f, GPU, 0x0007);
	set_command(f, AUD, 0x0106);
	quarantine_ok(f, GPU, &res);
	/* the audio function's reset attribute is gone for a moment */
	km_unlink(&f->m, "sys/devices/pci0000:00/" AUD "/reset");
	assert_int_equal(engine_unquarantine(&f->en, GPU, &res, &e), -1);
	assert_int_equal(store_find(&f->s, GPU)->state, DEV_QUARANTINED);
	assert_int_equal(store_find(&f->s, AUD)->state, DEV_QUARANTINED);
	assert_disk_agrees(f);
	/* and a retry finishes it */
	tree_write(&f->m.t, "sys/devices/pci0000:00/" AUD "/reset", "");
	unquarantine_ok(f, GPU, &res);
	assert_int_equal(command_of(f, GPU), 0x0007);
	assert_int_equal(command_of(f, AUD), 0x0106);
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
}

/*
 * engine_quarantine() silences the unit one device at a time and records
 * saved_command in memory only; when a later member cannot be silenced it
 * returns without saving the store: the earlier member stays silenced while
 * pooled, and its old command register is lost at the next start.
 */
static void test_bug_quarantine_failure_loses_saved_command(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	set_command(f, GPU, 0x0007);
	km_unlink(&f->m, "sys/devices/pci0000:00/" AUD "/config");
	assert_int_equal(engine_quarantine(&f->en, GPU, &res, &e), -1);
	/* either the GPU was given its register back, or what it had is on disk */
	if (command_of(f, GPU) != 0x0007) {
		assert_int_equal(store_find(&f->s, GPU)->saved_command, 0x0007);
		assert_disk_agrees(f);
	}
}


/* ---- crash consistency of container handoffs -------------------------------- */

/* The state file reopened as the next start would see it. */
static void reopen_store(struct fx *f)
{
	struct vf_err e = { 0 };

	store_close(&f->s);
	memset(&f->s, 0, sizeof(f->s));
	assert_int_equal(store_open(&f->s, f->dir, &e), 0);
}

/* True when some report line contains `what`. */
static bool reported(const struct fx *f, const char *what)
{
	for (size_t i = 0; i < f->en.report.n; i++)
		if (strstr(f->en.report.v[i], what))
			return true;
	return false;
}

/*
 * A crash (the fault hook's SIGKILL) right after each step of a CDI assign:
 * a spec on disk is always backed by a record on disk, and reconcile at the
 * next start leaves either a pooled device and no spec, or an assigned one
 * and its spec.
 */
static void test_cdi_assign_crash(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	char path[PATH_MAX];
	int killed = 0;

	add_nic(f);
	bind_ok(f, NIC, &res);
	spec_path(f, NIC_SPEC, path, sizeof(path));
	for (int k = 1; k <= 3; k++) {
		const struct dev_rec *r;
		int status;
		pid_t child = fork();

		assert_true(child >= 0);
		if (child == 0) {
			f->en.fault_step = k;
			_exit(engine_assign_cdi(&f->en, NIC, "team-a", f->cdi, &res, &e) < 0 ? 1 : 0);
		}
		assert_int_equal(waitpid(child, &status, 0), child);
		reopen_store(f);
		r = store_find(&f->s, NIC);
		assert_non_null(r);
		if (WIFSIGNALED(status)) {
			assert_int_equal(WTERMSIG(status), SIGKILL);
			killed++;
		} else {
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		/* never a usable spec for a device the store calls pooled */
		if (path_exists(path))
			assert_int_equal(r->state, DEV_ASSIGNED);
		/* the next start */
		vf_strv_free(&f->en.report);
		assert_int_equal(engine_reconcile_cdi(&f->en, f->cdi, &e), 0);
		r = store_find(&f->s, NIC);
		if (r->state == DEV_ASSIGNED) {
			assert_true(path_exists(path));
			assert_assigned_rec(f, NIC, path, "team-a");
			release_ok(f, NIC, &res);
		} else {
			/* recorded, then killed before the spec: back in the pool */
			assert_int_equal(k, 1);
			assert_true(reported(f, NIC ": assigned through CDI but its spec is missing"));
		}
		assert_false(path_exists(path));
		assert_pooled_rec(f, NIC);
		assert_disk_agrees(f);
	}
	/* killed after the record and after the spec; step 3 does not exist */
	assert_int_equal(killed, 2);
}

/* The spec cannot be written: the records are put back whole, on disk too. */
static void test_cdi_write_fails(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	char path[PATH_MAX];
	char *before, *after;

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	assert_int_equal(mkdir(f->cdi, 0755), 0);
	spec_path(f, GPU_SPEC, path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0); /* the rename onto it fails */
	before = store_format(&f->s);
	assert_int_equal(engine_assign_cdi(&f->en, GPU, "team-a", f->cdi, &res, &e), -1);
	assert_non_null(strstr(e.msg, "assign " GPU));
	after = store_format(&f->s);
	assert_string_equal(after, before);
	free(before);
	free(after);
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_disk_agrees(f);
	assert_int_equal(rmdir(path), 0);
	assign_ok(f, GPU, "team-a", &res);
	assert_assigned_rec(f, AUD, path, "team-a");
}

static void touch(const char *path)
{
	FILE *fp = fopen(path, "we");

	assert_non_null(fp);
	fputs("{}\n", fp);
	fclose(fp);
}

/*
 * At start, specs no record backs are removed: regular files named exactly
 * as vfiod names its specs, nothing else, and never through a symlink.
 */
static void test_cdi_orphan_sweep(void **state)
{
	static const char *const kept[] = {
		"vfiod-0000_00_05.0.json.tmp", "other.json", "vfiod-zzzz_00_05.0.json",
		"vfiod-0000:00:05.0.json", "vfiod-0000_00_05.0.jsonx", "xvfiod-0000_00_05.0.json",
	};
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	char p[PATH_MAX + 64], target[PATH_MAX + 64], mine[PATH_MAX], real[PATH_MAX + 64];

	add_nic(f);
	bind_ok(f, NIC, &res);
	assign_ok(f, NIC, "team-a", &res);
	spec_path(f, NIC_SPEC, mine, sizeof(mine));
	/* an orphan: the spec of a device no record has assigned */
	snprintf(p, sizeof(p), "%s/vfiod-0000_00_04.0.json", f->cdi);
	touch(p);
	for (size_t i = 0; i < VF_ARRAY_SIZE(kept); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->cdi, kept[i]);
		touch(p);
	}
	/* a symlink by a spec's name, to a file that must survive */
	snprintf(target, sizeof(target), "%s/precious", f->st.root);
	touch(target);
	snprintf(p, sizeof(p), "%s/vfiod-0000_00_07.0.json", f->cdi);
	assert_int_equal(symlink(target, p), 0);
	/* a directory by a spec's name */
	snprintf(p, sizeof(p), "%s/vfiod-0000_00_08.0.json", f->cdi);
	assert_int_equal(mkdir(p, 0755), 0);

	assert_int_equal(engine_reconcile_cdi(&f->en, f->cdi, &e), 0);
	snprintf(p, sizeof(p), "%s/vfiod-0000_00_04.0.json", f->cdi);
	assert_false(path_exists(p));
	assert_true(reported(f, "0000:00:04.0: removed the CDI spec"));
	assert_int_equal(f->en.report.n, 1);
	assert_true(path_exists(mine));
	assert_assigned_rec(f, NIC, mine, "team-a");
	assert_true(path_exists(target));
	assert_int_equal(dir_count(f->cdi), 1 + (int)VF_ARRAY_SIZE(kept) + 2);

	/* a CDI directory that is a symlink is not followed */
	vf_strv_free(&f->en.report);
	snprintf(real, sizeof(real), "%s/elsewhere", f->st.root);
	assert_int_equal(mkdir(real, 0755), 0);
	snprintf(p, sizeof(p), "%s/vfiod-0000_00_04.0.json", real);
	touch(p);
	snprintf(target, sizeof(target), "%s/cdi-link", f->st.root);
	assert_int_equal(symlink(real, target), 0);
	assert_int_equal(engine_reconcile_cdi(&f->en, target, &e), -1);
	assert_true(e.errnum == ELOOP || e.errnum == ENOTDIR); /* O_NOFOLLOW said no */
	assert_true(path_exists(p));
	assert_int_equal(f->en.report.n, 0);
	/* a missing directory is nothing to sweep */
	snprintf(p, sizeof(p), "%s/none", f->st.root);
	assert_int_equal(engine_reconcile_cdi(&f->en, p, &e), 0);
}

/* A record assigned through CDI whose spec went missing comes back to the pool. */
static void test_cdi_spec_missing(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	char path[PATH_MAX];

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	assign_ok(f, GPU, "team-a", &res);
	spec_path(f, GPU_SPEC, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(engine_reconcile_cdi(&f->en, f->cdi, &e), 0);
	assert_true(reported(f, GPU ": assigned through CDI but its spec is missing"));
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_disk_agrees(f);
	assert_false(path_exists(path));
}

/*
 * A release whose reset fails is a release: the consumer is gone, the unit
 * is pooled with the reset recorded as pending, and the result says so in
 * one sentence that names the errno once.
 */
static void test_release_reset_fails(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	const char *enoent = strerror(ENOENT), *first;
	char path[PATH_MAX];

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	assign_ok(f, GPU, "team-a", &res);
	spec_path(f, GPU_SPEC, path, sizeof(path));
	/* the audio function's reset attribute is gone (its method is still listed) */
	km_unlink(&f->m, "sys/devices/pci0000:00/" AUD "/reset");
	if (engine_release(&f->en, GPU, &res, &e) < 0)
		fail_msg("release with a failing reset: %s", e.msg);
	assert_int_equal(res.n, 2);
	assert_false(res.reset_pending[0]); /* the GPU has no reset method */
	assert_true(res.reset_pending[1]);
	assert_non_null(strstr(res.warning, "reset of " AUD));
	assert_non_null(strstr(res.warning, "pooled with its reset pending"));
	first = strstr(res.warning, enoent);
	assert_non_null(first);
	assert_null(strstr(first + 1, enoent));
	assert_false(path_exists(path));
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_true(store_find(&f->s, AUD)->reset_pending);
	assert_disk_agrees(f);
	/* a release that went well says nothing of the kind */
	tree_write(&f->m.t, "sys/devices/pci0000:00/" AUD "/reset", "");
	assign_ok(f, GPU, "team-a", &res);
	release_ok(f, GPU, &res);
	assert_string_equal(res.warning, "");
	assert_false(res.reset_pending[1]);
	assert_false(store_find(&f->s, AUD)->reset_pending);
}


/* ---- VMs (a fake VM manager in place of libvirt) --------------------------------- */

/*
 * One domain as the fake manager sees it. Its calls may come from a
 * hand-off's worker thread: `mu` guards what they change, and with `gated`
 * each call first waits for a byte on gate[0] (a guest, or libvirtd, that
 * takes its time), touching nothing before.
 */
struct fake_vm {
	pthread_mutex_t mu;
	bool gated;
	int gate[2];
	int calls_entered;       /* calls that reached the gate (under mu) */
	struct store *s;         /* to check the engine recorded before attaching */
	char name[64];
	bool exists, running;
	char live[8][VF_BDF_LEN];
	size_t nlive;
	int fail_at;             /* attach fails at this device of the unit; -1 never */
	bool stuck;              /* the guest does not let go: detach times out */
	int attaches, detaches;
	unsigned flags;
	bool had_guest;
	struct vf_bdf guest;
	bool recorded_first;
};

/* A gated call waits here for the test to let it go on. */
static void fake_gate(struct fake_vm *v)
{
	char c;

	pthread_mutex_lock(&v->mu);
	v->calls_entered++;
	pthread_mutex_unlock(&v->mu);
	if (v->gated)
		assert_int_equal(read(v->gate[0], &c, 1), 1);
}

static int fake_attach(void *ctx, const char *domain, const struct vf_bdf *host, size_t n,
		       const struct vf_bdf *guest, unsigned flags, struct vf_err *e)
{
	struct fake_vm *v = ctx;
	char bdf[VF_BDF_LEN];
	const struct dev_rec *r;
	int rc = 0;

	fake_gate(v);
	pthread_mutex_lock(&v->mu);
	v->attaches++;
	v->flags = flags;
	v->had_guest = guest != NULL;
	if (guest)
		v->guest = *guest;
	vf_bdf_format(&host[0], bdf);
	r = store_find(v->s, bdf);
	v->recorded_first = r && r->state == DEV_ASSIGNED && r->consumer.kind == CONSUMER_VM;
	if (!v->exists || strcmp(domain, v->name) != 0)
		rc = vf_err_refuse(e, "not-found", "libvirt has no domain %s", domain);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if ((int)i == v->fail_at) {
			v->nlive -= i; /* all or nothing, as virt_attach */
			rc = vf_err_set(e, 0, "libvirt: attach: no more available PCI slots");
			break;
		}
		vf_bdf_format(&host[i], v->live[v->nlive++]);
	}
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static int fake_detach(void *ctx, const char *domain, const struct vf_bdf *host, size_t n,
		       struct vf_err *e)
{
	struct fake_vm *v = ctx;
	int rc = 0;

	fake_gate(v);
	pthread_mutex_lock(&v->mu);
	v->detaches++;
	if (!v->exists || strcmp(domain, v->name) != 0)
		goto out; /* no such domain: nothing to give back */
	if (v->stuck) {
		rc = vf_err_refuse(e, "timeout", "did not leave domain %s within 20 s", domain);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char bdf[VF_BDF_LEN];

		vf_bdf_format(&host[i], bdf);
		for (size_t k = 0; k < v->nlive; k++)
			if (strcmp(v->live[k], bdf) == 0)
				memmove(v->live[k], v->live[k + 1], (--v->nlive - k) * VF_BDF_LEN);
	}
out:
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static const struct engine_vm_ops fake_ops = { fake_attach, fake_detach };

static struct fake_vm *fake_vm_on(struct fx *f, const char *name)
{
	struct fake_vm *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	pthread_mutex_init(&v->mu, NULL);
	assert_int_equal(pipe(v->gate), 0);
	v->s = &f->s;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->exists = v->running = true;
	v->fail_at = -1;
	f->en.vm = &fake_ops;
	f->en.vm_ctx = v;
	return v;
}

static void fake_vm_free(struct fake_vm *v)
{
	close(v->gate[0]);
	close(v->gate[1]);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

static void assert_vm_rec(struct fx *f, const char *bdf, const char *consumer, const char *tenant)
{
	const struct dev_rec *r = store_find(&f->s, bdf);

	assert_non_null(r);
	assert_int_equal(r->state, DEV_ASSIGNED);
	assert_string_equal(consumer_of(r), consumer);
	assert_string_equal(r->tenant, tenant);
	assert_string_equal(km_driver(&f->m, bdf), "vfio-pci");
}

static void test_vm_assign_release(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	bind_ok(f, NIC, &res);
	km_log_reset(&f->m);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "team-a", "g1", NULL, 1, &res, &e), 0);
	assert_int_equal(res.n, 1);
	/* recorded before libvirt was asked: a crash in between is reconciled, not lost */
	assert_true(v->recorded_first);
	assert_int_equal(v->flags, 1);
	assert_false(v->had_guest);
	assert_int_equal(v->nlive, 1);
	assert_string_equal(v->live[0], NIC);
	assert_vm_rec(f, NIC, "vm:g1", "team-a");
	assert_int_equal(f->m.n_writes, 0); /* vfiod owns the binding: nothing rebinds */
	assert_disk_agrees(f);

	release_ok(f, NIC, &res);
	assert_int_equal(v->detaches, 1);
	assert_int_equal(v->nlive, 0);
	assert_pooled_rec(f, NIC);
	/* reset once the domain let go */
	assert_int_equal(km_log_count(&f->m, NIC "/reset", "1"), 1);
	assert_disk_agrees(f);

	/* the caller's guest address and flags reach the manager as given */
	{
		struct vf_bdf g = { 0, 3, 0, 0 };

		assert_int_equal(engine_assign_vm(&f->en, NIC, "", "g1", &g, 3, &res, &e), 0);
		assert_true(v->had_guest);
		assert_int_equal(v->guest.bus, 3);
		assert_int_equal(v->flags, 3);
	}
	fake_vm_free(v);
}

static void test_vm_assign_unit(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct vf_bdf guest = { 0, 2, 0, 0 };
	struct unit_result res;
	struct vf_err e = { 0 };

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	/* one guest address cannot take two devices */
	{
		struct snap sn = snap_take(f);

		assert_int_equal(engine_assign_vm(&f->en, AUD, "", "g1", &guest, 0, &res, &e), -1);
		assert_string_equal(e.code, "bad-request");
		assert_non_null(strstr(e.msg, "unit of 2"));
		snap_check(f, &sn);
		assert_int_equal(v->attaches, 0);
	}
	memset(&e, 0, sizeof(e));
	assert_int_equal(engine_assign_vm(&f->en, AUD, "", "g1", NULL, 0, &res, &e), 0);
	assert_int_equal(v->nlive, 2);
	assert_string_equal(v->live[0], GPU);
	assert_string_equal(v->live[1], AUD);
	assert_vm_rec(f, GPU, "vm:g1", "");
	assert_vm_rec(f, AUD, "vm:g1", "");
	assert_disk_agrees(f);
	fake_vm_free(v);
}

/* libvirt fails half-way: nothing attached, nothing recorded. */
static void test_vm_attach_fails(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };
	struct snap sn;

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	v->fail_at = 1;
	/* an old time: a failed assign must not even touch that */
	store_find(&f->s, GPU)->since = 1000;
	store_find(&f->s, AUD)->since = 1000;
	assert_int_equal(store_save(&f->s, &e), 0);
	sn = snap_take(f);
	assert_int_equal(engine_assign_vm(&f->en, GPU, "t", "g1", NULL, 0, &res, &e), -1);
	assert_non_null(strstr(e.msg, "no more available PCI slots"));
	assert_non_null(strstr(e.msg, "domain g1"));
	assert_int_equal(v->nlive, 0);
	snap_check(f, &sn);
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	/* no such domain: the same */
	memset(&e, 0, sizeof(e));
	sn = snap_take(f);
	assert_int_equal(engine_assign_vm(&f->en, GPU, "t", "nope", NULL, 0, &res, &e), -1);
	assert_string_equal(e.code, "not-found");
	snap_check(f, &sn);
	fake_vm_free(v);
}

/* The guest does not let go: release says so, the record stays as it is. */
static void test_vm_release_timeout(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };
	struct snap sn;

	add_nic(f);
	bind_ok(f, NIC, &res);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "team-a", "g1", NULL, 0, &res, &e), 0);
	v->stuck = true;
	km_log_reset(&f->m);
	sn = snap_take(f);
	assert_int_equal(engine_release(&f->en, NIC, &res, &e), -1);
	assert_string_equal(e.code, "timeout");
	assert_non_null(strstr(e.msg, "within 20 s"));
	snap_check(f, &sn);
	assert_vm_rec(f, NIC, "vm:g1", "team-a");
	assert_int_equal(v->nlive, 1);
	assert_int_equal(f->m.n_writes, 0); /* no reset of a device a guest still holds */
	/* it lets go later: release works */
	v->stuck = false;
	release_ok(f, NIC, &res);
	assert_pooled_rec(f, NIC);
	fake_vm_free(v);
}

static void test_vm_event_action(void **state)
{
	(void)state;
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
			 VIRT_RELEASE);
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED),
			 VIRT_RELEASE);
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN),
			 VIRT_RELEASE);
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FAILED),
			 VIRT_RELEASE);
	/* undefined while running: a transient domain that still holds it */
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_UNDEFINED, 0), VIRT_CHECK);
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED),
			 VIRT_CAP);
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_SUSPENDED, 0), VIRT_NONE);
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_RESUMED, 0), VIRT_NONE);
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_DEFINED, 0), VIRT_NONE);
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_SHUTDOWN, 0), VIRT_NONE);
	assert_string_equal(virt_action_name(VIRT_RELEASE), "release");
}

/* A domain destroyed: every unit it held comes back, reset; others stay. */
static void test_vm_domain_destroyed(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	add_gpu_unit(f);
	add_edu(f);
	bind_ok(f, NIC, &res);
	bind_ok(f, GPU, &res);
	bind_ok(f, EDU, &res);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "a", "g1", NULL, 0, &res, &e), 0);
	assert_int_equal(engine_assign_vm(&f->en, GPU, "a", "g1", NULL, 0, &res, &e), 0);
	assign_ok(f, EDU, "b", &res); /* a container's: not the domain's */
	/* the event: destroyed; libvirt no longer runs it */
	assert_int_equal(virt_event_action(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
			 VIRT_RELEASE);
	v->running = false;
	v->nlive = 0;
	km_log_reset(&f->m);
	{
		struct vf_strv back = { 0 };

		assert_int_equal(engine_release_consumer(&f->en, &(struct consumer){ .kind = CONSUMER_VM, .name = "g1" }, &back, &e), 2);
		assert_int_equal(back.n, 2);
		assert_true((strcmp(back.v[0], NIC) == 0 && strcmp(back.v[1], GPU) == 0) ||
			    (strcmp(back.v[0], GPU) == 0 && strcmp(back.v[1], NIC) == 0));
		vf_strv_free(&back);
	}
	assert_pooled_rec(f, NIC);
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_int_equal(km_log_count(&f->m, NIC "/reset", "1"), 1);
	assert_int_equal(km_log_count(&f->m, AUD "/reset", "1"), 1);
	assert_int_equal(store_find(&f->s, EDU)->state, DEV_ASSIGNED);
	assert_disk_agrees(f);
	/* again: nothing left to release */
	assert_int_equal(engine_release_consumer(&f->en, &(struct consumer){ .kind = CONSUMER_VM, .name = "g1" }, NULL, &e), 0);
	/* undefined and gone: the detach finds no domain and gives nothing back */
	assert_int_equal(engine_assign_vm(&f->en, NIC, "a", "g1", NULL, 0, &res, &e), 0);
	v->exists = false;
	assert_int_equal(engine_release_consumer(&f->en, &(struct consumer){ .kind = CONSUMER_VM, .name = "g1" }, NULL, &e), 1);
	assert_pooled_rec(f, NIC);
	fake_vm_free(v);
}

/* One unit stuck, the other comes back; the stuck one is tried once and stays recorded. */
static void test_vm_destroyed_partly_stuck(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	bind_ok(f, NIC, &res);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "a", "g1", NULL, 0, &res, &e), 0);
	v->stuck = true;
	assert_int_equal(engine_release_consumer(&f->en, &(struct consumer){ .kind = CONSUMER_VM, .name = "g1" }, NULL, &e), -1);
	assert_string_equal(e.code, "timeout");
	assert_int_equal(v->detaches, 1);
	assert_vm_rec(f, NIC, "vm:g1", "a");
	fake_vm_free(v);
}

static void test_vm_refusals(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	struct fake_vm *v;
	struct snap sn;

	add_nic(f);
	add_edu(f);
	bind_ok(f, NIC, &res);
	/* no VM manager here */
	sn = snap_take(f);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "", "g1", NULL, 0, &res, &e), -1);
	assert_string_equal(e.code, "libvirt-unavailable");
	snap_check(f, &sn);
	v = fake_vm_on(f, "g1");
	/* hostile names never reach the manager */
	static const char *const names[] = { "", "../x", "a b", "-rf", "a'b" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&e, 0, sizeof(e));
		sn = snap_take(f);
		assert_int_equal(engine_assign_vm(&f->en, NIC, "", names[i], NULL, 0, &res, &e), -1);
		assert_string_equal(e.code, "bad-request");
		snap_check(f, &sn);
	}
	/* not pooled */
	memset(&e, 0, sizeof(e));
	assert_int_equal(engine_assign_vm(&f->en, EDU, "", "g1", NULL, 0, &res, &e), -1);
	assert_string_equal(e.code, "not-found");
	assert_non_null(strstr(e.msg, "bind it first"));
	/* already assigned */
	assert_int_equal(engine_assign_vm(&f->en, NIC, "a", "g1", NULL, 0, &res, &e), 0);
	memset(&e, 0, sizeof(e));
	sn = snap_take(f);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "b", "g1", NULL, 0, &res, &e), -1);
	assert_string_equal(e.code, "busy");
	snap_check(f, &sn);
	assert_int_equal(v->attaches, 1);
	fake_vm_free(v);
}

/* Quarantine takes a device out of its domain first. */
static void test_vm_quarantine(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	bind_ok(f, NIC, &res);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "a", "g1", NULL, 0, &res, &e), 0);
	quarantine_ok(f, NIC, &res);
	assert_int_equal(v->detaches, 1);
	assert_int_equal(v->nlive, 0);
	assert_int_equal(store_find(&f->s, NIC)->state, DEV_QUARANTINED);
	assert_string_equal(consumer_of(store_find(&f->s, NIC)), "");
	/* a guest that holds on: quarantine fails and the device stays assigned */
	unquarantine_ok(f, NIC, &res);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "a", "g1", NULL, 0, &res, &e), 0);
	v->stuck = true;
	assert_int_equal(engine_quarantine(&f->en, NIC, &res, &e), -1);
	assert_vm_rec(f, NIC, "vm:g1", "a");
	fake_vm_free(v);
}

/* ---- VM hand-offs in flight (the libvirt call in a thread of its own) -------------- */

/* Lets `n` gated calls of the fake go on. */
static void gate_open(struct fake_vm *v, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(write(v->gate[1], "x", 1), 1);
}

/* Whether the operation has reported, waiting at most `ms`. */
static bool op_reported(const struct engine_op *op, int ms)
{
	struct pollfd p = { .fd = engine_op_fd(op), .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Refused "busy", saying `what`. */
static void assert_busy(int rc, struct vf_err *e, const char *what)
{
	assert_int_equal(rc, -1);
	assert_non_null(e->code);
	assert_string_equal(e->code, "busy");
	if (!strstr(e->msg, what))
		fail_msg("\"%s\" does not say \"%s\"", e->msg, what);
	memset(e, 0, sizeof(*e));
}

static struct assign_req vm_req(const char *tenant, const char *domain, struct engine_op **op)
{
	return (struct assign_req){ .kind = CONSUMER_VM, .tenant = tenant, .domain = domain,
				    .op = op };
}

/*
 * A release whose guest takes its time: the start returns at once and
 * changes nothing; the unit refuses everything else meanwhile, another
 * unit's release runs at the same time; each end records its release as
 * the synchronous path does.
 */
static void test_vm_release_in_flight(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };
	struct engine_op *op = NULL, *op2 = NULL, *other = NULL;
	struct assign_req a = vm_req("team-a", "g1", &op2);
	struct snap sn;
	uint64_t t0;

	add_nic(f);
	add_gpu_unit(f);
	bind_ok(f, NIC, &res);
	bind_ok(f, GPU, &res);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "team-a", "g1", NULL, 0, &res, &e), 0);
	assert_int_equal(engine_assign_vm(&f->en, GPU, "team-a", "g1", NULL, 0, &res, &e), 0);
	v->gated = true; /* from here every call of the manager waits for gate_open */
	km_log_reset(&f->m);
	sn = snap_take(f);
	t0 = mono_ms();
	assert_int_equal(engine_release_start(&f->en, NIC, &op, &res, &e), 1);
	/* the detach blocks until the gate opens: that the start returned proves it does not wait */
	assert_true(mono_ms() - t0 < 1000);
	assert_non_null(op);
	assert_int_equal(engine_op_kind(op), ENGINE_OP_RELEASE);
	assert_string_equal(engine_op_bdf(op), NIC);
	assert_int_equal(engine_op_consumer(op)->kind, CONSUMER_VM);
	assert_string_equal(engine_op_consumer(op)->name, "g1");
	assert_true(engine_op_deadline(op) == INT64_MAX);
	assert_ptr_equal(engine_op_on(&f->en, NIC), op);
	assert_false(op_reported(op, 50));
	/* nothing changed yet: still assigned, nothing reset */
	snap_check(f, &sn);
	assert_vm_rec(f, NIC, "vm:g1", "team-a");
	assert_int_equal(f->m.n_writes, 0);

	/* the unit refuses every other operation meanwhile, and changes nothing */
	sn = snap_take(f);
	assert_busy(engine_release_start(&f->en, NIC, &op2, &res, &e), &e,
		    NIC ": a release from domain g1 is in flight");
	assert_null(op2);
	assert_busy(engine_quarantine_start(&f->en, NIC, &op2, &res, &e), &e, "in flight");
	assert_null(op2);
	assert_busy(engine_release(&f->en, NIC, &res, &e), &e, "in flight");
	assert_busy(engine_quarantine(&f->en, NIC, &res, &e), &e, "in flight");
	assert_busy(engine_unquarantine(&f->en, NIC, &res, &e), &e, "in flight");
	assert_busy(engine_assign(&f->en, NIC, &a, &res, &e), &e, "in flight");
	assert_null(op2);
	snap_check(f, &sn);

	/* another unit: its release runs at the same time */
	assert_int_equal(engine_release_start(&f->en, AUD, &other, &res, &e), 1);
	assert_non_null(other);
	assert_string_equal(engine_op_bdf(other), AUD);
	assert_ptr_equal(engine_op_on(&f->en, GPU), other);
	assert_int_equal(f->en.n_ops, 2);

	/* both guests let go */
	gate_open(v, 2);
	assert_true(op_reported(op, 5000));
	assert_true(op_reported(other, 5000));
	assert_int_equal(engine_op_end(&f->en, op, false, &res, &e), 0);
	assert_int_equal(res.n, 1);
	assert_pooled_rec(f, NIC);
	assert_int_equal(km_log_count(&f->m, NIC "/reset", "1"), 1);
	assert_null(engine_op_on(&f->en, NIC));
	assert_ptr_equal(engine_op_on(&f->en, GPU), other);
	assert_int_equal(engine_op_end(&f->en, other, false, &res, &e), 0);
	assert_int_equal(res.n, 2);
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_int_equal(f->en.n_ops, 0);
	assert_int_equal(v->detaches, 2);
	assert_int_equal(v->nlive, 0);
	assert_disk_agrees(f);
	fake_vm_free(v);
}

/* A guest that never lets go: the end says so, and the unit stays assigned, untouched. */
static void test_vm_release_in_flight_timeout(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };
	struct engine_op *op = NULL;
	struct snap sn;

	add_nic(f);
	bind_ok(f, NIC, &res);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "team-a", "g1", NULL, 0, &res, &e), 0);
	v->gated = v->stuck = true;
	km_log_reset(&f->m);
	sn = snap_take(f);
	assert_int_equal(engine_release_start(&f->en, NIC, &op, &res, &e), 1);
	gate_open(v, 1);
	assert_true(op_reported(op, 5000));
	assert_int_equal(engine_op_end(&f->en, op, false, &res, &e), -1);
	assert_string_equal(e.code, "timeout");
	assert_non_null(strstr(e.msg, "release " NIC ": did not leave domain g1 within 20 s"));
	snap_check(f, &sn);
	assert_vm_rec(f, NIC, "vm:g1", "team-a");
	assert_int_equal(f->m.n_writes, 0);
	assert_null(engine_op_on(&f->en, NIC));
	fake_vm_free(v);
}

/*
 * An assign in flight: recorded at its start (before libvirt is asked, as
 * the synchronous path), refusing others; an attach that fails puts the
 * records back as they were, times included; one that works stays.
 */
static void test_vm_assign_in_flight(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };
	struct engine_op *op = NULL, *op2 = NULL;
	struct assign_req a = vm_req("t", "g1", &op), b = vm_req("u", "g1", &op2);
	struct snap sn;
	uint64_t t0;

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	store_find(&f->s, GPU)->since = 1000;
	store_find(&f->s, AUD)->since = 1000;
	assert_int_equal(store_save(&f->s, &e), 0);
	v->gated = true;
	v->fail_at = 1; /* libvirt fails half-way through the unit */
	sn = snap_take(f);
	t0 = mono_ms();
	assert_int_equal(engine_assign(&f->en, AUD, &a, &res, &e), 0);
	assert_true(mono_ms() - t0 < 1000);
	assert_non_null(op);
	assert_int_equal(engine_op_kind(op), ENGINE_OP_ASSIGN);
	assert_string_equal(engine_op_bdf(op), AUD);
	assert_false(op_reported(op, 50));
	/* recorded before the attach: a crash now is reconciled against libvirt */
	assert_vm_rec(f, GPU, "vm:g1", "t");
	assert_vm_rec(f, AUD, "vm:g1", "t");
	assert_disk_agrees(f);
	/* the unit refuses everything else meanwhile */
	assert_busy(engine_assign(&f->en, GPU, &b, &res, &e), &e,
		    GPU ": an assign to domain g1 is in flight");
	assert_null(op2);
	assert_busy(engine_release_start(&f->en, GPU, &op2, &res, &e), &e, "in flight");
	assert_busy(engine_return(&f->en, GPU, &res, &e), &e, "in flight");
	assert_busy(engine_quarantine(&f->en, AUD, &res, &e), &e, "in flight");
	/* the attach fails: the records come back whole */
	gate_open(v, 1);
	assert_true(op_reported(op, 5000));
	assert_int_equal(engine_op_end(&f->en, op, false, &res, &e), -1);
	assert_non_null(strstr(e.msg, "assign " AUD " to domain g1"));
	assert_non_null(strstr(e.msg, "no more available PCI slots"));
	assert_true(v->recorded_first);
	assert_int_equal(v->nlive, 0);
	snap_check(f, &sn);
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_null(engine_op_on(&f->en, GPU));

	/* it works: recorded at the start, kept at the end */
	memset(&e, 0, sizeof(e));
	v->fail_at = -1;
	assert_int_equal(engine_assign(&f->en, GPU, &a, &res, &e), 0);
	gate_open(v, 1);
	assert_true(op_reported(op, 5000));
	assert_int_equal(engine_op_end(&f->en, op, false, &res, &e), 0);
	assert_int_equal(res.n, 2);
	assert_int_equal(v->nlive, 2);
	assert_vm_rec(f, GPU, "vm:g1", "t");
	assert_vm_rec(f, AUD, "vm:g1", "t");
	assert_true(store_find(&f->s, GPU)->since > 1000);
	assert_disk_agrees(f);
	fake_vm_free(v);
}

/*
 * An operator's quarantine of a VM's unit: silenced at once, the detach in
 * flight; a guest that holds on gives the command register back and leaves
 * the unit assigned; one that lets go, quarantined as engine_quarantine does.
 */
static void test_vm_quarantine_in_flight(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };
	struct engine_op *op = NULL;
	const struct dev_rec *r;

	add_nic(f);
	bind_ok(f, NIC, &res);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "a", "g1", NULL, 0, &res, &e), 0);
	set_command(f, NIC, 0x0146);
	v->gated = v->stuck = true;
	assert_int_equal(engine_quarantine_start(&f->en, NIC, &op, &res, &e), 1);
	assert_non_null(op);
	assert_int_equal(engine_op_kind(op), ENGINE_OP_QUARANTINE);
	/* a storming device stops before anything slower */
	assert_int_equal(command_of(f, NIC), 0x0542);
	assert_vm_rec(f, NIC, "vm:g1", "a");
	assert_busy(engine_release(&f->en, NIC, &res, &e), &e,
		    "a quarantine (its detach from domain g1) is in flight");
	gate_open(v, 1);
	assert_true(op_reported(op, 5000));
	assert_int_equal(engine_op_end(&f->en, op, false, &res, &e), -1);
	assert_string_equal(e.code, "timeout");
	assert_non_null(strstr(e.msg, "quarantine " NIC ": detaching failed"));
	assert_int_equal(command_of(f, NIC), 0x0146);
	assert_vm_rec(f, NIC, "vm:g1", "a");
	assert_int_equal(store_find(&f->s, NIC)->saved_command, -1);
	assert_disk_agrees(f);

	memset(&e, 0, sizeof(e));
	v->stuck = false;
	assert_int_equal(engine_quarantine_start(&f->en, NIC, &op, &res, &e), 1);
	gate_open(v, 1);
	assert_true(op_reported(op, 5000));
	assert_int_equal(engine_op_end(&f->en, op, false, &res, &e), 0);
	assert_false(res.already);
	r = store_find(&f->s, NIC);
	assert_int_equal(r->state, DEV_QUARANTINED);
	assert_int_equal(r->saved_command, 0x0146);
	assert_string_equal(consumer_of(r), "");
	assert_string_equal(r->tenant, "");
	assert_int_equal(command_of(f, NIC), 0x0542);
	assert_int_equal(v->nlive, 0);
	assert_disk_agrees(f);
	/* a unit that is no VM's is quarantined at once: nothing in flight */
	assert_int_equal(engine_quarantine_start(&f->en, NIC, &op, &res, &e), 0);
	assert_null(op);
	assert_true(res.already);
	fake_vm_free(v);
}

static void *open_gate_later(void *arg)
{
	struct fake_vm *v = arg;

	usleep(200 * 1000);
	gate_open(v, 1);
	return NULL;
}

/* Ending an operation that has not reported (the daemon stops) waits for its call, then records. */
static void test_vm_op_end_waits(void **state)
{
	struct fx *f = *state;
	struct fake_vm *v = fake_vm_on(f, "g1");
	struct unit_result res;
	struct vf_err e = { 0 };
	struct engine_op *op = NULL;
	pthread_t t;
	uint64_t t0;

	add_nic(f);
	bind_ok(f, NIC, &res);
	assert_int_equal(engine_assign_vm(&f->en, NIC, "a", "g1", NULL, 0, &res, &e), 0);
	v->gated = true;
	assert_int_equal(engine_release_start(&f->en, NIC, &op, &res, &e), 1);
	assert_int_equal(pthread_create(&t, NULL, open_gate_later, v), 0);
	t0 = mono_ms();
	assert_int_equal(engine_op_end(&f->en, op, true, &res, &e), 0);
	assert_true(mono_ms() - t0 >= 150);
	pthread_join(t, NULL);
	assert_pooled_rec(f, NIC);
	assert_int_equal(f->en.n_ops, 0);
	fake_vm_free(v);
}

/* ---- holders vfiod did not hand the device to ------------------------------------- */

static pid_t child_sleeping(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

/*
 * The process as the fixture's /proc shows it: its stat line with start
 * time `start` (the tree stands for the host's /proc; 0: the process is gone).
 */
static void fake_proc_state(struct fx *f, pid_t pid, unsigned long long start, char st)
{
	char rel[64], text[256];

	snprintf(rel, sizeof(rel), "proc/%d/stat", (int)pid);
	snprintf(text, sizeof(text),
		 "%d (sleep) %c 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 1 1 0\n", (int)pid, st, start);
	tree_write(&f->m.t, rel, text);
}

static void fake_proc(struct fx *f, pid_t pid, unsigned long long start)
{
	char rel[64], text[256];

	snprintf(rel, sizeof(rel), "proc/%d/stat", (int)pid);
	if (!start) {
		char abs[512];

		tree_abs(&f->m.t, rel, abs, sizeof(abs));
		unlink(abs);
		return;
	}
	snprintf(text, sizeof(text),
		 "%d (sleep) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 1 1 0\n", (int)pid, start);
	tree_write(&f->m.t, rel, text);
}

static void test_holder_adopt_release(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	char consumer[32];
	pid_t pid = child_sleeping();
	struct snap sn;
	int status;

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	/* gone before it could be recorded: nothing to adopt */
	assert_int_equal(engine_adopt_holder(&f->en, AUD, (int)pid, &e), 0);
	assert_pooled_rec(f, GPU);
	fake_proc(f, pid, 777);
	assert_int_equal(engine_adopt_holder(&f->en, AUD, (int)pid, &e), 1);
	/* recorded with its start time: a reused pid is someone else */
	snprintf(consumer, sizeof(consumer), "holder:%d@777", (int)pid);
	assert_vm_rec(f, GPU, consumer, "");
	assert_vm_rec(f, AUD, consumer, "");
	assert_disk_agrees(f);
	/* already someone's: nothing to do */
	assert_int_equal(engine_adopt_holder(&f->en, GPU, 4242, &e), 0);
	assert_vm_rec(f, GPU, consumer, "");
	/* not vfiod's to take back while the process holds it */
	km_log_reset(&f->m);
	sn = snap_take(f);
	assert_int_equal(engine_release(&f->en, GPU, &res, &e), -1);
	assert_string_equal(e.code, "busy");
	assert_non_null(strstr(e.msg, "stop that process first"));
	snap_check(f, &sn);
	assert_int_equal(f->m.n_writes, 0);
	/* its pid now names another process (another start time): that one is
	 * not the holder, and the device is vfiod's to take back */
	fake_proc(f, pid, 778);
	km_log_reset(&f->m);
	assert_int_equal(engine_release(&f->en, GPU, &res, &e), 0);
	assert_pooled_rec(f, GPU);
	assert_int_equal(km_log_count(&f->m, AUD "/reset", "1"), 1);
	/* adopted again; it exits: the device comes back, reset */
	fake_proc(f, pid, 777);
	assert_int_equal(engine_adopt_holder(&f->en, AUD, (int)pid, &e), 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* exited, not yet reaped: a zombie holds nothing, and is no holder */
	fake_proc_state(f, pid, 777, 'Z');
	km_log_reset(&f->m);
	{
		struct consumer c = consumer_from(consumer);

		assert_int_equal(engine_release_consumer(&f->en, &c, NULL, &e), 1);
	}
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	assert_int_equal(km_log_count(&f->m, AUD "/reset", "1"), 1);
	/* a device vfiod does not own */
	add_edu(f);
	memset(&e, 0, sizeof(e));
	assert_int_equal(engine_adopt_holder(&f->en, EDU, 99, &e), -1);
	assert_string_equal(e.code, "not-found");
}

/* What the ladder did, recorded: the first silencing's register is kept. */
static void test_record_containment(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };

	add_nic(f);
	bind_ok(f, NIC, &res);
	assert_int_equal(engine_record_containment(&f->en, NIC, CONTAIN_THROTTLED, -1, &e), 0);
	assert_int_equal(store_find(&f->s, NIC)->containment, CONTAIN_THROTTLED);
	assert_int_equal(store_find(&f->s, NIC)->saved_command, -1);
	assert_int_equal(engine_record_containment(&f->en, NIC, CONTAIN_SILENCED, 0x0107, &e), 0);
	assert_int_equal(engine_record_containment(&f->en, NIC, CONTAIN_SILENCED, 0x0400, &e), 0);
	assert_int_equal(store_find(&f->s, NIC)->containment, CONTAIN_SILENCED);
	assert_int_equal(store_find(&f->s, NIC)->saved_command, 0x0107);
	assert_disk_agrees(f);
	/* not vfiod's: nothing recorded, no error */
	assert_int_equal(engine_record_containment(&f->en, "0000:00:1f.0", CONTAIN_SILENCED, 1, &e), 0);
	assert_null(store_find(&f->s, "0000:00:1f.0"));
}

/* engine_assign: one entry, each kind's back end; a holder is never assigned. */
static void test_assign_dispatch(void **state)
{
	struct fx *f = *state;
	struct unit_result res;
	struct vf_err e = { 0 };
	struct assign_req a = { .kind = CONSUMER_CDI, .tenant = "team-a", .cdi_dir = f->cdi };
	char path[PATH_MAX];
	struct snap sn;

	add_nic(f);
	bind_ok(f, NIC, &res);
	/* no kind, or a holder: refused, nothing changes */
	sn = snap_take(f);
	a.kind = CONSUMER_NONE;
	assert_int_equal(engine_assign(&f->en, NIC, &a, &res, &e), -1);
	assert_string_equal(e.code, "bad-request");
	a.kind = CONSUMER_HOLDER;
	vf_err_clear(&e);
	assert_int_equal(engine_assign(&f->en, NIC, &a, &res, &e), -1);
	assert_string_equal(e.code, "bad-request");
	snap_check(f, &sn);
	/* CDI through the table: what engine_assign_cdi does */
	a.kind = CONSUMER_CDI;
	assert_int_equal(engine_assign(&f->en, NIC, &a, &res, &e), 0);
	spec_path(f, NIC_SPEC, path, sizeof(path));
	assert_assigned_rec(f, NIC, path, "team-a");
	assert_true(path_exists(path));
}

/* The last event's type and message ("" when none). */
static const char *last_event(const struct events *ev, char *msg, size_t cap)
{
	struct json_object *a = events_recent(ev), *o, *v;
	static char type[32];

	type[0] = msg[0] = '\0';
	if (json_object_array_length(a)) {
		o = json_object_array_get_idx(a, json_object_array_length(a) - 1);
		if (json_object_object_get_ex(o, "type", &v))
			snprintf(type, sizeof(type), "%s", json_object_get_string(v));
		if (json_object_object_get_ex(o, "message", &v))
			snprintf(msg, cap, "%s", json_object_get_string(v));
	}
	json_object_put(a);
	return type;
}

/* consumers.c over the engine: what a holder scan finds, adopted and let go, with events. */
static void test_consumers_holders(void **state)
{
	struct fx *f = *state;
	struct events ev = { 0 };
	struct consumers cs = { &f->en, &ev };
	struct unit_result res;
	char msg[256];
	pid_t pid = child_sleeping(), none[1];
	int status;

	add_gpu_unit(f);
	bind_ok(f, GPU, &res);
	fake_proc(f, pid, 777);
	/* nobody holds it: nothing happens */
	assert_int_equal(consumers_note_holders(&cs, GPU, none, 0, ""), 0);
	assert_pooled_rec(f, GPU);
	/* held: recorded as the process's, said in an event */
	assert_int_equal(consumers_note_holders(&cs, GPU, &pid, 1, "qemu"), 1);
	assert_string_equal(last_event(&ev, msg, sizeof(msg)), "assigned");
	assert_non_null(strstr(msg, "(qemu) holds its VFIO group"));
	assert_int_equal(store_find(&f->s, GPU)->consumer.kind, CONSUMER_HOLDER);
	/* still held by it: nothing changes */
	assert_int_equal(consumers_note_holders(&cs, GPU, &pid, 1, "qemu"), 0);
	assert_int_equal(store_find(&f->s, GPU)->consumer.kind, CONSUMER_HOLDER);
	/* its pid reused by another process holding the group: not the holder,
	 * which has let go; the unit comes back */
	fake_proc(f, pid, 778);
	km_log_reset(&f->m);
	assert_int_equal(consumers_note_holders(&cs, AUD, &pid, 1, "qemu"), 1);
	assert_string_equal(last_event(&ev, msg, sizeof(msg)), "released");
	assert_non_null(strstr(msg, "let go of it: back to the pool"));
	assert_pooled_rec(f, GPU);
	assert_pooled_rec(f, AUD);
	/* held again; it exits (a zombie holds nothing) and the scan finds nobody: back */
	fake_proc(f, pid, 777);
	assert_int_equal(consumers_note_holders(&cs, GPU, &pid, 1, "qemu"), 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fake_proc_state(f, pid, 777, 'Z');
	assert_int_equal(consumers_note_holders(&cs, GPU, none, 0, ""), 1);
	assert_pooled_rec(f, GPU);
	assert_disk_agrees(f);
	events_free(&ev);
}

static const struct policy_class *fixed_class(void *ctx, const char *bdf)
{
	static struct policy_class big, small;

	(void)ctx;
	big.vmm_cpu_max = 200;
	big.storm_vmm_cpu_max = 20;
	small.vmm_cpu_max = 50;
	small.storm_vmm_cpu_max = 30;
	return strcmp(bdf, "0000:00:02.0") == 0 ? &big : &small;
}

/* The VM cap rule: the tightest of the domain's devices, storm caps while contained. */
static void test_consumers_vm_cap(void **state)
{
	struct store st = { 0 };
	struct dev_rec r[3];
	const char *bdfs[3] = { "0000:00:02.0", "0000:00:03.0", "0000:00:04.0" };

	(void)state;
	for (int i = 0; i < 3; i++) {
		dev_rec_init(&r[i], bdfs[i]);
		r[i].state = DEV_ASSIGNED;
		r[i].consumer = (struct consumer){ .kind = CONSUMER_VM, .name = "web" };
	}
	r[2].consumer = (struct consumer){ .kind = CONSUMER_VM, .name = "db" };
	st.devs = r;
	st.n = 3;
	assert_true(consumers_vm_holds(&st, "web"));
	assert_false(consumers_vm_holds(&st, "nobody"));
	assert_int_equal(consumers_vm_cap(&st, "web", fixed_class, NULL), 50);
	/* the 200% device throttled: its storm cap, 20, is the tightest now */
	r[0].containment = CONTAIN_THROTTLED;
	assert_int_equal(consumers_vm_cap(&st, "web", fixed_class, NULL), 20);
	assert_int_equal(consumers_vm_cap(&st, "db", fixed_class, NULL), 50);
	/* a pooled device is nobody's; a domain holding nothing gets no cap */
	r[2].state = DEV_POOLED;
	assert_int_equal(consumers_vm_cap(&st, "db", fixed_class, NULL), 0);
	assert_false(consumers_vm_holds(&st, "db"));
}

/* Quarantine of a holder's device: the policy says leave it or signal it. */
static void test_holder_quarantine(void **state)
{
	struct fx *f = *state;
	struct policy pol;
	struct unit_result res;
	struct vf_err e = { 0 };
	pid_t pid = child_sleeping();
	int status;

	policy_init(&pol);
	f->en.policy = &pol;
	add_nic(f);
	bind_ok(f, NIC, &res);
	fake_proc(f, pid, 777);
	/* leave (the default): it keeps a silenced device, and lives */
	assert_int_equal(engine_adopt_holder(&f->en, NIC, (int)pid, &e), 1);
	quarantine_ok(f, NIC, &res);
	assert_int_equal(store_find(&f->s, NIC)->state, DEV_QUARANTINED);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	unquarantine_ok(f, NIC, &res);
	/* signal: SIGTERM */
	pol.daemon.holder_signal = true;
	assert_int_equal(engine_adopt_holder(&f->en, NIC, (int)pid, &e), 1);
	quarantine_ok(f, NIC, &res);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	assert_int_equal(store_find(&f->s, NIC)->state, DEV_QUARANTINED);
	f->en.policy = NULL;
	policy_free(&pol);
}

/* ---- main ------------------------------------------------------------------------ */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdi_name_rule),
		cmocka_unit_test(test_silenced_command),
		cmocka_unit_test(test_cdi_spec_one),
		cmocka_unit_test(test_cdi_spec_two),
		cmocka_unit_test(test_cdi_spec_name),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_assign_nic),
		T(test_assign_no_tenant),
		T(test_assign_unit),
		T(test_assign_refusals),
		T(test_assign_cdi_dir_blocked),
		T(test_release_nic),
		T(test_release_unit),
		T(test_release_refusals),
		T(test_quarantine_pooled),
		T(test_quarantine_already_silent),
		T(test_quarantine_assigned),
		T(test_quarantine_unit),
		T(test_quarantine_refusals),
		T(test_bug_long_cdi_dir_leaves_spec),
		T(test_cdi_assign_crash),
		T(test_cdi_write_fails),
		T(test_cdi_orphan_sweep),
		T(test_cdi_spec_missing),
		T(test_release_reset_fails),
		T(test_bug_unquarantine_splits_unit),
		T(test_bug_quarantine_failure_loses_saved_command),
		cmocka_unit_test(test_vm_event_action),
		T(test_vm_assign_release),
		T(test_vm_assign_unit),
		T(test_vm_attach_fails),
		T(test_vm_release_timeout),
		T(test_vm_domain_destroyed),
		T(test_vm_destroyed_partly_stuck),
		T(test_vm_refusals),
		T(test_vm_quarantine),
		T(test_vm_release_in_flight),
		T(test_vm_release_in_flight_timeout),
		T(test_vm_assign_in_flight),
		T(test_vm_quarantine_in_flight),
		T(test_vm_op_end_waits),
		T(test_holder_adopt_release),
		T(test_consumers_holders),
		T(test_assign_dispatch),
		T(test_record_containment),
		cmocka_unit_test(test_consumers_vm_cap),
		T(test_holder_quarantine),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
