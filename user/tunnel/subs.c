// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mctun.h"
#include "subs.h"

#define NS_PER_S 1000000000ull

/* A want set, in one allocation: the entries, then their sources. */
struct wset {
	size_t size;                 /* bytes allocated */
	unsigned int n, nsrc;
	bool all;                    /* holds a WANT_ALL entry */
	struct want w[];
};

/* An origin's newest announcement, and the peers it came from. */
struct origin {
	uint64_t id, serial;
	uint64_t t_heard;            /* this serial was taken (ns) */
	uint64_t expire;             /* forgotten then unless renewed (ns) */
	uint8_t hops;
	bool all;                    /* in s->allv: ws->all, or not indexed (no memory) */
	unsigned int *via, nvia, via_cap;
	struct wset *ws;
};

/*
 * The index subs_select looks datagrams up in: one slot per (family,
 * prefix length, group), holding every (origin, entry) of that key. The
 * port and the source filter are checked on the entries of the slot.
 */
struct ref {
	struct origin *o;
	const struct want *w;
};

struct gslot {
	struct gslot *next;          /* hash chain */
	uint8_t family, plen;
	uint8_t group[16];           /* no bits past plen */
	unsigned int n, cap;
	struct ref *r;
};

struct speer {
	bool up;
	bool resend;                 /* a send failed: the full state is due */
	bool tx;                     /* a target of the announcement being sent */
	uint64_t node_id;
	uint32_t mark;               /* == s->gen: chosen by the last subs_select */
	/* an announcement arriving in chunks; its entries' wire bytes in buf */
	bool rx_active;
	bool rx_discard;             /* our own, or too many hops: counted, not kept */
	bool rx_nomem;               /* buf could not grow: taken as WANT_ALL */
	uint64_t rx_origin, rx_serial;
	uint8_t rx_hops;
	uint16_t rx_life, rx_next;
	unsigned int rx_n, rx_nsrc;
	uint8_t *rx_buf;
	size_t rx_len, rx_cap;
};

struct subs {
	struct subs_config cfg;
	uint64_t seed;
	unsigned int life_s;         /* lifetime of our own announcement */
	/* ours */
	struct wset *local;
	uint64_t t_flood;            /* our last announcement (ns) */
	bool flooded;                /* ... has there been one */
	bool pending;                /* a change held down */
	/* peers, by id */
	struct speer *p;
	unsigned int np, nup;
	uint32_t gen;
	bool resend_due;
	uint64_t resend_at;
	/* origins, and those of them wanting WANT_ALL; max_origins each */
	struct origin **o, **allv;
	unsigned int no, nall;
	/* the index */
	struct gslot **bucket;
	unsigned int nbucket, nslot;
	unsigned int plen_cnt[2][129];   /* slots per family and prefix length */
	uint8_t plens[2][129];           /* the lengths in use, longest first */
	unsigned int nplens[2];
	bool dirty;                  /* the capture set changed: tell cfg.changed */
	uint8_t *buf;                /* the frame being built */
	struct subs_stats st;
};

#define BUF_LEN (FRAME_HDR_LEN + ANNOUNCE_HDR_LEN + ANNOUNCE_MAX_BODY)

/* ---- memory, counted in st.mem ------------------------------------------ */

static void *zalloc(struct subs *s, size_t n)
{
	void *p = calloc(1, n);

	if (p)
		s->st.mem += n;
	return p;
}

static void zfree(struct subs *s, void *p, size_t n)
{
	if (!p)
		return;
	s->st.mem -= n;
	free(p);
}

/* *v holds *cap elements of elem bytes; make room for need of them. */
static int grow(struct subs *s, void **v, unsigned int *cap, unsigned int need, size_t elem)
{
	unsigned int ncap = *cap ? *cap : 4;
	void *nv;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*v, (size_t)ncap * elem);
	if (!nv)
		return -ENOMEM;
	s->st.mem += (size_t)(ncap - *cap) * elem;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* ---- want sets ------------------------------------------------------------ */

static struct wset *wset_alloc(struct subs *s, unsigned int n, unsigned int nsrc)
{
	size_t size = sizeof(struct wset) + n * sizeof(struct want) + 16 * (size_t)nsrc;
	struct wset *ws = zalloc(s, size);

	if (ws) {
		ws->size = size;
		ws->n = n;
		ws->nsrc = nsrc;
	}
	return ws;
}

static void wset_free(struct subs *s, struct wset *ws)
{
	if (ws)
		zfree(s, ws, ws->size);
}

static uint8_t *wset_src(struct wset *ws)
{
	return (uint8_t *)&ws->w[ws->n];
}

static struct wset *wset_all(struct subs *s)
{
	struct wset *ws = wset_alloc(s, 1, 0);

	if (ws) {
		ws->w[0].kind = WANT_ALL;
		ws->all = true;
	}
	return ws;
}

