// SPDX-License-Identifier: GPL-2.0-or-later
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

#define STORE_VERSION 1
#define STORE_MAX (4u << 20)
#define STORE_DEPTH 8

const char *consumer_kind_name(enum consumer_kind k)
{
	switch (k) {
	case CONSUMER_CDI: return "cdi";
	case CONSUMER_PID: return "pid";
	case CONSUMER_VM: return "vm";
	case CONSUMER_HOLDER: return "holder";
	case CONSUMER_NONE: break;
	}
	return NULL;
}

int consumer_format(const struct consumer *c, char *buf, size_t cap)
{
	char id[48];
	int n;

	if (cap == 0)
		return -ENAMETOOLONG;
	switch (c->kind) {
	case CONSUMER_CDI:
	case CONSUMER_VM:
		n = snprintf(buf, cap, "%s:%s", consumer_kind_name(c->kind), c->name);
		break;
	case CONSUMER_PID:
	case CONSUMER_HOLDER:
		proc_id_format(c->pid, c->start, id, sizeof(id));
		n = snprintf(buf, cap, "%s:%s", consumer_kind_name(c->kind), id);
		break;
	default:
		buf[0] = '\0';
		return 0;
	}
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return n;
}

int consumer_parse(const char *s, struct consumer *c)
{
	const char *colon = strchr(s, ':');
	size_t klen = colon ? (size_t)(colon - s) : 0;

	memset(c, 0, sizeof(*c));
	if (!s[0])
		return 0;
	if (!colon || !colon[1])
		return -EINVAL;
	for (int k = CONSUMER_CDI; k <= CONSUMER_HOLDER; k++) {
		const char *name = consumer_kind_name((enum consumer_kind)k);

		if (strlen(name) != klen || strncmp(s, name, klen) != 0)
			continue;
		c->kind = (enum consumer_kind)k;
		if (k == CONSUMER_PID || k == CONSUMER_HOLDER) {
			if (proc_id_parse(colon + 1, &c->pid, &c->start) < 0)
				break;
			return 0;
		}
		if (snprintf(c->name, sizeof(c->name), "%s", colon + 1) >= (int)sizeof(c->name))
			break;
		return 0;
	}
	memset(c, 0, sizeof(*c));
	return -EINVAL;
}

bool consumer_equal(const struct consumer *a, const struct consumer *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == CONSUMER_PID || a->kind == CONSUMER_HOLDER)
		return a->pid == b->pid && a->start == b->start;
	return strcmp(a->name, b->name) == 0;
}

const char *dev_containment_name(enum dev_containment c)
{
	return c == CONTAIN_THROTTLED ? "throttled" : c == CONTAIN_SILENCED ? "silenced" : NULL;
}

const char *dev_state_name(enum dev_state st)
{
	switch (st) {
	case DEV_POOLED: return "pooled";
	case DEV_ASSIGNED: return "assigned";
	case DEV_QUARANTINED: return "quarantined";
	}
	return "?";
}

const char *intent_op_name(enum intent_op op)
{
	switch (op) {
	case INTENT_BIND: return "bind";
	case INTENT_RETURN: return "return";
	default: return "none";
	}
}

/* ---- parsing: every field checked, anything unexpected is corruption ---- */

static bool corrupt(struct vf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Records why the store is not to be trusted; returns false for the caller. */
static bool corrupt(struct vf_err *e, const char *fmt, ...)
{
	char msg[VF_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vf_err_set(e, 0, "%s", msg);
	return false;
}

static bool get(struct json_object *o, const char *key, json_type t,
		struct json_object **out, bool nullable, struct vf_err *e)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		vf_err_set(e, 0, "missing \"%s\"", key);
		return false;
	}
	if (nullable && json_object_is_type(v, json_type_null)) {
		*out = NULL;
		return true;
	}
	if (!json_object_is_type(v, t)) {
		vf_err_set(e, 0, "\"%s\" has the wrong type", key);
		return false;
	}
	*out = v;
	return true;
}

