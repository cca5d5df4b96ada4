/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Structured events: what happened to which device, when. Each event goes
 * to the log, to every subscribed client of the control socket as a line
 * {"event": {...}}, and into a ring of the last EVENTS_KEEP for clients
 * that ask for the recent ones.
 */
#ifndef VFIOD_EVENTS_H
#define VFIOD_EVENTS_H

#include <json-c/json.h>
#include <stdint.h>

#include "control.h"

#define EVENTS_KEEP 256

struct events {
	struct json_object *ring[EVENTS_KEEP];
	size_t next, count;
	uint64_t seq;
	struct control *control;  /* NULL: no socket (yet) */
};

/*
 * Emits {"seq", "time" (RFC 3339, UTC, ms), "type", "bdf" (or null),
 * "message"}. `type`: bound, returned, reconciled, appeared, vanished, ...
 */
void events_emit(struct events *ev, const char *type, const char *bdf,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The recent events, oldest first (a new reference). */
struct json_object *events_recent(const struct events *ev);
void events_free(struct events *ev);

#endif
