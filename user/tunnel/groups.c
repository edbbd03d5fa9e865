// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"

/* ---- by destination ------------------------------------------------------ */

static unsigned int ghash(uint8_t family, const uint8_t *addr, uint16_t port)
{
	uint32_t h = 2166136261u ^ family;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	return (h ^ (port >> 8)) * 16777619u;
}

int gtable_find(const struct gtable *gt, const struct config *cfg, uint8_t family,
		const uint8_t *addr, uint16_t port)
{
	unsigned int s = ghash(family, addr, port) & gt->mask, n;

	for (n = 0; n <= gt->mask && gt->slot[s] >= 0; n++) {
		const struct mc_group *g = &cfg->groups[gt->slot[s]].g;

		if (g->family == family && g->port == port && !memcmp(g->addr, addr, 16))
			return gt->slot[s];
		s = (s + 1) & gt->mask;
	}
	return -1;
}

int gtable_build(const struct config *cfg, struct gtable *gt)
{
	unsigned int size = 16, i;

	while (size < 2 * cfg->ngroups)
		size <<= 1;
	gt->slot = malloc(size * sizeof(int));
	if (!gt->slot)
		return -ENOMEM;
	memset(gt->slot, 0xff, size * sizeof(int));
	gt->mask = size - 1;
	for (i = 0; i < cfg->ngroups; i++) {
		const struct mc_group *g = &cfg->groups[i].g;
		unsigned int s = ghash(g->family, g->addr, g->port) & gt->mask;

		if (gtable_find(gt, cfg, g->family, g->addr, g->port) >= 0)
			continue;      /* same destination, other source: first wins */
		while (gt->slot[s] >= 0)
			s = (s + 1) & gt->mask;
		gt->slot[s] = i;
	}
	return 0;
}

void gtable_free(struct gtable *gt)
{
	free(gt->slot);
	gt->slot = NULL;
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
	int r = memcmp(&x->k, &y->k, sizeof(x->k));

	return r ? r : (x->ord > y->ord) - (x->ord < y->ord);
}

int groups_bpf_entries(const struct config *cfg, struct group_entry **out, unsigned int *n)
{
	struct group_entry *e;
	unsigned int i, k = 0, j;

	*out = NULL;
	*n = 0;
	if (!cfg || !cfg->ngroups)
		return 0;
	e = calloc(2 * cfg->ngroups, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (i = 0; i < cfg->ngroups; i++) {
		const struct cfg_group *gc = &cfg->groups[i];
		struct group_entry *x = &e[k++];

		x->k.family = gc->g.family;
		x->k.port = htons(gc->g.port);
		memcpy(x->k.addr, gc->g.addr, 16);
		if (gc->g.ssm)
			memcpy(x->k.src, gc->g.src, 16);
		x->v.id = gc->id;
		x->v.flags = groups_dir_flags(gc);
		x->ord = i;
		if (!group_captures(gc))
			continue;
		x = &e[k++];
		x->k.family = gc->g.family;
		memcpy(x->k.addr, gc->g.addr, 16);
		x->v.id = gc->id;
		x->v.flags = MCTUN_GF_ADDR;
		x->ord = i;
	}
	qsort(e, k, sizeof(*e), entry_cmp);
	for (i = j = 0; i < k; i++)     /* the first of equal keys stays */
		if (!j || memcmp(&e[j - 1].k, &e[i].k, sizeof(e[i].k)))
			e[j++] = e[i];
	*out = e;
	*n = j;
	return 0;
}
