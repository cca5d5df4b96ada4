// SPDX-License-Identifier: GPL-2.0-or-later
#include "inventory.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MODULES_LIST_MAX (8u << 20)

bool inventory_modules_list_has(const char *buf, const char *name)
{
	static const char *const ext[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
	size_t nlen = strlen(name);

	for (const char *line = buf; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *colon = memchr(line, ':', len);
		size_t plen = colon ? (size_t)(colon - line) : len;
		const char *base = line;

		for (const char *p = line; p < line + plen; p++)
			if (*p == '/')
				base = p + 1;
		for (size_t i = 0; i < VF_ARRAY_SIZE(ext); i++) {
			size_t elen = strlen(ext[i]);

			if ((size_t)(line + plen - base) == nlen + elen &&
			    strncmp(base, name, nlen) == 0 &&
			    strncmp(base + nlen, ext[i], elen) == 0)
				return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

static bool has_iommu_groups(const struct hostfs *h)
{
	struct vf_err e = { 0 };
	_cleanup_closedir_ DIR *d = hostfs_opendir(h, "sys/kernel/iommu_groups", &e);
	struct dirent *de;

	if (!d)
		return false;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			return true;
	return false;
}

static bool module_listed(const struct hostfs *h, const char *rel,
			  const char *file, const char *name)
{
	_cleanup_free_ char *buf = NULL;
	struct vf_err e = { 0 };
	char path[512];

	if (vf_path(path, sizeof(path), "lib/modules/%s/%s", rel, file) < 0 ||
	    hostfs_read_all(h, path, MODULES_LIST_MAX, &buf, NULL, &e) < 0)
		return false;
	return inventory_modules_list_has(buf, name);
}

static void probe_vfio(const struct hostfs *h, struct host_facts *f)
{
	char rel[256] = "";
	_cleanup_free_ char *buf = NULL;
	struct vf_err e = { 0 };

	if (hostfs_exists(h, "sys/bus/pci/drivers/vfio-pci")) {
		f->vfio = true;
		snprintf(f->vfio_why, sizeof(f->vfio_why), "the vfio-pci driver is loaded");
		return;
	}
	if (hostfs_read_all(h, "proc/sys/kernel/osrelease", 255, &buf, NULL, &e) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (vf_name_is_safe(buf))
			snprintf(rel, sizeof(rel), "%s", buf);
	}
	if (!rel[0]) {
		snprintf(f->vfio_why, sizeof(f->vfio_why),
			 "the vfio-pci driver is not loaded and the kernel release is unknown");
		return;
	}
	if (module_listed(h, rel, "modules.builtin", "vfio-pci")) {
		f->vfio = true;
		snprintf(f->vfio_why, sizeof(f->vfio_why),
			 "vfio-pci is built into kernel %s", rel);
	} else if (module_listed(h, rel, "modules.dep", "vfio-pci")) {
		f->vfio = true;
		snprintf(f->vfio_why, sizeof(f->vfio_why),
			 "the vfio-pci module of kernel %s is available, not loaded yet", rel);
	} else {
		snprintf(f->vfio_why, sizeof(f->vfio_why),
			 "the vfio-pci driver is not loaded and kernel %s has no vfio-pci module",
			 rel);
	}
}

void inventory_host_facts(struct inventory *inv, const struct hostfs *h)
{
	hostcrit_free(&inv->critical);
	hostcrit_collect(h, &inv->critical);
	inv->facts.iommu = has_iommu_groups(h);
	probe_vfio(h, &inv->facts);
	inv->facts.critical = &inv->critical;
}

void inventory_judge(struct inventory *inv, const struct policy *pol)
{
	if (inv->verdicts)
		verdict_free(inv->verdicts, inv->n_verdicts);
	free(inv->verdicts);
	inv->facts.policy = pol;
	inv->verdicts = vf_xcalloc(inv->pci.n ? inv->pci.n : 1, sizeof(*inv->verdicts));
	inv->n_verdicts = inv->pci.n;
	verdict_compute(&inv->pci, &inv->facts, inv->verdicts);
}

int inventory_gather(struct inventory *inv, const struct hostfs *h,
		     const struct policy *pol, struct pci_names *names,
		     struct vf_err *e)
{
	memset(inv, 0, sizeof(*inv));
	if (pci_scan(h, &inv->pci, e) < 0)
		return -1;
	if (names)
		names_fill(names, &inv->pci);
	inventory_host_facts(inv, h);
	inventory_judge(inv, pol);
	return 0;
}

int inventory_find(const struct inventory *inv, const char *bdf)
{
	const struct pci_dev_info *d = pci_find(&inv->pci, bdf);

	return d ? (int)(d - inv->pci.devs) : -1;
}

void inventory_free(struct inventory *inv)
{
	if (inv->verdicts)
		verdict_free(inv->verdicts, inv->n_verdicts);
	free(inv->verdicts);
	hostcrit_free(&inv->critical);
	pci_inventory_free(&inv->pci);
	memset(inv, 0, sizeof(*inv));
}

/* ---- JSON ------------------------------------------------------------ */

static struct json_object *hex(unsigned v, int width)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%0*x", width, v);
	return json_object_new_string(buf);
}

static struct json_object *int_or_null(int v)
{
	return v >= 0 ? json_object_new_int(v) : NULL;
}

static struct json_object *strv(const struct vf_strv *sv)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < sv->n; i++)
		json_object_array_add(a, json_object_new_string(sv->v[i]));
	return a;
}

static struct json_object *bdf_list(const struct inventory *inv,
				    const size_t *idx, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(inv->pci.devs[idx[i]].bdf));
	return a;
}

