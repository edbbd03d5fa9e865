// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The --metrics HTTP server, inside the daemon's event loop (metrics.h
 * says what it answers and within which bounds).
 *
 * A client goes READ (collect the request head) -> WRITE (send the
 * response as the socket takes it) -> DRAIN (our side shut down; read and
 * discard until the client closes, so unread request bytes never turn our
 * close into a reset that could cut the response) -> closed. Its deadline,
 * set at accept, bounds the three together. With every slot taken, a new
 * client closes the oldest: a scraper's whole exchange takes milliseconds,
 * so clients that stall cannot keep it out for --metrics-timeout at a time.
 */
#include <errno.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "counters.h"
#include "event.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "render.h"
#include "util.h"

#define NSEC            1000000000ull
#define ACCEPTS_PER_EV  32     /* bound per wakeup */
#define READS_PER_EV    8

enum mc_state { MC_FREE, MC_READ, MC_WRITE, MC_DRAIN };

struct mclient {
	struct src src;            /* first: epoll data points here */
	enum mc_state state;
	uint64_t t_accept;         /* monotonic ns, for "the oldest" */
	uint64_t deadline;         /* monotonic ns */
	char *out;                 /* response head + body */
	size_t out_len, out_off;
	size_t req_len;
	char req[METRICS_REQ_MAX];
};

struct metrics {
	struct src listen;
	int epfd;
	const struct config *cfg;      /* the running one (metrics_set_config) */
	struct mctun_dstats *st;       /* http_* counters */
	metrics_fill_fn fill;
	void *ctx;
	unsigned int nclients;
	struct mclient c[METRICS_MAX_CLIENTS];
};

static void set_events(struct metrics *m, struct mclient *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = &c->src };

	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->src.fd, &ev) < 0)
		pr_warn("metrics: epoll_ctl fd %d: %s\n", c->src.fd, strerror(errno));
}

static void client_close(struct metrics *m, struct mclient *c)
{
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->src.fd, NULL);
	close(c->src.fd);
	c->src.fd = -1;
	free(c->out);
	c->out = NULL;
	c->state = MC_FREE;
	m->nclients--;
}

/*
 * A response is built in one growing buffer: room for the head first, the
 * body after it, the head written into its room once the body's length is
 * known. Written through a stdio cookie that grows it by doubling, with no
 * zero-filling (open_memstream's), which made a large body 3 to 4 times
 * slower to render.
 */
#define HEAD_ROOM 256

struct membuf {
	char *p;
	size_t len, cap;
};

static int membuf_put(struct membuf *m, const char *buf, size_t n)
{
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 16384;
		char *p;

		while (cap < m->len + n)
			cap *= 2;
		p = realloc(m->p, cap);
		if (!p)
			return -ENOMEM;
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return 0;
}

static ssize_t membuf_write(void *cookie, const char *buf, size_t n)
{
	return membuf_put(cookie, buf, n) ? -1 : (ssize_t)n;
}

static int render(struct metrics *m, struct membuf *mb)
{
	static struct mctun_peer_info peers[MCTUN_PINNED_PEERS];
	struct counters c = {};
	FILE *f;
	int err = 0;

	m->fill(m->ctx, &c, peers);
	f = fopencookie(mb, "w", (cookie_io_functions_t){ .write = membuf_write });
	if (!f) {
		err = -errno;
	} else {
		__fsetlocking(f, FSETLOCKING_BYCALLER);   /* one thread: skip a lock a call */
		counters_prometheus(f, &c);
		if (fclose(f))
			err = -ENOMEM;
	}
	free(c.groups);
	return err;
}

/* ---- responses ---------------------------------------------------------- */

static void client_write(struct metrics *m, struct mclient *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->src.fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				set_events(m, c, EPOLLOUT);
				return;
			}
			client_close(m, c);
			return;
		}
		c->out_off += n;
	}
	free(c->out);
	c->out = NULL;
	shutdown(c->src.fd, SHUT_WR);
	c->state = MC_DRAIN;
	set_events(m, c, EPOLLIN);
}

static void respond(struct metrics *m, struct mclient *c, int code, bool head_only)
{
	struct membuf mb = { .len = HEAD_ROOM };
	char head[HEAD_ROOM], err_body[64];
	int hlen, elen;

	if (code == 200) {
		m->st->http_ok++;           /* counted before rendering: it shows itself */
		if (render(m, &mb)) {
			mb.len = HEAD_ROOM;
			code = 503;
			m->st->http_ok--;
		}
	}
	if (code != 200) {
		m->st->http_errors++;
		elen = snprintf(err_body, sizeof(err_body), "%d %s\n", code, http_reason(code));
		if (membuf_put(&mb, err_body, elen)) {
			free(mb.p);
			client_close(m, c);
			return;
		}
	}
	hlen = http_head(head, sizeof(head), code,
			 code == 200 ? HTTP_METRICS_TYPE : "text/plain; charset=utf-8",
			 mb.len - HEAD_ROOM);
	if (hlen <= 0 || hlen >= HEAD_ROOM || !mb.p) {    /* cannot be: the head is short */
		free(mb.p);
		client_close(m, c);
		return;
	}
	memcpy(mb.p + HEAD_ROOM - hlen, head, hlen);
	c->out = mb.p;
	c->out_off = HEAD_ROOM - hlen;
	c->out_len = head_only ? HEAD_ROOM : mb.len;
	c->state = MC_WRITE;
	client_write(m, c);
}

