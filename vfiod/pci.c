// SPDX-License-Identifier: GPL-2.0-or-later
#include "pci.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PCI_DEVICES_DIR "sys/bus/pci/devices"
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_CLASS_BASE_BRIDGE 0x06

/* Copies `s` for a message, with anything not printable ASCII as '?'. */
static void printable(char *dst, size_t cap, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 1 < cap; i++)
		dst[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	dst[i] = '\0';
}

static void dev_error(struct pci_dev_info *d, struct vf_err *e)
{
	char safe[VF_ERR_MSG_MAX];

	printable(safe, sizeof(safe), e->msg);
	vf_strv_add(&d->errors, safe);
	vf_err_clear(e);
}

/* Reads an attribute; records an error unless it is absent and optional. */
static bool read_attr(int fd, const char *name, bool optional,
		      struct pci_dev_info *d, char *buf, size_t cap)
{
	struct vf_err e = { 0 };

	if (hostfs_attr_at(fd, name, buf, cap, &e) >= 0)
		return true;
	if (!(optional && e.errnum == ENOENT)) {
		vf_err_wrap(&e, "cannot read");
		dev_error(d, &e);
	}
	return false;
}

static void bad_number(struct pci_dev_info *d, const char *name,
		       const char *value, int r)
{
	char safe[64];

	printable(safe, sizeof(safe), value);
	vf_strv_addf(&d->errors, "%s: %s \"%s\"", name,
		     r == -ERANGE ? "value out of range" : "not a number", safe);
}

static bool read_num_attr(int fd, const char *name, int base, uint64_t max,
			  bool optional, struct pci_dev_info *d, uint64_t *out)
{
	char buf[64];
	int r;

	if (!read_attr(fd, name, optional, d, buf, sizeof(buf)))
		return false;
	r = vf_parse_u64(buf, base, max, out);
	if (r < 0)
		bad_number(d, name, buf, r);
	return r == 0;
}

/* A link whose last component names something; "" when absent. */
static bool read_link_name(int fd, const char *name, struct pci_dev_info *d,
			   char *buf, size_t cap)
{
	struct vf_err e = { 0 };
	int r = hostfs_link_name_at(fd, name, buf, cap, &e);

	if (r == -ENOENT) {
		buf[0] = '\0';
		return true;
	}
	if (r < 0) {
		buf[0] = '\0';
		dev_error(d, &e);
		return false;
	}
	return true;
}

static void read_bdf_link(int fd, const char *name, struct pci_dev_info *d,
			  char out[VF_BDF_LEN])
{
	char buf[VF_NAME_MAX], safe[VF_NAME_MAX];

	out[0] = '\0';
	if (!read_link_name(fd, name, d, buf, sizeof(buf)) || !buf[0])
		return;
	if (!vf_is_canonical_bdf(buf)) {
		printable(safe, sizeof(safe), buf);
		vf_strv_addf(&d->errors, "%s: link points at \"%s\", not a PCI device",
			     name, safe);
		return;
	}
	memcpy(out, buf, VF_BDF_LEN);
}

static void read_ids(int fd, struct pci_dev_info *d)
{
	uint64_t v, dv, c, sv, sd;

	d->ids_ok = read_num_attr(fd, "vendor", 16, 0xffff, false, d, &v);
	d->ids_ok &= read_num_attr(fd, "device", 16, 0xffff, false, d, &dv);
	d->ids_ok &= read_num_attr(fd, "class", 16, 0xffffff, false, d, &c);
	if (d->ids_ok) {
		d->vendor = (uint16_t)v;
		d->device = (uint16_t)dv;
		d->class = (uint32_t)c;
	}
	d->subsys_ok = read_num_attr(fd, "subsystem_vendor", 16, 0xffff, true, d, &sv);
	d->subsys_ok &= read_num_attr(fd, "subsystem_device", 16, 0xffff, true, d, &sd);
	if (d->subsys_ok) {
		d->subsys_vendor = (uint16_t)sv;
		d->subsys_device = (uint16_t)sd;
	}
}

