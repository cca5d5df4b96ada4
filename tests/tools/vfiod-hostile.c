// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfiod-hostile: hostile clients for vfiod's control socket
 * (docs/protocol.md). Each case runs on its own connection(s) and checks
 * the daemon's answer; after each one a fresh connection must still get a
 * normal `status` reply, and, with --pid, the daemon's open file count must
 * come back to what it was before the case.
 *
 *   vfiod-hostile --socket PATH [--pid PID] [--case NAME]... [--list]
 *   vfiod-hostile --socket PATH --hold N [--uid UID]
 *
 * The per-uid cases connect as other uids (65521..65534, group nogroup):
 * they need root, and a daemon whose socket_group is nogroup.
 *
 * Prints "ok NAME" or "FAIL NAME: why" per case ("skip NAME" for a case that
 * needs --pid when none is given) and exits 0 only when no case failed.
 * Every reply line is checked to be strict UTF-8 and a strict JSON object
 * {"id", "ok", "result" | "error": {"code", "message"}}.
 *
 * Self-contained on purpose: it links nothing of vfiod but json-c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "connect-as.h"

#define MAX_LINE (64 * 1024)   /* the daemon's limit, newline included */
#define MAX_CLIENTS 256
#define REPLY_MS 10000         /* how long a reply may take */

static const char *sock_path;
static pid_t daemon_pid;
static char why[2048];         /* why the current case failed */

static int failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int failf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return -1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

/* Bytes made printable for a message: at most 120 of them, \xNN escaped. */
static const char *shown(const char *p, size_t n)
{
	static char buf[4][600];
	static int slot;
	char *b = buf[slot++ % 4];
	size_t o = 0;

	for (size_t i = 0; i < n && i < 120; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			b[o++] = (char)c;
		else
			o += (size_t)snprintf(b + o, 8, "\\x%02x", c);
	}
	if (n > 120)
		o += (size_t)snprintf(b + o, 32, "...(%zu bytes)", n);
	b[o] = '\0';
	return b;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_ok(const char *str, size_t n, size_t *bad_at)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], cp, min;
		size_t k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			*bad_at = i;
			return false;
		}
		if (n - i <= k) {
			*bad_at = i;
			return false;
		}
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80) {
				*bad_at = i;
				return false;
			}
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			*bad_at = i;
			return false;
		}
		i += k + 1;
	}
	return true;
}

/* ---- connections ------------------------------------------------------ */

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	bool eof;       /* the daemon closed (EOF or reset) */
};

static int conn_open(struct conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 10, 0 };
	int fd, err;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return failf("socket: %s", strerror(errno));
	/* a blocking send must not hang the tool on a stuck daemon */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		close(fd);
		return failf("cannot connect to %s: %s", sock_path, strerror(err));
	}
	c->fd = fd;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static int send_all(struct conn *c, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return failf("send: %s", strerror(errno));
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_str(struct conn *c, const char *s)
{
	return send_all(c, s, strlen(s));
}

/* Reads what is there, waiting at most `ms`: 1 data, 0 closed, -1 timeout, -2 error. */
static int conn_fill(struct conn *c, int ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int r;

	if (c->eof)
		return 0;
	r = poll(&p, 1, ms < 0 ? 0 : ms);
	if (r < 0 && errno != EINTR)
		return failf("poll: %s", strerror(errno)), -2;
	if (r <= 0)
		return -1;
	if (c->cap - c->len < 65536) {
		c->cap = c->cap * 2 + 65536;
		c->buf = realloc(c->buf, c->cap);
		if (!c->buf)
			abort();
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	if (n > 0) {
		c->len += (size_t)n;
		return 1;
	}
	if (n == 0 || errno == ECONNRESET || errno == EPIPE) {
		c->eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EINTR)
		return 1;
	return failf("recv: %s", strerror(errno)), -2;
}

/*
 * The next line (malloc'd, NUL-terminated, without its '\n'), waiting at most
 * `ms`. Returns 1 with a line, 0 when the daemon closed first (what is left
 * of a partial line stays in c->buf), -1 on timeout or error (why is set).
 */
static int conn_line(struct conn *c, int ms, char **line, size_t *len)
{
	double deadline = now_ms() + ms;

	*line = NULL;
	*len = 0;
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		int r;

		if (nl) {
			size_t n = (size_t)(nl - c->buf);

			*line = xmalloc(n + 1);
			memcpy(*line, c->buf, n);
			(*line)[n] = '\0';
			*len = n;
			c->len -= n + 1;
			memmove(c->buf, nl + 1, c->len);
			return 1;
		}
		if (c->eof)
			return 0;
		r = conn_fill(c, (int)(deadline - now_ms()));
		if (r == -1)
			return failf("no reply within %d ms", ms);
		if (r < 0)
			return -1;
	}
}

/* The daemon must close the connection within `ms`, with nothing more said. */
static int expect_closed(struct conn *c, int ms, const char *after)
{
	char *line;
	size_t len;
	int r = conn_line(c, ms, &line, &len);

	if (r > 0) {
		failf("after %s, another line instead of the close: %s", after, shown(line, len));
		free(line);
		return -1;
	}
	if (r < 0)
		return failf("after %s, the connection was not closed within %d ms", after, ms);
	if (c->len)
		return failf("after %s, a partial line then close: %s", after,
			     shown(c->buf, c->len));
	return 0;
}

/* Nothing more may come within `ms` (one request, one reply). */
static int expect_quiet(struct conn *c, int ms, const char *after)
{
	char *line;
	size_t len;
	int r = conn_line(c, ms, &line, &len);

	if (r > 0) {
		failf("after %s, an extra line: %s", after, shown(line, len));
		free(line);
		return -1;
	}
	if (r == 0)
		return failf("after %s, the daemon closed the connection", after);
	why[0] = '\0';
	return 0;
}

/* ---- replies ---------------------------------------------------------- */

struct reply {
	struct json_object *root, *id, *result, *error;
	bool ok;
	const char *code, *message;
};

static void reply_free(struct reply *r)
{
	json_object_put(r->root);
	memset(r, 0, sizeof(*r));
}

/* A strict parse of one reply line and a check of its shape. */
static int reply_parse(const char *line, size_t len, struct reply *r)
{
	struct json_tokener *tok;
	struct json_object *code, *msg;
	bool has_id = false, has_ok = false;
	size_t bad;

	memset(r, 0, sizeof(*r));
	if (!utf8_ok(line, len, &bad))
		return failf("reply is not valid UTF-8 (byte %zu): %s", bad, shown(line, len));
	tok = json_tokener_new();
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	r->root = json_tokener_parse_ex(tok, line, (int)len);
	if (!r->root || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)tok->char_offset != len) {
		json_tokener_free(tok);
		reply_free(r);
		return failf("reply is not one JSON value: %s", shown(line, len));
	}
	json_tokener_free(tok);
	if (!json_object_is_type(r->root, json_type_object)) {
		reply_free(r);
		return failf("reply is not an object: %s", shown(line, len));
	}
	json_object_object_foreach(r->root, key, val) {
		if (strcmp(key, "id") == 0) {
			has_id = true;
			r->id = val;
		} else if (strcmp(key, "ok") == 0 && json_object_is_type(val, json_type_boolean)) {
			has_ok = true;
			r->ok = json_object_get_boolean(val);
		} else if (strcmp(key, "result") == 0) {
			r->result = val;
		} else if (strcmp(key, "error") == 0 && json_object_is_type(val, json_type_object)) {
			r->error = val;
		} else if (strcmp(key, "event") != 0) {
			reply_free(r);
			return failf("reply has a stray field \"%s\": %s", key, shown(line, len));
		}
	}
	if (!has_id || !has_ok) {
		reply_free(r);
		return failf("reply without id or ok: %s", shown(line, len));
	}
	if (r->ok)
		return 0;
	if (!r->error || !json_object_object_get_ex(r->error, "code", &code) ||
	    !json_object_is_type(code, json_type_string) ||
	    !json_object_object_get_ex(r->error, "message", &msg) ||
	    !json_object_is_type(msg, json_type_string)) {
		reply_free(r);
		return failf("error reply without error.code and error.message: %s",
			     shown(line, len));
	}
	r->code = json_object_get_string(code);
	r->message = json_object_get_string(msg);
	return 0;
}

