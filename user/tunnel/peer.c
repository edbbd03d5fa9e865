// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A connection speaks the mctun protocol or, with --framing udptunnel, the
 * bare length-prefixed framing of udptunnel (user/lib/utframe.h): no hello,
 * no keepalive, no origin or hops; its peer is up as soon as TCP is, and
 * TCP keepalives find it dead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mptcp.h"
#include "peer.h"
#include "util.h"

#define IN_CAP           (2 * FRAME_MAX)  /* a whole frame always fits after compaction */
#define FLUSH_GAP_MAX    (2 * 1000000ull) /* flush pacing holds frames at most this */
#define READS_PER_EV     8                /* bound per wakeup, for fairness */
#define TLS_READS_PER_EV 32               /* the same for TLS: one record (16 KiB) a read */
#define REFUSAL_LINES    20               /* refusals logged per second; the rest summed */
#define PEER_IDS         (1u << 20)       /* peer ids: below subs.h's SUBS_MAX_PEER_ID */
#define NSEC             1000000000ull
#define BACKOFF_MAX_NS   (30 * NSEC)      /* reconnect back-off: 1, 2, 4 ... 30 s */
#define RS_MAX           1024             /* --resume: peer nodes remembered */
#define RS_ACK_EVERY     256              /* an ACK at least every this many frames */
#define RS_QUEUED_MAX    OBUF_RELEASE     /* a window's frames in the output queue */

void peers_init(struct peers *ps, const struct config *cfg, int epfd, uint64_t node_id,
		struct mctun_dstats *st, const struct peer_ops *ops, void *ctx)
{
	const char *caps = getenv("MCTUN_PROTO_CAPS");

	*ps = (struct peers){ .cfg = cfg, .epfd = epfd, .node_id = node_id, .st = st,
			      .ops = ops, .ctx = ctx, .caps = PROTO_CAP_SUBSCRIBE };
	if (cfg->resume_s > 0 && cfg->framing == MCTUN_FRAMING_MCTUN)
		ps->caps |= PROTO_CAP_RESUME;
	/* for the tests: a gateway that speaks protocol 1 without subscriptions,
	 * as mctun did before them */
	if (caps)
		ps->caps = (uint32_t)strtoul(caps, NULL, 0);
}

struct peer *peer_by_id(const struct peers *ps, unsigned int id)
{
	unsigned int i;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i]->id == id && !ps->v[i]->dead)
			return ps->v[i];
	return NULL;
}

/* An id no live peer has (there are far fewer peers than ids). */
static unsigned int new_id(struct peers *ps)
{
	unsigned int id;

	do {
		id = ps->next_id++ % PEER_IDS;
	} while (peer_by_id(ps, id));
	return id;
}

static void peer_arm_out(struct peers *ps, struct peer *p, bool on)
{
	if (p->src.fd < 0 || p->want_out == on)
		return;
	p->want_out = on;
	ep_set(ps->epfd, &p->src, EPOLLIN | (on ? EPOLLOUT : 0), EPOLL_CTL_MOD);
}

static int peer_add(struct peers *ps, struct peer *p)
{
	if (ps->n == ps->cap) {
		unsigned int cap = ps->cap ? 2 * ps->cap : 16;
		struct peer **n = realloc(ps->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ps->v = n;
		ps->cap = cap;
	}
	ps->v[ps->n++] = p;
	return 0;
}

struct peer *peer_new(struct peers *ps, int fd, bool outbound, const char *name)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->src.kind = SRC_PEER;
	p->src.fd = fd;
	p->outbound = outbound;
	p->framing = ps->cfg->framing;
	p->id = new_id(ps);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->in = big_alloc(IN_CAP);
	if (!p->in || obuf_init(&p->out, ps->cfg->queue_bytes) || peer_add(ps, p)) {
		big_free(p->in, IN_CAP);
		obuf_free(&p->out);
		free(p);
		return NULL;
	}
	return p;
}

static void peer_send_hello(struct peers *ps, struct peer *p, uint64_t now)
{
	uint8_t b[FRAME_HDR_LEN + HELLO_LEN];
	size_t n = frame_put_hello(b, ps->node_id, ps->caps);

	obuf_put2(&p->out, SIZE_MAX, b, n, NULL, 0);
	p->dirty = true;
	p->state = PS_HELLO;
	p->t_rx = p->t_tx = now;
}

/*
 * Every refused connection is logged with its address and the reason, but a
 * flood of them must not flood the log: past REFUSAL_LINES in one second
 * they are only counted, and peers_tick() says how many went unlogged.
 */
static bool refusal_log_ok(struct peers *ps, uint64_t now)
{
	if (now - ps->rl_start >= NSEC) {
		if (ps->rl_quiet)
			pr_warn("peers: %llu more refusals not logged (the counters have them)\n",
				(unsigned long long)ps->rl_quiet);
		ps->rl_start = now;
		ps->rl_lines = 0;
		ps->rl_quiet = 0;
	}
	if (ps->rl_lines < REFUSAL_LINES) {
		ps->rl_lines++;
		return true;
	}
	ps->rl_quiet++;
	return false;
}

