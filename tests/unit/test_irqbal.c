// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * irqbal: the "setup" parser against real and hostile answers, the ban
 * arithmetic (vfiod's bans added and removed, nobody else's dropped), the
 * command, and the host part against a fake irqbalance that behaves as
 * 1.9.2 does (one request per connection, "ban irqs" replaces the whole
 * list, answers root only, a slow "setup" during a rescan).
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "tree.h"

#include "irqbal.h"
#include "levers.h"

static int parse(const char *s, struct irqbal_setup *out)
{
	struct vf_err e = { 0 };

	return irqbal_parse_setup(s, strlen(s), out, &e);
}

/* What 1.9.2 answered, captured by running it. */
static void test_parse_real(void **state)
{
	struct irqbal_setup s;

	(void)state;
	assert_int_equal(parse("SLEEP 1 BANNED 00000000", &s), 0);
	assert_int_equal(s.sleep_s, 1);
	assert_int_equal(s.banned.n, 0);
	assert_int_equal(parse("SLEEP 1 IRQ 5 LOAD 0 DIFF 0 CLASS 0 IRQ 9 LOAD 0 DIFF 0 CLASS 0 "
			       "IRQ 7 LOAD 0 DIFF 0 CLASS 0 BANNED 00000000",
			       &s),
			 0);
	assert_int_equal(s.banned.n, 3);
	assert_int_equal(s.banned.irq[0], 5);
	assert_int_equal(s.banned.irq[1], 7);
	assert_int_equal(s.banned.irq[2], 9);
	/* a wide cpumask (cpumask_scnprintf: comma-separated words) */
	assert_int_equal(parse("SLEEP 10 IRQ 0 LOAD 18446744073709551615 DIFF 3 CLASS -1 "
			       "BANNED 00000000,00000003",
			       &s),
			 0);
	assert_int_equal(s.banned.irq[0], 0);
}

static void test_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"SLEEP",
		"SLEEP 1",                                 /* truncated: no BANNED */
		"SLEEP 1 IRQ 5 LOAD 0 DIFF 0",             /* truncated mid-IRQ */
		"SLEEP 1 IRQ 5 LOAD 0 DIFF 0 CLASS 0",     /* no BANNED */
		"SLEEP 1 IRQ 5 LOAD 0 DIFF 0 CLASS 0 BANNED", /* no mask */
		"SLEEP 1 IRQ -1 LOAD 0 DIFF 0 CLASS 0 BANNED 0",
		"SLEEP 1 IRQ 99999999999 LOAD 0 DIFF 0 CLASS 0 BANNED 0",
		"SLEEP 1 IRQ 1048576 LOAD 0 DIFF 0 CLASS 0 BANNED 0",
		"SLEEP 1 IRQ 5x LOAD 0 DIFF 0 CLASS 0 BANNED 0",
		"SLEEP 1 IRQ 0x5 LOAD 0 DIFF 0 CLASS 0 BANNED 0",
		"SLEEP 1 IRQ 5 LOAD 184467440737095516150 DIFF 0 CLASS 0 BANNED 0",
		"SLEEP 1 IRQ 5 LOAD 0 DIFF 0 CLASS 99999999999 BANNED 0",
		"SLEEP 1 IRQ 5 0 0 0 BANNED 0",            /* keywords left out */
		"SLEEP 1 IRQ 5 DIFF 0 LOAD 0 CLASS 0 BANNED 0",
		"SLEEP 1 FOO 5 BANNED 0",
		"SLEEP 1 BANNED 0 IRQ 5",                  /* junk after the mask */
		"SLEEP 1 BANNED zz",
		"SLEEP -1 BANNED 0",
		"SLEEP 99999 BANNED 0",
		"SLEEP 1 BANNED 0\n",
		"IRQ 5 LOAD 0 DIFF 0 CLASS 0 BANNED 0",
	};
	struct irqbal_setup s;
	struct vf_err e = { 0 };
	char buf[64], *huge;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &s) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* a NUL inside */
	memcpy(buf, "SLEEP 1 BANNED 0\0 IRQ", 21);
	assert_int_equal(irqbal_parse_setup(buf, 21, &s, &e), -1);
	/* more IRQs than a list holds */
	huge = calloc(1, IRQBAL_REPLY_MAX + 64);
	len = (size_t)sprintf(huge, "SLEEP 1 ");
	for (unsigned i = 0; i <= IRQBAL_LIST_MAX; i++)
		len += (size_t)sprintf(huge + len, "IRQ %u LOAD 0 DIFF 0 CLASS 0 ", i);
	len += (size_t)sprintf(huge + len, "BANNED 0");
	assert_int_equal(irqbal_parse_setup(huge, len, &s, &e), -1);
	assert_int_equal(e.errnum, E2BIG);
	/* longer than any answer trusted */
	memset(huge, ' ', IRQBAL_REPLY_MAX + 1);
	assert_int_equal(irqbal_parse_setup(huge, IRQBAL_REPLY_MAX + 1, &s, &e), -1);
	assert_int_equal(e.errnum, E2BIG);
	free(huge);
}

