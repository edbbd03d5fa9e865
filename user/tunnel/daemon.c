// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The event loop: one thread, one epoll set, nothing that blocks.
 *
 * Captured datagrams (ring or socket) are framed once and queued to every
 * connected peer; frames from a peer are re-injected on the island and
 * queued to every other peer. Queues are bounded and what does not fit is
 * dropped and counted per peer, so one slow peer never holds up another.
 * Output is flushed at the end of each pass over the ready events, which
 * coalesces the frames of a burst into few writes without delaying any.
 *
 * A connection speaks the mctun protocol or, with --framing udptunnel, the
 * bare length-prefixed framing of udptunnel (user/utframe.h): no hello, no
 * keepalive, no origin or hops; its peer is up as soon as TCP is, and TCP
 * keepalives find it dead.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "config.h"
#include "capture_bpf.h"
#include "capture_socket.h"
#include "daemon.h"
#include "groups.h"
#include "inject.h"
#include "instances.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define IN_CAP        (2 * FRAME_MAX)  /* a whole frame always fits after compaction */
#define TICK_NS       (200 * 1000000ull)
#define FLUSH_GAP_MAX (2 * 1000000ull)    /* flush pacing holds frames at most this */
#define MAX_EVENTS    64
#define READS_PER_EV  8                /* bound per wakeup, for fairness */
#define TLS_READS_PER_EV 32            /* the same for TLS: one record (16 KiB) a read */
#define REFUSAL_LINES 20               /* refusals logged per second; the rest summed */
#define INJ_BATCH     64
#define INJ_ARENA     (1u << 20)
#define NSEC          1000000000ull

/* ---- peers ------------------------------------------------------------ */

static void peer_arm_out(struct daemon *d, struct peer *p, bool on)
{
	if (p->src.fd < 0 || p->want_out == on)
		return;
	p->want_out = on;
	ep_set(d->epfd, &p->src, EPOLLIN | (on ? EPOLLOUT : 0), EPOLL_CTL_MOD);
}

static int peer_add(struct daemon *d, struct peer *p)
{
	if (d->npeers == d->cap_peers) {
		unsigned int cap = d->cap_peers ? 2 * d->cap_peers : 16;
		struct peer **n = realloc(d->peers, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->peers = n;
		d->cap_peers = cap;
	}
	d->peers[d->npeers++] = p;
	return 0;
}

struct peer *peer_new(struct daemon *d, int fd, bool outbound, const char *name)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->src.kind = SRC_PEER;
	p->src.fd = fd;
	p->outbound = outbound;
	p->framing = d->cfg->framing;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->in = big_alloc(IN_CAP);
	if (!p->in || obuf_init(&p->out, d->cfg->queue_bytes) || peer_add(d, p)) {
		big_free(p->in, IN_CAP);
		obuf_free(&p->out);
		free(p);
		return NULL;
	}
	return p;
}

static void peer_send_hello(struct daemon *d, struct peer *p, uint64_t now)
{
	uint8_t b[FRAME_HDR_LEN + HELLO_LEN];
	size_t n = frame_put_hello(b, d->node_id, 0);

	obuf_put2(&p->out, SIZE_MAX, b, n, NULL, 0);
	p->dirty = true;
	p->state = PS_HELLO;
	p->t_rx = p->t_tx = now;
}

/*
 * Every refused connection is logged with its address and the reason, but a
 * flood of them must not flood the log: past REFUSAL_LINES in one second
 * they are only counted, and tick() says how many went unlogged.
 */
static bool refusal_log_ok(struct daemon *d, uint64_t now)
{
	if (now - d->rl_start >= NSEC) {
		if (d->rl_quiet)
			pr_warn("peers: %llu more refusals not logged (the counters have them)\n",
				(unsigned long long)d->rl_quiet);
		d->rl_start = now;
		d->rl_lines = 0;
		d->rl_quiet = 0;
	}
	if (d->rl_lines < REFUSAL_LINES) {
		d->rl_lines++;
		return true;
	}
	d->rl_quiet++;
	return false;
}

/* Why an inbound connection was refused, for the counters. */
enum refusal { RF_OTHER, RF_ALLOW, RF_PENDING, RF_AUTH, RF_PLAIN, RF_TIMEOUT };

static void count_refusal(struct daemon *d, bool outbound, enum refusal rf)
{
	if (rf == RF_AUTH) {
		d->st.refused_auth++;      /* both directions */
		if (outbound)
			return;
	}
	if (outbound)
		return;
	d->st.refused++;
	switch (rf) {
	case RF_ALLOW:   d->st.refused_allow++;   break;
	case RF_PENDING: d->st.refused_pending++; break;
	case RF_PLAIN:   d->st.refused_plain++;   break;
	case RF_TIMEOUT: d->st.refused_timeout++; break;
	default:         break;
	}
}

/* Frames may flow: after the hello, or at once with udptunnel framing. */
static void peer_up(struct peer *p, uint64_t now)
{
	p->state = PS_UP;
	p->t_up = now;
	p->backoff_ns = NSEC;
	obuf_prefault(&p->out);
}

/* Closes the connection itself: TLS state, epoll entry, socket. */
static void peer_disconnect(struct daemon *d, struct peer *p)
{
	if (p->tls) {
		tls_conn_free(p->tls);
		p->tls = NULL;
	}
	p->rx_more = false;
	if (p->src.fd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, p->src.fd, NULL);
		close(p->src.fd);
		p->src.fd = -1;
	}
}

/* Ends a connection. An outbound peer goes back to waiting for its next
 * attempt; an inbound one is freed at the end of the loop pass. An inbound
 * connection that never came up counts as refused, for the reason rf. */