static void count_refusal(struct peers *ps, bool outbound, enum peer_end rf)
{
	if (rf == PE_AUTH) {
		ps->st->refused_auth++;      /* both directions */
		if (outbound)
			return;
	}
	if (outbound)
		return;
	ps->st->refused++;
	switch (rf) {
	case PE_ALLOW:   ps->st->refused_allow++;   break;
	case PE_PENDING: ps->st->refused_pending++; break;
	case PE_PLAIN:   ps->st->refused_plain++;   break;
	case PE_TIMEOUT: ps->st->refused_timeout++; break;
	default:         break;
	}
}

/* Frames may flow: after the hello, or at once with udptunnel framing. */
static void peer_up(struct peers *ps, struct peer *p, uint64_t now)
{
	p->state = PS_UP;
	p->t_up = now;
	p->backoff_ns = NSEC;
	obuf_prefault(&p->out);
	if (ps->ops->up)
		ps->ops->up(ps->ctx, p, now);
}

/* Closes the connection itself: TLS state, epoll entry, socket. */
static void peer_disconnect(struct peers *ps, struct peer *p)
{
	if (p->tls) {
		tls_conn_free(p->tls);
		p->tls = NULL;
	}
	p->rx_more = false;
	if (p->src.fd >= 0) {
		epoll_ctl(ps->epfd, EPOLL_CTL_DEL, p->src.fd, NULL);
		close(p->src.fd);
		p->src.fd = -1;
	}
}

void peer_end(struct peers *ps, struct peer *p, enum peer_end how, const char *why)
{
	uint64_t now = now_ns();

	if (p->dead)
		return;
	if (p->state == PS_UP && ps->ops->down)
		ps->ops->down(ps->ctx, p);
	if (p->state == PS_UP)
		pr_info("peer %s: down: %s (in %llu frames, out %llu frames, %llu dropped)\n",
			p->name, why, (unsigned long long)p->st.frames_in,
			(unsigned long long)p->st.frames_out,
			(unsigned long long)p->st.queue_drops);
	else if (how == PE_REMOVED)
		pr_info("peer %s: closed: %s\n", p->name, why);
	else if (!p->outbound) {
		if (refusal_log_ok(ps, now))
			pr_warn("peer %s: refused: %s\n", p->name, why);
	} else if (!p->fail_logged)
		pr_warn("peer %s: %s; retrying with back-off up to %.0f s\n", p->name, why,
			BACKOFF_MAX_NS / (double)NSEC);
	else
		pr_debug("peer %s: %s\n", p->name, why);
	if (how != PE_REMOVED) {
		/* an unreachable peer is reported once, not every retry */
		p->fail_logged = p->outbound && p->state != PS_UP;
		if (p->state != PS_UP)
			count_refusal(ps, p->outbound, how);
	}
	peer_disconnect(ps, p);
	if (p->rs) {
		/* its window stays open: what it missed is replayed if it comes back */
		p->rs->p = NULL;
		p->rs->t_down = now ? now : 1;
		p->rs->fresh = false;
		ps->nrs_away++;
		p->rs = NULL;
	}
	p->rs_go = p->rs_rx = false;
	p->subs = p->subs_ready = false;
	p->in_len = 0;
	obuf_reset(&p->out);
	p->want_out = p->dirty = false;
	if (p->outbound && how != PE_REMOVED) {
		if (p->state == PS_UP)
			p->backoff_ns = NSEC;   /* it worked: start over at 1 s */
		p->state = PS_IDLE;
		p->t_retry = now + p->backoff_ns;
		p->backoff_ns = MIN(2 * p->backoff_ns, BACKOFF_MAX_NS);
	} else {
		p->dead = true;
	}
}

/* A TLS failure: plain text where TLS was expected, or failed
 * authentication before the peer came up, are refusals of their own. */
static void peer_tls_fail(struct peers *ps, struct peer *p, int err)
{
	enum peer_end rf = PE_CLOSED;

	if (err == -EPROTONOSUPPORT)
		rf = PE_PLAIN;
	else if (err == -EPROTO && p->state != PS_UP)
		rf = PE_AUTH;
	peer_end(ps, p, rf, tls_why(p->tls));
}

static void peer_read(struct peers *ps, struct peer *p, uint64_t now);