/* ---- reading ------------------------------------------------------------ */

static void client_read(struct metrics *m, struct mclient *c)
{
	struct http_request r;
	int i, res;
	ssize_t n;

	for (i = 0; i < READS_PER_EV; i++) {
		n = recv(c->src.fd, c->req + c->req_len, sizeof(c->req) - c->req_len,
			 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {              /* gone before asking anything whole */
			client_close(m, c);
			return;
		}
		c->req_len += n;
		res = http_parse(c->req, c->req_len, &r);
		if (res > 0) {
			respond(m, c, http_route(&r), !strcmp(r.method, "HEAD"));
			return;
		}
		if (res < 0) {
			respond(m, c, -res, false);
			return;
		}
		if (c->req_len == sizeof(c->req)) {
			respond(m, c, 431, false);
			return;
		}
	}
}

static void client_drain(struct metrics *m, struct mclient *c)
{
	char buf[1024];
	ssize_t n;
	int i;

	for (i = 0; i < READS_PER_EV; i++) {
		n = recv(c->src.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
	}
	/* closed by the client, an error, or more than a request's worth */
	client_close(m, c);
}

/* ---- accepting ---------------------------------------------------------- */

/* A free slot, made by closing the oldest client when there is none. */
static struct mclient *client_slot(struct metrics *m)
{
	struct mclient *oldest = &m->c[0];
	unsigned int j;

	for (j = 0; j < METRICS_MAX_CLIENTS; j++) {
		if (m->c[j].state == MC_FREE)
			return &m->c[j];
		if (m->c[j].t_accept < oldest->t_accept)
			oldest = &m->c[j];
	}
	m->st->http_refused++;
	pr_debug("metrics: closed the oldest client for a new one: %u at once\n",
		 METRICS_MAX_CLIENTS);
	client_close(m, oldest);
	return oldest;
}

static void client_accept(struct metrics *m, uint64_t now)
{
	struct epoll_event ev;
	struct mclient *c;
	int i, fd;

	for (i = 0; i < ACCEPTS_PER_EV; i++) {
		fd = accept4(m->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				pr_warn("metrics: accept: %s\n", strerror(errno));
			return;
		}
		c = client_slot(m);
		c->src.kind = SRC_METRICS;
		c->src.fd = fd;
		c->state = MC_READ;
		c->req_len = 0;
		c->t_accept = now;
		c->deadline = now + (uint64_t)(m->cfg->metrics_timeout_s * NSEC);
		ev.events = EPOLLIN;
		ev.data.ptr = &c->src;
		if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			pr_warn("metrics: epoll_ctl: %s\n", strerror(errno));
			close(fd);
			c->state = MC_FREE;
			c->src.fd = -1;
			continue;
		}
		m->nclients++;
	}
}

/* ---- the daemon's hooks -------------------------------------------------- */

int metrics_open(const struct config *cfg, int epfd, struct mctun_dstats *st,
		 metrics_fill_fn fill, void *ctx, struct metrics **out)
{
	const struct endpoint *ep = &cfg->metrics;
	struct epoll_event ev;
	struct metrics *m;
	int fd, one = 1, err;
	unsigned int i;

	*out = NULL;
	if (!cfg->metrics_on)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(m->c); i++)
		m->c[i].src.fd = -1;
	m->listen.kind = SRC_METRICS;
	m->listen.fd = -1;
	m->epfd = epfd;
	m->cfg = cfg;
	m->st = st;
	m->fill = fill;
	m->ctx = ctx;
	*out = m;

	fd = socket(ep->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("--metrics %s: socket: %s\n", ep->name, strerror(-err));
		return err;
	}
	m->listen.fd = fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&ep->ss, ep->sslen) < 0 ||
	    listen(fd, METRICS_MAX_CLIENTS) < 0) {
		err = -errno;
		pr_warn("--metrics %s: %s\n", ep->name, strerror(-err));
		return err;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &m->listen;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	pr_info("metrics: serving http://%s%s\n", ep->name, HTTP_METRICS_PATH);
	return 0;
}

void metrics_event(struct metrics *m, struct src *s, uint32_t events, uint64_t now)
{
	struct mclient *c = (struct mclient *)s;

	if (s == &m->listen) {
		client_accept(m, now);
		return;
	}
	if (c->src.fd < 0)
		return;
	switch (c->state) {
	case MC_READ:
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			client_read(m, c);
		break;
	case MC_WRITE:
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			client_write(m, c);
		break;
	case MC_DRAIN:
		client_drain(m, c);
		break;
	case MC_FREE:
		break;
	}
}

void metrics_tick(struct metrics *m, uint64_t now)
{
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < ARRAY_SIZE(m->c); i++) {
		struct mclient *c = &m->c[i];

		if (c->state == MC_FREE || now < c->deadline)
			continue;
		/* one that has its answer and lingers is not a timeout */
		if (c->state != MC_DRAIN) {
			m->st->http_timeouts++;
			pr_debug("metrics: closed a client after %.1f s without a whole exchange\n",
				 m->cfg->metrics_timeout_s);
		}
		client_close(m, c);
	}
}

void metrics_set_config(struct metrics *m, const struct config *cfg)
{
	if (m)
		m->cfg = cfg;
}

void metrics_close(struct metrics *m)
{
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < ARRAY_SIZE(m->c); i++)
		if (m->c[i].state != MC_FREE)
			client_close(m, &m->c[i]);
	if (m->listen.fd >= 0)
		close(m->listen.fd);
	free(m);
}