static void test_lists_and_command(void **state)
{
	struct irqbal_list a = { 0 }, b = { 0 }, u, others;
	struct vf_err e = { 0 };
	char cmd[IRQBAL_CMD_MAX];

	(void)state;
	assert_int_equal(irqbal_format_ban(&a, cmd, sizeof(cmd), &e), 22);
	assert_string_equal(cmd, "settings ban irqs NONE");
	irqbal_list_add(&a, 42);
	irqbal_list_add(&a, 0);
	irqbal_list_add(&a, 17);
	irqbal_list_add(&a, 17);
	assert_int_equal(a.n, 3);
	assert_true(irqbal_format_ban(&a, cmd, sizeof(cmd), &e) > 0);
	assert_string_equal(cmd, "settings ban irqs 0 17 42"); /* 0 first: its strtoul loop */
	irqbal_list_add(&b, 17);
	irqbal_list_add(&b, 99);
	assert_int_equal(irqbal_list_union(&u, &a, &b), 0);
	assert_int_equal(u.n, 4);
	assert_true(irqbal_list_del(&u, 17));
	assert_false(irqbal_list_del(&u, 17));
	assert_false(irqbal_list_has(&u, 17));

	/*
	 * Another tool banned 3 and 17; vfiod then banned 17 and 40. On a
	 * fresh read {3, 17, 40, 50}: 50 is new and another's, 40 is vfiod's,
	 * 17 stays another's (it was before vfiod banned it too).
	 */
	{
		struct irqbal_list cur = { 0 }, sent = { 0 }, known = { 0 };

		irqbal_list_add(&known, 3);
		irqbal_list_add(&known, 17);
		irqbal_list_add(&sent, 17);
		irqbal_list_add(&sent, 40);
		irqbal_list_add(&cur, 3);
		irqbal_list_add(&cur, 17);
		irqbal_list_add(&cur, 40);
		irqbal_list_add(&cur, 50);
		irqbal_others(&cur, &sent, &known, &others);
		assert_int_equal(others.n, 3);
		assert_true(irqbal_list_has(&others, 3));
		assert_true(irqbal_list_has(&others, 17));
		assert_true(irqbal_list_has(&others, 50));
		assert_false(irqbal_list_has(&others, 40));
	}

	/* a list too long for one 500-byte request is refused, not cut */
	memset(&a, 0, sizeof(a));
	for (unsigned i = 0; i < IRQBAL_LIST_MAX; i++)
		assert_int_equal(irqbal_list_add(&a, 100000 + i), 0);
	assert_int_equal(irqbal_list_add(&a, 7), -ENOSPC);
	assert_int_equal(irqbal_format_ban(&a, cmd, sizeof(cmd), &e), -1);
	assert_int_equal(e.errnum, ENOSPC);
	/* the longest that fits is sent whole and stays under 500 bytes */
	a.n = 60;
	assert_true(irqbal_format_ban(&a, cmd, sizeof(cmd), &e) > 0);
	assert_true(strlen(cmd) < IRQBAL_CMD_MAX);
}