/* Entries as on the wire, already validated by frame_parse(). */
static struct wset *wset_from_wire(struct subs *s, const uint8_t *b, size_t len, unsigned int n,
				   unsigned int nsrc)
{
	struct wset *ws = wset_alloc(s, n, nsrc);
	uint8_t *src;
	size_t off = 0;
	unsigned int i;

	if (!ws)
		return NULL;
	src = wset_src(ws);
	for (i = 0; i < n; i++) {
		struct want *w = &ws->w[i];
		const char *why;
		int r = announce_entry_parse(b + off, len - off, w, &why);

		/* cannot happen for a frame frame_parse() took */
		if (r < 0 || src + 16 * (size_t)w->nsrc > wset_src(ws) + 16 * (size_t)nsrc) {
			wset_free(s, ws);
			return NULL;
		}
		off += r;
		memcpy(src, w->src, 16 * (size_t)w->nsrc);
		w->src = src;
		src += 16 * (size_t)w->nsrc;
		ws->all |= w->kind == WANT_ALL;
	}
	return ws;
}

static bool want_equal(const struct want *a, const struct want *b)
{
	return a->family == b->family && a->kind == b->kind && a->plen == b->plen &&
	       a->port == b->port && a->nsrc == b->nsrc && !memcmp(a->group, b->group, 16) &&
	       (!a->nsrc || !memcmp(a->src, b->src, 16 * (size_t)a->nsrc));
}

static bool wset_equal(const struct wset *a, const struct wset *b)
{
	unsigned int i;

	if (a->n != b->n || a->nsrc != b->nsrc)
		return false;
	for (i = 0; i < a->n; i++)
		if (!want_equal(&a->w[i], &b->w[i]))
			return false;
	return true;
}

/* A local entry that wants nothing: left out. */
static bool wants_nothing(const struct want *w)
{
	return w->kind == WANT_INCLUDE && !w->nsrc;
}

/* Sources a local entry keeps: none past ANNOUNCE_MAX_SRC (any source). */
static unsigned int kept_sources(const struct want *w)
{
	return w->nsrc > ANNOUNCE_MAX_SRC ? 0 : w->nsrc;
}

/*
 * Our own set from the caller's entries, made to fit the bounds by asking
 * for more (see subs_set_local); *cut says it was. Returns 0 with *out, or
 * -EINVAL/-ENOMEM.
 */
static int wset_local(struct subs *s, const struct want *in, unsigned int n, struct wset **out,
		      bool *cut, const char **why)
{
	unsigned int i, m = 0, total = 0, kept = 0, k = 0;
	bool all = false, over = false;
	struct wset *ws;
	uint8_t *src;

	for (i = 0; i < n; i++) {
		struct want w = in[i];

		/* the checks of the wire, with the bounds we fix up relaxed */
		if (wants_nothing(&w) || (w.kind != WANT_ALL && w.nsrc > ANNOUNCE_MAX_SRC)) {
			if (w.kind != WANT_INCLUDE && w.kind != WANT_EXCLUDE) {
				want_check(&w, why);    /* says which */
				return -EINVAL;
			}
			*cut |= !wants_nothing(&w);
			w.kind = WANT_EXCLUDE;
			w.nsrc = 0;
		}
		if (want_check(&w, why))
			return -EINVAL;
		if (wants_nothing(&in[i]))
			continue;
		all |= w.kind == WANT_ALL;
		m++;
		total += w.nsrc;
	}
	if (all || m > ANNOUNCE_MAX_ENTRIES) {
		*cut |= !all;
		*out = wset_all(s);
		return *out ? 0 : -ENOMEM;
	}
	/* Past ANNOUNCE_MAX_SOURCES, the entry that does not fit and all after
	 * it want any source: a superset of what was asked. */
	if (total > ANNOUNCE_MAX_SOURCES) {
		*cut = true;
		total = 0;
		for (i = 0; i < n; i++) {
			if (total + kept_sources(&in[i]) > ANNOUNCE_MAX_SOURCES)
				break;
			if (!wants_nothing(&in[i]))
				total += kept_sources(&in[i]);
		}
	}
	ws = wset_alloc(s, m, total);
	if (!ws)
		return -ENOMEM;
	src = wset_src(ws);
	for (i = 0; i < n; i++) {
		struct want *w = &ws->w[k];

		if (wants_nothing(&in[i]))
			continue;
		*w = in[i];
		w->nsrc = kept_sources(&in[i]);
		over |= kept + w->nsrc > total;
		if (over || w->nsrc < in[i].nsrc) {
			w->kind = WANT_EXCLUDE;
			w->nsrc = 0;
		}
		if (w->nsrc)
			memcpy(src, in[i].src, 16 * (size_t)w->nsrc);
		w->src = src;
		src += 16 * (size_t)w->nsrc;
		kept += w->nsrc;
		k++;
	}
	*out = ws;
	return 0;
}

/* ---- the index ------------------------------------------------------------ */

