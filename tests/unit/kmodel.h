/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An in-process model of the kernel's PCI driver core for unit tests (in the
 * spirit of libvirt's virpcimock). It owns a sysroot tree (tree.h) and plugs
 * into hostfs through `struct hostfs_hooks`: every sysfs write and module
 * load vfiod makes goes to km_write()/km_modprobe(), which apply the
 * kernel's effects to the tree (driver links, driver_override, /dev/vfio
 * nodes), so the engine reads back what a kernel would show.
 *
 * Layout of a device: sys/devices/pci0000:00/<bdf> (attributes, config,
 * driver and iommu_group links), sys/bus/pci/devices/<bdf> -> that, and
 * sys/kernel/iommu_groups/<g>/devices/<bdf>. Drivers are directories under
 * sys/bus/pci/drivers with a <bdf> link per bound device.
 *
 * Failure injection is one-shot (each call arms one failure): the next
 * drivers_probe of a device binds nothing, its next unbind or bind fails
 * with an errno, the next modprobe fails, or the device vanishes after N
 * more writes. Every write is logged (count and the last KM_LOG_MAX).
 */
#ifndef VFIOD_TEST_KMODEL_H
#define VFIOD_TEST_KMODEL_H

#include "tree.h"

#include "err.h"
#include "hostfs.h"

#define KM_DEV_MAX 32
#define KM_DRV_MAX 16
#define KM_LOG_MAX 128
#define KM_REL "6.1.0-18-amd64"

struct km_dev {
	char bdf[16];
	unsigned vendor, device;
	int group;
	bool gone;
	int fail_probe;        /* next N drivers_probe writes bind nothing */
	int fail_unbind;       /* next unbind fails with fail_unbind_err */
	int fail_unbind_err;
	int fail_bind;         /* next explicit bind fails with fail_bind_err */
	int fail_bind_err;
	int vanish_after;      /* vanishes after this many more writes; -1: never */
};

struct km_drv {
	char name[64];
	unsigned vendor, device; /* 0:0 matches nothing (vfio-pci) */
};

struct km_write_rec {
	char path[256];
	char value[64];
	int err;               /* the errno the write failed with, 0 when it worked */
};

struct kmodel {
	struct tree t;
	struct km_dev devs[KM_DEV_MAX];
	size_t n_devs;
	struct km_drv drvs[KM_DRV_MAX];
	size_t n_drvs;
	int fail_modprobe;
	size_t n_modprobe;
	size_t n_writes;       /* every write, also those that failed */
	struct km_write_rec log[KM_LOG_MAX]; /* the first KM_LOG_MAX since the last reset */
	struct hostfs_hooks hooks;
	char scratch[4][256];
	unsigned scratch_i;
};

/* ---- small tree helpers ------------------------------------------------ */

static inline void km_dev_dir(const char *bdf, char *buf, size_t cap)
{
	snprintf(buf, cap, "sys/devices/pci0000:00/%s", bdf);
}

static inline bool km_exists(const struct kmodel *m, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	tree_abs(&m->t, rel, p, sizeof(p));
	return lstat(p, &st) == 0;
}

static inline void km_unlink(const struct kmodel *m, const char *rel)
{
	char p[PATH_MAX];

	tree_abs(&m->t, rel, p, sizeof(p));
	assert_true(unlink(p) == 0 || errno == ENOENT);
}

/* Reads a one-line file of the tree, newline dropped; "" when absent. */
static inline const char *km_read(struct kmodel *m, const char *rel)
{
	char *buf = m->scratch[m->scratch_i++ % 4];
	char p[PATH_MAX];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	tree_abs(&m->t, rel, p, sizeof(p));
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	n = read(fd, buf, 255);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static inline struct km_dev *km_find(struct kmodel *m, const char *bdf)
{
	for (size_t i = 0; i < m->n_devs; i++)
		if (strcmp(m->devs[i].bdf, bdf) == 0)
			return &m->devs[i];
	return NULL;
}

static inline struct km_drv *km_find_drv(struct kmodel *m, const char *name)
{
	for (size_t i = 0; i < m->n_drvs; i++)
		if (strcmp(m->drvs[i].name, name) == 0)
			return &m->drvs[i];
	return NULL;
}

static inline bool km_drv_loaded(const struct kmodel *m, const char *name)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s", name);
	return km_exists(m, rel);
}

/* ---- reading the model's state ------------------------------------------ */

