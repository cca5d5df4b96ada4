/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state store: every device vfiod owns and the intent of the transition
 * in progress, in one human-readable JSON file (docs/state.md) under the
 * state directory. Every save is atomic: write a temporary file, fsync it,
 * rename it over the old one, fsync the directory. A crash leaves either
 * the old or the new file, never a mix.
 *
 * A file that does not parse or does not follow the schema is never
 * trusted and never deleted: it is set aside (renamed with a ".corrupt-"
 * suffix) for the operator, and vfiod starts from what the kernel shows.
 */
#ifndef VFIOD_STATE_H
#define VFIOD_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "parse.h"
#include "util.h"

#define STATE_FILE "state.json"
#define STATE_LOCK_FILE "lock"  /* flock'ed by the running daemon; holds its pid */
#define STATE_UNIT_MAX 8        /* devices moved as one unit (a group's endpoints) */

enum dev_state {
	DEV_POOLED,       /* on vfio-pci, owned, unassigned */
	DEV_ASSIGNED,     /* handed to one consumer */
	DEV_QUARANTINED,  /* silenced, held for an operator */
};

/*
 * Who an assigned device was handed to. Only the store turns it into text
 * (consumer_format, consumer_parse): "cdi:<spec path>", "pid:<pid>@<start>"
 * (live injection into a process), "vm:<domain>", "holder:<pid>@<start>"
 * (a process found holding the group, which vfiod handed nothing to).
 * <start> is the process's start time (proc.h): a reused pid is never taken
 * for the recorded process.
 */
enum consumer_kind {
	CONSUMER_NONE = 0,
	CONSUMER_CDI,
	CONSUMER_PID,
	CONSUMER_VM,
	CONSUMER_HOLDER,
};

#define CONSUMER_NAME_MAX 508 /* what the old 512-byte "cdi:<path>" field held */

struct consumer {
	enum consumer_kind kind;
	char name[CONSUMER_NAME_MAX]; /* CDI: the spec's path; VM: the domain */
	int pid;                      /* PID, HOLDER */
	uint64_t start;               /* PID, HOLDER: the process's start time */
};

/* "cdi", "pid", "vm", "holder"; NULL for CONSUMER_NONE */
const char *consumer_kind_name(enum consumer_kind k);

/* The text the store records ("" for none). Returns its length, or
 * -ENAMETOOLONG (buf then holds "") when it does not fit. */
int consumer_format(const struct consumer *c, char *buf, size_t cap);

/* What consumer_format wrote: "" is none. Returns 0 or -EINVAL. */
int consumer_parse(const char *s, struct consumer *c);

bool consumer_equal(const struct consumer *a, const struct consumer *b);

/* What the storm ladder did to a device that is not (yet) quarantined. */
enum dev_containment {
	CONTAIN_NONE = 0,
	CONTAIN_THROTTLED, /* CPU caps tightened, vectors steered */
	CONTAIN_SILENCED,  /* bus mastering off, INTx disabled */
};

struct dev_rec {
	char bdf[VF_BDF_LEN];
	char original_driver[64];   /* "" when the device had no driver */
	enum dev_state state;
	char unit[STATE_UNIT_MAX][VF_BDF_LEN]; /* the unit it moved with, self included */
	size_t n_unit;
	struct consumer consumer;   /* kind CONSUMER_NONE when none */
	char tenant[64];            /* "" when none */
	bool reset_pending;         /* released by a consumer, not yet reset */
	bool no_reset_method;       /* the kernel offers no reset for it */
	int saved_command;          /* PCI command register before silencing, -1: none */
	enum dev_containment containment; /* stored as null, "throttled", "silenced" */
	int64_t since;              /* unix time of the last state change */
};

enum intent_op {
	INTENT_NONE,
	INTENT_BIND,      /* host -> pooled */
	INTENT_RETURN,    /* pooled -> host */
};

struct intent_dev {
	char bdf[VF_BDF_LEN];
	char original_driver[64];
};

/* Written before a multi-step transition starts, cleared when it ends. */
struct intent {
	enum intent_op op;
	struct intent_dev devs[STATE_UNIT_MAX];
	size_t n;
	int64_t started;
};

struct store {
	char *dir;
	struct dev_rec *devs;
	size_t n;
	struct intent intent;
};

/* Parses the store's JSON text (pure). On error nothing in `s` changes. */
int store_parse(struct store *s, const char *text, struct vf_err *e);
/* The JSON text of the store; caller frees. */
char *store_format(const struct store *s);

/*
 * Opens (creating the directory, mode 0700) and loads the store. Returns 0,
 * or 1 when a corrupt file was set aside (the message in `e` says where; the
 * store starts empty), or <0 on an I/O error.
 */
int store_open(struct store *s, const char *dir, struct vf_err *e);
int store_save(struct store *s, struct vf_err *e);

/*
 * Takes the state directory for this process, before anything reads or
 * writes it: creates the directory (mode 0700) when missing, opens
 * <dir>/STATE_LOCK_FILE (O_NOFOLLOW, mode 0600), takes an exclusive flock on
 * it without waiting and writes our pid in it. The lock lasts as long as
 * the returned fd is open (a crash releases it; the file stays, harmless).
 * Returns the fd, or <0 with code "busy" and "another vfiod (pid N) holds
 * the state directory DIR" when another process holds it.
 */
int store_lock(const char *dir, struct vf_err *e);
/* The pid a lock file's text names; 0 when it names none (pure). */
pid_t store_lock_holder(const char *text, size_t len);
void store_close(struct store *s);

/*
 * Replaces `path` with `text` atomically: temporary file, fsync, rename,
 * fsync of the directory. Never follows a link at the temporary name.
 */
int vf_write_atomic(const char *path, const char *text, mode_t mode, struct vf_err *e);

struct dev_rec *store_find(struct store *s, const char *bdf);
/* The same, read-only. */
const struct dev_rec *store_get(const struct store *s, const char *bdf);
/* How many devices tenant `tenant` holds (assigned or quarantined; "" holds none): its quota's count. */
size_t store_tenant_holds(const struct store *s, const char *tenant);
/* Adds or replaces the record of rec->bdf. */
void store_put(struct store *s, const struct dev_rec *rec);
/* A record with every field at its neutral value (saved_command -1). */
void dev_rec_init(struct dev_rec *r, const char *bdf);
void store_remove(struct store *s, const char *bdf);

const char *dev_state_name(enum dev_state st);
/* "throttled", "silenced"; NULL for CONTAIN_NONE */
const char *dev_containment_name(enum dev_containment c);
const char *intent_op_name(enum intent_op op);

#endif
