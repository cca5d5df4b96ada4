// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A policy written back in its normalized form (vfiod --check-config: every
 * key with its effective value, one "key = value" line each, parsing back
 * to the same policy), and a policy checked against the host it runs on.
 */
#include "policy_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_WIDTH 100

/* "key = value", or "key =" when empty. */
static void put_str(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s =%s%s\n", key, *value ? " " : "", value);
}

/* "key = a b c", wrapped into repeated keys; "key =" when empty. */
static void put_list(FILE *f, const char *key, const struct vf_strv *items)
{
	size_t width = 0;

	if (items->n == 0) {
		fprintf(f, "%s =\n", key);
		return;
	}
	for (size_t i = 0; i < items->n; i++) {
		size_t len = strlen(items->v[i]);

		if (width && width + 1 + len > FORMAT_WIDTH) {
			fputc('\n', f);
			width = 0;
		}
		if (!width)
			width = (size_t)fprintf(f, "%s =", key);
		width += (size_t)fprintf(f, " %s", items->v[i]);
	}
	fputc('\n', f);
}

static void format_cpus(const struct policy_daemon *d, char *buf, size_t cap)
{
	if (vf_format_cpulist(d->housekeeping, POLICY_CPU_MAX, buf, cap) < 0)
		abort(); /* cap holds any list of POLICY_CPU_MAX CPUs */
}

static void format_ladder(const struct policy_class *cl, char *buf, size_t cap)
{
	size_t len = 0;

	snprintf(buf, cap, "none");
	for (size_t i = 0; i < cl->n_ladder && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "",
					policy_step_name(cl->ladder[i]));
}

static void put_class(FILE *f, const struct policy_class *cl, const char *prefix)
{
	struct vf_strv rules = { 0 };
	char buf[512];

	for (size_t i = 0; i < cl->n_match; i++) {
		policy_format_rule(&cl->match[i], buf, sizeof(buf));
		vf_strv_add(&rules, buf);
	}
	if (cl->n_match) {
		fprintf(f, "%s[class %s]\n", prefix, cl->name);
		put_list(f, "match", &rules);
	}
	vf_strv_free(&rules);
	format_ladder(cl, buf, sizeof(buf));
	fprintf(f,
		"%sstorm_threshold = %" PRIu64 "\n"
		"%ssustain_ms = %u\n"
		"%sclear_threshold = %" PRIu64 "\n"
		"%scooldown_ms = %u\n"
		"%sescalation_ms = %u\n"
		"%sirq_cpu_max = %u\n"
		"%svmm_cpu_max = %u\n"
		"%sstorm_irq_cpu_max = %u\n"
		"%sstorm_vmm_cpu_max = %u\n"
		"%sladder = %s\n",
		prefix, cl->storm_threshold, prefix, cl->sustain_ms, prefix, cl->clear_threshold,
		prefix, cl->cooldown_ms, prefix, cl->escalation_ms, prefix, cl->irq_cpu_max,
		prefix, cl->vmm_cpu_max, prefix, cl->storm_irq_cpu_max, prefix,
		cl->storm_vmm_cpu_max, prefix, buf);
}

static void put_ids(FILE *f, const char *key, const uint32_t *ids, size_t n)
{
	struct vf_strv items = { 0 };

	for (size_t i = 0; i < n; i++)
		vf_strv_addf(&items, "%" PRIu32, ids[i]);
	put_list(f, key, &items);
	vf_strv_free(&items);
}

static void put_tenant(FILE *f, const struct policy_tenant *t)
{
	struct vf_strv items = { 0 };

	fprintf(f, "[tenant %s]\n", t->name);
	put_ids(f, "uids", t->uids, t->n_uids);
	put_ids(f, "gids", t->gids, t->n_gids);
	for (size_t i = 0; i < t->n_devices; i++)
		vf_strv_add(&items, t->devices[i].bdf);
	put_list(f, "devices", &items);
	vf_strv_free(&items);
	for (size_t i = 0; i < t->n_classes; i++)
		vf_strv_add(&items, t->classes[i].name);
	put_list(f, "classes", &items);
	vf_strv_free(&items);
	fprintf(f, "quota = %u\ntrusted = %s\n", t->quota, t->trusted ? "true" : "false");
}

