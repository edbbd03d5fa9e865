// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <bpf/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "interest.h"
#include "learn.h"
#include "log.h"
#include "membership.h"
#include "tlearn.h"
#include "util.h"

static const uint8_t zero16[16];

/* ---- subs.c's callbacks ------------------------------------------------------ */

/* An ANNOUNCE frame for a peer: within its own queue's bound (not a share
 * of --queue-total), so a busy data path does not starve it; refused, it
 * is sent again whole a moment later (subs.c). */
static int on_send(void *ctx, unsigned int id, const uint8_t *buf, size_t len)
{
	struct daemon *d = ctx;
	struct peer *p = peer_by_id(&d->peers, id);

	if (!p || p->state != PS_UP || p->dead)
		return -ENOTCONN;
	return peer_queue_ctl(p, buf, len, now_ns());
}

static void on_changed(void *ctx)
{
	struct daemon *d = ctx;

	d->in.capture_dirty = true;
	d->in.publish = true;
}

static void subs_cfg(const struct daemon *d, struct subs_config *sc)
{
	*sc = (struct subs_config){
		.node_id = d->node_id, .max_hops = d->cfg->max_hops,
		.send = on_send, .changed = on_changed, .ctx = (void *)d,
	};
}

int interest_open(struct daemon *d, uint64_t now)
{
	struct interest *in = &d->in;
	struct subs_config sc;

	memset(in, 0, sizeof(*in));
	capset_init(&in->cs, d->bpf, d->epfd);
	in->local_dirty = in->capture_dirty = in->no_holddown = true;
	/* udptunnel framing has no hello, so nobody can subscribe */
	if (d->cfg->framing == MCTUN_FRAMING_UDPTUNNEL)
		return 0;
	subs_cfg(d, &sc);
	in->subs = subs_new(&sc, now);
	return in->subs ? 0 : -ENOMEM;
}

void interest_close(struct daemon *d)
{
	struct interest *in = &d->in;

	capset_free(&in->cs);
	subs_free(in->subs);
	in->subs = NULL;
	free(in->w);
	free(in->src);
	free(in->list);
}

/* ---- events ------------------------------------------------------------------- */

void interest_config(struct daemon *d)
{
	struct interest *in = &d->in;
	struct subs_config sc;

	in->local_dirty = in->capture_dirty = in->no_holddown = true;
	if (in->subs) {
		subs_cfg(d, &sc);
		if (subs_reconfigure(in->subs, &sc))
			pr_warn("subscriptions: keeping the old --max-hops (out of memory)\n");
	}
}

void interest_learned(struct daemon *d)
{
	d->in.local_dirty = true;
}

void interest_peer_up(struct daemon *d, struct peer *p, uint64_t now)
{
	struct interest *in = &d->in;
	int err;

	if (p->subs && in->subs) {
		err = subs_peer_up(in->subs, p->id, p->node_id, now);
		if (err)
			pr_warn("peer %s: subscriptions: %s\n", p->name, strerror(-err));
		in->next = now;
		/* what it wants comes a moment later: everything until then,
		 * so that nothing sent meanwhile is lost */
		p->subs_ready = false;
		if (in->unready++ == 0)
			in->capture_dirty = true;
		return;
	}
	/* it gets everything: we must be sent everything to relay it */
	if (in->plain_up++ == 0)
		in->local_dirty = in->capture_dirty = true;
}

void interest_peer_down(struct daemon *d, struct peer *p)
{
	struct interest *in = &d->in;

	if (p->subs && in->subs) {
		subs_peer_down(in->subs, p->id);
		if (!p->subs_ready && in->unready)
			in->unready--;
		in->capture_dirty = true;   /* the last one gone: everything */
		return;
	}
	if (in->plain_up && --in->plain_up == 0)
		in->local_dirty = in->capture_dirty = true;
}

void interest_announce(struct daemon *d, struct peer *p, struct frame *f, uint64_t now)
{
	const char *why = "bad announcement";

	struct interest *in = &d->in;

	if (subs_input(in->subs, p->id, f, now, &why) < 0) {
		peer_bad_frame(&d->peers, p, why);
		return;
	}
	in->next = now;
	/* the last chunk of the peer's own announcement: what it wants is
	 * known from now on */
	if (!p->subs_ready && f->announce.hdr.origin == p->node_id &&
	    (f->announce.hdr.flags & ANNOUNCE_LAST)) {
		p->subs_ready = true;
		if (in->unready && --in->unready == 0)
			in->capture_dirty = true;
	}
}

