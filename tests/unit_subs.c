// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the ANNOUNCE wire format (user/lib/proto.c) and of the
 * subscription state (user/tunnel/subs.c): no network, no root. Several
 * struct subs are wired together through their send callbacks into a
 * small network in memory, whose frames are delivered in rounds and
 * whose clock the tests move.
 *
 * Prints "ok - NAME" or "not ok - NAME: why" per case and a summary line
 * "unit_subs: N ok, M not ok"; exits 0 only when none failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mctun.h"
#include "proto.h"
#include "subs.h"
#include "unit.h"

#define S (1000000000ull)
#define MS (1000000ull)

/* ---- addresses and wants ----------------------------------------------- */

static uint8_t fam_of(const char *a)
{
	return strchr(a, ':') ? MCTUN_FAM_INET6 : MCTUN_FAM_INET;
}

static struct want want(const char *grp, uint8_t plen, uint16_t port)
{
	struct want w = { .family = fam_of(grp), .kind = WANT_EXCLUDE, .plen = plen, .port = port };

	A(grp, w.group);
	return w;
}

static struct want want1(const char *grp, uint16_t port)
{
	return want(grp, fam_of(grp) == MCTUN_FAM_INET ? 32 : 128, port);
}

/* Sources for a want, kept in a static pool (tests are short). */
static const uint8_t *srcs(unsigned int n, ...)
{
	static uint8_t pool[4096][16];
	static unsigned int used;
	const uint8_t *first;
	va_list ap;
	unsigned int i;

	if (used + n > 4096)
		used = 0;
	first = pool[used];
	va_start(ap, n);
	for (i = 0; i < n; i++)
		A(va_arg(ap, const char *), pool[used++]);
	va_end(ap);
	return first;
}

static struct want all_want(void)
{
	return (struct want){ .kind = WANT_ALL };
}

/* ---- building frames by hand --------------------------------------------- */

static size_t ann_frame(uint8_t *b, const struct announce_hdr *h, const struct want *w,
			unsigned int n)
{
	uint8_t *e = b + FRAME_HDR_LEN + ANNOUNCE_HDR_LEN;
	uint32_t elen = 0;
	struct announce_hdr hh = *h;
	unsigned int i;

	for (i = 0; i < n; i++)
		elen += announce_entry_put(e + elen, &w[i]);
	hh.count = n;
	return frame_put_announce_hdr(b, &hh, elen) + elen;
}

static int parse_all(const uint8_t *b, size_t len, struct frame *f, const char **why)
{
	*why = NULL;
	return frame_parse(b, len, 0, f, why);
}

/* ---- the network in memory ------------------------------------------------- */

#define MAXN 8

struct node {
	struct subs *s;
	int idx;
	unsigned int skip;           /* sends that pass before ... */
	unsigned int fail;           /* ... this many fail */
	unsigned long frames, anns;  /* sent: frames, last chunks */
	unsigned int changed;        /* changed callbacks */
	uint64_t base_mem;
};

struct msg {
	int from, to;
	size_t len;
	uint8_t *b;
};

static struct node nodes[MAXN];
static int nnodes;
static bool linked[MAXN][MAXN];
static struct msg *q;
static size_t qn, qcap;
static uint64_t now;
static char net_err[256];

static uint64_t node_id(int i)
{
	return 0x1000 + i + 1;
}

static int net_send(void *ctx, unsigned int peer, const uint8_t *buf, size_t len)
{
	struct node *n = ctx;

	if (n->skip) {
		n->skip--;
	} else if (n->fail) {
		n->fail--;
		return -ENOBUFS;
	}
	if (qn == qcap) {
		qcap = qcap ? 2 * qcap : 64;
		q = realloc(q, qcap * sizeof(*q));
	}
	q[qn].from = n->idx;
	q[qn].to = peer;
	q[qn].len = len;
	q[qn].b = malloc(len);
	memcpy(q[qn].b, buf, len);
	qn++;
	n->frames++;
	n->anns += buf[FRAME_HDR_LEN + 17] & ANNOUNCE_LAST;
	return 0;
}

static void net_changed(void *ctx)
{
	((struct node *)ctx)->changed++;
}

static void net_init(int n, unsigned int max_hops)
{
	int i;

	memset(nodes, 0, sizeof(nodes));
	memset(linked, 0, sizeof(linked));
	nnodes = n;
	now = 1000 * S;
	net_err[0] = 0;
	for (i = 0; i < n; i++) {
		struct subs_config cfg = {
			.node_id = node_id(i), .max_hops = max_hops, .send = net_send,
			.changed = net_changed, .ctx = &nodes[i],
		};

		nodes[i].idx = i;
		nodes[i].s = subs_new(&cfg, now);
		nodes[i].base_mem = subs_stats(nodes[i].s)->mem;
	}
}

static void q_drop(size_t i)
{
	free(q[i].b);
	memmove(q + i, q + i + 1, (qn - i - 1) * sizeof(*q));
	qn--;
}

static void net_free(void)
{
	int i;

	for (i = 0; i < nnodes; i++)
		subs_free(nodes[i].s);
	while (qn)
		q_drop(qn - 1);
	free(q);
	q = NULL;
	qcap = 0;
	nnodes = 0;
}

static void link_down(int a, int b)
{
	size_t i;

	linked[a][b] = linked[b][a] = false;
	/* what was in flight on the connection is gone with it */
	for (i = qn; i-- > 0;)
		if ((q[i].from == a && q[i].to == b) || (q[i].from == b && q[i].to == a))
			q_drop(i);
	subs_peer_down(nodes[a].s, b);
	subs_peer_down(nodes[b].s, a);
}

static void link_up(int a, int b)
{
	linked[a][b] = linked[b][a] = true;
	subs_peer_up(nodes[a].s, b, node_id(b), now);
	subs_peer_up(nodes[b].s, a, node_id(a), now);
}

/* Delivers what is queued now (one round); returns the frames delivered. */
static size_t round_once(void)
{
	size_t m = qn, i, done = 0;
	struct msg *batch = malloc((m ? m : 1) * sizeof(*batch));

	memcpy(batch, q, m * sizeof(*q));
	memmove(q, q + m, (qn - m) * sizeof(*q));
	qn -= m;
	for (i = 0; i < m; i++) {
		struct msg *g = &batch[i];
		const char *why;
		struct frame f;
		int r;

		if (linked[g->from][g->to]) {
			r = parse_all(g->b, g->len, &f, &why);
			if (r != (int)g->len) {
				snprintf(net_err, sizeof(net_err), "frame %d -> %d parses to %d: %s",
					 g->from, g->to, r, why ? why : "");
			} else if ((r = subs_input(nodes[g->to].s, g->from, &f, now, &why))) {
				snprintf(net_err, sizeof(net_err), "subs_input %d -> %d: %d %s",
					 g->from, g->to, r, why);
				link_down(g->from, g->to);
			}
			done++;
		}
		free(g->b);
	}
	free(batch);
	return done;
}