static void test_levers_sentence(void **state)
{
	struct levers l = { .threaded = LEVER_YES, .steer = true, .housekeeping = "0" };
	struct json_object *j;
	char s[1024];

	(void)state;
	levers_sentence(&l, s, sizeof(s));
	assert_null(strstr(s, "irqbalance"));
	l.irqbalance = IRQBAL_TOLD;
	levers_sentence(&l, s, sizeof(s));
	assert_non_null(strstr(s, "irqbalance runs: steered vectors are banned from it while steered"));
	j = levers_json(&l);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "irqbalance")),
			    "banned-through-socket");
	json_object_put(j);
	l.irqbalance = IRQBAL_UNTOLD;
	strcpy(l.irqbalance_why, "no control socket");
	levers_sentence(&l, s, sizeof(s));
	assert_non_null(strstr(s, "irqbalance runs but cannot be told (no control socket)"));
	assert_non_null(strstr(s, "--banirq"));
}

/* ---- a fake irqbalance 1.9.2 ---- */

struct fake {
	struct tree t;
	int lfd;
	pthread_t th;
	pthread_mutex_t mu;
	struct irqbal_list banned; /* cl_banned_irqs: --banirq and the socket's */
	int setup_delay_ms;        /* a rescan in progress */
	int requests, setups, bans, epipe, refused;
	volatile int stop;
};

