// SPDX-License-Identifier: GPL-2.0-or-later
#include "irqbal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"

/* ---- lists ---- */

static size_t lower_bound(const struct irqbal_list *l, unsigned irq)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->irq[mid] < irq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool irqbal_list_has(const struct irqbal_list *l, unsigned irq)
{
	size_t i = lower_bound(l, irq);

	return i < l->n && l->irq[i] == irq;
}

int irqbal_list_add(struct irqbal_list *l, unsigned irq)
{
	size_t i = lower_bound(l, irq);

	if (i < l->n && l->irq[i] == irq)
		return 0;
	if (l->n >= IRQBAL_LIST_MAX)
		return -ENOSPC;
	memmove(&l->irq[i + 1], &l->irq[i], (l->n - i) * sizeof(l->irq[0]));
	l->irq[i] = irq;
	l->n++;
	return 0;
}

bool irqbal_list_del(struct irqbal_list *l, unsigned irq)
{
	size_t i = lower_bound(l, irq);

	if (i >= l->n || l->irq[i] != irq)
		return false;
	memmove(&l->irq[i], &l->irq[i + 1], (l->n - i - 1) * sizeof(l->irq[0]));
	l->n--;
	return true;
}

bool irqbal_list_equal(const struct irqbal_list *a, const struct irqbal_list *b)
{
	return a->n == b->n && memcmp(a->irq, b->irq, a->n * sizeof(a->irq[0])) == 0;
}

int irqbal_list_union(struct irqbal_list *out, const struct irqbal_list *a,
		      const struct irqbal_list *b)
{
	struct irqbal_list u = *a;

	for (size_t i = 0; i < b->n; i++)
		if (irqbal_list_add(&u, b->irq[i]) < 0)
			return -ENOSPC;
	*out = u;
	return 0;
}

void irqbal_others(const struct irqbal_list *cur, const struct irqbal_list *ours_sent,
		   const struct irqbal_list *others_known, struct irqbal_list *out)
{
	struct irqbal_list o = { 0 };

	/* cur is a valid list: everything added fits */
	for (size_t i = 0; i < cur->n; i++)
		if (!irqbal_list_has(ours_sent, cur->irq[i]) ||
		    irqbal_list_has(others_known, cur->irq[i]))
			(void)irqbal_list_add(&o, cur->irq[i]);
	*out = o;
}

/* ---- the "setup" answer ---- */

/* The next space-separated token of [*p, end): its bounds; false at the end. */
static bool next_token(const char **p, const char *end, const char **tok, size_t *len)
{
	const char *s = *p;

	while (s < end && *s == ' ')
		s++;
	if (s == end)
		return false;
	*tok = s;
	while (s < end && *s != ' ')
		s++;
	*len = (size_t)(s - *tok);
	*p = s;
	return true;
}

static bool tok_is(const char *tok, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(tok, word, len) == 0;
}

/* A decimal token within [0, max]. */
static int tok_u64(const char *tok, size_t len, uint64_t max, uint64_t *out)
{
	char num[24];

	if (len == 0 || len >= sizeof(num))
		return -ERANGE;
	memcpy(num, tok, len);
	num[len] = '\0';
	return vf_parse_u64(num, 10, max, out);
}

static int tok_i64(const char *tok, size_t len, int64_t min, int64_t max)
{
	char num[24];
	int64_t v;

	if (len == 0 || len >= sizeof(num))
		return -ERANGE;
	memcpy(num, tok, len);
	num[len] = '\0';
	return vf_parse_i64(num, min, max, &v);
}