static int fam(uint8_t family)
{
	return family == MCTUN_FAM_INET ? 0 : family == MCTUN_FAM_INET6 ? 1 : -1;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static unsigned int slot_hash(const struct subs *s, uint8_t family, uint8_t plen,
			      const uint8_t g[16])
{
	uint64_t a, b;

	memcpy(&a, g, 8);
	memcpy(&b, g + 8, 8);
	return mix(mix(mix(s->seed ^ ((uint64_t)family << 8 | plen)) ^ a) ^ b) &
	       (s->nbucket - 1);
}

/* The group with every bit past plen cleared. */
static void mask(uint8_t family, uint8_t plen, const uint8_t *in, uint8_t out[16])
{
	unsigned int full = family == MCTUN_FAM_INET ? 4 : 16, i = plen / 8;

	memcpy(out, in, full);
	memset(out + full, 0, 16 - full);
	if (i < full) {
		out[i] &= (uint8_t)(0xff00 >> plen % 8);
		memset(out + i + 1, 0, full - i - 1);
	}
}

static struct gslot *slot_find(const struct subs *s, uint8_t family, uint8_t plen,
			       const uint8_t g[16])
{
	struct gslot *sl;

	if (!s->nslot)
		return NULL;
	for (sl = s->bucket[slot_hash(s, family, plen, g)]; sl; sl = sl->next)
		if (sl->family == family && sl->plen == plen && !memcmp(sl->group, g, 16))
			return sl;
	return NULL;
}

static void plens_update(struct subs *s, int fi)
{
	unsigned int l, n = 0;

	for (l = 129; l-- > 0;)
		if (s->plen_cnt[fi][l])
			s->plens[fi][n++] = l;
	s->nplens[fi] = n;
}

static int rehash(struct subs *s, unsigned int nb)
{
	struct gslot **nbk = zalloc(s, nb * sizeof(*nbk));
	unsigned int i, ob = s->nbucket;
	struct gslot **obk = s->bucket;

	if (!nbk)
		return -ENOMEM;
	s->bucket = nbk;
	s->nbucket = nb;
	for (i = 0; i < ob; i++) {
		struct gslot *sl = obk[i], *next;

		for (; sl; sl = next) {
			unsigned int h = slot_hash(s, sl->family, sl->plen, sl->group);

			next = sl->next;
			sl->next = nbk[h];
			nbk[h] = sl;
		}
	}
	zfree(s, obk, ob * sizeof(*obk));
	return 0;
}

static int index_add(struct subs *s, struct origin *o, const struct want *w)
{
	int fi = fam(w->family);
	struct gslot *sl = slot_find(s, w->family, w->plen, w->group);
	unsigned int h;

	if (!sl) {
		if (s->nslot >= s->nbucket && rehash(s, s->nbucket ? 2 * s->nbucket : 64) < 0)
			return -ENOMEM;
		sl = zalloc(s, sizeof(*sl));
		if (!sl)
			return -ENOMEM;
		sl->family = w->family;
		sl->plen = w->plen;
		memcpy(sl->group, w->group, 16);
		h = slot_hash(s, sl->family, sl->plen, sl->group);
		sl->next = s->bucket[h];
		s->bucket[h] = sl;
		s->nslot++;
		if (!s->plen_cnt[fi][w->plen]++)
			plens_update(s, fi);
	}
	if (grow(s, (void **)&sl->r, &sl->cap, sl->n + 1, sizeof(*sl->r)) < 0)
		return -ENOMEM;      /* an empty new slot is harmless until removed */
	sl->r[sl->n++] = (struct ref){ o, w };
	return 0;
}

static void index_del(struct subs *s, struct origin *o, const struct want *w)
{
	int fi = fam(w->family);
	struct gslot *sl = slot_find(s, w->family, w->plen, w->group), **pp;
	unsigned int i;

	if (!sl)
		return;
	for (i = 0; i < sl->n; i++) {
		if (sl->r[i].o == o && sl->r[i].w == w) {
			sl->r[i] = sl->r[--sl->n];
			break;
		}
	}
	if (sl->n)
		return;
	for (pp = &s->bucket[slot_hash(s, sl->family, sl->plen, sl->group)]; *pp != sl;
	     pp = &(*pp)->next)
		;
	*pp = sl->next;
	if (!--s->plen_cnt[fi][sl->plen])
		plens_update(s, fi);
	zfree(s, sl->r, sl->cap * sizeof(*sl->r));
	zfree(s, sl, sizeof(*sl));
	if (!--s->nslot) {
		zfree(s, s->bucket, s->nbucket * sizeof(*s->bucket));
		s->bucket = NULL;
		s->nbucket = 0;
	}
}

static void allv_del(struct subs *s, struct origin *o)
{
	unsigned int i;

	for (i = 0; i < s->nall; i++) {
		if (s->allv[i] == o) {
			s->allv[i] = s->allv[--s->nall];
			return;
		}
	}
}

static void uninstall(struct subs *s, struct origin *o)
{
	unsigned int i;

	if (!o->ws)
		return;
	if (o->all)
		allv_del(s, o);
	else
		for (i = 0; i < o->ws->n; i++)
			index_del(s, o, &o->ws->w[i]);
	s->st.held_entries -= o->ws->n;
	s->st.held_sources -= o->ws->nsrc;
	o->all = false;
	s->dirty |= o->ws->n > 0;     /* an empty set was no part of the union */
}

/* Out of memory for the index, the origin is looked up as WANT_ALL: it
 * gets more than it asked for, never less. allv has room for every origin. */
static void install(struct subs *s, struct origin *o)
{
	unsigned int i = 0;

	s->st.held_entries += o->ws->n;
	s->st.held_sources += o->ws->nsrc;
	s->dirty |= o->ws->n > 0;
	if (!o->ws->all) {
		while (i < o->ws->n && !index_add(s, o, &o->ws->w[i]))
			i++;
		if (i == o->ws->n)
			return;
		s->st.degraded++;
		/* the entry that failed may have left an empty slot */
		index_del(s, o, &o->ws->w[i]);
		while (i--)
			index_del(s, o, &o->ws->w[i]);
	}
	o->all = true;
	s->allv[s->nall++] = o;
}

/* ---- origins -------------------------------------------------------------- */

static struct origin *origin_find(const struct subs *s, uint64_t id)
{
	unsigned int i;

	for (i = 0; i < s->no; i++)
		if (s->o[i]->id == id)
			return s->o[i];
	return NULL;
}

static void forget(struct subs *s, struct origin *o)
{
	unsigned int i;

	uninstall(s, o);
	wset_free(s, o->ws);
	zfree(s, o->via, o->via_cap * sizeof(*o->via));
	for (i = 0; i < s->no; i++) {
		if (s->o[i] == o) {
			s->o[i] = s->o[--s->no];
			break;
		}
	}
	zfree(s, o, sizeof(*o));
	s->st.origins = s->no;
}

static struct origin *stalest(const struct subs *s)
{
	struct origin *v = NULL;
	unsigned int i;

	for (i = 0; i < s->no; i++)
		if (!v || s->o[i]->expire < v->expire)
			v = s->o[i];
	return v;
}

static struct origin *origin_new(struct subs *s, uint64_t id)
{
	struct origin *o;

	if (s->no >= s->cfg.max_origins) {
		forget(s, stalest(s));
		s->st.evicted++;
	}
	o = zalloc(s, sizeof(*o));
	if (!o)
		return NULL;
	/* room for a few peers now, so that via is never left empty */
	if (grow(s, (void **)&o->via, &o->via_cap, 4, sizeof(*o->via)) < 0) {
		zfree(s, o, sizeof(*o));
		return NULL;
	}
	o->id = id;
	s->o[s->no++] = o;
	s->st.origins = s->no;
	return o;
}

static bool via_has(const struct origin *o, unsigned int peer);

static void via_add(struct subs *s, struct origin *o, unsigned int peer)
{
	if (via_has(o, peer))
		return;
	if (grow(s, (void **)&o->via, &o->via_cap, o->nvia + 1, sizeof(*o->via)) < 0)
		return;              /* one path fewer; the others still work */
	o->via[o->nvia++] = peer;
}

/* Whole seconds of lifetime left, as relays and full states pass it on:
 * rounded down, so that it only ever shrinks on its way round a mesh. */
static unsigned int life_left(const struct origin *o, uint64_t now)
{
	uint64_t left = o->expire > now ? (o->expire - now) / NS_PER_S : 0;

	return (unsigned int)left;      /* at most SUBS_MAX_LIFE_S */
}

/* ---- sending -------------------------------------------------------------- */

static void send_failed(struct subs *s, unsigned int peer, uint64_t now)
{
	s->p[peer].resend = true;
	s->p[peer].tx = false;
	s->st.send_fail++;
	if (!s->resend_due) {
		s->resend_due = true;
		s->resend_at = now + SUBS_RETRY_NS;
	}
}

/*
 * One announcement, in as many chunks as it takes, to peer `only` (or
 * every peer, when only < 0) but `except`. A peer waiting for a resend
 * gets nothing until then: that resend carries everything, and a chunk
 * sent after a lost one would only be thrown away.
 */
static void send_ann(struct subs *s, const struct announce_hdr *base, const struct wset *ws,
		     int only, int except, uint64_t now)
{
	struct announce_hdr h = *base;
	unsigned int id, i = 0, ntx = 0;

	for (id = 0; id < s->np; id++) {
		struct speer *p = &s->p[id];

		p->tx = p->up && !p->resend && (int)id != except && (only < 0 || (int)id == only);
		ntx += p->tx;
	}
	if (!ntx)
		return;
	h.chunk = 0;
	do {
		uint8_t *e = s->buf + FRAME_HDR_LEN + ANNOUNCE_HDR_LEN;
		uint32_t elen = 0;
		size_t len;

		h.count = 0;
		while (i < ws->n && elen + want_wire_len(&ws->w[i]) <= ANNOUNCE_MAX_BODY) {
			elen += announce_entry_put(e + elen, &ws->w[i]);
			i++;
			h.count++;
		}
		h.flags = i == ws->n ? ANNOUNCE_LAST : 0;
		len = frame_put_announce_hdr(s->buf, &h, elen) + elen;
		for (id = 0; id < s->np; id++) {
			if (!s->p[id].tx)
				continue;
			if (s->cfg.send(s->cfg.ctx, id, s->buf, len) < 0) {
				send_failed(s, id, now);
				continue;
			}
			s->st.frames_out++;
			s->st.ann_out += h.flags & ANNOUNCE_LAST;
		}
		h.chunk++;
	} while (i < ws->n);
}

static void send_own(struct subs *s, int only, uint64_t now)
{
	struct announce_hdr h = {
		.origin = s->cfg.node_id, .serial = s->st.serial, .lifetime = s->life_s,
	};

	send_ann(s, &h, s->local, only, -1, now);
}

/* An origin's announcement passed on, if its hops and lifetime allow:
 * the same rule as for DATA, so it goes exactly as far as DATA can come
 * back. Returns whether they allowed. */
static bool send_origin(struct subs *s, const struct origin *o, int only, int except,
			uint64_t now)
{
	struct announce_hdr h = {
		.origin = o->id, .serial = o->serial, .hops = o->hops + 1,
		.lifetime = life_left(o, now),
	};

	if (o->hops + 1u >= s->cfg.max_hops || !h.lifetime)
		return false;
	send_ann(s, &h, o->ws, only, except, now);
	return true;
}

static bool via_has(const struct origin *o, unsigned int peer)
{
	unsigned int i;

	for (i = 0; i < o->nvia; i++)
		if (o->via[i] == peer)
			return true;
	return false;
}

/*
 * Everything we hold, ours first: a connection that came up, or a resend.
 * Not what came from the peer itself (a resend's case): it has that serial
 * already, and would take us for one more path to the origin.
 */
static void send_full(struct subs *s, unsigned int peer, uint64_t now)
{
	unsigned int i;

	send_own(s, peer, now);
	for (i = 0; i < s->no && !s->p[peer].resend; i++)
		if (!via_has(s->o[i], peer))
			send_origin(s, s->o[i], peer, -1, now);
}

static void flood_own(struct subs *s, uint64_t now)
{
	s->st.serial++;
	s->st.floods++;
	s->t_flood = now;
	s->flooded = true;
	s->pending = false;
	send_own(s, -1, now);
}

static void notify(struct subs *s)
{
	if (!s->dirty)
		return;
	s->dirty = false;
	if (s->cfg.changed)
		s->cfg.changed(s->cfg.ctx);
}

/* ---- the life of an instance ---------------------------------------------- */

static int set_config(struct subs *s, const struct subs_config *cfg)
{
	uint64_t life;

	if (!cfg->max_hops || cfg->max_hops > 255)
		return -EINVAL;
	s->cfg.refresh_ns = cfg->refresh_ns ? cfg->refresh_ns : SUBS_REFRESH_NS;
	s->cfg.max_hops = cfg->max_hops;
	s->cfg.max_held_entries = cfg->max_held_entries ? cfg->max_held_entries :
				  SUBS_MAX_HELD_ENTRIES;
	s->cfg.max_held_sources = cfg->max_held_sources ? cfg->max_held_sources :
				  SUBS_MAX_HELD_SOURCES;
	life = (SUBS_LIFE_MULT * s->cfg.refresh_ns + NS_PER_S - 1) / NS_PER_S;
	s->life_s = life > SUBS_MAX_LIFE_S ? SUBS_MAX_LIFE_S : life ? (unsigned int)life : 1;
	return 0;
}

/* max_origins, evicting the stalest past a smaller one. */
static int set_max_origins(struct subs *s, unsigned int max)
{
	struct origin **o, **a;

	max = max ? max : SUBS_MAX_ORIGINS;
	while (s->no > max) {
		forget(s, stalest(s));
		s->st.evicted++;
	}
	o = zalloc(s, max * sizeof(*o));
	a = zalloc(s, max * sizeof(*a));
	if (!o || !a) {
		zfree(s, o, max * sizeof(*o));
		zfree(s, a, max * sizeof(*a));
		return -ENOMEM;
	}
	if (s->o) {
		memcpy(o, s->o, s->no * sizeof(*o));
		memcpy(a, s->allv, s->nall * sizeof(*a));
		zfree(s, s->o, s->cfg.max_origins * sizeof(*o));
		zfree(s, s->allv, s->cfg.max_origins * sizeof(*a));
	}
	s->o = o;
	s->allv = a;
	s->cfg.max_origins = max;
	return 0;
}

struct subs *subs_new(const struct subs_config *cfg, uint64_t now)
{
	struct subs *s;

	if (!cfg->node_id || !cfg->send)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->st.mem = sizeof(*s);
	s->cfg = *cfg;
	s->cfg.max_origins = 0;
	s->seed = mix(cfg->node_id ^ 0x6d63747573756273ull);
	s->gen = 1;
	s->t_flood = now;
	s->st.serial = 1;
	s->buf = zalloc(s, BUF_LEN);
	s->local = wset_alloc(s, 0, 0);
	if (set_config(s, cfg) < 0 || !s->buf || !s->local ||
	    set_max_origins(s, cfg->max_origins) < 0) {
		subs_free(s);
		return NULL;
	}
	return s;
}

static void rx_reset(struct subs *s, struct speer *p)
{
	zfree(s, p->rx_buf, p->rx_cap);
	p->rx_buf = NULL;
	p->rx_len = p->rx_cap = 0;
	p->rx_active = p->rx_discard = p->rx_nomem = false;
}

void subs_free(struct subs *s)
{
	unsigned int i;

	if (!s)
		return;
	while (s->no)
		forget(s, s->o[0]);
	for (i = 0; i < s->np; i++)
		rx_reset(s, &s->p[i]);
	free(s->p);
	free(s->o);
	free(s->allv);
	free(s->bucket);
	free(s->local);
	free(s->buf);
	free(s);
}

int subs_reconfigure(struct subs *s, const struct subs_config *cfg)
{
	int err = set_config(s, cfg);

	if (!err && (cfg->max_origins ? cfg->max_origins : SUBS_MAX_ORIGINS) != s->cfg.max_origins)
		err = set_max_origins(s, cfg->max_origins);
	notify(s);
	return err;
}

int subs_set_local(struct subs *s, const struct want *w, unsigned int n, uint64_t now,
		   const char **why)
{
	struct wset *ws;
	bool cut = false;
	int err = wset_local(s, w, n, &ws, &cut, why);

	if (err == -ENOMEM)
		*why = "out of memory";
	if (err)
		return err;
	if (wset_equal(ws, s->local)) {
		wset_free(s, ws);
		return 0;
	}
	wset_free(s, s->local);
	s->local = ws;
	s->st.local_entries = ws->n;
	s->st.degraded += cut;
	if (!s->flooded || now >= s->t_flood + SUBS_HOLDDOWN_NS)
		flood_own(s, now);
	else
		s->pending = true;
	return 0;
}

/* ---- peers ------------------------------------------------------------------ */

int subs_peer_up(struct subs *s, unsigned int peer, uint64_t node_id, uint64_t now)
{
	struct speer *p;

	if (peer >= SUBS_MAX_PEER_ID || (peer < s->np && s->p[peer].up))
		return -EINVAL;
	if (peer >= s->np) {
		unsigned int cap = s->np;

		if (grow(s, (void **)&s->p, &cap, peer + 1, sizeof(*s->p)) < 0)
			return -ENOMEM;
		memset(s->p + s->np, 0, (cap - s->np) * sizeof(*s->p));
		s->np = cap;
	}
	p = &s->p[peer];
	memset(p, 0, sizeof(*p));
	p->up = true;
	p->node_id = node_id;
	s->nup++;
	send_full(s, peer, now);
	return 0;
}

void subs_peer_down(struct subs *s, unsigned int peer)
{
	struct speer *p;
	unsigned int i, j;

	if (peer >= s->np || !s->p[peer].up)
		return;
	p = &s->p[peer];
	if (p->rx_active)
		s->st.abandoned++;
	rx_reset(s, p);
	p->up = p->resend = false;
	p->mark = 0;
	s->nup--;
	for (i = 0; i < s->no;) {
		struct origin *o = s->o[i];

		for (j = 0; j < o->nvia; j++) {
			if (o->via[j] == peer) {
				o->via[j] = o->via[--o->nvia];
				break;
			}
		}
		if (o->nvia) {
			i++;
			continue;
		}
		/* no path left to it: forget() moves the last one here */
		forget(s, o);
		s->st.unreachable++;
	}
	if (!s->nup) {
		/* every slot is down and holds nothing: memory back to the start */
		zfree(s, s->p, s->np * sizeof(*s->p));
		s->p = NULL;
		s->np = 0;
	}
	notify(s);
}

/* ---- input ------------------------------------------------------------------ */

static int refuse(struct subs *s, struct speer *p, const char **why, const char *reason)
{
	s->st.bad++;
	if (p)
		rx_reset(s, p);
	*why = reason;
	return -EBADMSG;
}

/* A newer serial, or the one held from one more peer. */
static void apply(struct subs *s, unsigned int peer, const struct announce_hdr *h,
		  struct wset *ws, uint64_t now)
{
	struct origin *o = origin_find(s, h->origin);
	uint64_t entries, sources;

	if (o && h->serial < o->serial) {
		s->st.older++;
		wset_free(s, ws);
		return;
	}
	if (o && h->serial == o->serial) {
		/* no renewal: an echo must not keep a dead origin alive */
		s->st.same++;
		via_add(s, o, peer);
		wset_free(s, ws);
		return;
	}
	if (!o)
		o = origin_new(s, h->origin);
	if (!o) {
		wset_free(s, ws);
		return;
	}
	s->st.accepted++;
	o->serial = h->serial;
	o->hops = h->hops;
	o->t_heard = now;
	/* a forged or garbled lifetime holds it for an hour at most */
	o->expire = now + (h->lifetime < SUBS_MAX_LIFE_S ? h->lifetime : SUBS_MAX_LIFE_S) * NS_PER_S;
	o->nvia = 0;
	via_add(s, o, peer);

	entries = s->st.held_entries - (o->ws ? o->ws->n : 0) + ws->n;
	sources = s->st.held_sources - (o->ws ? o->ws->nsrc : 0) + ws->nsrc;
	if (!ws->all && (entries > s->cfg.max_held_entries || sources > s->cfg.max_held_sources)) {
		struct wset *all = wset_all(s);

		s->st.degraded++;
		wset_free(s, ws);
		ws = all;
	}
	if (ws && o->ws && wset_equal(ws, o->ws)) {
		/* a refresh: nothing to re-index */
		wset_free(s, ws);
	} else if (ws) {
		uninstall(s, o);
		wset_free(s, o->ws);
		o->ws = ws;
		install(s, o);
	}
	if (!o->ws) {
		/* a new origin and no memory for its set */
		forget(s, o);
		return;
	}
	s->st.relayed += send_origin(s, o, -1, (int)peer, now);
}

static void rx_append(struct subs *s, struct speer *p, const struct frame *f)
{
	size_t need = p->rx_len + f->announce.entries_len, cap = p->rx_cap ? p->rx_cap : 4096;
	uint8_t *nb;

	if (p->rx_discard || p->rx_nomem)
		return;
	while (cap < need)
		cap *= 2;
	if (cap != p->rx_cap) {
		nb = realloc(p->rx_buf, cap);
		if (!nb) {
			/* whatever it asks for, WANT_ALL covers it */
			zfree(s, p->rx_buf, p->rx_cap);
			p->rx_buf = NULL;
			p->rx_len = p->rx_cap = 0;
			p->rx_nomem = true;
			return;
		}
		s->st.mem += cap - p->rx_cap;
		p->rx_buf = nb;
		p->rx_cap = cap;
	}
	memcpy(p->rx_buf + p->rx_len, f->announce.entries, f->announce.entries_len);
	p->rx_len = need;
}

int subs_input(struct subs *s, unsigned int peer, const struct frame *f, uint64_t now,
	       const char **why)
{
	const struct announce_hdr *h = &f->announce.hdr;
	struct speer *p;
	struct wset *ws;
	unsigned int nsrc;

	if (f->type != FT_ANNOUNCE) {
		*why = "not an announce frame";
		return -EINVAL;
	}
	nsrc = f->announce.nsrc;
	if (peer >= s->np || !s->p[peer].up)
		return refuse(s, NULL, why, "announce on a connection without subscriptions");
	p = &s->p[peer];
	s->st.frames_in++;
	/* first-hand, a peer speaks only for itself (as for DATA) */
	if (!h->hops && h->origin != p->node_id)
		return refuse(s, p, why, "announce: origin at hop 0 is not the peer");
	if (!h->chunk) {
		/* A new announcement ends one left unfinished: the sender lost
		 * a chunk, and the full state it resends begins like this. */
		if (p->rx_active)
			s->st.abandoned++;
		rx_reset(s, p);
		p->rx_active = true;
		p->rx_origin = h->origin;
		p->rx_serial = h->serial;
		p->rx_hops = h->hops;
		p->rx_life = h->lifetime;
		p->rx_next = 0;
		p->rx_n = p->rx_nsrc = 0;
		p->rx_discard = h->origin == s->cfg.node_id || h->hops >= s->cfg.max_hops;
	} else if (!p->rx_active || h->origin != p->rx_origin || h->serial != p->rx_serial ||
		   h->hops != p->rx_hops || h->lifetime != p->rx_life) {
		return refuse(s, p, why, "announce: chunk of another announcement");
	} else if (h->chunk != p->rx_next) {
		return refuse(s, p, why, "announce: chunk out of order");
	}
	if (p->rx_n + h->count > ANNOUNCE_MAX_ENTRIES || p->rx_nsrc + nsrc > ANNOUNCE_MAX_SOURCES)
		return refuse(s, p, why, "announce: too many entries or sources");
	p->rx_n += h->count;
	p->rx_nsrc += nsrc;
	p->rx_next++;
	if (!(h->flags & ANNOUNCE_LAST) || h->chunk)
		rx_append(s, p, f);
	if (!(h->flags & ANNOUNCE_LAST))
		return 0;

	s->st.ann_in++;
	if (p->rx_discard) {
		if (h->origin == s->cfg.node_id)
			s->st.own++;
		else
			s->st.hops++;
		ws = NULL;
	} else if (p->rx_nomem) {
		s->st.degraded++;
		ws = wset_all(s);
	} else if (!h->chunk) {
		ws = wset_from_wire(s, f->announce.entries, f->announce.entries_len, p->rx_n,
				    p->rx_nsrc);
	} else {
		ws = wset_from_wire(s, p->rx_buf, p->rx_len, p->rx_n, p->rx_nsrc);
	}
	rx_reset(s, p);
	if (ws)
		apply(s, peer, h, ws, now);
	notify(s);
	return 0;
}

/* ---- time ------------------------------------------------------------------- */

uint64_t subs_tick(struct subs *s, uint64_t now)
{
	uint64_t next;
	unsigned int i;

	for (i = 0; i < s->no;) {
		if (s->o[i]->expire > now) {
			i++;
			continue;
		}
		forget(s, s->o[i]);
		s->st.aged_out++;
	}
	if ((s->pending && now >= s->t_flood + SUBS_HOLDDOWN_NS) ||
	    now >= s->t_flood + s->cfg.refresh_ns)
		flood_own(s, now);
	if (s->resend_due && now >= s->resend_at) {
		s->resend_due = false;
		for (i = 0; i < s->np; i++) {
			if (!s->p[i].up || !s->p[i].resend)
				continue;
			s->p[i].resend = false;
			s->st.resends++;
			send_full(s, i, now);
		}
	}
	notify(s);

	next = s->t_flood + s->cfg.refresh_ns;
	if (s->pending && s->t_flood + SUBS_HOLDDOWN_NS < next)
		next = s->t_flood + SUBS_HOLDDOWN_NS;
	if (s->resend_due && s->resend_at < next)
		next = s->resend_at;
	for (i = 0; i < s->no; i++)
		if (s->o[i]->expire < next)
			next = s->o[i]->expire;
	return next;
}

/* ---- queries ---------------------------------------------------------------- */

/* Marks the peers o came from; returns the count of marked peers. */
static unsigned int mark_via(struct subs *s, const struct origin *o, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < o->nvia; i++) {
		struct speer *p = &s->p[o->via[i]];

		if (p->mark != s->gen) {
			p->mark = s->gen;
			n++;
		}
	}
	return n;
}

