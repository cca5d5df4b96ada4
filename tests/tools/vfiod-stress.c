// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfiod-stress: many concurrent clients on vfiod's control socket
 * (docs/protocol.md).
 *
 *   vfiod-stress --socket PATH --clients N (--requests M | --duration SEC [--requests M])
 *                [--op list|show|status]... [--bdf BDF]... [--allow-error CODE]...
 *                [--pipeline K] [--uids FIRST-LAST] [--check-every K] [--timeout S]
 *                [--verbose]
 *
 * Opens N connections at once (one poll loop over N non-blocking sockets),
 * then each sends M requests, K of them in flight without waiting (default
 * 4; 1 sends the next request only once the last is answered): a mix of the
 * ops given (default list and show) and, for show, of the BDFs given
 * (default: every BDF of a first `list`). With one client and --pipeline 1
 * the latencies are those of sequential round trips, with no process start
 * in them (what scenario-vm.sh compares). With --duration, each connection
 * keeps sending until SEC seconds have passed since the first request (or
 * it has sent M, when --requests is given too), then waits for the replies
 * still due. Ids are unique across all connections, integers and strings in
 * turn. Every reply is checked: strict UTF-8, one strict JSON object, the id
 * of its request in request order, ok:true (or an error whose code was given
 * with --allow-error), a list result an array of devices, a show result the
 * device asked for, a status result an object with the daemon's pid. With
 * --duration, a connection the daemon closes, or one that cannot be opened,
 * counts as an error.
 *
 * --check-every K: every K-th reply is checked in full as above; the others
 * only for their frame: a line that starts with {"id":<its request's id>,
 * "ok":true,"result": and ends with } (one that does not is checked in
 * full, errors included). A 2,000-device list is ~700 kB of
 * JSON whose full check costs this client milliseconds, more than the
 * daemon's answer: a load generator that checks every such reply measures
 * itself.
 *
 * --uids FIRST-LAST (root only): connection i is opened as uid
 * FIRST + i % (LAST - FIRST + 1), gid nogroup (65534), no other groups, by a
 * child that takes those ids, connects (SO_PEERCRED is taken at connect)
 * and hands the socket back; everything else runs as the caller. The
 * socket must let group nogroup in. Spreads N connections over unprivileged
 * uids, each under the daemon's per-uid cap.
 *
 * Latency is per request: from the moment it is queued for sending (sent at
 * once unless the socket is full) to the moment its reply line is read,
 * before the reply is checked. With K > 1 it includes the wait behind the
 * same connection's earlier requests.
 *
 * Prints one line:
 *   clients N requests TOTAL replies TOTAL errors E lost L max_latency_ms X median_latency_ms Y
 *   p50_ms P p99_ms Q rps R cpu_s C
 * (one line; TOTAL requests is N x M, or with --duration the requests sent;
 * p50 and p99 are nearest-rank percentiles of the latencies; rps is replies
 * per second from the first request sent to the last reply read; cpu_s is
 * this process's own CPU time, user and system, over the whole run, to see
 * whether the client rather than the daemon was the bottleneck) and exits 0
 * only when every request got exactly one correct reply. Details of the
 * first errors go to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "connect-as.h"

enum op { OP_LIST, OP_SHOW, OP_STATUS };

struct slot {                   /* one request of a connection */
	char id[40];            /* as JSON text */
	enum op op;
	int bdf;                /* index in bdfs, for show */
	double t_sent;
};

struct client {
	int fd;
	int idx;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off, out_cap;
	int sent, answered;
	struct slot *slots;     /* K of them: request j is slots[j % K] */
	bool closed;
};

static const char *sock_path;
static int n_clients, n_requests, pipeline = 4, timeout_s = 120;
static int duration_s;          /* 0: fixed count of requests */
static long uid_first = -1, uid_last = -1;
static double t_deadline, t_first_send, t_last_reply;
static long next_id;
static bool verbose;
static enum op ops[3];
static int n_ops;
static char **bdfs;
static int n_bdfs;
static const char **allowed;
static int n_allowed;