/* Rounds until nothing is in flight; returns how many, or -1 past max. */
static int deliver(int max)
{
	int rounds = 0;

	while (qn) {
		if (rounds == max)
			return -1;
		round_once();
		rounds++;
	}
	return rounds;
}

static void tick_all(void)
{
	int i;

	for (i = 0; i < nnodes; i++)
		subs_tick(nodes[i].s, now);
}

/* Time passes in steps of `step`, each node ticking, frames delivered. */
static void run_for(uint64_t dur, uint64_t step)
{
	uint64_t end = now + dur;

	while (now < end) {
		now += step;
		tick_all();
		deliver(100);
	}
}

static int set_local(int i, const struct want *w, unsigned int n)
{
	const char *why = NULL;

	return subs_set_local(nodes[i].s, w, n, now, &why);
}

/* Peers node i selects for a datagram, as a bit mask of peer ids. */
static unsigned int sel(int i, const char *grp, uint16_t port, const char *src)
{
	uint8_t g[16], sa[16];
	unsigned int m = 0, n, p;

	A(grp, g);
	A(src, sa);
	n = subs_select(nodes[i].s, fam_of(grp), g, port, sa);
	for (p = 0; p < MAXN; p++)
		if (subs_selected(nodes[i].s, p))
			m |= 1u << p;
	if ((unsigned int)__builtin_popcount(m) != n) {
		fprintf(stderr, "subs_select says %u, marks %#x\n", n, m);
		return ~0u;
	}
	return m;
}

struct seen_origin {
	bool found;
	uint64_t id;
	struct subs_origin_info oi;
	unsigned int via;            /* mask */
	unsigned int count;
};

static void find_cb(void *ctx, const struct subs_origin_info *oi)
{
	struct seen_origin *so = ctx;
	unsigned int i;

	so->count++;
	if (oi->node_id != so->id)
		return;
	so->found = true;
	so->oi = *oi;
	so->via = 0;
	for (i = 0; i < oi->nvia; i++)
		so->via |= 1u << oi->via[i];
}

/* Origin j as node i holds it. */
static struct seen_origin origin_at(int i, int j)
{
	struct seen_origin so = { .id = node_id(j) };

	subs_foreach_origin(nodes[i].s, now, find_cb, &so);
	return so;
}

static unsigned int origins_at(int i)
{
	struct seen_origin so = { .id = 0 };

	subs_foreach_origin(nodes[i].s, now, find_cb, &so);
	return so.count;
}

#define G1 "239.1.1.1"
#define G2 "239.2.2.2"
#define SRC "198.18.0.1"

/* ---- cases: the wire ------------------------------------------------------- */

static void t_roundtrip(void)
{
	static uint8_t b[FRAME_HDR_LEN + ANNOUNCE_HDR_LEN + ANNOUNCE_MAX_BODY];
	struct want w[6], got;
	struct announce_hdr h = {
		.origin = 0x1122334455667788ull, .serial = 0xfedcba9876543210ull, .hops = 3,
		.flags = ANNOUNCE_LAST, .chunk = 0, .lifetime = 90,
	};
	const char *why;
	struct frame f;
	size_t len, off;
	unsigned int i;
	int r;

	w[0] = want1(G1, 5000);
	w[1] = want1("ff15::1", 0);
	w[1].kind = WANT_INCLUDE;
	w[1].nsrc = 2;
	w[1].src = srcs(2, "2001:db8::1", "2001:db8::2");
	w[2] = want("239.192.0.0", 16, 0);
	w[3] = all_want();
	w[4] = want("ff3e::", 96, 7000);
	w[4].nsrc = 1;
	w[4].src = srcs(1, "2001:db8::9");
	w[5] = want("224.0.0.0", 4, 1);
	len = ann_frame(b, &h, w, 6);
	r = parse_all(b, len, &f, &why);
	CHECK(r == (int)len, "parse: %d %s", r, why);
	CHECK(f.type == FT_ANNOUNCE && f.announce.hdr.origin == h.origin &&
	      f.announce.hdr.serial == h.serial && f.announce.hdr.hops == 3 &&
	      f.announce.hdr.flags == ANNOUNCE_LAST && f.announce.hdr.count == 6 &&
	      f.announce.hdr.lifetime == 90, "header fields");
	for (i = 0, off = 0; i < 6; i++) {
		r = announce_entry_parse(f.announce.entries + off, f.announce.entries_len - off,
					 &got, &why);
		CHECK(r == (int)want_wire_len(&w[i]), "entry %u: %d", i, r);
		CHECK(got.family == w[i].family && got.kind == w[i].kind && got.plen == w[i].plen &&
		      got.port == w[i].port && got.nsrc == w[i].nsrc &&
		      !memcmp(got.group, w[i].group, 16) &&
		      (!got.nsrc || !memcmp(got.src, w[i].src, 16 * got.nsrc)), "entry %u differs", i);
		off += r;
	}
	CHECK(off == f.announce.entries_len, "entries length");
	/* every strict prefix waits for more */
	for (i = 0; i < len; i++)
		CHECK(parse_all(b, i, &f, &why) == 0, "prefix %u", i);
	/* not a first frame */
	CHECK(frame_parse(b, len, 1, &f, &why) == -EBADMSG, "announce taken as a first frame");
}

/* A valid one-entry frame, then one mutation; must be refused. */
struct mutation {
	const char *name;
	size_t at;                   /* byte offset in the frame */
	uint8_t val;
	int len_delta;               /* change of the frame length field */
};