/* A string field into buf; null means "". `check` validates non-empty values. */
static bool get_str(struct json_object *o, const char *key, char *buf, size_t cap,
		    bool (*check)(const char *), struct vf_err *e)
{
	struct json_object *v;
	const char *s;

	if (!get(o, key, json_type_string, &v, true, e))
		return false;
	s = v ? json_object_get_string(v) : "";
	if (strlen(s) >= cap || (s[0] && check && !check(s))) {
		vf_err_set(e, 0, "\"%s\" holds an invalid value", key);
		return false;
	}
	snprintf(buf, cap, "%s", s);
	return true;
}

static bool is_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool get_bool(struct json_object *o, const char *key, bool *out,
		     struct vf_err *e)
{
	struct json_object *v;

	if (!get(o, key, json_type_boolean, &v, false, e))
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

static bool get_int(struct json_object *o, const char *key, int64_t *out,
		    struct vf_err *e)
{
	struct json_object *v;

	if (!get(o, key, json_type_int, &v, false, e))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static bool parse_state(const char *s, enum dev_state *out)
{
	for (int st = DEV_POOLED; st <= DEV_QUARANTINED; st++) {
		if (strcmp(s, dev_state_name((enum dev_state)st)) == 0) {
			*out = (enum dev_state)st;
			return true;
		}
	}
	return false;
}

static bool parse_record(struct json_object *o, struct dev_rec *r, struct vf_err *e)
{
	struct json_object *unit, *st;
	char consumer[CONSUMER_NAME_MAX + 64];

	memset(r, 0, sizeof(*r));
	if (!json_object_is_type(o, json_type_object))
		return corrupt(e, "a device record is not an object");
	if (!get_str(o, "bdf", r->bdf, sizeof(r->bdf), vf_is_canonical_bdf, e) || !r->bdf[0])
		return corrupt(e, "a device record has no valid \"bdf\"");
	if (!get_str(o, "original_driver", r->original_driver, sizeof(r->original_driver),
		     vf_name_is_safe, e) ||
	    !get(o, "state", json_type_string, &st, false, e) ||
	    (!parse_state(json_object_get_string(st), &r->state) &&
	     !corrupt(e, "unknown \"state\"")) ||
	    !get(o, "unit", json_type_array, &unit, false, e) ||
	    !get_str(o, "consumer", consumer, sizeof(consumer), is_printable, e) ||
	    !get_str(o, "tenant", r->tenant, sizeof(r->tenant), vf_name_is_safe, e) ||
	    !get_bool(o, "reset_pending", &r->reset_pending, e) ||
	    !get_bool(o, "no_reset_method", &r->no_reset_method, e) ||
	    !get_int(o, "since", &r->since, e)) {
		vf_err_wrap(e, "device %s", r->bdf);
		return false;
	}
	if (consumer_parse(consumer, &r->consumer) < 0)
		return corrupt(e, "device %s: bad \"consumer\"", r->bdf);
	/* optional: stores written before containment existed lack these */
	if (json_object_object_get_ex(o, "containment", &st) &&
	    !json_object_is_type(st, json_type_null)) {
		const char *c = json_object_is_type(st, json_type_string) ? json_object_get_string(st) : "";

		if (strcmp(c, "throttled") == 0)
			r->containment = CONTAIN_THROTTLED;
		else if (strcmp(c, "silenced") == 0)
			r->containment = CONTAIN_SILENCED;
		else
			return corrupt(e, "device %s: bad \"containment\"", r->bdf);
	}
	r->saved_command = -1;
	if (json_object_object_get_ex(o, "saved_command", &st) &&
	    !json_object_is_type(st, json_type_null)) {
		if (!json_object_is_type(st, json_type_int) || json_object_get_int64(st) < 0 ||
		    json_object_get_int64(st) > 0xffff)
			return corrupt(e, "device %s: bad \"saved_command\"", r->bdf);
		r->saved_command = json_object_get_int(st);
	}
	if (json_object_array_length(unit) == 0 ||
	    json_object_array_length(unit) > STATE_UNIT_MAX)
		return corrupt(e, "device %s: bad \"unit\"", r->bdf);
	for (size_t i = 0; i < json_object_array_length(unit); i++) {
		struct json_object *u = json_object_array_get_idx(unit, i);
		const char *b = json_object_get_string(u);

		if (!json_object_is_type(u, json_type_string) || !vf_is_canonical_bdf(b))
			return corrupt(e, "device %s: bad \"unit\" member", r->bdf);
		snprintf(r->unit[r->n_unit++], VF_BDF_LEN, "%s", b);
	}
	return true;
}

static bool parse_intent(struct json_object *o, struct intent *in, struct vf_err *e)
{
	struct json_object *op, *devs;
	const char *ops;

	memset(in, 0, sizeof(*in));
	if (!o)
		return true;
	if (!get(o, "op", json_type_string, &op, false, e) ||
	    !get(o, "devices", json_type_array, &devs, false, e) ||
	    !get_int(o, "started", &in->started, e)) {
		vf_err_wrap(e, "intent");
		return false;
	}
	ops = json_object_get_string(op);
	if (strcmp(ops, "bind") == 0)
		in->op = INTENT_BIND;
	else if (strcmp(ops, "return") == 0)
		in->op = INTENT_RETURN;
	else
		return corrupt(e, "intent: unknown op");
	if (json_object_array_length(devs) == 0 ||
	    json_object_array_length(devs) > STATE_UNIT_MAX)
		return corrupt(e, "intent: bad \"devices\"");
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *d = json_object_array_get_idx(devs, i);
		struct intent_dev *id = &in->devs[in->n++];

		if (!json_object_is_type(d, json_type_object) ||
		    !get_str(d, "bdf", id->bdf, sizeof(id->bdf), vf_is_canonical_bdf, e) ||
		    !id->bdf[0] ||
		    !get_str(d, "original_driver", id->original_driver,
			     sizeof(id->original_driver), vf_name_is_safe, e))
			return corrupt(e, "intent: bad device");
	}
	return true;
}

int store_parse(struct store *s, const char *text, struct vf_err *e)
{
	struct json_tokener *tok = json_tokener_new_ex(STORE_DEPTH);
	struct json_object *root = NULL, *ver, *devs, *intent;
	struct dev_rec *recs = NULL;
	struct intent in;
	size_t n = 0;
	int rc = -1;

	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)strlen(text)) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		vf_err_set(e, 0, "not valid JSON (%s)",
			   je == json_tokener_continue ? "truncated"
			   : je == json_tokener_success ? "trailing data"
							: json_tokener_error_desc(je));
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		vf_err_set(e, 0, "not a JSON object");
		goto out;
	}
	if (!get(root, "version", json_type_int, &ver, false, e) ||
	    json_object_get_int(ver) != STORE_VERSION) {
		vf_err_set(e, 0, "unknown or missing \"version\" (want %d)", STORE_VERSION);
		goto out;
	}
	if (!get(root, "devices", json_type_array, &devs, false, e) ||
	    !get(root, "intent", json_type_object, &intent, true, e))
		goto out;
	recs = vf_xcalloc(json_object_array_length(devs), sizeof(*recs));
	for (size_t i = 0; i < json_object_array_length(devs); i++, n++) {
		if (!parse_record(json_object_array_get_idx(devs, i), &recs[i], e))
			goto out;
		for (size_t j = 0; j < i; j++)
			if (strcmp(recs[j].bdf, recs[i].bdf) == 0) {
				vf_err_set(e, 0, "device %s recorded twice", recs[i].bdf);
				goto out;
			}
	}
	if (!parse_intent(intent, &in, e))
		goto out;
	free(s->devs);
	s->devs = recs;
	s->n = n;
	s->intent = in;
	recs = NULL;
	rc = 0;