/* `want` lists the acceptable ids as JSON text, separated by '|'. */
static bool id_is(struct json_object *id, const char *want)
{
	const char *got = json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(got);

	for (const char *p = want; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t k = bar ? (size_t)(bar - p) : strlen(p);

		if (k == n && memcmp(p, got, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

/* `want` lists the acceptable outcomes, '|'-separated: error codes or "ok". */
static bool outcome_is(const struct reply *r, const char *want)
{
	const char *got = r->ok ? "ok" : r->code;
	size_t n = strlen(got);

	for (const char *p = want; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t k = bar ? (size_t)(bar - p) : strlen(p);

		if (k == n && memcmp(p, got, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

/*
 * Reads one reply and checks it: `want_id` (see id_is; NULL: any), and
 * `want_code` NULL for ok:true, else the outcomes allowed (see outcome_is).
 */
static int expect_reply(struct conn *c, const char *want_id, const char *want_code,
			struct reply *out)
{
	struct reply r;
	char *line;
	size_t len;
	int rc;

	why[0] = '\0';
	rc = conn_line(c, REPLY_MS, &line, &len);
	if (rc == 0)
		return failf("the daemon closed the connection without a reply%s%s",
			     c->len ? "; partial: " : "", c->len ? shown(c->buf, c->len) : "");
	if (rc < 0)
		return -1;
	if (reply_parse(line, len, &r) < 0) {
		free(line);
		return -1;
	}
	rc = 0;
	if (!want_code && !r.ok)
		rc = failf("refused (%s: %s), expected ok", r.code, r.message);
	else if (want_code && !outcome_is(&r, want_code) && r.ok)
		rc = failf("answered ok, expected %s: %s", want_code, shown(line, len));
	else if (want_code && !outcome_is(&r, want_code))
		rc = failf("error %s (%s), expected %s", r.code, r.message, want_code);
	else if (want_id && !id_is(r.id, want_id))
		rc = failf("reply id %s, expected %s: %s",
			   json_object_to_json_string_ext(r.id, JSON_C_TO_STRING_PLAIN), want_id,
			   shown(line, len));
	free(line);
	if (rc == 0 && out)
		*out = r;
	else
		reply_free(&r);
	return rc;
}

/* ---- the daemon's health and file descriptors ------------------------ */

static int fd_count(void)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)daemon_pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Waits up to `ms` for the daemon's fd count to be back at `base` or below. */
static int fds_back_to(int base, int ms)
{
	double deadline = now_ms() + ms;
	int n;

	for (;;) {
		n = fd_count();
		if (n < 0)
			return failf("cannot count /proc/%d/fd: %s", (int)daemon_pid,
				     strerror(errno));
		if (n <= base)
			return 0;
		if (now_ms() > deadline)
			return failf("the daemon's open files grew from %d to %d and stay there",
				     base, n);
		sleep_ms(50);
	}
}

/* A fresh connection gets a normal status reply (a moment of "busy" is waited out). */
static int health(void)
{
	double deadline = now_ms() + 5000;
	struct reply r;
	struct conn c;
	int rc;

	if (daemon_pid > 0 && kill(daemon_pid, 0) < 0 && errno == ESRCH)
		return failf("the daemon (pid %d) is gone", (int)daemon_pid);
	for (;;) {
		if (conn_open(&c) < 0)
			return -1;
		if (send_str(&c, "{\"id\":\"health\",\"op\":\"status\"}\n") < 0) {
			conn_close(&c);
			return -1;
		}
		rc = expect_reply(&c, NULL, NULL, &r);
		if (rc < 0 && strstr(why, "(busy:") && now_ms() < deadline) {
			conn_close(&c);
			sleep_ms(100);
			continue;
		}
		conn_close(&c);
		if (rc < 0)
			return -1;
		break;
	}
	if (!id_is(r.id, "\"health\"")) {
		reply_free(&r);
		return failf("status reply carries another id");
	}
	if (daemon_pid > 0) {
		struct json_object *pid;

		if (!json_object_object_get_ex(r.result, "pid", &pid) ||
		    json_object_get_int(pid) != (int)daemon_pid) {
			reply_free(&r);
			return failf("status answered by pid %s, not by --pid %d",
				     json_object_to_json_string(pid), (int)daemon_pid);
		}
	}
	reply_free(&r);
	return 0;
}

/* ---- one line, one reply, and the connection goes on ------------------ */

/*
 * Sends `data` (a whole line) on a fresh connection, expects one reply with
 * `want_id` and `want_code`, then a normal request on the same connection
 * must be answered too (the bad line did not cost the connection, nor
 * produce a second reply).
 */
static int one_line(const char *data, size_t len, const char *want_id, const char *want_code)
{
	struct conn c;
	int rc;

	if (conn_open(&c) < 0)
		return -1;
	rc = send_all(&c, data, len);
	if (rc == 0)
		rc = expect_reply(&c, want_id, want_code, NULL);
	if (rc == 0 && send_str(&c, "{\"id\":\"after\",\"op\":\"events\"}\n") == 0 &&
	    expect_reply(&c, "\"after\"", NULL, NULL) < 0) {
		char first[sizeof(why)];

		snprintf(first, sizeof(first), "%s", why);
		rc = failf("the line was answered, but then the connection failed: %s", first);
	}
	conn_close(&c);
	return rc;
}

#define LINE(s) s, sizeof(s) - 1

struct simple {
	const char *name;
	const char *data;
	size_t len;
	const char *want_id;     /* acceptable ids, '|'-separated JSON text */
	const char *want_code;   /* NULL: ok */
};

static const struct simple simple_cases[] = {
	{ "not-json", LINE("hello\n"), "null", "bad-request" },
	{ "empty-line", LINE("\n"), "null", "bad-request" },
	{ "json-array", LINE("[1,2,3]\n"), "null", "bad-request" },
	{ "json-array-of-request", LINE("[{\"id\":1,\"op\":\"status\"}]\n"), "null", "bad-request" },
	{ "json-string", LINE("\"status\"\n"), "null", "bad-request" },
	{ "json-number", LINE("42\n"), "null", "bad-request" },
	{ "json-null", LINE("null\n"), "null", "bad-request" },
	{ "no-id", LINE("{\"op\":\"status\"}\n"), "null", "bad-request" },
	{ "no-op", LINE("{\"id\":1}\n"), "1", "bad-request" },
	{ "op-wrong-type", LINE("{\"id\":1,\"op\":7}\n"), "1", "bad-request" },
	{ "op-null", LINE("{\"id\":1,\"op\":null}\n"), "1", "bad-request" },
	{ "id-wrong-type", LINE("{\"id\":[1],\"op\":\"status\"}\n"), "null", "bad-request" },
	{ "id-float", LINE("{\"id\":1.5,\"op\":\"status\"}\n"), "null", "bad-request" },
	{ "unknown-op", LINE("{\"id\":1,\"op\":\"reboot\"}\n"), "1", "bad-request" },
	{ "unknown-field", LINE("{\"id\":1,\"op\":\"status\",\"sudo\":true}\n"), "1",
	  "bad-request" },
	{ "unknown-argument",
	  LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"0000:00:00.0\",\"force\":true}}\n"),
	  "1", "bad-request" },
	{ "argument-for-op-without-args",
	  LINE("{\"id\":1,\"op\":\"list\",\"args\":{\"bdf\":\"0000:00:00.0\"}}\n"), "1",
	  "bad-request" },
	{ "args-not-object", LINE("{\"id\":1,\"op\":\"show\",\"args\":\"0000:00:00.0\"}\n"),
	  "1", "bad-request" },
	{ "missing-argument", LINE("{\"id\":1,\"op\":\"show\",\"args\":{}}\n"), "1",
	  "bad-request" },
	{ "wrong-argument-type", LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":7}}\n"),
	  "1", "bad-request" },
	{ "bdf-path-traversal",
	  LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"0000:00:1f.7/../../x\"}}\n"),
	  "1", "bad-request" },
	{ "bdf-dotdot", LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"..\"}}\n"), "1",
	  "bad-request" },
	{ "bdf-bad-hex", LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"0000:zz:00.0\"}}\n"),
	  "1", "bad-request" },
	{ "bdf-function-8", LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"0000:00:00.8\"}}\n"),
	  "1", "bad-request" },
	{ "bdf-absent-device",
	  LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"ffff:ff:1f.7\"}}\n"), "1",
	  "not-found" },
	/* a \u0000 escape must not cut a string short: "0000:00:00.0" + junk is not an address */
	{ "bdf-nul-escape",
	  LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"0000:00:00.0\\u0000/../x\"}}\n"),
	  "1", "bad-request" },
	{ "op-nul-escape", LINE("{\"id\":1,\"op\":\"status\\u0000x\"}\n"), "1",
	  "bad-request" },
	{ "key-nul-escape",
	  LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\\u0000x\":\"0000:00:00.0\"}}\n"),
	  "1", "bad-request" },
	{ "utf8-ff-fe", LINE("{\"id\":\"\xff\xfe\",\"op\":\"status\"}\n"), "null", "bad-request" },
	{ "utf8-overlong-c0-af", LINE("{\"id\":\"\xc0\xaf\",\"op\":\"status\"}\n"), "null",
	  "bad-request" },
	{ "utf8-lone-continuation", LINE("{\"id\":\"a\x80z\",\"op\":\"status\"}\n"), "null",
	  "bad-request" },
	{ "utf8-truncated-sequence", LINE("{\"id\":\"a\xe2\x82\",\"op\":\"status\"}\n"), "null",
	  "bad-request" },
	{ "utf8-surrogate-ed-a0-80", LINE("{\"id\":\"\xed\xa0\x80\",\"op\":\"status\"}\n"), "null",
	  "bad-request" },
	{ "utf8-above-10ffff", LINE("{\"id\":\"\xf4\x90\x80\x80\",\"op\":\"status\"}\n"), "null",
	  "bad-request" },
	{ "utf8-invalid-outside-string", LINE("{\"id\":1,\"op\":\"status\"\xff}\n"), "null",
	  "bad-request" },
	{ "nul-byte-in-string", LINE("{\"id\":1,\"op\":\"sta\0tus\"}\n"), "null", "bad-request" },
	{ "nul-byte-between-tokens", LINE("{\"id\":1,\0\"op\":\"status\"}\n"), "null",
	  "bad-request" },
	{ "nul-byte-after-object", LINE("{\"id\":1,\"op\":\"status\"}\0\n"), "null",
	  "bad-request" },
	{ "raw-control-char-in-string", LINE("{\"id\":\"a\x01z\",\"op\":\"status\"}\n"), "null",
	  "bad-request" },
	{ "single-quoted-key", LINE("{'id':1,'op':\"status\"}\n"), "null", "bad-request" },
	{ "trailing-comma", LINE("{\"id\":1,\"op\":\"status\",}\n"), "null", "bad-request" },
	{ "two-values-one-line", LINE("{\"id\":1,\"op\":\"status\"} {\"id\":2,\"op\":\"status\"}\n"),
	  "null", "bad-request" },
	{ "comment", LINE("{\"id\":1,\"op\":\"status\"/*x*/}\n"), "null", "bad-request" },
	{ "duplicate-keys", LINE("{\"id\":1,\"op\":\"status\",\"op\":\"list\"}\n"), "1",
	  "bad-request" },
	{ "duplicate-ids", LINE("{\"id\":1,\"id\":2,\"op\":\"status\"}\n"), "1|2|null",
	  "bad-request" },
	/* which device? the first bdf for one reader, the last for another */
	{ "duplicate-argument",
	  LINE("{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"ffff:ff:1f.7\",\"bdf\":\"00:00.0\"}}\n"),
	  "1", "bad-request" },
	/* the mutating ops' arguments, on an address no host has: nothing can move */
	{ "assign-tenant-path",
	  LINE("{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"ffff:ff:1f.7\",\"cdi\":true,"
	       "\"tenant\":\"../../etc\"}}\n"),
	  "1", "bad-request" },
	{ "assign-tenant-33-bytes",
	  LINE("{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"ffff:ff:1f.7\",\"cdi\":true,"
	       "\"tenant\":\"ttttttttttttttttttttttttttttttttt\"}}\n"),
	  "1", "bad-request" },
	{ "assign-pid-wrong-type",
	  LINE("{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"ffff:ff:1f.7\",\"pid\":\"1\"}}\n"),
	  "1", "bad-request" },
	{ "assign-pid-1",
	  LINE("{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"ffff:ff:1f.7\",\"pid\":1}}\n"),
	  "1", "bad-request" },
	{ "assign-pid-negative",
	  LINE("{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"ffff:ff:1f.7\",\"pid\":-5}}\n"),
	  "1", "bad-request" },
	{ "assign-pid-2^31",
	  LINE("{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"ffff:ff:1f.7\",\"pid\":2147483648}}\n"),
	  "1", "bad-request" },
	{ "assign-without-consumer",
	  LINE("{\"id\":1,\"op\":\"assign\",\"args\":{\"bdf\":\"ffff:ff:1f.7\"}}\n"), "1",
	  "bad-request" },
	{ "bind-without-bdf", LINE("{\"id\":1,\"op\":\"bind\"}\n"), "1", "bad-request" },
	{ "long-id-200", LINE("{\"id\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			      "xxxxxxxxxxxxxxx\",\"op\":\"status\"}\n"),
	  "null", "bad-request" },
	/* integer ids are within +/-(2^53 - 1) (docs/protocol.md); json-c would saturate */
	{ "id-integer-overflow", LINE("{\"id\":18446744073709551616,\"op\":\"events\"}\n"), "null",
	  "bad-request" },
	{ "id-negative-overflow", LINE("{\"id\":-9223372036854775809,\"op\":\"events\"}\n"), "null",
	  "bad-request" },
	{ "id-2^53", LINE("{\"id\":9007199254740992,\"op\":\"events\"}\n"), "null", "bad-request" },
	{ "id-2^53-minus-1", LINE("{\"id\":9007199254740991,\"op\":\"events\"}\n"),
	  "9007199254740991", NULL },
	{ "id-minus-2^53-plus-1", LINE("{\"id\":-9007199254740991,\"op\":\"events\"}\n"),
	  "-9007199254740991", NULL },
	/* the message quotes at most 64 bytes of the op: it must not cut a character in two */
	{ "error-message-cuts-utf8",
	  LINE("{\"id\":1,\"op\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "\xc3\xa9\xc3\xa9\"}\n"),
	  "1", "bad-request" },
	{ "crlf-line-end", LINE("{\"id\":1,\"op\":\"events\"}\r\n"), "1", NULL },
	{ "whitespace-around", LINE(" \t{ \"id\" : 1 , \"op\" : \"events\" } \n"), "1", NULL },
	{ "string-id-unicode", LINE("{\"id\":\"caf\xc3\xa9-\xf0\x9f\x94\x8c\",\"op\":\"events\"}\n"),
	  "\"caf\xc3\xa9-\xf0\x9f\x94\x8c\"", NULL },
	{ "null-id", LINE("{\"id\":null,\"op\":\"events\"}\n"), "null", NULL },
};