static void peer_tls_step(struct peers *ps, struct peer *p, uint64_t now)
{
	int err = tls_handshake(p->tls);

	if (err == -EAGAIN) {
		peer_arm_out(ps, p, tls_want_write(p->tls));
		return;
	}
	if (err) {
		peer_tls_fail(ps, p, err);
		return;
	}
	pr_debug("peer %s: TLS done (%s), sending hello\n", p->name, tls_peer_desc(p->tls));
	peer_send_hello(ps, p, now);
	/* The peer's hello may have come with its last handshake bytes and
	 * wait in OpenSSL's buffer, where epoll does not see it. */
	peer_read(ps, p, now);
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
static void peer_start(struct peers *ps, struct peer *p, uint64_t now)
{
	int err;

	p->t_deadline = now + (uint64_t)(ps->cfg->handshake_s * NSEC);
	if (p->framing == MCTUN_FRAMING_UDPTUNNEL) {
		err = tcp_keepalive_on(p->src.fd, ps->cfg->keepalive_s, ps->cfg->dead_s);
		if (err)
			pr_warn("peer %s: TCP keepalive: %s; a dead peer will go unnoticed\n",
				p->name, strerror(-err));
		p->t_rx = p->t_tx = now;
		peer_up(ps, p, now);
		pr_info("peer %s: up (udptunnel framing, %s); unauthenticated (--insecure)\n",
			p->name, p->outbound ? "outbound" : "inbound");
		return;
	}
	if (!ps->cfg->tls) {
		pr_debug("peer %s: connected, sending hello\n", p->name);
		peer_send_hello(ps, p, now);
		return;
	}
	if (tls_conn_new(ps->cfg->tls, p->src.fd, !p->outbound, &p->tls)) {
		peer_end(ps, p, PE_CLOSED, "TLS: out of memory");
		return;
	}
	p->state = PS_TLS;
	p->t_rx = p->t_tx = now;
	peer_tls_step(ps, p, now);
}

static void peer_connect(struct peers *ps, struct peer *p, uint64_t now)
{
	const struct endpoint *ep = &ps->cfg->peer[p->slot];
	int fd, one = 1;

	fd = stream_socket(ep->ss.ss_family, ps->cfg->mptcp);
	if (fd < 0) {
		pr_warn("peer %s: socket: %s\n", p->name, strerror(-fd));
		p->t_retry = now + p->backoff_ns;
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->src.fd = fd;
	p->state = PS_CONNECTING;
	p->t_deadline = now + (uint64_t)(ps->cfg->handshake_s * NSEC);
	if (connect(fd, (const struct sockaddr *)&ep->ss, ep->sslen) < 0 &&
	    errno != EINPROGRESS) {
		char why[96];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		ep_set(ps->epfd, &p->src, EPOLLIN, EPOLL_CTL_ADD);
		peer_end(ps, p, PE_CLOSED, why);
		return;
	}
	p->want_out = true;
	ep_set(ps->epfd, &p->src, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
}

static void peer_connected(struct peers *ps, struct peer *p, uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(p->src.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		char why[96];

		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		peer_end(ps, p, PE_CLOSED, why);
		return;
	}
	peer_start(ps, p, now);
}

int peer_queue(struct peer *p, size_t share, const uint8_t *hdr, size_t hlen,
	       const uint8_t *payload, uint32_t plen, uint64_t now)
{
	if (obuf_put2(&p->out, share, hdr, hlen, payload, plen)) {
		p->st.queue_drops++;
		return -ENOBUFS;
	}
	p->st.frames_out++;
	p->st.bytes_out += hlen + plen;
	p->dirty = true;
	p->t_tx = now;
	return 0;
}

int peer_queue_ctl(struct peer *p, const uint8_t *frame, size_t len, uint64_t now)
{
	if (obuf_put2(&p->out, p->out.cap, frame, len, NULL, 0))
		return -ENOBUFS;
	p->dirty = true;
	p->t_tx = now;
	return 0;
}

/* Inbound peers up (authenticated). Only they count against --max-peers:
 * connections still authenticating have --max-pending, which closes the
 * oldest of them for a newcomer, so they can never keep a peer out. */
static unsigned int inbound_up_count(const struct peers *ps)
{
	unsigned int i, n = 0;

	for (i = 0; i < ps->n; i++)
		n += !ps->v[i]->outbound && !ps->v[i]->dead &&
		     ps->v[i]->state == PS_UP;
	return n;
}

/* For the log: ", mptcp" or ", plain TCP: ..." with --transport mptcp. */
static const char *transport_desc(const struct peers *ps, const struct peer *p)
{
	unsigned int sf;

	if (!ps->cfg->mptcp)
		return "";
	return mptcp_conn_state(p->src.fd, true, &sf) == MCTUN_TRANSPORT_MPTCP ? ", mptcp" :
	       ", plain TCP: MPTCP not taken";
}

/* ---- --resume (docs/PROTOCOL.md, "Resume") ------------------------------ */

static struct rsess *rs_find(const struct peers *ps, uint64_t node)
{
	unsigned int i;

	for (i = 0; i < ps->nrs; i++)
		if (ps->rs[i]->node == node)
			return ps->rs[i];
	return NULL;
}

static void rs_free(struct peers *ps, unsigned int i)
{
	struct rsess *rs = ps->rs[i];

	if (!rs->p && !rs->parked)
		ps->nrs_away--;
	replay_free(&rs->out);
	free(rs);
	ps->rs[i] = ps->rs[--ps->nrs];
}

/* Past its window a node away keeps only its numbers: the frames sent
 * meanwhile are counted (peers.away_n), not kept. */
static void rs_park(struct peers *ps, struct rsess *rs)
{
	replay_free(&rs->out);
	rs->parked = true;
	rs->park_n = ps->away_n;
	ps->nrs_away--;
}

/* The node id of the gateway that opened c, a connection to node. */
static uint64_t opener(const struct peers *ps, const struct peer *c, uint64_t node)
{
	return c->outbound ? ps->node_id : node;
}

/*
 * A new session, or the node's own, for p (0), or -EBUSY, -ENOMEM. A node
 * has one connection that resumes. When it has one up already, the older
 * one is taken for dead and ends if it has been silent for longer than
 * half-way from --keepalive to --dead-after (the node reconnected after a
 * cut this side has not noticed yet); else the one opened by the gateway
 * with the smaller node id stays, so that two gateways that each --peer
 * the other agree on one connection, not two that replace each other.
 */
static int rs_attach(struct peers *ps, struct peer *p, uint64_t node, uint64_t now)
{
	struct rsess *rs = rs_find(ps, node);
	uint64_t quiet = (uint64_t)((ps->cfg->keepalive_s + ps->cfg->dead_s) / 2 * NSEC);

	if (rs && rs->p && now < rs->p->t_rx + quiet &&
	    opener(ps, p, node) > opener(ps, rs->p, node))
		return -EBUSY;
	if (rs && rs->p)
		peer_end(ps, rs->p, PE_CLOSED, "replaced by a newer connection of its node");
	if (!rs) {
		unsigned int i, old = ps->nrs;

		/* at the bound, the node away longest is forgotten */
		for (i = 0; ps->nrs >= RS_MAX && i < ps->nrs; i++)
			if (!ps->rs[i]->p && (old == ps->nrs ||
					      ps->rs[i]->t_down < ps->rs[old]->t_down))
				old = i;
		if (old < ps->nrs)
			rs_free(ps, old);
		if (ps->nrs == ps->caprs) {
			unsigned int cap = ps->caprs ? 2 * ps->caprs : 16;
			struct rsess **n = realloc(ps->rs, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			ps->rs = n;
			ps->caprs = cap;
		}
		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return -ENOMEM;
		rs->node = node;
		rs->fresh = true;
		ps->rs[ps->nrs++] = rs;
	} else if (rs->parked) {
		rs->out.end += ps->away_n - rs->park_n;
		rs->out.base = rs->out.tx = rs->out.end;
		rs->parked = false;
	} else {
		ps->nrs_away--;
	}
	if (replay_init(&rs->out, ps->cfg->queue_bytes)) {
		/* parked until memory comes back: it is numbered, not kept */
		rs->parked = true;
		rs->park_n = ps->away_n;
		return -ENOMEM;
	}
	rs->p = p;
	rs->t_down = 0;
	rs->gap_logged = false;
	p->rs = rs;
	return 0;
}

static void rs_lost(struct peers *ps, struct peer *p, uint64_t n, const char *how)
{
	ps->st->resume_gap += n;
	if (!p->rs->gap_logged)
		pr_warn("peer %s: %llu frames it missed had left the --resume window: lost (%s)\n",
			p->name, (unsigned long long)n, how);
	p->rs->gap_logged = true;
}

/* Frames of the window into the output queue, in order, while it has
 * room (a window's share is kept small: the window holds the rest). */
static void rs_pump(struct peers *ps, struct peer *p, uint64_t now)
{
	struct replay *r = &p->rs->out;
	const uint8_t *a, *b;
	size_t alen, blen;
	int guard;

	if (!p->rs_go || p->dead || p->src.fd < 0)
		return;
	if (r->skipped) {
		uint8_t f[FRAME_HDR_LEN + SEQ_FRAME_LEN];

		/* pushed out before they went: the peer is told where we are */
		if (peer_queue_ctl(p, f, frame_put_seq(f, FT_REPLAY, r->tx), now))
			return;
		rs_lost(ps, p, r->skipped, "pushed out before they were sent");
		r->skipped = 0;
	}
	for (guard = 0; guard < 1 << 16 && p->out.len < RS_QUEUED_MAX; guard++) {
		if (!replay_peek(r, &a, &alen, &b, &blen))
			break;
		if (obuf_put2(&p->out, p->out.cap, a, alen, blen ? b : NULL, blen))
			break;
		replay_advance(r);
		p->st.frames_out++;
		p->st.bytes_out += alen + blen;
		p->dirty = true;
		p->t_tx = now;
	}
}

void peer_resume_put(struct peers *ps, struct peer *p, size_t share, const uint8_t *hdr,
		     size_t hlen, const uint8_t *payload, uint32_t plen, uint64_t now)
{
	uint64_t o = p->rs->out.overflow;

	replay_put(&p->rs->out, share, now, hdr, hlen, payload, plen);
	ps->st->resume_overflow += p->rs->out.overflow - o;
	rs_pump(ps, p, now);
}

void peers_resume_away(struct peers *ps, size_t share, const uint8_t *hdr, size_t hlen,
		       const uint8_t *payload, uint32_t plen, uint64_t now)
{
	unsigned int i;

	ps->away_n++;
	for (i = 0; ps->nrs_away && i < ps->nrs; i++) {
		struct rsess *rs = ps->rs[i];
		uint64_t o = rs->out.overflow;

		if (rs->p || rs->parked)
			continue;
		replay_put(&rs->out, share, now, hdr, hlen, payload, plen);
		ps->st->resume_overflow += rs->out.overflow - o;
	}
}

bool peers_resume_away_open(const struct peers *ps)
{
	return ps->nrs_away > 0;
}

static void rs_ack(struct peer *p, uint64_t now)
{
	uint8_t f[FRAME_HDR_LEN + SEQ_FRAME_LEN];

	if (!peer_queue_ctl(p, f, frame_put_seq(f, FT_ACK, p->rs->rx), now))
		p->rs->rx_acked = p->rs->rx;
}

/* A RESUME, REPLAY or ACK that lies: counted, and the connection ends. */
static void rs_refuse(struct peers *ps, struct peer *p, const char *why, uint64_t n)
{
	char msg[160];

	ps->st->resume_refused++;
	snprintf(msg, sizeof(msg), "refused: %s (%llu)", why, (unsigned long long)n);
	peer_end(ps, p, PE_CLOSED, msg);
}

static void on_resume_frame(struct peers *ps, struct peer *p, const struct frame *f,
			    uint64_t now)
{
	struct rsess *rs = p->rs;
	uint8_t b[FRAME_HDR_LEN + SEQ_FRAME_LEN];
	uint64_t from, gap;
	const char *why;

	if (!rs) {
		peer_bad_frame(ps, p, "RESUME, REPLAY or ACK without the RESUME capability");
		return;
	}
	switch (f->type) {
	case FT_RESUME:
		if (p->rs_go) {
			peer_bad_frame(ps, p, "a second RESUME");
			return;
		}
		if (rs->fresh && f->count) {
			rs_refuse(ps, p, "resumes after frames from a node this gateway has no "
				  "record of", f->count);
			return;
		}
		if (replay_resume(&rs->out, f->count, &from, &gap, &why)) {
			rs_refuse(ps, p, why, f->count);
			return;
		}
		if (peer_queue_ctl(p, b, frame_put_seq(b, FT_REPLAY, from), now)) {
			peer_end(ps, p, PE_CLOSED, "no room to queue REPLAY");
			return;
		}
		if (gap)
			rs_lost(ps, p, gap, "reconnected too late");
		ps->st->resume_replayed += replay_pending(&rs->out);
		if (!rs->fresh)
			pr_info("peer %s: resumed: it had %llu frames, %llu to send again\n",
				p->name, (unsigned long long)f->count,
				(unsigned long long)replay_pending(&rs->out));
		p->rs_go = true;
		rs_pump(ps, p, now);
		break;
	case FT_REPLAY:
		if (replay_check_from(rs->rx, f->count, &why)) {
			rs_refuse(ps, p, why, f->count);
			return;
		}
		if (f->count > rs->rx)
			pr_warn("peer %s: %llu frames it sent us had left its --resume window: lost\n",
				p->name, (unsigned long long)(f->count - rs->rx));
		rs->rx = f->count;
		p->rs_rx = true;
		break;
	case FT_ACK:
		if (!p->rs_go) {
			peer_bad_frame(ps, p, "ACK before RESUME");
			return;
		}
		if (replay_check_ack(&rs->out, f->count, &why)) {
			rs_refuse(ps, p, why, f->count);
			return;
		}
		replay_ack(&rs->out, f->count);
		break;
	}
}

/* The tick: acknowledgements, the window's age, nodes away too long. */
static void rs_tick(struct peers *ps, uint64_t now)
{
	uint64_t win = (uint64_t)(ps->cfg->resume_s * NSEC);
	unsigned int i;

	for (i = 0; i < ps->nrs; i++) {
		struct rsess *rs = ps->rs[i];

		if (rs->out.buf && now > win)
			replay_expire(&rs->out, now - win);
		if (rs->p && rs->p->state == PS_UP && !rs->p->dead) {
			if (rs->rx != rs->rx_acked && rs->p->rs_rx)
				rs_ack(rs->p, now);
			rs_pump(ps, rs->p, now);
		} else if (!rs->p && !rs->parked && now >= rs->t_down + win) {
			/* (the loop's now may be older than t_down) */
			rs_park(ps, rs);
		}
	}
}

static void on_hello(struct peers *ps, struct peer *p, const struct hello *h, uint64_t now)
{
	char why[128];

	if (h->version != PROTO_VERSION) {
		snprintf(why, sizeof(why), "speaks protocol version %u, this mctun speaks %u",
			 h->version, PROTO_VERSION);
		peer_end(ps, p, PE_CLOSED, why);
		return;
	}
	if (h->auth_type) {
		snprintf(why, sizeof(why), "asks for authentication type %u, not configured here",
			 h->auth_type);
		peer_end(ps, p, PE_CLOSED, why);
		return;
	}
	/* 0 is no node: the peer table shows it for "not up", and a hop-0
	 * frame's origin is checked against it */
	if (!h->node_id) {
		peer_end(ps, p, PE_CLOSED, "node id 0 in its hello");
		return;
	}
	if (h->node_id == ps->node_id) {
		peer_end(ps, p, PE_CLOSED, "connected to itself");
		return;
	}
	/* a place among --max-peers is taken only once authenticated */
	if (!p->outbound && inbound_up_count(ps) >= ps->cfg->max_peers) {
		snprintf(why, sizeof(why), "already %u peers (--max-peers)", ps->cfg->max_peers);
		peer_end(ps, p, PE_CLOSED, why);
		return;
	}
	p->node_id = h->node_id;
	p->subs = (h->caps & ps->caps & PROTO_CAP_SUBSCRIBE) != 0;
	if (h->caps & ps->caps & PROTO_CAP_RESUME) {
		int err = rs_attach(ps, p, h->node_id, now);

		if (err) {
			snprintf(why, sizeof(why), err == -EBUSY ?
				 "node %016llx already has a connection up here (one resumes)" :
				 "node %016llx: out of memory for its --resume window",
				 (unsigned long long)h->node_id);
			peer_end(ps, p, PE_CLOSED, why);
			return;
		}
	}
	peer_up(ps, p, now);
	if (p->dead || p->src.fd < 0)
		return;
	if (p->rs) {
		uint8_t b[FRAME_HDR_LEN + SEQ_FRAME_LEN];

		/* where we stopped: it replays the rest */
		peer_queue_ctl(p, b, frame_put_seq(b, FT_RESUME, p->rs->rx), now);
		p->rs->rx_acked = p->rs->rx;
	}
	pr_info("peer %s: up (node %016llx, %s%s%s%s)%s%s\n", p->name,
		(unsigned long long)h->node_id, p->outbound ? "outbound" : "inbound",
		p->tls ? ", " : "", p->tls ? tls_peer_desc(p->tls) : "", transport_desc(ps, p),
		p->tls ? "" : "; unauthenticated (--insecure)",
		p->rs ? "; resumes after a cut (--resume)" : "");
}

void peer_bad_frame(struct peers *ps, struct peer *p, const char *why)
{
	char msg[160];

	ps->st->bad_frames++;
	snprintf(msg, sizeof(msg), "bad frame: %s", why);
	peer_end(ps, p, PE_CLOSED, msg);
}

/* The udptunnel framing; returns the bytes of p->in taken (p may be closed). */
static size_t ut_parse(struct peers *ps, struct peer *p)
{
	uint32_t max = ps->cfg->groups[0].g.family == MCTUN_FAM_INET ? DATA_MAX_PAYLOAD4 :
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
			peer_bad_frame(ps, p, msg);
			break;
		}
		off += r;
		p->st.frames_in++;
		p->st.bytes_in += r;
		ps->ops->ut_data(ps->ctx, p, p->in + off - plen, plen);
	}
	return off;
}

/* The mctun protocol; returns the bytes of p->in taken (p may be closed). */
static size_t mctun_parse(struct peers *ps, struct peer *p, uint64_t now)
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
			peer_bad_frame(ps, p, why);
			break;
		}
		off += r;
		if (f.type == FT_HELLO) {
			on_hello(ps, p, &f.hello, now);
		} else if (f.type == FT_DATA) {
			p->st.frames_in++;
			p->st.bytes_in += r;
			if (p->rs && !p->rs_rx) {
				peer_bad_frame(ps, p, "DATA before REPLAY");
				break;
			}
			if (p->rs)
				p->rs->rx++;
			ps->ops->data(ps->ctx, p, &f);
			if (p->rs && !p->dead && p->rs->rx - p->rs->rx_acked >= RS_ACK_EVERY)
				rs_ack(p, now);
		} else if (f.type == FT_RESUME || f.type == FT_REPLAY || f.type == FT_ACK) {
			on_resume_frame(ps, p, &f, now);
		} else if (f.type == FT_ANNOUNCE) {
			/* control: counted by the subscriptions, not as data */
			if (!p->subs)
				peer_bad_frame(ps, p, "ANNOUNCE without the SUBSCRIBE capability");
			else
				ps->ops->announce(ps->ctx, p, &f, now);
		}
		if (p->src.fd < 0 || p->dead)
			break;
	}
	return off;
}