static void peer_refuse(struct daemon *d, struct peer *p, enum refusal rf, const char *why)
{
	uint64_t now = now_ns();

	if (p->state == PS_UP)
		pr_info("peer %s: down: %s (in %llu frames, out %llu frames, %llu dropped)\n",
			p->name, why, (unsigned long long)p->st.frames_in,
			(unsigned long long)p->st.frames_out,
			(unsigned long long)p->st.queue_drops);
	else if (!p->outbound) {
		if (refusal_log_ok(d, now))
			pr_warn("peer %s: refused: %s\n", p->name, why);
	} else if (!p->fail_logged)
		pr_warn("peer %s: %s; retrying with back-off up to %.0f s\n", p->name, why,
			d->cfg->backoff_max_s);
	else
		pr_debug("peer %s: %s\n", p->name, why);
	/* an unreachable peer is reported once, not every retry */
	p->fail_logged = p->outbound && p->state != PS_UP;
	if (p->state != PS_UP)
		count_refusal(d, p->outbound, rf);
	peer_disconnect(d, p);
	p->in_len = 0;
	obuf_reset(&p->out);
	p->want_out = p->dirty = false;
	if (p->outbound) {
		if (p->state == PS_UP)
			p->backoff_ns = NSEC;   /* it worked: start over at 1 s */
		p->state = PS_IDLE;
		p->t_retry = now + p->backoff_ns;
		p->backoff_ns = MIN(2 * p->backoff_ns,
				    (uint64_t)(d->cfg->backoff_max_s * NSEC));
	} else {
		p->dead = true;
	}
}

static void peer_close(struct daemon *d, struct peer *p, const char *why)
{
	peer_refuse(d, p, RF_OTHER, why);
}

/* A TLS failure: plain text where TLS was expected, or failed
 * authentication before the peer came up, are refusals of their own. */
static void peer_tls_fail(struct daemon *d, struct peer *p, int err)
{
	enum refusal rf = RF_OTHER;

	if (err == -EPROTONOSUPPORT)
		rf = RF_PLAIN;
	else if (err == -EPROTO && p->state != PS_UP)
		rf = RF_AUTH;
	peer_refuse(d, p, rf, tls_why(p->tls));
}

static void peer_read(struct daemon *d, struct peer *p, uint64_t now);

static void peer_tls_step(struct daemon *d, struct peer *p, uint64_t now)
{
	int err = tls_handshake(p->tls);

	if (err == -EAGAIN) {
		peer_arm_out(d, p, tls_want_write(p->tls));
		return;
	}
	if (err) {
		peer_tls_fail(d, p, err);
		return;
	}
	pr_debug("peer %s: TLS done (%s), sending hello\n", p->name, tls_peer_desc(p->tls));
	peer_send_hello(d, p, now);
	/* The peer's hello may have come with its last handshake bytes and
	 * wait in OpenSSL's buffer, where epoll does not see it. */
	peer_read(d, p, now);
}

/*
 * The kernel probes a connection idle for idle_s (whole seconds, at least
 * 1), then every `intvl` seconds, and ends it when about dead_s have passed
 * without an answer; TCP_USER_TIMEOUT ends it too when data stays
 * unacknowledged that long (no probes go out while data is outstanding).
 * The reader then gets ETIMEDOUT.
 */
static int tcp_keepalive_on(int fd, double idle_s, double dead_s)
{
	int on = 1, idle = (int)idle_s, intvl, cnt, ms = (int)(dead_s * 1000);
	double rest;

	idle += idle < idle_s || idle < 1;          /* rounded up, at least 1 */
	rest = dead_s > idle ? dead_s - idle : 1;
	intvl = idle;
	if (rest / intvl > 127)                     /* TCP_KEEPCNT's maximum */
		intvl = (int)(rest / 127) + 1;
	cnt = (int)(rest / intvl);
	cnt += cnt < 1 || cnt * intvl < rest;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)) < 0)
		return -errno;
	return 0;
}

/*
 * A TCP connection is established: authenticate (TLS, when configured),
 * then say hello, all within --auth-timeout of this moment. With udptunnel
 * framing, which has neither, the peer is up at once.
 */
static void peer_start(struct daemon *d, struct peer *p, uint64_t now)
{
	int err;

	p->t_deadline = now + (uint64_t)(d->cfg->handshake_s * NSEC);
	if (p->framing == MCTUN_FRAMING_UDPTUNNEL) {
		err = tcp_keepalive_on(p->src.fd, d->cfg->keepalive_s, d->cfg->dead_s);
		if (err)
			pr_warn("peer %s: TCP keepalive: %s; a dead peer will go unnoticed\n",
				p->name, strerror(-err));
		p->t_rx = p->t_tx = now;
		peer_up(p, now);
		pr_info("peer %s: up (udptunnel framing, %s); unauthenticated (--insecure)\n",
			p->name, p->outbound ? "outbound" : "inbound");
		return;
	}
	if (!d->cfg->tls) {
		pr_debug("peer %s: connected, sending hello\n", p->name);
		peer_send_hello(d, p, now);
		return;
	}
	if (tls_conn_new(d->cfg->tls, p->src.fd, !p->outbound, &p->tls)) {
		peer_close(d, p, "TLS: out of memory");
		return;
	}
	p->state = PS_TLS;
	p->t_rx = p->t_tx = now;
	peer_tls_step(d, p, now);
}

void peer_drop(struct daemon *d, struct peer *p, const char *why)
{
	if (p->dead)
		return;
	if (p->state == PS_UP)
		pr_info("peer %s: down: %s (in %llu frames, out %llu frames, %llu dropped)\n",
			p->name, why, (unsigned long long)p->st.frames_in,
			(unsigned long long)p->st.frames_out,
			(unsigned long long)p->st.queue_drops);
	else
		pr_info("peer %s: closed: %s\n", p->name, why);
	peer_disconnect(d, p);
	p->want_out = p->dirty = false;
	p->dead = true;
}