/* ---- cases that need more than one line ------------------------------ */

/* {"id":1,"op":"status","args": then `depth - 1` levels of [ ... ] } */
static int nested(int depth)
{
	size_t n = (size_t)depth - 1;
	char *s = xmalloc(64 + 2 * n);
	size_t o = (size_t)sprintf(s, "{\"id\":1,\"op\":\"status\",\"args\":");
	int rc;

	memset(s + o, '[', n);
	memset(s + o + n, ']', n);
	o += 2 * n;
	o += (size_t)sprintf(s + o, "}\n");
	rc = one_line(s, o, "null", "bad-request");
	free(s);
	return rc;
}

static int case_nesting_8_ok(void)
{
	/* 8 levels is within the limit: refused for its args, not for its depth */
	struct conn c;
	struct reply r;
	int rc;

	if (conn_open(&c) < 0)
		return -1;
	rc = send_str(&c, "{\"id\":1,\"op\":\"status\",\"args\":{\"a\":[[[[[[]]]]]]}}\n");
	if (rc == 0)
		rc = expect_reply(&c, "1", "bad-request", &r);
	if (rc == 0) {
		if (strstr(r.message, "nest") || strstr(r.message, "deep"))
			rc = failf("8 levels refused as too deep: %s", r.message);
		reply_free(&r);
	}
	conn_close(&c);
	return rc;
}

static int case_nesting_9(void)
{
	return nested(9);
}

static int case_nesting_1000(void)
{
	return nested(1000);
}