int irqbal_parse_setup(const char *buf, size_t len, struct irqbal_setup *out, struct vf_err *e)
{
	const char *p = buf, *end = buf + len, *tok;
	size_t tl;
	uint64_t v;
	unsigned irq;

	memset(out, 0, sizeof(*out));
	if (len > IRQBAL_REPLY_MAX)
		return vf_err_set(e, E2BIG, "irqbalance's setup answer is %zu bytes, more than %u",
				  len, IRQBAL_REPLY_MAX);
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)buf[i]))
			return vf_err_set(e, EBADMSG,
					  "irqbalance's setup answer holds byte 0x%02x at %zu",
					  (unsigned char)buf[i], i);
	if (!next_token(&p, end, &tok, &tl) || !tok_is(tok, tl, "SLEEP") ||
	    !next_token(&p, end, &tok, &tl) || tok_u64(tok, tl, IRQBAL_SLEEP_MAX, &v) < 0)
		return vf_err_set(e, EBADMSG, "irqbalance's setup answer does not start with SLEEP <s>");
	out->sleep_s = (unsigned)v;
	for (;;) {
		if (!next_token(&p, end, &tok, &tl))
			return vf_err_set(e, EBADMSG, "irqbalance's setup answer is truncated (no BANNED)");
		if (tok_is(tok, tl, "BANNED"))
			break;
		if (!tok_is(tok, tl, "IRQ"))
			return vf_err_set(e, EBADMSG, "irqbalance's setup answer: unexpected \"%.*s\"",
					  (int)(tl > 32 ? 32 : tl), tok);
		if (!next_token(&p, end, &tok, &tl) || tok_u64(tok, tl, IRQBAL_IRQ_MAX, &v) < 0)
			return vf_err_set(e, EBADMSG, "irqbalance's setup answer: bad IRQ number");
		irq = (unsigned)v;
		if (irqbal_list_add(&out->banned, irq) < 0)
			return vf_err_set(e, E2BIG, "irqbalance bans more than %d IRQs",
					  IRQBAL_LIST_MAX);
		/* LOAD <u64> DIFF <u64> CLASS <int>: checked, not used */
		static const char *const keys[] = { "LOAD", "DIFF", "CLASS" };

		for (size_t k = 0; k < 3; k++) {
			const char *num;
			size_t nl;

			if (!next_token(&p, end, &tok, &tl) || !tok_is(tok, tl, keys[k]) ||
			    !next_token(&p, end, &num, &nl) ||
			    (k < 2 ? tok_u64(num, nl, UINT64_MAX, &v)
				   : tok_i64(num, nl, INT32_MIN, INT32_MAX)) < 0)
				return vf_err_set(e, EBADMSG,
						  "irqbalance's setup answer: IRQ %u has no valid %s",
						  irq, keys[k]);
		}
	}
	/* BANNED <mask>: hex words separated by commas, and nothing after */
	if (!next_token(&p, end, &tok, &tl) || tl > 4096)
		return vf_err_set(e, EBADMSG, "irqbalance's setup answer: no BANNED mask");
	for (size_t i = 0; i < tl; i++)
		if (!isxdigit((unsigned char)tok[i]) && tok[i] != ',')
			return vf_err_set(e, EBADMSG, "irqbalance's setup answer: bad BANNED mask");
	if (next_token(&p, end, &tok, &tl))
		return vf_err_set(e, EBADMSG, "irqbalance's setup answer: junk after BANNED");
	return 0;
}

int irqbal_format_ban(const struct irqbal_list *l, char *buf, size_t cap, struct vf_err *e)
{
	size_t lim = cap < IRQBAL_CMD_MAX ? cap : IRQBAL_CMD_MAX;
	int len = snprintf(buf, lim, "settings ban irqs%s", l->n ? "" : " NONE");

	for (size_t i = 0; i < l->n && len >= 0 && (size_t)len < lim; i++)
		len += snprintf(buf + len, lim - (size_t)len, " %u", l->irq[i]);
	if (len < 0 || (size_t)len >= lim)
		return vf_err_set(e, ENOSPC, "a ban of %zu IRQs does not fit in irqbalance's %u-byte request",
				  l->n, IRQBAL_CMD_MAX);
	return len;
}

/* ---- host part ---- */

