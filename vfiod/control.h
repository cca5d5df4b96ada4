/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: a UNIX stream socket, newline-framed messages, peer
 * identity from SO_PEERCRED, non-blocking I/O driven by the daemon's poll
 * loop. Limits (docs/protocol.md):
 *   - CONTROL_MAX_CLIENTS at once, of which the last CONTROL_RESERVED are
 *     kept for privileged peers; CONTROL_MAX_CLIENTS_PER_UID per
 *     unprivileged uid. A connection past a limit is told "busy" and closed.
 *   - CONTROL_MAX_SUBS_PER_UID event subscriptions per unprivileged uid:
 *     the handler is told (control_req.subscribe_full) and refuses one more
 *     as "busy"; the connection stays.
 *   - PROTO_MAX_LINE per request (a longer line is refused and the client
 *     closed).
 *   - CONTROL_MAX_OUT bytes of unread replies per client, and
 *     CONTROL_MAX_OUT_PER_UID over all the clients of one uid (privileged
 *     or not): the client whose reply would pass either is closed.
 *   - an idle timeout (not for event subscribers, which wait by design).
 * Who is privileged (root, the admin group) is the daemon's decision, asked
 * through control.privileged once per connection, at accept. File
 * descriptors a client tries to pass are never received (plain read(), no
 * SCM_RIGHTS).
 */
#ifndef VFIOD_CONTROL_H
#define VFIOD_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define CONTROL_MAX_CLIENTS 256
#define CONTROL_RESERVED 16              /* of CONTROL_MAX_CLIENTS, for privileged peers */
#define CONTROL_MAX_CLIENTS_PER_UID 32   /* connections of one unprivileged uid */
#define CONTROL_MAX_SUBS_PER_UID 8       /* event subscriptions of one unprivileged uid */
#define CONTROL_MAX_OUT (16u << 20)
#define CONTROL_MAX_OUT_PER_UID (32u << 20) /* unread replies, all of one uid's clients */
#define CONTROL_IDLE_SEC 300

#define PEER_MAX_GROUPS 64

struct peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t groups[PEER_MAX_GROUPS]; /* supplementary groups, from SO_PEERGROUPS */
	size_t ngroups;
};

/* What the handler learns and may ask about the connection of a request. */
struct control_req {
	const struct peer *peer;
	uint64_t client;    /* the connection, for control_reply() */
	bool subscribe_full; /* the peer's uid has all the subscriptions it may
			      * have: refuse one more as "busy" */
	bool subscribe;     /* set by the handler: push events to this client */
	bool defer;         /* set by the handler (returning NULL): the reply
			     * comes later through control_reply(); the client's
			     * next requests wait until it has come */
};

/* Handles one request line; returns the reply line (malloc'd, with '\n'). */
typedef char *(*control_handler)(void *ctx, struct control_req *req, const char *line,
				 size_t len);

struct client;

struct control {
	int lfd;
	char *path;
	dev_t sock_dev;     /* the socket file we bound, to remove only ours */
	ino_t sock_ino;
	struct client *clients[CONTROL_MAX_CLIENTS];
	size_t n;
	control_handler handle;
	void *ctx;
	/* true for a peer exempt from the per-uid caps and entitled to the
	 * reserved slots; NULL: nobody is. Set before the first dispatch. */
	bool (*privileged)(void *ctx, const struct peer *p);
	int idle_sec;
	uint64_t next_id;
};

/*
 * Creates the socket at `path` (its directory is created 0755 if missing),
 * mode 0660, group `group` (or left as it is when group is (gid_t)-1). A
 * socket already there is replaced only when nothing answers connect() on
 * it (a stale one); a live one is refused as "busy", naming its listener's
 * pid; anything else at the path is an error.
 */
int control_listen(struct control *c, const char *path, gid_t group,
		   control_handler handle, void *ctx, struct vf_err *e);
/*
 * The same check as control_listen's, without creating anything: 0 when
 * the path is free or holds a stale socket; <0 ("busy", naming the pid)
 * when something answers there, or when something else is at the path.
 */
int control_check_free(const char *path, struct vf_err *e);
/* Closes every client and the listener; removes the socket file only if it is still ours. */
void control_close(struct control *c);

/* Fills pollfds for the listener and every client; returns the count. */
size_t control_pollfds(const struct control *c, struct pollfd *pfd, size_t cap);
/* Queues `line` (with its '\n') to every subscribed client. */
void control_broadcast(struct control *c, const char *line);

/*
 * The deferred reply of client `client` (a control_req's): queued, and the
 * client's waiting requests handled. `line` is consumed. False when the
 * client has gone meanwhile (the reply is dropped).
 */
bool control_reply(struct control *c, uint64_t client, char *line);

/* Drops clients idle for longer than idle_sec; call once per loop turn. */
void control_sweep(struct control *c);
/* Acts on the poll results of the fds control_pollfds gave. */
void control_dispatch(struct control *c, const struct pollfd *pfd, size_t n);

#endif