static void t_malformed(void)
{
	static const struct mutation mut[] = {
		{ "frame flags", 1, 1, 0 },
		{ "frame reserved", 3, 1, 0 },
		{ "unknown announce flags", 8 + 17, 2, 0 },
		{ "origin 0", 8 + 7, 0, 0 },
		{ "lifetime 0", 8 + 23, 0, 0 },
		{ "count one more", 8 + 21, 2, 0 },
		{ "count one less", 8 + 21, 0, 0 },
		{ "bad family", 32 + 0, 5, 0 },
		{ "unknown kind", 32 + 1, 3, 0 },
		{ "plen 33", 32 + 2, 33, 0 },
		{ "plen 3", 32 + 2, 3, 0 },
		{ "plen 24 with host bits", 32 + 2, 24, 0 },
		{ "entry reserved", 32 + 3, 1, 0 },
		{ "nsrc lies", 32 + 7, 2, 0 },
		{ "nsrc over the bound", 32 + 6, 1, 0 },
		{ "non-multicast group", 32 + 8, 10, 0 },
		{ "IPv4 group with bytes past 4", 32 + 8 + 9, 1, 0 },
		{ "multicast source", 32 + 24, 239, 0 },
		{ "IPv4 source with bytes past 4", 32 + 24 + 5, 1, 0 },
		{ "short announce", 0, 0, -(int)(ANNOUNCE_HDR_LEN + 40) + 23 },
		{ "truncated entry", 0, 0, -1 },
	};
	static uint8_t b[256], m[256];
	struct announce_hdr h = { .origin = 7, .serial = 1, .flags = ANNOUNCE_LAST, .lifetime = 9 };
	struct want w = want1(G1, 5000);
	const char *why;
	struct frame f;
	size_t len;
	unsigned int i;
	int r;

	w.kind = WANT_INCLUDE;
	w.nsrc = 1;
	w.src = srcs(1, SRC);
	len = ann_frame(b, &h, &w, 1);
	CHECK(len == 8 + 24 + 24 + 16, "frame length %zu", len);
	CHECK(parse_all(b, len, &f, &why) == (int)len, "the valid frame: %s", why);
	for (i = 0; i < sizeof(mut) / sizeof(mut[0]); i++) {
		uint32_t bl = len - FRAME_HDR_LEN + mut[i].len_delta;

		memcpy(m, b, len);
		if (mut[i].len_delta) {
			m[4] = bl >> 24;
			m[5] = bl >> 16;
			m[6] = bl >> 8;
			m[7] = bl;
		} else {
			m[mut[i].at] = mut[i].val;
		}
		r = parse_all(m, FRAME_HDR_LEN + bl, &f, &why);
		CHECK(r == -EBADMSG && why, "%s: %d", mut[i].name, r);
	}
	/* ALL carrying a group; INCLUDE without a source; empty chunk not last */
	w = all_want();
	w.group[0] = 239;
	len = ann_frame(b, &h, &w, 1);
	CHECK(parse_all(b, len, &f, &why) == -EBADMSG, "ALL with a group");
	w = want1(G1, 0);
	w.kind = WANT_INCLUDE;
	len = ann_frame(b, &h, &w, 1);
	CHECK(parse_all(b, len, &f, &why) == -EBADMSG, "INCLUDE without a source");
	h.flags = 0;
	len = ann_frame(b, &h, NULL, 0);
	CHECK(parse_all(b, len, &f, &why) == -EBADMSG, "empty chunk before the last");
	/* oversized: refused from the header alone */
	h.flags = ANNOUNCE_LAST;
	len = ann_frame(b, &h, NULL, 0);
	b[4] = 0;
	b[5] = 1;
	b[6] = 0;
	b[7] = ANNOUNCE_HDR_LEN + 1;   /* 65536 + 24 + 1 */
	CHECK(parse_all(b, FRAME_HDR_LEN, &f, &why) == -EBADMSG, "oversized frame awaited");
	b[7] = ANNOUNCE_HDR_LEN;
	CHECK(parse_all(b, FRAME_HDR_LEN, &f, &why) == 0, "the largest frame refused");
}

/* A sender's chunks: consecutive, LAST on the last, each within bounds,
 * and reassembled whole by a receiver. */
static void t_chunking(void)
{
	static struct want w[5000];
	static uint8_t s[5000][2][16];
	struct seen_origin so;
	unsigned long frames;
	unsigned int i;

	net_init(2, 8);
	for (i = 0; i < 5000; i++) {
		char g[32];

		snprintf(g, sizeof(g), "239.%u.%u.1", i / 256, i % 256);
		w[i] = want1(g, 5000);
		w[i].kind = WANT_INCLUDE;
		w[i].nsrc = 2;
		A("198.18.0.1", s[i][0]);
		A("198.18.0.2", s[i][1]);
		s[i][1][3] = i;
		w[i].src = s[i][0];
	}
	link_up(0, 1);
	deliver(10);
	frames = nodes[0].frames;
	CHECK(!set_local(0, w, 5000), "set_local");
	/* 5000 * 56 bytes: 5 chunks of at most 65536 */
	CHECK(nodes[0].frames - frames == 5, "%lu frames", nodes[0].frames - frames);
	for (i = 0; i < qn; i++) {
		const uint8_t *b = q[i].b;

		CHECK(q[i].len <= FRAME_MAX, "frame of %zu", q[i].len);
		CHECK(b[FRAME_HDR_LEN + 19] == i, "chunk %u has index %u", i, b[FRAME_HDR_LEN + 19]);
		CHECK(!!(b[FRAME_HDR_LEN + 17] & ANNOUNCE_LAST) == (i == qn - 1), "LAST flag on %u", i);
	}
	CHECK(deliver(10) == 1 && !net_err[0], "delivery: %s", net_err);
	so = origin_at(1, 0);
	CHECK(so.found && so.oi.entries == 5000 && so.oi.sources == 10000, "entries %u sources %u",
	      so.oi.entries, so.oi.sources);
	CHECK(sel(1, "239.19.135.1", 5000, "198.18.0.1") == 1u << 0, "the last chunk's group");
	CHECK(sel(1, "239.19.135.1", 5000, "198.18.0.3") == 0, "a source not included");
	CHECK(sel(1, "239.0.0.1", 5000, "198.18.0.2") == 0, "entry 0 lists .1 and .0 only");
	net_free();
}

/* ---- cases: the sequence of chunks ------------------------------------------ */

static int input(struct subs *s, unsigned int peer, const uint8_t *b, size_t len,
		 const char **why)
{
	struct frame f;
	int r = parse_all(b, len, &f, why);

	if (r != (int)len)
		return r < 0 ? r : -EMSGSIZE;
	return subs_input(s, peer, &f, now, why);
}

