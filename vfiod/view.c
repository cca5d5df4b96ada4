// SPDX-License-Identifier: GPL-2.0-or-later
#include "view.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define PCI_DEVICES_DIR "sys/bus/pci/devices"

int view_init(struct view *v, const struct hostfs *h, const struct policy *pol,
	      struct pci_names *names, struct vf_err *e)
{
	memset(v, 0, sizeof(*v));
	v->h = h;
	v->pol = pol;
	v->names = names;
	if (inventory_gather(&v->inv, h, pol, names, e) < 0)
		return -1;
	v->gen = 1;
	return 0;
}

void view_fini(struct view *v)
{
	inventory_free(&v->inv);
	vf_strv_free(&v->marked);
	memset(v, 0, sizeof(*v));
}

static void rejudge(struct view *v)
{
	inventory_judge(&v->inv, v->pol);
	v->stats.rejudged++;
	v->gen++;
}

void view_set_policy(struct view *v, const struct policy *pol)
{
	v->pol = pol;
	rejudge(v);
}

void view_mark(struct view *v, const char *bdf)
{
	if (!vf_is_canonical_bdf(bdf))
		return;
	for (size_t i = 0; i < v->marked.n; i++)
		if (strcmp(v->marked.v[i], bdf) == 0)
			return;
	vf_strv_add(&v->marked, bdf);
}

void view_mark_host(struct view *v)
{
	v->host_marked = true;
}