const char *irqbal_state_name(enum irqbal_state s)
{
	switch (s) {
	case IRQBAL_NOT_RUNNING:
		return "not-running";
	case IRQBAL_TOLD:
		return "banned-through-socket";
	case IRQBAL_UNTOLD:
		return "running";
	default:
		return "unknown";
	}
}

/* True when proc/<pid> is an irqbalance (by comm). */
static bool is_irqbalance(const struct hostfs *h, pid_t pid)
{
	_cleanup_free_ char *comm = NULL;
	char path[64];

	if (vf_path(path, sizeof(path), "proc/%d/comm", (int)pid) < 0 ||
	    hostfs_read_all(h, path, 64, &comm, NULL, NULL) < 0)
		return false;
	return strcmp(comm, "irqbalance\n") == 0 || strcmp(comm, "irqbalance") == 0;
}

/* The lowest pid whose comm is irqbalance, 0 when none. */
static pid_t find_irqbalance(const struct hostfs *h)
{
	_cleanup_closedir_ DIR *d = hostfs_opendir(h, "proc", NULL);
	struct dirent *de;
	pid_t found = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		uint64_t pid;

		if (vf_parse_u64(de->d_name, 10, INT32_MAX, &pid) < 0 || pid == 0)
			continue;
		if ((!found || (pid_t)pid < found) && is_irqbalance(h, (pid_t)pid))
			found = (pid_t)pid;
	}
	return found;
}

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	uint64_t t = vf_now_ms();
	int r;

	if (t >= deadline)
		return 0;
	do
		r = poll(&p, 1, (int)(deadline - t));
	while (r < 0 && errno == EINTR);
	return r;
}

/*
 * One connection to irqbalance's socket, tried where each version puts it;
 * the peer must be that pid, owned by peer_uid (a squatter on an abstract
 * name is refused). Returns the fd (non-blocking) or <0.
 */
static int ib_connect(struct irqbal *b, uint64_t deadline, struct vf_err *e)
{
	struct sockaddr_un a[3];
	socklen_t alen[3];
	size_t na = 0;
	_cleanup_close_ int dirfd = hostfs_open(b->h, "run/irqbalance", O_PATH | O_DIRECTORY | O_CLOEXEC, NULL);
	bool real_root = hostfs_is_live(b->h);
	int last = ENOENT;

	if (dirfd >= 0) {
		memset(&a[na], 0, sizeof(a[na]));
		a[na].sun_family = AF_UNIX;
		snprintf(a[na].sun_path, sizeof(a[na].sun_path), "/proc/self/fd/%d/irqbalance%d.sock",
			 dirfd, (int)b->pid);
		alen[na++] = sizeof(a[0]);
	}
	/* abstract names live in our network namespace, not under a sysroot */
	if (real_root) {
		int l;

		memset(&a[na], 0, sizeof(a[na]));
		a[na].sun_family = AF_UNIX;
		l = snprintf(a[na].sun_path + 1, sizeof(a[na].sun_path) - 1, "irqbalance%d.sock",
			     (int)b->pid);
		alen[na++] = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)l);
		memset(&a[na], 0, sizeof(a[na]));
		a[na].sun_family = AF_UNIX;
		alen[na++] = sizeof(a[0]); /* 1.6-1.9's fallback: 108 NUL bytes */
	}
	for (size_t i = 0; i < na; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct ucred peer;
		socklen_t pl = sizeof(peer);
		int r;

		if (fd < 0)
			return vf_err_set(e, errno, "irqbalance: socket");
		/* its backlog is 1: a busy irqbalance makes a connect wait */
		while ((r = connect(fd, (struct sockaddr *)&a[i], alen[i])) < 0 && errno == EAGAIN &&
		       vf_now_ms() < deadline)
			usleep(5000);
		if (r < 0) {
			last = errno;
			close(fd);
			if (last == EAGAIN)
				return vf_err_set(e, ETIMEDOUT, "irqbalance %d is busy", (int)b->pid);
			if (last == EACCES || last == EPERM)
				return vf_err_set(e, last, "irqbalance %d's socket", (int)b->pid);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &pl) < 0 || peer.pid != b->pid ||
		    peer.uid != b->peer_uid) {
			close(fd);
			last = EPERM;
			continue;
		}
		return fd;
	}
	return vf_err_set(e, last == EPERM ? EPERM : ENOENT,
			  "irqbalance %d has no control socket vfiod can reach%s", (int)b->pid,
			  last == EPERM ? " (a socket there belongs to someone else)" : "");
}