static bool want_matches(const struct want *w, uint16_t port, const uint8_t src[16])
{
	bool listed = false;
	unsigned int i;

	if (w->port && w->port != port)
		return false;
	for (i = 0; i < w->nsrc && !listed; i++)
		listed = !memcmp(w->src + 16 * i, src, 16);
	return listed == (w->kind == WANT_INCLUDE);
}

unsigned int subs_select(struct subs *s, uint8_t family, const uint8_t group[16],
			 uint16_t port, const uint8_t src[16])
{
	unsigned int i, k, n = 0;
	int fi = fam(family);

	if (!++s->gen) {
		/* wrapped: no stale mark may equal the new generation */
		for (i = 0; i < s->np; i++)
			s->p[i].mark = 0;
		s->gen = 1;
	}
	if (!s->nup)
		return 0;
	for (i = 0; i < s->nall; i++) {
		n = mark_via(s, s->allv[i], n);
		if (n == s->nup)
			return n;
	}
	if (fi < 0)
		return n;
	for (k = 0; k < s->nplens[fi]; k++) {
		uint8_t key[16];
		struct gslot *sl;

		mask(family, s->plens[fi][k], group, key);
		sl = slot_find(s, family, s->plens[fi][k], key);
		for (i = 0; sl && i < sl->n; i++) {
			if (!want_matches(sl->r[i].w, port, src))
				continue;
			n = mark_via(s, sl->r[i].o, n);
			if (n == s->nup)
				return n;
		}
	}
	return n;
}

