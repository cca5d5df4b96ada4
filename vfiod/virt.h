/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfiod's libvirt client: one connection (URI from the policy), a thread
 * that runs libvirt's event loop, and the calls VM handoff needs.
 *
 * The event thread only copies what libvirt reports (a domain stopped,
 * started or was undefined; a device left a domain; the connection closed)
 * into a queue and wakes the main loop through an eventfd: every decision
 * is the main loop's. The connection is re-opened every few seconds while
 * libvirtd is down; after each (re)connection the daemon reconciles its
 * VM assignments with what libvirt reports.
 *
 * Detaching waits for the guest to let go: libvirt returns from the detach
 * call before the device has left (an OS-less or busy guest may never let
 * go), so virt_detach waits for the device-removed event (and reads the
 * live XML as a fallback) for up to VIRT_DETACH_TIMEOUT_S.
 *
 * Threads: virt_attach and virt_detach may be called from any thread (the
 * daemon calls them from a hand-off's worker thread, so that the loop
 * never waits for a guest or a stalled libvirtd): each takes a reference
 * of its own on the connection. Everything else is the main loop's.
 */
#ifndef VFIOD_VIRT_H
#define VFIOD_VIRT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "err.h"
#include "mailbox.h"
#include "parse.h"

#define VIRT_DETACH_TIMEOUT_S 20
#define VIRT_RETRY_S 3
#define VIRT_NAME_LEN 72
#define VIRT_QUEUE 256

/* What a domain event means to vfiod (pure mapping of libvirt's codes). */
enum virt_action {
	VIRT_NONE,
	VIRT_RELEASE,  /* stopped (shut down, destroyed, crashed, failed): its devices come back */
	VIRT_CHECK,    /* undefined: back only if it is not still running as a transient domain */
	VIRT_CAP,      /* started: apply the CPU caps of the devices it holds */
};

/* `event` and `detail` are libvirt's virDomainEventType and its detail. */
enum virt_action virt_event_action(int event, int detail);
const char *virt_action_name(enum virt_action a);

struct virt_event {
	char domain[VIRT_NAME_LEN];
	enum virt_action action;
	int event, detail;         /* libvirt's, for the log */
};

/* How an assignment lands, as virsh's --live / --config. */
enum {
	VIRT_LIVE = 1,    /* the running domain, now */
	VIRT_CONFIG = 2,  /* its persistent definition */
};

/* A domain's scheduler values as they were before vfiod capped it. */
struct virt_saved {
	char domain[VIRT_NAME_LEN];
	void *params;              /* virTypedParameterPtr */
	int n;
};

struct virt_opening;

struct virt {
	char uri[256];
	void *conn;                /* virConnectPtr; changed by the main loop only, under mu */
	int cb_life, cb_removed;   /* callback ids, -1: none */
	struct mailbox box;        /* domain events to the main loop; box.fd also wakes it for a closed connection */
	time_t next_try;
	bool connected_once;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;        /* guards what follows */
	pthread_cond_t cv;
	bool stop;
	bool closed;               /* the connection closed under us */
	bool quit_waits;           /* virt_stop_waiting: vfiod is stopping */
	char removed[16][VIRT_NAME_LEN * 2]; /* "domain/alias" of recent device-removed events */
	unsigned nremoved;         /* total ever seen; slot = n % 16 */
	struct virt_saved *saved;  /* scheduler values before vfiod capped (main thread) */
	size_t nsaved;
	struct virt_opening *opening; /* a connection being opened off the loop, or NULL */
	time_t open_started;
	bool open_told;            /* "has not answered" logged for this opening */
	bool unreachable_told;     /* "unreachable" logged since the last connection */
};

/* How long start-up waits for libvirtd to answer before serving without it. */
#define VIRT_OPEN_WAIT_MS 2000

/*
 * Starts the event thread and an opener thread, and waits up to
 * VIRT_OPEN_WAIT_MS for the connection (a failure, or a libvirtd that does
 * not answer, is retried or waited for by virt_tick).
 */
int virt_init(struct virt *v, const char *uri, struct vf_err *e);
void virt_fini(struct virt *v);

/*
 * From the main loop, after box.fd polled readable or every second:
 * notices a closed connection and re-opens one when due. Returns 1 when a
 * connection was (re)established (the caller reconciles), 0 otherwise.
 */
int virt_tick(struct virt *v);
/*
 * Takes the connection an opener thread made, waiting up to `wait_ms` for
 * it: 1 when connected now (as virt_tick), 0 otherwise. The open itself
 * never runs on the loop: virConnectOpen has no timeout.
 */
int virt_take_opened(struct virt *v, int wait_ms);
bool virt_connected(const struct virt *v);

/* Takes queued domain events; returns how many (0: none). */
size_t virt_drain(struct virt *v, struct virt_event *out, size_t max);

/*
 * Hands host devices (one IOMMU unit) to domain `name`. `flags`: VIRT_LIVE
 * and/or VIRT_CONFIG, 0 for the domain's current state (live if running,
 * else config). `guest`: the lead's guest address, NULL: a free
 * pcie-root-port for each. All or nothing: on error every device attached
 * so far is detached again.
 */
int virt_attach(struct virt *v, const char *name, const struct vf_bdf *host, size_t n,
		const struct vf_bdf *guest, unsigned flags, struct vf_err *e);

/*
 * Takes the devices away from domain `name`: from the running domain
 * (waiting until they are gone) and from its persistent definition. A
 * domain that no longer exists has nothing to give back: 0. Error (the
 * device may still be in the domain) on a timeout or when libvirt cannot
 * be reached.
 */
int virt_detach(struct virt *v, const char *name, const struct vf_bdf *host, size_t n,
		struct vf_err *e);

/*
 * vfiod is stopping: a virt_detach waiting for a guest to let go gives up
 * now (code "timeout"; the device may still be in the domain). The undoing
 * of a failed virt_attach still waits: it must not leave a device behind.
 */
void virt_stop_waiting(struct virt *v);

/*
 * Where domain `name` holds host device `host`: 1 live or in its
 * definition, 0 nowhere (or no such domain), -1 when libvirt cannot tell.
 * `running` (may be NULL) gets whether the domain runs.
 */
int virt_holds(struct virt *v, const char *name, const struct vf_bdf *host, bool *running,
	       struct vf_err *e);

/* 1 when domain `name` exists, 0 when not, -1 when libvirt cannot tell. */
int virt_exists(struct virt *v, const char *name, struct vf_err *e);

/*
 * Caps a running domain's threads through libvirt's scheduler parameters:
 * the whole domain and its emulator threads at `percent` of one CPU, each
 * vCPU at min(percent, 100). libvirt owns the domain's cgroups, so this is
 * the only right way in. The values found before the first cap are kept
 * and put back by virt_uncap.
 */
int virt_cap(struct virt *v, const char *name, unsigned percent, struct vf_err *e);
int virt_uncap(struct virt *v, const char *name, struct vf_err *e);

#endif