/* Sends one request with our credentials (irqbalance serves uid 0 only). */
static int ib_send(int fd, const char *msg, size_t len, struct vf_err *e)
{
	struct ucred cred = { .pid = getpid(), .uid = getuid(), .gid = getgid() };
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ssize_t r;

	memset(&ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	do
		r = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return vf_err_set(e, errno, "irqbalance: sending \"%.20s\"", msg);
	if ((size_t)r != len)
		return vf_err_set(e, EIO, "irqbalance: short send");
	return 0;
}

/*
 * Reads what is there of an answer. Returns 1 at its end (the peer closed),
 * 0 when more may come, <0 on an error. Bytes beyond cap are counted in
 * *len but dropped.
 */
static int drain(int fd, char *buf, size_t cap, size_t *len)
{
	char sink[4096];

	for (;;) {
		size_t room = buf && *len < cap ? cap - *len : 0;
		ssize_t r = room ? read(fd, buf + *len, room) : read(fd, sink, sizeof(sink));

		if (r == 0)
			return 1;
		if (r < 0)
			return errno == EAGAIN ? 0 : errno == EINTR ? 0 : -errno;
		*len += (size_t)r;
	}
}

/* Drains a parked answer; closes it at its end. */
static void drain_pending(struct irqbal *b)
{
	size_t len = 0;

	if (b->pending_fd >= 0 && drain(b->pending_fd, NULL, 0, &len) != 0) {
		close(b->pending_fd);
		b->pending_fd = -1;
	}
}

/*
 * Asks for "setup" and parses it. An answer not there by the deadline is
 * parked (irqbalance would die of a close before it answers).
 */
static int ib_read_setup(struct irqbal *b, uint64_t deadline, struct irqbal_setup *s,
			 struct vf_err *e)
{
	_cleanup_free_ char *buf = vf_xcalloc(1, IRQBAL_REPLY_MAX + 1);
	size_t len = 0;
	int fd, r;

	fd = ib_connect(b, deadline, e);
	if (fd < 0)
		return -1;
	if (ib_send(fd, "setup", 5, e) < 0) {
		close(fd);
		return -1;
	}
	while ((r = drain(fd, buf, IRQBAL_REPLY_MAX + 1, &len)) == 0 &&
	       wait_fd(fd, POLLIN, deadline) > 0)
		;
	if (r == 0) {
		b->pending_fd = fd; /* read and closed by irqbal_tick() */
		return vf_err_set(e, ETIMEDOUT, "irqbalance %d did not answer \"setup\" within %u ms",
				  (int)b->pid, b->deadline_ms);
	}
	close(fd);
	if (r < 0)
		return vf_err_set(e, -r, "irqbalance %d: reading its answer", (int)b->pid);
	if (len == 0)
		return vf_err_set(e, EACCES, "irqbalance %d closed without answering (it answers root only)",
				  (int)b->pid);
	return irqbal_parse_setup(buf, len, s, e);
}

static void set_state(struct irqbal *b, enum irqbal_state s, const char *why)
{
	b->state = s;
	snprintf(b->why, sizeof(b->why), "%s", why ? why : "");
}

/* Makes sure b->pid is a running irqbalance (or 0); resets on a change. */
static void find(struct irqbal *b, bool force)
{
	uint64_t t = vf_now_ms();
	pid_t pid;

	if (b->pid && is_irqbalance(b->h, b->pid))
		return;
	if (!force && !b->pid && b->state != IRQBAL_UNKNOWN && t - b->last_scan_ms < 5000)
		return;
	b->last_scan_ms = t;
	pid = find_irqbalance(b->h);
	if (pid == b->pid && b->state != IRQBAL_UNKNOWN)
		return;
	/* another irqbalance (or none): nothing we sent is in its list */
	if (b->pending_fd >= 0) {
		close(b->pending_fd);
		b->pending_fd = -1;
	}
	b->pid = pid;
	memset(&b->others, 0, sizeof(b->others));
	memset(&b->sent, 0, sizeof(b->sent));
	b->quiet_after_ms = 0;
	b->sleep_s = 10;
	b->dirty = pid != 0;
	if (!pid)
		set_state(b, IRQBAL_NOT_RUNNING, NULL);
	else if (geteuid() != 0 && b->peer_uid == 0)
		set_state(b, IRQBAL_UNTOLD, "vfiod is not root: irqbalance answers root only");
	else
		set_state(b, IRQBAL_TOLD, NULL);
}

/* vfiod's bans: the union over its devices. */
static int ours(const struct irqbal *b, struct irqbal_list *out, struct vf_err *e)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < b->n_dev; i++)
		if (irqbal_list_union(out, out, &b->dev[i].irqs) < 0)
			return vf_err_set(e, ENOSPC, "vfiod would ban more than %d IRQs",
					  IRQBAL_LIST_MAX);
	return 0;
}

