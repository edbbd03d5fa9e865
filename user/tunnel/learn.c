// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "learn.h"
#include "log.h"
#include "membership.h"
#include "mship_wire.h"
#include "util.h"

#define NSEC           1000000000ull
#define ADDRS_EVERY    (5 * NSEC)     /* the interface's addresses, read again */
#define PUBLISH_EVERY  NSEC           /* timers in mctun_members, refreshed */
#define TARGET_QRI_MS  1000           /* a target's query response interval, at most */

/* ---- the policy: prefixes a group may be learned from ---------------------- */

static unsigned int pfx_hash(const uint8_t k[18])
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 18; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

static void pfx_key(uint8_t family, uint8_t plen, const uint8_t *addr, uint8_t k[18])
{
	memset(k, 0, 18);
	k[0] = family;
	k[1] = plen;
	addr_graft(k + 2, addr, plen, NULL);
}

static bool pfx_probe(const struct prefix_set *ps, const uint8_t k[18], unsigned int *at)
{
	unsigned int s = pfx_hash(k) & ps->mask, n;

	for (n = 0; n <= ps->mask && ps->slot[s][0]; n++) {
		if (!memcmp(ps->slot[s], k, 18)) {
			*at = s;
			return true;
		}
		s = (s + 1) & ps->mask;
	}
	*at = s;
	return false;
}

static void pfx_add(struct prefix_set *ps, uint8_t family, uint8_t plen, const uint8_t *addr)
{
	int fi = family == MCTUN_FAM_INET6;
	unsigned int at, i;
	uint8_t k[18];

	pfx_key(family, plen, addr, k);
	if (pfx_probe(ps, k, &at))
		return;
	memcpy(ps->slot[at], k, 18);
	for (i = 0; i < ps->nplens[fi] && ps->plens[fi][i] != plen; i++)
		;
	if (i == ps->nplens[fi]) {
		/* kept longest first */
		while (i > 0 && ps->plens[fi][i - 1] < plen) {
			ps->plens[fi][i] = ps->plens[fi][i - 1];
			i--;
		}
		ps->plens[fi][i] = plen;
		ps->nplens[fi]++;
	}
}

static bool pfx_has(const struct prefix_set *ps, uint8_t family, const uint8_t *addr)
{
	int fi = family == MCTUN_FAM_INET6;
	unsigned int i, at;
	uint8_t k[18];

	for (i = 0; ps->slot && i < ps->nplens[fi]; i++) {
		pfx_key(family, ps->plens[fi][i], addr, k);
		if (pfx_probe(ps, k, &at))
			return true;
	}
	return false;
}

/* Every group a configured entry re-injects here: the group or range
 * (direction in or both) and its rewrite target, where receivers join. */
static int pfx_build(struct prefix_set *ps, const struct config *cfg, bool target)
{
	unsigned int size = 16, i;

	memset(ps, 0, sizeof(*ps));
	while (size < 4 * cfg->ngroups)
		size <<= 1;
	ps->slot = calloc(size, sizeof(*ps->slot));
	if (!ps->slot)
		return -ENOMEM;
	ps->mask = size - 1;
	for (i = 0; i < cfg->ngroups; i++) {
		const struct cfg_group *gc = &cfg->groups[i];

		/* a target gets every configured group, whatever its direction */
		if (target) {
			pfx_add(ps, gc->g.family, gc->g.plen, gc->g.addr);
			continue;
		}
		if (gc->dir == GDIR_OUT)
			continue;
		if (gc->to.family)
			pfx_add(ps, gc->to.family, gc->to.plen, gc->to.addr);
		else
			pfx_add(ps, gc->g.family, gc->g.plen, gc->g.addr);
	}
	return 0;
}

/* ---- membership.c's callbacks ---------------------------------------------- */

static bool on_allowed(void *ctx, uint8_t family, const uint8_t group[16])
{
	const struct learn *l = ctx;

	return pfx_has(&l->allowed, family, group);
}

static void on_changed(void *ctx, uint8_t family, const uint8_t group[16])
{
	struct learn *l = ctx;

	l->dirty = true;
	if (l->changed)
		l->changed(l->ctx, family, group);
}

