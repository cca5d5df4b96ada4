// SPDX-License-Identifier: GPL-2.0-or-later
#include "events.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

static void rfc3339(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void events_emit(struct events *ev, const char *type, const char *bdf, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object(), *wrap;
	char when[40], msg[1024];
	va_list ap;
	char *line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rfc3339(when, sizeof(when));
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)++ev->seq));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "bdf", bdf && bdf[0] ? json_object_new_string(bdf) : NULL);
	json_object_object_add(o, "message", json_object_new_string(msg));
	vf_log(LOG_NOTICE, "event %s%s%s: %s", type, bdf ? " " : "", bdf ? bdf : "", msg);

	json_object_put(ev->ring[ev->next]);
	ev->ring[ev->next] = json_object_get(o);
	ev->next = (ev->next + 1) % EVENTS_KEEP;
	if (ev->count < EVENTS_KEEP)
		ev->count++;

	if (ev->control) {
		wrap = json_object_new_object();
		json_object_object_add(wrap, "event", o);
		if (asprintf(&line, "%s\n",
			     json_object_to_json_string_ext(wrap, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
			abort();
		control_broadcast(ev->control, line);
		free(line);
		json_object_put(wrap);
	} else {
		json_object_put(o);
	}
}

struct json_object *events_recent(const struct events *ev)
{
	struct json_object *a = json_object_new_array();
	size_t start = (ev->next + EVENTS_KEEP - ev->count) % EVENTS_KEEP;

	for (size_t i = 0; i < ev->count; i++)
		json_object_array_add(a, json_object_get(ev->ring[(start + i) % EVENTS_KEEP]));
	return a;
}

void events_free(struct events *ev)
{
	for (size_t i = 0; i < EVENTS_KEEP; i++)
		json_object_put(ev->ring[i]);
	memset(ev, 0, sizeof(*ev));
}