/* Sends others ∪ ours, reading the others first where that is safe. */
static int sync_locked(struct irqbal *b, struct vf_err *e)
{
	uint64_t deadline = vf_now_ms() + b->deadline_ms;
	struct irqbal_list want, all;
	struct irqbal_setup s;
	struct vf_err se = { 0 };
	char cmd[IRQBAL_CMD_MAX];
	int len, fd;

	find(b, false);
	if (!b->pid)
		return 0;
	if (b->state == IRQBAL_UNTOLD && geteuid() != 0 && b->peer_uid == 0)
		return vf_err_set(e, EPERM, "irqbalance %d runs but cannot be told: %s", (int)b->pid,
				  b->why);
	b->dirty = true;
	if (ours(b, &want, e) < 0)
		return -1;
	/*
	 * Its current list, unless a rescan we started may hold its loop (the
	 * answer would take up to an interval) or an answer is still parked:
	 * then our record of it, read before our last ban.
	 */
	if (b->pending_fd < 0 && vf_now_ms() >= b->quiet_after_ms) {
		if (ib_read_setup(b, deadline, &s, &se) == 0) {
			b->why[0] = '\0';
			irqbal_others(&s.banned, &b->sent, &b->others, &b->others);
			b->sleep_s = s.sleep_s ? s.sleep_s : 1;
		} else if (se.errnum == EACCES || se.errnum == EPERM || se.errnum == ENOENT) {
			set_state(b, IRQBAL_UNTOLD, se.msg);
			return vf_err_set(e, se.errnum, "irqbalance %d runs but cannot be told: %s",
					  (int)b->pid, se.msg);
		} else {
			snprintf(b->why, sizeof(b->why), "its ban list was not read (%s): kept vfiod's record of it",
				 se.msg);
		}
	}
	if (irqbal_list_union(&all, &b->others, &want) < 0)
		return vf_err_set(e, ENOSPC, "irqbalance's ban list would hold more than %d IRQs",
				  IRQBAL_LIST_MAX);
	len = irqbal_format_ban(&all, cmd, sizeof(cmd), e);
	if (len < 0)
		return -1;
	fd = ib_connect(b, deadline, e);
	if (fd < 0) {
		if (e->errnum != ETIMEDOUT)
			set_state(b, IRQBAL_UNTOLD, e->msg);
		return -1;
	}
	if (ib_send(fd, cmd, (size_t)len, e) < 0) {
		close(fd);
		return -1;
	}
	close(fd); /* no answer to a setting: closing is safe */
	b->sent = want;
	b->dirty = false;
	b->sent_count++;
	/* its next interval rescans, sleeping a whole interval in its loop */
	b->quiet_after_ms = vf_now_ms() + 2000ull * (b->sleep_s < 30 ? b->sleep_s : 30) + 1000;
	/* told; a note about an unread list stays until the next good read */
	if (b->state != IRQBAL_TOLD)
		set_state(b, IRQBAL_TOLD, NULL);
	return 0;
}