out:
	free(recs);
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}

/* ---- formatting ---------------------------------------------------- */

char *store_format(const struct store *s)
{
	struct json_object *root = json_object_new_object();
	struct json_object *devs = json_object_new_array();
	char *text;

	json_object_object_add(root, "version", json_object_new_int(STORE_VERSION));
	for (size_t i = 0; i < s->n; i++) {
		const struct dev_rec *r = &s->devs[i];
		struct json_object *o = json_object_new_object();
		struct json_object *unit = json_object_new_array();

		for (size_t u = 0; u < r->n_unit; u++)
			json_object_array_add(unit, json_object_new_string(r->unit[u]));
		json_object_object_add(o, "bdf", json_object_new_string(r->bdf));
		json_object_object_add(o, "original_driver", vf_json_str_or_null(r->original_driver));
		json_object_object_add(o, "state", json_object_new_string(dev_state_name(r->state)));
		json_object_object_add(o, "unit", unit);
		char consumer[CONSUMER_NAME_MAX + 64];

		consumer_format(&r->consumer, consumer, sizeof(consumer));
		json_object_object_add(o, "consumer", vf_json_str_or_null(consumer));
		json_object_object_add(o, "tenant", vf_json_str_or_null(r->tenant));
		json_object_object_add(o, "reset_pending", json_object_new_boolean(r->reset_pending));
		json_object_object_add(o, "no_reset_method", json_object_new_boolean(r->no_reset_method));
		json_object_object_add(o, "since", json_object_new_int64(r->since));
		json_object_object_add(o, "containment", vf_json_str_or_null(dev_containment_name(r->containment)));
		json_object_object_add(o, "saved_command", r->saved_command >= 0
								   ? json_object_new_int(r->saved_command)
								   : NULL);
		json_object_array_add(devs, o);
	}
	json_object_object_add(root, "devices", devs);
	if (s->intent.op != INTENT_NONE) {
		struct json_object *in = json_object_new_object();
		struct json_object *idevs = json_object_new_array();

		for (size_t i = 0; i < s->intent.n; i++) {
			struct json_object *d = json_object_new_object();

			json_object_object_add(d, "bdf", json_object_new_string(s->intent.devs[i].bdf));
			json_object_object_add(d, "original_driver",
					       vf_json_str_or_null(s->intent.devs[i].original_driver));
			json_object_array_add(idevs, d);
		}
		json_object_object_add(in, "op", json_object_new_string(intent_op_name(s->intent.op)));
		json_object_object_add(in, "devices", idevs);
		json_object_object_add(in, "started", json_object_new_int64(s->intent.started));
		json_object_object_add(root, "intent", in);
	} else {
		json_object_object_add(root, "intent", NULL);
	}
	text = vf_xstrdup(json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return text;
}

/* ---- files --------------------------------------------------------- */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int vf_write_atomic(const char *path, const char *text, mode_t mode, struct vf_err *e)
{
	char tmp[4096], dir[4096], *slash;
	_cleanup_close_ int dfd = -1;
	int fd;

	if (vf_path(tmp, sizeof(tmp), "%s.tmp", path) < 0 ||
	    vf_path(dir, sizeof(dir), "%s", path) < 0)
		return vf_err_set(e, ENAMETOOLONG, "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return vf_err_set(e, errno, "cannot write %s", tmp);
	if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		vf_err_set(e, errno, "cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		vf_err_set(e, errno, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return vf_err_set(e, errno, "cannot sync the directory %s", dir);
	return 0;
}

int store_save(struct store *s, struct vf_err *e)
{
	_cleanup_free_ char *text = store_format(s);
	_cleanup_free_ char *withnl = NULL;
	char final[4096];

	if (vf_path(final, sizeof(final), "%s/" STATE_FILE, s->dir) < 0)
		return vf_err_set(e, ENAMETOOLONG, "state directory %s", s->dir);
	if (asprintf(&withnl, "%s\n", text) < 0)
		abort();
	return vf_write_atomic(final, withnl, 0600, e);
}

static int read_file(const char *path, char **out, struct vf_err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *buf = NULL;
	size_t got = 0;

	if (fd < 0)
		return vf_err_set(e, errno, "%s", path);
	buf = vf_xcalloc(1, STORE_MAX + 1);
	for (;;) {
		ssize_t n = read(fd, buf + got, STORE_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vf_err_set(e, errno, "%s", path);
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > STORE_MAX)
			return vf_err_set(e, E2BIG, "%s: larger than %u bytes", path, STORE_MAX);
	}
	if (memchr(buf, '\0', got))
		return vf_err_set(e, EINVAL, "%s: holds a NUL byte", path);
	*out = buf;
	buf = NULL;
	return 0;
}

int store_open(struct store *s, const char *dir, struct vf_err *e)
{
	char path[4096], aside[4200];
	_cleanup_free_ char *text = NULL;
	struct vf_err pe = { 0 };

	memset(s, 0, sizeof(*s));
	s->dir = vf_xstrdup(dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return vf_err_set(e, errno, "cannot create the state directory %s", dir);
	if (vf_path(path, sizeof(path), "%s/" STATE_FILE, dir) < 0)
		return vf_err_set(e, ENAMETOOLONG, "state directory %s", dir);
	if (read_file(path, &text, &pe) < 0) {
		if (pe.errnum == ENOENT)
			return 0;
		if (pe.errnum != E2BIG && pe.errnum != EINVAL) {
			*e = pe;
			return -1;
		}
	} else if (store_parse(s, text, &pe) == 0) {
		return 0;
	}
	/* Corrupt: keep it for the operator, start from the kernel's view. */
	/* never over an older corrupt file: those are the operator's */
	for (int k = 0;; k++) {
		if (k == 0)
			snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path, (long long)time(NULL));
		else
			snprintf(aside, sizeof(aside), "%s.corrupt-%lld.%d", path,
				 (long long)time(NULL), k);
		if (renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE) == 0)
			break;
		if (errno != EEXIST || k == 100)
			return vf_err_set(e, errno, "%s is corrupt (%s) and cannot be set aside",
					  path, pe.msg);
	}
	vf_err_set(e, 0, "%s is corrupt (%s); kept as %s, starting from what the kernel shows",
		   path, pe.msg, aside);
	return 1;
}

pid_t store_lock_holder(const char *text, size_t len)
{
	char buf[24];
	uint64_t pid;

	/* "<pid>\n", as store_lock writes it; anything else names no one */
	if (len == 0 || len >= sizeof(buf) || text[len - 1] != '\n' || memchr(text, '\0', len))
		return 0;
	memcpy(buf, text, len - 1);
	buf[len - 1] = '\0';
	if (vf_parse_u64(buf, 10, INT32_MAX, &pid) < 0)
		return 0;
	return (pid_t)pid;
}

int store_lock(const char *dir, struct vf_err *e)
{
	char path[4096], text[32];
	int fd, n;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return vf_err_set(e, errno, "cannot create the state directory %s", dir);
	if (vf_path(path, sizeof(path), "%s/" STATE_LOCK_FILE, dir) < 0)
		return vf_err_set(e, ENAMETOOLONG, "state directory %s", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return vf_err_set(e, errno, "cannot open the lock file %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		ssize_t got;
		pid_t holder;

		if (err != EWOULDBLOCK) {
			close(fd);
			return vf_err_set(e, err, "cannot lock %s", path);
		}
		/* the holder may not have written its pid yet: then say so */
		got = pread(fd, text, sizeof(text), 0);
		holder = store_lock_holder(text, got > 0 ? (size_t)got : 0);
		close(fd);
		if (holder)
			return vf_err_refuse(e, "busy",
					     "another vfiod (pid %d) holds the state directory %s",
					     (int)holder, dir);
		return vf_err_refuse(e, "busy",
				     "another vfiod (pid not yet written in %s) holds the state directory %s",
				     path, dir);
	}
	n = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)n, 0) != n) {
		int err = errno;

		close(fd);
		return vf_err_set(e, err, "cannot write our pid in %s", path);
	}
	return fd;
}