static bool strv_equal(const struct vf_strv *a, const struct vf_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static const char *or_none(const char *s)
{
	return s[0] ? s : "none";
}

bool view_dev_differs(const struct pci_dev_info *was, const struct pci_dev_info *now,
		      char *what, size_t cap)
{
	if (was->ids_ok != now->ids_ok || was->vendor != now->vendor ||
	    was->device != now->device || was->class != now->class)
		snprintf(what, cap, "ids %04x:%04x class %06x -> %04x:%04x class %06x",
			 was->vendor, was->device, was->class, now->vendor, now->device, now->class);
	else if (strcmp(was->driver, now->driver) != 0 || was->driver_bad != now->driver_bad)
		snprintf(what, cap, "driver %s -> %s", or_none(was->driver), or_none(now->driver));
	else if (strcmp(was->driver_override, now->driver_override) != 0)
		snprintf(what, cap, "driver_override %s -> %s", or_none(was->driver_override),
			 or_none(now->driver_override));
	else if (was->iommu_group != now->iommu_group || was->group_bad != now->group_bad)
		snprintf(what, cap, "IOMMU group %d -> %d", was->iommu_group, now->iommu_group);
	else if (was->header != now->header)
		snprintf(what, cap, "header type %d -> %d", was->header, now->header);
	else if (was->boot_vga != now->boot_vga)
		snprintf(what, cap, "boot_vga %d -> %d", was->boot_vga, now->boot_vga);
	else if (was->numa_node != now->numa_node)
		snprintf(what, cap, "NUMA node %d -> %d", was->numa_node, now->numa_node);
	else if (strcmp(was->physfn, now->physfn) != 0)
		snprintf(what, cap, "physfn %s -> %s", or_none(was->physfn), or_none(now->physfn));
	else if (was->sriov_totalvfs != now->sriov_totalvfs ||
		 was->sriov_numvfs != now->sriov_numvfs || !strv_equal(&was->vfs, &now->vfs))
		snprintf(what, cap, "SR-IOV VFs %d -> %d", was->sriov_numvfs, now->sriov_numvfs);
	else if (strcmp(was->parent, now->parent) != 0 || strcmp(was->syspath, now->syspath) != 0)
		snprintf(what, cap, "place in the topology changed");
	else if (was->subsys_ok != now->subsys_ok || was->subsys_vendor != now->subsys_vendor ||
		 was->subsys_device != now->subsys_device)
		snprintf(what, cap, "subsystem ids changed");
	else if (was->has_reset_method != now->has_reset_method ||
		 !strv_equal(&was->reset_methods, &now->reset_methods))
		snprintf(what, cap, "reset methods changed");
	else if (!strv_equal(&was->errors, &now->errors))
		snprintf(what, cap, "read errors %zu -> %zu", was->errors.n, now->errors.n);
	else
		return false;
	return true;
}

static bool irqs_differ(const struct pci_dev_info *a, const struct pci_dev_info *b)
{
	return a->irq != b->irq || a->irq_mode != b->irq_mode || a->n_vectors != b->n_vectors ||
	       (a->n_vectors && memcmp(a->vectors, b->vectors, a->n_vectors * sizeof(*a->vectors)));
}

static void remove_at(struct pci_inventory *p, size_t i)
{
	pci_dev_info_free(&p->devs[i]);
	memmove(&p->devs[i], &p->devs[i + 1], (p->n - i - 1) * sizeof(*p->devs));
	p->n--;
}

static void insert(struct pci_inventory *p, struct pci_dev_info *d)
{
	size_t at = pci_lower_bound(p, d->bdf);

	p->devs = vf_xreallocarray(p->devs, p->n + 1, sizeof(*p->devs));
	memmove(&p->devs[at + 1], &p->devs[at], (p->n - at) * sizeof(*p->devs));
	p->devs[at] = *d;
	p->n++;
}

static void note(struct vf_strv *drift, const char *bdf, const char *what)
{
	if (drift)
		vf_strv_addf(drift, "%s: %s", bdf, what);
}

/*
 * A change the sweep sees is drift unless its event is already waiting to
 * be read: the kernel tells of a change after making it, so a sweep can
 * see it first, and that is no fault of the events.
 */
static bool is_drift(struct view *v, const char *bdf)
{
	return !(v->pending && v->pending(v->pending_ctx, bdf));
}

/* The sweep saw `what` about `bdf`: counted and described when it is drift. */
static void drifted(struct view *v, struct vf_strv *drift, size_t *ndrift, const char *bdf,
		    const char *what)
{
	if (!ndrift || !is_drift(v, bdf))
		return;
	note(drift, bdf, what);
	(*ndrift)++;
}

/*
 * Reads `bdf` again into the view. Returns 1 when a fact a verdict may
 * depend on changed (or the device came or went), 2 when only its
 * interrupts did, 0 when nothing. A VF that comes or goes marks its PF.
 * For the sweep (`ndrift` set), what changed is drift (drifted()).
 */
static int read_one(struct view *v, const char *bdf, struct vf_strv *drift, size_t *ndrift)
{
	struct pci_dev_info now;
	int idx = inventory_find(&v->inv, bdf);
	struct pci_dev_info *was;
	char what[256];
	int r;

	v->stats.device_reads++;
	r = pci_read_device(v->h, bdf, &now);
	if (r == -EINVAL)
		return 0;
	if (r == -ENOENT) {
		if (idx < 0)
			return 0;
		if (v->inv.pci.devs[idx].physfn[0])
			view_mark(v, v->inv.pci.devs[idx].physfn);
		drifted(v, drift, ndrift, bdf, "gone");
		remove_at(&v->inv.pci, (size_t)idx);
		return 1;
	}
	if (v->names)
		names_fill_dev(v->names, &now);
	if (idx < 0) {
		if (now.physfn[0])
			view_mark(v, now.physfn);
		drifted(v, drift, ndrift, bdf, "appeared");
		insert(&v->inv.pci, &now);
		return 1;
	}
	was = &v->inv.pci.devs[idx];
	if (view_dev_differs(was, &now, what, sizeof(what))) {
		drifted(v, drift, ndrift, bdf, what);
		r = 1;
	} else {
		r = irqs_differ(was, &now) ? 2 : 0;
	}
	pci_dev_info_free(was);
	*was = now;
	return r;
}

/* Reads every marked device (a PF a VF names joins the list) and the host when marked. */
static void apply_marks(struct view *v)
{
	bool judge = false, changed = false;

	if (v->host_marked) {
		v->host_marked = false;
		inventory_host_facts(&v->inv, v->h);
		v->stats.host_reads++;
		judge = true;
	}
	for (size_t i = 0; i < v->marked.n; i++) {
		char bdf[VF_BDF_LEN];
		int r;

		snprintf(bdf, sizeof(bdf), "%s", v->marked.v[i]); /* the list may grow */
		r = read_one(v, bdf, NULL, NULL);
		judge |= r == 1;
		changed |= r == 2;
	}
	vf_strv_free(&v->marked);
	if (judge)
		rejudge(v);
	else if (changed)
		v->gen++;
}

const struct inventory *view_get(struct view *v)
{
	if (v->host_marked || v->marked.n)
		apply_marks(v);
	return &v->inv;
}

const struct inventory *view_fresh(struct view *v, const char *bdf)
{
	char path[128];
	struct vf_err e = { 0 };
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int idx;

	view_mark(v, bdf);
	v->host_marked = true;
	apply_marks(v);
	idx = inventory_find(&v->inv, bdf);
	if (idx < 0 || v->inv.pci.devs[idx].iommu_group < 0)
		return &v->inv;
	/* the group's members as the kernel lists them now, not as the view has them */
	vf_path(path, sizeof(path), "sys/kernel/iommu_groups/%d/devices",
		v->inv.pci.devs[idx].iommu_group);
	dir = hostfs_opendir(v->h, path, &e);
	while (dir && (de = readdir(dir)))
		if (strcmp(de->d_name, bdf) != 0)
			view_mark(v, de->d_name);
	/* and those the view holds in it (one may have left the group); itself was just read */
	for (size_t k = 0; k < v->inv.verdicts[idx].n_members; k++)
		if (v->inv.verdicts[idx].members[k] != (size_t)idx)
			view_mark(v, v->inv.pci.devs[v->inv.verdicts[idx].members[k]].bdf);
	apply_marks(v);
	/* the verdicts were recomputed only if something changed: they are current either way */
	return &v->inv;
}

void view_refresh_interrupts(struct view *v, const char *bdf)
{
	int idx = inventory_find(view_get(v), bdf);
	struct pci_dev_info was;
	struct pci_dev_info *d;

	if (idx < 0)
		return;
	d = &v->inv.pci.devs[idx];
	was.irq = d->irq;
	was.irq_mode = d->irq_mode;
	was.n_vectors = d->n_vectors;
	was.vectors = vf_xcalloc(d->n_vectors + 1, sizeof(*was.vectors));
	if (d->n_vectors)
		memcpy(was.vectors, d->vectors, d->n_vectors * sizeof(*d->vectors));
	if (pci_read_interrupts(v->h, d) == 0 && irqs_differ(&was, d))
		v->gen++;
	free(was.vectors);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The device list against the view's: what came or went with no event. */
static size_t sweep_list(struct view *v, struct vf_strv *drift)
{
	struct vf_err e = { 0 };
	_cleanup_closedir_ DIR *dir = hostfs_opendir(v->h, PCI_DEVICES_DIR, &e);
	struct vf_strv listed = { 0 }, odd = { 0 };
	struct dirent *de;
	size_t i = 0, j = 0, n = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir)))
		if (vf_is_canonical_bdf(de->d_name))
			vf_strv_add(&listed, de->d_name);
	if (listed.n)
		qsort(listed.v, listed.n, sizeof(*listed.v), cmp_str);
	/* a merge of two sorted lists; the differences are read after it */
	while (i < listed.n || j < v->inv.pci.n) {
		int c = i == listed.n	      ? 1
			: j == v->inv.pci.n ? -1
					    : strcmp(listed.v[i], v->inv.pci.devs[j].bdf);

		if (c == 0) {
			i++, j++;
		} else if (c < 0) {
			vf_strv_add(&odd, listed.v[i++]);
		} else {
			vf_strv_add(&odd, v->inv.pci.devs[j++].bdf);
		}
	}
	for (size_t k = 0; k < odd.n; k++)
		read_one(v, odd.v[k], drift, &n);
	vf_strv_free(&listed);
	vf_strv_free(&odd);
	return n;
}