bool subs_selected(const struct subs *s, unsigned int peer)
{
	return peer < s->np && s->p[peer].up && s->p[peer].mark == s->gen;
}

bool subs_want_all(const struct subs *s)
{
	return s->nall > 0;
}

/* The union of source filters, kept within ANNOUNCE_MAX_SRC sources. */
struct merged {
	uint8_t kind;
	unsigned int n;
	uint8_t src[ANNOUNCE_MAX_SRC][16];
};

static bool in_list(const uint8_t *list, unsigned int n, const uint8_t *a)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!memcmp(list + 16 * i, a, 16))
			return true;
	return false;
}

/* Keeps the sources of m that are (keep_listed) or are not in w's list. */
static void m_filter(struct merged *m, const struct want *w, bool keep_listed)
{
	unsigned int i, k = 0;

	for (i = 0; i < m->n; i++)
		if (in_list(w->src, w->nsrc, m->src[i]) == keep_listed)
			memmove(m->src[k++], m->src[i], 16);
	m->n = k;
}

static void merge(struct merged *m, const struct want *w)
{
	unsigned int i;

	if (m->kind == WANT_INCLUDE && w->kind == WANT_INCLUDE) {
		/* I1 + I2: INCLUDE of both, or any source past the bound */
		for (i = 0; i < w->nsrc; i++) {
			if (in_list(m->src[0], m->n, w->src + 16 * i))
				continue;
			if (m->n == ANNOUNCE_MAX_SRC) {
				m->kind = WANT_EXCLUDE;
				m->n = 0;
				return;
			}
			memcpy(m->src[m->n++], w->src + 16 * i, 16);
		}
	} else if (m->kind == WANT_INCLUDE) {
		/* I + EXCLUDE X: EXCLUDE (X - I) */
		struct merged x = { .kind = WANT_EXCLUDE };

		for (i = 0; i < w->nsrc; i++)
			if (!in_list(m->src[0], m->n, w->src + 16 * i))
				memcpy(x.src[x.n++], w->src + 16 * i, 16);
		*m = x;
	} else {
		/* EXCLUDE X + INCLUDE I: EXCLUDE (X - I);
		 * EXCLUDE X1 + EXCLUDE X2: EXCLUDE (X1 and X2) */
		m_filter(m, w, w->kind == WANT_EXCLUDE);
	}
}