static void fake_handle(struct fake *f, int c)
{
	char buf[500];
	union {
		char b[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr a;
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(c, &m, 0);
	struct ucred *cr;

	if (n <= 0)
		return;
	pthread_mutex_lock(&f->mu);
	f->requests++;
	cm = CMSG_FIRSTHDR(&m);
	cr = cm && cm->cmsg_type == SCM_CREDENTIALS ? (struct ucred *)CMSG_DATA(cm) : NULL;
	if (!cr || cr->uid != getuid()) {
		f->refused++;
		pthread_mutex_unlock(&f->mu);
		return;
	}
	if (n >= 18 && memcmp(buf, "settings ban irqs ", 18) == 0) {
		char s[501], *end;
		unsigned long irq;

		memcpy(s, buf + 18, (size_t)n - 18);
		s[n - 18] = '\0';
		memset(&f->banned, 0, sizeof(f->banned));
		f->bans++;
		if (strncmp(s, "NONE", 4) != 0) {
			irq = strtoul(s, &end, 10);
			do
				irqbal_list_add(&f->banned, (unsigned)irq);
			while ((irq = strtoul(end, &end, 10)));
		}
		pthread_mutex_unlock(&f->mu);
	} else if (n >= 5 && memcmp(buf, "setup", 5) == 0) {
		char out[8192];
		int len = snprintf(out, sizeof(out), "SLEEP 1 ");
		int delay = f->setup_delay_ms;

		for (size_t i = 0; i < f->banned.n; i++)
			len += snprintf(out + len, sizeof(out) - (size_t)len,
					"IRQ %u LOAD 0 DIFF 0 CLASS 0 ", f->banned.irq[i]);
		len += snprintf(out + len, sizeof(out) - (size_t)len, "BANNED 00000000");
		f->setups++;
		pthread_mutex_unlock(&f->mu);
		if (delay)
			usleep((useconds_t)delay * 1000);
		/* irqbalance has no MSG_NOSIGNAL: a closed client would kill it */
		if (send(c, out, (size_t)len, MSG_NOSIGNAL) < 0 && errno == EPIPE) {
			pthread_mutex_lock(&f->mu);
			f->epipe++;
			pthread_mutex_unlock(&f->mu);
		}
	} else {
		pthread_mutex_unlock(&f->mu);
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	while (!f->stop) {
		struct pollfd p = { f->lfd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 20) <= 0)
			continue;
		c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			continue;
		fake_handle(f, c);
		close(c);
	}
	return NULL;
}

/* A root with proc/<our pid>/comm = irqbalance and, with `sock`, its socket. */
static void fake_start(struct fake *f, bool sock)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char rel[64], p[PATH_MAX];
	int one = 1;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->lfd = -1;
	tree_init(&f->t);
	snprintf(rel, sizeof(rel), "proc/%d/comm", (int)getpid());
	tree_write(&f->t, rel, "irqbalance\n");
	tree_write(&f->t, "proc/1/comm", "init\n");
	tree_mkdir(&f->t, "run/irqbalance");
	if (!sock)
		return;
	snprintf(rel, sizeof(rel), "run/irqbalance/irqbalance%d.sock", (int)getpid());
	tree_abs(&f->t, rel, p, sizeof(p));
	assert_true(strlen(p) < sizeof(a.sun_path));
	strcpy(a.sun_path, p);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(setsockopt(f->lfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	if (f->lfd >= 0) {
		f->stop = 1;
		pthread_join(f->th, NULL);
		close(f->lfd);
	}
	tree_destroy(&f->t);
}

static struct irqbal_list fake_banned(struct fake *f)
{
	struct irqbal_list l;

	pthread_mutex_lock(&f->mu);
	l = f->banned;
	pthread_mutex_unlock(&f->mu);
	return l;
}

/*
 * The fake's list once it has handled `bans` ban commands (at most 5 s):
 * it handles a request on its own thread, after the client has gone.
 */
static struct irqbal_list banned_after(struct fake *f, int bans)
{
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&f->mu);
		if (f->bans >= bans) {
			pthread_mutex_unlock(&f->mu);
			break;
		}
		pthread_mutex_unlock(&f->mu);
		usleep(10000);
	}
	return fake_banned(f);
}

static uint64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Bans added on steer, removed on restore; another tool's ban survives both. */
static void test_host_hold_release(void **state)
{
	struct fake f;
	struct hostfs h;
	struct irqbal b;
	struct irqbal_list l;
	struct vf_err e = { 0 };
	const unsigned va[] = { 40, 41 }, vb[] = { 50 };
	int bans0;

	(void)state;
	fake_start(&f, true);
	irqbal_list_add(&f.banned, 7); /* --banirq=7, or another tool's */
	assert_int_equal(hostfs_init(&h, f.t.root, &e), 0);
	irqbal_init(&b, &h, 200);
	b.peer_uid = getuid();
	assert_int_equal(irqbal_state(&b, NULL, 0), IRQBAL_TOLD);
	assert_int_equal(b.pid, getpid());

	bans0 = f.bans;
	assert_int_equal(irqbal_hold(&b, "0000:00:02.0", va, 2, &e), 0);
	l = banned_after(&f, bans0 + 1);
	assert_int_equal(l.n, 3);
	assert_true(irqbal_list_has(&l, 7) && irqbal_list_has(&l, 40) && irqbal_list_has(&l, 41));
	/* another tool bans 9 meanwhile (replacing the list, keeping ours) */
	pthread_mutex_lock(&f.mu);
	irqbal_list_add(&f.banned, 9);
	pthread_mutex_unlock(&f.mu);
	b.quiet_after_ms = 0; /* its rescan is over: the list may be read */
	assert_int_equal(irqbal_hold(&b, "0000:00:03.0", vb, 1, &e), 0);
	l = banned_after(&f, bans0 + 2);
	assert_int_equal(l.n, 5);
	assert_true(irqbal_list_has(&l, 9) && irqbal_list_has(&l, 50));

	b.quiet_after_ms = 0;
	assert_int_equal(irqbal_release(&b, "0000:00:02.0", &e), 0);
	l = banned_after(&f, bans0 + 3);
	assert_int_equal(l.n, 3);
	assert_true(irqbal_list_has(&l, 7) && irqbal_list_has(&l, 9) && irqbal_list_has(&l, 50));
	/* during its rescan, the list is not read: vfiod's record keeps 7 and 9 */
	assert_true(b.quiet_after_ms > ms());
	assert_int_equal(irqbal_release(&b, "0000:00:03.0", &e), 0);
	l = banned_after(&f, bans0 + 4);
	assert_int_equal(l.n, 2);
	assert_true(irqbal_list_has(&l, 7) && irqbal_list_has(&l, 9));
	assert_int_equal(f.refused, 0);
	/* a device never held: nothing sent */
	{
		int bans = f.bans;

		assert_int_equal(irqbal_release(&b, "0000:00:04.0", &e), 0);
		assert_int_equal(f.bans, bans);
	}
	irqbal_fini(&b);
	hostfs_fini(&h);
	fake_stop(&f);
}

/*
 * A "setup" answer late (irqbalance in a rescan): the call returns by its
 * deadline, still bans (from vfiod's record), and the answer is read later
 * instead of being abandoned (which kills irqbalance 1.9.2).
 */
static void test_host_deadline(void **state)
{
	struct fake f;
	struct hostfs h;
	struct irqbal b;
	struct irqbal_list l;
	struct vf_err e = { 0 };
	const unsigned va[] = { 40 };
	uint64_t t0, took;

	(void)state;
	fake_start(&f, true);
	assert_int_equal(hostfs_init(&h, f.t.root, &e), 0);
	irqbal_init(&b, &h, 200);
	b.peer_uid = getuid();
	f.setup_delay_ms = 600;
	t0 = ms();
	assert_int_equal(irqbal_hold(&b, "0000:00:02.0", va, 1, &e), 0);
	took = ms() - t0;
	print_message("hold with a slow irqbalance took %llu ms\n", (unsigned long long)took);
	assert_true(took < 400);
	assert_true(b.pending_fd >= 0);
	assert_non_null(strstr(b.why, "did not answer"));
	/* the ban is queued behind the setup: served once the fake gets to it */
	for (int i = 0; i < 100 && fake_banned(&f).n == 0; i++)
		usleep(20000);
	l = fake_banned(&f);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.irq[0], 40);
	/* the parked answer is read and closed, and irqbalance saw no EPIPE */
	for (int i = 0; i < 100 && b.pending_fd >= 0; i++) {
		usleep(20000);
		irqbal_tick(&b);
	}
	assert_int_equal(b.pending_fd, -1);
	assert_int_equal(f.epipe, 0);
	irqbal_fini(&b);
	hostfs_fini(&h);
	fake_stop(&f);
}