static void on_query(void *ctx, uint8_t family, const uint8_t *group, const uint8_t *srcs,
		     unsigned int nsrc, uint32_t max_resp_ms, bool s_flag, uint8_t qrv,
		     uint32_t qqi_s)
{
	struct learn *l = ctx;
	int fi = family == MCTUN_FAM_INET6;
	uint8_t buf[1500], dst[16];
	size_t len;

	mship_query_dst(family, group, dst);
	len = mship_build_query(family, buf, sizeof(buf), group, srcs, nsrc, max_resp_ms,
				s_flag, qrv, qqi_s, l->qs.addr[fi], dst);
	if (!len) {
		l->st->query_errors++;
		return;
	}
	query_send(&l->qs, family, buf, len, dst);
}

/* ---- the rest -------------------------------------------------------------- */

static void set_addrs(struct learn *l, uint64_t now)
{
	/* a target without an IPv4 address queries all the same (Linux hosts
	 * take an IGMP query from any source): in the election it is the
	 * highest address, which yields to any querier there */
	static const uint8_t highest[16] = { 255, 255, 255, 255 };

	mship_set_addr(l->ms, now, MCTUN_FAM_INET, l->qs.have[0] ? l->qs.addr[0] :
		       l->target ? highest : NULL);
	mship_set_addr(l->ms, now, MCTUN_FAM_INET6, l->qs.have[1] ? l->qs.addr[1] : NULL);
}

int learn_open(struct learn *l, const struct config *cfg, struct mctun_dstats *st, uint64_t now)
{
	return learn_open_on(l, cfg, cfg->ifindex, cfg->ifname, false, st, now);
}

int learn_open_on(struct learn *l, const struct config *cfg, unsigned int ifindex,
		  const char *ifname, bool target, struct mctun_dstats *st, uint64_t now)
{
	struct mship_ops ops = {
		.allowed = on_allowed, .changed = on_changed, .send_query = on_query, .ctx = l,
	};
	struct mship_params p;
	int err;

	memset(l, 0, sizeof(*l));
	l->st = st;
	l->target = target;
	query_send_init(&l->qs, &st->query_errors);
	l->qs.any4 = target;
	mship_params_default(&p);
	p.robustness = cfg->robustness;
	p.query_interval_ms = (uint32_t)(cfg->query_interval_s * 1000);
	p.query_response_interval_ms = (uint32_t)(cfg->query_response_s * 1000);
	p.last_member_interval_ms = (uint32_t)(cfg->last_member_s * 1000);
	/* behind a target: a few local receivers, whose answers need no
	 * spreading over 10 s; a container that joined before we saw its
	 * (new) interface is found within a second */
	if (target && p.query_response_interval_ms > TARGET_QRI_MS)
		p.query_response_interval_ms = TARGET_QRI_MS;
	p.max_groups = cfg->max_groups;
	p.querier = cfg->querier == QUERIER_OFF ? MSHIP_QUERIER_OFF :
		    cfg->querier == QUERIER_ON ? MSHIP_QUERIER_ON : MSHIP_QUERIER_AUTO;
	err = pfx_build(&l->allowed, cfg, target);
	if (err)
		return err;
	err = mship_new(&p, &ops, &l->ms);
	if (err) {
		pr_warn("--membership learn: %s\n", err == -EINVAL ?
			"the query response interval must be shorter than the query interval" :
			strerror(-err));
		return err;
	}
	if (cfg->querier != QUERIER_OFF) {
		err = query_send_open(&l->qs, ifindex, ifname);
		if (err)
			return err;
	} else {
		l->qs.ifindex = ifindex;
		query_send_addrs(&l->qs);
	}
	set_addrs(l, now);
	l->t_addrs = now + ADDRS_EVERY;
	l->next = mship_next_deadline(l->ms);
	l->dirty = true;
	return 0;
}

void learn_close(struct learn *l)
{
	mship_free(l->ms);
	l->ms = NULL;
	query_send_close(&l->qs);
	free(l->allowed.slot);
	l->allowed.slot = NULL;
}

