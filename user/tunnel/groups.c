// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "util.h"

/* ---- by destination ------------------------------------------------------ */

static const uint8_t zero16[16];

static unsigned int kind_of(const struct mc_group *g)
{
	if (g->port)
		return g->ssm ? MCTUN_RK_PORT_SRC : MCTUN_RK_PORT;
	return g->ssm ? MCTUN_RK_SRC : MCTUN_RK_ANY;
}

static unsigned int ghash(uint8_t family, uint8_t plen, uint16_t port, const uint8_t *src,
			  const uint8_t *addr)
{
	uint32_t h = 2166136261u ^ family;
	int i;

	h = (h ^ plen) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	for (i = 0; i < 16; i++)
		h = (h ^ src[i]) * 16777619u;
	return h;
}

/* The entry of exactly this key: prefix addr/plen (host bits zero), port
 * (0: any), source (zero16: any). */
static int probe(const struct gtable *gt, const struct config *cfg, uint8_t family,
		 uint8_t plen, uint16_t port, const uint8_t *src, const uint8_t *addr)
{
	unsigned int s = ghash(family, plen, port, src, addr) & gt->mask, n;
	bool ssm = src != zero16;

	for (n = 0; n <= gt->mask && gt->slot[s] >= 0; n++) {
		const struct mc_group *g = &cfg->groups[gt->slot[s]].g;

		if (g->family == family && g->plen == plen && g->port == port && g->ssm == ssm &&
		    !memcmp(g->addr, addr, 16) && (!ssm || !memcmp(g->src, src, 16)))
			return gt->slot[s];
		s = (s + 1) & gt->mask;
	}
	return -1;
}

static int gtable_lookup(const struct gtable *gt, const struct config *cfg, uint8_t family,
			 const uint8_t *addr, uint16_t port, const uint8_t *src)
{
	int fi = family == MCTUN_FAM_INET6, k, r;
	unsigned int i, kinds = gt->kinds[fi];
	/* the lookups in order of preference, as the BPF program makes them */
	const struct { unsigned int kind; bool port, src; } try[] = {
		{ MCTUN_RK_PORT_SRC, true, true }, { MCTUN_RK_PORT, true, false },
		{ MCTUN_RK_SRC, false, true },     { MCTUN_RK_ANY, false, false },
	};

	for (i = 0; i < gt->nplens[fi]; i++) {
		uint8_t plen = gt->plens[fi][i], a[16];

		addr_graft(a, addr, plen, NULL);
		for (k = 0; k < (int)ARRAY_SIZE(try); k++) {
			if (!(kinds & try[k].kind))
				continue;
			r = probe(gt, cfg, family, plen, try[k].port ? port : 0,
				  try[k].src ? src : zero16, a);
			if (r >= 0)
				return r;
		}
	}
	return -1;
}

int gtable_find(struct gtable *gt, const struct config *cfg, uint8_t family,
		const uint8_t *addr, uint16_t port, const uint8_t *src)
{
	typeof(gt->last) *l = &gt->last;

	if (l->ok && l->family == family && l->port == port && !memcmp(l->addr, addr, 16) &&
	    !memcmp(l->src, src, 16))
		return l->gi;
	l->gi = gtable_lookup(gt, cfg, family, addr, port, src);
	l->family = family;
	l->port = port;
	memcpy(l->addr, addr, 16);
	memcpy(l->src, src, 16);
	l->ok = true;
	return l->gi;
}

static unsigned int phash(uint8_t family, uint8_t plen, const uint8_t *addr)
{
	return ghash(family, plen, 0, zero16, addr);
}

/* The first group of prefix (family, plen, a), a's host bits zero, or -1. */
static int pprobe(const struct gtable *gt, const struct config *cfg, uint8_t family, uint8_t plen,
		  const uint8_t *a, unsigned int *at)
{
	unsigned int s = phash(family, plen, a) & gt->mask, n;

	for (n = 0; n <= gt->mask && gt->pslot[s] >= 0; n++) {
		const struct mc_group *g = &cfg->groups[gt->pslot[s]].g;

		if (g->family == family && g->plen == plen && !memcmp(g->addr, a, 16))
			break;
		s = (s + 1) & gt->mask;
	}
	if (at)
		*at = s;
	return gt->pslot[s];
}