static void t_sequence(void)
{
	static uint8_t b[512];
	struct want w = want1(G1, 5000);
	struct announce_hdr h = { .origin = node_id(1), .serial = 5, .hops = 0, .lifetime = 90 };
	const struct subs_stats *st;
	const char *why;
	struct subs *s;
	size_t len;

	net_init(2, 8);
	s = nodes[0].s;
	st = subs_stats(s);
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == -EBADMSG, "announce from a peer not up");
	subs_peer_up(s, 1, node_id(1), now);
	subs_peer_up(s, 2, node_id(2), now);
	/* chunk 1 without a chunk 0 */
	h.chunk = 1;
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == -EBADMSG, "chunk 1 first");
	/* a gap */
	h.chunk = 0;
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == 0, "chunk 0: %s", why);
	h.chunk = 2;
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == -EBADMSG, "gap taken");
	/* interleaved: chunk 1 of another origin while one is open */
	h.chunk = 0;
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == 0, "chunk 0 again: %s", why);
	h.chunk = 1;
	h.origin = node_id(3);
	h.hops = 1;
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == -EBADMSG, "interleaved chunk taken");
	/* ... or of the same origin with another serial */
	h = (struct announce_hdr){ .origin = node_id(1), .serial = 5, .lifetime = 90 };
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == 0, "chunk 0: %s", why);
	h.chunk = 1;
	h.serial = 6;
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == -EBADMSG, "chunk of another serial taken");
	/* a chunk 0 ends an unfinished one (a sender's resend), no error */
	h = (struct announce_hdr){ .origin = node_id(1), .serial = 5, .lifetime = 90 };
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == 0, "chunk 0: %s", why);
	h.flags = ANNOUNCE_LAST;
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 1, b, len, &why) == 0 && st->abandoned >= 1, "restart: %s", why);
	CHECK(sel(0, G1, 5000, SRC) == 1u << 1, "the restarted announcement applies");
	/* first-hand, a peer speaks for itself only */
	h.origin = node_id(4);
	len = ann_frame(b, &h, &w, 1);
	CHECK(input(s, 2, b, len, &why) == -EBADMSG, "hop 0 for another node taken");
	CHECK(st->bad == 6, "bad %llu", (unsigned long long)st->bad);
	net_free();
}

/* More than ANNOUNCE_MAX_ENTRIES over the chunks of one announcement. */
static void t_too_large(void)
{
	static uint8_t b[FRAME_HDR_LEN + ANNOUNCE_HDR_LEN + ANNOUNCE_MAX_BODY];
	static struct want w[2730];
	struct announce_hdr h = { .origin = node_id(1), .serial = 1, .lifetime = 90 };
	const char *why;
	unsigned int i, c;
	size_t len;
	int r = 0;

	net_init(2, 8);
	subs_peer_up(nodes[0].s, 1, node_id(1), now);
	for (i = 0; i < 2730; i++)
		w[i] = want1(G1, i + 1);
	/* 2730 a chunk: the seventh passes 16384 */
	for (c = 0; c < 7 && !r; c++) {
		h.chunk = c;
		len = ann_frame(b, &h, w, 2730);
		r = input(nodes[0].s, 1, b, len, &why);
	}
	CHECK(r == -EBADMSG && c == 7, "chunk %u: %d", c, r);
	/* the part assembled so far is freed with the refusal */
	CHECK(subs_stats(nodes[0].s)->mem < nodes[0].base_mem + 4096, "%llu bytes held",
	      (unsigned long long)(subs_stats(nodes[0].s)->mem - nodes[0].base_mem));
	net_free();
}

/* ---- cases: topologies ------------------------------------------------------ */

static void t_line(void)
{
	struct want w = want1(G1, 5000);

	net_init(3, 8);
	link_up(0, 1);
	link_up(1, 2);
	deliver(10);
	CHECK(!set_local(2, &w, 1), "set_local");
	CHECK(deliver(10) == 2 && !net_err[0], "rounds or %s", net_err);
	CHECK(sel(0, G1, 5000, SRC) == 1u << 1, "A selects B for G: %#x", sel(0, G1, 5000, SRC));
	CHECK(sel(1, G1, 5000, SRC) == 1u << 2, "B selects C for G");
	CHECK(sel(2, G1, 5000, SRC) == 0, "C selects nobody (its own want)");
	CHECK(sel(0, G2, 5000, SRC) == 0, "A selects nobody for G2");
	CHECK(sel(0, G1, 5001, SRC) == 0, "A selects nobody for another port");
	CHECK(origin_at(0, 2).oi.hops == 1 && origin_at(1, 2).oi.hops == 0, "hops");
	CHECK(nodes[0].changed >= 1, "A's capture set changed");
	net_free();
}

static void t_hub(void)
{
	struct want w = want1(G1, 5000);

	net_init(4, 8);
	link_up(0, 1);
	link_up(0, 2);
	link_up(0, 3);
	deliver(10);
	CHECK(!set_local(2, &w, 1), "set_local");
	deliver(10);
	CHECK(sel(0, G1, 5000, SRC) == 1u << 2, "the hub selects spoke 2 alone: %#x",
	      sel(0, G1, 5000, SRC));
	CHECK(sel(1, G1, 5000, SRC) == 1u << 0, "spoke 1 sends to the hub");
	CHECK(sel(3, G1, 5000, SRC) == 1u << 0, "spoke 3 sends to the hub");
	CHECK(sel(1, G2, 5000, SRC) == 0, "spoke 1 sends G2 nowhere");
	net_free();
}

static void t_triangle_withdraw(void)
{
	struct want w = want1(G1, 5000);
	int r, i;

	net_init(3, 8);
	link_up(0, 1);
	link_up(1, 2);
	link_up(2, 0);
	deliver(10);
	CHECK(!set_local(2, &w, 1), "set_local");
	CHECK(deliver(10) > 0 && !net_err[0], "%s", net_err);
	CHECK(sel(0, G1, 5000, SRC) == ((1u << 2) | (1u << 1)), "A: via C and B");
	CHECK(sel(1, G1, 5000, SRC) == ((1u << 2) | (1u << 0)), "B: via C and A");
	now += S;
	CHECK(!set_local(2, NULL, 0), "withdraw");
	r = deliver(10);
	CHECK(r > 0 && r <= 3, "converged in %d rounds", r);
	for (i = 0; i < 3; i++)
		CHECK(sel(i, G1, 5000, SRC) == 0, "node %d still selects someone", i);
	CHECK(origin_at(0, 2).oi.entries == 0 && origin_at(1, 2).oi.entries == 0, "entries left");
	/* and it stays so: refreshes go round and change nothing */
	run_for(100 * S, S);
	for (i = 0; i < 3; i++)
		CHECK(sel(i, G1, 5000, SRC) == 0, "node %d selects again", i);
	CHECK(origins_at(0) == 2 && origins_at(1) == 2 && origins_at(2) == 2, "origins");
	net_free();
}

/*
 * A ring A-B-C-D-A; D wants G, then dies without a word (its links drop).
 * Those that heard D through another still hold it, through each other:
 * an echo that only the lifetime ends. Gone everywhere within it, never
 * renewed meanwhile, however the links between them flap.
 */
