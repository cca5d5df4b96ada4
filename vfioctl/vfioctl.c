// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfioctl: the operator's client. One subcommand table, one function per
 * verb; --help on stdout, errors on stderr as one line with a non-zero
 * exit; --json prints the daemon's result as it came, for programs.
 *
 * Exit status: 0 success, 1 the daemon refused or failed (the line says
 * the error code and message), 2 usage error, 3 the daemon cannot be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "parse.h"

#ifndef VFIOD_VERSION
#define VFIOD_VERSION "0.1.0"
#endif
#define DEFAULT_SOCKET "/run/vfiod/vfiod.sock"

struct opts {
	const char *socket;
	bool json;
};

struct verb {
	const char *name;
	int (*run)(const struct opts *o, int argc, char **argv);
	const char *args;
	const char *summary;
};

static int cmd_help(const struct opts *o, int argc, char **argv);

/* ---- talking to the daemon ------------------------------------------- */

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vfioctl: socket path too long: %s\n", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		struct stat st;
		struct group *gr;

		/* a refused connect: say whose group would let us in */
		if (err == EACCES && stat(path, &st) == 0) {
			char gid[16];

			gr = getgrgid(st.st_gid);
			snprintf(gid, sizeof(gid), "%u", (unsigned)st.st_gid);
			fprintf(stderr,
				"vfioctl: cannot reach vfiod at %s: permission denied: uid %u is not in the socket's group %s (ask for membership, or run as root)\n",
				path, (unsigned)getuid(), gr ? gr->gr_name : gid);
		} else if (err == EACCES) {
			fprintf(stderr,
				"vfioctl: cannot reach vfiod at %s: permission denied: uid %u may not search the socket's directory\n",
				path, (unsigned)getuid());
		} else {
			fprintf(stderr, "vfioctl: cannot reach vfiod at %s: %s\n", path, strerror(err));
		}
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A connection to the daemon, reading line by line. */
struct conn {
	int fd;
	char *buf;
	size_t len, cap;
};

/* The next line from the daemon, parsed; NULL at EOF or on junk. */
static struct json_object *next_line(struct conn *c)
{
	struct json_object *v;
	char *nl;

	while (!(nl = c->len ? memchr(c->buf, '\n', c->len) : NULL)) {
		ssize_t n;

		if (c->len + 4096 > c->cap) {
			c->cap = c->cap ? c->cap * 2 : 65536;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf)
				abort();
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		c->len += (size_t)n;
	}
	*nl = '\0';
	v = json_tokener_parse(c->buf);
	c->len -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->len);
	return v;
}

/*
 * Writes all of `buf` without SIGPIPE (MSG_NOSIGNAL: a daemon that answers
 * "busy" and closes must not kill us before we read why; stdout keeps the
 * default SIGPIPE, so `vfioctl events --follow | head` still ends).
 */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Connects and sends {"id": 1, "op": op, "args": args}; args is consumed.
 * A send the daemon cut short (it answered and closed: "busy", a request
 * too long) is not an error here: the reply read next says why.
 */
static int send_request(const struct opts *o, struct conn *c, const char *op,
			struct json_object *args)
{
	struct json_object *req = json_object_new_object();
	const char *text;
	char *line;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->fd = connect_to(o->socket);
	json_object_object_add(req, "id", json_object_new_int(1));
	json_object_object_add(req, "op", json_object_new_string(op));
	if (args)
		json_object_object_add(req, "args", args);
	if (c->fd < 0) {
		rc = -1;
	} else {
		text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
		if (asprintf(&line, "%s\n", text) < 0)
			abort();
		if (send_all(c->fd, line, strlen(line)) < 0 && errno != EPIPE &&
		    errno != ECONNRESET) {
			fprintf(stderr, "vfioctl: cannot send to vfiod at %s: %s\n", o->socket,
				strerror(errno));
			rc = -1;
		}
		free(line);
	}
	json_object_put(req);
	return rc;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
}

/*
 * The daemon's message in the words of vfioctl's command line: the
 * protocol's field names (args.vm) become the flags the user typed (--vm).
 * The daemon's messages stay as they are: they are the JSON API's.
 */