static void read_header(int fd, struct pci_dev_info *d)
{
	struct vf_err e = { 0 };
	unsigned char cfg[64];
	int n = hostfs_read_raw_at(fd, "config", cfg, sizeof(cfg), &e);

	d->header = VF_HDR_UNKNOWN;
	if (n < 0) {
		vf_err_wrap(&e, "cannot read");
		dev_error(d, &e);
		return;
	}
	if (n <= PCI_CFG_HEADER_TYPE) {
		vf_strv_addf(&d->errors, "config: truncated (%d bytes)", n);
		return;
	}
	switch (cfg[PCI_CFG_HEADER_TYPE] & 0x7f) {
	case 0: d->header = VF_HDR_NORMAL; break;
	case 1: d->header = VF_HDR_BRIDGE; break;
	case 2: d->header = VF_HDR_CARDBUS; break;
	default:
		vf_strv_addf(&d->errors, "config: unknown header type 0x%02x",
			     cfg[PCI_CFG_HEADER_TYPE]);
	}
}

static void read_driver(const struct hostfs *h, const char *devpath, int fd,
			struct pci_dev_info *d)
{
	char buf[VF_NAME_MAX], path[600];

	d->driver_bad = !read_link_name(fd, "driver", d, d->driver, sizeof(d->driver));
	/* a link that leads nowhere says nothing about who holds the device */
	if (d->driver[0] && (vf_path(path, sizeof(path), "%s/driver", devpath) < 0 ||
			     !hostfs_exists(h, path))) {
		vf_strv_addf(&d->errors, "driver: the link names driver \"%s\", which does not exist",
			     d->driver);
		d->driver_bad = true;
	}
	if (read_attr(fd, "driver_override", true, d, buf, sizeof(buf)) &&
	    strcmp(buf, "(null)") != 0)
		printable(d->driver_override, sizeof(d->driver_override), buf);
}

static void read_group(int fd, struct pci_dev_info *d)
{
	char buf[VF_NAME_MAX], safe[VF_NAME_MAX];
	uint64_t g;

	d->iommu_group = -1;
	if (!read_link_name(fd, "iommu_group", d, buf, sizeof(buf))) {
		d->group_bad = true;
		return;
	}
	if (!buf[0])
		return;
	if (vf_parse_u64(buf, 10, INT_MAX, &g) < 0) {
		printable(safe, sizeof(safe), buf);
		vf_strv_addf(&d->errors, "iommu_group: link points at \"%s\", not a group number",
			     safe);
		d->group_bad = true;
		return;
	}
	d->iommu_group = (int)g;
}

static void read_topology(int fd, struct pci_dev_info *d)
{
	char buf[64];
	uint64_t v;
	int64_t node;
	int r;

	d->numa_node = -1;
	if (read_attr(fd, "numa_node", true, d, buf, sizeof(buf))) {
		r = vf_parse_i64(buf, -1, INT_MAX, &node);
		if (r < 0)
			bad_number(d, "numa_node", buf, r);
		else
			d->numa_node = (int)node;
	}
	d->boot_vga = -1;
	if (read_num_attr(fd, "boot_vga", 10, 1, true, d, &v))
		d->boot_vga = (int)v;
}

static int cmp_virtfn(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return atoi(x + 6) - atoi(y + 6);
}