/* A line of `total` bytes (newline included if `newline`). */
static char *padded_request(size_t total, bool newline, const char *req)
{
	char *s = xmalloc(total + 1);
	size_t body = total - (newline ? 1 : 0), rl = strlen(req);

	memset(s, ' ', body - rl);
	memcpy(s + body - rl, req, rl);
	if (newline)
		s[total - 1] = '\n';
	s[total] = '\0';
	return s;
}

/* Over the limit: a bad-request reply, then the daemon closes. */
static int too_long(size_t total, bool newline)
{
	char *s = xmalloc(total + 1);
	struct conn c;
	int rc;

	/* looks like the start of a request, then never ends */
	snprintf(s, total + 1, "{\"id\":1,\"op\":\"show\",\"args\":{\"bdf\":\"");
	memset(s + strlen(s), 'a', total - strlen(s));
	if (newline) {
		s[total - 3] = '"';
		s[total - 2] = '}';
		s[total - 1] = '\n';
	}
	if (conn_open(&c) < 0) {
		free(s);
		return -1;
	}
	rc = send_all(&c, s, total);
	if (rc < 0 && (strstr(why, "Broken pipe") || strstr(why, "reset")))
		rc = 0; /* the daemon may close before it read the rest: still answers first */
	free(s);
	if (rc == 0)
		rc = expect_reply(&c, "null", "bad-request", NULL);
	if (rc == 0)
		rc = expect_closed(&c, 5000, "the over-long line's reply");
	conn_close(&c);
	return rc;
}

static int case_line_70k_no_newline(void)
{
	return too_long(70 * 1024, false);
}

static int case_line_70k_newline(void)
{
	return too_long(70 * 1024, true);
}

static int case_line_64k_exact(void)
{
	char *s = padded_request(MAX_LINE, true, "{\"id\":1,\"op\":\"events\"}");
	int rc = one_line(s, MAX_LINE, "1", NULL);

	free(s);
	return rc;
}

static int case_line_64k_plus_1(void)
{
	char *s = padded_request(MAX_LINE + 1, true, "{\"id\":1,\"op\":\"events\"}");
	struct conn c;
	int rc;

	if (conn_open(&c) < 0) {
		free(s);
		return -1;
	}
	rc = send_all(&c, s, MAX_LINE + 1);
	if (rc < 0 && (strstr(why, "Broken pipe") || strstr(why, "reset")))
		rc = 0;
	if (rc == 0)
		rc = expect_reply(&c, "null", "bad-request", NULL);
	if (rc == 0)
		rc = expect_closed(&c, 5000, "the over-long line's reply");
	conn_close(&c);
	free(s);
	return rc;
}

static int case_id_128(void)
{
	char line[256], id[129];

	memset(id, 'i', 128);
	id[128] = '\0';
	snprintf(line, sizeof(line), "{\"id\":\"%s\",\"op\":\"events\"}\n", id);
	{
		char want[140];

		snprintf(want, sizeof(want), "\"%s\"", id);
		return one_line(line, strlen(line), want, NULL);
	}
}

/* 1000 requests in one write: every one answered, in order, nothing more. */
static int case_pipelined_1000(void)
{
	enum { N = 1000 };
	size_t cap = N * 64, o = 0;
	char *buf = xmalloc(cap);
	struct conn c;
	int rc = 0;

	for (int i = 1; i <= N; i++) {
		const char *op = i % 100 == 0 ? "status" : i % 7 == 0 ? "nosuchop" : "events";

		if (i % 2)
			o += (size_t)snprintf(buf + o, cap - o, "{\"id\":%d,\"op\":\"%s\"}\n", i, op);
		else
			o += (size_t)snprintf(buf + o, cap - o, "{\"id\":\"p%d\",\"op\":\"%s\"}\n", i,
					      op);
	}
	if (conn_open(&c) < 0) {
		free(buf);
		return -1;
	}
	/* one write() of the whole batch */
	if (write(c.fd, buf, o) != (ssize_t)o)
		rc = failf("could not write the batch in one go: %s", strerror(errno));
	free(buf);
	for (int i = 1; rc == 0 && i <= N; i++) {
		char want[32];
		const char *code = i % 100 == 0 ? NULL : i % 7 == 0 ? "bad-request" : NULL;

		if (i % 2)
			snprintf(want, sizeof(want), "%d", i);
		else
			snprintf(want, sizeof(want), "\"p%d\"", i);
		if (expect_reply(&c, want, code, NULL) < 0) {
			char first[sizeof(why)];

			snprintf(first, sizeof(first), "%s", why);
			rc = failf("reply %d of %d: %s", i, N, first);
		}
	}
	if (rc == 0)
		rc = expect_quiet(&c, 300, "the 1000 replies");
	conn_close(&c);
	return rc;
}

/* A request in 1-byte writes: answered once, when whole. */
static int case_one_byte_writes(void)
{
	const char *s = "{\"id\":\"bytes\",\"op\":\"status\"}\n";
	struct conn c;
	int rc = 0;

	if (conn_open(&c) < 0)
		return -1;
	for (size_t i = 0; rc == 0 && s[i]; i++) {
		char *line;
		size_t len;

		rc = send_all(&c, s + i, 1);
		sleep_ms(2);
		/* nothing may come before the line is whole */
		if (rc == 0 && s[i + 1] && conn_line(&c, 0, &line, &len) > 0) {
			rc = failf("a reply before the line was whole (after %zu bytes): %s", i + 1,
				   shown(line, len));
			free(line);
		}
		if (rc == 0)
			why[0] = '\0';
	}
	if (rc == 0)
		rc = expect_reply(&c, "\"bytes\"", NULL, NULL);
	if (rc == 0)
		rc = expect_quiet(&c, 300, "the reply");
	conn_close(&c);
	return rc;
}

static int case_connect_nothing_close(void)
{
	struct conn c;

	if (conn_open(&c) < 0)
		return -1;
	conn_close(&c);
	return 0;
}

static int case_half_line_close(void)
{
	struct conn c;
	int rc;

	if (conn_open(&c) < 0)
		return -1;
	rc = send_str(&c, "{\"id\":1,\"op\":\"sta");
	conn_close(&c);
	return rc;
}

/* Pipelined requests, then gone before any reply is read. */
static int case_request_close_before_read(void)
{
	struct conn c;
	int rc = 0;

	if (conn_open(&c) < 0)
		return -1;
	for (int i = 0; rc == 0 && i < 20; i++)
		rc = send_str(&c, i % 2 ? "{\"id\":1,\"op\":\"list\"}\n" : "{\"id\":2,\"op\":\"status\"}\n");
	conn_close(&c);
	return rc;
}

/* A request, then shutdown(SHUT_WR): the reply still comes, then the close. */
static int case_request_then_half_close(void)
{
	struct conn c;
	int rc;

	if (conn_open(&c) < 0)
		return -1;
	rc = send_str(&c, "{\"id\":\"hc\",\"op\":\"status\"}\n");
	if (rc == 0 && shutdown(c.fd, SHUT_WR) < 0)
		rc = failf("shutdown: %s", strerror(errno));
	if (rc == 0)
		rc = expect_reply(&c, "\"hc\"", NULL, NULL);
	if (rc == 0)
		rc = expect_closed(&c, 5000, "the reply to a half-closed client");
	conn_close(&c);
	return rc;
}

/*
 * A request sent with SCM_RIGHTS (a pipe's write end and /dev/null): the
 * request is answered, and the daemon keeps no copy of the fds: once ours
 * is closed, the pipe's read end sees EOF while the connection is still
 * open, and the daemon's fd count is only up by the connection.
 */
static int case_scm_rights(void)
{
	const char *req = "{\"id\":\"scm\",\"op\":\"status\"}\n";
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)req, strlen(req) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	struct pollfd p;
	int pfd[2], fds[2], base = daemon_pid > 0 ? fd_count() : -1, rc = 0, n;
	struct conn c;
	char b;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return failf("pipe: %s", strerror(errno));
	fds[0] = pfd[1];
	fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (conn_open(&c) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		close(fds[1]);
		return -1;
	}
	memset(u.buf, 0, sizeof(u.buf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(c.fd, &mh, MSG_NOSIGNAL) != (ssize_t)strlen(req))
		rc = failf("sendmsg: %s", strerror(errno));
	close(pfd[1]);
	close(fds[1]);
	if (rc == 0)
		rc = expect_reply(&c, "\"scm\"", NULL, NULL);
	if (rc == 0) {
		/* nobody may hold the write end now: EOF on the read end */
		p = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
		n = poll(&p, 1, 3000);
		if (n <= 0 || read(pfd[0], &b, 1) != 0)
			rc = failf("the pipe's write end passed with SCM_RIGHTS is still held "
				   "(the daemon kept the fd)");
	}
	if (rc == 0 && base >= 0) {
		int now = fd_count();

		if (now > base + 1)
			rc = failf("with the connection open the daemon has %d fds, %d before "
				   "(one more expected, for the connection)", now, base);
	}
	conn_close(&c);
	close(pfd[0]);
	if (rc == 0 && base >= 0)
		rc = fds_back_to(base, 3000);
	return rc;
}

