// SPDX-License-Identifier: GPL-2.0-or-later
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "util.h"

struct client {
	int fd;
	struct peer peer;
	char *in;           /* bytes received, not yet a whole line */
	size_t in_len;
	char *out;          /* reply bytes; out[out_off..out_len) not yet written */
	size_t out_len, out_off, out_cap;
	time_t last;
	bool closing;       /* close once `out` is flushed */
	bool subscribed;    /* receives events */
	bool waiting;       /* a deferred reply is due: no request is handled */
	uint64_t id;
};

static time_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int control_listen(struct control *c, const char *path, gid_t group,
		   control_handler handle, void *ctx, struct vf_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->lfd = -1;
	c->handle = handle;
	c->ctx = ctx;
	c->idle_sec = CONTROL_IDLE_SEC;
	if (strlen(path) >= sizeof(sa.sun_path))
		return vf_err_set(e, ENAMETOOLONG, "socket path %s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return vf_err_set(e, errno, "cannot create %s", dir);
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return vf_err_set(e, EEXIST, "%s exists and is not a socket", path);
		unlink(path); /* a stale socket of an earlier run */
	}
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return vf_err_set(e, errno, "socket");
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 || (group != (gid_t)-1 && chown(path, (uid_t)-1, group) < 0) ||
	    listen(c->lfd, 64) < 0) {
		vf_err_set(e, errno, "cannot listen on %s", path);
		close(c->lfd);
		c->lfd = -1;
		return -1;
	}
	c->path = vf_xstrdup(path);
	return 0;
}

static void drop(struct control *c, size_t i)
{
	struct client *cl = c->clients[i];

	close(cl->fd);
	free(cl->in);
	free(cl->out);
	free(cl);
	c->clients[i] = c->clients[--c->n];
}

void control_close(struct control *c)
{
	while (c->n)
		drop(c, c->n - 1);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->path);
	}
	free(c->path);
	c->lfd = -1;
	c->path = NULL;
}

size_t control_pollfds(const struct control *c, struct pollfd *pfd, size_t cap)
{
	size_t n = 0;

	if (cap < c->n + 1)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
	for (size_t i = 0; i < c->n; i++) {
		const struct client *cl = c->clients[i];
		short ev = cl->closing || cl->waiting ? 0 : POLLIN;

		if (cl->out_len > cl->out_off)
			ev |= POLLOUT;
		/* a client awaiting a deferred reply is not polled at all: a
		 * hang-up would otherwise wake the loop until the reply comes */
		pfd[n++] = (struct pollfd){ .fd = cl->waiting ? -1 : cl->fd, .events = ev };
	}
	return n;
}

static void queue(struct client *cl, char *reply)
{
	size_t len = strlen(reply);

	if (cl->out_len - cl->out_off + len > CONTROL_MAX_OUT) {
		cl->closing = true; /* it does not read its replies: let it go */
		cl->out_off = cl->out_len;
		free(reply);
		return;
	}
	/* drop what was sent, then grow geometrically: a reader that keeps
	 * up, however slowly, never makes the buffer grow without bound */
	if (cl->out_off) {
		memmove(cl->out, cl->out + cl->out_off, cl->out_len - cl->out_off);
		cl->out_len -= cl->out_off;
		cl->out_off = 0;
	}
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;

		while (cap < cl->out_len + len)
			cap *= 2;
		cl->out = vf_xreallocarray(cl->out, cap, 1);
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, reply, len);
	cl->out_len += len;
	free(reply);
}

static void accept_one(struct control *c)
{
	struct ucred cred;
	socklen_t cl_len = sizeof(cred);
	struct client *cl;
	int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl_len) < 0) {
		close(fd);
		return;
	}
	if (c->n == CONTROL_MAX_CLIENTS) {
		char *r = proto_reply_error(NULL, "busy", "too many clients; try again later");

		(void)!write(fd, r, strlen(r));
		free(r);
		close(fd);
		return;
	}
	cl = vf_xcalloc(1, sizeof(*cl));
	cl->fd = fd;
	cl->peer = (struct peer){ .uid = cred.uid, .gid = cred.gid, .pid = cred.pid };
	{
		socklen_t glen = sizeof(cl->peer.groups);

		/* more groups than fit: keep none rather than a wrong subset */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, cl->peer.groups, &glen) == 0)
			cl->peer.ngroups = glen / sizeof(gid_t);
	}
	cl->last = mono();
	cl->id = ++c->next_id;
	c->clients[c->n++] = cl;
}

