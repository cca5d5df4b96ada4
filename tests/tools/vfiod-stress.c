// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfiod-stress: many concurrent clients on vfiod's control socket
 * (docs/protocol.md).
 *
 *   vfiod-stress --socket PATH --clients N --requests M
 *                [--op list|show|status]... [--bdf BDF]... [--allow-error CODE]...
 *                [--pipeline K] [--timeout S] [--verbose]
 *
 * Opens N connections at once (one poll loop over N non-blocking sockets),
 * then each sends M requests, K of them in flight without waiting (default
 * 4): a mix of the ops given (default list and show) and, for show, of the
 * BDFs given (default: every BDF of a first `list`). With one client and
 * --pipeline 1 the latencies are those of sequential round trips, with no
 * process start in them (what scenario-vm.sh compares). Ids are unique across
 * all connections, integers and strings in turn. Every reply is checked:
 * strict UTF-8, one strict JSON object, the id of its request in request
 * order, ok:true (or an error whose code was given with --allow-error), a
 * list result an array of devices, a show result the device asked for, a
 * status result an object with the daemon's pid.
 *
 * Prints one line:
 *   clients N requests TOTAL replies TOTAL errors E lost L max_latency_ms X median_latency_ms Y
 * and exits 0 only when every request got exactly one correct reply.
 * Details of the first errors go to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

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
	struct slot *slots;     /* M of them */
	bool closed;
};

static const char *sock_path;
static int n_clients, n_requests, pipeline = 4, timeout_s = 120;
static bool verbose;
static enum op ops[3];
static int n_ops;
static char **bdfs;
static int n_bdfs;
static const char **allowed;
static int n_allowed;

static long n_replies, n_errors, n_shown;
static double *lat;
static long n_lat;

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
	s = &c->slots[c->answered++];
	lat[n_lat++] = now_ms() - s->t_sent;
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

/* Queues requests until K are in flight. */
static void fill(struct client *c)
{
	while (c->sent < n_requests && c->sent - c->answered < pipeline) {
		struct slot *s = &c->slots[c->sent];
		int j = c->sent;
		char line[160];
		size_t n;

		s->op = ops[(c->idx + j) % n_ops];
		s->bdf = n_bdfs ? (c->idx * 7 + j) % n_bdfs : 0;
		if (j % 2 == 0)
			snprintf(s->id, sizeof(s->id), "%ld", (long)c->idx * n_requests + j + 1);
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
		c->sent++;
	}
}

static void do_write(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			complain(c, "send: %s", strerror(errno));
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
			if (c->answered < n_requests)
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
		"Usage: vfiod-stress --socket PATH --clients N --requests M\n"
		"                    [--op list|show|status]... [--bdf BDF]... [--allow-error CODE]...\n"
		"                    [--pipeline K] [--timeout S] [--verbose]\n");
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'r' },
		{ "op", required_argument, NULL, 'o' },
		{ "bdf", required_argument, NULL, 'b' },
		{ "allow-error", required_argument, NULL, 'a' },
		{ "pipeline", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct client *cl;
	struct pollfd *pfd;
	long total, lost = 0;
	double last_progress, maxl = 0, med = 0;
	int opt, open_n = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock_path = optarg; break;
		case 'c': n_clients = positive(optarg, "--clients"); break;
		case 'r': n_requests = positive(optarg, "--requests"); break;
		case 'p': pipeline = positive(optarg, "--pipeline"); break;
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
	if (!sock_path || !n_clients || !n_requests || optind < argc) {
		usage(stderr);
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
	total = (long)n_clients * n_requests;
	lat = calloc((size_t)total, sizeof(*lat));
	cl = calloc((size_t)n_clients, sizeof(*cl));
	pfd = calloc((size_t)n_clients, sizeof(*pfd));
	if (!lat || !cl || !pfd)
		abort();

	/* all N connections first, then the requests */
	for (int i = 0; i < n_clients; i++) {
		cl[i].idx = i;
		cl[i].slots = calloc((size_t)n_requests, sizeof(*cl[i].slots));
		if (!cl[i].slots)
			abort();
		cl[i].fd = connect_one();
		if (cl[i].fd < 0) {
			complain(&cl[i], "cannot connect: %s", strerror(errno));
			cl[i].closed = true;
			continue;
		}
		fcntl(cl[i].fd, F_SETFL, fcntl(cl[i].fd, F_GETFL) | O_NONBLOCK);
	}
	last_progress = now_ms();
	for (;;) {
		int n = 0;

		open_n = 0;
		for (int i = 0; i < n_clients; i++) {
			struct client *c = &cl[i];

			if (c->closed)
				continue;
			if (c->answered == n_requests) {
				close(c->fd);
				c->fd = -1;
				c->closed = true;
				continue;
			}
			fill(c);
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
		lost += n_requests - cl[i].answered;
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
	}
	printf("clients %d requests %ld replies %ld errors %ld lost %ld max_latency_ms %.1f "
	       "median_latency_ms %.1f\n",
	       n_clients, total, n_replies, n_errors, lost, maxl, med);
	free(lat);
	free(cl);
	free(pfd);
	return n_errors == 0 && lost == 0 && n_replies == total ? 0 : 1;
}