static void peer_connect(struct daemon *d, struct peer *p, uint64_t now)
{
	const struct endpoint *ep = &d->cfg->peer[p->slot];
	int fd, one = 1;

	fd = socket(ep->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pr_warn("peer %s: socket: %s\n", p->name, strerror(errno));
		p->t_retry = now + p->backoff_ns;
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->src.fd = fd;
	p->state = PS_CONNECTING;
	p->t_deadline = now + (uint64_t)(d->cfg->handshake_s * NSEC);
	if (connect(fd, (const struct sockaddr *)&ep->ss, ep->sslen) < 0 &&
	    errno != EINPROGRESS) {
		char why[96];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		ep_set(d->epfd, &p->src, EPOLLIN, EPOLL_CTL_ADD);
		peer_close(d, p, why);
		return;
	}
	p->want_out = true;
	ep_set(d->epfd, &p->src, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
}

static void peer_connected(struct daemon *d, struct peer *p, uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(p->src.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		char why[96];

		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		peer_close(d, p, why);
		return;
	}
	peer_start(d, p, now);
}

/* Queue a frame (header + payload) to one peer, within its share of the
 * memory bound, or count the drop. */
static void peer_queue(struct peer *p, size_t share, const uint8_t *hdr, size_t hlen,
		       const uint8_t *payload, uint32_t plen, uint64_t now)
{
	if (obuf_put2(&p->out, share, hdr, hlen, payload, plen)) {
		p->st.queue_drops++;
		return;
	}
	p->st.frames_out++;
	p->st.bytes_out += hlen + plen;
	p->dirty = true;
	p->t_tx = now;
}

/* Each header is built once, the first time a peer of its framing needs
 * it. A udptunnel-framed connection carries the one configured group. */
static void fanout(struct daemon *d, const struct data_hdr *h, const uint8_t *payload,
		   uint32_t len, const struct peer *except)
{
	uint8_t hdr[FRAME_HDR_LEN + DATA_HDR_LEN], uth[UT_HDR_LEN];
	size_t hl = 0;
	int utl = 0;
	uint64_t now = 0;
	unsigned int i;
	/* Each peer's share of --queue-total: a slow peer cannot take what
	 * the others need, and however many connect, memory stays bounded. */
	size_t share = d->cfg->queue_total / (d->npeers ? d->npeers : 1);

	d->moved = true;
	for (i = 0; i < d->npeers; i++) {
		struct peer *p = d->peers[i];

		if (p == except || p->state != PS_UP || p->dead)
			continue;
		if (!now)
			now = now_ns();
		if (p->framing == MCTUN_FRAMING_UDPTUNNEL) {
			if (!utl)
				utl = ut_frame_put_hdr(uth, len);
			if (utl < 0) {
				p->st.framing_drops++;
				d->st.framing_drops++;
				continue;
			}
			peer_queue(p, share, uth, utl, payload, len, now);
			continue;
		}
		if (!hl)
			hl = frame_put_data_hdr(hdr, h, len);
		peer_queue(p, share, hdr, hl, payload, len, now);
	}
}

void daemon_capture(struct daemon *d, const struct data_hdr *h, const uint8_t *payload,
		    uint32_t len)
{
	struct data_hdr o = *h;

	o.origin = d->node_id;
	o.seq = d->seq++;
	o.hops = 0;
	fanout(d, &o, payload, len, NULL);
}

/* A datagram the BPF program put in the ring. */
static void on_ring(void *ctx, const struct data_hdr *h, const uint8_t *payload, uint32_t len)
{
	struct daemon *d = ctx;

	d->st.cap_ring++;
	daemon_capture(d, h, payload, len);
}

/* A datagram from a group socket. */
static void on_socket(void *ctx, const struct data_hdr *h, const uint8_t *payload, uint32_t len)
{
	struct daemon *d = ctx;

	d->st.cap_sock++;
	daemon_capture(d, h, payload, len);
}

/* Inbound peers up (authenticated). Only they count against --max-peers:
 * connections still authenticating have --max-pending, which closes the
 * oldest of them for a newcomer, so they can never keep a peer out. */
static unsigned int inbound_up_count(const struct daemon *d)
{
	unsigned int i, n = 0;

	for (i = 0; i < d->npeers; i++)
		n += !d->peers[i]->outbound && !d->peers[i]->dead &&
		     d->peers[i]->state == PS_UP;
	return n;
}

static void on_hello(struct daemon *d, struct peer *p, const struct hello *h, uint64_t now)
{
	char why[128];

	if (h->version != PROTO_VERSION) {
		snprintf(why, sizeof(why), "speaks protocol version %u, this mctun speaks %u",
			 h->version, PROTO_VERSION);
		peer_close(d, p, why);
		return;
	}
	if (h->auth_type) {
		snprintf(why, sizeof(why), "asks for authentication type %u, not configured here",
			 h->auth_type);
		peer_close(d, p, why);
		return;
	}
	/* 0 is no node: the peer table shows it for "not up", and a hop-0
	 * frame's origin is checked against it */
	if (!h->node_id) {
		peer_close(d, p, "node id 0 in its hello");
		return;
	}
	if (h->node_id == d->node_id) {
		peer_close(d, p, "connected to itself");
		return;
	}
	/* a place among --max-peers is taken only once authenticated */
	if (!p->outbound && inbound_up_count(d) >= d->cfg->max_peers) {
		snprintf(why, sizeof(why), "already %u peers (--max-peers)", d->cfg->max_peers);
		peer_close(d, p, why);
		return;
	}
	p->node_id = h->node_id;
	peer_up(p, now);
	pr_info("peer %s: up (node %016llx, %s%s%s)%s\n", p->name, (unsigned long long)h->node_id,
		p->outbound ? "outbound" : "inbound", p->tls ? ", " : "",
		p->tls ? tls_peer_desc(p->tls) : "", p->tls ? "" : "; unauthenticated (--insecure)");
}

static void peer_bad_frame(struct daemon *d, struct peer *p, const char *why);

/*
 * What a peer sends as captured by itself (hops 0) must carry the node id
 * of its hello: a peer cannot speak for another gateway first-hand. Relayed
 * frames cannot be tied to their origin (nothing in a frame is signed), so
 * a member may still forge those; see "Trust" in docs/PROTOCOL.md.
 */
static void on_data(struct daemon *d, struct peer *p, struct frame *f)
{
	struct data_hdr *h = &f->data.hdr;
	int gi;

	if (!h->hops && h->origin != p->node_id) {
		char why[96];

		snprintf(why, sizeof(why), "origin %016llx at hop 0, but the peer is node %016llx",
			 (unsigned long long)h->origin, (unsigned long long)p->node_id);
		peer_bad_frame(d, p, why);
		return;
	}
	if (h->origin == d->node_id) {
		d->st.drop_loop++;
		return;
	}
	if (h->hops >= d->cfg->max_hops) {
		d->st.drop_hops++;
		return;
	}
	/* the group first: frames that are dropped anyway must not take (and
	 * flush) places in the table of origins */
	gi = gtable_find(&d->gtab, d->cfg, h->family, h->group, h->dport);
	if (gi < 0) {
		d->st.drop_group++;
		return;
	}
	if (seen_check(d->seen, h->origin, h->seq) != SEEN_NEW) {
		d->st.drop_dup++;
		return;
	}
	d->moved = true;
	inject_group(&d->inj, &d->cfg->groups[gi], h, f->data.payload, f->data.payload_len);
	if (h->hops + 1u >= d->cfg->max_hops) {
		d->st.drop_hops++;
		return;
	}
	h->hops++;
	fanout(d, h, f->data.payload, f->data.payload_len, p);
}

/*
 * A datagram from a udptunnel-framed peer: for the one configured group.
 * With no origin or hop count to check, what keeps it from looping is that
 * the BPF program skips our own re-injection (by source port) and that it
 * never goes back to the peer it came from. To mctun-framed peers it goes
 * as if captured here. An empty frame is no datagram (no udptunnel sends
 * one; mcasttunnel takes it for the end of the stream): dropped, counted.
 */
static void on_ut_data(struct daemon *d, struct peer *p, const uint8_t *payload, uint32_t len)
{
	const struct mc_group *g = &d->cfg->groups[0].g;
	struct data_hdr h = { .family = g->family, .dport = g->port, .origin = d->node_id };

	if (!len) {
		p->st.framing_drops++;
		d->st.framing_drops++;
		return;
	}
	memcpy(h.group, g->addr, 16);
	d->moved = true;
	inject_group(&d->inj, &d->cfg->groups[0], &h, payload, len);
	h.seq = d->seq++;
	fanout(d, &h, payload, len, p);
}

static void peer_bad_frame(struct daemon *d, struct peer *p, const char *why)
{
	char msg[160];

	d->st.bad_frames++;
	snprintf(msg, sizeof(msg), "bad frame: %s", why);
	peer_close(d, p, msg);
}

/* The udptunnel framing; returns the bytes of p->in taken (p may be closed). */
static size_t ut_parse(struct daemon *d, struct peer *p)
{
	uint32_t max = d->cfg->groups[0].g.family == MCTUN_FAM_INET ? DATA_MAX_PAYLOAD4 :
		       DATA_MAX_PAYLOAD;
	size_t off = 0;
	int guard;

	for (guard = 0; off < p->in_len && guard < 1 << 20; guard++) {
		const char *why = NULL;
		uint32_t plen;
		int r;

		r = ut_frame_parse(p->in + off, p->in_len - off, max, &plen, &why);
		if (r == 0)
			break;
		if (r < 0) {
			char msg[128];

			snprintf(msg, sizeof(msg), "length %u over the largest datagram of %s (%u)",
				 plen, max == DATA_MAX_PAYLOAD4 ? "IPv4" : "IPv6", max);
			peer_bad_frame(d, p, msg);
			break;
		}
		off += r;
		p->st.frames_in++;
		p->st.bytes_in += r;
		on_ut_data(d, p, p->in + off - plen, plen);
	}
	return off;
}

/* The mctun protocol; returns the bytes of p->in taken (p may be closed). */
static size_t mctun_parse(struct daemon *d, struct peer *p, uint64_t now)
{
	size_t off = 0;
	int guard;

	for (guard = 0; off < p->in_len && guard < 1 << 20; guard++) {
		const char *why = NULL;
		struct frame f;
		int r;

		r = frame_parse(p->in + off, p->in_len - off, p->state == PS_HELLO, &f, &why);
		if (r == 0)
			break;
		if (r < 0) {
			/* a TLS ClientHello (record type 22) at a plain listener */
			if (p->state == PS_HELLO && !off && !p->tls && p->in[0] == 0x16)
				why = "speaks TLS, and this side has no --tls-cert or --psk-file";
			peer_bad_frame(d, p, why);
			break;
		}
		off += r;
		if (f.type == FT_HELLO) {
			on_hello(d, p, &f.hello, now);
		} else if (f.type == FT_DATA) {
			p->st.frames_in++;
			p->st.bytes_in += r;
			on_data(d, p, &f);
		}
		if (p->src.fd < 0 || p->dead)
			break;
	}
	return off;
}

static void peer_parse(struct daemon *d, struct peer *p, uint64_t now)
{
	size_t off = p->framing == MCTUN_FRAMING_UDPTUNNEL ? ut_parse(d, p) :
		     mctun_parse(d, p, now);

	if (!off || p->src.fd < 0 || p->dead)
		return;
	memmove(p->in, p->in + off, p->in_len - off);
	p->in_len -= off;
}

/* Reads through TLS. Returns bytes, 0 for a close, -1 when done for now
 * (the connection may be closed). */
static ssize_t peer_read_tls(struct daemon *d, struct peer *p)
{
	ssize_t n = tls_read(p->tls, p->in + p->in_len, IN_CAP - p->in_len);

	if (n == -EAGAIN) {
		peer_arm_out(d, p, p->out.len > 0 || tls_want_write(p->tls));
		return -1;
	}
	if (n < 0) {
		peer_tls_fail(d, p, (int)n);
		return -1;
	}
	return n;
}

static void peer_read(struct daemon *d, struct peer *p, uint64_t now)
{
	int i, max = p->tls ? TLS_READS_PER_EV : READS_PER_EV;

	for (i = 0; i < max && p->src.fd >= 0 && !p->dead; i++) {
		size_t want = IN_CAP - p->in_len;
		ssize_t n;

		if (p->tls) {
			n = peer_read_tls(d, p);
			if (n < 0)
				return;
		} else {
			n = recv(p->src.fd, p->in + p->in_len, want, 0);
		}
		if (n == 0) {
			peer_close(d, p, "closed by peer");
			return;
		}
		if (n < 0) {
			char why[96];

			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			snprintf(why, sizeof(why), "read: %s", strerror(errno));
			peer_close(d, p, why);
			return;
		}
		p->in_len += n;
		p->t_rx = now;
		peer_parse(d, p, now);
		/* A short plain read drained the socket: epoll (level-triggered)
		 * reports what comes next, so save the read that would say EAGAIN. */
		if (!p->tls && (size_t)n < want)
			return;
	}
	/* Stopped by the bound: what OpenSSL holds, epoll will not report. */
	if (p->tls && p->src.fd >= 0 && !p->dead)
		p->rx_more = tls_has_pending(p->tls);
}

static void peer_flush(struct daemon *d, struct peer *p)
{
	long n;

	if (p->src.fd < 0 || p->dead || p->state == PS_CONNECTING || p->state == PS_TLS)
		return;
	n = p->tls ? tls_flush(p->tls, &p->out) : obuf_flush(&p->out, p->src.fd);
	if (n < 0) {
		char why[96];

		if (p->tls) {
			peer_tls_fail(d, p, (int)n);
			return;
		}
		snprintf(why, sizeof(why), "write: %s", strerror((int)-n));
		peer_close(d, p, why);
		return;
	}
	p->dirty = false;
	peer_arm_out(d, p, p->out.len > 0 || (p->tls && tls_want_write(p->tls)));
}

static void reap_peers(struct daemon *d)
{
	unsigned int i, j;

	for (i = j = 0; i < d->npeers; i++) {
		struct peer *p = d->peers[i];

		if (!p->dead) {
			d->peers[j++] = p;
			continue;
		}
		d->dead_drops += p->st.queue_drops;
		tls_conn_free(p->tls);
		big_free(p->in, IN_CAP);
		obuf_free(&p->out);
		free(p);
	}
	d->npeers = j;
}

/*
 * At most --max-pending inbound connections may be authenticating (TLS or
 * hello) at once. When one more arrives, the oldest of them is closed, not
 * the newcomer: idle connections (a flood, or peers that stall) hold their
 * slot until --auth-timeout, so refusing newcomers would lock real peers
 * out for as long as a flood goes on, whereas a real peer finishes its
 * handshake in a few round trips and is gone from the pending set.
 */
static void make_pending_room(struct daemon *d)
{
	struct peer *oldest = NULL;
	unsigned int i, n = 0;

	for (i = 0; i < d->npeers; i++) {
		struct peer *p = d->peers[i];

		if (p->outbound || p->dead || (p->state != PS_TLS && p->state != PS_HELLO))
			continue;
		n++;
		if (!oldest || p->t_deadline < oldest->t_deadline)
			oldest = p;
	}
	if (n >= d->cfg->max_pending && oldest) {
		char why[128];

		snprintf(why, sizeof(why), "closed for a newer connection: %u were authenticating "
			 "(--max-pending)", n);
		peer_refuse(d, oldest, RF_PENDING, why);
	}
}

/* Refused before anything is read from it. */
static void refuse_at_accept(struct daemon *d, int fd, const char *name, enum refusal rf,
			     const char *why, uint64_t now)
{
	if (refusal_log_ok(d, now))
		pr_warn("peer %s: refused: %s\n", name, why);
	count_refusal(d, false, rf);
	close(fd);
}

static void on_accept(struct daemon *d, struct src *l, uint64_t now)
{
	int i, one = 1;

	for (i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char name[ADDR_STRLEN + 16];
		struct peer *p;
		int fd;

		fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				pr_warn("accept: %s\n", strerror(errno));
			return;
		}
		sockaddr_str((struct sockaddr *)&ss, name, sizeof(name));
		if (d->cfg->nallow &&
		    !cidr_match(d->cfg->allow, d->cfg->nallow, (struct sockaddr *)&ss)) {
			refuse_at_accept(d, fd, name, RF_ALLOW, "not in --allow", now);
			continue;
		}
		if (inbound_up_count(d) >= d->cfg->max_peers) {
			char why[64];

			snprintf(why, sizeof(why), "already %u peers (--max-peers)",
				 d->cfg->max_peers);
			refuse_at_accept(d, fd, name, RF_OTHER, why, now);
			continue;
		}
		make_pending_room(d);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		p = peer_new(d, fd, false, name);
		if (p) {
			p->addr = ss;
			p->lst = (struct listener *)l;
		}
		if (!p) {
			pr_warn("peer %s: refused: out of memory\n", name);
			close(fd);
			continue;
		}
		ep_set(d->epfd, &p->src, EPOLLIN, EPOLL_CTL_ADD);
		pr_debug("peer %s: accepted\n", name);
		peer_start(d, p, now);
	}
}

/* ---- housekeeping, signals, stats -------------------------------------- */

static void publish(struct daemon *d);

/*
 * The island interface going down and up is survived: the filters and the
 * memberships stay. Deleted (or renamed: its index now names another) it
 * takes our filters and joins with it, so the daemon exits with a clear
 * message and a failure status, for the service manager to restart it.
 */
static void check_iface(struct daemon *d)
{
	char name[IF_NAMESIZE];

	if (if_indextoname(d->cfg->ifindex, name) && !strcmp(name, d->cfg->ifname)) {
		injector_mtu_load(&d->inj, d->cfg->ifname);
		return;
	}
	pr_warn("interface '%s' (index %u) was deleted or renamed: exiting\n", d->cfg->ifname,
		d->cfg->ifindex);
	d->exit_err = -ENODEV;
	d->stop = true;
}

static void tick(struct daemon *d, uint64_t now)
{
	const struct config *cfg = d->cfg;
	uint64_t ka = cfg->keepalive_s * NSEC, dead = cfg->dead_s * NSEC;
	unsigned int i;

	check_iface(d);
	if (d->rl_quiet && now - d->rl_start >= NSEC)
		refusal_log_ok(d, now);     /* says how many went unlogged */
	for (i = 0; i < d->npeers; i++) {
		struct peer *p = d->peers[i];
		char why[96];

		if (p->dead)
			continue;
		switch (p->state) {
		case PS_IDLE:
			if (now >= p->t_retry)
				peer_connect(d, p, now);
			break;
		case PS_CONNECTING:
			if (now >= p->t_deadline)
				peer_close(d, p, "connect timed out");
			break;
		case PS_TLS:
		case PS_HELLO:
			if (now < p->t_deadline)
				break;
			snprintf(why, sizeof(why), "handshake timed out: %s within %.1f s "
				 "(--auth-timeout)", p->state == PS_TLS ? "TLS not done" :
				 "no hello", cfg->handshake_s);
			peer_refuse(d, p, RF_TIMEOUT, why);
			break;
		case PS_UP:
			/* udptunnel framing: quiet is normal, TCP keepalives watch */
			if (p->framing == MCTUN_FRAMING_UDPTUNNEL)
				break;
			if (now - p->t_rx >= dead) {
				snprintf(why, sizeof(why), "silent for %.1f s", cfg->dead_s);
				peer_close(d, p, why);
			} else if (now - p->t_tx >= ka && !p->out.len) {
				uint8_t b[FRAME_HDR_LEN];

				peer_queue(p, SIZE_MAX, b, frame_put_keepalive(b), NULL, 0, now);
				p->st.frames_out--;   /* count data frames only */
				p->st.bytes_out -= FRAME_HDR_LEN;
			}
			break;
		}
	}
	metrics_tick(d, now);
	publish(d);
}

static const uint8_t peer_state_pub[] = {
	[PS_IDLE] = MCTUN_PEER_WAITING, [PS_CONNECTING] = MCTUN_PEER_CONNECTING,
	[PS_TLS] = MCTUN_PEER_HELLO, [PS_HELLO] = MCTUN_PEER_HELLO, [PS_UP] = MCTUN_PEER_UP,
};

unsigned int daemon_peer_table(struct daemon *d, struct mctun_peer_info *pi, unsigned int max)
{
	uint64_t mono = now_ns(), real = realtime_ns();
	unsigned int i, n = 0;
	__u64 drops = 0, up = 0;

	for (i = 0; i < d->npeers; i++) {
		const struct peer *p = d->peers[i];
		struct mctun_peer_info *o = &pi[n];
		uint16_t port = 0;

		drops += p->st.queue_drops;
		up += p->state == PS_UP && !p->dead;
		if (p->dead || n == max)
			continue;
		memset(o, 0, sizeof(*o));
		o->state = peer_state_pub[p->state];
		o->outbound = p->outbound;
		o->framing = p->framing;
		if (p->outbound)
			sockaddr_addr((const struct sockaddr *)&d->cfg->peer[p->slot].ss, &o->family,
				      o->addr, &port);
		else
			sockaddr_addr((const struct sockaddr *)&p->addr, &o->family, o->addr, &port);
		o->port = htons(port);
		o->node_id = p->state == PS_UP ? p->node_id : 0;
		o->up_since_ns = p->state == PS_UP ? real - (mono - p->t_up) : 0;
		o->frames_in = p->st.frames_in;
		o->bytes_in = p->st.bytes_in;
		o->frames_out = p->st.frames_out;
		o->bytes_out = p->st.bytes_out;
		o->queue_drops = p->st.queue_drops;
		o->queued = p->out.len;
		n++;
	}
	d->st.node_id = d->node_id;
	d->st.queue_drops = drops + d->dead_drops;
	d->st.peers_up = up;
	return n;
}

/* Refresh the pinned counters `mctun status` and `mctun stats` read. */
static void publish(struct daemon *d)
{
	static struct mctun_peer_info pi[MCTUN_PINNED_PEERS];
	unsigned int n = daemon_peer_table(d, pi, MCTUN_PINNED_PEERS);

	if (d->bpf)
		capture_bpf_publish(d->bpf, &d->st, pi, n);
}

static void log_stats(struct daemon *d)
{
	const struct mctun_dstats *s = &d->st;
	unsigned int i, up = 0;

	if (d->bpf)
		capture_bpf_log_stats(d->bpf, d->cfg);
	for (i = 0; i < d->npeers; i++)
		up += d->peers[i]->state == PS_UP;
	pr_info("daemon: node %016llx, %u peers up; captured %llu (ring %llu, socket %llu, "
		"own skipped %llu); injected %llu (errors %llu, rewritten %llu); dropped: loop %llu "
		"dup %llu hops %llu unknown-group %llu direction-out %llu framing %llu; "
		"bad frames %llu; refused %llu (not allowed %llu, over max-pending %llu, plain "
		"text %llu, timed out %llu); auth failed %llu\n",
		(unsigned long long)d->node_id, up, s->cap_ring + s->cap_sock, s->cap_ring,
		s->cap_sock, s->cap_self, s->injected, s->inject_errors, s->rewritten, s->drop_loop,
		s->drop_dup, s->drop_hops, s->drop_group, s->drop_direction, s->framing_drops,
		s->bad_frames, s->refused, s->refused_allow, s->refused_pending, s->refused_plain,
		s->refused_timeout, s->refused_auth);
	for (i = 0; i < d->npeers; i++) {
		const struct peer *p = d->peers[i];
		char ut[64] = "";

		if (p->framing == MCTUN_FRAMING_UDPTUNNEL)
			snprintf(ut, sizeof(ut), "; udptunnel framing, framing drops %llu",
				 (unsigned long long)p->st.framing_drops);
		pr_info("peer %s: %s%s: in %llu frames %llu bytes, out %llu frames %llu bytes, "
			"queue drops %llu, queued %zu bytes%s\n", p->name,
			p->state == PS_UP ? "up" : p->state == PS_IDLE ? "waiting" : "connecting",
			p->outbound ? " outbound" : " inbound",
			(unsigned long long)p->st.frames_in, (unsigned long long)p->st.bytes_in,
			(unsigned long long)p->st.frames_out, (unsigned long long)p->st.bytes_out,
			(unsigned long long)p->st.queue_drops, p->out.len, ut);
	}
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			log_stats(d);
		else if (si.ssi_signo == SIGHUP)
			d->reload = true;
		else
			d->stop = true;
	}
}

