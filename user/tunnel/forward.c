// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "forward.h"
#include "learn.h"
#include "tlearn.h"
#include "util.h"

/* Each header is built once, the first time a peer of its framing needs
 * it. A udptunnel-framed connection carries the one configured group. */
static void fanout(struct daemon *d, const struct data_hdr *h, const uint8_t *payload,
		   uint32_t len, const struct peer *except)
{
	uint8_t hdr[FRAME_HDR_LEN + DATA_HDR_LEN], uth[UT_HDR_LEN];
	size_t hl = 0;
	int utl = 0;
	/* the pass's time: one clock read per pass, not per datagram */
	uint64_t now = d->now;
	unsigned int i;
	/* Each peer's share of --queue-total: a slow peer cannot take what
	 * the others need, and however many connect, memory stays bounded. */
	size_t share = d->cfg->queue_total / (d->peers.n ? d->peers.n : 1);

	d->moved = true;
	interest_select(d, h);
	for (i = 0; i < d->peers.n; i++) {
		struct peer *p = d->peers.v[i];

		if (p == except || p->state != PS_UP || p->dead || !interest_peer_wants(d, p))
			continue;
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
		if (p->rs)
			peer_resume_put(&d->peers, p, share, hdr, hl, payload, len, now);
		else
			peer_queue(p, share, hdr, hl, payload, len, now);
	}
	/* --resume: peer nodes away keep it, for when they are back */
	if (peers_resume_away_open(&d->peers)) {
		if (!hl)
			hl = frame_put_data_hdr(hdr, h, len);
		peers_resume_away(&d->peers, share, hdr, hl, payload, len, now);
	} else {
		d->peers.away_n++;
	}
}

static void capture(struct daemon *d, const struct data_hdr *h, const uint8_t *payload,
		    uint32_t len)
{
	struct data_hdr o = *h;

	o.origin = d->node_id;
	o.seq = d->seq++;
	o.hops = 0;
	fanout(d, &o, payload, len, NULL);
}

void forward_from_ring(void *ctx, const struct data_hdr *h, const uint8_t *payload, uint32_t len)
{
	struct daemon *d = ctx;

	d->st.cap_ring++;
	capture(d, h, payload, len);
}

void forward_from_socket(void *ctx, const struct data_hdr *h, const uint8_t *payload, uint32_t len)
{
	struct daemon *d = ctx;

	d->st.cap_sock++;
	capture(d, h, payload, len);
}

/*
 * With --membership learn, a datagram goes onto the island only when a
 * receiver there joined its group (the rewrite target, where one is set),
 * from its source; else it is counted and still passed on. A group of
 * direction out is inject_group()'s to refuse and count.
 */
static bool wanted_here(struct daemon *d, const struct cfg_group *gc, const struct data_hdr *h)
{
	uint8_t dest[16];

	if (!d->learn || gc->dir == GDIR_OUT)
		return true;
	inject_target(gc, h, dest, NULL);
	if (learn_wants(d->learn, h->family, dest, h->src))
		return true;
	/* re-injected, it is copied to the targets whose receivers joined */
	if (tlearn_wants(d->tl, h->family, dest))
		return true;
	d->st.drop_unwanted++;
	return false;
}

/*
 * What a peer sends as captured by itself (hops 0) must carry the node id
 * of its hello: a peer cannot speak for another gateway first-hand. Relayed
 * frames cannot be tied to their origin (nothing in a frame is signed), so
 * a member may still forge those; see "Trust" in docs/PROTOCOL.md.
 */
static void on_data(void *ctx, struct peer *p, struct frame *f)
{
	struct daemon *d = ctx;
	struct data_hdr *h = &f->data.hdr;
	int gi;

	if (!h->hops && h->origin != p->node_id) {
		char why[96];

		snprintf(why, sizeof(why), "origin %016llx at hop 0, but the peer is node %016llx",
			 (unsigned long long)h->origin, (unsigned long long)p->node_id);
		peer_bad_frame(&d->peers, p, why);
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
	gi = gtable_find(&d->gtab, d->cfg, h->family, h->group, h->dport, h->src);
	if (gi < 0) {
		d->st.drop_group++;
		return;
	}
	if (seen_check(d->seen, h->origin, h->seq) != SEEN_NEW) {
		d->st.drop_dup++;
		return;
	}
	d->moved = true;
	if (wanted_here(d, &d->cfg->groups[gi], h))
		inject_group(&d->inj, &d->cfg->groups[gi], h, f->data.payload,
			     f->data.payload_len);
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
static void on_ut_data(void *ctx, struct peer *p, const uint8_t *payload, uint32_t len)
{
	struct daemon *d = ctx;
	const struct mc_group *g = &d->cfg->groups[0].g;
	struct data_hdr h = { .family = g->family, .dport = g->port, .origin = d->node_id };

	if (!len) {
		p->st.framing_drops++;
		d->st.framing_drops++;
		return;
	}
	memcpy(h.group, g->addr, 16);
	d->moved = true;
	if (wanted_here(d, &d->cfg->groups[0], &h))
		inject_group(&d->inj, &d->cfg->groups[0], &h, payload, len);
	h.seq = d->seq++;
	fanout(d, &h, payload, len, p);
}

static void on_up(void *ctx, struct peer *p, uint64_t now)
{
	interest_peer_up(ctx, p, now);
}

static void on_down(void *ctx, struct peer *p)
{
	interest_peer_down(ctx, p);
}

static void on_announce(void *ctx, struct peer *p, struct frame *f, uint64_t now)
{
	interest_announce(ctx, p, f, now);
}

const struct peer_ops forward_peer_ops = {
	.up = on_up,
	.down = on_down,
	.data = on_data,
	.announce = on_announce,
	.ut_data = on_ut_data,
};