static void peer_parse(struct peers *ps, struct peer *p, uint64_t now)
{
	size_t off = p->framing == MCTUN_FRAMING_UDPTUNNEL ? ut_parse(ps, p) :
		     mctun_parse(ps, p, now);

	if (!off || p->src.fd < 0 || p->dead)
		return;
	memmove(p->in, p->in + off, p->in_len - off);
	p->in_len -= off;
}

/* Reads through TLS. Returns bytes, 0 for a close, -1 when done for now
 * (the connection may be closed). */
static ssize_t peer_read_tls(struct peers *ps, struct peer *p)
{
	ssize_t n = tls_read(p->tls, p->in + p->in_len, IN_CAP - p->in_len);

	if (n == -EAGAIN) {
		peer_arm_out(ps, p, p->out.len > 0 || tls_want_write(p->tls));
		return -1;
	}
	if (n < 0) {
		peer_tls_fail(ps, p, (int)n);
		return -1;
	}
	return n;
}

static void peer_read(struct peers *ps, struct peer *p, uint64_t now)
{
	int i, max = p->tls ? TLS_READS_PER_EV : READS_PER_EV;

	for (i = 0; i < max && p->src.fd >= 0 && !p->dead; i++) {
		size_t want = IN_CAP - p->in_len;
		ssize_t n;

		if (p->tls) {
			n = peer_read_tls(ps, p);
			if (n < 0)
				return;
		} else {
			n = recv(p->src.fd, p->in + p->in_len, want, 0);
		}
		if (n == 0) {
			peer_end(ps, p, PE_CLOSED, "closed by peer");
			return;
		}
		if (n < 0) {
			char why[96];

			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			snprintf(why, sizeof(why), "read: %s", strerror(errno));
			peer_end(ps, p, PE_CLOSED, why);
			return;
		}
		p->in_len += n;
		p->t_rx = now;
		peer_parse(ps, p, now);
		/* A short plain read drained the socket: epoll (level-triggered)
		 * reports what comes next, so save the read that would say EAGAIN. */
		if (!p->tls && (size_t)n < want)
			return;
	}
	/* Stopped by the bound: what OpenSSL holds, epoll will not report. */
	if (p->tls && p->src.fd >= 0 && !p->dead)
		p->rx_more = tls_has_pending(p->tls);
}

