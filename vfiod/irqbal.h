/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeping irqbalance's hands off the vectors vfiod steers. irqbalance
 * rebalances every vector it manages every few seconds, so a storming
 * vector steered to the housekeeping CPUs would be moved back. While vfiod
 * holds a vector steered it bans it through irqbalance's control socket,
 * and hands it back when it restores the vector.
 *
 * What irqbalance 1.9.2 (Debian 12) does, read in its source and checked by
 * running it:
 * - the socket is /run/irqbalance/irqbalance<PID>.sock (1.6 and later),
 *   else an abstract socket of 108 NUL bytes; 1.4/1.5 used the abstract
 *   "\0irqbalance<PID>.sock". Only a sender with uid 0 in its
 *   SCM_CREDENTIALS is served; others are closed on without a word.
 * - one request per connection, read with one recvmsg() into 500 bytes.
 * - "settings ban irqs <n> <n> ..." REPLACES its list of banned IRQs, and
 *   that list also holds the ones its command line banned (--banirq): a
 *   ban that leaves them out unbans them. "settings ban irqs NONE" empties
 *   it. The numbers are read with strtoul() until one reads as 0, so IRQ 0
 *   can only come first (the list is sent sorted).
 * - "setup" answers "SLEEP <s> IRQ <n> LOAD <l> DIFF <d> CLASS <c> ...
 *   BANNED <hex cpumask>" (one IRQ group per banned IRQ) and closes.
 * - a ban triggers a rescan at its next interval, during which its main
 *   loop sleeps a whole interval: a request then waits that long.
 * - it does not ignore SIGPIPE: a client that closes before the answer to
 *   "setup" is sent kills it (exit status 141, seen on 1.9.2). So an
 *   answer not read by the deadline is kept open ("parked") and drained
 *   later; it is never abandoned.
 *
 * Pure parts (parse, list arithmetic, the command) and a host part (find
 * it, talk to it within a deadline, remember what is vfiod's).
 */
#ifndef VFIOD_IRQBAL_H
#define VFIOD_IRQBAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "hostfs.h"
#include "parse.h"
#include "util.h"

#define IRQBAL_LIST_MAX 128     /* more than one 500-byte command can carry */
#define IRQBAL_CMD_MAX 500      /* 1.9.2 reads a request into 500 bytes */
#define IRQBAL_REPLY_MAX 16384  /* a longer "setup" answer is not trusted */
#define IRQBAL_IRQ_MAX 1048575u /* an IRQ number above it is junk */
#define IRQBAL_SLEEP_MAX 3600u  /* an interval above it is junk */

/* A set of IRQ numbers, sorted, no duplicates. */
struct irqbal_list {
	size_t n;
	unsigned irq[IRQBAL_LIST_MAX];
};

/* Adds irq; 0, or -ENOSPC when the list is full (unchanged). */
int irqbal_list_add(struct irqbal_list *l, unsigned irq);
/* Removes irq; true when it was there. */
bool irqbal_list_del(struct irqbal_list *l, unsigned irq);
bool irqbal_list_has(const struct irqbal_list *l, unsigned irq);
bool irqbal_list_equal(const struct irqbal_list *a, const struct irqbal_list *b);
/* out = a ∪ b (out may be a or b); -ENOSPC when it does not fit (out unchanged). */
int irqbal_list_union(struct irqbal_list *out, const struct irqbal_list *a,
		      const struct irqbal_list *b);

/* What "setup" said. */
struct irqbal_setup {
	unsigned sleep_s;          /* its balancing interval */
	struct irqbal_list banned; /* IRQs banned through the socket or --banirq */
};

/*
 * Parses a whole "setup" answer (len bytes, not NUL-terminated). Strict:
 * every token where the format puts it, every number decimal and in range,
 * the BANNED mask hex and commas, nothing after it; a NUL, an unknown word,
 * a truncated answer or more than IRQBAL_LIST_MAX IRQs is an error.
 */
int irqbal_parse_setup(const char *buf, size_t len, struct irqbal_setup *out, struct vf_err *e);

/*
 * The ban command for the whole list: "settings ban irqs 3 17 42" (sorted,
 * so a 0 comes first) or "settings ban irqs NONE". Returns its length, or
 * <0 when it does not fit in cap or in IRQBAL_CMD_MAX - 1 bytes.
 */
int irqbal_format_ban(const struct irqbal_list *l, char *buf, size_t cap, struct vf_err *e);

/*
 * Whose bans are in irqbalance's current list `cur`: another tool's (or its
 * command line's) unless vfiod put them there. An IRQ vfiod banned
 * (`ours_sent`) is another's only if it was known as another's before
 * (`others_known`): then it stays banned when vfiod lets go of it.
 */
void irqbal_others(const struct irqbal_list *cur, const struct irqbal_list *ours_sent,
		   const struct irqbal_list *others_known, struct irqbal_list *out);

/* ---- host part ---- */

enum irqbal_state {
	IRQBAL_UNKNOWN = 0,
	IRQBAL_NOT_RUNNING,
	IRQBAL_TOLD,   /* running; its socket takes vfiod's bans */
	IRQBAL_UNTOLD, /* running, but cannot be told (why says) */
};

struct irqbal_dev {
	char bdf[VF_BDF_LEN];
	struct irqbal_list irqs;
};

struct irqbal {
	pthread_mutex_t mu;
	const struct hostfs *h;
	unsigned deadline_ms;   /* the most one call talks to irqbalance */
	uid_t peer_uid;         /* who the socket must belong to (0; tests: theirs) */
	pid_t pid;              /* the irqbalance found, 0 none */
	enum irqbal_state state;
	char why[192];          /* UNTOLD: why; else the last problem, "" none */
	struct irqbal_dev *dev; /* what each device has banned through vfiod */
	size_t n_dev;
	struct irqbal_list others; /* bans that are not vfiod's, as last read */
	struct irqbal_list sent;   /* vfiod's bans in the last list sent */
	bool dirty;                /* the list sent is not the one wanted: retry */
	unsigned sleep_s;          /* its interval, from "setup" (10 until read) */
	uint64_t quiet_after_ms;   /* a rescan our ban started ends before this */
	int pending_fd;            /* a "setup" answer not read yet, -1 none */
	uint64_t last_scan_ms;
	unsigned sent_count;       /* ban commands sent (status, tests) */
};

/* deadline_ms 0 means 200. Finds irqbalance at once. */
void irqbal_init(struct irqbal *b, const struct hostfs *h, unsigned deadline_ms);

/*
 * Waits for a parked answer (at most a rescan's length, 15 s) so that
 * irqbalance does not die of it, then frees. vfiod's bans stay: a stopped
 * vfiod leaves its devices contained (their vectors stay steered).
 */
void irqbal_fini(struct irqbal *b);

/*
 * The device's vectors are about to be steered: ban them (with what it held
 * before) in irqbalance, keeping every other ban. Takes at most
 * deadline_ms. <0 when irqbalance runs and was not told (the message says
 * why; a retry follows at irqbal_tick()); 0 when told or not running.
 */
int irqbal_hold(struct irqbal *b, const char *bdf, const unsigned *irqs, size_t n,
		struct vf_err *e);

/* The device's vectors are back: lift vfiod's bans on them, no others. */
int irqbal_release(struct irqbal *b, const char *bdf, struct vf_err *e);

/*
 * From the main loop: drains a parked answer, notices irqbalance starting,
 * stopping or being restarted, and sends the wanted list again when the
 * last send failed or irqbalance came back. May take deadline_ms.
 */
void irqbal_tick(struct irqbal *b);

/* The state and its reason, under the lock. */
enum irqbal_state irqbal_state(struct irqbal *b, char *why, size_t cap);

const char *irqbal_state_name(enum irqbal_state s);

#endif