/* A running irqbalance with no socket vfiod can reach: said, not hidden. */
static void test_host_untold_and_absent(void **state)
{
	struct fake f;
	struct hostfs h;
	struct irqbal b;
	struct vf_err e = { 0 };
	const unsigned va[] = { 40 };
	char why[192];
	char rel[64];

	(void)state;
	fake_start(&f, false);
	assert_int_equal(hostfs_init(&h, f.t.root, &e), 0);
	irqbal_init(&b, &h, 200);
	b.peer_uid = getuid();
	assert_int_equal(irqbal_hold(&b, "0000:00:02.0", va, 1, &e), -1);
	assert_non_null(strstr(e.msg, "cannot be told"));
	assert_int_equal(irqbal_state(&b, why, sizeof(why)), IRQBAL_UNTOLD);
	assert_non_null(strstr(why, "no control socket"));
	irqbal_fini(&b);

	/* no process named irqbalance: nothing to tell, nothing fails */
	snprintf(rel, sizeof(rel), "proc/%d/comm", (int)getpid());
	tree_write(&f.t, rel, "bash\n");
	irqbal_init(&b, &h, 200);
	assert_int_equal(irqbal_state(&b, NULL, 0), IRQBAL_NOT_RUNNING);
	assert_int_equal(irqbal_hold(&b, "0000:00:02.0", va, 1, &e), 0);
	assert_int_equal(irqbal_release(&b, "0000:00:02.0", &e), 0);
	irqbal_fini(&b);
	hostfs_fini(&h);
	fake_stop(&f);
}

/* A socket that is not irqbalance's (another owner) is not talked to. */
static void test_host_wrong_peer(void **state)
{
	struct fake f;
	struct hostfs h;
	struct irqbal b;
	struct vf_err e = { 0 };
	const unsigned va[] = { 40 };

	(void)state;
	fake_start(&f, true);
	assert_int_equal(hostfs_init(&h, f.t.root, &e), 0);
	irqbal_init(&b, &h, 200);
	b.peer_uid = getuid() + 1; /* the socket must belong to someone else */
	assert_int_equal(irqbal_hold(&b, "0000:00:02.0", va, 1, &e), -1);
	assert_int_equal(f.requests, 0);
	assert_int_equal(irqbal_state(&b, NULL, 0), IRQBAL_UNTOLD);
	irqbal_fini(&b);
	hostfs_fini(&h);
	fake_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_real),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_lists_and_command),
		cmocka_unit_test(test_levers_sentence),
		cmocka_unit_test(test_host_hold_release),
		cmocka_unit_test(test_host_deadline),
		cmocka_unit_test(test_host_untold_and_absent),
		cmocka_unit_test(test_host_wrong_peer),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
