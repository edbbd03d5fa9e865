// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Subscriptions (user/tunnel/subs.c) driven by arbitrary input: three
 * instances wired together in a triangle, whose links go down and up,
 * whose sends fail, whose clock moves, whose wants change; and a stranger
 * peer of the first one that sends it arbitrary bytes as frames, the way
 * the daemon would hand them over (frame_parse, then subs_input; an error
 * closes the stranger's connection).
 *
 * Input: 2 bytes of settings (max_hops, small or default bounds), then
 * operations of one byte each with their arguments (see op()).
 *
 * Invariants:
 * - every frame an instance sends parses whole as a valid ANNOUNCE, to a
 *   peer that is up, with hops under max_hops and a lifetime of at least
 *   a second; its chunks come in order, and after a failed send the next
 *   frame to that peer is a chunk 0;
 * - subs_select() counts exactly the peers subs_selected() marks, all up;
 *   the capture set's entries pass want_check();
 * - the bounds hold (origins, sources held), subs_tick() returns a time
 *   to come;
 * - healed (every link up, nothing failing, a little over a second of
 *   ticks with everything delivered: much less than a refresh interval,
 *   so that a lost change must have been healed by a resend), each
 *   instance selects each other one for every datagram that one's own
 *   wants ask for, unless it evicted origins for room; then, every link
 *   down and no wants left, each instance's memory is back where it
 *   started. ASan finds the rest.
 *
 * Time moves only with everything delivered (as TCP would), so nothing
 * ages in a queue; the deliver operations interleave partial deliveries.
 * A local set of BIG entries goes in several chunks.
 *
 * The stranger's announcements in the name of the three instances are not
 * fed: a member can forge those (docs/PROTOCOL.md, "Trust"), and the
 * healed state would then rightly differ.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "mctun.h"
#include "proto.h"
#include "subs.h"

#define N         3
#define STRANGER  7              /* peer id of the stranger at instance 0 */
#define STRANGER_NODE 0xdeadbeefull
#define QMAX      4096
#define MS        1000000ull
#define BIG       1700           /* entries: 68,000 bytes, two chunks */

struct inst {
	struct subs *s;
	uint64_t base_mem;
	unsigned int skip;           /* sends that pass before ... */
	unsigned int fail;           /* ... this many fail */
	int next_chunk[8];           /* per peer: the chunk due, -1 after a failure */
	struct want local[6];
	uint8_t lsrc[6][4][16];
	unsigned int nlocal;
	bool big;                    /* the local set is big_set() instead */
};

struct msg {
	int from, to;
	size_t len;
	uint8_t *b;
};

static struct inst in_[N];
static bool linked[N][N], stranger_up;
static struct msg q[QMAX];
static unsigned int qn;
static uint64_t now;
static unsigned int max_hops;
static uint8_t big_src[80][16];  /* an entry with too many sources */
static struct want big_w[BIG];
static uint8_t big_ws[BIG][16];

/* BIG groups 239.2.x.y from one source each. */
static void big_set(void)
{
	unsigned int k;

	for (k = 0; k < BIG; k++) {
		big_w[k] = (struct want){
			.family = MCTUN_FAM_INET, .kind = WANT_INCLUDE, .plen = 32,
			.port = 5000, .nsrc = 1, .group = { 239, 2, k >> 8, k }, .src = big_ws[k],
		};
		memset(big_ws[k], 0, 16);
		big_ws[k][0] = 10;
		big_ws[k][3] = 1 + k % 5;
	}
}

static uint64_t node(int i)
{
	return 0x100 + i;
}

static bool peer_is_up(int i, unsigned int peer)
{
	if (i == 0 && peer == STRANGER)
		return stranger_up;
	return peer < N && (int)peer != i && linked[i][peer];
}

static int on_send(void *ctx, unsigned int peer, const uint8_t *buf, size_t len)
{
	struct inst *x = ctx;
	int i = x - in_, *next;
	const char *why = NULL;
	struct frame f;
	int r = frame_parse(buf, len, 0, &f, &why);

	CHECK(peer < 8 && peer_is_up(i, peer), "instance %d sends to peer %u, not up", i, peer);
	CHECK(r == (int)len && f.type == FT_ANNOUNCE, "instance %d sends a bad frame: %d %s", i,
	      r, why ? why : "");
	CHECK(f.announce.hdr.hops < max_hops && f.announce.hdr.lifetime >= 1,
	      "hops %u lifetime %u", f.announce.hdr.hops, f.announce.hdr.lifetime);
	CHECK(f.announce.hdr.lifetime <= SUBS_MAX_LIFE_S, "lifetime %u", f.announce.hdr.lifetime);
	next = &x->next_chunk[peer];
	CHECK(f.announce.hdr.chunk == 0 || f.announce.hdr.chunk == *next,
	      "chunk %u where %d is due", f.announce.hdr.chunk, *next);
	/* refused: the next to that peer must begin an announcement */
	if ((x->fail && !x->skip) || (peer != STRANGER && qn == QMAX)) {
		x->fail -= !!x->fail;
		*next = 0;
		return -ENOBUFS;
	}
	x->skip -= !!x->skip;
	*next = f.announce.hdr.flags & ANNOUNCE_LAST ? 0 : f.announce.hdr.chunk + 1;
	if (peer == STRANGER)
		return 0;            /* the stranger reads nothing */
	q[qn].from = i;
	q[qn].to = peer;
	q[qn].len = len;
	q[qn].b = malloc(len);
	memcpy(q[qn].b, buf, len);
	qn++;
	return 0;
}

static void drop_link_msgs(int a, int b)
{
	unsigned int i, k = 0;

	for (i = 0; i < qn; i++) {
		if ((q[i].from == a && q[i].to == b) || (q[i].from == b && q[i].to == a))
			free(q[i].b);
		else
			q[k++] = q[i];
	}
	qn = k;
}

static void link_set(int a, int b, bool up)
{
	if (a == b || linked[a][b] == up)
		return;
	linked[a][b] = linked[b][a] = up;
	if (!up) {
		drop_link_msgs(a, b);
		subs_peer_down(in_[a].s, b);
		subs_peer_down(in_[b].s, a);
		return;
	}
	in_[a].next_chunk[b] = in_[b].next_chunk[a] = 0;
	CHECK(!subs_peer_up(in_[a].s, b, node(b), now), "peer up");
	CHECK(!subs_peer_up(in_[b].s, a, node(a), now), "peer up");
}

static void round_once(void)
{
	static struct msg batch[QMAX];
	unsigned int m = qn, i;

	memcpy(batch, q, m * sizeof(*q));
	qn = 0;
	for (i = 0; i < m; i++) {
		struct msg *g = &batch[i];
		const char *why = NULL;
		struct frame f;
		int r;

		if (linked[g->from][g->to]) {
			r = frame_parse(g->b, g->len, 0, &f, &why);
			CHECK(r == (int)g->len, "a sent frame no longer parses");
			r = subs_input(in_[g->to].s, g->from, &f, now, &why);
			CHECK(!r, "instance %d refuses instance %d: %s", g->to, g->from, why);
		}
		free(g->b);
	}
}

static void deliver(void)
{
	int rounds;

	for (rounds = 0; qn && rounds < 64; rounds++)
		round_once();
}

static void tick_all(void)
{
	int i;

	for (i = 0; i < N; i++)
		CHECK(subs_tick(in_[i].s, now) > now, "tick returns the past");
}

/* An entry from the input, in 239.1.0.0/16 or ff15::/16. */
static void make_want(struct fuzz_in *in, struct want *w, uint8_t src[4][16])
{
	unsigned int sel = fuzz_take(in, 1), k;

	memset(w, 0, sizeof(*w));
	if (sel % 16 == 15) {
		w->kind = WANT_ALL;
		return;
	}
	w->family = sel & 1 ? MCTUN_FAM_INET6 : MCTUN_FAM_INET;
	w->kind = sel & 2 ? WANT_EXCLUDE : WANT_INCLUDE;
	w->port = (uint16_t[]){ 0, 5000, 5001, 0 }[sel >> 2 & 3];
	if (w->family == MCTUN_FAM_INET) {
		w->group[0] = 239;
		w->group[1] = 1;
		w->plen = sel & 16 ? 16 : 32;
		if (w->plen == 32)
			w->group[3] = fuzz_take(in, 1) % 8;
	} else {
		w->group[0] = 0xff;
		w->group[1] = 0x15;
		w->plen = sel & 16 ? 16 : 128;
		if (w->plen == 128)
			w->group[15] = fuzz_take(in, 1) % 8;
	}
	w->nsrc = sel >> 5 & 3;
	if (sel >> 7 && w->nsrc == 3) {
		w->nsrc = 80;    /* over ANNOUNCE_MAX_SRC: any source */
		for (k = 0; k < 80; k++) {
			memset(big_src[k], 0, 16);
			big_src[k][0] = w->family == MCTUN_FAM_INET ? 10 : 0x20;
			big_src[k][3] = k + 1;
		}
		w->src = big_src[0];
		return;
	}
	for (k = 0; k < w->nsrc; k++) {
		memset(src[k], 0, 16);
		src[k][0] = w->family == MCTUN_FAM_INET ? 10 : 0x20;
		src[k][3] = 1 + fuzz_take(in, 1) % 5;
	}
	w->src = src[0];
}

/* A datagram its entry asks for: a group in it, its port, a source it takes. */
static void dgram_for(const struct want *w, uint8_t group[16], uint16_t *port, uint8_t src[16])
{
	unsigned int k, c;

	memcpy(group, w->group, 16);
	if (w->plen == 16)
		group[w->family == MCTUN_FAM_INET ? 3 : 15] = 99;
	*port = w->port ? w->port : 7777;
	memset(src, 0, 16);
	src[0] = w->family == MCTUN_FAM_INET ? 10 : 0x20;
	if (w->kind == WANT_INCLUDE) {
		memcpy(src, w->src, 16);
		return;
	}
	/* one source the EXCLUDE list does not name (it names at most 80) */
	for (c = 1; c < 255; c++) {
		src[3] = c;
		for (k = 0; k < w->nsrc && memcmp(w->src + 16 * k, src, 16); k++)
			;
		if (k == w->nsrc)
			return;
	}
}

static void check_select(struct fuzz_in *in, int i)
{
	struct want w;
	uint8_t src4[4][16], g[16], sa[16];
	uint16_t port;
	unsigned int n, p, marked = 0;

	make_want(in, &w, src4);
	if (w.kind == WANT_ALL)
		w = (struct want){ .family = MCTUN_FAM_INET, .kind = WANT_EXCLUDE, .plen = 32,
				   .group = { 239, 1, 0, 1 } };
	if (w.kind == WANT_INCLUDE && !w.nsrc)
		w.kind = WANT_EXCLUDE;
	dgram_for(&w, g, &port, sa);
	n = subs_select(in_[i].s, w.family, g, port, sa);
	for (p = 0; p < 16; p++) {
		if (!subs_selected(in_[i].s, p))
			continue;
		CHECK(peer_is_up(i, p), "instance %d selects peer %u, not up", i, p);
		marked++;
	}
	CHECK(n == marked, "select says %u, marks %u", n, marked);
}

static int check_union_entry(void *ctx, const struct want *w)
{
	const char *why = NULL;

	(void)ctx;
	CHECK(w->kind != WANT_ALL && !want_check(w, &why), "capture entry: %s", why);
	return 0;
}

/* Arbitrary bytes from the stranger to instance 0. */
static void stranger_frame(struct fuzz_in *in)
{
	size_t len = fuzz_take(in, 2) % 1024, avail = len < in->len ? len : in->len;
	const char *why = NULL;
	struct frame f;
	uint8_t *b;
	int r;

	if (!stranger_up) {
		stranger_up = true;
		in_[0].next_chunk[STRANGER] = 0;
		CHECK(!subs_peer_up(in_[0].s, STRANGER, STRANGER_NODE, now), "stranger up");
	}
	b = malloc(avail ? avail : 1);
	memcpy(b, in->p, avail);
	in->p += avail;
	in->len -= avail;
	r = frame_parse(b, avail, 0, &f, &why);
	if (r > 0 && f.type == FT_ANNOUNCE &&
	    !(f.announce.hdr.origin >= node(0) && f.announce.hdr.origin < node(N))) {
		r = subs_input(in_[0].s, STRANGER, &f, now, &why);
		CHECK(r == 0 || (r == -EBADMSG && why), "subs_input: %d", r);
	}
	/* a bad frame closes the connection, whichever refused it */
	if (r < 0) {
		subs_peer_down(in_[0].s, STRANGER);
		stranger_up = false;
	}
	free(b);
}

static void op(struct fuzz_in *in)
{
	unsigned int o = fuzz_take(in, 1), a = fuzz_take(in, 1), k;
	int i = a % N, j = a / N % N;
	const char *why = NULL;

	switch (o % 10) {
	case 0:
		k = fuzz_take(in, 1);
		in_[i].big = k >= 250;
		if (in_[i].big) {
			CHECK(!subs_set_local(in_[i].s, big_w, BIG, now, &why), "set_local: %s",
			      why);
			break;
		}
		in_[i].nlocal = k % 7;
		for (k = 0; k < in_[i].nlocal; k++)
			make_want(in, &in_[i].local[k], in_[i].lsrc[k]);
		CHECK(!subs_set_local(in_[i].s, in_[i].local, in_[i].nlocal, now, &why),
		      "set_local: %s", why);
		break;
	case 1:
		link_set(i, j, false);
		break;
	case 2:
		link_set(i, j, true);
		break;
	case 3:
		k = fuzz_take(in, 1);
		in_[i].fail = k % 4;
		in_[i].skip = k / 4 % 4;
		break;
	case 4:
		now += fuzz_take(in, 2) * MS;
		tick_all();
		deliver();
		break;
	case 5:
		round_once();
		break;
	case 6:
		deliver();
		break;
	case 7:
		stranger_frame(in);
		break;
	case 8:
		check_select(in, i);
		break;
	case 9:
		subs_foreach_want(in_[i].s, check_union_entry, NULL);
		break;
	}
}

static void check_bounds(const struct subs_config *cfg)
{
	int i;

	for (i = 0; i < N; i++) {
		const struct subs_stats *st = subs_stats(in_[i].s);
		unsigned int mo = cfg->max_origins ? cfg->max_origins : SUBS_MAX_ORIGINS;
		unsigned int ms = cfg->max_held_sources ? cfg->max_held_sources :
				  SUBS_MAX_HELD_SOURCES;
		unsigned int me = cfg->max_held_entries ? cfg->max_held_entries :
				  SUBS_MAX_HELD_ENTRIES;

		CHECK(st->origins <= mo, "%llu origins", (unsigned long long)st->origins);
		CHECK(st->held_sources <= ms, "%llu sources", (unsigned long long)st->held_sources);
		/* an origin over the bound is held as one WANT_ALL entry */
		CHECK(st->held_entries <= me + mo, "%llu entries",
		      (unsigned long long)st->held_entries);
	}
}

/* Every link up, nothing failing, a refresh interval gone by with
 * everything delivered: each instance's wants are known to the others. */
static void check_healed(void)
{
	unsigned int k;
	int i, j, t;

	for (i = 0; i < N; i++) {
		in_[i].fail = in_[i].skip = 0;
		for (j = 0; j < N; j++)
			link_set(i, j, true);
	}
	if (stranger_up) {
		subs_peer_down(in_[0].s, STRANGER);
		stranger_up = false;
	}
	deliver();
	for (t = 0; t < 12; t++) {
		now += 100 * MS;
		tick_all();
		deliver();
	}
	for (j = 0; j < N; j++) {
		unsigned int n = in_[j].big ? BIG : in_[j].nlocal;

		for (k = 0; k < n; k++) {
			const struct want *w = in_[j].big ? &big_w[k] : &in_[j].local[k];
			uint8_t g[16], sa[16];
			uint16_t port;

			if (w->kind == WANT_INCLUDE && !w->nsrc)
				continue;    /* wants nothing */
			if (w->kind == WANT_ALL) {
				static const struct want any = {
					.family = MCTUN_FAM_INET, .kind = WANT_EXCLUDE,
					.plen = 32, .group = { 239, 200, 0, 1 },
				};

				w = &any;
			}
			dgram_for(w, g, &port, sa);
			for (i = 0; i < N; i++) {
				if (i == j || subs_stats(in_[i].s)->evicted)
					continue;
				subs_select(in_[i].s, w->family, g, port, sa);
				CHECK(subs_selected(in_[i].s, j),
				      "healed: instance %d does not select %d for its entry %u", i,
				      j, k);
			}
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int settings, ops = 0;
	struct subs_config cfg = { .send = on_send };
	int i, j;

	memset(in_, 0, sizeof(in_));
	memset(linked, 0, sizeof(linked));
	if (!big_w[0].family)
		big_set();
	stranger_up = false;
	qn = 0;
	now = 1000000 * MS;
	max_hops = 1 + fuzz_take(&in, 1) % 8;
	settings = fuzz_take(&in, 1);
	cfg.max_hops = max_hops;
	if (settings & 1) {
		cfg.max_origins = 2 + settings / 2 % 8;
		cfg.max_held_entries = 1 + settings / 16 % 8;
		cfg.max_held_sources = settings / 2 % 16;
	}
	for (i = 0; i < N; i++) {
		cfg.node_id = node(i);
		cfg.ctx = &in_[i];
		in_[i].s = subs_new(&cfg, now);
		CHECK(in_[i].s, "subs_new");
		in_[i].base_mem = subs_stats(in_[i].s)->mem;
	}
	while (in.len && ops++ < 512) {
		op(&in);
		check_bounds(&cfg);
	}
	check_healed();
	check_bounds(&cfg);

	/* everything down, no wants: back to the start */
	for (i = 0; i < N; i++) {
		const char *why = NULL;

		CHECK(!subs_set_local(in_[i].s, NULL, 0, now, &why), "no wants: %s", why);
		for (j = 0; j < N; j++)
			link_set(i, j, false);
	}
	for (i = 0; i < N; i++) {
		const struct subs_stats *st = subs_stats(in_[i].s);

		CHECK(!st->origins && st->mem == in_[i].base_mem,
		      "instance %d: %llu origins, %lld bytes over the start", i,
		      (unsigned long long)st->origins,
		      (long long)(st->mem - in_[i].base_mem));
		subs_free(in_[i].s);
	}
	while (qn)
		free(q[--qn].b);
	return 0;
}