static bool critical_equal(const struct host_critical_set *a, const struct host_critical_set *b)
{
	if (a->n != b->n || strcmp(a->storage_unknown, b->storage_unknown) != 0 ||
	    strcmp(a->network_unknown, b->network_unknown) != 0)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].bdf, b->v[i].bdf) != 0 || strcmp(a->v[i].why, b->v[i].why) != 0)
			return false;
	return true;
}

/* "host-critical: now 0000:00:03.0 (it carries the default route ...); no longer 0000:00:09.0" */
static void critical_drift(struct vf_strv *drift, const struct host_critical_set *was,
			   const struct host_critical_set *now)
{
	char line[1024] = "host-critical:";
	size_t len = strlen(line);

	for (size_t i = 0; i < now->n; i++)
		if (!hostcrit_find(was, now->v[i].bdf) && len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len, " now %s (it %s);",
						now->v[i].bdf, now->v[i].why);
	for (size_t i = 0; i < was->n; i++)
		if (!hostcrit_find(now, was->v[i].bdf) && len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len, " no longer %s;",
						was->v[i].bdf);
	if (strcmp(was->storage_unknown, now->storage_unknown) != 0 && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len, " storage: \"%s\";",
					now->storage_unknown);
	if (strcmp(was->network_unknown, now->network_unknown) != 0 && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len, " network: \"%s\";",
					now->network_unknown);
	if (len == strlen("host-critical:") && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, " the reasons changed;");
	line[strlen(line) - 1] = '\0';
	vf_strv_add(drift, line);
}