static void print_translated(FILE *out, const char *msg)
{
	static const struct {
		const char *field, *flag;
	} map[] = {
		{ "args.cdi = true", "--cdi" },
		{ "args.guest_address", "--guest-address" },
		{ "args.tenant", "--tenant" },
		{ "args.follow", "--follow" },
		{ "args.rescan", "--rescan" },
		{ "args.config", "--config" },
		{ "args.live", "--live" },
		{ "args.bdf", "BDF" },
		{ "args.cdi", "--cdi" },
		{ "args.pid", "--pid" },
		{ "args.vm", "--vm" },
	};

	while (*msg) {
		size_t i, n = 0;

		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
			n = strlen(map[i].field);
			/* whole names only: args.vm, not args.vmx */
			if (strncmp(msg, map[i].field, n) == 0 &&
			    !(msg[n] == '_' || (msg[n] >= 'a' && msg[n] <= 'z')))
				break;
		}
		if (i < sizeof(map) / sizeof(map[0])) {
			fputs(map[i].flag, out);
			msg += n;
		} else {
			fputc(*msg++, out);
		}
	}
}

/*
 * Reads the reply to the request just sent: the result object, or NULL with
 * *rc = 1 (refused: the error is printed) or 3 (no reply).
 */
static struct json_object *read_reply(const struct opts *o, struct conn *c, int *rc)
{
	struct json_object *reply = next_line(c), *ok, *v;

	*rc = 3;
	if (!reply) {
		fprintf(stderr, "vfioctl: vfiod at %s closed the connection without a reply\n",
			o->socket);
		return NULL;
	}
	if (!json_object_object_get_ex(reply, "ok", &ok)) {
		fprintf(stderr, "vfioctl: unreadable reply from vfiod\n");
		json_object_put(reply);
		return NULL;
	}
	*rc = 0;
	if (!json_object_get_boolean(ok)) {
		struct json_object *err, *code, *msg;

		json_object_object_get_ex(reply, "error", &err);
		json_object_object_get_ex(err, "code", &code);
		json_object_object_get_ex(err, "message", &msg);
		fprintf(stderr, "vfioctl: %s: ", json_object_get_string(code));
		print_translated(stderr, json_object_get_string(msg) ? json_object_get_string(msg) : "");
		fputc('\n', stderr);
		*rc = 1;
		v = NULL;
	} else {
		json_object_object_get_ex(reply, "result", &v);
		v = json_object_get(v);
		if (!v)
			v = json_object_new_object();
	}
	json_object_put(reply);
	return v;
}

/* One request, one reply: the result, or NULL with *rc set. */
static struct json_object *call(const struct opts *o, const char *op,
				struct json_object *args, int *rc)
{
	struct json_object *v = NULL;
	struct conn c;

	*rc = 3;
	if (send_request(o, &c, op, args) == 0)
		v = read_reply(o, &c, rc);
	conn_close(&c);
	return v;
}

static void print_json(struct json_object *v)
{
	puts(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

/* ---- verbs ----------------------------------------------------------- */

/*
 * An argument a verb does not take: an unknown option says so by name.
 * Returns 2, the usage error's exit status.
 */
static int unexpected(const char *verb, const char *a, const char *usage)
{
	if (a[0] == '-' && a[1])
		fprintf(stderr, "vfioctl: %s: unknown option %s (usage: vfioctl %s)\n", verb, a,
			usage);
	else
		fprintf(stderr, "vfioctl: %s: unexpected \"%s\" (usage: vfioctl %s)\n", verb, a,
			usage);
	return 2;
}

/* Checks the verb's positional BDF; returns it canonical in `out`. */
static int want_bdf(const char *verb, int argc, char **argv, char out[VF_BDF_LEN])
{
	struct vf_bdf b;
	char usage[64];

	snprintf(usage, sizeof(usage), "%s BDF", verb);
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' || i > 1) {
			unexpected(verb, argv[i], usage);
			return -1;
		}
	if (argc != 2) {
		fprintf(stderr, "vfioctl: usage: vfioctl %s BDF\n", verb);
		return -1;
	}
	if (vf_parse_bdf_loose(argv[1], &b) < 0) {
		fprintf(stderr, "vfioctl: \"%s\" is not a PCI address (dddd:bb:dd.f, bb:dd.f or pci_dddd_bb_dd_f)\n", argv[1]);
		return -1;
	}
	vf_bdf_format(&b, out);
	return 0;
}

static struct json_object *bdf_args(const char *bdf)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "bdf", json_object_new_string(bdf));
	return a;
}

