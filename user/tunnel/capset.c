// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "capset.h"
#include "capture_bpf.h"
#include "capture_socket.h"
#include "log.h"
#include "util.h"

void capset_init(struct capset *cs, struct capture_bpf *cap, int epfd)
{
	*cs = (struct capset){ .cap = cap, .epfd = epfd, .next = UINT64_MAX };
}

static int cmp_entry(const void *a, const void *b)
{
	const struct capset_entry *x = a, *y = b;

	return memcmp(&x->gc.g, &y->gc.g, sizeof(x->gc.g));
}

/* For the sort: of equal groups, the captured one first (a wanted exact
 * group is also in the list as the configuration's, not captured) */
static int cmp_sort(const void *a, const void *b)
{
	const struct capset_entry *x = a, *y = b;
	int r = cmp_entry(a, b);

	if (r)
		return r;
	return !!(x->gc.bpf_flags & MCTUN_GF_IDLE) - !!(y->gc.bpf_flags & MCTUN_GF_IDLE);
}

/* The socket a captured group needs: none for a range or a group of
 * direction in; one that only joins for one address of any port; else
 * one bound to the group that takes what the program marks (or, in
 * socket mode, everything). */
static bool needs_socket(const struct cfg_group *gc, enum gsock_mode *mode,
			 const struct config *cfg)
{
	const struct mc_group *g = &gc->g;
	int cfg_mode = cfg->mode;

	/* a target of 'groups all' has every group joined; the others, only
	 * what their receivers joined (tlearn.c joins those) */
	if (!groups_on_island(gc, targets_all_groups(cfg->targets, cfg->ntargets)) ||
	    g->plen < group_full_plen(g->family))
		return false;
	/* only joined for the local targets: the BPF program copies it */
	if (!group_captures(gc) || (gc->bpf_flags & MCTUN_GF_IDLE) || !g->port)
		*mode = GSOCK_JOIN;
	else
		*mode = cfg_mode == MCTUN_MODE_SOCKET ? GSOCK_ALL : GSOCK_MARKED;
	return true;
}

static void gsock_close(struct capset *cs, struct gsock *gs)
{
	if (!gs)
		return;
	/* closing it leaves the group (or the source) on the interface */
	epoll_ctl(cs->epfd, EPOLL_CTL_DEL, gs->src.fd, NULL);
	group_socket_close(gs->src.fd, gs->g.family, gs->g.addr);
	free(gs);
}

static struct gsock *gsock_open(struct capset *cs, const struct config *cfg,
				const struct cfg_group *gc, enum gsock_mode mode)
{
	struct gsock *gs;
	int fd = group_socket_open(cfg, &gc->g, mode);

	if (fd < 0) {
		cs->join_errors++;
		return NULL;
	}
	gs = calloc(1, sizeof(*gs));
	if (!gs) {
		close(fd);
		cs->join_errors++;
		return NULL;
	}
	gs->src.kind = SRC_GROUP;
	gs->src.fd = fd;
	gs->g = gc->g;
	if (mode != GSOCK_JOIN)
		ep_set(cs->epfd, &gs->src, EPOLLIN, EPOLL_CTL_ADD);
	return gs;
}