/*
 * 300 connections at once: the ones beyond the limit get one "busy" line
 * and are closed; the others still work.
 */
static int case_connections_300(void)
{
	enum { N = 300 };
	static struct conn c[N];
	int ok = 0, busy = 0, rc = 0, opened = 0;
	char req[64];

	for (int i = 0; i < N; i++) {
		if (conn_open(&c[i]) < 0) {
			rc = failf("connection %d of %d: %s", i + 1, N, why);
			break;
		}
		opened++;
	}
	for (int i = 0; rc == 0 && i < opened; i++) {
		snprintf(req, sizeof(req), "{\"id\":%d,\"op\":\"events\"}\n", i);
		/* a busy connection may be closed already: its line is still there to read */
		(void)send(c[i].fd, req, strlen(req), MSG_NOSIGNAL);
	}
	for (int i = 0; rc == 0 && i < opened; i++) {
		struct reply r;
		char *line;
		size_t len;
		int got;

		why[0] = '\0';
		got = conn_line(&c[i], REPLY_MS, &line, &len);
		if (got <= 0) {
			rc = failf("connection %d: no line (%s)", i + 1,
				   got == 0 ? "closed without a word" : why);
			break;
		}
		if (reply_parse(line, len, &r) < 0) {
			free(line);
			rc = -1;
			break;
		}
		snprintf(req, sizeof(req), "%d", i);
		if (r.ok && id_is(r.id, req)) {
			ok++;
		} else if (!r.ok && strcmp(r.code, "busy") == 0 && id_is(r.id, "null")) {
			busy++;
			if (expect_closed(&c[i], 5000, "the busy line") < 0)
				rc = -1;
		} else {
			rc = failf("connection %d: unexpected line %s", i + 1, shown(line, len));
		}
		free(line);
		reply_free(&r);
	}
	for (int i = 0; i < opened; i++)
		conn_close(&c[i]);
	if (rc == 0 && (ok > MAX_CLIENTS || busy < N - MAX_CLIENTS || ok + busy != N))
		rc = failf("%d served and %d busy of %d (at most %d may be served)", ok, busy, N,
			   MAX_CLIENTS);
	if (rc == 0 && ok < MAX_CLIENTS - 4)
		rc = failf("only %d of %d connections were served (limit %d)", ok, N, MAX_CLIENTS);
	return rc;
}

/*
 * A subscriber that never reads, with more of its replies piling up: the
 * daemon keeps serving others. (Events cannot be made to flow on a host
 * without IOMMU: binds are refused and emit nothing.)
 */
static int case_subscriber_never_reads(void)
{
	struct conn sub, c;
	size_t cap = 2000 * 48, o = 0;
	char *buf;
	int rc;

	if (conn_open(&sub) < 0)
		return -1;
	rc = send_str(&sub, "{\"id\":\"sub\",\"op\":\"events\",\"args\":{\"follow\":true}}\n");
	buf = xmalloc(cap);
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(buf + o, cap - o, "{\"id\":%d,\"op\":\"events\"}\n", i);
	if (rc == 0)
		rc = send_all(&sub, buf, o);
	free(buf);
	/* each within REPLY_MS: the daemon does not wait on the subscriber */
	for (int i = 0; rc == 0 && i < 20; i++) {
		if (conn_open(&c) < 0) {
			rc = -1;
			break;
		}
		rc = send_str(&c, "{\"id\":\"other\",\"op\":\"status\"}\n");
		if (rc == 0)
			rc = expect_reply(&c, "\"other\"", NULL, NULL);
		conn_close(&c);
	}
	conn_close(&sub);
	return rc;
}

/*
 * A client that never reads while asking for more than 16 MiB of replies
 * (tiny bad lines, ~100-byte error replies) is closed by the daemon.
 */
static int case_unread_replies_16mib(void)
{
	enum { LINES = 260000, CHUNK = 8192 };
	char chunk[CHUNK * 2];
	size_t sent = 0, total = 0;
	struct conn c;
	int rc = 0;
	double deadline;

	if (conn_open(&c) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(chunk); i += 2) {
		chunk[i] = 'x';
		chunk[i + 1] = '\n';
	}
	while (sent < LINES) {
		ssize_t w = send(c.fd, chunk, sizeof(chunk), MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			break; /* closed: what we wanted */
		if (w < 0) {
			rc = failf("send: %s", strerror(errno));
			break;
		}
		sent += (size_t)w / 2;
	}
	/* closed before it could have queued 16 MiB (~107-byte replies): too soon */
	if (rc == 0 && sent < (16u << 20) / 120)
		rc = failf("closed after only %zu lines, before 16 MiB of replies were due", sent);
	/* now read: what the socket held, then the close, not every reply */
	deadline = now_ms() + 20000;
	while (rc == 0 && !c.eof) {
		int r;

		c.len = 0;
		r = conn_fill(&c, (int)(deadline - now_ms()));
		total += c.len;
		if (r < 0) {
			rc = failf("the daemon never closed a client that left %zu lines' replies "
				   "unread (read %zu bytes)", sent, total);
			break;
		}
		if (total > (size_t)24 << 20) {
			rc = failf("read %zu bytes of replies: the daemon kept more than 16 MiB for a "
				   "client that did not read", total);
			break;
		}
	}
	conn_close(&c);
	return rc;
}

/* `show` of a device's short address (domain 0) answers its canonical one. */
/*
 * The first device in PCI domain 0 that `list` shows, into `out`; 0 with
 * out "" when there is none, -1 when the list fails.
 */
static int first_device(struct conn *c, char out[16])
{
	struct json_object *dev, *bdf = NULL;
	struct reply r;

	out[0] = '\0';
	if (send_str(c, "{\"id\":1,\"op\":\"list\"}\n") < 0 || expect_reply(c, "1", NULL, &r) < 0)
		return -1;
	for (size_t i = 0; json_object_is_type(r.result, json_type_array) &&
			   i < json_object_array_length(r.result); i++) {
		dev = json_object_array_get_idx(r.result, i);
		if (json_object_object_get_ex(dev, "bdf", &bdf) &&
		    strncmp(json_object_get_string(bdf), "0000:", 5) == 0) {
			snprintf(out, 16, "%s", json_object_get_string(bdf));
			break;
		}
	}
	reply_free(&r);
	return 0;
}

static int case_short_bdf(void)
{
	struct json_object *bdf = NULL;
	char canon[16], line[128];
	struct reply r2;
	struct conn c;
	int rc;

	if (conn_open(&c) < 0)
		return -1;
	if (first_device(&c, canon) < 0 || !canon[0]) {
		conn_close(&c);
		return canon[0] ? -1 : 0; /* no device in domain 0: nothing to try */
	}
	snprintf(line, sizeof(line), "{\"id\":2,\"op\":\"show\",\"args\":{\"bdf\":\"%.7s\"}}\n",
		 canon + 5);
	rc = send_str(&c, line);
	if (rc == 0)
		rc = expect_reply(&c, "2", NULL, &r2);
	if (rc == 0) {
		if (!json_object_object_get_ex(r2.result, "bdf", &bdf) ||
		    strcmp(json_object_get_string(bdf), canon) != 0)
			rc = failf("show %.7s answered bdf %s, expected %s", canon + 5,
				   json_object_get_string(bdf), canon);
		reply_free(&r2);
	}
	conn_close(&c);
	return rc;
}

/*
 * Live injection into a process that does not exist, on a device the host
 * has: refused not-found ("no process"), before anything is looked at.
 */
static int case_assign_pid_gone(void)
{
	char canon[16], line[160], path[32];
	struct reply r;
	struct conn c;
	int rc, pid = 4194000;

	while (pid > 2 && (snprintf(path, sizeof(path), "/proc/%d", pid), access(path, F_OK) == 0))
		pid--;
	if (conn_open(&c) < 0)
		return -1;
	if (first_device(&c, canon) < 0 || !canon[0]) {
		conn_close(&c);
		return canon[0] ? -1 : 0;
	}
	snprintf(line, sizeof(line),
		 "{\"id\":2,\"op\":\"assign\",\"args\":{\"bdf\":\"%s\",\"pid\":%d}}\n", canon,
		 pid);
	rc = send_str(&c, line);
	if (rc == 0)
		rc = expect_reply(&c, "2", "not-found", &r);
	if (rc == 0) {
		if (!strstr(r.message, "no process"))
			rc = failf("assign --pid %d answered \"%s\"", pid, r.message);
		reply_free(&r);
	}
	conn_close(&c);
	return rc;
}

/* The daemon's resident memory in KiB, from /proc/PID/status; -1 unknown. */
static long daemon_rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)daemon_pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A client that reads its replies steadily but always stays LAG replies
 * (~2 MB, well under the 16 MiB limit) behind: the daemon's memory must
 * stay bounded by what is unread, not grow with everything ever sent.
 * Needs --pid (the daemon's VmRSS).
 */
static int case_slow_reader_memory(void)
{
	enum { LAG = 20000, BATCH = 10000, ROUNDS = 200, LINE_LEN = 64 };
	static char batch[BATCH * LINE_LEN];
	int sndbuf = 16384;
	long before, now = 0, grew = 0;
	size_t sent = 0, got = 0;
	double deadline = now_ms() + 60000;
	struct conn c;
	int rc = 0;

	if (daemon_pid <= 0)
		return 1; /* skipped */
	before = daemon_rss_kib();
	if (before < 0)
		return failf("cannot read /proc/%d/status", (int)daemon_pid);
	/* "x", padding, newline: each answered with a ~107-byte bad-request */
	memset(batch, ' ', sizeof(batch));
	for (size_t i = 0; i < sizeof(batch); i += LINE_LEN) {
		batch[i] = 'x';
		batch[i + LINE_LEN - 1] = '\n';
	}
	if (conn_open(&c) < 0)
		return -1;
	/*
	 * Few requests in flight (a small send buffer, long lines): the lag is
	 * then in replies the daemon made and holds, not in requests the kernel
	 * holds for it.
	 */
	setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (int r = 0; rc == 0 && r < ROUNDS + LAG / BATCH; r++) {
		rc = send_all(&c, batch, sizeof(batch));
		sent += BATCH;
		/* read back down to LAG replies behind, in small bites */
		while (rc == 0 && sent > LAG && got < sent - LAG) {
			struct pollfd p = { .fd = c.fd, .events = POLLIN };
			char buf[4096];
			ssize_t n;

			if (now_ms() > deadline) {
				rc = failf("too slow: %zu of %zu replies read in 60 s", got, sent);
				break;
			}
			if (poll(&p, 1, 1000) <= 0)
				continue;
			n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				rc = failf("the daemon closed a client that had only ~%d replies unread "
					   "(after %zu)", LAG, got);
				break;
			}
			for (ssize_t k = 0; k < n; k++)
				got += buf[k] == '\n';
		}
		now = daemon_rss_kib();
		if (now - before > grew)
			grew = now - before;
		if (rc == 0 && grew > 64 * 1024)
			rc = failf("the daemon grew by %ld MiB for a client with ~%d MB unread "
				   "(%zu replies read so far): sent replies are kept until the "
				   "client catches up completely", grew / 1024, LAG * 107 / 1000000,
				   got);
	}
	conn_close(&c);
	return rc;
}

