/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A thread-to-loop mailbox: a bounded FIFO of fixed-size messages that a
 * worker thread posts and the main loop drains, with an eventfd the loop
 * polls (readable while messages wait, or after mailbox_wake). The
 * interrupt monitor and the libvirt event thread each own one. The mailbox
 * has its own mutex, always taken last (a leaf), so posting under the
 * owner's lock is safe. A full mailbox drops the message and counts it.
 */
#ifndef VFIOD_MAILBOX_H
#define VFIOD_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct mailbox {
	pthread_mutex_t mu;
	int fd;                /* eventfd, -1 before init */
	unsigned char *slots;  /* cap messages of size bytes */
	size_t size, cap, head, len;
	uint64_t dropped;      /* messages lost to a full mailbox, since the last take */
};

/* Room for `cap` messages of `size` bytes. */
int mailbox_init(struct mailbox *mb, size_t size, size_t cap, struct vf_err *e);
void mailbox_fini(struct mailbox *mb);

/* Copies `msg` in and wakes the loop. False when full: dropped and counted. */
bool mailbox_post(struct mailbox *mb, const void *msg);

/* Wakes the loop with no message (the owner has news of another kind). */
void mailbox_wake(struct mailbox *mb);

/* Clears the wake-up (the owner read its news); the loop drains after. */
void mailbox_ack(struct mailbox *mb);

/*
 * Takes up to `max` messages, oldest first, into `out`; clears the
 * wake-up, and leaves it set when more wait. `dropped` (may be NULL) gets
 * how many were lost since the last drain.
 */
size_t mailbox_drain(struct mailbox *mb, void *out, size_t max, uint64_t *dropped);

#endif
