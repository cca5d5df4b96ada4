// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mailbox.c: order, a full mailbox dropping and counting, the eventfd's
 * readiness (set by a post or a wake, cleared by a drain or an ack, set
 * again while messages remain), and posts from several threads at once.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mailbox.h"

struct msg {
	int from, seq;
	char pad[20];
};

static bool readable(const struct mailbox *mb)
{
	struct pollfd p = { .fd = mb->fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void test_order_and_full(void **state)
{
	struct mailbox mb;
	struct vf_err e = { 0 };
	struct msg m = { 0 }, out[8];
	uint64_t dropped = 99;

	(void)state;
	assert_int_equal(mailbox_init(&mb, sizeof(struct msg), 4, &e), 0);
	assert_false(readable(&mb));
	for (int i = 0; i < 6; i++) {
		m.seq = i;
		assert_int_equal(mailbox_post(&mb, &m), i < 4);
	}
	assert_true(readable(&mb));
	/* two now: still readable, two wait */
	assert_int_equal(mailbox_drain(&mb, out, 2, &dropped), 2);
	assert_int_equal(out[0].seq, 0);
	assert_int_equal(out[1].seq, 1);
	assert_int_equal(dropped, 2);
	assert_true(readable(&mb));
	/* the ring wraps: two more in behind the two left */
	m.seq = 10;
	assert_true(mailbox_post(&mb, &m));
	m.seq = 11;
	assert_true(mailbox_post(&mb, &m));
	assert_int_equal(mailbox_drain(&mb, out, 8, &dropped), 4);
	assert_int_equal(out[0].seq, 2);
	assert_int_equal(out[1].seq, 3);
	assert_int_equal(out[2].seq, 10);
	assert_int_equal(out[3].seq, 11);
	assert_int_equal(dropped, 0);
	assert_false(readable(&mb));
	/* a wake with no message: readable until acknowledged; nothing to drain */
	mailbox_wake(&mb);
	assert_true(readable(&mb));
	mailbox_ack(&mb);
	assert_false(readable(&mb));
	assert_int_equal(mailbox_drain(&mb, out, 8, NULL), 0);
	mailbox_fini(&mb);
	mailbox_fini(&mb); /* twice is harmless */
}

#define THREADS 4
#define PER 5000

static struct mailbox shared;

static void *poster(void *arg)
{
	struct msg m = { .from = (int)(intptr_t)arg };

	for (m.seq = 0; m.seq < PER; m.seq++)
		while (!mailbox_post(&shared, &m))
			;
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[THREADS];
	struct vf_err e = { 0 };
	int next[THREADS] = { 0 }, got = 0;
	struct msg out[64];
	uint64_t dropped;

	(void)state;
	assert_int_equal(mailbox_init(&shared, sizeof(struct msg), 32, &e), 0);
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, poster, (void *)i), 0);
	while (got < THREADS * PER) {
		struct pollfd p = { .fd = shared.fd, .events = POLLIN };
		size_t n;

		poll(&p, 1, 100);
		n = mailbox_drain(&shared, out, 64, &dropped);
		for (size_t k = 0; k < n; k++) {
			/* each poster's messages arrive in its order, none twice */
			assert_int_equal(out[k].seq, next[out[k].from]);
			next[out[k].from]++;
		}
		got += (int)n;
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(next[i], PER);
	}
	mailbox_fini(&shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_full),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