static void peer_flush(struct peers *ps, struct peer *p)
{
	long n;

	if (p->src.fd < 0 || p->dead || p->state == PS_CONNECTING || p->state == PS_TLS)
		return;
	if (p->rs)
		rs_pump(ps, p, now_ns());
	n = p->tls ? tls_flush(p->tls, &p->out) : obuf_flush(&p->out, p->src.fd);
	if (n < 0) {
		char why[96];

		if (p->tls) {
			peer_tls_fail(ps, p, (int)n);
			return;
		}
		snprintf(why, sizeof(why), "write: %s", strerror((int)-n));
		peer_end(ps, p, PE_CLOSED, why);
		return;
	}
	p->dirty = false;
	/* the room the write made: the next frames of the window, written on
	 * the next round (EPOLLOUT is armed for them) */
	if (p->rs)
		rs_pump(ps, p, now_ns());
	peer_arm_out(ps, p, p->out.len > 0 || (p->tls && tls_want_write(p->tls)));
}

void peers_reap(struct peers *ps)
{
	unsigned int i, j;

	for (i = j = 0; i < ps->n; i++) {
		struct peer *p = ps->v[i];

		if (!p->dead) {
			ps->v[j++] = p;
			continue;
		}
		ps->dead_drops += p->st.queue_drops;
		tls_conn_free(p->tls);
		big_free(p->in, IN_CAP);
		obuf_free(&p->out);
		free(p);
	}
	ps->n = j;
}

