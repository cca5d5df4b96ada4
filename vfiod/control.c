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
	bool privileged;    /* control.privileged said so at accept */
};

/* What the clients of one uid hold. */
struct uid_use {
	size_t clients, subs;
	size_t out;         /* reply bytes not yet written */
};

static struct uid_use uid_use(const struct control *c, uid_t uid)
{
	struct uid_use u = { 0 };

	for (size_t i = 0; i < c->n; i++) {
		const struct client *cl = c->clients[i];

		if (cl->peer.uid != uid)
			continue;
		u.clients++;
		u.subs += cl->subscribed;
		u.out += cl->out_len - cl->out_off;
	}
	return u;
}

static time_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * Whether something answers on the socket at `sa`: 1 (its pid in *pid, 0
 * when unknown), 0 when nothing listens there (a stale socket, or none),
 * <0 when it cannot be told.
 */
static int probe(const struct sockaddr_un *sa, pid_t *pid, struct vf_err *e)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err;

	*pid = 0;
	if (fd < 0)
		return vf_err_set(e, errno, "socket");
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
			*pid = cred.pid;
		close(fd);
		return 1;
	}
	err = errno;
	close(fd);
	if (err == ECONNREFUSED || err == ENOENT)
		return 0;
	if (err == EAGAIN) /* a listener with a full backlog */
		return 1;
	return vf_err_set(e, err, "cannot tell whether something answers on %s", sa->sun_path);
}

/* Fills `sa`; then 1 when a socket is at the path, 0 when nothing is, <0 on an error. */
static int check_free(const char *path, struct sockaddr_un *sa, struct vf_err *e)
{
	struct stat st;
	pid_t pid;
	int live;

	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return vf_err_set(e, ENAMETOOLONG, "socket path %s", path);
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return vf_err_set(e, EEXIST, "%s exists and is not a socket", path);
	live = probe(sa, &pid, e);
	if (live < 0)
		return -1;
	if (live && pid > 0)
		return vf_err_refuse(e, "busy", "another vfiod (pid %d) answers on the socket %s",
				     (int)pid, path);
	if (live)
		return vf_err_refuse(e, "busy", "another daemon answers on the socket %s", path);
	return 1;
}

int control_check_free(const char *path, struct vf_err *e)
{
	struct sockaddr_un sa;

	return check_free(path, &sa, e) < 0 ? -1 : 0;
}

int control_listen(struct control *c, const char *path, gid_t group,
		   control_handler handle, void *ctx, struct vf_err *e)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)], *slash;
	struct stat st;
	int there;

	memset(c, 0, sizeof(*c));
	c->lfd = -1;
	c->handle = handle;
	c->ctx = ctx;
	c->idle_sec = CONTROL_IDLE_SEC;
	there = check_free(path, &sa, e);
	if (there < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return vf_err_set(e, errno, "cannot create %s", dir);
	}
	if (there)
		unlink(path); /* a stale socket: nothing answers on it */
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return vf_err_set(e, errno, "socket");
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || lstat(path, &st) < 0 ||
	    chmod(path, 0660) < 0 || (group != (gid_t)-1 && chown(path, (uid_t)-1, group) < 0) ||
	    listen(c->lfd, 64) < 0) {
		vf_err_set(e, errno, "cannot listen on %s", path);
		close(c->lfd);
		c->lfd = -1;
		return -1;
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
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
		struct stat st;

		close(c->lfd);
		/* another daemon may have put its own socket there since */
		if (lstat(c->path, &st) == 0 && st.st_dev == c->sock_dev &&
		    st.st_ino == c->sock_ino)
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

static void queue(struct control *c, struct client *cl, char *reply)
{
	size_t len = strlen(reply);

	if (cl->out_len - cl->out_off + len > CONTROL_MAX_OUT ||
	    uid_use(c, cl->peer.uid).out + len > CONTROL_MAX_OUT_PER_UID) {
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

/*
 * Whether one more connection of `p` fits; NULL, or the sentence of the
 * "busy" it is told.
 */
static const char *admit(const struct control *c, const struct peer *p, bool privileged,
			 char *buf, size_t cap)
{
	if (c->n == CONTROL_MAX_CLIENTS)
		return "too many clients; try again later";
	if (privileged)
		return NULL;
	if (c->n >= CONTROL_MAX_CLIENTS - CONTROL_RESERVED) {
		snprintf(buf, cap,
			 "too many clients; try again later (the last %d connections are kept for root and the admin group)",
			 CONTROL_RESERVED);
		return buf;
	}
	if (uid_use(c, p->uid).clients >= CONTROL_MAX_CLIENTS_PER_UID) {
		snprintf(buf, cap,
			 "uid %u has %d connections open, the most one uid may have; close one first",
			 (unsigned)p->uid, CONTROL_MAX_CLIENTS_PER_UID);
		return buf;
	}
	return NULL;
}

static void accept_one(struct control *c)
{
	struct ucred cred;
	socklen_t cl_len = sizeof(cred);
	struct peer peer;
	struct client *cl;
	char msg[160];
	const char *busy;
	bool privileged;
	int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl_len) < 0) {
		close(fd);
		return;
	}
	peer = (struct peer){ .uid = cred.uid, .gid = cred.gid, .pid = cred.pid };
	{
		socklen_t glen = sizeof(peer.groups);

		/* more groups than fit: keep none rather than a wrong subset */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer.groups, &glen) == 0)
			peer.ngroups = glen / sizeof(gid_t);
	}
	privileged = c->privileged && c->privileged(c->ctx, &peer);
	busy = admit(c, &peer, privileged, msg, sizeof(msg));
	if (busy) {
		char *r = proto_reply_error(NULL, "busy", busy);

		(void)!send(fd, r, strlen(r), MSG_NOSIGNAL | MSG_DONTWAIT);
		free(r);
		close(fd);
		return;
	}
	cl = vf_xcalloc(1, sizeof(*cl));
	cl->fd = fd;
	cl->peer = peer;
	cl->privileged = privileged;
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
		struct control_req req = {
			.peer = &cl->peer,
			.client = cl->id,
			.subscribe_full = !cl->privileged && !cl->subscribed &&
					  uid_use(c, cl->peer.uid).subs >= CONTROL_MAX_SUBS_PER_UID,
		};
		char *reply;

		*nl = '\0';
		reply = c->handle(c->ctx, &req, cl->in + start, len);
		if (req.defer && !reply)
			cl->waiting = true;
		else
			queue(c, cl, reply);
		cl->subscribed |= req.subscribe;
		start += len + 1;
	}
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->in_len >= PROTO_MAX_LINE) {
		queue(c, cl, proto_reply_error(NULL, "bad-request", "request longer than 64 KiB"));
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
		queue(c, cl, line);
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
			queue(c, c->clients[i], vf_xstrdup(line));
}