static void t_silent_death(void)
{
	struct want w = want1(G1, 5000);
	uint64_t t0;
	int i;

	net_init(4, 8);
	link_up(0, 1);
	link_up(1, 2);
	link_up(2, 3);
	link_up(3, 0);
	deliver(10);
	CHECK(!set_local(3, &w, 1), "set_local");
	deliver(10);
	CHECK(sel(1, G1, 5000, SRC) == ((1u << 0) | (1u << 2)), "B reaches D both ways");
	run_for(10 * S, S);
	t0 = now;
	link_down(2, 3);
	link_down(3, 0);
	/* A heard D from D alone and forgets it; B took D from A first, and C
	 * from D and then from B: C and B hold D through each other */
	CHECK(!origin_at(0, 3).found, "A holds D");
	CHECK(origin_at(1, 3).found && origin_at(2, 3).found, "B and C forgot D");
	CHECK(origin_at(2, 3).via == 1u << 1, "C holds D via B: %#x", origin_at(2, 3).via);
	/* ... and flaps of their links, later on, bring nothing back to life */
	run_for(20 * S, S);
	link_down(1, 2);
	link_up(1, 2);
	link_down(0, 1);
	link_up(0, 1);
	deliver(10);
	/* D's last serial was taken before t0: nobody may hold it past t0 + 90 s */
	while (now < t0 + 91 * S) {
		run_for(S, S);
		for (i = 0; i < 3; i++)
			if (origin_at(i, 3).found &&
			    now + origin_at(i, 3).oi.expires_ns > t0 + 90 * S)
				break;
		CHECK(i == 3, "node %d renewed D", i);
	}
	for (i = 0; i < 3; i++)
		CHECK(!origin_at(i, 3).found, "node %d still holds D", i);
	for (i = 0; i < 3; i++)
		CHECK(sel(i, G1, 5000, SRC) == 0, "node %d selects someone", i);
	net_free();
}

static void t_reconnect(void)
{
	struct want w = want1(G1, 5000);

	net_init(3, 8);
	link_up(0, 1);
	link_up(1, 2);
	CHECK(!set_local(2, &w, 1), "set_local");
	deliver(10);
	link_down(0, 1);
	CHECK(!origin_at(0, 2).found && !origin_at(0, 1).found, "A forgets what came through B");
	CHECK(sel(0, G1, 5000, SRC) == 0, "A selects nobody");
	now += S;
	link_up(0, 1);
	deliver(10);
	CHECK(origin_at(0, 2).found && sel(0, G1, 5000, SRC) == 1u << 1, "A has C's wants again");
	net_free();
}

static void t_lost_send(void)
{
	struct want w = want1(G1, 5000);
	uint64_t next;

	net_init(2, 8);
	link_up(0, 1);
	deliver(10);
	nodes[1].fail = 1;
	CHECK(!set_local(1, &w, 1), "set_local");
	deliver(10);
	CHECK(sel(0, G1, 5000, SRC) == 0, "the change was lost");
	CHECK(subs_stats(nodes[1].s)->send_fail == 1, "failure counted");
	next = subs_tick(nodes[1].s, now);
	CHECK(next <= now + SUBS_RETRY_NS, "next tick in %llu ns",
	      (unsigned long long)(next - now));
	now = next;
	subs_tick(nodes[1].s, now);
	deliver(10);
	CHECK(sel(0, G1, 5000, SRC) == 1u << 1, "healed on the next tick");
	CHECK(subs_stats(nodes[1].s)->resends == 1, "one resend");
	net_free();
}

/* A resend goes back to a peer some origins came from: not those. */
static void t_resend_split_horizon(void)
{
	struct want w = want1(G1, 5000), w2 = want1(G2, 5000);

	net_init(3, 8);
	link_up(0, 1);
	link_up(1, 2);
	CHECK(!set_local(2, &w, 1), "set_local");
	deliver(10);
	nodes[0].fail = 1;
	CHECK(!set_local(0, &w2, 1), "A's change");
	now += SUBS_RETRY_NS;
	tick_all();
	deliver(10);
	CHECK(subs_stats(nodes[0].s)->resends == 1, "no resend");
	CHECK(sel(1, G2, 5000, SRC) == 1u << 0, "B has A's change");
	CHECK(sel(1, G1, 5000, SRC) == 1u << 2, "B takes A for a path to C: %#x",
	      sel(1, G1, 5000, SRC));
	CHECK(origin_at(1, 2).via == 1u << 2, "via %#x", origin_at(1, 2).via);
	net_free();
}

/* A multi-chunk announcement whose second chunk could not be queued: the
 * receiver holds a part, the resend's chunk 0 replaces it, and no
 * connection dies of it. */
static void t_lost_chunk(void)
{
	static struct want w[3000];
	static uint8_t s[3000][16];
	unsigned int i;

	net_init(2, 8);
	link_up(0, 1);
	CHECK(!set_local(1, w, 0), "empty");
	deliver(10);
	for (i = 0; i < 3000; i++) {
		char g[32];

		snprintf(g, sizeof(g), "239.9.%u.%u", i / 256, i % 256);
		w[i] = want1(g, 5000);
		w[i].kind = WANT_INCLUDE;
		w[i].nsrc = 1;
		A(SRC, s[i]);
		w[i].src = s[i];
	}
	CHECK(!set_local(1, w, 1), "one entry");
	deliver(10);
	now += S;
	/* 3000 * 40 bytes: two chunks; the first goes, the second fails */
	nodes[1].skip = 1;
	nodes[1].fail = 1;
	CHECK(!set_local(1, w, 3000), "3000 entries");
	CHECK(qn == 1 && subs_stats(nodes[1].s)->send_fail == 1, "queued %zu", qn);
	deliver(10);
	CHECK(!net_err[0], "%s", net_err);
	CHECK(origin_at(0, 1).oi.entries == 1, "the old state stays until the whole new one");
	now += SUBS_RETRY_NS;
	tick_all();
	deliver(10);
	CHECK(!net_err[0], "%s", net_err);
	CHECK(origin_at(0, 1).oi.entries == 3000, "%u entries", origin_at(0, 1).oi.entries);
	CHECK(subs_stats(nodes[0].s)->abandoned == 1, "abandoned counted");
	CHECK(sel(0, "239.9.11.183", 5000, SRC) == 1u << 1, "the last entry");
	net_free();
}