static int by_port(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	return (int)x->w->port - (int)y->w->port;
}

int subs_foreach_want(struct subs *s, int (*fn)(void *ctx, const struct want *w), void *ctx)
{
	struct merged m;
	unsigned int b, i, j;
	int r;

	for (b = 0; b < s->nbucket; b++) {
		struct gslot *sl;

		for (sl = s->bucket[b]; sl; sl = sl->next) {
			qsort(sl->r, sl->n, sizeof(*sl->r), by_port);
			for (i = 0; i < sl->n; i = j) {
				const struct want *w0 = sl->r[i].w;
				struct want out = {
					.family = sl->family, .plen = sl->plen, .port = w0->port,
				};

				m.kind = w0->kind;
				m.n = w0->nsrc;
				memcpy(m.src, w0->src, 16 * (size_t)w0->nsrc);
				for (j = i + 1; j < sl->n && sl->r[j].w->port == w0->port; j++)
					if (m.kind != WANT_EXCLUDE || m.n)
						merge(&m, sl->r[j].w);
				memcpy(out.group, sl->group, 16);
				out.kind = m.kind;
				out.nsrc = m.n;
				out.src = m.src[0];
				r = fn(ctx, &out);
				if (r)
					return r;
			}
		}
	}
	return 0;
}

void subs_foreach_origin(const struct subs *s, uint64_t now,
			 void (*fn)(void *ctx, const struct subs_origin_info *oi), void *ctx)
{
	unsigned int i;

	for (i = 0; i < s->no; i++) {
		const struct origin *o = s->o[i];
		struct subs_origin_info oi = {
			.node_id = o->id, .serial = o->serial, .hops = o->hops, .all = o->all,
			.age_ns = now > o->t_heard ? now - o->t_heard : 0,
			.expires_ns = o->expire > now ? o->expire - now : 0,
			.entries = o->ws->n, .sources = o->ws->nsrc, .via = o->via, .nvia = o->nvia,
			.w = o->ws->w,
		};

		fn(ctx, &oi);
	}
}

const struct subs_stats *subs_stats(const struct subs *s)
{
	return &s->st;
}