static struct json_object *sriov_json(const struct pci_dev_info *d)
{
	struct json_object *o;

	if (d->sriov_totalvfs < 0 && !d->physfn[0])
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "physfn", vf_json_str_or_null(d->physfn));
	json_object_object_add(o, "totalvfs", int_or_null(d->sriov_totalvfs));
	json_object_object_add(o, "numvfs", int_or_null(d->sriov_numvfs));
	json_object_object_add(o, "vfs", strv(&d->vfs));
	return o;
}

static struct json_object *irq_json(const struct pci_dev_info *d)
{
	struct json_object *o = json_object_new_object();
	struct json_object *v = json_object_new_array();

	for (size_t i = 0; i < d->n_vectors; i++)
		json_object_array_add(v, json_object_new_int64(d->vectors[i]));
	json_object_object_add(o, "mode", json_object_new_string(pci_irq_mode_name(d->irq_mode)));
	json_object_object_add(o, "irq", d->irq ? json_object_new_int64(d->irq) : NULL);
	json_object_object_add(o, "vectors", v);
	return o;
}

struct json_object *inventory_device_json(const struct inventory *inv, size_t i)
{
	const struct pci_dev_info *d = &inv->pci.devs[i];
	const struct verdict *v = &inv->verdicts[i];
	struct json_object *o = json_object_new_object();
	const char *hdr = pci_header_name(d->header);

#define ADD(k, val) json_object_object_add(o, k, val)
	ADD("bdf", json_object_new_string(d->bdf));
	ADD("vendor", d->ids_ok ? hex(d->vendor, 4) : NULL);
	ADD("device", d->ids_ok ? hex(d->device, 4) : NULL);
	ADD("class", d->ids_ok ? hex(d->class, 6) : NULL);
	ADD("vendor_name", vf_json_str_or_null(d->vendor_name));
	ADD("device_name", vf_json_str_or_null(d->device_name));
	ADD("class_name", vf_json_str_or_null(d->class_name));
	ADD("subsystem_vendor", d->subsys_ok ? hex(d->subsys_vendor, 4) : NULL);
	ADD("subsystem_device", d->subsys_ok ? hex(d->subsys_device, 4) : NULL);
	ADD("header_type", hdr ? json_object_new_string(hdr) : NULL);
	ADD("endpoint", json_object_new_boolean(pci_is_endpoint(d)));
	ADD("parent", vf_json_str_or_null(d->parent));
	ADD("driver", vf_json_str_or_null(d->driver));
	ADD("driver_override", vf_json_str_or_null(d->driver_override));
	ADD("iommu_group", int_or_null(d->iommu_group));
	ADD("group_members", bdf_list(inv, v->members, v->n_members));
	ADD("companions", bdf_list(inv, v->companions, v->n_companions));
	ADD("numa_node", int_or_null(d->numa_node));
	ADD("boot_vga", d->boot_vga < 0 ? NULL : json_object_new_boolean(d->boot_vga));
	ADD("sriov", sriov_json(d));
	ADD("reset_methods", d->has_reset_method ? strv(&d->reset_methods) : NULL);
	ADD("interrupts", irq_json(d));
	ADD("assignable", json_object_new_boolean(v->reason == VF_REASON_NONE));
	ADD("reason", vf_json_str_or_null(verdict_reason_code(v->reason)));
	ADD("message", json_object_new_string(v->message));
	ADD("errors", strv(&d->errors));
#undef ADD
	return o;
}

struct json_object *inventory_to_json(const struct inventory *inv)
{
	struct json_object *root = json_object_new_object();
	struct json_object *vfio = json_object_new_object();
	struct json_object *crit = json_object_new_array();
	struct json_object *warn = strv(&inv->pci.errors);
	struct json_object *devs = json_object_new_array();

	json_object_object_add(vfio, "available", json_object_new_boolean(inv->facts.vfio));
	json_object_object_add(vfio, "detail", json_object_new_string(inv->facts.vfio_why));
	for (size_t i = 0; i < inv->critical.n; i++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "bdf", json_object_new_string(inv->critical.v[i].bdf));
		json_object_object_add(c, "why", json_object_new_string(inv->critical.v[i].why));
		json_object_array_add(crit, c);
	}
	if (inv->critical.storage_unknown[0])
		json_object_array_add(warn, json_object_new_string(inv->critical.storage_unknown));
	if (inv->critical.network_unknown[0])
		json_object_array_add(warn, json_object_new_string(inv->critical.network_unknown));
	for (size_t i = 0; i < inv->pci.n; i++)
		json_object_array_add(devs, inventory_device_json(inv, i));
	json_object_object_add(root, "iommu", json_object_new_boolean(inv->facts.iommu));
	json_object_object_add(root, "vfio", vfio);
	json_object_object_add(root, "host_critical", crit);
	json_object_object_add(root, "warnings", warn);
	json_object_object_add(root, "devices", devs);
	return root;
}