static long n_replies, n_errors, n_shown;
static int check_every = 1;
static double *lat;
static long n_lat, cap_lat;

static void complain(const struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void complain(const struct client *c, const char *fmt, ...)
{
	va_list ap;

	if (n_shown++ >= 20 && !verbose)
		return;
	fprintf(stderr, "vfiod-stress: client %d: ", c ? c->idx : -1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

static bool utf8_ok(const char *str, size_t n)
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
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			k = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static struct json_object *parse_strict(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  (size_t)tok->char_offset != len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static int connect_one(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { timeout_s, 0 };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* blocking: waits while the daemon's backlog is full, at most --timeout */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The canonical form of a BDF as given (short ones are in domain 0). */
static void canonical(const char *bdf, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s", strlen(bdf) == 7 ? "0000:" : "", bdf);
}

/* BDFs from one `list` on a connection of its own. */
static int first_list(void)
{
	const char *req = "{\"id\":\"first-list\",\"op\":\"list\"}\n";
	struct json_object *o, *res, *ok, *b;
	char *buf = NULL, *nl = NULL;
	size_t len = 0, cap = 0;
	int fd = connect_one();

	if (fd < 0 || write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "vfiod-stress: cannot send list to %s: %s\n", sock_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (!nl) {
		ssize_t n;

		if (cap - len < 65536) {
			cap = cap * 2 + 65536;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n <= 0) {
			fprintf(stderr, "vfiod-stress: no reply to the first list\n");
			free(buf);
			close(fd);
			return -1;
		}
		len += (size_t)n;
		nl = memchr(buf, '\n', len);
	}
	close(fd);
	o = parse_strict(buf, (size_t)(nl - buf));
	if (!o || !json_object_object_get_ex(o, "ok", &ok) || !json_object_get_boolean(ok) ||
	    !json_object_object_get_ex(o, "result", &res) ||
	    !json_object_is_type(res, json_type_array)) {
		fprintf(stderr, "vfiod-stress: bad reply to the first list: %.200s\n", buf);
		json_object_put(o);
		free(buf);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(res); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(res, i), "bdf", &b)) {
			bdfs = xrealloc(bdfs, (size_t)(n_bdfs + 1) * sizeof(*bdfs));
			bdfs[n_bdfs++] = strdup(json_object_get_string(b));
		}
	json_object_put(o);
	free(buf);
	return 0;
}

static bool allowed_code(const char *code)
{
	for (int i = 0; i < n_allowed; i++)
		if (strcmp(allowed[i], code) == 0)
			return true;
	return false;
}

/* Checks one reply line against the oldest request in flight. */
static void check_reply(struct client *c, const char *line, size_t len)
{
	struct json_object *o = NULL, *id, *ok, *res, *err, *code, *b;
	struct slot *s;
	bool has_id = false, bad = false;
	int n_keys = 0;

	n_replies++;
	if (c->answered >= c->sent) {
		n_errors++;
		complain(c, "a reply with no request in flight: %.200s", line);
		return;
	}
	s = &c->slots[c->answered++ % pipeline];
	t_last_reply = now_ms();
	if (n_lat == cap_lat) {
		cap_lat = cap_lat * 2 + 4096;
		lat = xrealloc(lat, (size_t)cap_lat * sizeof(*lat));
	}
	lat[n_lat++] = t_last_reply - s->t_sent;
	if (check_every > 1 && n_replies % check_every != 0) {
		char head[96];
		int hl = snprintf(head, sizeof(head), "{\"id\":%s,\"ok\":true,\"result\":", s->id);

		/* framed as an ok reply: done; anything else gets the full check */
		if (hl > 0 && (size_t)hl < sizeof(head) && len >= (size_t)hl + 2 &&
		    memcmp(line, head, (size_t)hl) == 0 && line[len - 1] == '}')
			return;
	}
	if (!utf8_ok(line, len)) {
		complain(c, "reply to %s is not valid UTF-8: %.200s", s->id, line);
		bad = true;
		goto out;
	}
	o = parse_strict(line, len);
	if (!o || !json_object_is_type(o, json_type_object)) {
		complain(c, "reply to %s is not a JSON object: %.200s", s->id, line);
		bad = true;
		goto out;
	}
	json_object_object_foreach(o, key, val) {
		(void)val;
		n_keys++;
		has_id |= strcmp(key, "id") == 0;
	}
	json_object_object_get_ex(o, "id", &id);
	if (!has_id || strcmp(json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN), s->id)) {
		complain(c, "reply %d carries id %s, its request %s: %.200s", c->answered,
			 has_id ? json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN) : "(none)",
			 s->id, line);
		bad = true;
		goto out;
	}
	if (!json_object_object_get_ex(o, "ok", &ok) || !json_object_is_type(ok, json_type_boolean) ||
	    n_keys != 3) {
		complain(c, "reply to %s has not exactly id, ok, result|error: %.200s", s->id, line);
		bad = true;
		goto out;
	}
	if (!json_object_get_boolean(ok)) {
		if (!json_object_object_get_ex(o, "error", &err) ||
		    !json_object_object_get_ex(err, "code", &code) ||
		    !json_object_is_type(code, json_type_string) ||
		    !allowed_code(json_object_get_string(code))) {
			complain(c, "request %s refused: %.200s", s->id, line);
			bad = true;
		}
		goto out;
	}
	if (!json_object_object_get_ex(o, "result", &res)) {
		complain(c, "ok reply to %s without result: %.200s", s->id, line);
		bad = true;
	} else if (s->op == OP_STATUS) {
		if (!json_object_is_type(res, json_type_object) ||
		    !json_object_object_get_ex(res, "pid", &b)) {
			complain(c, "status result %s is not the daemon's status", s->id);
			bad = true;
		}
	} else if (s->op == OP_LIST) {
		if (!json_object_is_type(res, json_type_array)) {
			complain(c, "list result %s is not an array", s->id);
			bad = true;
		}
		for (size_t i = 0; !bad && i < json_object_array_length(res); i++)
			if (!json_object_object_get_ex(json_object_array_get_idx(res, i), "bdf", &b) ||
			    !json_object_is_type(b, json_type_string)) {
				complain(c, "list result %s: device %zu without bdf", s->id, i);
				bad = true;
			}
	} else {
		char want[64];

		canonical(bdfs[s->bdf], want, sizeof(want));
		if (!json_object_object_get_ex(res, "bdf", &b) ||
		    strcasecmp(json_object_get_string(b), want) != 0) {
			complain(c, "show %s (%s) answered another device: %.200s", bdfs[s->bdf],
				 s->id, line);
			bad = true;
		}
	}
out:
	if (bad)
		n_errors++;
	json_object_put(o);
}

/* Whether connection c may send one more request (in-flight cap aside). */
static bool may_send(const struct client *c)
{
	if (n_requests && c->sent >= n_requests)
		return false;
	return !duration_s || now_ms() < t_deadline;
}

/* Queues requests until K are in flight. */
static void fill(struct client *c)
{
	while (c->sent - c->answered < pipeline && may_send(c)) {
		struct slot *s = &c->slots[c->sent % pipeline];
		int j = c->sent;
		char line[160];
		size_t n;

		s->op = ops[(c->idx + j) % n_ops];
		s->bdf = n_bdfs ? (c->idx * 7 + j) % n_bdfs : 0;
		if (j % 2 == 0)
			snprintf(s->id, sizeof(s->id), "%ld", ++next_id);
		else
			snprintf(s->id, sizeof(s->id), "\"c%d-r%d\"", c->idx, j);
		if (s->op == OP_LIST || s->op == OP_STATUS)
			n = (size_t)snprintf(line, sizeof(line), "{\"id\":%s,\"op\":\"%s\"}\n", s->id,
					     s->op == OP_LIST ? "list" : "status");
		else
			n = (size_t)snprintf(line, sizeof(line),
					     "{\"id\":%s,\"op\":\"show\",\"args\":{\"bdf\":\"%s\"}}\n",
					     s->id, bdfs[s->bdf]);
		if (c->out_len + n > c->out_cap) {
			c->out_cap = (c->out_len + n) * 2;
			c->out = xrealloc(c->out, c->out_cap);
		}
		memcpy(c->out + c->out_len, line, n);
		c->out_len += n;
		s->t_sent = now_ms();
		if (!t_first_send)
			t_first_send = s->t_sent;
		c->sent++;
	}
}

static bool do_read(struct client *c);

static void do_write(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			complain(c, "send: %s", strerror(errno));
			/* what the daemon said before it closed (a "busy"), if anything */
			if (!do_read(c) && !c->closed && duration_s)
				n_errors++;
			c->closed = true;
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
}

/* Returns true when something was read. */
static bool do_read(struct client *c)
{
	bool progress = false;

	for (;;) {
		ssize_t n;
		char *nl;
		size_t start = 0;

		if (c->in_cap - c->in_len < 65536) {
			c->in_cap = c->in_cap * 2 + 65536;
			c->in = xrealloc(c->in, c->in_cap);
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return progress;
		if (n <= 0) {
			if (duration_s) {
				n_errors++;
				complain(c, "the daemon closed the connection (%s) after %d replies to %d requests",
					 n < 0 ? strerror(errno) : "EOF", c->answered, c->sent);
			} else if (c->answered < n_requests)
				complain(c, "the daemon closed the connection (%s) after %d of %d replies",
					 n < 0 ? strerror(errno) : "EOF", c->answered, n_requests);
			if (c->in_len) {
				n_errors++;
				complain(c, "a partial reply line at close: %.200s", c->in);
			}
			c->closed = true;
			return progress;
		}
		progress = true;
		c->in_len += (size_t)n;
		while ((nl = memchr(c->in + start, '\n', c->in_len - start))) {
			size_t len = (size_t)(nl - (c->in + start));

			*nl = '\0';
			check_reply(c, c->in + start, len);
			start += len + 1;
		}
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vfiod-stress --socket PATH --clients N (--requests M | --duration SEC [--requests M])\n"
		"                    [--op list|show|status]... [--bdf BDF]... [--allow-error CODE]...\n"
		"                    [--pipeline K] [--uids FIRST-LAST] [--check-every K] [--timeout S]\n"
		"                    [--verbose]\n");
}

static int positive(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v <= 0 || v > 1000000) {
		fprintf(stderr, "vfiod-stress: %s must be a positive number: %s\n", what, s);
		exit(2);
	}
	return (int)v;
}

static int connect_one_ctx(void *ctx)
{
	(void)ctx;
	return connect_one();
}

/*
 * Opens the connections of every client i with i % n_uids == k as uid
 * uid_first + k (connect-as.h). Sets each client's fd, or -1 with a
 * complaint.
 */
static void connect_as_uid(struct client *cl, long k, long n_uids)
{
	uid_t uid = (uid_t)(uid_first + k);
	int n = (int)((n_clients - k + n_uids - 1) / n_uids);
	int *fds = xrealloc(NULL, (size_t)n * sizeof(*fds) * 2), *errs = fds + n;
	long i;
	int j;

	if (connect_as(uid, connect_one_ctx, NULL, n, false, fds, errs) < 0) {
		complain(NULL, "cannot start a child to connect as uid %u: %s", (unsigned)uid,
			 strerror(errno));
		for (i = k; i < n_clients; i += n_uids)
			cl[i].fd = -1;
		free(fds);
		return;
	}
	for (i = k, j = 0; i < n_clients; i += n_uids, j++) {
		cl[i].fd = fds[j];
		if (errs[j] == ECHILD)
			complain(&cl[i], "uid %u: the connecting child stopped", (unsigned)uid);
		else if (errs[j])
			complain(&cl[i], "cannot connect as uid %u: %s%s", (unsigned)uid,
				 strerror(errs[j]),
				 errs[j] == EACCES ? " (the socket must let group nogroup in)" : "");
	}
	free(fds);
}

/* --uids FIRST-LAST */
static void parse_uids(const char *s)
{
	char *end, *end2;
	long a = strtol(s, &end, 10), b;

	if (*end != '-' || end == s)
		goto bad;
	b = strtol(end + 1, &end2, 10);
	if (*end2 || end2 == end + 1 || a < 1 || b < a || b >= 65535)
		goto bad;
	uid_first = a;
	uid_last = b;
	return;
bad:
	fprintf(stderr, "vfiod-stress: --uids is FIRST-LAST, unprivileged uids (1..65534): %s\n", s);
	exit(2);
}

/* The nearest-rank p-th percentile of the n sorted values v. */
static double percentile(const double *v, long n, double p)
{
	long rank = (long)((p / 100.0) * (double)n + 0.999999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "op", required_argument, NULL, 'o' },
		{ "bdf", required_argument, NULL, 'b' },
		{ "allow-error", required_argument, NULL, 'a' },
		{ "pipeline", required_argument, NULL, 'p' },
		{ "uids", required_argument, NULL, 'u' },
		{ "check-every", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct client *cl;
	struct pollfd *pfd;
	struct rusage ru;
	long total = 0, lost = 0;
	double last_progress, maxl = 0, med = 0, p50 = 0, p99 = 0, rps = 0, cpu;
	int opt, open_n = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock_path = optarg; break;
		case 'c': n_clients = positive(optarg, "--clients"); break;
		case 'r': n_requests = positive(optarg, "--requests"); break;
		case 'd': duration_s = positive(optarg, "--duration"); break;
		case 'p': pipeline = positive(optarg, "--pipeline"); break;
		case 'u': parse_uids(optarg); break;
		case 'k': check_every = positive(optarg, "--check-every"); break;
		case 't': timeout_s = positive(optarg, "--timeout"); break;
		case 'v': verbose = true; break;
		case 'o':
			if (n_ops == 3 || (strcmp(optarg, "list") && strcmp(optarg, "show") &&
					   strcmp(optarg, "status"))) {
				fprintf(stderr, "vfiod-stress: --op is list, show or status (at most each once)\n");
				return 2;
			}
			ops[n_ops++] = !strcmp(optarg, "list")   ? OP_LIST
				       : !strcmp(optarg, "show") ? OP_SHOW
								 : OP_STATUS;
			break;
		case 'b':
			bdfs = xrealloc(bdfs, (size_t)(n_bdfs + 1) * sizeof(*bdfs));
			bdfs[n_bdfs++] = optarg;
			break;
		case 'a':
			allowed = xrealloc(allowed, (size_t)(n_allowed + 1) * sizeof(*allowed));
			allowed[n_allowed++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!sock_path || !n_clients || (!n_requests && !duration_s) || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (uid_first >= 0 && geteuid() != 0) {
		fprintf(stderr, "vfiod-stress: --uids needs root (to connect as other uids)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!n_ops) {
		ops[0] = OP_LIST;
		ops[1] = OP_SHOW;
		n_ops = 2;
	}
	if ((ops[0] == OP_SHOW || (n_ops >= 2 && ops[1] == OP_SHOW) ||
	     (n_ops == 3 && ops[2] == OP_SHOW)) && !n_bdfs) {
		if (first_list() < 0)
			return 1;
		if (!n_bdfs) {
			fprintf(stderr, "vfiod-stress: the daemon lists no device to show\n");
			return 1;
		}
	}
	cl = calloc((size_t)n_clients, sizeof(*cl));
	pfd = calloc((size_t)n_clients, sizeof(*pfd));
	if (!cl || !pfd)
		abort();

	/* all N connections first, then the requests */
	for (int i = 0; i < n_clients; i++)
		cl[i].idx = i;
	if (uid_first >= 0) {
		long n_uids = uid_last - uid_first + 1;

		for (long k = 0; k < n_uids && k < n_clients; k++)
			connect_as_uid(cl, k, n_uids);
	}
	for (int i = 0; i < n_clients; i++) {
		cl[i].slots = calloc((size_t)pipeline, sizeof(*cl[i].slots));
		if (!cl[i].slots)
			abort();
		if (uid_first < 0) {
			cl[i].fd = connect_one();
			if (cl[i].fd < 0)
				complain(&cl[i], "cannot connect: %s", strerror(errno));
		}
		if (cl[i].fd < 0) {
			if (duration_s)
				n_errors++;
			cl[i].closed = true;
			continue;
		}
		fcntl(cl[i].fd, F_SETFL, fcntl(cl[i].fd, F_GETFL) | O_NONBLOCK);
	}
	last_progress = now_ms();
	t_deadline = last_progress + duration_s * 1000.0;
	for (;;) {
		int n = 0;

		open_n = 0;
		for (int i = 0; i < n_clients; i++) {
			struct client *c = &cl[i];

			if (c->closed)
				continue;
			fill(c);
			if (c->answered == c->sent && !may_send(c)) {
				close(c->fd);
				c->fd = -1;
				c->closed = true;
				continue;
			}
			do_write(c);
			if (c->closed)
				continue;
			pfd[n++] = (struct pollfd){ .fd = c->fd,
						    .events = (short)(POLLIN |
								      (c->out_len > c->out_off ? POLLOUT : 0)) };
			open_n++;
		}
		if (!open_n)
			break;
		if (now_ms() - last_progress > timeout_s * 1000.0) {
			complain(NULL, "no reply for %d s with %d connections waiting", timeout_s,
				 open_n);
			break;
		}
		if (poll(pfd, (nfds_t)n, 1000) < 0 && errno != EINTR) {
			perror("vfiod-stress: poll");
			break;
		}
		for (int k = 0, i = 0; k < n; k++) {
			while (cl[i].fd != pfd[k].fd)
				i++;
			if (pfd[k].revents & POLLOUT)
				do_write(&cl[i]);
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR) && do_read(&cl[i]))
				last_progress = now_ms();
		}
	}
	for (int i = 0; i < n_clients; i++) {
		if (duration_s) {
			total += cl[i].sent;
			lost += cl[i].sent - cl[i].answered;
		} else {
			total += n_requests;
			lost += n_requests - cl[i].answered;
		}
		if (cl[i].fd >= 0)
			close(cl[i].fd);
		free(cl[i].in);
		free(cl[i].out);
		free(cl[i].slots);
	}
	if (n_lat) {
		qsort(lat, (size_t)n_lat, sizeof(*lat), cmp_double);
		maxl = lat[n_lat - 1];
		med = n_lat % 2 ? lat[n_lat / 2] : (lat[n_lat / 2 - 1] + lat[n_lat / 2]) / 2;
		p50 = percentile(lat, n_lat, 50);
		p99 = percentile(lat, n_lat, 99);
		if (t_last_reply > t_first_send)
			rps = (double)n_replies / ((t_last_reply - t_first_send) / 1e3);
	}
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("clients %d requests %ld replies %ld errors %ld lost %ld max_latency_ms %.1f "
	       "median_latency_ms %.1f p50_ms %.3f p99_ms %.3f rps %.1f cpu_s %.2f\n",
	       n_clients, total, n_replies, n_errors, lost, maxl, med, p50, p99, rps, cpu);
	free(lat);
	free(cl);
	free(pfd);
	return n_errors == 0 && lost == 0 && n_replies == total ? 0 : 1;
}