void store_close(struct store *s)
{
	free(s->devs);
	free(s->dir);
	memset(s, 0, sizeof(*s));
}

const struct dev_rec *store_get(const struct store *s, const char *bdf)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->devs[i].bdf, bdf) == 0)
			return &s->devs[i];
	return NULL;
}

size_t store_tenant_holds(const struct store *s, const char *tenant)
{
	size_t n = 0;

	for (size_t i = 0; tenant[0] && i < s->n; i++)
		if (s->devs[i].state != DEV_POOLED && strcmp(s->devs[i].tenant, tenant) == 0)
			n++;
	return n;
}

struct dev_rec *store_find(struct store *s, const char *bdf)
{
	return (struct dev_rec *)store_get(s, bdf);
}

void store_put(struct store *s, const struct dev_rec *rec)
{
	struct dev_rec *r = store_find(s, rec->bdf);

	if (!r) {
		s->devs = vf_xreallocarray(s->devs, s->n + 1, sizeof(*s->devs));
		r = &s->devs[s->n++];
	}
	*r = *rec;
}

void dev_rec_init(struct dev_rec *r, const char *bdf)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->bdf, sizeof(r->bdf), "%s", bdf);
	r->saved_command = -1;
}

void store_remove(struct store *s, const char *bdf)
{
	struct dev_rec *r = store_find(s, bdf);

	if (!r)
		return;
	*r = s->devs[--s->n];
}