/* ---- clients of other uids (needs root) -------------------------------- */

/*
 * The daemon's per-uid limits (vfiod/control.h): connections and event
 * subscriptions of one unprivileged uid, the slots kept for root and the
 * admin group, unread replies over all of one uid's clients.
 */
#define PER_UID_CLIENTS 32
#define PER_UID_SUBS 8
#define RESERVED 16
#define PER_UID_OUT (32u << 20)

static int conn_open_ctx(void *ctx)
{
	struct conn k;

	(void)ctx;
	return conn_open(&k) < 0 ? -1 : k.fd;
}

/*
 * Opens `n` connections as `uid` (gid NOGROUP, no other groups; connect-as.h).
 * Returns how many were opened; a connect that fails stops there, with why
 * set. The daemon's socket must let NOGROUP in (a policy with socket_group
 * = nogroup, as socket-tests starts it with).
 */
static int conn_open_as(uid_t uid, struct conn *c, int n)
{
	int *fds, *errs, got;

	if (geteuid() != 0)
		return failf("needs root (to connect as uid %u)", (unsigned)uid);
	fds = calloc((size_t)n * 2, sizeof(*fds));
	if (!fds)
		abort();
	errs = fds + n;
	if (connect_as(uid, conn_open_ctx, NULL, n, true, fds, errs) < 0) {
		free(fds);
		return failf("cannot start a child to connect as uid %u: %s", (unsigned)uid,
			     strerror(errno));
	}
	for (got = 0; got < n && fds[got] >= 0; got++) {
		memset(&c[got], 0, sizeof(c[got]));
		c[got].fd = fds[got];
	}
	if (got < n && errs[got] == ECHILD)
		failf("uid %u: the connecting child stopped after %d connections", (unsigned)uid, got);
	else if (got < n)
		failf("uid %u cannot connect to %s (connection %d): %s%s", (unsigned)uid, sock_path,
		      got + 1, strerror(errs[got]),
		      errs[got] == EACCES ? " (the socket must let group nogroup in)" : "");
	free(fds);
	return got;
}

/* Sends `req` (a whole line) and reads one reply: 0 ok, -1 otherwise; the reply in *r. */
static int ask(struct conn *c, const char *req, struct reply *r)
{
	char *line;
	size_t len;
	int got;

	memset(r, 0, sizeof(*r));
	why[0] = '\0';
	(void)send(c->fd, req, strlen(req), MSG_NOSIGNAL); /* a busy one may be closed already */
	got = conn_line(c, REPLY_MS, &line, &len);
	if (got <= 0)
		return failf("no reply (%s)", got == 0 ? "closed without a word" : why);
	got = reply_parse(line, len, r);
	free(line);
	return got;
}

/* A fresh connection as root (privileged) must be answered within `ms`. */
static int root_served_within(int ms, const char *while_what)
{
	double t0 = now_ms();
	struct reply r;
	struct conn c;
	int rc;

	if (conn_open(&c) < 0)
		return failf("while %s, root cannot connect: %s", while_what, why);
	rc = ask(&c, "{\"id\":\"root\",\"op\":\"status\"}\n", &r);
	conn_close(&c);
	if (rc < 0)
		return failf("while %s, root's status: %s", while_what, why);
	if (!r.ok) {
		rc = failf("while %s, root's status was refused: %s: %s", while_what, r.code,
			   r.message);
		reply_free(&r);
		return rc;
	}
	reply_free(&r);
	if (now_ms() - t0 > ms)
		return failf("while %s, root's status took %.0f ms", while_what, now_ms() - t0);
	return 0;
}

/* One request as `uid` on a fresh connection of its own: 0 when answered ok. */
static int uid_served(uid_t uid, const char *req, const char *while_what)
{
	struct reply r;
	struct conn c;
	int rc;

	if (conn_open_as(uid, &c, 1) != 1)
		return failf("while %s, %s", while_what, why);
	rc = ask(&c, req, &r);
	conn_close(&c);
	if (rc < 0)
		return failf("while %s, uid %u: %s", while_what, (unsigned)uid, why);
	rc = r.ok ? 0 : failf("while %s, uid %u was refused: %s: %s", while_what, (unsigned)uid,
			      r.code, r.message);
	reply_free(&r);
	return rc;
}

static void conns_close(struct conn *c, int n)
{
	for (int i = 0; i < n; i++)
		conn_close(&c[i]);
}

/*
 * One uid opens one connection more than it may: each of the first ones is
 * served, the last is told busy (naming the per-uid limit) and closed. Root
 * and another uid are still served at once.
 */