static int cmd_list(const struct opts *o, int argc, char **argv)
{
	struct json_object *v, *args = NULL, *devs;
	bool rescan = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rescan") == 0)
			rescan = true;
		else
			return unexpected("list", argv[i], "list [--rescan]");
	}
	if (rescan) {
		args = json_object_new_object();
		json_object_object_add(args, "rescan", json_object_new_boolean(true));
	}
	v = call(o, "list", args, &rc);
	if (!v)
		return rc;
	/* after a rescan: {"devices": [...], "drift": [...]} */
	devs = json_object_is_type(v, json_type_object) ? json_object_object_get(v, "devices") : v;
	if (!json_object_is_type(devs, json_type_array)) {
		fprintf(stderr, "vfioctl: the daemon's list is not a list of devices\n");
		json_object_put(v);
		return 1;
	}
	if (o->json) {
		print_json(v);
	} else {
		struct json_object *drift = rescan ? json_object_object_get(v, "drift") : NULL;
		size_t nd = drift ? json_object_array_length(drift) : 0;

		if (rescan)
			fprintf(stderr, "rescan: %zu difference%s from the daemon's view%s\n", nd,
				nd == 1 ? "" : "s", nd ? ":" : "");
		for (size_t i = 0; i < nd; i++)
			fprintf(stderr, "  %s\n", json_object_get_string(json_object_array_get_idx(drift, i)));
		printf("%-12s  %-9s  %-5s  %-14s  %-11s  %-10s  %-18s  %s\n", "BDF", "ID", "GROUP",
		       "DRIVER", "STATE", "OWNER", "VERDICT", "NAME");
		for (size_t i = 0; i < json_object_array_length(devs); i++) {
			struct json_object *d = json_object_array_get_idx(devs, i);
			const char *reason = str(d, "reason");
			const char *name = str(d, "device_name");
			const char *owner = str(d, "tenant");

			/* the tenant, or the kind of consumer when none (cdi, pid, vm, holder) */
			if (!strcmp(owner, "-"))
				owner = str(d, "consumer_kind");
			printf("%-12s  %-9s  %-5s  %-14s  %-11s  %-10s  %-18s  %s\n", str(d, "bdf"),
			       str(d, "id"), str(d, "iommu_group"), str(d, "driver"),
			       str(d, "state"), owner, strcmp(reason, "-") ? reason : "assignable",
			       strcmp(name, "-") ? name : str(d, "class_name"));
		}
	}
	json_object_put(v);
	return 0;
}

static int cmd_show(const struct opts *o, int argc, char **argv)
{
	char bdf[VF_BDF_LEN];
	struct json_object *v, *owned;
	int rc;

	if (want_bdf("show", argc, argv, bdf) < 0)
		return 2;
	v = call(o, "show", bdf_args(bdf), &rc);
	if (!v)
		return rc;
	if (o->json) {
		print_json(v);
	} else {
		const char *vn = str(v, "vendor_name"), *dn = str(v, "device_name");
		const char *why = str(v, "message"), *reason = str(v, "reason");
		char cls[32];

		/* the class by name, or by number when the names database lacks it */
		if (strcmp(str(v, "class_name"), "-"))
			snprintf(cls, sizeof(cls), "%s", str(v, "class_name"));
		else
			snprintf(cls, sizeof(cls), "class %s", str(v, "class"));
		printf("%s  %s:%s  %s\n", str(v, "bdf"), str(v, "vendor"), str(v, "device"), cls);
		if (strcmp(vn, "-") && strcmp(dn, "-"))
			printf("  name          %s %s\n", vn, dn);
		else if (strcmp(vn, "-"))
			printf("  name          %s, device %s (%s)\n", vn, str(v, "device"), cls);
		else
			printf("  name          %s:%s (%s)\n", str(v, "vendor"), str(v, "device"), cls);
		if (strcmp(reason, "host-critical") == 0) {
			static const char pre[] = "This device is host-critical: ";

			if (strncmp(why, pre, sizeof(pre) - 1) == 0)
				why += sizeof(pre) - 1;
			printf("  host-critical: yes, %s\n", why);
		}
		printf("  driver        %s\n", str(v, "driver"));
		printf("  iommu group   %s\n", str(v, "iommu_group"));
		printf("  state         %s\n", str(v, "state"));
		if (json_object_object_get_ex(v, "owned", &owned) && owned)
			printf("  original      %s\n", str(owned, "original_driver"));
		printf("  verdict       %s\n", str(v, "reason")[0] == '-' ? "assignable" : str(v, "reason"));
		printf("  %s\n", str(v, "message"));
	}
	json_object_put(v);
	return 0;
}