static void t_serials(void)
{
	static uint8_t b[512];
	struct want w = want1(G1, 5000);
	struct announce_hdr h = {
		.origin = 0x77, .serial = 5, .hops = 1, .flags = ANNOUNCE_LAST, .lifetime = 90,
	};
	const struct subs_stats *st;
	const char *why;
	struct seen_origin so;
	struct subs *s;
	size_t len;

	net_init(1, 8);
	s = nodes[0].s;
	st = subs_stats(s);
	subs_peer_up(s, 1, 0x11, now);
	subs_peer_up(s, 2, 0x22, now);
	len = ann_frame(b, &h, &w, 1);
	CHECK(!input(s, 1, b, len, &why), "serial 5: %s", why);
	h.serial = 4;
	len = ann_frame(b, &h, &w, 1);
	CHECK(!input(s, 2, b, len, &why) && st->older == 1, "serial 4 ignored");
	CHECK(sel(0, G1, 5000, SRC) == 1u << 1, "via 1 alone");
	h.serial = 5;
	now += S;
	len = ann_frame(b, &h, &w, 1);
	CHECK(!input(s, 2, b, len, &why) && st->same == 1, "serial 5 again");
	CHECK(sel(0, G1, 5000, SRC) == ((1u << 1) | (1u << 2)), "via 1 and 2");
	so.id = 0x77;
	so.found = false;
	subs_foreach_origin(s, now, find_cb, &so);
	CHECK(so.found && so.oi.age_ns == S && so.oi.expires_ns == 89 * S,
	      "the same serial does not renew");
	/* not even with a longer lifetime */
	h.lifetime = 300;
	len = ann_frame(b, &h, &w, 1);
	subs_peer_up(s, 3, 0x33, now);
	CHECK(!input(s, 3, b, len, &why) && st->same == 2, "serial 5 a third time");
	so.found = false;
	subs_foreach_origin(s, now, find_cb, &so);
	CHECK(so.found && so.oi.expires_ns == 89 * S, "expires in %llu",
	      (unsigned long long)so.oi.expires_ns);
	/* a lifetime over an hour is held an hour */
	h.serial = 50;
	h.lifetime = 65535;
	len = ann_frame(b, &h, &w, 1);
	CHECK(!input(s, 3, b, len, &why), "serial 50");
	so.found = false;
	subs_foreach_origin(s, now, find_cb, &so);
	CHECK(so.found && so.oi.expires_ns == SUBS_MAX_LIFE_S * S, "held %llu ns",
	      (unsigned long long)so.oi.expires_ns);
	h.serial = 5;
	CHECK(sel(0, G1, 5000, SRC) == 1u << 3, "via 3");
	h.lifetime = 90;
	/* a hop count at max_hops is not taken */
	h.hops = 8;
	h.serial = 100;
	len = ann_frame(b, &h, &w, 1);
	CHECK(!input(s, 3, b, len, &why) && st->hops == 1, "hops 8 of 8 taken");
	h.hops = 1;
	h.serial = 60;
	len = ann_frame(b, &h, &w, 1);
	CHECK(!input(s, 2, b, len, &why), "serial 60");
	CHECK(sel(0, G1, 5000, SRC) == 1u << 2, "via 2 alone");
	CHECK(st->accepted == 3, "accepted %llu", (unsigned long long)st->accepted);
	net_free();
}

/* Passed on with the whole seconds it has left, and not at all with less
 * than one (a lifetime of 0 is malformed). */
static void t_expiring(void)
{
	static uint8_t b[512];
	struct want w = want1(G1, 5000);
	struct announce_hdr h = {
		.origin = 0x77, .serial = 5, .hops = 1, .flags = ANNOUNCE_LAST, .lifetime = 3,
	};
	const char *why;
	struct frame f;
	size_t len, i;

	net_init(1, 8);
	subs_peer_up(nodes[0].s, 1, 0x11, now);
	len = ann_frame(b, &h, &w, 1);
	CHECK(!input(nodes[0].s, 1, b, len, &why), "taken: %s", why);
	/* relayed to nobody; a peer up 1.5 s later gets 1 s, one 2.5 s later none */
	while (qn)
		q_drop(0);
	now += 1500 * MS;
	subs_peer_up(nodes[0].s, 2, 0x22, now);
	CHECK(qn == 2, "%zu frames", qn);
	CHECK(parse_all(q[1].b, q[1].len, &f, &why) == (int)q[1].len &&
	      f.announce.hdr.origin == 0x77 && f.announce.hdr.lifetime == 1,
	      "passed on with %u s", f.announce.hdr.lifetime);
	while (qn)
		q_drop(0);
	now += 1000 * MS;
	subs_peer_up(nodes[0].s, 3, 0x33, now);
	for (i = 0; i < qn; i++)
		CHECK(parse_all(q[i].b, q[i].len, &f, &why) == (int)q[i].len &&
		      f.announce.hdr.origin != 0x77, "passed on with under a second");
	CHECK(qn == 1, "%zu frames", qn);
	net_free();
}

/* A line longer than max_hops: the announcement goes as far as DATA can
 * come back. */
static void t_max_hops(void)
{
	struct want w = want1(G1, 5000);
	int i;

	net_init(5, 3);
	for (i = 0; i < 4; i++)
		link_up(i, i + 1);
	deliver(10);
	CHECK(!set_local(4, &w, 1), "set_local");
	deliver(10);
	CHECK(origin_at(3, 4).found && origin_at(2, 4).found && origin_at(1, 4).found,
	      "within 3 hops");
	CHECK(!origin_at(0, 4).found, "A is 4 links away");
	CHECK(!subs_stats(nodes[0].s)->hops, "B sent A what A may not take");
	CHECK(sel(1, G1, 5000, SRC) == 1u << 2 && sel(0, G1, 5000, SRC) == 0, "selection");
	net_free();
}

static void t_own_ignored(void)
{
	struct want w = want1(G1, 5000);
	int i;

	net_init(3, 8);
	link_up(0, 1);
	link_up(1, 2);
	link_up(2, 0);
	CHECK(!set_local(0, &w, 1), "set_local");
	deliver(10);
	/* a relay never goes back where it came from: A's own comes back
	 * when a connection of the cycle comes up again, in C's full state */
	link_down(0, 2);
	link_up(0, 2);
	deliver(10);
	CHECK(subs_stats(nodes[0].s)->own >= 1, "own not counted");
	for (i = 0; i < 3; i++)
		CHECK(!origin_at(i, i).found, "node %d holds itself", i);
	CHECK(sel(0, G1, 5000, SRC) == 0, "A selects for its own want");
	net_free();
}

static void t_all(void)
{
	struct want w = all_want();

	net_init(3, 8);
	link_up(0, 1);
	link_up(0, 2);
	CHECK(!set_local(1, &w, 1), "set_local");
	deliver(10);
	CHECK(subs_want_all(nodes[0].s) && subs_want_all(nodes[2].s), "want_all");
	CHECK(!subs_want_all(nodes[1].s), "own ALL counts");
	CHECK(sel(0, G1, 5000, SRC) == 1u << 1 && sel(0, "ff15::1", 1, "2001:db8::1") == 1u << 1,
	      "ALL selects everything");
	CHECK(sel(2, G2, 9, SRC) == 1u << 0, "through the hub");
	now += S;
	CHECK(!set_local(1, NULL, 0), "withdraw");
	deliver(10);
	CHECK(!subs_want_all(nodes[0].s) && sel(0, G1, 5000, SRC) == 0, "ALL withdrawn");
	net_free();
}