void interest_select(struct daemon *d, const struct data_hdr *h)
{
	if (d->in.subs)
		subs_select(d->in.subs, h->family, h->group, h->dport, h->src);
}

bool interest_peer_wants(const struct daemon *d, const struct peer *p)
{
	return !p->subs || !p->subs_ready || !d->in.subs || subs_selected(d->in.subs, p->id);
}

/* ---- what we announce ----------------------------------------------------------- */

/* w (its sources: src, w->nsrc x 16 bytes) into the scratch list; the
 * sources' pointers are set once the list is complete. */
static int want_add(struct interest *in, const struct want *w, const uint8_t *src)
{
	if (in->nw == in->capw) {
		unsigned int cap = in->capw ? 2 * in->capw : 64;
		struct want *n = realloc(in->w, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		in->w = n;
		in->capw = cap;
	}
	while (in->nsrc + w->nsrc > in->capsrc) {
		unsigned int cap = in->capsrc ? 2 * in->capsrc : 256;
		uint8_t *n = realloc(in->src, (size_t)cap * 16);

		if (!n)
			return -ENOMEM;
		in->src = n;
		in->capsrc = cap;
	}
	in->w[in->nw] = *w;
	/* for now the offset of its sources; a pointer in wants_fix() */
	in->w[in->nw].src = (const uint8_t *)(uintptr_t)in->nsrc;
	if (w->nsrc)
		memcpy(in->src + (size_t)in->nsrc * 16, src, (size_t)w->nsrc * 16);
	in->nsrc += w->nsrc;
	in->nw++;
	return 0;
}

static void wants_fix(struct interest *in)
{
	unsigned int i;

	for (i = 0; i < in->nw; i++)
		in->w[i].src = in->src ? in->src + (uintptr_t)in->w[i].src * 16 : NULL;
}

struct local_ctx {
	struct daemon *d;
	int err;
};

/* A learned group: wanted as it is, and, where it is a rewrite target,
 * the group of the tunnel that is rewritten to it. */
static int learned_want(void *ctx, const struct mship_group_info *g)
{
	struct local_ctx *lc = ctx;
	struct interest *in = &lc->d->in;
	const struct config *cfg = lc->d->cfg;
	struct want w = {
		.family = g->family, .plen = group_full_plen(g->family),
		.kind = g->filter == MSHIP_INCLUDE ? WANT_INCLUDE : WANT_EXCLUDE,
		.nsrc = g->nsrc,
	};
	unsigned int i;
	int err;

	memcpy(w.group, g->group, 16);
	err = want_add(in, &w, g->srcs[0]);
	for (i = 0; !err && i < cfg->ngroups; i++) {
		const struct cfg_group *gc = &cfg->groups[i];
		struct want r = w;

		if (!gc->to.family || gc->dir == GDIR_OUT || gc->to.family != g->family ||
		    !group_prefix_has(&gc->to, g->group))
			continue;
		r.port = gc->g.port;
		if (gc->to.plen == gc->g.plen && gc->g.plen < r.plen) {
			/* a range to a range of its length: the same host bits */
			addr_graft(r.group, gc->g.addr, gc->g.plen, g->group);
		} else {
			memcpy(r.group, gc->g.addr, 16);
			r.plen = gc->g.plen;
		}
		err = want_add(in, &r, g->srcs[0]);
	}
	lc->err = err;
	return err;
}

/* A group receivers behind a local target joined: wanted here too, as
 * an island receiver's would be (any source: the copies are not filtered
 * by source). */
static int target_want(void *ctx, uint8_t family, const uint8_t group[16])
{
	struct mship_group_info g = { .family = family, .filter = MSHIP_EXCLUDE };

	memcpy(g.group, group, 16);
	return learned_want(ctx, &g);
}

static void announce_local(struct daemon *d, uint64_t now)
{
	struct interest *in = &d->in;
	struct local_ctx lc = { .d = d };
	const char *why = NULL;
	int err;

	in->nw = in->nsrc = 0;
	if (d->cfg->membership == MEMBERSHIP_LEARN && !in->plain_up && d->learn &&
	    !(d->tl && d->tl->all)) {
		learn_foreach(d->learn, now, learned_want, &lc);
		if (!lc.err)
			tlearn_foreach(d->tl, target_want, &lc);
		err = lc.err;
	} else {
		struct want all = { .kind = WANT_ALL };

		err = want_add(in, &all, NULL);
	}
	if (err) {
		/* more rather than less: everything */
		struct want all = { .kind = WANT_ALL };

		in->nw = in->nsrc = 0;
		want_add(in, &all, NULL);
	}
	wants_fix(in);
	err = subs_set_local(in->subs, in->w, in->nw, now, &why);
	if (err)
		pr_warn("subscriptions: our wants refused: %s\n", why ? why : strerror(-err));
	in->next = now;
}

/* ---- what we capture -------------------------------------------------------------- */

static int list_add(struct interest *in, const struct cfg_group *gc)
{
	if (in->nlist == in->caplist) {
		unsigned int cap = in->caplist ? 2 * in->caplist : 64;
		struct cfg_group *n = realloc(in->list, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		in->list = n;
		in->caplist = cap;
	}
	in->list[in->nlist++] = *gc;
	return 0;
}

static bool src_listed(const struct want *w, const uint8_t *src)
{
	unsigned int i;

	for (i = 0; i < w->nsrc; i++)
		if (!memcmp(w->src + (size_t)i * 16, src, 16))
			return true;
	return false;
}

struct derive_ctx {
	struct daemon *d;
	const struct want *w;
	int err;
};

/* One captured part of configured group gi for a want, when the BPF
 * program would put its datagrams in gi (a more specific group of the
 * configuration keeps them otherwise). */
static int key_add(struct derive_ctx *dc, int gi, const struct cfg_group *k)
{
	const struct config *cfg = dc->d->cfg;
	const struct mc_group *g = &k->g;

	struct cfg_group w = *k;

	if (gtable_find(&dc->d->gtab, cfg, g->family, g->addr, g->port,
			g->ssm ? g->src : zero16) != gi)
		return 0;
	w.bpf_flags |= MCTUN_GF_WANTED;
	return list_add(&dc->d->in, &w);
}

/* The part of configured group gi a want asks for: its address (or the
 * narrower of the two prefixes), the port, the sources. */
static int derive(void *ctx, int gi)
{
	struct derive_ctx *dc = ctx;
	const struct want *w = dc->w;
	const struct cfg_group *gc = &dc->d->cfg->groups[gi];
	struct cfg_group k = *gc;
	struct mc_group *g = &k.g;
	unsigned int i;
	int err = 0;

	if (!group_captures(gc) || gc->g.family != w->family)
		return 0;
	if (w->plen >= gc->g.plen) {
		if (!group_prefix_has(&gc->g, w->group))
			return 0;
		memcpy(g->addr, w->group, 16);
		g->plen = w->plen;
	} else {
		struct mc_group wg = { .family = w->family, .plen = w->plen };

		memcpy(wg.addr, w->group, 16);
		if (!group_prefix_has(&wg, gc->g.addr))
			return 0;
	}
	if (gc->g.port && w->port && gc->g.port != w->port)
		return 0;
	g->port = gc->g.port ? gc->g.port : w->port;
	if (gc->g.ssm) {
		bool listed = src_listed(w, gc->g.src);

		if (w->kind == WANT_INCLUDE ? listed : !listed)
			err = key_add(dc, gi, &k);
	} else if (w->kind == WANT_INCLUDE) {
		g->ssm = true;
		for (i = 0; !err && i < w->nsrc; i++) {
			memcpy(g->src, w->src + (size_t)i * 16, 16);
			err = key_add(dc, gi, &k);
		}
	} else {
		err = key_add(dc, gi, &k);
	}
	dc->err = err;
	return err;
}

static int derive_want(void *ctx, const struct want *w)
{
	struct derive_ctx *dc = ctx;
	const struct config *cfg = dc->d->cfg;
	unsigned int i;

	dc->w = w;
	if (w->plen == group_full_plen(w->family))
		return gtable_foreach_containing(&dc->d->gtab, cfg, w->family, w->group, derive, dc);
	/* a want of a prefix (rewritten ranges): every group it may overlap */
	for (i = 0; i < cfg->ngroups; i++)
		if (derive(dc, (int)i))
			return dc->err;
	return 0;
}

static void capture_wanted(struct daemon *d, uint64_t now)
{
	struct interest *in = &d->in;
	const struct config *cfg = d->cfg;
	/* with no peer up, everything, as before subscriptions: what a
	 * static gateway captures is in place before its first peer comes;
	 * and while a peer node is away within --resume (it gets everything
	 * meanwhile, replayed when it is back) */
	bool all = !in->subs || in->plain_up || in->unready || !peers_up(&d->peers) ||
		   peers_resume_away_open(&d->peers) || subs_want_all(in->subs);
	/* local targets alone: the ring would carry everything to nobody */
	bool none = !cfg->nlisten && !cfg->npeer;
	struct derive_ctx dc = { .d = d };
	unsigned int i;
	int err = 0;

	in->nlist = 0;
	all = all && !none;
	if (!all) {
		/* the wanted parts first: of two entries of one key (an exact
		 * group wanted), the first stays */
		if (!none)
			err = subs_foreach_want(in->subs, derive_want, &dc);
		/* then the configuration, captured nowhere but where wanted:
		 * its entries keep its precedence (a more specific group of
		 * direction in stays out of a wanted range), and say in the
		 * counters (not_wanted) and `mctun status` what nobody wants */
		for (i = 0; !err && i < cfg->ngroups; i++) {
			struct cfg_group gc = cfg->groups[i];

			if (group_captures(&gc))
				gc.bpf_flags |= MCTUN_GF_IDLE;
			err = list_add(in, &gc);
		}
		if (err)
			all = true;     /* out of memory: more rather than less */
	}
	if (all)
		err = capset_apply(&in->cs, cfg, cfg->groups, cfg->ngroups, now,
				   in->no_holddown ? 0 : INTEREST_HOLDDOWN_NS);
	else
		err = capset_apply(&in->cs, cfg, in->list, in->nlist, now,
				   in->no_holddown ? 0 : INTEREST_HOLDDOWN_NS);
	/* a change of mode is news; the first one is not (start-up is quiet) */
	if (all != in->all && !err && in->applied)
		pr_info("capture: %s\n", all ? "every configured group (someone wants all of them)" :
			"only what peers want");
	in->all = all;
	in->applied |= !err;
	if (err)
		pr_warn("capture: %s; trying again\n", strerror(-err));
	in->capture_dirty = err != 0;
	in->no_holddown = in->capture_dirty && in->no_holddown;
}

void interest_run(struct daemon *d, uint64_t now)
{
	struct interest *in = &d->in;

	if (in->local_dirty && in->subs) {
		in->local_dirty = false;
		announce_local(d, now);
	}
	if (in->subs && now >= in->next)
		in->next = subs_tick(in->subs, now);
	if (in->capture_dirty)
		capture_wanted(d, now);
	capset_tick(&in->cs, now);
}

/* ---- for mctun status ------------------------------------------------------------ */

struct pub_ctx {
	int fd;
	unsigned int n;
};

static void publish_origin(void *ctx, const struct subs_origin_info *oi)
{
	struct pub_ctx *pc = ctx;
	unsigned int i;

	for (i = 0; i < (oi->all ? 1 : oi->entries) && pc->n < MCTUN_PINNED_WANTS; i++) {
		struct mctun_want_info r = { .node_id = oi->node_id, .hops = oi->hops };

		if (oi->all) {
			r.family = 0xff;
			r.kind = 2;
		} else {
			const struct want *w = &oi->w[i];

			r.family = w->family;
			r.kind = w->kind == WANT_INCLUDE ? 0 : w->kind == WANT_EXCLUDE ? 1 : 2;
			r.plen = w->plen;
			r.port = w->port;
			r.nsrc = w->nsrc;
			memcpy(r.group, w->group, 16);
		}
		bpf_map_update_elem(pc->fd, &pc->n, &r, BPF_ANY);
		pc->n++;
	}
}

void interest_publish(struct daemon *d, int fd, uint64_t now)
{
	struct interest *in = &d->in;
	const struct subs_stats *ss = in->subs ? subs_stats(in->subs) : NULL;
	struct pub_ctx pc = { .fd = fd };
	struct mctun_want_info empty = {};
	unsigned int k;

	d->st.capture_all = in->all;
	d->st.join_errors = in->cs.join_errors;
	if (ss) {
		d->st.want_origins = ss->origins;
		d->st.announce_in = ss->ann_in;
		d->st.announce_out = ss->ann_out;
	}
	if (fd < 0 || !in->subs || (!in->publish && now < in->t_publish))
		return;
	in->publish = false;
	in->t_publish = now + 1000000000ull;
	subs_foreach_origin(in->subs, now, publish_origin, &pc);
	for (k = pc.n; k < in->published; k++)
		bpf_map_update_elem(fd, &k, &empty, BPF_ANY);
	in->published = pc.n;
}