/* An operation on a unit: prints each device and the state it ends in. */
static int unit_op(const struct opts *o, const char *op, struct json_object *args)
{
	struct json_object *v, *unit;
	int rc;

	v = call(o, op, args, &rc);
	if (!v)
		return rc;
	if (o->json) {
		print_json(v);
	} else {
		struct json_object *pending = NULL;

		json_object_object_get_ex(v, "unit", &unit);
		json_object_object_get_ex(v, "pending", &pending);
		for (size_t i = 0; i < json_object_array_length(unit); i++) {
			const char *b = json_object_get_string(json_object_array_get_idx(unit, i));
			bool p = false;

			for (size_t k = 0; json_object_is_type(pending, json_type_array) &&
					   k < json_object_array_length(pending);
			     k++)
				p |= strcmp(json_object_get_string(
						    json_object_array_get_idx(pending, k)),
					    b) == 0;
			printf("%s %s%s\n", b, str(v, "state"), p ? " (reset pending)" : "");
		}
		/* done, but not all of it went well: say what */
		if (json_object_object_get_ex(v, "warning", NULL))
			fprintf(stderr, "vfioctl: warning: %s\n", str(v, "warning"));
	}
	json_object_put(v);
	return 0;
}

static int move(const struct opts *o, const char *verb, int argc, char **argv)
{
	char bdf[VF_BDF_LEN];

	if (want_bdf(verb, argc, argv, bdf) < 0)
		return 2;
	return unit_op(o, verb, bdf_args(bdf));
}

static int cmd_bind(const struct opts *o, int argc, char **argv)
{
	return move(o, "bind", argc, argv);
}

static int cmd_return(const struct opts *o, int argc, char **argv)
{
	return move(o, "return", argc, argv);
}

static int cmd_release(const struct opts *o, int argc, char **argv)
{
	return move(o, "release", argc, argv);
}

static int cmd_quarantine(const struct opts *o, int argc, char **argv)
{
	return move(o, "quarantine", argc, argv);
}

static int cmd_unquarantine(const struct opts *o, int argc, char **argv)
{
	return move(o, "unquarantine", argc, argv);
}

#define ASSIGN_USAGE \
	"vfioctl assign BDF --cdi|--vm DOMAIN [--live] [--config] [--guest-address BDF]|--pid PID [--tenant T]"