/* ---- set-up and the loop ----------------------------------------------- */

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	d->sig.kind = SRC_SIGNAL;
	d->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig.fd < 0)
		return -errno;
	ep_set(d->epfd, &d->sig, EPOLLIN, EPOLL_CTL_ADD);
	return 0;
}

static int setup_timer(struct daemon *d)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = TICK_NS },
		.it_value = { .tv_nsec = TICK_NS },
	};

	d->timer.kind = SRC_TIMER;
	d->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->timer.fd < 0 || timerfd_settime(d->timer.fd, 0, &its, NULL) < 0)
		return -errno;
	ep_set(d->epfd, &d->timer, EPOLLIN, EPOLL_CTL_ADD);
	return 0;
}

/* Room for one socket per group, plus peers, listeners and the rest. */
void raise_nofile(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want = cfg->ngroups + 2 * cfg->max_peers + cfg->max_pending + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = MIN(want, rl.rlim_max);
	setrlimit(RLIMIT_NOFILE, &rl);
}

static int setup(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	int err = 0, i;

	/* never 0 (no node has it); drawing 0 twice is as good as impossible */
	for (i = 0; i < 2 && !d->node_id; i++) {
		err = random_bytes(&d->node_id, sizeof(d->node_id));
		if (err)
			return err;
	}
	if (!d->node_id)
		return -EIO;
	d->seen = calloc(1, sizeof(*d->seen));
	if (!d->seen)
		return -ENOMEM;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	err = setup_signals(d);
	if (!err)
		err = setup_timer(d);
	if (!err)
		err = local_addrs_load(&d->local);
	if (err)
		return err;

	if (cfg->mode != MCTUN_MODE_SOCKET) {
		struct src *ring = calloc(1, sizeof(*ring));

		if (!ring)
			return -ENOMEM;
		err = capture_bpf_open(d->cfg, on_ring, d, &d->bpf);
		if (err) {
			free(ring);
			return err;
		}
		ring->kind = SRC_RING;
		ring->fd = capture_bpf_ring_fd(d->bpf);
		ep_set(d->epfd, ring, EPOLLIN, EPOLL_CTL_ADD);
		d->ring_src = ring;
	}
	/* how mctun status finds us in any mode (socket mode has no maps) */
	instance_announce(cfg->mode, cfg->ifindex, cfg->ifname);
	/* groups, sockets, listeners and peers: as a reload from nothing */
	err = daemon_apply(d, NULL, d->cfg);
	if (err)
		return err;
	return metrics_open(d);
}