static void read_sriov(int fd, struct pci_dev_info *d)
{
	struct vf_err e = { 0 };
	struct vf_strv links = { 0 };
	uint64_t v;
	DIR *dir;
	struct dirent *de;

	read_bdf_link(fd, "physfn", d, d->physfn);
	d->sriov_totalvfs = d->sriov_numvfs = -1;
	if (read_num_attr(fd, "sriov_totalvfs", 10, INT_MAX, true, d, &v))
		d->sriov_totalvfs = (int)v;
	if (read_num_attr(fd, "sriov_numvfs", 10, INT_MAX, true, d, &v))
		d->sriov_numvfs = (int)v;
	if (d->sriov_totalvfs < 0)
		return;
	dir = hostfs_opendir_at(fd, ".", &e);
	if (!dir) {
		dev_error(d, &e);
		return;
	}
	while ((de = readdir(dir))) {
		uint64_t n;

		if (strncmp(de->d_name, "virtfn", 6) == 0 &&
		    vf_parse_u64(de->d_name + 6, 10, 65535, &n) == 0)
			vf_strv_add(&links, de->d_name);
	}
	closedir(dir);
	if (links.n)
		qsort(links.v, links.n, sizeof(*links.v), cmp_virtfn);
	for (size_t i = 0; i < links.n; i++) {
		char bdf[VF_BDF_LEN];

		read_bdf_link(fd, links.v[i], d, bdf);
		if (bdf[0])
			vf_strv_add(&d->vfs, bdf);
	}
	vf_strv_free(&links);
}

static void read_reset(int fd, struct pci_dev_info *d)
{
	char buf[256], *save = NULL;

	if (!read_attr(fd, "reset_method", true, d, buf, sizeof(buf)))
		return;
	d->has_reset_method = true;
	for (char *tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (vf_name_is_safe(tok))
			vf_strv_add(&d->reset_methods, tok);
		else
			vf_strv_add(&d->errors, "reset_method: junk in the method list");
	}
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static void read_irqs(int fd, struct pci_dev_info *d)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct vf_err e = { 0 };
	struct dirent *de;
	bool msix = false;
	uint64_t v;

	if (read_num_attr(fd, "irq", 10, UINT_MAX, true, d, &v))
		d->irq = (unsigned)v;
	dir = hostfs_opendir_at(fd, "msi_irqs", &e);
	if (!dir) {
		if (e.errnum != ENOENT)
			dev_error(d, &e);
		d->irq_mode = d->irq ? VF_IRQ_INTX : VF_IRQ_NONE;
		return;
	}
	while ((de = readdir(dir))) {
		char mode[16], safe[64];

		if (de->d_name[0] == '.')
			continue;
		if (vf_parse_u64(de->d_name, 10, UINT_MAX, &v) < 0) {
			printable(safe, sizeof(safe), de->d_name);
			vf_strv_addf(&d->errors, "msi_irqs: \"%s\" is not a vector number",
				     safe);
			continue;
		}
		if (hostfs_attr_at(dirfd(dir), de->d_name, mode, sizeof(mode), &e) < 0) {
			vf_err_wrap(&e, "msi_irqs");
			dev_error(d, &e);
			continue;
		}
		msix |= strcmp(mode, "msix") == 0;
		d->vectors = vf_xreallocarray(d->vectors, d->n_vectors + 1,
					      sizeof(*d->vectors));
		d->vectors[d->n_vectors++] = (unsigned)v;
	}
	if (d->n_vectors) {
		qsort(d->vectors, d->n_vectors, sizeof(*d->vectors), cmp_unsigned);
		d->irq_mode = msix ? VF_IRQ_MSIX : VF_IRQ_MSI;
	} else {
		d->irq_mode = d->irq ? VF_IRQ_INTX : VF_IRQ_NONE;
	}
}

/* The BDF component just before the device's own one in its sysfs path. */
static void parent_of(const char *syspath, const char *bdf, char out[VF_BDF_LEN])
{
	char copy[1024], *save = NULL, prev[VF_BDF_LEN] = "";

	out[0] = '\0';
	snprintf(copy, sizeof(copy), "%s", syspath);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!vf_is_canonical_bdf(c))
			continue;
		if (strcmp(c, bdf) == 0) {
			memcpy(out, prev, VF_BDF_LEN);
			return;
		}
		memcpy(prev, c, VF_BDF_LEN);
	}
}

/* Fills `d` (zeroed) from sysfs; returns -ENOENT when the device has no directory. */
static int scan_device(const struct hostfs *h, const char *bdf,
		       struct pci_dev_info *d)
{
	char path[512];
	struct vf_err e = { 0 };
	_cleanup_close_ int fd = -1;