/* assign BDF (--cdi | --vm DOMAIN [--live] [--config] [--guest-address BDF] | --pid PID) [--tenant T] */
static int cmd_assign(const struct opts *o, int argc, char **argv)
{
	struct json_object *args = json_object_new_object();
	char bdf[VF_BDF_LEN] = "";
	struct vf_bdf b;
	int consumers = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		/* the word after a flag that takes one; a flag there is a missing value */
		const char *val = i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 ? argv[i + 1] : NULL;
		const char *needs = strcmp(a, "--vm") == 0		? "a domain name"
				    : strcmp(a, "--tenant") == 0	? "a tenant name"
				    : strcmp(a, "--pid") == 0		? "a process id"
				    : strcmp(a, "--guest-address") == 0 ? "a PCI address"
									: NULL;

		if (needs && !val) {
			fprintf(stderr, "vfioctl: assign: %s needs %s (usage: " ASSIGN_USAGE ")\n", a,
				needs);
			json_object_put(args);
			return 2;
		}
		if (strcmp(a, "--cdi") == 0) {
			json_object_object_add(args, "cdi", json_object_new_boolean(1));
			consumers++;
		} else if (strcmp(a, "--tenant") == 0 || strcmp(a, "--vm") == 0) {
			json_object_object_add(args, a + 2, json_object_new_string(argv[++i]));
			consumers += strcmp(a, "--vm") == 0;
		} else if (strcmp(a, "--live") == 0 || strcmp(a, "--config") == 0) {
			json_object_object_add(args, a + 2, json_object_new_boolean(1));
		} else if (strcmp(a, "--guest-address") == 0) {
			json_object_object_add(args, "guest_address", json_object_new_string(argv[++i]));
		} else if (strcmp(a, "--pid") == 0) {
			uint64_t pid;

			if (vf_parse_u64(argv[++i], 10, INT32_MAX, &pid) < 0 || pid == 0) {
				fprintf(stderr, "vfioctl: --pid: not a process id: %s\n", argv[i]);
				json_object_put(args);
				return 2;
			}
			json_object_object_add(args, "pid", json_object_new_int64((int64_t)pid));
			consumers++;
		} else if (!bdf[0] && vf_parse_bdf_loose(a, &b) == 0) {
			vf_bdf_format(&b, bdf);
		} else {
			json_object_put(args);
			return unexpected("assign", a, ASSIGN_USAGE + strlen("vfioctl "));
		}
	}
	if (!bdf[0] || consumers != 1) {
		fprintf(stderr, "vfioctl: usage: " ASSIGN_USAGE "\n");
		json_object_put(args);
		return 2;
	}
	json_object_object_add(args, "bdf", json_object_new_string(bdf));
	return unit_op(o, "assign", args);
}

static int cmd_status(const struct opts *o, int argc, char **argv)
{
	struct json_object *v, *owned, *lv;
	int rc;

	if (argc != 1)
		return unexpected("status", argv[1], "status");
	v = call(o, "status", NULL, &rc);
	if (!v)
		return rc;
	if (o->json) {
		print_json(v);
	} else {
		json_object_object_get_ex(v, "owned", &owned);
		printf("vfiod %s, pid %s, up %s s\n", str(v, "version"), str(v, "pid"),
		       str(v, "uptime_s"));
		printf("  iommu     %s\n", str(v, "iommu"));
		printf("  vfio      %s\n", str(v, "vfio"));
		printf("  devices   %s\n", str(v, "devices"));
		printf("  owned     pooled %s, assigned %s, quarantined %s\n", str(owned, "pooled"),
		       str(owned, "assigned"), str(owned, "quarantined"));
		printf("  state     %s\n", str(v, "state_dir"));
		if (json_object_object_get_ex(v, "view", &lv))
			printf("  view      kept by %s; drift found %s time(s), %s rescan(s)\n",
			       str(lv, "watching"), str(lv, "drift"), str(lv, "rescans"));
		if (json_object_object_get_ex(v, "libvirt", &lv))
			printf("  libvirt   %s (%s)\n", str(lv, "uri"),
			       json_object_get_boolean(json_object_object_get(lv, "connected"))
				       ? "connected"
				       : "NOT connected: retrying");
		if (json_object_object_get_ex(v, "containment_levers", &lv))
			printf("  levers    %s\n", str(lv, "sentence"));
	}
	json_object_put(v);
	return 0;
}

static void print_event(const struct opts *o, struct json_object *ev)
{
	if (o->json)
		puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		printf("%s  %-11s %-12s  %s\n", str(ev, "time"), str(ev, "type"), str(ev, "bdf"),
		       str(ev, "message"));
	fflush(stdout);
}