/*
 * At most --max-pending inbound connections may be authenticating (TLS or
 * hello) at once. When one more arrives, the oldest of them is closed, not
 * the newcomer: idle connections (a flood, or peers that stall) hold their
 * slot until --auth-timeout, so refusing newcomers would lock real peers
 * out for as long as a flood goes on, whereas a real peer finishes its
 * handshake in a few round trips and is gone from the pending set.
 */
static void make_pending_room(struct peers *ps)
{
	struct peer *oldest = NULL;
	unsigned int i, n = 0;

	for (i = 0; i < ps->n; i++) {
		struct peer *p = ps->v[i];

		if (p->outbound || p->dead || (p->state != PS_TLS && p->state != PS_HELLO))
			continue;
		n++;
		if (!oldest || p->t_deadline < oldest->t_deadline)
			oldest = p;
	}
	if (n >= ps->cfg->max_pending && oldest) {
		char why[128];

		snprintf(why, sizeof(why), "closed for a newer connection: %u were authenticating "
			 "(--max-pending)", n);
		peer_end(ps, oldest, PE_PENDING, why);
	}
}

/* Refused before anything is read from it. */
static void refuse_at_accept(struct peers *ps, int fd, const char *name, enum peer_end rf,
			     const char *why, uint64_t now)
{
	if (refusal_log_ok(ps, now))
		pr_warn("peer %s: refused: %s\n", name, why);
	count_refusal(ps, false, rf);
	close(fd);
}