/* The maps from the entries now in the list, held ones included. */
static int sync_bpf(struct capset *cs)
{
	struct cfg_group *g;
	struct group_entry *e = NULL;
	unsigned int i, ne;
	__u32 kinds;
	int err;

	if (!cs->cap)
		return 0;
	g = malloc((cs->n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	for (i = 0; i < cs->n; i++)
		g[i] = cs->v[i].gc;
	err = groups_bpf_entries(g, cs->n, cs->targets, &e, &ne, &kinds);
	free(g);
	if (err)
		return err;
	err = capture_bpf_sync(cs->cap, cs->bpf, cs->nbpf, cs->kinds, e, ne, kinds);
	if (err) {
		free(e);
		return err;
	}
	free(cs->bpf);
	cs->bpf = e;
	cs->nbpf = ne;
	cs->kinds = kinds;
	return 0;
}

static void find_next(struct capset *cs)
{
	unsigned int i;

	cs->next = UINT64_MAX;
	for (i = 0; i < cs->n; i++)
		if (cs->v[i].remove_at && cs->v[i].remove_at < cs->next)
			cs->next = cs->v[i].remove_at;
}

int capset_apply(struct capset *cs, const struct config *cfg, const struct cfg_group *list,
		 unsigned int n, uint64_t now, uint64_t holddown_ns)
{
	struct capset_entry *nv = calloc(n + 1, sizeof(*nv));
	struct capset_entry *out = calloc(n + cs->n + 1, sizeof(*out));
	unsigned int i = 0, j = 0, k = 0;
	enum gsock_mode mode = GSOCK_ALL, old_mode = GSOCK_ALL;

	cs->targets = cfg->ntargets > 0;
	if (!nv || !out) {
		free(nv);
		free(out);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		nv[i].gc = list[i];
	qsort(nv, n, sizeof(*nv), cmp_sort);
	/* the same group twice (from two wants, or wanted and configured):
	 * the first stays */
	for (i = j = 0; i < n; i++)
		if (!j || cmp_entry(&nv[j - 1], &nv[i]))
			nv[j++] = nv[i];
	n = j;
	/* merge with what is captured now: keep, open, hold or close */
	for (i = j = 0; i < n || j < cs->n;) {
		int r = i == n ? 1 : j == cs->n ? -1 : cmp_entry(&nv[i], &cs->v[j]);

		if (r < 0) {                          /* new */
			if (needs_socket(&nv[i].gc, &mode, cfg))
				nv[i].gs = gsock_open(cs, cfg, &nv[i].gc, mode);
			out[k++] = nv[i++];
		} else if (r == 0) {                  /* kept */
			struct capset_entry *o = &cs->v[j++];
			bool need = needs_socket(&nv[i].gc, &mode, cfg);
			bool had = o->gs && needs_socket(&o->gc, &old_mode, cfg);

			if (had && need && mode == old_mode) {
				nv[i].gs = o->gs;
			} else {
				gsock_close(cs, o->gs);
				if (need)
					nv[i].gs = gsock_open(cs, cfg, &nv[i].gc, mode);
			}
			out[k++] = nv[i++];
		} else {                              /* gone from the list */
			struct capset_entry *o = &cs->v[j++];

			if (holddown_ns) {
				if (!o->remove_at)
					o->remove_at = now + holddown_ns;
				out[k++] = *o;
			} else {
				gsock_close(cs, o->gs);
			}
		}
	}
	free(nv);
	free(cs->v);
	cs->v = out;
	cs->n = k;
	find_next(cs);
	return sync_bpf(cs);
}

void capset_tick(struct capset *cs, uint64_t now)
{
	unsigned int i, k;

	if (now < cs->next)
		return;
	for (i = k = 0; i < cs->n; i++) {
		if (cs->v[i].remove_at && cs->v[i].remove_at <= now) {
			gsock_close(cs, cs->v[i].gs);
			continue;
		}
		cs->v[k++] = cs->v[i];
	}
	cs->n = k;
	find_next(cs);
	sync_bpf(cs);
}

bool capset_has(const struct capset *cs, const struct mc_group *g)
{
	struct capset_entry key = { .gc.g = *g };

	return cs->n && bsearch(&key, cs->v, cs->n, sizeof(*cs->v), cmp_entry);
}

void capset_free(struct capset *cs)
{
	unsigned int i;

	for (i = 0; i < cs->n; i++)
		gsock_close(cs, cs->v[i].gs);
	free(cs->v);
	free(cs->bpf);
	cs->v = NULL;
	cs->bpf = NULL;
	cs->n = cs->nbpf = 0;
}