int gtable_foreach_containing(const struct gtable *gt, const struct config *cfg, uint8_t family,
			      const uint8_t *addr, int (*fn)(void *ctx, int gi), void *ctx)
{
	int fi = family == MCTUN_FAM_INET6, gi, r;
	unsigned int i;
	uint8_t a[16];

	for (i = 0; i < gt->nplens[fi]; i++) {
		addr_graft(a, addr, gt->plens[fi][i], NULL);
		for (gi = pprobe(gt, cfg, family, gt->plens[fi][i], a, NULL); gi >= 0;
		     gi = gt->next[gi]) {
			r = fn(ctx, gi);
			if (r)
				return r;
		}
	}
	return 0;
}

static int cmp_plen_desc(const void *a, const void *b)
{
	return *(const uint8_t *)b - *(const uint8_t *)a;
}

int gtable_build(const struct config *cfg, struct gtable *gt)
{
	unsigned int size = 16, i, fi;
	bool seen[2][129] = {};

	memset(gt, 0, sizeof(*gt));
	while (size < 2 * cfg->ngroups)
		size <<= 1;
	gt->slot = malloc(size * sizeof(int));
	if (!gt->slot)
		return -ENOMEM;
	memset(gt->slot, 0xff, size * sizeof(int));
	gt->mask = size - 1;
	gt->pslot = malloc(size * sizeof(int));
	gt->next = malloc((cfg->ngroups + 1) * sizeof(int));
	if (!gt->pslot || !gt->next) {
		gtable_free(gt);
		return -ENOMEM;
	}
	memset(gt->pslot, 0xff, size * sizeof(int));
	for (i = 0; i < cfg->ngroups; i++) {
		const struct mc_group *g = &cfg->groups[i].g;
		const uint8_t *src = g->ssm ? g->src : zero16;
		unsigned int s = ghash(g->family, g->plen, g->port, src, g->addr) & gt->mask;

		fi = g->family == MCTUN_FAM_INET6;
		gt->kinds[fi] |= kind_of(g);
		if (!seen[fi][g->plen]) {
			seen[fi][g->plen] = true;
			gt->plens[fi][gt->nplens[fi]++] = g->plen;
		}
		/* config.c refuses a group given twice: every key is new */
		while (gt->slot[s] >= 0)
			s = (s + 1) & gt->mask;
		gt->slot[s] = i;
	}
	/* by prefix: chained in config order */
	for (i = cfg->ngroups; i-- > 0;) {
		const struct mc_group *g = &cfg->groups[i].g;
		unsigned int at;
		int first = pprobe(gt, cfg, g->family, g->plen, g->addr, &at);

		gt->next[i] = first;
		gt->pslot[at] = i;
	}
	for (fi = 0; fi < 2; fi++)
		qsort(gt->plens[fi], gt->nplens[fi], 1, cmp_plen_desc);
	return 0;
}

void gtable_free(struct gtable *gt)
{
	free(gt->slot);
	free(gt->pslot);
	free(gt->next);
	gt->slot = gt->pslot = gt->next = NULL;
}

/* ---- across a reload ----------------------------------------------------- */

static int cmp_group_idx(const void *x, const void *y, void *arg)
{
	const struct cfg_group *g = arg;

	return memcmp(&g[*(const int *)x].g, &g[*(const int *)y].g, sizeof(g->g));
}