char *policy_format(const struct policy *p)
{
	struct policy_daemon defaults;
	const struct policy_daemon *d = &p->daemon;
	struct vf_strv items = { 0 };
	char *buf = NULL, cpus[1024]; /* never longer than the line it was read from */
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (!p->initialized) {
		policy_daemon_defaults(&defaults);
		d = &defaults;
	}
	format_cpus(d, cpus, sizeof(cpus));
	fprintf(f, "; vfiod policy, normalized (vfiod --check-config): every key with its\n"
		   "; effective value, defaults included. docs/policy.md describes them.\n"
		   "\n"
		   "[daemon]\n");
	put_str(f, "socket_group", d->socket_group);
	put_str(f, "admin_group", d->admin_group);
	fprintf(f, "sample_interval_ms = %u\n", d->sample_interval_ms);
	put_str(f, "housekeeping_cpus", cpus);
	put_str(f, "libvirt_uri", d->libvirt_uri);
	put_str(f, "cdi_dir", d->cdi_dir);
	put_str(f, "holder_quarantine", d->holder_signal ? "signal" : "leave");
	fprintf(f, "\n; Device classes: the first whose match fits a device wins.\n");
	for (size_t i = 0; i < p->n_classes; i++) {
		fputc('\n', f);
		put_class(f, &p->classes[i], "");
	}
	fprintf(f, "\n; Built in, for devices that no class matches (tenants may name it):\n"
		   "; [class default]\n");
	put_class(f, &policy_default_class, "; ");
	for (size_t i = 0; i < p->n_tenants; i++) {
		fputc('\n', f);
		put_tenant(f, &p->tenants[i]);
	}
	fprintf(f, "\n[reserved]\n");
	for (size_t i = 0; i < p->n_reserved; i++)
		vf_strv_add(&items, p->reserved[i].bdf);
	put_list(f, "devices", &items);
	vf_strv_free(&items);
	fprintf(f, "\n[companions]\n");
	if (p->n_companions == 0)
		fprintf(f, "allow =\n");
	for (size_t i = 0; i < p->n_companions; i++)
		fprintf(f, "allow = %s %s\n", p->companions[i].a, p->companions[i].b);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int policy_check_host(const struct policy *p, unsigned ncpus, struct vf_err *e)
{
	static const enum policy_class_key caps[] = {
		POLICY_CLASS_IRQ_CPU_MAX, POLICY_CLASS_VMM_CPU_MAX,
		POLICY_CLASS_STORM_IRQ_CPU_MAX, POLICY_CLASS_STORM_VMM_CPU_MAX,
	};
	const struct policy_daemon *d = &p->daemon;
	char msg[256];

	if (ncpus == 0)
		return vf_err_set(e, EINVAL, "the host has no CPUs?");
	for (size_t i = 0; i < p->n_classes; i++) {
		const struct policy_class *cl = &p->classes[i];

		for (size_t k = 0; k < VF_ARRAY_SIZE(caps); k++) {
			uint32_t v = 0;

			switch (caps[k]) {
			case POLICY_CLASS_IRQ_CPU_MAX: v = cl->irq_cpu_max; break;
			case POLICY_CLASS_VMM_CPU_MAX: v = cl->vmm_cpu_max; break;
			case POLICY_CLASS_STORM_IRQ_CPU_MAX: v = cl->storm_irq_cpu_max; break;
			default: v = cl->storm_vmm_cpu_max; break;
			}
			if (cl->line[caps[k]] && (uint64_t)v > 100ull * ncpus) {
				snprintf(msg, sizeof(msg),
					 "%s %u is more than this host's %u CPUs (at most %u)",
					 policy_class_key_name(caps[k]), v, ncpus, 100 * ncpus);
				policy_set_at(e, cl->src.file, cl->line[caps[k]], msg);
				return -1;
			}
		}
	}
	if (d->line[POLICY_DAEMON_HOUSEKEEPING_CPUS]) {
		for (unsigned cpu = ncpus; cpu < POLICY_CPU_MAX; cpu++) {
			if (!policy_cpu_isset(d->housekeeping, cpu))
				continue;
			snprintf(msg, sizeof(msg),
				 "housekeeping_cpus names CPU %u, but this host has CPUs 0-%u", cpu,
				 ncpus - 1);
			policy_set_at(e, d->src.file, d->line[POLICY_DAEMON_HOUSEKEEPING_CPUS], msg);
			return -1;
		}
	}
	return 0;
}
