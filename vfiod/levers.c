// SPDX-License-Identifier: GPL-2.0-or-later
#include "levers.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *lever_name(enum lever l)
{
	return l == LEVER_YES ? "yes" : l == LEVER_NO ? "no" : "unknown";
}

void levers_learn(enum lever *lever, int *lever_err, int err)
{
	*lever = err ? LEVER_NO : LEVER_YES;
	*lever_err = err;
}

unsigned levers_plan(const struct levers *l)
{
	unsigned p = 0;

	/* no threads, nothing to cap or demote: the hard-IRQ work follows the vector */
	if (l->threaded != LEVER_NO) {
		if (l->irq_sched != LEVER_NO)
			p |= TL_IRQ_DEMOTE;
		if (l->irq_cgroup != LEVER_NO)
			p |= TL_IRQ_CGROUP_CAP;
	}
	if (l->steer && l->irq_affinity != LEVER_NO)
		p |= TL_STEER;
	if (l->vmm_cgroup != LEVER_NO)
		p |= TL_VMM_CAP;
	return p;
}

static const struct {
	unsigned bit;
	const char *name, *text;
} tl[] = {
	{ TL_IRQ_DEMOTE, "irq-thread-demote", "demotes the IRQ threads from SCHED_FIFO" },
	{ TL_IRQ_CGROUP_CAP, "irq-thread-cgroup-cap", "caps them in the device's irq cgroup" },
	{ TL_STEER, "steer-vectors", "steers the vectors to the housekeeping CPUs" },
	{ TL_VMM_CAP, "vmm-cap", "caps the VMM" },
};

static void cat(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t cap, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, cap - len, fmt, ap);
	va_end(ap);
}

void levers_sentence(const struct levers *l, char *buf, size_t cap)
{
	unsigned plan = levers_plan(l);
	bool first = true;

	buf[0] = '\0';
	if (l->threaded == LEVER_NO)
		cat(buf, cap, "IRQs are not threaded here (%s): a vector's handler runs on the CPU its affinity names",
		    l->threaded_why);
	else
		cat(buf, cap, "IRQs are threaded (%s)", l->threaded_why[0] ? l->threaded_why : "unknown");
	if (l->threaded != LEVER_NO) {
		if (l->irq_cgroup == LEVER_NO)
			cat(buf, cap,
			    "; IRQ threads cannot be moved into a cgroup on this kernel (%s), and are not "
			    "set below nice 0 (a starved storming thread makes the kernel disable its "
			    "vector as spurious)",
			    strerror(l->irq_cgroup_err));
		else if (l->irq_cgroup == LEVER_YES)
			cat(buf, cap, "; IRQ threads can be moved into a cgroup");
		if (l->irq_sched == LEVER_NO)
			cat(buf, cap, "; their scheduling cannot be changed (%s)", strerror(l->irq_sched_err));
	}
	if (l->irq_affinity == LEVER_NO)
		cat(buf, cap, "; vector affinity cannot be written (%s)", strerror(l->irq_affinity_err));
	if (!l->steer)
		cat(buf, cap, "; the housekeeping CPUs are every CPU, so steering moves nothing");
	if (l->steer && l->irqbalance == IRQBAL_TOLD)
		cat(buf, cap, "; irqbalance runs: steered vectors are banned from it while steered");
	else if (l->steer && l->irqbalance == IRQBAL_UNTOLD)
		cat(buf, cap,
		    "; irqbalance runs but cannot be told (%s): it may move steered vectors back "
		    "(its --banirq or IRQBALANCE_BANNED_CPUS keeps it off them)",
		    l->irqbalance_why);
	cat(buf, cap, "; a throttle %s", plan ? "" : "has no lever");
	for (size_t i = 0; i < sizeof(tl) / sizeof(tl[0]); i++) {
		if (!(plan & tl[i].bit))
			continue;
		cat(buf, cap, "%s%s", first ? "" : ", ", tl[i].text);
		if (tl[i].bit == TL_STEER)
			cat(buf, cap, " (CPUs %s)", l->housekeeping);
		first = false;
	}
}

static struct json_object *lever_json(enum lever l)
{
	return l == LEVER_UNKNOWN ? NULL : json_object_new_boolean(l == LEVER_YES);
}

struct json_object *levers_json(const struct levers *l)
{
	struct json_object *o = json_object_new_object();
	struct json_object *t = json_object_new_array();
	unsigned plan = levers_plan(l);
	char s[1024];

	json_object_object_add(o, "irq_threads", lever_json(l->threaded));
	json_object_object_add(o, "irq_thread_cgroup", lever_json(l->irq_cgroup));
	json_object_object_add(o, "irq_thread_sched", lever_json(l->irq_sched));
	json_object_object_add(o, "irq_affinity", lever_json(l->irq_affinity));
	json_object_object_add(o, "vmm_cgroup", lever_json(l->vmm_cgroup));
	json_object_object_add(o, "housekeeping_cpus", json_object_new_string(l->housekeeping));
	json_object_object_add(o, "irqbalance",
			       l->irqbalance == IRQBAL_UNKNOWN
				       ? NULL
				       : json_object_new_string(irqbal_state_name(l->irqbalance)));
	json_object_object_add(o, "irqbalance_why", json_object_new_string(l->irqbalance_why));
	for (size_t i = 0; i < sizeof(tl) / sizeof(tl[0]); i++)
		if (plan & tl[i].bit)
			json_object_array_add(t, json_object_new_string(tl[i].name));
	json_object_object_add(o, "throttle", t);
	levers_sentence(l, s, sizeof(s));
	json_object_object_add(o, "sentence", json_object_new_string(s));
	return o;
}
