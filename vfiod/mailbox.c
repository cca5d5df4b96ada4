// SPDX-License-Identifier: GPL-2.0-or-later
#include "mailbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util.h"

int mailbox_init(struct mailbox *mb, size_t size, size_t cap, struct vf_err *e)
{
	memset(mb, 0, sizeof(*mb));
	mb->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mb->fd < 0)
		return vf_err_set(e, errno, "eventfd");
	mb->slots = vf_xcalloc(cap, size);
	mb->size = size;
	mb->cap = cap;
	pthread_mutex_init(&mb->mu, NULL);
	return 0;
}

void mailbox_fini(struct mailbox *mb)
{
	if (!mb->slots)
		return;
	close(mb->fd);
	mb->fd = -1;
	free(mb->slots);
	mb->slots = NULL;
	pthread_mutex_destroy(&mb->mu);
}

void mailbox_wake(struct mailbox *mb)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full, the loop will wake anyway */
	(void)!write(mb->fd, &one, sizeof(one));
}

void mailbox_ack(struct mailbox *mb)
{
	uint64_t v;

	(void)!read(mb->fd, &v, sizeof(v));
}

bool mailbox_post(struct mailbox *mb, const void *msg)
{
	bool ok;

	pthread_mutex_lock(&mb->mu);
	ok = mb->len < mb->cap;
	if (ok) {
		memcpy(mb->slots + ((mb->head + mb->len) % mb->cap) * mb->size, msg, mb->size);
		mb->len++;
	} else {
		mb->dropped++;
	}
	pthread_mutex_unlock(&mb->mu);
	if (ok)
		mailbox_wake(mb);
	return ok;
}

size_t mailbox_drain(struct mailbox *mb, void *out, size_t max, uint64_t *dropped)
{
	size_t n = 0;

	mailbox_ack(mb);
	pthread_mutex_lock(&mb->mu);
	while (mb->len && n < max) {
		memcpy((unsigned char *)out + n * mb->size, mb->slots + mb->head * mb->size, mb->size);
		mb->head = (mb->head + 1) % mb->cap;
		mb->len--;
		n++;
	}
	if (dropped)
		*dropped = mb->dropped;
	mb->dropped = 0;
	if (mb->len)
		mailbox_wake(mb); /* more to come */
	pthread_mutex_unlock(&mb->mu);
	return n;
}