	memcpy(d->bdf, bdf, VF_BDF_LEN);
	vf_parse_bdf(bdf, &d->addr);
	d->iommu_group = d->numa_node = d->boot_vga = -1;
	d->sriov_totalvfs = d->sriov_numvfs = -1;
	d->header = VF_HDR_UNKNOWN;
	vf_path(path, sizeof(path), PCI_DEVICES_DIR "/%s", bdf);
	fd = hostfs_open(h, path, O_RDONLY | O_DIRECTORY, &e);
	if (fd < 0) {
		int err = e.errnum;

		vf_err_set(&e, e.errnum, "device directory %s unreadable", path);
		dev_error(d, &e);
		return err == ENOENT ? -ENOENT : 0;
	}
	if (hostfs_canonical(h, path, d->syspath, sizeof(d->syspath), &e) < 0)
		dev_error(d, &e);
	else
		parent_of(d->syspath, bdf, d->parent);
	read_ids(fd, d);
	read_header(fd, d);
	read_driver(h, path, fd, d);
	read_group(fd, d);
	read_topology(fd, d);
	read_sriov(fd, d);
	read_reset(fd, d);
	read_irqs(fd, d);
	return 0;
}

int pci_read_device(const struct hostfs *h, const char *bdf, struct pci_dev_info *d)
{
	memset(d, 0, sizeof(*d));
	if (!vf_is_canonical_bdf(bdf))
		return -EINVAL;
	if (scan_device(h, bdf, d) == -ENOENT) {
		struct vf_err e = { 0 };
		_cleanup_close_ int dir = hostfs_open(h, PCI_DEVICES_DIR, O_RDONLY | O_DIRECTORY, &e);
		struct stat st;

		/* a dangling entry is an unreadable device, as in a scan; no entry: gone */
		if (dir < 0 || fstatat(dir, bdf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			pci_dev_info_free(d);
			return -ENOENT;
		}
	}
	return 0;
}

int pci_read_interrupts(const struct hostfs *h, struct pci_dev_info *d)
{
	char path[512];
	struct vf_err e = { 0 };
	_cleanup_close_ int fd = -1;

	vf_path(path, sizeof(path), PCI_DEVICES_DIR "/%s", d->bdf);
	fd = hostfs_open(h, path, O_RDONLY | O_DIRECTORY, &e);
	if (fd < 0)
		return -e.errnum;
	free(d->vectors);
	d->vectors = NULL;
	d->n_vectors = 0;
	d->irq = 0;
	read_irqs(fd, d);
	return 0;
}

void pci_dev_info_free(struct pci_dev_info *d)
{
	vf_strv_free(&d->vfs);
	vf_strv_free(&d->reset_methods);
	vf_strv_free(&d->errors);
	free(d->vectors);
	d->vectors = NULL;
	d->n_vectors = 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct pci_dev_info *)a)->bdf,
		      ((const struct pci_dev_info *)b)->bdf);
}

int pci_scan(const struct hostfs *h, struct pci_inventory *inv, struct vf_err *e)
{
	_cleanup_closedir_ DIR *dir = hostfs_opendir(h, PCI_DEVICES_DIR, e);
	struct dirent *de;

	memset(inv, 0, sizeof(*inv));
	if (!dir)
		return vf_err_wrap(e, "cannot list PCI devices");
	while ((de = readdir(dir))) {
		char safe[VF_NAME_MAX];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!vf_is_canonical_bdf(de->d_name)) {
			printable(safe, sizeof(safe), de->d_name);
			vf_strv_addf(&inv->errors,
				     PCI_DEVICES_DIR "/%s: not a PCI address, skipped",
				     safe);
			continue;
		}
		inv->devs = vf_xreallocarray(inv->devs, inv->n + 1, sizeof(*inv->devs));
		memset(&inv->devs[inv->n], 0, sizeof(*inv->devs));
		/* listed but its directory missing (a dangling link): unreadable */
		scan_device(h, de->d_name, &inv->devs[inv->n]);
		inv->n++;
	}
	if (inv->n)
		qsort(inv->devs, inv->n, sizeof(*inv->devs), cmp_dev);
	return 0;
}