static void critical_copy(struct host_critical_set *dst, const struct host_critical_set *src)
{
	*dst = *src;
	dst->v = vf_xcalloc(src->n ? src->n : 1, sizeof(*dst->v));
	if (src->n)
		memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
}

/* The host-wide facts read again; a difference is drift. */
static size_t sweep_host(struct view *v, struct vf_strv *drift)
{
	struct host_critical_set was;
	bool iommu = v->inv.facts.iommu, vfio = v->inv.facts.vfio;
	size_t n = 0;

	critical_copy(&was, &v->inv.critical);
	inventory_host_facts(&v->inv, v->h);
	v->host_marked = false;
	v->stats.host_reads++;
	if (!critical_equal(&was, &v->inv.critical) && is_drift(v, NULL)) {
		if (drift)
			critical_drift(drift, &was, &v->inv.critical);
		n++;
	}
	if (iommu != v->inv.facts.iommu || vfio != v->inv.facts.vfio) {
		if (drift)
			vf_strv_addf(drift, "host: IOMMU %s, vfio-pci %s",
				     v->inv.facts.iommu ? "on" : "off",
				     v->inv.facts.vfio ? "available" : "unavailable");
		n++;
	}
	hostcrit_free(&was);
	return n;
}

size_t view_sweep(struct view *v, size_t n, struct vf_strv *drift)
{
	size_t found = 0, before;
	bool judge = false, changed = false;

	apply_marks(v);
	for (size_t k = 0; k < n; k++) {
		char bdf[VF_BDF_LEN];
		int r;

		if (v->sweep_next >= v->inv.pci.n) {
			/* the round is over: what came, went, and the host's facts */
			found += sweep_list(v, drift);
			found += sweep_host(v, drift);
			judge = true; /* the host's facts were read again */
			v->sweep_next = 0;
			v->stats.rounds++;
			break;
		}
		memcpy(bdf, v->inv.pci.devs[v->sweep_next].bdf, VF_BDF_LEN);
		before = v->inv.pci.n;
		r = read_one(v, bdf, drift, &found);
		v->stats.swept++;
		judge |= r == 1;
		changed |= r == 2;
		if (v->inv.pci.n >= before)
			v->sweep_next++; /* not when it was removed: the next one moved here */
	}
	/* sweep_list may have marked PFs */
	if (v->marked.n)
		apply_marks(v);
	v->stats.drift += found;
	if (judge)
		rejudge(v);
	else if (changed)
		v->gen++;
	return found;
}

int view_rescan(struct view *v, struct vf_strv *drift, struct vf_err *e)
{
	struct inventory fresh;
	const struct pci_inventory *a = &v->inv.pci, *b;
	size_t i = 0, j = 0, n = 0;
	char what[256];

	if (inventory_gather(&fresh, v->h, v->pol, v->names, e) < 0)
		return -1;
	b = &fresh.pci;
	v->stats.rescans++;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->devs[i].bdf, b->devs[j].bdf);

		if (c < 0) {
			note(drift, a->devs[i++].bdf, "gone");
			n++;
		} else if (c > 0) {
			note(drift, b->devs[j++].bdf, "appeared");
			n++;
		} else {
			if (view_dev_differs(&a->devs[i], &b->devs[j], what, sizeof(what))) {
				note(drift, a->devs[i].bdf, what);
				n++;
			}
			i++, j++;
		}
	}
	if (!critical_equal(&v->inv.critical, &fresh.critical)) {
		if (drift)
			critical_drift(drift, &v->inv.critical, &fresh.critical);
		n++;
	}
	inventory_free(&v->inv);
	v->inv = fresh;
	/* the gather's facts point into its own critical set: keep that so */
	v->inv.facts.critical = &v->inv.critical;
	vf_strv_free(&v->marked);
	v->host_marked = false;
	v->sweep_next = 0;
	v->stats.drift += n;
	v->gen++;
	return (int)n;
}