static int cmd_events(const struct opts *o, int argc, char **argv)
{
	struct json_object *args = json_object_new_object(), *v, *list, *line, *ev;
	bool follow = false;
	struct conn c;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--follow") == 0) {
			follow = true;
		} else {
			json_object_put(args);
			return unexpected("events", argv[i], "events [--follow]");
		}
	}
	json_object_object_add(args, "follow", json_object_new_boolean(follow));
	if (send_request(o, &c, "events", args) < 0) {
		conn_close(&c);
		return 3;
	}
	v = read_reply(o, &c, &rc);
	if (!v) {
		conn_close(&c);
		return rc;
	}
	json_object_object_get_ex(v, "events", &list);
	for (size_t i = 0; i < json_object_array_length(list); i++)
		print_event(o, json_object_array_get_idx(list, i));
	json_object_put(v);
	while (follow && (line = next_line(&c))) {
		if (json_object_object_get_ex(line, "event", &ev))
			print_event(o, ev);
		json_object_put(line);
	}
	conn_close(&c);
	if (follow) {
		fprintf(stderr, "vfioctl: vfiod at %s closed the event stream\n", o->socket);
		return 3;
	}
	return 0;
}

static int cmd_version(const struct opts *o, int argc, char **argv)
{
	(void)o;
	if (argc != 1)
		return unexpected("version", argv[1], "version");
	printf("vfioctl %s\n", VFIOD_VERSION);
	return 0;
}

static const struct verb verbs[] = {
	{ "list", cmd_list, "[--rescan]", "every PCI device: group, driver, state, verdict" },
	{ "show", cmd_show, "BDF", "one device in full: facts, verdict, ownership" },
	{ "bind", cmd_bind, "BDF", "move a device (and its companions) to vfio-pci" },
	{ "return", cmd_return, "BDF", "give a pooled device back to its host driver" },
	{ "assign", cmd_assign,
	  "BDF --vm DOMAIN [--live] [--config] [--guest-address BDF]|--cdi|--pid PID [--tenant T]",
	  "hand a pooled device to a libvirt VM, or a container (CDI spec, or live by PID)" },
	{ "release", cmd_release, "BDF", "take an assigned device back into the pool (reset)" },
	{ "quarantine", cmd_quarantine, "BDF", "silence a device and hold it for an operator" },
	{ "unquarantine", cmd_unquarantine, "BDF", "reset a quarantined device, back to the pool" },
	{ "status", cmd_status, "", "the daemon: version, uptime, devices owned" },
	{ "events", cmd_events, "[--follow]", "recent events; --follow keeps streaming them" },
	{ "version", cmd_version, "", "print the version" },
	{ "help", cmd_help, "", "this text" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: vfioctl [--socket PATH] [--json] VERB [ARGS]\n\n"
		     "Options:\n"
		     "  --socket PATH  vfiod's control socket (default " DEFAULT_SOCKET ")\n"
		     "  --json         print results as JSON\n\nVerbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-12s %-32s %s\n", verbs[i].name, verbs[i].args, verbs[i].summary);
	fprintf(out, "\nExit status: 0 success, 1 refused or failed, 2 usage, "
		     "3 vfiod unreachable.\n");
}

static int cmd_help(const struct opts *o, int argc, char **argv)
{
	(void)o;
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct opts o = { .socket = DEFAULT_SOCKET };
	int c;

	/* options stop at the verb; verbs take their own arguments */
	while ((c = getopt_long(argc, argv, "+hV", lopts, NULL)) != -1) {
		switch (c) {
		case 's': o.socket = optarg; break;
		case 'j': o.json = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vfioctl %s\n", VFIOD_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[optind], verbs[i].name) != 0)
			continue;
		/* per-verb --help and trailing --json */
		for (int k = optind + 1; k < argc; k++) {
			if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
				printf("Usage: vfioctl %s %s\n  %s\n", verbs[i].name, verbs[i].args,
				       verbs[i].summary);
				return 0;
			}
			if (strcmp(argv[k], "--json") == 0) {
				o.json = true;
				memmove(&argv[k], &argv[k + 1], (size_t)(argc - k) * sizeof(*argv));
				argc--;
				k--;
			}
		}
		return verbs[i].run(&o, argc - optind, argv + optind);
	}
	fprintf(stderr, "vfioctl: unknown verb \"%s\" (try vfioctl --help)\n", argv[optind]);
	return 2;
}