/* The driver bound to `bdf`, "" when none (or when the device is gone). */
static inline const char *km_driver(struct kmodel *m, const char *bdf)
{
	char *buf = m->scratch[m->scratch_i++ % 4];
	char rel[256], p[PATH_MAX], target[PATH_MAX];
	const char *last;
	ssize_t n;

	buf[0] = '\0';
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver", bdf);
	tree_abs(&m->t, rel, p, sizeof(p));
	n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return buf;
	target[n] = '\0';
	last = strrchr(target, '/');
	snprintf(buf, 256, "%s", last ? last + 1 : target);
	return buf;
}

/* The driver_override of `bdf` as sysfs shows it ("(null)" when unset). */
static inline const char *km_override(struct kmodel *m, const char *bdf)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver_override", bdf);
	return km_read(m, rel);
}

static inline bool km_vfio_node(const struct kmodel *m, int group)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "dev/vfio/%d", group);
	return km_exists(m, rel);
}

/* How many logged writes went to a path containing `path` with a value
 * containing `value` (NULL: any). */
static inline size_t km_log_count(const struct kmodel *m, const char *path,
				  const char *value)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_writes && i < KM_LOG_MAX; i++)
		if ((!path || strstr(m->log[i].path, path)) &&
		    (!value || strstr(m->log[i].value, value)))
			n++;
	return n;
}

/* True when any logged write names `bdf`, in its path or its value. */
static inline bool km_log_mentions(const struct kmodel *m, const char *bdf)
{
	return km_log_count(m, bdf, NULL) + km_log_count(m, NULL, bdf) > 0;
}

static inline void km_log_reset(struct kmodel *m)
{
	m->n_writes = 0;
	m->n_modprobe = 0;
	memset(m->log, 0, sizeof(m->log));
}

static inline void km_log_dump(const struct kmodel *m)
{
	for (size_t i = 0; i < m->n_writes && i < KM_LOG_MAX; i++)
		fprintf(stderr, "  km write %zu: %s <- \"%s\" (%s)\n", i, m->log[i].path,
			m->log[i].value, m->log[i].err ? strerror(m->log[i].err) : "ok");
}

/* ---- raw state changes (no log, no checks): the kernel doing it --------- */

static inline int km_group_of(struct kmodel *m, const char *bdf)
{
	struct km_dev *d = km_find(m, bdf);

	return d ? d->group : -1;
}

static inline void km_vfio_node_update(struct kmodel *m, int group)
{
	char rel[64];
	bool any = false;

	for (size_t i = 0; i < m->n_devs; i++)
		if (!m->devs[i].gone && m->devs[i].group == group &&
		    strcmp(km_driver(m, m->devs[i].bdf), "vfio-pci") == 0)
			any = true;
	snprintf(rel, sizeof(rel), "dev/vfio/%d", group);
	if (any) {
		if (!km_exists(m, rel))
			tree_write(&m->t, rel, "");
		if (!km_exists(m, "dev/vfio/vfio"))
			tree_write(&m->t, "dev/vfio/vfio", "");
	} else {
		km_unlink(m, rel);
	}
}

static inline void km_bind_raw(struct kmodel *m, const char *bdf, const char *drv)
{
	char rel[512], target[512];

	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver", bdf);
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", drv);
	tree_link(&m->t, rel, target);
	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/%s", drv, bdf);
	snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", bdf);
	tree_link(&m->t, rel, target);
	km_vfio_node_update(m, km_group_of(m, bdf));
}

static inline void km_unbind_raw(struct kmodel *m, const char *bdf)
{
	char drv[256], rel[512];

	snprintf(drv, sizeof(drv), "%s", km_driver(m, bdf));
	if (!drv[0])
		return;
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver", bdf);
	km_unlink(m, rel);
	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/%s", drv, bdf);
	km_unlink(m, rel);
	km_vfio_node_update(m, km_group_of(m, bdf));
}

/* Sets driver_override as the kernel stores it ("" or "\n" clears it). */
static inline void km_set_override(struct kmodel *m, const char *bdf, const char *value)
{
	char rel[256], v[128], line[160];

	snprintf(v, sizeof(v), "%s", value);
	v[strcspn(v, "\n")] = '\0';
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver_override", bdf);
	snprintf(line, sizeof(line), "%s\n", v[0] ? v : "(null)");
	tree_write(&m->t, rel, line);
}

