// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The router side of IGMPv3 and MLDv2. Every timer is an absolute deadline
 * in ns, 0 when it is not running. A group in EXCLUDE mode keeps its
 * requested sources (RFC 3376's X) with running timers and its excluded
 * ones (Y) with stopped timers; in INCLUDE mode every source runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "membership.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull
#define NO_DEADLINE UINT64_MAX

struct msrc {
	uint8_t addr[16];
	uint64_t timer;
	uint8_t retrans;         /* Q(G,S) still to send naming it */
	uint8_t mark;            /* scratch of apply_record() */
};

struct mgroup {
	struct mgroup *next;     /* hash chain */
	struct mgroup *touched_next;
	bool touched;            /* on the list mship_input finishes */
	bool fresh;              /* created by the mship_input under way */
	bool dirty;              /* forwarding changed, changed() not yet called */
	uint8_t family;
	uint8_t filter;          /* MSHIP_INCLUDE or MSHIP_EXCLUDE */
	uint8_t addr[16];
	uint64_t timer;          /* group timer, EXCLUDE only */
	uint64_t host_v1;        /* IGMPv1 host present */
	uint64_t host_prev;      /* IGMPv2 / MLDv1 host present */
	uint64_t q_next;         /* next Q(G) */
	uint8_t q_left;          /* Q(G) still to send */
	uint64_t qs_next;        /* next round of Q(G,S) */
	uint64_t reports;
	struct msrc *src;
	unsigned int nsrc, cap;
};

struct mfam {
	bool has_addr;
	bool querier;
	uint8_t addr[16];
	uint64_t gq_next;        /* our next general query */
	unsigned int startup_left;
	uint64_t oqp;            /* other querier present */
	uint8_t other[16];
	unsigned int rv;         /* robustness in effect */
	uint64_t qi;             /* query interval in effect, ns */
	unsigned int groups;
	struct mship_stats st;
};

struct mship {
	struct mship_params p;
	struct mship_ops ops;
	struct mgroup **bucket;
	unsigned int mask;
	unsigned int ngroups;
	uint64_t next;           /* nothing is due before this */
	unsigned long allocs;
	bool busy;               /* inside a call that walks or changes the tables */
	struct mgroup *touched;
	struct mfam fam[2];
};

static struct mfam *fam_of(struct mship *m, uint8_t family)
{
	return &m->fam[family == 6];
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A stopped timer (0) is no deadline. */
static uint64_t deadline(uint64_t t)
{
	return t ? t : NO_DEADLINE;
}

static unsigned int alen(uint8_t family)
{
	return MSHIP_ALEN(family);
}

static bool addr_eq(uint8_t family, const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, alen(family));
}

/* ---- derived times (RFC 3376 §8, RFC 3810 §9) ---------------------------- */

static uint64_t qri(const struct mship *m)
{
	return m->p.query_response_interval_ms * NS_PER_MS;
}

static uint64_t lmqi(const struct mship *m)
{
	return m->p.last_member_interval_ms * NS_PER_MS;
}

/* Group membership interval; also the older host present interval. */
static uint64_t gmi(const struct mship *m, const struct mfam *f)
{
	return f->rv * f->qi + qri(m);
}

static uint64_t oqpi(const struct mship *m, const struct mfam *f)
{
	return f->rv * f->qi + qri(m) / 2;
}

static uint64_t lmqt(const struct mship *m, const struct mfam *f)
{
	return f->rv * lmqi(m);
}

/* ---- groups and sources -------------------------------------------------- */

static unsigned int ghash(uint8_t family, const uint8_t *addr)
{
	uint32_t h = 2166136261u ^ family;
	unsigned int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h ^ h >> 16;
}

static struct mgroup *group_find(const struct mship *m, uint8_t family, const uint8_t *addr)
{
	struct mgroup *g = m->bucket[ghash(family, addr) & m->mask];

	for (; g; g = g->next)
		if (g->family == family && !memcmp(g->addr, addr, 16))
			return g;
	return NULL;
}

static void group_unlink(struct mship *m, struct mgroup *g)
{
	struct mgroup **pp = &m->bucket[ghash(g->family, g->addr) & m->mask];

	while (*pp != g)
		pp = &(*pp)->next;
	*pp = g->next;
}

static void group_free(struct mship *m, struct mgroup *g)
{
	if (g->src) {
		free(g->src);
		m->allocs--;
	}
	fam_of(m, g->family)->groups--;
	m->ngroups--;
	free(g);
	m->allocs--;
}

static void notify(struct mship *m, uint8_t family, const uint8_t *addr)
{
	if (m->ops.changed)
		m->ops.changed(m->ops.ctx, family, addr);
}

/* Unlinked and freed first, so that changed() reads "not present". */
static void group_remove(struct mship *m, struct mgroup *g, bool tell)
{
	uint8_t family = g->family, addr[16];

	memcpy(addr, g->addr, 16);
	group_unlink(m, g);
	group_free(m, g);
	if (tell)
		notify(m, family, addr);
}

static struct msrc *src_find(struct mgroup *g, const uint8_t *a)
{
	unsigned int i, n = alen(g->family);

	for (i = 0; i < g->nsrc; i++)
		if (!memcmp(g->src[i].addr, a, n))
			return &g->src[i];
	return NULL;
}

/* What a source's timer means for forwarding: in INCLUDE mode every source
 * is forwarded, in EXCLUDE mode those with a stopped timer are not. */
static void src_set(struct mgroup *g, struct msrc *s, uint64_t timer)
{
	if (g->filter == MSHIP_EXCLUDE && !s->timer != !timer)
		g->dirty = true;
	s->timer = timer;
}

static int src_add(struct mship *m, struct mgroup *g, const uint8_t *a, uint64_t timer)
{
	struct msrc *s;

	if (g->nsrc == g->cap) {
		unsigned int cap = g->cap ? 2 * g->cap : 4;

		if (g->nsrc >= MSHIP_MAX_SOURCES)
			return -ENOSPC;
		if (cap > MSHIP_MAX_SOURCES)
			cap = MSHIP_MAX_SOURCES;
		s = realloc(g->src, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		if (!g->src)
			m->allocs++;
		g->src = s;
		g->cap = cap;
	}
	s = &g->src[g->nsrc++];
	memset(s, 0, sizeof(*s));
	memcpy(s->addr, a, alen(g->family));
	s->timer = timer;
	if (g->filter == MSHIP_INCLUDE || !timer)
		g->dirty = true;
	return 0;
}

/* Removes source i by moving the last one into its place. */
static void src_del(struct mship *m, struct mgroup *g, unsigned int i)
{
	if (g->filter == MSHIP_INCLUDE || !g->src[i].timer)
		g->dirty = true;
	g->src[i] = g->src[--g->nsrc];
	if (!g->nsrc) {
		free(g->src);
		g->src = NULL;
		g->cap = 0;
		m->allocs--;
	}
}

static void src_del_all(struct mship *m, struct mgroup *g)
{
	while (g->nsrc)
		src_del(m, g, g->nsrc - 1);
}

static void set_filter(struct mgroup *g, uint8_t filter)
{
	if (g->filter != filter)
		g->dirty = true;
	g->filter = filter;
}

/* Too many sources (or no memory for them): forward everything until the
 * hosts' reports let the group time out. */
static void degrade(struct mship *m, struct mgroup *g, uint64_t now, int err)
{
	struct mfam *f = fam_of(m, g->family);

	if (err == -ENOMEM)
		f->st.nomem++;
	else
		f->st.src_overflows++;
	set_filter(g, MSHIP_EXCLUDE);
	src_del_all(m, g);
	g->timer = g->timer > now + gmi(m, f) ? g->timer : now + gmi(m, f);
}

/* IGMP: 1, 2 or 3; MLD: 1 or 2. */
static unsigned int compat(const struct mgroup *g)
{
	if (g->family == 4)
		return g->host_v1 ? 1 : g->host_prev ? 2 : 3;
	return g->host_prev ? 1 : 2;
}

static unsigned int newest(uint8_t family)
{
	return family == 4 ? 3 : 2;
}

static uint64_t group_next(const struct mgroup *g)
{
	uint64_t t = min64(deadline(g->host_v1), deadline(g->host_prev));
	unsigned int i;

	t = min64(t, deadline(g->qs_next));
	if (g->q_left)
		t = min64(t, deadline(g->q_next));
	if (g->filter == MSHIP_EXCLUDE)
		t = min64(t, deadline(g->timer));
	for (i = 0; i < g->nsrc; i++)
		t = min64(t, deadline(g->src[i].timer));
	return t;
}

/* ---- queries ------------------------------------------------------------- */

static void send_query(struct mship *m, struct mfam *f, uint8_t family, const uint8_t *group,
		       const uint8_t *srcs, unsigned int nsrc, uint64_t max_resp, bool s_flag)
{
	f->st.queries_sent++;
	if (m->ops.send_query)
		m->ops.send_query(m->ops.ctx, family, group, srcs, nsrc,
				  (uint32_t)(max_resp / NS_PER_MS), s_flag, f->rv,
				  (uint32_t)(f->qi / NS_PER_S));
}

/* "Send Q(G)" (RFC 3376 §6.6.3.1): the querier lowers the group timer to
 * LMQT and sends last member count queries, LMQI apart. */
static void query_group(struct mship *m, struct mgroup *g, uint64_t now)
{
	struct mfam *f = fam_of(m, g->family);

	if (!f->querier)
		return;
	if (g->timer > now + lmqt(m, f))
		g->timer = now + lmqt(m, f);
	g->q_left = f->rv;
	g->q_next = now;
}

/* "Send Q(G,X)" for one source of X (§6.6.3.2): only a source whose timer
 * is above LMQT is lowered to it and queried. */
static void query_source(struct mship *m, struct mgroup *g, struct msrc *s, uint64_t now)
{
	struct mfam *f = fam_of(m, g->family);

	if (!f->querier || s->timer <= now + lmqt(m, f))
		return;
	src_set(g, s, now + lmqt(m, f));
	s->retrans = f->rv;
	g->qs_next = now;
}

/* The group's queries that are due. A Q(G,S) round is two messages: the
 * sources whose timers a report raised above LMQT meanwhile with the S
 * flag set, the others with it clear (§6.6.3.2); the first is left out
 * when a Q(G) goes out at the same time, which asks for them anyway. */
static void group_send(struct mship *m, struct mgroup *g, uint64_t now)
{
	struct mfam *f = fam_of(m, g->family);
	uint8_t hi[MSHIP_MAX_SOURCES * 16], lo[MSHIP_MAX_SOURCES * 16];
	unsigned int nhi = 0, nlo = 0, i, n = alen(g->family);
	bool sent_group = false, more = false;

	if (!f->querier) {
		g->q_left = 0;
		g->q_next = g->qs_next = 0;
		for (i = 0; i < g->nsrc; i++)
			g->src[i].retrans = 0;
		return;
	}
	if (g->q_left && g->q_next && g->q_next <= now) {
		/* §6.6.3.1: S set once a report raised the timer again */
		bool s_flag = g->filter == MSHIP_EXCLUDE && g->timer > now + lmqt(m, f);

		send_query(m, f, g->family, g->addr, NULL, 0, lmqi(m), s_flag);
		g->q_next = --g->q_left ? now + lmqi(m) : 0;
		sent_group = true;
	}
	if (!g->qs_next || g->qs_next > now)
		return;
	for (i = 0; i < g->nsrc; i++) {
		struct msrc *s = &g->src[i];

		if (!s->retrans || !s->timer)
			continue;
		if (s->timer > now + lmqt(m, f))
			memcpy(hi + n * nhi++, s->addr, n);
		else
			memcpy(lo + n * nlo++, s->addr, n);
		more |= --s->retrans > 0;
	}
	if (nhi && !sent_group)
		send_query(m, f, g->family, g->addr, hi, nhi, lmqi(m), true);
	if (nlo)
		send_query(m, f, g->family, g->addr, lo, nlo, lmqi(m), false);
	g->qs_next = more ? now + lmqi(m) : 0;
}

/* ---- the tables of RFC 3376 §6.4 (RFC 3810 §7.4) ------------------------- */

/* mark = 1 on the sources of g that the record names. */
static void mark_record(struct mgroup *g, const uint8_t *srcs, unsigned int nsrc)
{
	unsigned int i, n = alen(g->family);

	for (i = 0; i < g->nsrc; i++)
		g->src[i].mark = 0;
	for (i = 0; i < nsrc; i++) {
		struct msrc *s = src_find(g, srcs + (size_t)i * n);

		if (s)
			s->mark = 1;
	}
}

/* Each source of the record: a known one's timer becomes `timer` when
 * `refresh`, a new one is added with `timer`. */
static int add_sources(struct mship *m, struct mgroup *g, const uint8_t *srcs,
		       unsigned int nsrc, uint64_t timer, bool refresh)
{
	unsigned int i, n = alen(g->family);
	int err;

	for (i = 0; i < nsrc; i++) {
		const uint8_t *a = srcs + (size_t)i * n;
		struct msrc *s = src_find(g, a);

		if (s) {
			if (refresh)
				src_set(g, s, timer);
			continue;
		}
		err = src_add(m, g, a, timer);
		if (err)
			return err;
	}
	return 0;
}

/* Deletes the sources apply_record() did not mark. */
static void del_unmarked(struct mship *m, struct mgroup *g)
{
	unsigned int i = 0;

	while (i < g->nsrc) {
		if (!g->src[i].mark)
			src_del(m, g, i);
		else
			i++;
	}
}

/*
 * One record (or the v1/v2 message read as one) against the group, row by
 * row as in the tables; A or X, Y are the group's sources before, B the
 * record's. "Q(G,...)" and "Q(G)" only do something when we are the
 * querier. Returns 0, or -ENOSPC / -ENOMEM with nothing more applied.
 */
static int apply_record(struct mship *m, struct mgroup *g, uint8_t type, const uint8_t *srcs,
			unsigned int nsrc, uint64_t now)
{
	struct mfam *f = fam_of(m, g->family);
	uint64_t gmi_at = now + gmi(m, f), old_timer = g->timer;
	bool incl = g->filter == MSHIP_INCLUDE;
	unsigned int i;
	int err;

	mark_record(g, srcs, nsrc);
	switch (type) {
	case MSHIP_IS_IN:
	case MSHIP_ALLOW:
		/* INCLUDE (A+B), (B)=GMI; EXCLUDE (X+A, Y-A), (A)=GMI */
		return add_sources(m, g, srcs, nsrc, gmi_at, true);
	case MSHIP_TO_IN:
		/* as IS_IN, and Q(G,A-B) in INCLUDE; Q(G,X-A), Q(G) in EXCLUDE:
		 * the unmarked running sources, queried before B joins them */
		for (i = 0; i < g->nsrc; i++)
			if (!g->src[i].mark && g->src[i].timer)
				query_source(m, g, &g->src[i], now);
		if (!incl)
			query_group(m, g, now);
		return add_sources(m, g, srcs, nsrc, gmi_at, true);
	case MSHIP_BLOCK:
		if (incl) {
			/* INCLUDE (A), Q(G,A*B) */
			for (i = 0; i < g->nsrc; i++)
				if (g->src[i].mark)
					query_source(m, g, &g->src[i], now);
			return 0;
		}
		/* EXCLUDE (X+(A-Y), Y), (A-X-Y)=group timer, Q(G,A-Y) */
		err = add_sources(m, g, srcs, nsrc, g->timer, false);
		if (err)
			return err;
		mark_record(g, srcs, nsrc);
		for (i = 0; i < g->nsrc; i++)
			if (g->src[i].mark && g->src[i].timer)
				query_source(m, g, &g->src[i], now);
		return 0;
	case MSHIP_IS_EX:
	case MSHIP_TO_EX:
		/* INCLUDE: EXCLUDE (A*B, B-A), (B-A)=0, delete (A-B),
		 *          [TO_EX: Q(G,A*B)], group timer=GMI;
		 * EXCLUDE: EXCLUDE (A-Y, Y*A), delete (X-A), (Y-A),
		 *          (A-X-Y)=GMI [TO_EX: =group timer, Q(G,A-Y)],
		 *          group timer=GMI */
		set_filter(g, MSHIP_EXCLUDE);
		del_unmarked(m, g);
		g->timer = gmi_at;
		err = add_sources(m, g, srcs, nsrc,
				  incl ? 0 : type == MSHIP_IS_EX ? gmi_at : old_timer, false);
		if (err || type == MSHIP_IS_EX)
			return err;
		/* INCLUDE: A*B are the marked ones; EXCLUDE: all that is left is
		 * A, and A-Y are its running sources */
		for (i = 0; i < g->nsrc; i++)
			if (g->src[i].timer && (!incl || g->src[i].mark))
				query_source(m, g, &g->src[i], now);
		return 0;
	}
	return 0;
}

/* ---- input --------------------------------------------------------------- */

static void touch(struct mship *m, struct mgroup *g)
{
	if (g->touched)
		return;
	g->touched = true;
	g->touched_next = m->touched;
	m->touched = g;
}

/* The group a report names, created when `create`; NULL when it is not
 * ours to track, with the reason counted. */
static struct mgroup *group_get(struct mship *m, uint8_t family, const uint8_t *group,
				bool create)
{
	struct mfam *f = fam_of(m, family);
	uint8_t key[16] = { 0 };
	struct mgroup *g;

	memcpy(key, group, alen(family));
	if (mship_is_link_local_group(family, key)) {
		f->st.ignored_link_local++;
		return NULL;
	}
	g = group_find(m, family, key);
	if (g)
		return g;
	if (m->ops.allowed && !m->ops.allowed(m->ops.ctx, family, key)) {
		f->st.refused_not_allowed++;
		return NULL;
	}
	if (!create)
		return NULL;
	if (m->ngroups >= m->p.max_groups) {
		f->st.refused_max_groups++;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		f->st.nomem++;
		return NULL;
	}
	m->allocs++;
	g->family = family;
	g->filter = MSHIP_INCLUDE;
	g->fresh = true;
	memcpy(g->addr, key, 16);
	g->next = m->bucket[ghash(family, key) & m->mask];
	m->bucket[ghash(family, key) & m->mask] = g;
	m->ngroups++;
	f->groups++;
	return g;
}

static void report_record(struct mship *m, uint8_t family, uint8_t type, const uint8_t *group,
			  const uint8_t *srcs, unsigned int nsrc, uint64_t now)
{
	/* Only a record that leaves something behind creates a group:
	 * INCLUDE({}) is what a missing group already is. */
	bool create = type == MSHIP_IS_EX || type == MSHIP_TO_EX ||
		      (type != MSHIP_BLOCK && nsrc);
	struct mgroup *g = group_get(m, family, group, create);
	int err;

	if (!g)
		return;
	g->reports++;
	touch(m, g);
	/* RFC 3376 §7.3.2, RFC 3810 §8.3.2: with older hosts present, BLOCK
	 * is ignored and TO_EX(x) is TO_EX({}) */
	if (compat(g) < newest(family)) {
		if (type == MSHIP_BLOCK)
			return;
		if (type == MSHIP_TO_EX)
			nsrc = 0;
	}
	err = apply_record(m, g, type, srcs, nsrc, now);
	if (err)
		degrade(m, g, now, err);
}

/* IGMPv1/v2 reports and leaves, MLDv1 reports and dones (§7.3.2): a report
 * is IS_EX({}) and marks an older host present; a leave is TO_IN({}),
 * ignored while IGMPv1 hosts are present. */
static void old_report(struct mship *m, const struct mship_msg *msg, uint64_t now)
{
	struct mfam *f = fam_of(m, msg->family);
	struct mgroup *g;

	if (msg->type == MSHIP_LEAVE) {
		g = group_get(m, msg->family, msg->group, false);
		if (!g || (msg->family == 4 && compat(g) == 1))
			return;
		report_record(m, msg->family, MSHIP_TO_IN, msg->group, NULL, 0, now);
		return;
	}
	g = group_get(m, msg->family, msg->group, true);
	if (!g)
		return;
	if (msg->family == 4 && msg->version == 1)
		g->host_v1 = now + gmi(m, f);
	else
		g->host_prev = now + gmi(m, f);
	report_record(m, msg->family, MSHIP_IS_EX, msg->group, NULL, 0, now);
}

static void become_querier(struct mship *m, struct mfam *f, uint64_t now, unsigned int startup)
{
	f->querier = true;
	f->rv = m->p.robustness;
	f->qi = m->p.query_interval_ms * NS_PER_MS;
	f->startup_left = startup;
	f->gq_next = now;
}

static int addr_cmp(uint8_t family, const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, alen(family));
}

/* §6.6.2 election and §6.6.1 timer updates. */
static void heard_query(struct mship *m, const struct mship_msg *msg, uint64_t now)
{
	struct mfam *f = fam_of(m, msg->family);
	static const uint8_t zero[16];
	struct mgroup *g;
	unsigned int i, n = alen(msg->family);

	if (f->has_addr && addr_eq(msg->family, msg->src, f->addr))
		return;          /* our own, looped back */
	f->st.queries_heard++;
	if (msg->version < newest(msg->family))
		f->st.queries_old++;

	if (!addr_eq(msg->family, msg->src, zero) &&
	    (!f->has_addr || addr_cmp(msg->family, msg->src, f->addr) < 0)) {
		memset(f->other, 0, 16);
		memcpy(f->other, msg->src, n);
		if (m->p.querier != MSHIP_QUERIER_ON) {
			f->querier = false;
			f->gq_next = 0;
			f->startup_left = 0;
			/* §4.1.6, §4.1.7: a non-querier takes the querier's
			 * robustness and interval, 0 meaning ours */
			if (msg->version == newest(msg->family)) {
				f->rv = msg->qrv ? msg->qrv : m->p.robustness;
				f->qi = msg->qqi_s ? msg->qqi_s * NS_PER_S :
					m->p.query_interval_ms * NS_PER_MS;
			}
		}
		f->oqp = now + oqpi(m, f);
	}

	if (msg->s_flag || addr_eq(msg->family, msg->group, zero))
		return;
	g = group_find(m, msg->family, msg->group);
	if (!g)
		return;
	touch(m, g);
	if (!msg->nsrc) {
		if (g->filter == MSHIP_EXCLUDE && g->timer > now + lmqt(m, f))
			g->timer = now + lmqt(m, f);
		return;
	}
	for (i = 0; i < msg->nsrc; i++) {
		struct msrc *s = src_find(g, msg->srcs + (size_t)i * n);

		if (s && s->timer > now + lmqt(m, f))
			src_set(g, s, now + lmqt(m, f));
	}
}

static uint64_t fam_next(const struct mfam *f)
{
	uint64_t t = deadline(f->oqp);

	if (f->querier)
		t = min64(t, deadline(f->gq_next));
	return t;
}

static uint64_t run_tick(struct mship *m, uint64_t now);

/* The groups the input touched: removed when nothing is left of them,
 * else changed() if need be and their queries sent. */
static void finish_input(struct mship *m, uint64_t now)
{
	struct mgroup *g;

	while ((g = m->touched)) {
		m->touched = g->touched_next;
		g->touched = false;
		if (g->filter == MSHIP_INCLUDE && !g->nsrc) {
			group_remove(m, g, !g->fresh);
			continue;
		}
		g->fresh = false;
		if (g->dirty) {
			g->dirty = false;
			notify(m, g->family, g->addr);
		}
		group_send(m, g, now);
		m->next = min64(m->next, group_next(g));
	}
	m->next = min64(m->next, min64(fam_next(&m->fam[0]), fam_next(&m->fam[1])));
}

uint64_t mship_input(struct mship *m, uint64_t now, const struct mship_msg *msg)
{
	struct mship_rec_iter it;
	struct mship_rec rec;

	if (m->busy || (msg->family != 4 && msg->family != 6))
		return m->next;
	/* the tables apply to the state as of now */
	if (now >= m->next)
		run_tick(m, now);
	m->busy = true;
	if (msg->type == MSHIP_QUERY) {
		heard_query(m, msg, now);
	} else if (msg->version < newest(msg->family)) {
		if (msg->type == MSHIP_LEAVE)
			fam_of(m, msg->family)->st.leaves++;
		else
			fam_of(m, msg->family)->st.reports++;
		old_report(m, msg, now);
	} else {
		fam_of(m, msg->family)->st.reports++;
		mship_records(msg, &it);
		while (mship_next_record(&it, &rec)) {
			fam_of(m, msg->family)->st.records++;
			report_record(m, msg->family, rec.type, rec.group, rec.srcs, rec.nsrc,
				      now);
		}
	}
	finish_input(m, now);
	m->busy = false;
	return m->next;
}

int mship_receive(struct mship *m, uint64_t now, uint8_t family, const uint8_t src[16],
		  const uint8_t dst[16], uint8_t ttl, bool router_alert, const uint8_t *msg,
		  size_t len, const char **why)
{
	struct mship_msg pm;
	int err;

	err = mship_parse(family, src, dst, msg, len, &pm, why);
	if (!err)
		err = mship_check_ip(&pm, ttl, router_alert, why);
	if (err == -EBADMSG)
		fam_of(m, family)->st.bad++;
	if (err)
		return err;
	mship_input(m, now, &pm);
	return 0;
}

/* ---- timers -------------------------------------------------------------- */

static void fam_tick(struct mship *m, uint8_t family, uint64_t now)
{
	struct mfam *f = fam_of(m, family);

	if (f->oqp && f->oqp <= now) {
		/* the other querier went silent: its values go with it */
		f->oqp = 0;
		memset(f->other, 0, 16);
		f->rv = m->p.robustness;
		f->qi = m->p.query_interval_ms * NS_PER_MS;
		if (m->p.querier != MSHIP_QUERIER_OFF && f->has_addr && !f->querier)
			become_querier(m, f, now, 0);
	}
	if (f->querier && f->gq_next && f->gq_next <= now) {
		send_query(m, f, family, NULL, NULL, 0, qri(m), false);
		if (f->startup_left)
			f->startup_left--;
		f->gq_next = now + (f->startup_left ? m->p.startup_query_interval_ms * NS_PER_MS :
				    f->qi);
	}
}

/* Returns true when nothing is left of the group. */
static bool group_tick(struct mship *m, struct mgroup *g, uint64_t now)
{
	unsigned int i;

	if (g->host_v1 && g->host_v1 <= now)
		g->host_v1 = 0;
	if (g->host_prev && g->host_prev <= now)
		g->host_prev = 0;
	group_send(m, g, now);
	/* §6.3: an expired source is deleted in INCLUDE mode and stops
	 * being forwarded (joins Y) in EXCLUDE mode */
	for (i = 0; i < g->nsrc;) {
		struct msrc *s = &g->src[i];

		if (s->timer && s->timer <= now) {
			s->retrans = 0;
			if (g->filter == MSHIP_INCLUDE) {
				src_del(m, g, i);
				continue;
			}
			src_set(g, s, 0);
		}
		i++;
	}
	/* §6.5: at group timer expiry EXCLUDE becomes INCLUDE of the
	 * sources still running */
	if (g->filter == MSHIP_EXCLUDE && g->timer <= now) {
		for (i = 0; i < g->nsrc;) {
			if (!g->src[i].timer)
				src_del(m, g, i);
			else
				i++;
		}
		set_filter(g, MSHIP_INCLUDE);
		g->timer = 0;
	}
	return g->filter == MSHIP_INCLUDE && !g->nsrc;
}

static uint64_t run_tick(struct mship *m, uint64_t now)
{
	uint64_t next = NO_DEADLINE;
	unsigned int b;

	m->busy = true;
	fam_tick(m, 4, now);
	fam_tick(m, 6, now);
	next = min64(fam_next(&m->fam[0]), fam_next(&m->fam[1]));
	for (b = 0; b <= m->mask; b++) {
		struct mgroup *g = m->bucket[b], *nx;

		for (; g; g = nx) {
			nx = g->next;
			if (group_tick(m, g, now)) {
				group_remove(m, g, true);
				continue;
			}
			if (g->dirty) {
				g->dirty = false;
				notify(m, g->family, g->addr);
			}
			next = min64(next, group_next(g));
		}
	}
	m->next = next;
	m->busy = false;
	return next;
}

uint64_t mship_tick(struct mship *m, uint64_t now)
{
	if (m->busy)
		return m->next;
	return run_tick(m, now);
}

uint64_t mship_next_deadline(const struct mship *m)
{
	return m->next;
}

/* ---- setup --------------------------------------------------------------- */

void mship_params_default(struct mship_params *p)
{
	*p = (struct mship_params){
		.robustness = 2,
		.query_interval_ms = 125000,
		.query_response_interval_ms = 10000,
		.last_member_interval_ms = 500,
		.max_groups = 4096,
		.querier = MSHIP_QUERIER_AUTO,
	};
}

/* The largest max resp an IGMP code says: 31744 tenths of a second. */
#define MAX_RESP_MS 3174400u

/* Down to a value an IGMP code says exactly (in `unit` ms); MLD's finer
 * codes say all of those too. */
static uint32_t to_code(uint32_t ms, uint32_t unit)
{
	return mship_code8_decode(mship_code8_encode(ms / unit)) * unit;
}

int mship_new(const struct mship_params *p, const struct mship_ops *ops, struct mship **out)
{
	struct mship *m;
	unsigned int size = 16;

	*out = NULL;
	if (p->robustness < 1 || p->robustness > 255 ||
	    p->query_interval_ms < 1000 || p->query_interval_ms > 31744000u ||
	    p->query_response_interval_ms < 100 || p->query_response_interval_ms > MAX_RESP_MS ||
	    p->query_response_interval_ms >= p->query_interval_ms ||
	    p->last_member_interval_ms < 100 || p->last_member_interval_ms > MAX_RESP_MS ||
	    (p->startup_query_interval_ms && p->startup_query_interval_ms < 100) ||
	    p->startup_query_count > 255 ||
	    p->max_groups < 1 || p->max_groups > 1u << 20 ||
	    p->querier > MSHIP_QUERIER_ON)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->p = *p;
	/* what the queries say (QQIC, max resp) is what we use */
	m->p.query_interval_ms = to_code(p->query_interval_ms, 1000);
	m->p.query_response_interval_ms = to_code(p->query_response_interval_ms, 100);
	m->p.last_member_interval_ms = to_code(p->last_member_interval_ms, 100);
	if (m->p.query_response_interval_ms >= m->p.query_interval_ms) {
		free(m);
		return -EINVAL;
	}
	if (!m->p.startup_query_interval_ms)
		m->p.startup_query_interval_ms = m->p.query_interval_ms / 4;
	if (!m->p.startup_query_count)
		m->p.startup_query_count = m->p.robustness;
	if (ops)
		m->ops = *ops;
	/* chains of one or two at the largest population */
	while (size < m->p.max_groups && size < 1u << 16)
		size <<= 1;
	m->bucket = calloc(size, sizeof(*m->bucket));
	if (!m->bucket) {
		free(m);
		return -ENOMEM;
	}
	m->mask = size - 1;
	m->next = NO_DEADLINE;
	m->fam[0].rv = m->fam[1].rv = m->p.robustness;
	m->fam[0].qi = m->fam[1].qi = m->p.query_interval_ms * NS_PER_MS;
	*out = m;
	return 0;
}

void mship_free(struct mship *m)
{
	unsigned int b;

	if (!m || m->busy)
		return;
	for (b = 0; b <= m->mask; b++) {
		while (m->bucket[b]) {
			struct mgroup *g = m->bucket[b];

			m->bucket[b] = g->next;
			group_free(m, g);
		}
	}
	free(m->bucket);
	free(m);
}

void mship_set_addr(struct mship *m, uint64_t now, uint8_t family, const uint8_t *addr)
{
	struct mfam *f;
	static const uint8_t zero[16];

	if (m->busy || (family != 4 && family != 6))
		return;
	f = fam_of(m, family);
	if (!addr || addr_eq(family, addr, zero)) {
		f->has_addr = false;
		f->querier = false;
		f->gq_next = 0;
		memset(f->addr, 0, 16);
		return;
	}
	memset(f->addr, 0, 16);
	memcpy(f->addr, addr, alen(family));
	f->has_addr = true;
	if (m->p.querier == MSHIP_QUERIER_OFF || f->querier)
		return;
	if (m->p.querier == MSHIP_QUERIER_AUTO && f->oqp &&
	    addr_cmp(family, f->other, f->addr) < 0)
		return;
	become_querier(m, f, now, m->p.startup_query_count);
	m->next = min64(m->next, now);
}

void mship_recheck(struct mship *m)
{
	unsigned int b;

	if (m->busy || !m->ops.allowed)
		return;
	m->busy = true;
	for (b = 0; b <= m->mask; b++) {
		struct mgroup *g = m->bucket[b], *nx;

		for (; g; g = nx) {
			nx = g->next;
			if (!m->ops.allowed(m->ops.ctx, g->family, g->addr))
				group_remove(m, g, true);
		}
	}
	m->busy = false;
}

/* ---- reading ------------------------------------------------------------- */

static void group_info(const struct mgroup *g, uint64_t now, struct mship_group_info *o)
{
	unsigned int i;

	o->family = g->family;
	memcpy(o->group, g->addr, 16);
	o->filter = g->filter;
	o->compat = compat(g);
	o->timer_ns = g->filter == MSHIP_EXCLUDE && g->timer > now ? g->timer - now : 0;
	o->reports = g->reports;
	o->nsrc = o->nrequested = 0;
	for (i = 0; i < g->nsrc; i++) {
		const struct msrc *s = &g->src[i];

		if (g->filter == MSHIP_INCLUDE || !s->timer)
			memcpy(o->srcs[o->nsrc++], s->addr, 16);
		else
			o->nrequested++;
	}
}

int mship_lookup(const struct mship *m, uint64_t now, uint8_t family, const uint8_t group[16],
		 struct mship_group_info *out)
{
	uint8_t key[16] = { 0 };
	const struct mgroup *g;

	memcpy(key, group, alen(family));
	g = group_find(m, family, key);
	if (!g) {
		out->family = family;
		memcpy(out->group, key, 16);
		out->filter = MSHIP_NONE;
		out->compat = 0;
		out->nsrc = out->nrequested = 0;
		out->timer_ns = out->reports = 0;
		return -ENOENT;
	}
	group_info(g, now, out);
	return 0;
}

bool mship_wants(const struct mship *m, uint8_t family, const uint8_t group[16],
		 const uint8_t src[16])
{
	uint8_t key[16] = { 0 };
	struct mgroup *g;
	struct msrc *s;

	memcpy(key, group, alen(family));
	g = group_find(m, family, key);
	if (!g)
		return false;
	s = src_find(g, src);
	if (g->filter == MSHIP_INCLUDE)
		return s != NULL;
	return !s || s->timer;
}

bool mship_next_group(const struct mship *m, uint64_t now, struct mship_iter *it,
		      struct mship_group_info *out)
{
	for (; it->bucket <= m->mask; it->bucket++, it->pos = 0) {
		const struct mgroup *g = m->bucket[it->bucket];
		unsigned int i;

		for (i = 0; g && i < it->pos; i++)
			g = g->next;
		if (g) {
			it->pos++;
			group_info(g, now, out);
			return true;
		}
	}
	return false;
}

void mship_querier_info(const struct mship *m, uint64_t now, uint8_t family,
			struct mship_querier_info *out)
{
	const struct mfam *f = &m->fam[family == 6];

	memset(out, 0, sizeof(*out));
	out->has_addr = f->has_addr;
	out->querier = f->querier;
	out->other_present = f->oqp != 0;
	memcpy(out->addr, f->addr, 16);
	memcpy(out->other, f->other, 16);
	out->other_timer_ns = f->oqp > now ? f->oqp - now : 0;
	out->next_query_ns = f->querier && f->gq_next > now ? f->gq_next - now : 0;
	out->robustness = f->rv;
	out->query_interval_ms = f->qi / NS_PER_MS;
	out->groups = f->groups;
	out->stats = f->st;
}

unsigned long mship_allocs(const struct mship *m)
{
	return m->allocs;
}