void peers_accept(struct peers *ps, struct listener *l, uint64_t now)
{
	int i, one = 1;

	for (i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char name[ADDR_STRLEN + 16];
		struct peer *p;
		int fd;

		fd = accept4(l->src.fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				pr_warn("accept: %s\n", strerror(errno));
			return;
		}
		sockaddr_str((struct sockaddr *)&ss, name, sizeof(name));
		if (ps->cfg->nallow &&
		    !cidr_match(ps->cfg->allow, ps->cfg->nallow, (struct sockaddr *)&ss)) {
			refuse_at_accept(ps, fd, name, PE_ALLOW, "not in --allow", now);
			continue;
		}
		if (inbound_up_count(ps) >= ps->cfg->max_peers) {
			char why[64];

			snprintf(why, sizeof(why), "already %u peers (--max-peers)",
				 ps->cfg->max_peers);
			refuse_at_accept(ps, fd, name, PE_CLOSED, why, now);
			continue;
		}
		make_pending_room(ps);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		p = peer_new(ps, fd, false, name);
		if (p) {
			p->addr = ss;
			p->lst = l;
		}
		if (!p) {
			pr_warn("peer %s: refused: out of memory\n", name);
			close(fd);
			continue;
		}
		ep_set(ps->epfd, &p->src, EPOLLIN, EPOLL_CTL_ADD);
		pr_debug("peer %s: accepted\n", name);
		peer_start(ps, p, now);
	}
}

/* ---- what the loop calls ----------------------------------------------- */

void peer_event(struct peers *ps, struct peer *p, uint32_t events, uint64_t now)
{
	if (p->dead || p->src.fd < 0)
		return;
	if (p->state == PS_CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			peer_connected(ps, p, now);
		return;
	}
	if (p->state == PS_TLS) {
		peer_tls_step(ps, p, now);
		return;
	}
	/* TLS: a read may have waited for the socket to take a write */
	if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || (p->tls && (events & EPOLLOUT)))
		peer_read(ps, p, now);
	if ((events & EPOLLOUT) && p->src.fd >= 0 && !p->dead)
		p->dirty = true;
}

bool peers_rx_more(const struct peers *ps)
{
	unsigned int i;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i]->rx_more)
			return true;
	return false;
}

void peers_read_more(struct peers *ps, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < ps->n; i++) {
		struct peer *p = ps->v[i];

		if (p->rx_more && !p->dead && p->src.fd >= 0) {
			p->rx_more = false;
			peer_read(ps, p, now);
		}
	}
}