static void t_filters(void)
{
	struct want b = want1(G1, 0), c = want1(G1, 5000), d = want("239.2.0.0", 16, 0),
		    e = want("ff15::", 16, 7000);

	b.kind = WANT_INCLUDE;
	b.nsrc = 1;
	b.src = srcs(1, "198.18.0.1");
	c.nsrc = 1;
	c.src = srcs(1, "198.18.0.1");
	net_init(5, 8);
	link_up(0, 1);
	link_up(0, 2);
	link_up(0, 3);
	link_up(0, 4);
	set_local(1, &b, 1);
	set_local(2, &c, 1);
	set_local(3, &d, 1);
	set_local(4, &e, 1);
	deliver(10);
	CHECK(sel(0, G1, 5000, "198.18.0.1") == 1u << 1, "INCLUDE{S1} alone for S1");
	CHECK(sel(0, G1, 5000, "198.18.0.2") == 1u << 2, "EXCLUDE{S1} alone for S2");
	CHECK(sel(0, G1, 6000, "198.18.0.1") == 1u << 1, "port 0 is any port");
	CHECK(sel(0, G1, 6000, "198.18.0.2") == 0, "EXCLUDE is for port 5000");
	CHECK(sel(0, "239.2.3.4", 1, SRC) == 1u << 3, "a /16");
	CHECK(sel(0, "239.3.0.1", 1, SRC) == 0, "outside the /16");
	CHECK(sel(0, "ff15::1:2", 7000, "2001:db8::1") == 1u << 4, "an IPv6 /16");
	CHECK(sel(0, "ff16::1", 7000, "2001:db8::1") == 0, "outside the IPv6 /16");
	CHECK(sel(0, "ff15::1", 7001, "2001:db8::1") == 0, "IPv6 port");
	net_free();
}

/* The union the capture set is made of. */
struct collected {
	unsigned int n;
	struct want w[8];
	uint8_t src[8][4][16];
};

static int collect(void *ctx, const struct want *w)
{
	struct collected *c = ctx;

	if (c->n == 8 || w->nsrc > 4)
		return -1;
	c->w[c->n] = *w;
	memcpy(c->src[c->n], w->src, 16 * w->nsrc);
	c->w[c->n].src = c->src[c->n][0];
	c->n++;
	return 0;
}

static void t_union(void)
{
	struct want in1 = want1(G1, 5000), in2 = want1(G1, 5000), ex = want1(G2, 0),
		    ex2 = want1(G2, 0), other_port = want1(G1, 6000);
	struct collected c = { 0 };
	uint8_t s1[16], s3[16];
	unsigned int i;

	in1.kind = in2.kind = WANT_INCLUDE;
	in1.nsrc = in2.nsrc = 1;
	in1.src = srcs(1, "198.18.0.1");
	in2.src = srcs(1, "198.18.0.2");
	ex.nsrc = 2;
	ex.src = srcs(2, "198.18.0.1", "198.18.0.3");
	ex2.nsrc = 1;
	ex2.kind = WANT_INCLUDE;
	ex2.src = srcs(1, "198.18.0.1");
	A("198.18.0.1", s1);
	A("198.18.0.3", s3);
	net_init(4, 8);
	link_up(0, 1);
	link_up(0, 2);
	link_up(0, 3);
	{
		struct want w1[] = { in1, ex }, w2[] = { in2, ex2 }, w3[] = { other_port };

		set_local(1, w1, 2);
		set_local(2, w2, 2);
		set_local(3, w3, 1);
	}
	deliver(10);
	CHECK(!subs_foreach_want(nodes[0].s, collect, &c), "walk");
	CHECK(c.n == 3, "%u distinct", c.n);
	for (i = 0; i < c.n; i++) {
		const struct want *w = &c.w[i];

		if (w->group[1] == 1 && w->port == 5000)
			CHECK(w->kind == WANT_INCLUDE && w->nsrc == 2, "INCLUDE merged");
		else if (w->group[1] == 1)
			CHECK(w->port == 6000 && w->kind == WANT_EXCLUDE && !w->nsrc, "other port");
		else
			CHECK(w->kind == WANT_EXCLUDE && w->nsrc == 1 && !memcmp(w->src, s3, 16),
			      "EXCLUDE{S1,S3} + INCLUDE{S1} = EXCLUDE{S3}");
	}
	net_free();
}

/* Memory back where it started once every peer is gone. */
static void t_memory(void)
{
	struct want w[3] = { want1(G1, 5000), want("239.2.0.0", 16, 0), all_want() };
	int i;

	net_init(4, 8);
	link_up(0, 1);
	link_up(1, 2);
	link_up(2, 3);
	link_up(3, 0);
	set_local(0, w, 2);
	set_local(1, w + 1, 1);
	set_local(2, w + 2, 1);
	deliver(20);
	run_for(40 * S, S);
	for (i = 0; i < 4; i++)
		set_local(i, NULL, 0);
	link_down(0, 1);
	link_down(1, 2);
	link_down(2, 3);
	link_down(3, 0);
	for (i = 0; i < 4; i++) {
		const struct subs_stats *st = subs_stats(nodes[i].s);

		CHECK(!origins_at(i) && st->mem == nodes[i].base_mem && !st->held_entries,
		      "node %d: %u origins, %llu bytes over the start", i, origins_at(i),
		      (unsigned long long)(st->mem - nodes[i].base_mem));
	}
	/* and by ageing alone: a peer up, origins from it, it says nothing */
	link_up(0, 1);
	set_local(1, w, 2);
	deliver(10);
	CHECK(origins_at(0) == 1, "learnt");
	linked[0][1] = linked[1][0] = false;     /* silence, the connection stays */
	run_for(91 * S, S);
	CHECK(!origins_at(0), "aged out");
	CHECK(subs_stats(nodes[0].s)->aged_out == 1, "counted");
	subs_peer_down(nodes[0].s, 1);
	CHECK(subs_stats(nodes[0].s)->mem == nodes[0].base_mem, "node 0 memory");
	net_free();
}

