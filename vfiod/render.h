/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The answers of list, show and status, and of every move, as JSON
 * (docs/protocol.md): what the daemon knows in (the inventory, the store,
 * a few facts of its own), JSON out. Pure: no I/O, no clock, no lock; the
 * daemon gathers the inputs and tests compare the output with golden files.
 */
#ifndef VFIOD_RENDER_H
#define VFIOD_RENDER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "inventory.h"
#include "levers.h"
#include "state.h"
#include "storm.h"
#include "view.h"

/* "host" for a device vfiod does not own, else its record's state. */
const char *render_state(const struct dev_rec *r);

/* The owned record ("owned" in show), NULL (JSON null) when not owned. */
struct json_object *render_record(const struct dev_rec *r);

/* `list`: one object per PCI device of the inventory. */
struct json_object *render_list(const struct inventory *inv, const struct store *st);

/* What the interrupt monitor says of a device, for show. */
struct render_watch {
	bool watched; /* false: "interrupts_watch": null */
	enum storm_level level;
	uint64_t rate;
};

/* `show`: the inventory's object plus state, owned and interrupts_watch.
 * NULL and a not-found refusal for a device the inventory does not have. */
struct json_object *render_show(const struct inventory *inv, const struct store *st,
				const char *bdf, const struct render_watch *w, struct vf_err *e);

/* A move's answer: the unit, its state, already, and a pending reset. */
struct json_object *render_unit(const struct unit_result *u, const char *state);

/* The daemon's own facts for status. */
struct render_status {
	const char *version;
	int pid;
	int64_t uptime_s;
	const char *sysroot, *state_dir, *socket;
	unsigned interval_ms;
	uint64_t samples, late, max_late_us;
	const struct levers *levers; /* NULL: no cgroups, no "containment_levers" */
	const struct view_stats *view; /* NULL: no "view" */
	uint64_t view_gen;
	const char *view_watching;   /* what tells the view of host changes */
	bool libvirt_on;             /* false: no "libvirt" */
	const char *libvirt_uri;
	bool libvirt_connected;
};

/* `status`. */
struct json_object *render_status(const struct inventory *inv, const struct store *st,
				  const struct render_status *s);

#endif