void irqbal_init(struct irqbal *b, const struct hostfs *h, unsigned deadline_ms)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	b->h = h;
	b->deadline_ms = deadline_ms ? deadline_ms : 200;
	b->pending_fd = -1;
	b->sleep_s = 10;
	find(b, true);
}

void irqbal_fini(struct irqbal *b)
{
	if (b->pending_fd >= 0) {
		uint64_t deadline = vf_now_ms() + 1000ull * (b->sleep_s < 15 ? b->sleep_s : 15) + 500;

		while (b->pending_fd >= 0 && wait_fd(b->pending_fd, POLLIN, deadline) > 0)
			drain_pending(b);
		if (b->pending_fd >= 0)
			close(b->pending_fd);
	}
	free(b->dev);
	pthread_mutex_destroy(&b->mu);
	memset(b, 0, sizeof(*b));
	b->pending_fd = -1;
}

static struct irqbal_dev *dev_find(struct irqbal *b, const char *bdf)
{
	for (size_t i = 0; i < b->n_dev; i++)
		if (strcmp(b->dev[i].bdf, bdf) == 0)
			return &b->dev[i];
	return NULL;
}

int irqbal_hold(struct irqbal *b, const char *bdf, const unsigned *irqs, size_t n,
		struct vf_err *e)
{
	struct irqbal_dev *d;
	struct irqbal_list l;
	int rc;

	pthread_mutex_lock(&b->mu);
	drain_pending(b);
	d = dev_find(b, bdf);
	l = d ? d->irqs : (struct irqbal_list){ 0 };
	for (size_t i = 0; i < n; i++)
		if (irqs[i] > IRQBAL_IRQ_MAX || irqbal_list_add(&l, irqs[i]) < 0) {
			pthread_mutex_unlock(&b->mu);
			return vf_err_set(e, ENOSPC, "%s: too many vectors to ban in irqbalance", bdf);
		}
	if (!d) {
		b->dev = vf_xreallocarray(b->dev, b->n_dev + 1, sizeof(*b->dev));
		d = &b->dev[b->n_dev++];
		snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	}
	d->irqs = l;
	rc = sync_locked(b, e);
	pthread_mutex_unlock(&b->mu);
	return rc;
}

int irqbal_release(struct irqbal *b, const char *bdf, struct vf_err *e)
{
	struct irqbal_dev *d;
	int rc = 0;

	pthread_mutex_lock(&b->mu);
	drain_pending(b);
	d = dev_find(b, bdf);
	if (d) {
		*d = b->dev[--b->n_dev];
		rc = sync_locked(b, e);
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

void irqbal_tick(struct irqbal *b)
{
	struct vf_err e = { 0 };

	pthread_mutex_lock(&b->mu);
	drain_pending(b);
	find(b, false);
	/* a failed send, or an irqbalance (re)started while vfiod holds bans */
	if (b->pid && b->dirty && (b->n_dev || b->sent.n))
		(void)sync_locked(b, &e);
	else if (b->pid && !b->n_dev && !b->sent.n)
		b->dirty = false;
	pthread_mutex_unlock(&b->mu);
}

enum irqbal_state irqbal_state(struct irqbal *b, char *why, size_t cap)
{
	enum irqbal_state s;

	pthread_mutex_lock(&b->mu);
	s = b->state;
	if (why && cap)
		snprintf(why, cap, "%s", b->why);
	pthread_mutex_unlock(&b->mu);
	return s;
}