static void t_coalesce(void)
{
	struct want w = want1(G1, 5000);
	unsigned long anns;
	unsigned int i;
	uint64_t start;

	net_init(2, 8);
	link_up(0, 1);
	deliver(10);
	now += S;
	anns = nodes[0].anns;
	start = now;
	/* a burst right after a change: all of it waits for the hold-down */
	CHECK(!set_local(0, &w, 1), "first");
	for (i = 0; i < 1000; i++) {
		now = start + (i + 1) * 99 * MS / 1000;
		w.port = 5000 + i % 7 + 1;
		CHECK(!set_local(0, &w, 1), "change %u", i);
		subs_tick(nodes[0].s, now);
	}
	CHECK(nodes[0].anns - anns == 1, "%lu announcements within the hold-down",
	      nodes[0].anns - anns);
	now = start + SUBS_HOLDDOWN_NS;
	subs_tick(nodes[0].s, now);
	CHECK(nodes[0].anns - anns == 2, "%lu announcements after it", nodes[0].anns - anns);
	deliver(10);
	CHECK(sel(1, G1, w.port, SRC) == 1u << 0 && sel(1, G1, 5000, SRC) == 0,
	      "the last change is what arrived");
	/* after a quiet time a burst costs one announcement, then one more */
	now += S;
	anns = nodes[0].anns;
	for (i = 0; i < 1000; i++) {
		w.port = 6000 + i;
		set_local(0, &w, 1);
		now += 50 * 1000;
	}
	CHECK(nodes[0].anns - anns == 1, "%lu", nodes[0].anns - anns);
	now += SUBS_HOLDDOWN_NS;
	subs_tick(nodes[0].s, now);
	CHECK(nodes[0].anns - anns == 2, "%lu", nodes[0].anns - anns);
	/* an unchanged set sends nothing */
	now += S;
	anns = nodes[0].anns;
	set_local(0, &w, 1);
	CHECK(nodes[0].anns == anns, "unchanged set sent");
	net_free();
}

static void t_refresh(void)
{
	struct want w = want1(G1, 5000);
	uint64_t serial;
	unsigned int changed;

	net_init(2, 8);
	link_up(0, 1);
	set_local(1, &w, 1);
	deliver(10);
	serial = origin_at(0, 1).oi.serial;
	changed = nodes[0].changed;
	run_for(31 * S, S);
	CHECK(origin_at(0, 1).oi.serial == serial + 1, "refreshed once");
	CHECK(origin_at(0, 1).oi.expires_ns > 85 * S, "renewed");
	CHECK(nodes[0].changed == changed, "a refresh is no change");
	run_for(300 * S, S);
	CHECK(origin_at(0, 1).found && sel(0, G1, 5000, SRC) == 1u << 1, "alive after 5 minutes");
	net_free();
}

static void t_bounds(void)
{
	static struct want many[ANNOUNCE_MAX_ENTRIES + 1];
	static uint8_t s[100][16];
	struct want w = want1(G1, 5000), small[3];
	struct subs_config cfg = {
		.node_id = 99, .max_hops = 8, .send = net_send, .ctx = &nodes[0],
		.max_origins = 2, .max_held_entries = 2,
	};
	const char *why;
	unsigned int i;

	net_init(4, 8);
	/* an entry with 100 sources wants any source */
	for (i = 0; i < 100; i++) {
		A(SRC, s[i]);
		s[i][3] = i + 1;
	}
	w.kind = WANT_INCLUDE;
	w.nsrc = 100;
	w.src = s[0];
	link_up(0, 1);
	set_local(1, &w, 1);
	deliver(10);
	CHECK(sel(0, G1, 5000, "192.0.2.1") == 1u << 1, "100 sources: any source");
	/* more than ANNOUNCE_MAX_ENTRIES: ALL */
	for (i = 0; i <= ANNOUNCE_MAX_ENTRIES; i++)
		many[i] = want1(G1, i + 1);
	now += S;
	CHECK(!subs_set_local(nodes[1].s, many, ANNOUNCE_MAX_ENTRIES + 1, now, &why), "many");
	deliver(10);
	CHECK(subs_want_all(nodes[0].s), "too many entries: ALL");
	/* a bad entry is refused, nothing changes */
	w = want1("10.0.0.1", 1);
	CHECK(subs_set_local(nodes[1].s, &w, 1, now, &why) == -EINVAL && why, "bad entry");
	CHECK(subs_want_all(nodes[0].s), "unchanged");
	net_free();

	/* max_origins 2, max_held_entries 2 */
	net_init(4, 8);
	subs_free(nodes[0].s);
	cfg.node_id = node_id(0);
	nodes[0].s = subs_new(&cfg, now);
	small[0] = want1(G1, 1);
	small[1] = want1(G1, 2);
	small[2] = want1(G1, 3);
	set_local(1, small, 1);
	set_local(2, small, 2);
	set_local(3, small, 3);
	link_up(0, 1);
	deliver(10);
	now += S;
	link_up(0, 2);
	deliver(10);
	CHECK(subs_stats(nodes[0].s)->degraded == 1 && subs_want_all(nodes[0].s),
	      "3 entries held over 2: the newcomer is ALL");
	now += S;
	link_up(0, 3);
	deliver(10);
	CHECK(subs_stats(nodes[0].s)->evicted == 1 && origins_at(0) == 2, "evicted");
	CHECK(!origin_at(0, 1).found, "the stalest went");
	net_free();
}

static void t_changed(void)
{
	struct want w[2] = { want1(G1, 5000), want1(G2, 5000) };

	net_init(2, 8);
	link_up(0, 1);
	deliver(10);
	CHECK(nodes[0].changed == 0, "nothing yet");
	set_local(1, w, 2);
	deliver(10);
	CHECK(nodes[0].changed == 1, "one callback for two entries: %u", nodes[0].changed);
	link_down(0, 1);
	CHECK(nodes[0].changed == 2, "peer down");
	net_free();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "announce_roundtrip", t_roundtrip },
		{ "announce_malformed", t_malformed },
		{ "announce_chunking", t_chunking },
		{ "chunk_sequence", t_sequence },
		{ "announcement_too_large", t_too_large },
		{ "line", t_line },
		{ "hub", t_hub },
		{ "triangle_withdraw", t_triangle_withdraw },
		{ "silent_death_ages_out", t_silent_death },
		{ "reconnect_full_state", t_reconnect },
		{ "lost_send_heals", t_lost_send },
		{ "lost_chunk_heals", t_lost_chunk },
		{ "resend_split_horizon", t_resend_split_horizon },
		{ "serial_order", t_serials },
		{ "max_hops", t_max_hops },
		{ "expiring_not_passed_on", t_expiring },
		{ "own_origin_ignored", t_own_ignored },
		{ "all_selects_everything", t_all },
		{ "include_exclude_prefix", t_filters },
		{ "capture_union", t_union },
		{ "memory_returns", t_memory },
		{ "coalescing", t_coalesce },
		{ "refresh", t_refresh },
		{ "bounds", t_bounds },
		{ "changed_callback", t_changed },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unit_run(cases[i].name, cases[i].fn);
		/* a case that failed half way leaves its network behind */
		if (unit_failed && nnodes) {
			net_free();
			nnodes = 0;
		}
	}
	return unit_summary("unit_subs");
}
