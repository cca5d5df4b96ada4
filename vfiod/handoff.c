// SPDX-License-Identifier: GPL-2.0-or-later
#include "handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CDI_PREFIX "cdi:"

static struct json_object *vfio_edits(int group)
{
	struct json_object *edits = json_object_new_object();
	struct json_object *nodes = json_object_new_array();
	struct json_object *n;
	char path[64];

	n = json_object_new_object();
	json_object_object_add(n, "path", json_object_new_string("/dev/vfio/vfio"));
	json_object_array_add(nodes, n);
	n = json_object_new_object();
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	json_object_object_add(n, "path", json_object_new_string(path));
	json_object_array_add(nodes, n);
	json_object_object_add(edits, "deviceNodes", nodes);
	return edits;
}

static struct json_object *cdi_device(const char *name, int group)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "name", json_object_new_string(name));
	json_object_object_add(d, "containerEdits", vfio_edits(group));
	return d;
}

struct json_object *cdi_spec(const char (*bdfs)[VF_BDF_LEN], size_t n, int group)
{
	struct json_object *spec = json_object_new_object();
	struct json_object *devs = json_object_new_array();
	char alias[48];

	json_object_object_add(spec, "cdiVersion", json_object_new_string(CDI_VERSION));
	json_object_object_add(spec, "kind", json_object_new_string(CDI_KIND));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(devs, cdi_device(bdfs[i], group));
	/* the whole unit by one stable name: its IOMMU group is what it is */
	snprintf(alias, sizeof(alias), "iommu-group-%d", group);
	json_object_array_add(devs, cdi_device(alias, group));
	json_object_object_add(spec, "devices", devs);
	return spec;
}

void cdi_spec_name(const char *bdf, char *buf, size_t cap)
{
	size_t i;

	snprintf(buf, cap, "vfiod-%s.json", bdf);
	for (i = 0; buf[i]; i++)
		if (buf[i] == ':')
			buf[i] = '_';
}

static int unit_group(struct engine *en, const char *bdf)
{
	char path[128], name[64];
	_cleanup_close_ int fd = -1;
	uint64_t g;

	vf_path(path, sizeof(path), "sys/bus/pci/devices/%s", bdf);
	fd = hostfs_open(en->h, path, O_RDONLY | O_DIRECTORY, NULL);
	if (fd < 0 || hostfs_link_name_at(fd, "iommu_group", name, sizeof(name), NULL) < 0 ||
	    vf_parse_u64(name, 10, INT32_MAX, &g) < 0)
		return -1;
	return (int)g;
}

static void set_unit(struct engine *en, const struct dev_rec *lead, enum dev_state st,
		     const char *consumer, const char *tenant)
{
	for (size_t i = 0; i < lead->n_unit; i++) {
		struct dev_rec *m = store_find(en->store, lead->unit[i]);

		if (!m)
			continue;
		m->state = st;
		snprintf(m->consumer, sizeof(m->consumer), "%s", consumer);
		snprintf(m->tenant, sizeof(m->tenant), "%s", tenant);
		m->since = (int64_t)time(NULL);
	}
}

int engine_assign_cdi(struct engine *en, const char *bdf_in, const char *tenant,
		      const char *cdi_dir, struct unit_result *out, struct vf_err *e)
{
	struct json_object *spec;
	struct dev_rec *own, *rec;
	char name[64], path[4096], consumer[sizeof(rec->consumer)];
	const char *bdf;
	int group, rc;

	if (engine_lookup(en, bdf_in, &own, &rec, out, e) < 0)
		return vf_err_append(e, " (bind it first)");
	bdf = own->bdf;
	if (rec->state != DEV_POOLED)
		return vf_err_refuse(e, "busy", "%s is %s%s%s", bdf, dev_state_name(rec->state),
				     rec->tenant[0] ? " to tenant " : "", rec->tenant);
	group = unit_group(en, bdf);
	if (group < 0)
		return vf_err_set(e, 0, "%s: its IOMMU group cannot be read", bdf);
	/* the spec is named after the unit's lead */
	cdi_spec_name(rec->bdf, name, sizeof(name));
	if (vf_path(path, sizeof(path), "%s/%s", cdi_dir, name) < 0)
		return vf_err_set(e, ENAMETOOLONG, "CDI directory %s", cdi_dir);
	if (mkdir(cdi_dir, 0755) < 0 && errno != EEXIST)
		return vf_err_set(e, errno, "cannot create the CDI directory %s", cdi_dir);
	spec = cdi_spec(rec->unit, rec->n_unit, group);
	rc = vf_write_atomic(path, json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE),
			     0644, e);
	json_object_put(spec);
	if (rc < 0)
		return vf_err_wrap(e, "assign %s", bdf);
	/* release unlinks this very path: it must be whole */
	if (vf_path(consumer, sizeof(consumer), CDI_PREFIX "%s", path) < 0) {
		unlink(path);
		return vf_err_set(e, ENAMETOOLONG, "assign %s: the CDI path %s is too long", bdf,
				  path);
	}
	set_unit(en, rec, DEV_ASSIGNED, consumer, tenant);
	if (store_save(en->store, e) < 0) {
		set_unit(en, rec, DEV_POOLED, "", "");
		unlink(path);
		return vf_err_wrap(e, "assign %s", bdf);
	}
	return 0;
}

int handoff_detach(struct engine *en, struct dev_rec *rec, struct vf_err *e)
{
	(void)en;
	if (strncmp(rec->consumer, CDI_PREFIX, strlen(CDI_PREFIX)) == 0) {
		const char *path = rec->consumer + strlen(CDI_PREFIX);

		if (unlink(path) < 0 && errno != ENOENT)
			return vf_err_set(e, errno, "cannot remove the CDI spec %s", path);
		return 0;
	}
	if (rec->consumer[0])
		return vf_err_set(e, 0, "%s: unknown consumer %s", rec->bdf, rec->consumer);
	return 0;
}

int engine_release(struct engine *en, const char *bdf_in, struct unit_result *out,
		   struct vf_err *e)
{
	struct dev_rec *own, *rec;
	const char *bdf;

	if (engine_lookup(en, bdf_in, &own, &rec, out, e) < 0)
		return -1;
	bdf = own->bdf;
	if (rec->state != DEV_ASSIGNED)
		return vf_err_refuse(e, "not-found", "%s is not assigned (it is %s)", bdf,
				     dev_state_name(rec->state));
	if (handoff_detach(en, rec, e) < 0)
		return vf_err_wrap(e, "release %s", bdf);
	/* the consumer is gone: back to the pool, then a clean device */
	set_unit(en, rec, DEV_POOLED, "", "");
	for (size_t i = 0; i < out->n; i++) {
		struct dev_rec *m = store_find(en->store, out->bdf[i]);

		if (m)
			m->reset_pending = true;
	}
	if (store_save(en->store, e) < 0)
		return vf_err_wrap(e, "release %s", bdf);
	for (size_t i = 0; i < out->n; i++) {
		struct vf_err re = { 0 };

		/* engine_reset records the outcome (reset, or no method) itself */
		if (engine_reset(en, out->bdf[i], &re) < 0)
			return vf_err_set(e, re.errnum, "release %s: %s", bdf, re.msg);
	}
	return 0;
}