static void teardown(struct daemon *d)
{
	unsigned int i;

	for (i = 0; i < d->npeers; i++) {
		struct peer *p = d->peers[i];

		tls_conn_free(p->tls);
		if (p->src.fd >= 0)
			close(p->src.fd);
		big_free(p->in, IN_CAP);
		obuf_free(&p->out);
		free(p);
	}
	free(d->peers);
	metrics_close(d);
	for (i = 0; d->gs && i < d->cfg->ngroups; i++) {
		if (!d->gs[i])
			continue;
		close(d->gs[i]->src.fd);
		free(d->gs[i]);
	}
	free(d->gs);
	for (i = 0; i < d->nlisteners; i++) {
		close(d->listeners[i]->src.fd);
		free(d->listeners[i]);
	}
	free(d->listeners);
	injector_close(&d->inj);
	capture_bpf_close(d->bpf);
	free(d->ring_src);
	if (d->sig.fd >= 0)
		close(d->sig.fd);
	if (d->timer.fd >= 0)
		close(d->timer.fd);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d->seen);
	gtable_free(&d->gtab);
}

static void dispatch(struct daemon *d, struct epoll_event *ev, uint64_t now)
{
	struct src *s = ev->data.ptr;
	struct gsock *g;
	struct peer *p;
	uint64_t ticks;

	switch (s->kind) {
	case SRC_SIGNAL:
		on_signal(d);
		break;
	case SRC_TIMER:
		if (read(s->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
			pr_debug("timerfd: %s\n", strerror(errno));
		tick(d, now);
		break;
	case SRC_RING:
		if (capture_bpf_poll(d->bpf))
			pr_debug("ring: consume failed\n");
		break;
	case SRC_LISTEN:
		on_accept(d, s, now);
		break;
	case SRC_GROUP:
		g = (struct gsock *)s;
		capture_socket_read(s->fd, &d->cfg->groups[g->gid].g, &d->local, d->inj.port,
				    &d->st.cap_self, on_socket, d);
		break;
	case SRC_METRICS:
		metrics_event(d, s, ev->events, now);
		break;
	case SRC_PEER:
		p = (struct peer *)s;
		if (p->dead || p->src.fd < 0)
			break;
		if (p->state == PS_CONNECTING) {
			if (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				peer_connected(d, p, now);
			break;
		}
		if (p->state == PS_TLS) {
			peer_tls_step(d, p, now);
			break;
		}
		/* TLS: a read may have waited for the socket to take a write */
		if ((ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ||
		    (p->tls && (ev->events & EPOLLOUT)))
			peer_read(d, p, now);
		if ((ev->events & EPOLLOUT) && p->src.fd >= 0 && !p->dead)
			p->dirty = true;
		break;
	}
}

/*
 * Write out what the event loop queued for peers. A round costs a write per
 * dirty peer, and with many peers and a modest rate each round would carry
 * one datagram: so after a round that took C ns, the next may start no
 * sooner than C ns later. Writing never takes more than half of the loop's
 * time, a lone datagram after a quiet spell still leaves at once, and under
 * load every write carries more frames. The gap is capped: one slow round
 * (the first writes of 100 fresh connections fault in their queues' pages,
 * tens of ms) must not hold every queue as long again. Returns how long the
 * loop may wait for events before the next round is due: 0 for no limit.
 */
static uint64_t flush_round(struct daemon *d)
{
	uint64_t now = now_ns(), end;
	unsigned int i;
	bool dirty = false;

	for (i = 0; i < d->npeers && !dirty; i++)
		dirty = d->peers[i]->dirty;
	if (!dirty)
		return 0;
	if (now < d->flush_at)
		return d->flush_at - now;
	for (i = 0; i < d->npeers; i++)
		if (d->peers[i]->dirty)
			peer_flush(d, d->peers[i]);
	end = now_ns();
	d->flush_at = end + MIN(end - now, FLUSH_GAP_MAX);
	return 0;
}

/* epoll_wait, for at most wait_ns when that is not 0 (to the nanosecond
 * where the kernel has epoll_pwait2, Linux 5.11; else to the millisecond).
 * With --busy-poll it first asks epoll without sleeping, until busy_poll_s
 * after the last datagram moved (timers and keepalives do not count): a
 * datagram in that window finds the loop running, where waking a sleeping
 * thread, and the idle CPU it would run on, can cost more than the tunnel.
 * Each empty poll yields: on a shared core the sender or receiver next to
 * us runs first, and we stay runnable, never asleep. */
static int wait_events(struct daemon *d, struct epoll_event *evs, uint64_t wait_ns)
{
	uint64_t spin_ns = (uint64_t)(d->cfg->busy_poll_s * NSEC);
	struct timespec ts;
	int n;

	if (spin_ns) {
		uint64_t now = now_ns(), end = wait_ns ? now + wait_ns : UINT64_MAX;

		while (now < d->t_event + spin_ns && now < end) {
			n = epoll_wait(d->epfd, evs, MAX_EVENTS, 0);
			if (n)
				return n;
			sched_yield();
			now = now_ns();
		}
		if (now >= end)
			return 0;
		if (wait_ns)
			wait_ns = end - now;
	}
	ts.tv_sec = (time_t)(wait_ns / NSEC);
	ts.tv_nsec = (long)(wait_ns % NSEC);
	if (!wait_ns)
		return epoll_wait(d->epfd, evs, MAX_EVENTS, -1);
	if (!d->no_pwait2) {
		n = epoll_pwait2(d->epfd, evs, MAX_EVENTS, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		d->no_pwait2 = true;
	}
	return epoll_wait(d->epfd, evs, MAX_EVENTS, (int)((wait_ns + 999999) / 1000000));
}

int daemon_run(struct config *cfg)
{
	struct daemon d = {
		.cfg = cfg, .epfd = -1, .sig.fd = -1, .timer.fd = -1,
	};
	struct epoll_event evs[MAX_EVENTS];
	char allow_str[256] = "";
	unsigned int i;
	int err, n;

	injector_init(&d.inj, &d.st);
	d.t_start = now_ns();
	for (i = 0; i < cfg->nallow; i++) {
		char a[ADDR_STRLEN];
		size_t l = strlen(allow_str);

		snprintf(allow_str + l, sizeof(allow_str) - l, "%s%s/%u", i ? ", " : "",
			 addr_str(cfg->allow[i].family, cfg->allow[i].addr, a, sizeof(a)),
			 cfg->allow[i].plen);
	}
	err = setup(&d);
	if (err)
		goto out;
	pr_info("running on %s (%s mode), node %016llx, %u group%s, %u listener%s, %u peer%s%s%s; "
		"%s%s%s%s\n",
		cfg->ifname, cfg->mode == MCTUN_MODE_TC ? "tc" :
		cfg->mode == MCTUN_MODE_XDP ? "xdp" : "socket",
		(unsigned long long)d.node_id, cfg->ngroups, cfg->ngroups == 1 ? "" : "s",
		cfg->nlisten, cfg->nlisten == 1 ? "" : "s", cfg->npeer, cfg->npeer == 1 ? "" : "s",
		cfg->path ? ", config " : "", cfg->path ? cfg->path : "",
		cfg->tls ? "peers authenticate with " :
		"tunnel is unauthenticated and unencrypted (--insecure)",
		cfg->tls ? tls_ctx_describe(cfg->tls) : "",
		cfg->nallow ? "; inbound only from --allow " : "", allow_str);
	for (i = 0; i < cfg->nlisten; i++)
		listener_warn_open(cfg, i);
	tick(&d, now_ns());   /* connect out right away */

	while (!d.stop) {
		uint64_t now, wait_ns = flush_round(&d);
		bool more = false;

		reap_peers(&d);
		for (i = 0; d.cfg->tls && i < d.npeers; i++)
			more |= d.peers[i]->rx_more;
		/* TLS input waits in OpenSSL: look at events, then read on */
		n = more ? epoll_wait(d.epfd, evs, MAX_EVENTS, 0) : wait_events(&d, evs, wait_ns);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_warn("epoll_wait: %s\n", strerror(-err));
			break;
		}
		now = now_ns();
		for (i = 0; i < (unsigned int)n && !d.stop; i++)
			dispatch(&d, &evs[i], now);
		if (d.moved) {
			d.moved = false;
			d.t_event = now;
		}
		for (i = 0; d.cfg->tls && i < d.npeers && !d.stop; i++) {
			struct peer *p = d.peers[i];

			if (p->rx_more && !p->dead && p->src.fd >= 0) {
				p->rx_more = false;
				peer_read(&d, p, now);
			}
		}
		injector_flush(&d.inj);
		/* here, where no event of this pass points at what it frees */
		if (d.reload && !d.stop) {
			d.reload = false;
			daemon_reload(&d);
		}
	}
	log_stats(&d);
	if (!err)
		err = d.exit_err;
out:
	teardown(&d);
	config_free(d.cfg);
	return err;
}