int learn_set_config(struct learn *l, const struct config *cfg)
{
	struct prefix_set ps;
	int err = pfx_build(&ps, cfg, l->target);

	if (err)
		return err;
	free(l->allowed.slot);
	l->allowed = ps;
	mship_recheck(l->ms);
	return 0;
}

void learn_event(struct learn *l, const struct mctun_event *ev, const uint8_t *msg, uint32_t len)
{
	const char *why = NULL;
	uint64_t now = now_ns();
	int err;

	err = mship_receive(l->ms, now, ev->family, ev->src, ev->dst, ev->ttl,
			    ev->mflags & MCTUN_MEV_RA, msg, len, &why);
	if (err && err != -ENOMSG)
		pr_debug("%s message refused: %s\n", ev->family == MCTUN_FAM_INET ? "IGMP" : "MLD",
			 why ? why : strerror(-err));
	l->next = mship_next_deadline(l->ms);
}

/* The daemon's counters: both families' together. */
static void count(struct learn *l, uint64_t now)
{
	struct mship_querier_info q[2];
	struct mctun_dstats *st = l->st;
	int fi;

	mship_querier_info(l->ms, now, MCTUN_FAM_INET, &q[0]);
	mship_querier_info(l->ms, now, MCTUN_FAM_INET6, &q[1]);
	st->mship_groups = q[0].groups + q[1].groups;
	st->mship_reports = st->mship_leaves = st->mship_refused = st->mship_bad = 0;
	st->queries_sent = st->queries_heard = st->querier = 0;
	for (fi = 0; fi < 2; fi++) {
		const struct mship_stats *s = &q[fi].stats;

		st->mship_reports += s->reports;
		st->mship_leaves += s->leaves;
		st->mship_refused += s->refused_max_groups + s->refused_not_allowed +
				     s->ignored_link_local;
		st->mship_bad += s->bad;
		st->queries_sent += s->queries_sent;
		st->queries_heard += s->queries_heard;
		if (q[fi].querier)
			st->querier |= 1u << fi;
	}
}

void learn_tick(struct learn *l, uint64_t now)
{
	if (now >= l->t_addrs) {
		l->t_addrs = now + ADDRS_EVERY;
		if (query_send_addrs(&l->qs))
			set_addrs(l, now);
	}
	if (now >= l->next)
		l->next = mship_tick(l->ms, now);
	count(l, now);
}

void learn_publish(struct learn *l, int fd, uint64_t now)
{
	struct mship_iter it = {};
	struct mship_group_info g;
	struct mctun_member_info m;
	unsigned int n = 0, k;

	if (!l->dirty && now < l->t_publish)
		return;
	l->dirty = false;
	l->t_publish = now + PUBLISH_EVERY;
	while (n < MCTUN_PINNED_MEMBERS && mship_next_group(l->ms, now, &it, &g)) {
		memset(&m, 0, sizeof(m));
		m.family = g.family;
		m.filter = g.filter;
		m.compat = g.compat;
		m.nsrc = g.nsrc;
		m.timer_ms = (uint32_t)MIN(g.timer_ns / 1000000, UINT32_MAX);
		m.reports = g.reports;
		memcpy(m.group, g.group, 16);
		for (k = 0; k < g.nsrc && k < ARRAY_SIZE(m.srcs); k++)
			memcpy(m.srcs[k], g.srcs[k], 16);
		m.nshown = k;
		bpf_map_update_elem(fd, &n, &m, BPF_ANY);
		n++;
	}
	memset(&m, 0, sizeof(m));
	for (k = n; k < l->published; k++)
		bpf_map_update_elem(fd, &k, &m, BPF_ANY);
	l->published = n;
}

int learn_foreach(const struct learn *l, uint64_t now,
		  int (*fn)(void *ctx, const struct mship_group_info *g), void *ctx)
{
	struct mship_iter it = {};
	struct mship_group_info g;
	int r;

	while (mship_next_group(l->ms, now, &it, &g))
		if ((r = fn(ctx, &g)))
			return r;
	return 0;
}

bool learn_wants(const struct learn *l, uint8_t family, const uint8_t group[16],
		 const uint8_t src[16])
{
	return mship_wants(l->ms, family, group, src);
}