void pci_inventory_free(struct pci_inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++)
		pci_dev_info_free(&inv->devs[i]);
	free(inv->devs);
	vf_strv_free(&inv->errors);
	memset(inv, 0, sizeof(*inv));
}

size_t pci_lower_bound(const struct pci_inventory *inv, const char *bdf)
{
	size_t lo = 0, hi = inv->n;

	/* devs is sorted by BDF: a binary search on the address alone */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(inv->devs[mid].bdf, bdf) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct pci_dev_info *pci_find(const struct pci_inventory *inv,
				    const char *bdf)
{
	size_t i = pci_lower_bound(inv, bdf);

	return i < inv->n && strcmp(inv->devs[i].bdf, bdf) == 0 ? &inv->devs[i] : NULL;
}

bool pci_is_bridge(const struct pci_dev_info *d)
{
	if (d->header == VF_HDR_BRIDGE || d->header == VF_HDR_CARDBUS)
		return true;
	return d->ids_ok && ((d->class >> 8) == 0x0604 || (d->class >> 8) == 0x0607);
}

bool pci_is_endpoint(const struct pci_dev_info *d)
{
	if (d->header != VF_HDR_NORMAL || pci_is_bridge(d))
		return false;
	return !(d->ids_ok && (d->class >> 16) == PCI_CLASS_BASE_BRIDGE);
}

bool pci_facts_complete(const struct pci_dev_info *d)
{
	return d->ids_ok && d->header != VF_HDR_UNKNOWN && !d->driver_bad && !d->group_bad;
}

const char *pci_irq_mode_name(enum vf_irq_mode m)
{
	switch (m) {
	case VF_IRQ_INTX: return "intx";
	case VF_IRQ_MSI: return "msi";
	case VF_IRQ_MSIX: return "msix";
	default: return "none";
	}
}

const char *pci_header_name(enum vf_header_type t)
{
	switch (t) {
	case VF_HDR_NORMAL: return "normal";
	case VF_HDR_BRIDGE: return "bridge";
	case VF_HDR_CARDBUS: return "cardbus";
	default: return NULL;
	}
}

bool pci_bdf_of_syspath(const char *path, char out[VF_BDF_LEN])
{
	char copy[1024], *save = NULL;
	bool found = false;

	if (vf_path(copy, sizeof(copy), "%s", path) < 0)
		return false;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (vf_is_canonical_bdf(c)) {
			memcpy(out, c, VF_BDF_LEN);
			found = true;
		}
	}
	return found;
}

int pci_read_command(const struct hostfs *h, const char *bdf, unsigned *cmd, struct vf_err *e)
{
	_cleanup_close_ int fd = -1;
	unsigned char cfg[PCI_COMMAND + 2];
	char path[128];

	vf_path(path, sizeof(path), "sys/bus/pci/devices/%s", bdf);
	fd = hostfs_open(h, path, O_RDONLY | O_DIRECTORY, e);
	if (fd < 0)
		return vf_err_set(e, e->errnum, "device %s has disappeared", bdf);
	if (hostfs_read_raw_at(fd, "config", cfg, sizeof(cfg), e) != (int)sizeof(cfg))
		return vf_err_set(e, e->errnum, "%s: cannot read the command register", bdf);
	*cmd = (unsigned)cfg[PCI_COMMAND] | (unsigned)cfg[PCI_COMMAND + 1] << 8;
	return 0;
}

int pci_write_command(const struct hostfs *h, const char *bdf, unsigned cmd, struct vf_err *e)
{
	unsigned char v[2] = { (unsigned char)(cmd & 0xff), (unsigned char)(cmd >> 8) };
	char path[128];

	vf_path(path, sizeof(path), "sys/bus/pci/devices/%s/config", bdf);
	return hostfs_pwrite(h, path, PCI_COMMAND, v, sizeof(v), e);
}
