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
#include "capture_bpf.h"
#include "daemon.h"
#include "groups.h"
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
	unsigned int nclients;
	struct mclient c[METRICS_MAX_CLIENTS];
};

static void set_events(struct daemon *d, struct mclient *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = &c->src };

	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->src.fd, &ev) < 0)
		pr_warn("metrics: epoll_ctl fd %d: %s\n", c->src.fd, strerror(errno));
}

static void client_close(struct daemon *d, struct mclient *c)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->src.fd, NULL);
	close(c->src.fd);
	c->src.fd = -1;
	free(c->out);
	c->out = NULL;
	c->state = MC_FREE;
	d->metrics->nclients--;
}

/* ---- the counters, from the daemon ------------------------------------ */

/*
 * The same struct `mctun stats` reads from the pins: in tc and xdp mode
 * the BPF maps (info, counters, groups) through the daemon's own fds; the
 * daemon's counters and peer table from memory, built by the code that
 * publishes them.
 */
static void daemon_counters(struct daemon *d, struct counters *c,
			    struct mctun_peer_info *peers)
{
	const struct config *cfg = d->cfg;
	unsigned int i;

	snprintf(c->ifname, sizeof(c->ifname), "%s", cfg->ifname);
	if (d->bpf) {
		struct counters_fds fds;

		capture_bpf_fds(d->bpf, &fds);
		counters_read_fds(c, &fds);
	} else {
		c->have_info = true;
		c->info.pid = getpid();
		c->info.ifindex = cfg->ifindex;
		c->info.mode = cfg->mode;
		c->info.flags = config_auth_flags(cfg);
		c->info.start_ns = realtime_ns() - (now_ns() - d->t_start);
		c->groups = calloc(cfg->ngroups, sizeof(*c->groups));
		for (i = 0; c->groups && i < cfg->ngroups; i++) {
			c->groups[i].g = cfg->groups[i].g;
			c->groups[i].id = cfg->groups[i].id;
			c->groups[i].flags = groups_dir_flags(&cfg->groups[i]);
		}
		c->ngroups = c->groups ? cfg->ngroups : 0;
	}
	c->npeers = peers_table(&d->peers, peers, MCTUN_PINNED_PEERS);
	c->peers = peers;
	c->ds = d->st;
	c->have_dstats = true;
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

static int render(struct daemon *d, struct membuf *m)
{
	static struct mctun_peer_info peers[MCTUN_PINNED_PEERS];
	struct counters c = {};
	FILE *f;
	int err = 0;

	daemon_counters(d, &c, peers);
	f = fopencookie(m, "w", (cookie_io_functions_t){ .write = membuf_write });
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

static void client_write(struct daemon *d, struct mclient *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->src.fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				set_events(d, c, EPOLLOUT);
				return;
			}
			client_close(d, c);
			return;
		}
		c->out_off += n;
	}
	free(c->out);
	c->out = NULL;
	shutdown(c->src.fd, SHUT_WR);
	c->state = MC_DRAIN;
	set_events(d, c, EPOLLIN);
}

static void respond(struct daemon *d, struct mclient *c, int code, bool head_only)
{
	struct membuf m = { .len = HEAD_ROOM };
	char head[HEAD_ROOM], err_body[64];
	int hlen, elen;

	if (code == 200) {
		d->st.http_ok++;           /* counted before rendering: it shows itself */
		if (render(d, &m)) {
			m.len = HEAD_ROOM;
			code = 503;
			d->st.http_ok--;
		}
	}
	if (code != 200) {
		d->st.http_errors++;
		elen = snprintf(err_body, sizeof(err_body), "%d %s\n", code, http_reason(code));
		if (membuf_put(&m, err_body, elen)) {
			free(m.p);
			client_close(d, c);
			return;
		}
	}
	hlen = http_head(head, sizeof(head), code,
			 code == 200 ? HTTP_METRICS_TYPE : "text/plain; charset=utf-8",
			 m.len - HEAD_ROOM);
	if (hlen <= 0 || hlen >= HEAD_ROOM || !m.p) {    /* cannot be: the head is short */
		free(m.p);
		client_close(d, c);
		return;
	}
	memcpy(m.p + HEAD_ROOM - hlen, head, hlen);
	c->out = m.p;
	c->out_off = HEAD_ROOM - hlen;
	c->out_len = head_only ? HEAD_ROOM : m.len;
	c->state = MC_WRITE;
	client_write(d, c);
}