void peers_tick(struct peers *ps, uint64_t now)
{
	const struct config *cfg = ps->cfg;
	uint64_t ka = cfg->keepalive_s * NSEC, dead = cfg->dead_s * NSEC;
	unsigned int i;

	if (ps->rl_quiet && now - ps->rl_start >= NSEC)
		refusal_log_ok(ps, now);     /* says how many went unlogged */
	for (i = 0; i < ps->n; i++) {
		struct peer *p = ps->v[i];
		char why[96];

		if (p->dead)
			continue;
		switch (p->state) {
		case PS_IDLE:
			if (now >= p->t_retry)
				peer_connect(ps, p, now);
			break;
		case PS_CONNECTING:
			if (now >= p->t_deadline)
				peer_end(ps, p, PE_CLOSED, "connect timed out");
			break;
		case PS_TLS:
		case PS_HELLO:
			if (now < p->t_deadline)
				break;
			snprintf(why, sizeof(why), "handshake timed out: %s within %.1f s "
				 "(--auth-timeout)", p->state == PS_TLS ? "TLS not done" :
				 "no hello", cfg->handshake_s);
			peer_end(ps, p, PE_TIMEOUT, why);
			break;
		case PS_UP:
			/* udptunnel framing: quiet is normal, TCP keepalives watch */
			if (p->framing == MCTUN_FRAMING_UDPTUNNEL)
				break;
			if (now - p->t_rx >= dead) {
				snprintf(why, sizeof(why), "silent for %.1f s", cfg->dead_s);
				peer_end(ps, p, PE_CLOSED, why);
			} else if (now - p->t_tx >= ka && !p->out.len) {
				uint8_t b[FRAME_HDR_LEN];

				peer_queue(p, SIZE_MAX, b, frame_put_keepalive(b), NULL, 0, now);
				p->st.frames_out--;   /* count data frames only */
				p->st.bytes_out -= FRAME_HDR_LEN;
			}
			break;
		}
	}
	rs_tick(ps, now);
}

/*
 * Write out what the event loop queued for peers. A round costs a write per
 * dirty peer, and with many peers and a modest rate each round would carry
 * one datagram: so after a round that took C ns, the next may start no
 * sooner than C ns later. Writing never takes more than half of the loop's
 * time, a lone datagram after a quiet spell still leaves at once, and under
 * load every write carries more frames. The gap is capped: one slow round
 * (the first writes of 100 fresh connections fault in their queues' pages,
 * tens of ms) must not hold every queue as long again.
 */
uint64_t peers_flush(struct peers *ps)
{
	uint64_t now = now_ns(), end;
	unsigned int i;
	bool dirty = false;

	for (i = 0; i < ps->n && !dirty; i++)
		dirty = ps->v[i]->dirty;
	if (!dirty)
		return 0;
	if (now < ps->flush_at)
		return ps->flush_at - now;
	for (i = 0; i < ps->n; i++)
		if (ps->v[i]->dirty)
			peer_flush(ps, ps->v[i]);
	end = now_ns();
	ps->flush_at = end + MIN(end - now, FLUSH_GAP_MAX);
	return 0;
}

void peers_free(struct peers *ps)
{
	unsigned int i;

	for (i = 0; i < ps->n; i++) {
		struct peer *p = ps->v[i];

		tls_conn_free(p->tls);
		if (p->src.fd >= 0)
			close(p->src.fd);
		big_free(p->in, IN_CAP);
		obuf_free(&p->out);
		free(p);
	}
	free(ps->v);
	ps->v = NULL;
	ps->n = ps->cap = 0;
	while (ps->nrs)
		rs_free(ps, ps->nrs - 1);
	free(ps->rs);
	ps->rs = NULL;
	ps->caprs = 0;
}

/* ---- what others read ---------------------------------------------------- */

static const uint8_t peer_state_pub[] = {
	[PS_IDLE] = MCTUN_PEER_WAITING, [PS_CONNECTING] = MCTUN_PEER_CONNECTING,
	[PS_TLS] = MCTUN_PEER_HELLO, [PS_HELLO] = MCTUN_PEER_HELLO, [PS_UP] = MCTUN_PEER_UP,
};

unsigned int peers_table(struct peers *ps, struct mctun_peer_info *pi, unsigned int max)
{
	uint64_t mono = now_ns(), real = realtime_ns();
	unsigned int i, n = 0;
	__u64 drops = 0, up = 0;

	for (i = 0; i < ps->n; i++) {
		const struct peer *p = ps->v[i];
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
		if (p->state == PS_UP && p->src.fd >= 0) {
			unsigned int sf;

			o->transport = mptcp_conn_state(p->src.fd, ps->cfg->mptcp, &sf);
			o->subflows = sf > 255 ? 255 : (__u8)sf;
		}
		if (p->outbound)
			sockaddr_addr((const struct sockaddr *)&ps->cfg->peer[p->slot].ss,
				      &o->family, o->addr, &port);
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
	ps->st->node_id = ps->node_id;
	ps->st->queue_drops = drops + ps->dead_drops;
	ps->st->peers_up = up;
	return n;
}

unsigned int peers_up(const struct peers *ps)
{
	unsigned int i, up = 0;

	for (i = 0; i < ps->n; i++)
		up += ps->v[i]->state == PS_UP;
	return up;
}

void peers_log(const struct peers *ps)
{
	unsigned int i;

	for (i = 0; i < ps->n; i++) {
		const struct peer *p = ps->v[i];
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