/* Handles every whole line in the input buffer. */
static void handle_lines(struct control *c, struct client *cl)
{
	size_t start = 0;
	char *nl;

	while (!cl->closing && !cl->waiting &&
	       (nl = memchr(cl->in + start, '\n', cl->in_len - start))) {
		size_t len = (size_t)(nl - (cl->in + start));
		struct control_req req = { .peer = &cl->peer, .client = cl->id };
		char *reply;

		*nl = '\0';
		reply = c->handle(c->ctx, &req, cl->in + start, len);
		if (req.defer && !reply)
			cl->waiting = true;
		else
			queue(cl, reply);
		cl->subscribed |= req.subscribe;
		start += len + 1;
	}
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->in_len >= PROTO_MAX_LINE) {
		queue(cl, proto_reply_error(NULL, "bad-request", "request longer than 64 KiB"));
		cl->closing = true;
		cl->in_len = 0;
	}
}

/* Returns false when the client is to be dropped. */
static bool read_client(struct control *c, struct client *cl)
{
	char buf[16384];

	for (;;) {
		ssize_t n = read(cl->fd, buf, sizeof(buf));

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0) {
			/* EOF: answer what came whole, then go */
			cl->closing = true;
			return cl->out_len > cl->out_off || cl->waiting;
		}
		cl->last = mono();
		cl->in = vf_xreallocarray(cl->in, cl->in_len + (size_t)n + 1, 1);
		memcpy(cl->in + cl->in_len, buf, (size_t)n);
		cl->in_len += (size_t)n;
		handle_lines(c, cl);
		if (cl->closing)
			return true;
	}
}

static bool write_client(struct client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = write(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		cl->out_off += (size_t)n;
		cl->last = mono();
	}
	cl->out_len = cl->out_off = 0; /* keep the buffer for the next replies */
	return !cl->closing || cl->waiting;
}

void control_dispatch(struct control *c, const struct pollfd *pfd, size_t n)
{
	/* clients first, by fd: accepting may reorder the array */
	for (size_t k = 1; k < n; k++) {
		for (size_t i = 0; i < c->n; i++) {
			struct client *cl = c->clients[i];
			bool keep = true;

			if (cl->fd != pfd[k].fd)
				continue;
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				keep = read_client(c, cl);
			if (keep && (pfd[k].revents & POLLOUT || cl->out_len > cl->out_off))
				keep = write_client(cl);
			else if (keep && cl->closing && !cl->waiting && cl->out_len == cl->out_off)
				keep = false;
			if (!keep)
				drop(c, i);
			break;
		}
	}
	if (n && pfd[0].revents & POLLIN)
		for (int i = 0; i < 16; i++)
			accept_one(c);
}

bool control_reply(struct control *c, uint64_t client, char *line)
{
	for (size_t i = 0; i < c->n; i++) {
		struct client *cl = c->clients[i];

		if (cl->id != client)
			continue;
		cl->waiting = false;
		queue(cl, line);
		handle_lines(c, cl);
		return true;
	}
	free(line);
	return false;
}

void control_sweep(struct control *c)
{
	time_t t = mono();

	for (size_t i = c->n; i-- > 0;)
		if (!c->clients[i]->subscribed && !c->clients[i]->waiting &&
		    t - c->clients[i]->last > c->idle_sec)
			drop(c, i);
}

void control_broadcast(struct control *c, const char *line)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->clients[i]->subscribed && !c->clients[i]->closing)
			queue(c->clients[i], vf_xstrdup(line));
}