/* ---- reading ------------------------------------------------------------ */

static void client_read(struct daemon *d, struct mclient *c)
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
			client_close(d, c);
			return;
		}
		c->req_len += n;
		res = http_parse(c->req, c->req_len, &r);
		if (res > 0) {
			respond(d, c, http_route(&r), !strcmp(r.method, "HEAD"));
			return;
		}
		if (res < 0) {
			respond(d, c, -res, false);
			return;
		}
		if (c->req_len == sizeof(c->req)) {
			respond(d, c, 431, false);
			return;
		}
	}
}

static void client_drain(struct daemon *d, struct mclient *c)
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
	client_close(d, c);
}

/* ---- accepting ---------------------------------------------------------- */

/* A free slot, made by closing the oldest client when there is none. */
static struct mclient *client_slot(struct daemon *d)
{
	struct metrics *m = d->metrics;
	struct mclient *oldest = &m->c[0];
	unsigned int j;

	for (j = 0; j < METRICS_MAX_CLIENTS; j++) {
		if (m->c[j].state == MC_FREE)
			return &m->c[j];
		if (m->c[j].t_accept < oldest->t_accept)
			oldest = &m->c[j];
	}
	d->st.http_refused++;
	pr_debug("metrics: closed the oldest client for a new one: %u at once\n",
		 METRICS_MAX_CLIENTS);
	client_close(d, oldest);
	return oldest;
}

static void on_accept(struct daemon *d, uint64_t now)
{
	struct metrics *m = d->metrics;
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
		c = client_slot(d);
		c->src.kind = SRC_METRICS;
		c->src.fd = fd;
		c->state = MC_READ;
		c->req_len = 0;
		c->t_accept = now;
		c->deadline = now + (uint64_t)(d->cfg->metrics_timeout_s * NSEC);
		ev.events = EPOLLIN;
		ev.data.ptr = &c->src;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
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

int metrics_open(struct daemon *d)
{
	const struct endpoint *ep = &d->cfg->metrics;
	struct epoll_event ev;
	struct metrics *m;
	int fd, one = 1, err;
	unsigned int i;

	if (!d->cfg->metrics_on)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(m->c); i++)
		m->c[i].src.fd = -1;
	m->listen.kind = SRC_METRICS;
	m->listen.fd = -1;
	d->metrics = m;

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
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	pr_info("metrics: serving http://%s%s\n", ep->name, HTTP_METRICS_PATH);
	return 0;
}

void metrics_event(struct daemon *d, struct src *s, uint32_t events, uint64_t now)
{
	struct mclient *c = (struct mclient *)s;

	if (s == &d->metrics->listen) {
		on_accept(d, now);
		return;
	}
	if (c->src.fd < 0)
		return;
	switch (c->state) {
	case MC_READ:
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			client_read(d, c);
		break;
	case MC_WRITE:
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			client_write(d, c);
		break;
	case MC_DRAIN:
		client_drain(d, c);
		break;
	case MC_FREE:
		break;
	}
}

void metrics_tick(struct daemon *d, uint64_t now)
{
	struct metrics *m = d->metrics;
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < ARRAY_SIZE(m->c); i++) {
		struct mclient *c = &m->c[i];

		if (c->state == MC_FREE || now < c->deadline)
			continue;
		/* one that has its answer and lingers is not a timeout */
		if (c->state != MC_DRAIN) {
			d->st.http_timeouts++;
			pr_debug("metrics: closed a client after %.1f s without a whole exchange\n",
				 d->cfg->metrics_timeout_s);
		}
		client_close(d, c);
	}
}

void metrics_close(struct daemon *d)
{
	struct metrics *m = d->metrics;
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < ARRAY_SIZE(m->c); i++)
		if (m->c[i].state != MC_FREE)
			client_close(d, &m->c[i]);
	if (m->listen.fd >= 0)
		close(m->listen.fd);
	free(m);
	d->metrics = NULL;
}