/* The device is hot-removed: unbound, its links and directory gone. */
static inline void km_remove_dev(struct kmodel *m, const char *bdf)
{
	struct km_dev *d = km_find(m, bdf);
	char rel[256], p[PATH_MAX];

	assert_non_null(d);
	km_unbind_raw(m, bdf);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", bdf);
	km_unlink(m, rel);
	snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices/%s", d->group, bdf);
	km_unlink(m, rel);
	km_dev_dir(bdf, rel, sizeof(rel));
	tree_abs(&m->t, rel, p, sizeof(p));
	assert_int_equal(nftw(p, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	d->gone = true;
	km_vfio_node_update(m, d->group);
}

/* ---- building ----------------------------------------------------------- */

static inline void km_load_driver(struct kmodel *m, const char *name)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s", name);
	tree_mkdir(&m->t, rel);
	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/bind", name);
	tree_write(&m->t, rel, "");
	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/unbind", name);
	tree_write(&m->t, rel, "");
}

/* A loaded driver that claims vendor:device on drivers_probe (0:0: nothing). */
static inline void km_add_driver(struct kmodel *m, const char *name, unsigned vendor,
				 unsigned device)
{
	struct km_drv *d = km_find_drv(m, name);

	if (!d) {
		assert_true(m->n_drvs < KM_DRV_MAX);
		d = &m->drvs[m->n_drvs++];
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->vendor = vendor;
	d->device = device;
	km_load_driver(m, name);
}

static inline void km_dev_attr(struct kmodel *m, const char *bdf, const char *attr,
			       const char *value)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/%s", bdf, attr);
	tree_write(&m->t, rel, value);
}

/* Rewrites the header type byte (0x0e) of the device's config space. */
static inline void km_set_header_type(struct kmodel *m, const char *bdf, unsigned char type)
{
	unsigned char cfg[64] = { 0 };
	struct km_dev *d = km_find(m, bdf);
	char rel[256];

	assert_non_null(d);
	cfg[0] = (unsigned char)(d->vendor & 0xff);
	cfg[1] = (unsigned char)(d->vendor >> 8);
	cfg[2] = (unsigned char)(d->device & 0xff);
	cfg[3] = (unsigned char)(d->device >> 8);
	cfg[0x0e] = type;
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/config", bdf);
	tree_write_n(&m->t, rel, cfg, sizeof(cfg));
}

static inline void km_add_dev(struct kmodel *m, const char *bdf, unsigned vendor,
			      unsigned device, unsigned cls, int group, const char *driver,
			      const char *reset_method)
{
	struct km_dev *d;
	char dir[256], rel[512], target[512], v[32];

	assert_true(m->n_devs < KM_DEV_MAX);
	assert_null(km_find(m, bdf));
	d = &m->devs[m->n_devs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->vendor = vendor;
	d->device = device;
	d->group = group;
	d->vanish_after = -1;

	km_dev_dir(bdf, dir, sizeof(dir));
	tree_mkdir(&m->t, dir);
	snprintf(v, sizeof(v), "0x%04x\n", vendor);
	km_dev_attr(m, bdf, "vendor", v);
	snprintf(v, sizeof(v), "0x%04x\n", device);
	km_dev_attr(m, bdf, "device", v);
	snprintf(v, sizeof(v), "0x%06x\n", cls);
	km_dev_attr(m, bdf, "class", v);
	km_dev_attr(m, bdf, "subsystem_vendor", "0x1af4\n");
	km_dev_attr(m, bdf, "subsystem_device", "0x1100\n");
	km_dev_attr(m, bdf, "numa_node", "-1\n");
	km_dev_attr(m, bdf, "irq", "11\n");
	km_dev_attr(m, bdf, "driver_override", "(null)\n");
	if (reset_method) {
		snprintf(rel, sizeof(rel), "%s\n", reset_method);
		km_dev_attr(m, bdf, "reset_method", rel);
		km_dev_attr(m, bdf, "reset", "");
	}
	km_set_header_type(m, bdf, 0);

	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", bdf);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", bdf);
	tree_link(&m->t, rel, target);
	snprintf(rel, sizeof(rel), "%s/iommu_group", dir);
	snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
	tree_link(&m->t, rel, target);
	snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices/%s", group, bdf);
	snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", bdf);
	tree_link(&m->t, rel, target);
	if (driver) {
		if (!km_drv_loaded(m, driver))
			km_load_driver(m, driver);
		km_bind_raw(m, bdf, driver);
	}
}

/* ---- failure injection (one-shot) --------------------------------------- */

static inline void km_fail_probe(struct kmodel *m, const char *bdf)
{
	struct km_dev *d = km_find(m, bdf);

	assert_non_null(d);
	d->fail_probe++;
}

static inline void km_fail_unbind(struct kmodel *m, const char *bdf, int err)
{
	struct km_dev *d = km_find(m, bdf);

	assert_non_null(d);
	d->fail_unbind++;
	d->fail_unbind_err = err;
}

static inline void km_fail_bind(struct kmodel *m, const char *bdf, int err)
{
	struct km_dev *d = km_find(m, bdf);

	assert_non_null(d);
	d->fail_bind++;
	d->fail_bind_err = err;
}

static inline void km_vanish_after(struct kmodel *m, const char *bdf, int n_writes)
{
	struct km_dev *d = km_find(m, bdf);

	assert_non_null(d);
	d->vanish_after = n_writes;
	if (n_writes == 0)
		km_remove_dev(m, bdf);
}

static inline void km_fail_modprobe(struct kmodel *m)
{
	m->fail_modprobe++;
}

/* ---- the hooks ---------------------------------------------------------- */

static inline int km_bind_dev(struct kmodel *m, struct km_dev *d, const char *drv)
{
	km_bind_raw(m, d->bdf, drv);
	return 0;
}

/* drivers_probe: what the driver core does for one device. */
static inline int km_probe(struct kmodel *m, struct km_dev *d)
{
	const char *ovr;

	if (km_driver(m, d->bdf)[0])
		return 0;
	if (d->fail_probe > 0) {
		d->fail_probe--;
		return 0; /* the driver's probe() failed: the write still succeeds */
	}
	ovr = km_override(m, d->bdf);
	if (strcmp(ovr, "(null)") != 0) {
		if (km_drv_loaded(m, ovr))
			km_bind_dev(m, d, ovr);
		return 0;
	}
	for (size_t i = 0; i < m->n_drvs; i++) {
		const struct km_drv *drv = &m->drvs[i];

		if ((drv->vendor || drv->device) && drv->vendor == d->vendor &&
		    drv->device == d->device && km_drv_loaded(m, drv->name))
			return km_bind_dev(m, d, drv->name);
	}
	return 0;
}

static inline int km_apply(struct kmodel *m, const char *path, const char *value)
{
	static const char devs[] = "sys/bus/pci/devices/";
	static const char drvs[] = "sys/bus/pci/drivers/";
	char v[128], name[128];
	struct km_dev *d;
	const char *rest, *slash;

	snprintf(v, sizeof(v), "%s", value);
	v[strcspn(v, "\n")] = '\0';

	if (strcmp(path, "sys/bus/pci/drivers_probe") == 0) {
		d = km_find(m, v);
		if (!d || d->gone)
			return -ENODEV;
		return km_probe(m, d);
	}
	if (strncmp(path, devs, sizeof(devs) - 1) == 0) {
		rest = path + sizeof(devs) - 1;
		slash = strchr(rest, '/');
		if (!slash || (size_t)(slash - rest) >= sizeof(name))
			return -ENOENT;
		snprintf(name, sizeof(name), "%.*s", (int)(slash - rest), rest);
		d = km_find(m, name);
		if (!d)
			return -ENOENT;
		if (d->gone)
			return -ENODEV;
		if (strcmp(slash + 1, "driver_override") == 0) {
			km_set_override(m, d->bdf, v);
			return 0;
		}
		if (strcmp(slash + 1, "reset") == 0) {
			char rel[256];

			snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/reset", d->bdf);
			if (!km_exists(m, rel))
				return -ENOENT; /* no reset method: no attribute */
			return strcmp(v, "1") == 0 ? 0 : -EINVAL;
		}
		return -ENOENT;
	}
	if (strncmp(path, drvs, sizeof(drvs) - 1) == 0) {
		bool bind;

		rest = path + sizeof(drvs) - 1;
		slash = strchr(rest, '/');
		if (!slash || (size_t)(slash - rest) >= sizeof(name))
			return -ENOENT;
		snprintf(name, sizeof(name), "%.*s", (int)(slash - rest), rest);
		if (strcmp(slash + 1, "bind") == 0)
			bind = true;
		else if (strcmp(slash + 1, "unbind") == 0)
			bind = false;
		else
			return -ENOENT;
		if (!km_drv_loaded(m, name))
			return -ENOENT;
		d = km_find(m, v);
		if (!d || d->gone)
			return -ENODEV;
		if (!bind) {
			if (strcmp(km_driver(m, d->bdf), name) != 0)
				return -ENODEV;
			if (d->fail_unbind > 0) {
				d->fail_unbind--;
				return -d->fail_unbind_err;
			}
			km_unbind_raw(m, d->bdf);
			return 0;
		}
		if (km_driver(m, d->bdf)[0])
			return -EBUSY;
		if (d->fail_bind > 0) {
			d->fail_bind--;
			return -d->fail_bind_err;
		}
		{
			const char *ovr = km_override(m, d->bdf);
			const struct km_drv *drv = km_find_drv(m, name);

			if (strcmp(ovr, "(null)") != 0) {
				if (strcmp(ovr, name) != 0)
					return -ENODEV;
			} else if (!drv || !(drv->vendor || drv->device) ||
				   drv->vendor != d->vendor || drv->device != d->device) {
				return -ENODEV;
			}
		}
		return km_bind_dev(m, d, name);
	}
	return -ENOENT;
}

static inline int km_write(void *ctx, const char *path, const char *value,
			   struct vf_err *e)
{
	struct kmodel *m = ctx;
	size_t i = m->n_writes++;
	int r = km_apply(m, path, value);

	if (i < KM_LOG_MAX) {
		snprintf(m->log[i].path, sizeof(m->log[i].path), "%s", path);
		snprintf(m->log[i].value, sizeof(m->log[i].value), "%s", value);
		m->log[i].err = r < 0 ? -r : 0;
	}
	/* a device set to vanish goes after its N-th following write */
	for (size_t k = 0; k < m->n_devs; k++) {
		struct km_dev *d = &m->devs[k];

		if (d->gone || d->vanish_after < 0)
			continue;
		if (d->vanish_after > 0)
			d->vanish_after--;
		if (d->vanish_after == 0) {
			d->vanish_after = -1;
			km_remove_dev(m, d->bdf);
		}
	}
	if (r < 0)
		return vf_err_set(e, -r, "%s: write \"%.*s\"", path,
				  (int)strcspn(value, "\n"), value);
	return 0;
}

static inline int km_modprobe(void *ctx, const char *module, struct vf_err *e)
{
	struct kmodel *m = ctx;

	m->n_modprobe++;
	if (m->fail_modprobe > 0) {
		m->fail_modprobe--;
		return vf_err_set(e, 0, "modprobe %s failed (status 256)", module);
	}
	if (strcmp(module, "vfio-pci") == 0 || strcmp(module, "vfio_pci") == 0) {
		km_add_driver(m, "vfio-pci", 0, 0);
		return 0;
	}
	return vf_err_set(e, 0, "modprobe %s failed (status 256)", module);
}

/* ---- life cycle --------------------------------------------------------- */

/* A host with IOMMU groups, no storage or route to protect, vfio-pci not
 * loaded but available as a module. */
static inline void km_init(struct kmodel *m)
{
	memset(m, 0, sizeof(*m));
	tree_init(&m->t);
	tree_mkdir(&m->t, "sys/bus/pci/devices");
	tree_mkdir(&m->t, "sys/bus/pci/drivers");
	tree_write(&m->t, "sys/bus/pci/drivers_probe", "");
	tree_mkdir(&m->t, "sys/kernel/iommu_groups");
	tree_mkdir(&m->t, "dev/vfio");
	tree_write(&m->t, "proc/self/mountinfo",
		   "22 1 0:25 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u\n");
	tree_write(&m->t, "proc/net/route",
		   "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask"
		   "\t\tMTU\tWindow\tIRTT\n");
	tree_write(&m->t, "proc/sys/kernel/osrelease", KM_REL "\n");
	tree_write(&m->t, "lib/modules/" KM_REL "/modules.dep",
		   "kernel/drivers/vfio/vfio.ko:\n"
		   "kernel/drivers/vfio/pci/vfio-pci-core.ko: kernel/drivers/vfio/vfio.ko\n"
		   "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko "
		   "kernel/drivers/vfio/vfio.ko\n");
	m->hooks.write = km_write;
	m->hooks.modprobe = km_modprobe;
}

/* Routes the writes and module loads of `h` to the model (after hostfs_init). */
static inline void km_attach(struct kmodel *m, struct hostfs *h)
{
	h->hooks = &m->hooks;
	h->hook_ctx = m;
}

static inline void km_destroy(struct kmodel *m)
{
	tree_destroy(&m->t);
}

#endif