static int case_per_uid_connections(void)
{
	enum { UID = 65534, OTHER = 65533, N = PER_UID_CLIENTS + 1 };
	static struct conn c[N];
	char want[128];
	struct reply r;
	int opened, rc = 0;

	opened = conn_open_as(UID, c, N);
	if (opened < N) {
		conns_close(c, opened);
		return -1;
	}
	for (int i = 0; rc == 0 && i < N; i++) {
		if (ask(&c[i], "{\"id\":1,\"op\":\"events\"}\n", &r) < 0) {
			rc = failf("connection %d of uid %d: %s", i + 1, UID, why);
			break;
		}
		if (i < PER_UID_CLIENTS && !r.ok)
			rc = failf("connection %d of uid %d (limit %d) refused: %s: %s", i + 1, UID,
				   PER_UID_CLIENTS, r.code, r.message);
		if (i == PER_UID_CLIENTS) {
			snprintf(want, sizeof(want), "uid %d has %d connections open", UID,
				 PER_UID_CLIENTS);
			if (r.ok || strcmp(r.code, "busy") != 0 || !strstr(r.message, want))
				rc = failf("connection %d of uid %d (over the limit of %d): %s, "
					   "expected busy \"%s...\"", i + 1, UID, PER_UID_CLIENTS,
					   r.ok ? "served" : r.message, want);
			else if (expect_closed(&c[i], 5000, "the busy line") < 0)
				rc = -1;
		}
		reply_free(&r);
	}
	if (rc == 0)
		rc = root_served_within(1000, "one uid holds all its connections");
	if (rc == 0)
		rc = uid_served(OTHER, "{\"id\":2,\"op\":\"status\"}\n",
				"another uid holds all its connections");
	conns_close(c, opened);
	return rc;
}

/*
 * One uid asks for more event subscriptions than it may: the first ones are
 * granted, the rest told busy (naming the per-uid limit) on a connection
 * that goes on serving. Root still gets status at once and may subscribe;
 * another uid may subscribe; a subscription the uid closes is its again.
 */
static int case_per_uid_subscriptions(void)
{
	enum { UID = 65532, OTHER = 65531, N = 20 };
	static const char follow[] = "{\"id\":\"f\",\"op\":\"events\",\"args\":{\"follow\":true}}\n";
	static struct conn c[N];
	double deadline;
	struct reply r;
	struct conn k;
	int opened, rc = 0, granted = 0;

	opened = conn_open_as(UID, c, N);
	if (opened < N) {
		conns_close(c, opened);
		return -1;
	}
	for (int i = 0; rc == 0 && i < N; i++) {
		if (ask(&c[i], follow, &r) < 0) {
			rc = failf("subscription %d of uid %d: %s", i + 1, UID, why);
			break;
		}
		if (r.ok) {
			granted++;
		} else if (strcmp(r.code, "busy") != 0 ||
			   !strstr(r.message, "event subscriptions open, the most one uid may have")) {
			rc = failf("subscription %d of uid %d refused with %s: %s, expected busy "
				   "naming the per-uid limit", i + 1, UID, r.code, r.message);
		} else if (!id_is(r.id, "\"f\"")) {
			rc = failf("the refused subscription's reply has another id");
		}
		reply_free(&r);
		/* a refused subscription costs the request, not the connection */
		if (rc == 0 && i >= PER_UID_SUBS) {
			if (ask(&c[i], "{\"id\":\"after\",\"op\":\"events\"}\n", &r) < 0)
				rc = failf("after a refused subscription, the connection: %s", why);
			else if (!r.ok)
				rc = failf("after a refused subscription, events refused: %s", r.code);
			reply_free(&r);
		}
	}
	if (rc == 0 && granted != PER_UID_SUBS)
		rc = failf("uid %d got %d of %d subscriptions; the limit is %d", UID, granted, N,
			   PER_UID_SUBS);
	if (rc == 0)
		rc = root_served_within(1000, "one uid holds all its subscriptions");
	if (rc == 0 && conn_open(&k) == 0) {
		if (ask(&k, follow, &r) < 0 || !r.ok)
			rc = failf("root's subscription refused: %s", r.ok ? why : r.message);
		reply_free(&r);
		conn_close(&k);
	}
	if (rc == 0)
		rc = uid_served(OTHER, follow, "one uid holds all its subscriptions");
	/* uid gives one back: a new one is granted once the daemon has seen the close */
	conn_close(&c[0]);
	deadline = now_ms() + 3000;
	while (rc == 0) {
		if (conn_open_as(UID, &k, 1) != 1) {
			rc = -1;
			break;
		}
		if (ask(&k, follow, &r) < 0) {
			rc = -1;
		} else if (r.ok) {
			reply_free(&r);
			conn_close(&k);
			break;
		} else if (now_ms() > deadline) {
			rc = failf("uid %d closed a subscription, and 3 s later a new one is still "
				   "refused: %s", UID, r.message);
		}
		reply_free(&r);
		conn_close(&k);
		sleep_ms(50);
	}
	conns_close(c, opened);
	return rc;
}

/*
 * Unprivileged uids fill their share of the slots (all but RESERVED): one
 * more of them is told busy, naming the reserve, while root is served at
 * once. Each uid stays under its own limit.
 */
static int case_reserve_for_root(void)
{
	enum { FIRST = 65530, UIDS = 8, EACH = 30, SHARE = MAX_CLIENTS - RESERVED };
	static struct conn c[UIDS * EACH];
	struct reply r;
	int opened = 0, served = 0, busy = 0, rc = 0;

	for (int u = 0; rc == 0 && u < UIDS; u++) {
		int got = conn_open_as((uid_t)(FIRST - u), c + opened, EACH);

		opened += got;
		if (got < EACH)
			rc = -1;
	}
	for (int i = 0; rc == 0 && i < opened; i++) {
		if (ask(&c[i], "{\"id\":1,\"op\":\"events\"}\n", &r) < 0) {
			rc = failf("connection %d: %s", i + 1, why);
			break;
		}
		if (r.ok)
			served++;
		else if (strcmp(r.code, "busy") == 0 && strstr(r.message, "kept for root"))
			busy++;
		else
			rc = failf("connection %d: %s: %s", i + 1, r.code, r.message);
		reply_free(&r);
	}
	/* a straggler of an earlier case may hold a slot for a moment */
	if (rc == 0 && (served > SHARE || served < SHARE - 4 || served + busy != opened))
		rc = failf("%d unprivileged connections served and %d busy of %d; their share is %d",
			   served, busy, opened, SHARE);
	if (rc == 0) {
		struct conn k;

		/* the share is full: one more unprivileged connection is busy */
		if (served == SHARE && conn_open_as(FIRST - UIDS, &k, 1) == 1) {
			if (ask(&k, "{\"id\":1,\"op\":\"events\"}\n", &r) < 0)
				rc = failf("one more unprivileged connection: %s", why);
			else if (r.ok || strcmp(r.code, "busy") != 0 ||
				 !strstr(r.message, "kept for root and the admin group"))
				rc = failf("one more unprivileged connection past the share: %s",
					   r.ok ? "served" : r.message);
			reply_free(&r);
			conn_close(&k);
		}
	}
	if (rc == 0)
		rc = root_served_within(1000, "unprivileged uids hold their whole share");
	conns_close(c, opened);
	return rc;
}

/* Reads replies until the line with id "end"; counts the lines before it. */
static int drain_to_end(struct conn *c, size_t *lines)
{
	*lines = 0;
	for (;;) {
		char *line;
		size_t len;
		int got = conn_line(c, 20000, &line, &len);

		if (got <= 0)
			return failf("after %zu replies, %s", *lines,
				     got == 0 ? "the daemon closed the connection" : why);
		if (strstr(line, "\"id\":\"end\"")) {
			free(line);
			return 0;
		}
		free(line);
		(*lines)++;
	}
}

/*
 * One uid's three clients each leave ~13 MB of replies unread: each under
 * the per-client 16 MiB, together over the per-uid 32 MiB. Exactly one is
 * closed (the one whose reply passed the bound); the other two get every
 * reply they asked for. Root is served meanwhile.
 */