int groups_match(const struct config *a, const struct config *b, int *a_in_b)
{
	unsigned int i, nb = b ? b->ngroups : 0;
	int *idx = NULL;

	if (nb) {
		idx = malloc(nb * sizeof(*idx));
		if (!idx)
			return -ENOMEM;
		for (i = 0; i < nb; i++)
			idx[i] = i;
		qsort_r(idx, nb, sizeof(*idx), cmp_group_idx, b->groups);
	}
	for (i = 0; i < a->ngroups; i++) {
		unsigned int lo = 0, hi = nb;

		a_in_b[i] = -1;
		while (lo < hi) {
			unsigned int mid = lo + (hi - lo) / 2;
			int r = memcmp(&a->groups[i].g, &b->groups[idx[mid]].g, sizeof(a->groups[i].g));

			if (!r) {
				a_in_b[i] = idx[mid];
				break;
			}
			if (r < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	free(idx);
	return 0;
}

int groups_assign_ids(const struct config *old, struct config *cfg, const int *n2o)
{
	uint8_t *used = calloc(MCTUN_MAX_GROUPS, 1);   /* 1 kept or taken, 2 just freed */
	unsigned int i, next = 0, again = 0;

	if (!used)
		return -ENOMEM;
	for (i = 0; old && i < old->ngroups; i++)
		used[old->groups[i].id] = 2;
	for (i = 0; i < cfg->ngroups; i++) {
		if (n2o[i] < 0)
			continue;
		cfg->groups[i].id = old->groups[n2o[i]].id;
		used[cfg->groups[i].id] = 1;
	}
	for (i = 0; i < cfg->ngroups; i++) {
		if (n2o[i] >= 0)
			continue;
		while (next < MCTUN_MAX_GROUPS && used[next])
			next++;
		if (next == MCTUN_MAX_GROUPS) {
			/* config.c keeps ngroups <= MCTUN_MAX_GROUPS: one is free */
			while (used[again] != 2)
				again++;
			next = again;
		}
		cfg->groups[i].id = next;
		used[next] = 1;
	}
	free(used);
	return 0;
}

/* ---- the BPF groups map -------------------------------------------------- */

__u32 groups_dir_flags(const struct cfg_group *gc)
{
	return gc->dir == GDIR_IN ? MCTUN_GF_NOCAPTURE :
	       gc->dir == GDIR_OUT ? MCTUN_GF_NOINJECT : 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct group_entry *x = a, *y = b;
	int r = (x->map > y->map) - (x->map < y->map);

	if (!r)
		r = memcmp(x->key, y->key, sizeof(x->key));
	return r ? r : (x->ord > y->ord) - (x->ord < y->ord);
}

int groups_bpf_entries(const struct cfg_group *g, unsigned int n, bool targets,
		       struct group_entry **out, unsigned int *nout, __u32 *kinds)
{
	struct group_entry *e;
	unsigned int i, k = 0, j;

	*out = NULL;
	*nout = 0;
	*kinds = 0;
	if (!n)
		return 0;
	e = calloc(2 * n, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct cfg_group *gc = &g[i];
		struct group_entry *x = &e[k++];

		x->v.id = gc->id;
		x->v.flags = groups_dir_flags(gc) | gc->bpf_flags;
		x->v.plen = gc->g.plen;
		x->ord = i;
		if (group_is_range(&gc->g)) {
			x->map = GE_RANGES;
			x->r.prefixlen = MCTUN_RANGE_FIXED_BITS + gc->g.plen;
			x->r.family = gc->g.family;
			x->r.port = htons(gc->g.port);
			if (gc->g.ssm)
				memcpy(x->r.src, gc->g.src, 16);
			memcpy(x->r.addr, gc->g.addr, 16);
			x->v.flags |= MCTUN_GF_RANGE;
			*kinds |= kind_of(&gc->g);
			continue;
		}
		x->map = GE_GROUPS;
		x->k.family = gc->g.family;
		x->k.port = htons(gc->g.port);
		memcpy(x->k.addr, gc->g.addr, 16);
		if (gc->g.ssm)
			memcpy(x->k.src, gc->g.src, 16);
		if (!groups_on_island(gc, targets))
			continue;
		x = &e[k++];
		x->map = GE_GROUPS;
		x->k.family = gc->g.family;
		memcpy(x->k.addr, gc->g.addr, 16);
		x->v.id = gc->id;
		/* a fragment of a group not captured is only copied to targets */
		x->v.flags = MCTUN_GF_ADDR | (groups_dir_flags(gc) & MCTUN_GF_NOCAPTURE) |
			     (gc->bpf_flags & MCTUN_GF_IDLE);
		x->v.plen = gc->g.plen;
		x->ord = i;
	}
	qsort(e, k, sizeof(*e), entry_cmp);
	for (i = j = 0; i < k; i++)     /* the first of equal keys stays */
		if (!j || e[j - 1].map != e[i].map || memcmp(e[j - 1].key, e[i].key, sizeof(e[i].key)))
			e[j++] = e[i];
	*out = e;
	*nout = j;
	return 0;
}