static int case_per_uid_unread_memory(void)
{
	enum { UID = 65521, N = 3, LINES = 125000 };
	static struct conn c[N];
	size_t got;
	char *batch;
	int opened, closed = 0, rc = 0;

	opened = conn_open_as(UID, c, N);
	if (opened < N) {
		conns_close(c, opened);
		return -1;
	}
	batch = xmalloc(LINES * 2);
	for (size_t i = 0; i < LINES * 2; i += 2) {
		batch[i] = 'x';
		batch[i + 1] = '\n';
	}
	for (int i = 0; rc == 0 && i < N; i++) {
		/* a closed one refuses the rest: that is the outcome looked for */
		(void)send_all(&c[i], batch, LINES * 2);
		(void)send(c[i].fd, "{\"id\":\"end\",\"op\":\"events\"}\n", 28, MSG_NOSIGNAL);
	}
	free(batch);
	why[0] = '\0';
	if (rc == 0)
		rc = root_served_within(2000, "one uid leaves ~39 MB of replies unread");
	for (int i = 0; rc == 0 && i < N; i++) {
		if (drain_to_end(&c[i], &got) == 0) {
			if (got != LINES)
				rc = failf("client %d got %zu of %d replies", i + 1, got, LINES);
			continue;
		}
		closed++;
		if (got >= LINES)
			rc = failf("client %d was closed after all its replies", i + 1);
	}
	if (rc == 0 && closed != 1)
		rc = failf("%d of %d clients of one uid were closed with ~%d MB of replies each "
			   "unread (per client %u MiB, per uid %u MiB): expected exactly one", closed,
			   N, LINES * 107 / 1000000, 16, PER_UID_OUT >> 20);
	conns_close(c, opened);
	return rc;
}

/*
 * --hold N [--uid U]: opens N connections (as U), checks each is served,
 * prints "held N" and keeps them until killed. For tests that need the
 * daemon's slots full while something else runs.
 */
static int hold(int n, long uid)
{
	struct conn *c = calloc((size_t)n, sizeof(*c));
	struct reply r;
	int opened;

	if (!c)
		abort();
	if (uid >= 0) {
		opened = conn_open_as((uid_t)uid, c, n);
	} else {
		for (opened = 0; opened < n && conn_open(&c[opened]) == 0; opened++)
			;
	}
	if (opened < n) {
		fprintf(stderr, "vfiod-hostile: --hold: %d of %d connections: %s\n", opened, n, why);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (ask(&c[i], "{\"id\":1,\"op\":\"events\"}\n", &r) < 0 || !r.ok) {
			fprintf(stderr, "vfiod-hostile: --hold: connection %d not served: %s\n", i + 1,
				r.ok || !r.root ? why : r.message);
			return 1;
		}
		reply_free(&r);
	}
	printf("held %d\n", n);
	fflush(stdout);
	for (;;)
		pause();
}

/* ---- the list of cases ----------------------------------------------- */

struct hcase {
	const char *name;
	int (*run)(void);
	const struct simple *simple;
};

static struct hcase *cases;
static size_t n_cases;

static void add(const char *name, int (*run)(void), const struct simple *s)
{
	cases = realloc(cases, (n_cases + 1) * sizeof(*cases));
	if (!cases)
		abort();
	cases[n_cases++] = (struct hcase){ name, run, s };
}

static void build_cases(void)
{
	for (size_t i = 0; i < sizeof(simple_cases) / sizeof(simple_cases[0]); i++)
		add(simple_cases[i].name, NULL, &simple_cases[i]);
	add("show-short-bdf", case_short_bdf, NULL);
	add("assign-pid-no-such-process", case_assign_pid_gone, NULL);
	add("nesting-8-levels-allowed", case_nesting_8_ok, NULL);
	add("nesting-9-levels", case_nesting_9, NULL);
	add("nesting-1000-levels", case_nesting_1000, NULL);
	add("line-70KiB-no-newline", case_line_70k_no_newline, NULL);
	add("line-70KiB-with-newline", case_line_70k_newline, NULL);
	add("line-64KiB-exactly", case_line_64k_exact, NULL);
	add("line-64KiB-plus-1", case_line_64k_plus_1, NULL);
	add("id-128-bytes", case_id_128, NULL);
	add("pipelined-1000-one-write", case_pipelined_1000, NULL);
	add("one-byte-writes", case_one_byte_writes, NULL);
	add("connect-send-nothing-close", case_connect_nothing_close, NULL);
	add("half-line-then-close", case_half_line_close, NULL);
	add("requests-then-close-before-reading", case_request_close_before_read, NULL);
	add("request-then-shutdown-write", case_request_then_half_close, NULL);
	add("scm-rights-fd-passing", case_scm_rights, NULL);
	add("connections-300-at-once", case_connections_300, NULL);
	add("subscriber-never-reads", case_subscriber_never_reads, NULL);
	add("slow-reader-memory", case_slow_reader_memory, NULL);
	add("unread-replies-over-16MiB", case_unread_replies_16mib, NULL);
	add("per-uid-connections", case_per_uid_connections, NULL);
	add("per-uid-subscriptions", case_per_uid_subscriptions, NULL);
	add("reserve-for-root", case_reserve_for_root, NULL);
	add("per-uid-unread-memory", case_per_uid_unread_memory, NULL);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: vfiod-hostile --socket PATH [--pid PID] [--case NAME]... [--list]\n"
		   "       vfiod-hostile --socket PATH --hold N [--uid UID]\n"
		   "Runs hostile clients against vfiod's control socket; prints ok/FAIL per "
		   "case.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "pid", required_argument, NULL, 'p' },
		{ "case", required_argument, NULL, 'c' },
		{ "list", no_argument, NULL, 'l' },
		{ "hold", required_argument, NULL, 'H' },
		{ "uid", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char **only = NULL;
	size_t n_only = 0;
	bool list = false;
	int opt, failed = 0, ran = 0, base = -1, hold_n = 0;
	long as_uid = -1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock_path = optarg;
			break;
		case 'p':
			daemon_pid = (pid_t)atoi(optarg);
			break;
		case 'c':
			only = realloc(only, (n_only + 1) * sizeof(*only));
			if (!only)
				abort();
			only[n_only++] = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'H':
			hold_n = atoi(optarg);
			break;
		case 'u':
			as_uid = atol(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	build_cases();
	if (list) {
		for (size_t i = 0; i < n_cases; i++)
			puts(cases[i].name);
		return 0;
	}
	if (!sock_path || optind < argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (hold_n > 0)
		return hold(hold_n, as_uid);
	why[0] = '\0';
	if (health() < 0) {
		printf("FAIL start: the daemon does not serve status: %s\n", why);
		return 1;
	}
	if (daemon_pid > 0)
		base = fd_count();
	for (size_t i = 0; i < n_cases; i++) {
		const struct hcase *k = &cases[i];
		int before = daemon_pid > 0 ? fd_count() : -1, rc;
		bool want = n_only == 0;

		for (size_t j = 0; j < n_only; j++)
			want |= strcmp(only[j], k->name) == 0;
		if (!want)
			continue;
		ran++;
		why[0] = '\0';
		if (k->simple)
			rc = one_line(k->simple->data, k->simple->len, k->simple->want_id,
				      k->simple->want_code);
		else
			rc = k->run();
		if (rc > 0) {
			printf("skip %s: needs --pid\n", k->name);
			continue;
		}
		if (rc < 0) {
			printf("FAIL %s: %s\n", k->name, why);
			failed++;
		}
		why[0] = '\0';
		if (health() < 0) {
			printf("FAIL %s: afterwards the daemon does not serve status: %s\n", k->name,
			       why);
			if (rc == 0)
				failed++;
			if (daemon_pid > 0 && kill(daemon_pid, 0) < 0) {
				printf("FAIL the daemon died: the cases after %s not run\n", k->name);
				return 1;
			}
			/* a hung daemon would make every later case wait out its timeouts */
			sleep_ms(5000);
			why[0] = '\0';
			if (health() < 0) {
				printf("FAIL the daemon stopped serving (%s): the cases after %s not "
				       "run\n", why, k->name);
				return 1;
			}
			continue;
		}
		if (before >= 0 && fds_back_to(before, 3000) < 0) {
			printf("FAIL %s: fd leak: %s\n", k->name, why);
			if (rc == 0)
				failed++;
			continue;
		}
		if (rc == 0)
			printf("ok %s\n", k->name);
	}
	if (base >= 0 && n_only == 0) {
		ran++;
		if (fds_back_to(base, 3000) < 0) {
			printf("FAIL no-fd-leak-overall: %s\n", why);
			failed++;
		} else {
			printf("ok no-fd-leak-overall (%d fds)\n", fd_count());
		}
	}
	printf("hostile: %d cases, %d failed\n", ran, failed);
	free(only);
	free(cases);
	return failed ? 1 : 0;
}
