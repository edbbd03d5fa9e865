// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mship_parse() on arbitrary IGMP/MLD messages, and what it accepts fed
 * into a struct mship (user/tunnel/membership.c) with time going on.
 *
 * Invariants:
 * - mship_parse returns 0, -ENOMSG or -EBADMSG (with a reason), and the
 *   same from an allocation of exactly the message's size (with ASan, any
 *   read past it is a crash);
 * - what it accepts is well formed: sources and records lie within the
 *   message, record types are 1..6, groups and query groups multicast
 *   (or zero for a general query), versions in range;
 * - a parsed v3/MLDv2 query rebuilt by mship_build_query parses back to
 *   the same fields, and so does every query the state sends;
 * - the state: groups <= max_groups, never a link-local or refused group,
 *   at most MSHIP_MAX_SOURCES sources, INCLUDE never empty, EXCLUDE with
 *   its group timer running, allocations <= 2 per group; mship_tick()
 *   returns a deadline after now; changed() names a group whose lookup
 *   agrees with mship_wants();
 * - once the addresses are dropped and time runs far ahead, nothing is
 *   left: no group, no allocation, no deadline.
 *
 * Input: 2 bytes of parameters, then chunks of
 *   ctl, len (2 bytes, up to 2047), src, dt, len bytes of message
 * ctl bit 0: family (IGMP / MLD); bit 1: fix the checksum up; bit 2: the
 * source is src as given (0.0.0.0 or :: for 0, a global IPv6 address for
 * 255) rather than 10.0.0.src / fe80::src; bits 3-4: dt in ms, s or 10 s;
 * bit 5: through mship_receive (else mship_parse + mship_input); bit 6:
 * set or drop our address for the family; bit 7: flip the policy and
 * mship_recheck(). Our addresses are 10.0.0.100 and fe80::100, so lower
 * sources win the election.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "membership.h"
#include "mship_wire.h"

#define NS_MS 1000000ull
#define NS_S  1000000000ull

static struct mship *M;
static uint64_t now;
static unsigned int max_groups;
static bool strict;              /* the policy refuses 239.255.0.0/16, ff0x::ff */
static const uint8_t our4[16] = { 10, 0, 0, 100 };
static const uint8_t our6[16] = { 0xfe, 0x80, [14] = 1, [15] = 0 };

static bool refused(uint8_t family, const uint8_t *g)
{
	if (!strict)
		return false;
	return family == 4 ? g[0] == 239 && g[1] == 255 : g[15] == 0xff;
}

static bool cb_allowed(void *ctx, uint8_t family, const uint8_t group[16])
{
	(void)ctx;
	return !refused(family, group);
}

static void check_group(const struct mship_group_info *gi)
{
	CHECK(gi->family == 4 || gi->family == 6, "family %u", gi->family);
	CHECK(mship_is_multicast(gi->family, gi->group), "a non-multicast group");
	CHECK(!mship_is_link_local_group(gi->family, gi->group), "a link-local group");
	CHECK(gi->nsrc + gi->nrequested <= MSHIP_MAX_SOURCES, "%u + %u sources", gi->nsrc,
	      gi->nrequested);
	if (gi->filter == MSHIP_INCLUDE) {
		CHECK(gi->nsrc > 0 && !gi->nrequested && !gi->timer_ns,
		      "INCLUDE with %u sources, timer %llu", gi->nsrc,
		      (unsigned long long)gi->timer_ns);
	} else {
		CHECK(gi->filter == MSHIP_EXCLUDE, "filter %u", gi->filter);
		CHECK(gi->timer_ns > 0, "EXCLUDE with its timer run out");
	}
	CHECK(gi->compat >= 1 && gi->compat <= (gi->family == 4 ? 3 : 2), "compat %u",
	      gi->compat);
}

static void cb_changed(void *ctx, uint8_t family, const uint8_t group[16])
{
	struct mship_group_info gi;
	uint8_t probe[16] = { 192, 0, 2, 77 };
	bool w;

	(void)ctx;
	if (mship_lookup(M, now, family, group, &gi) < 0) {
		CHECK(gi.filter == MSHIP_NONE, "absent with a filter");
		CHECK(!mship_wants(M, family, group, probe), "absent and wanted");
		return;
	}
	check_group(&gi);
	w = mship_wants(M, family, group, probe);
	if (gi.filter == MSHIP_INCLUDE)
		CHECK(!w || gi.nsrc, "INCLUDE wants a source it does not list");
	else
		CHECK(w || gi.nsrc, "EXCLUDE({}) does not want a source");
}

/* What we send must be a message we read back the same. */
static void cb_query(void *ctx, uint8_t family, const uint8_t *group, const uint8_t *srcs,
		     unsigned int nsrc, uint32_t max_resp_ms, bool s_flag, uint8_t qrv,
		     uint32_t qqi_s)
{
	static uint8_t buf[2048];
	const uint8_t *src = family == 4 ? our4 : our6;
	uint8_t dst[16];
	struct mship_msg m;
	const char *why = NULL;
	size_t n;
	int r;

	(void)ctx;
	CHECK(nsrc <= MSHIP_MAX_SOURCES, "a query with %u sources", nsrc);
	CHECK(!group || mship_is_multicast(family, group), "a query for a unicast group");
	CHECK(!nsrc || group, "a general query with sources");
	mship_query_dst(family, group, dst);
	n = mship_build_query(family, buf, sizeof(buf), group, srcs, nsrc, max_resp_ms, s_flag,
			      qrv, qqi_s, src, dst);
	CHECK(n, "a query that does not build");
	r = mship_parse(family, src, dst, buf, n, &m, &why);
	CHECK(!r, "our own query does not parse: %s", why);
	CHECK(m.type == MSHIP_QUERY && m.version == (family == 4 ? 3 : 2) && m.nsrc == nsrc &&
	      m.s_flag == s_flag && m.qrv == qrv && m.qqi_s == qqi_s &&
	      m.max_resp_ms == max_resp_ms, "our query reads back otherwise: %u/%u %u/%u",
	      m.max_resp_ms, max_resp_ms, m.qqi_s, qqi_s);
	CHECK(!nsrc || !memcmp(m.srcs, srcs, nsrc * MSHIP_ALEN(family)), "sources differ");
}

static void check_state(void)
{
	struct mship_querier_info q4, q6;
	struct mship_group_info gi;
	struct mship_iter it = { 0 };
	unsigned int n = 0;

	mship_querier_info(M, now, 4, &q4);
	mship_querier_info(M, now, 6, &q6);
	CHECK(q4.groups + q6.groups <= max_groups, "%u + %u groups, max %u", q4.groups,
	      q6.groups, max_groups);
	CHECK(mship_allocs(M) <= 2 * (q4.groups + q6.groups), "%lu allocations for %u groups",
	      mship_allocs(M), q4.groups + q6.groups);
	while (mship_next_group(M, now, &it, &gi)) {
		check_group(&gi);
		CHECK(!refused(gi.family, gi.group), "a refused group");
		n++;
	}
	CHECK(n == q4.groups + q6.groups, "iterated %u of %u groups", n, q4.groups + q6.groups);
}

/* The daemon's loop: a tick at every deadline up to t. */
static void run_until(uint64_t t)
{
	unsigned int guard = 0;
	uint64_t d;

	while ((d = mship_next_deadline(M)) <= t) {
		if (d > now)
			now = d;
		d = mship_tick(M, now);
		CHECK(d > now, "mship_tick at %llu returned %llu", (unsigned long long)now,
		      (unsigned long long)d);
		CHECK(++guard < 100000, "ticks do not end");
	}
	now = t;
}

static void fix_csum(uint8_t family, uint8_t *msg, size_t len, const uint8_t *src,
		     const uint8_t *dst)
{
	uint64_t s = 0;
	size_t i;

	if (len < 4)
		return;
	msg[2] = msg[3] = 0;
	if (family == 6) {
		for (i = 0; i < 16; i += 2)
			s += (src[i] << 8 | src[i + 1]) + (dst[i] << 8 | dst[i + 1]);
		s += len + 58;
	}
	for (i = 0; i + 1 < len; i += 2)
		s += msg[i] << 8 | msg[i + 1];
	if (len & 1)
		s += msg[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	msg[2] = ~s >> 8;
	msg[3] = ~s;
}

static void check_parsed(const struct mship_msg *m, const uint8_t *msg, size_t len)
{
	static const uint8_t zero[16];
	const uint8_t *end = msg + len;
	unsigned int alen = MSHIP_ALEN(m->family);
	struct mship_rec_iter it;
	struct mship_rec rec;
	unsigned int n = 0;

	CHECK(m->type >= MSHIP_QUERY && m->type <= MSHIP_LEAVE, "type %u", m->type);
	CHECK(m->version >= 1 && m->version <= (m->family == 4 ? 3 : 2), "version %u",
	      m->version);
	if (m->type == MSHIP_QUERY) {
		CHECK(!memcmp(m->group, zero, 16) || mship_is_multicast(m->family, m->group),
		      "query for a unicast group");
		CHECK(!m->nsrc || (m->srcs >= msg && m->srcs + m->nsrc * alen <= end),
		      "query sources out of the message");
		CHECK(m->qrv <= 7 && !m->nrec, "query fields");
	} else if (m->nrec || m->recs) {
		CHECK(m->version == (m->family == 4 ? 3 : 2), "records in a v%u report",
		      m->version);
		mship_records(m, &it);
		while (mship_next_record(&it, &rec)) {
			CHECK(rec.type >= MSHIP_IS_IN && rec.type <= MSHIP_BLOCK, "record type %u",
			      rec.type);
			CHECK(mship_is_multicast(m->family, rec.group), "record for a unicast group");
			CHECK(rec.srcs > msg && rec.srcs + rec.nsrc * alen <= end,
			      "record sources out of the message");
			n++;
		}
		CHECK(n <= m->nrec, "%u records of %u", n, m->nrec);
	} else {
		CHECK(mship_is_multicast(m->family, m->group), "v1/v2 report for a unicast group");
	}
}

/* A parsed query, rebuilt, reads back the same. */
static void check_rebuild(const struct mship_msg *m, const uint8_t *dst)
{
	static uint8_t buf[70000];
	static const uint8_t zero[16];
	struct mship_msg b;
	const char *why = NULL;
	size_t n;

	if (m->type != MSHIP_QUERY || m->version != (m->family == 4 ? 3 : 2))
		return;
	n = mship_build_query(m->family, buf, sizeof(buf),
			      memcmp(m->group, zero, 16) ? m->group : NULL, m->srcs, m->nsrc,
			      m->max_resp_ms, m->s_flag, m->qrv, m->qqi_s, m->src, dst);
	CHECK(n, "a parsed query does not rebuild");
	CHECK(!mship_parse(m->family, m->src, dst, buf, n, &b, &why), "rebuilt: %s", why);
	CHECK(!memcmp(b.group, m->group, 16) && b.nsrc == m->nsrc && b.s_flag == m->s_flag &&
	      b.qrv == m->qrv && b.qqi_s == m->qqi_s && b.max_resp_ms == m->max_resp_ms &&
	      (!m->nsrc || !memcmp(b.srcs, m->srcs, m->nsrc * MSHIP_ALEN(m->family))),
	      "a rebuilt query reads otherwise");
}

static void one(uint8_t ctl, uint8_t srcb, uint8_t dt, uint8_t *msg, size_t len)
{
	uint8_t family = ctl & 1 ? 6 : 4, src[16] = { 0 }, dst[16] = { 0 };
	struct mship_msg m, m2;
	const char *why = NULL;
	uint8_t *copy;
	int r, r2;

	run_until(now + dt * ((ctl >> 3 & 3) == 0 ? 0 : (ctl >> 3 & 3) == 1 ? NS_MS :
			      (ctl >> 3 & 3) == 2 ? NS_S : 10 * NS_S));
	if (ctl & 0x40) {
		bool set = srcb & 1;

		mship_set_addr(M, now, family, set ? (family == 4 ? our4 : our6) : NULL);
	}
	if (ctl & 0x80) {
		strict = !strict;
		mship_recheck(M);
	}

	if (family == 4) {
		dst[0] = 224;
		dst[3] = 22;
		if (!(ctl & 4)) {
			src[0] = 10;
			src[3] = srcb;
		} else if (srcb) {
			src[0] = srcb;
			src[3] = 1;
		}
	} else {
		dst[0] = 0xff;
		dst[1] = 0x02;
		dst[15] = 0x16;
		if (!(ctl & 4)) {
			src[0] = 0xfe;
			src[1] = 0x80;
			src[15] = srcb;
		} else if (srcb == 255) {
			src[0] = 0x20;
			src[1] = 0x01;
			src[15] = 1;
		} else if (srcb) {
			src[0] = 0xfe;
			src[1] = 0x80 | (srcb & 0x3f);
			src[14] = srcb;
		}
	}
	if (ctl & 2)
		fix_csum(family, msg, len, src, dst);

	r = mship_parse(family, src, dst, msg, len, &m, &why);
	CHECK(r == 0 || r == -ENOMSG || r == -EBADMSG, "mship_parse returned %d", r);
	CHECK(!r || (why && *why), "an error without a reason");
	copy = malloc(len ? len : 1);
	memcpy(copy, msg, len);
	r2 = mship_parse(family, src, dst, copy, len, &m2, &why);
	CHECK(r2 == r, "the message alone parses otherwise: %d, %d", r, r2);
	free(copy);
	if (r)
		return;
	check_parsed(&m, msg, len);
	check_rebuild(&m, dst);

	if (ctl & 0x20) {
		r = mship_receive(M, now, family, src, dst, 1, true, msg, len, &why);
		CHECK(!r, "mship_receive refused what mship_parse took: %s", why);
	} else {
		uint64_t d = mship_input(M, now, &m);

		CHECK(d == mship_next_deadline(M), "mship_input's deadline");
	}
	check_state();
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
	struct mship_ops ops = { .allowed = cb_allowed, .changed = cb_changed,
				 .send_query = cb_query };
	struct mship_params p;
	uint8_t p0 = fuzz_take(&in, 1), p1 = fuzz_take(&in, 1);
	uint8_t *msg;
	uint64_t d;
	int r;

	mship_params_default(&p);
	p.robustness = 1 + (p0 & 3);
	p.querier = (p0 >> 2 & 3) % 3;
	p.last_member_interval_ms = 100 * (1 + (p0 >> 4 & 7));
	p.max_groups = max_groups = 1 + (p1 & 15);
	p.query_interval_ms = (2 + (p1 >> 4)) * 10000;
	strict = p0 & 0x80;
	now = NS_S;
	r = mship_new(&p, &ops, &M);
	CHECK(!r, "mship_new: %d", r);

	while (in.len >= 5) {
		uint8_t ctl = fuzz_take(&in, 1);
		size_t len = fuzz_take(&in, 2) & 0x7ff;
		uint8_t srcb = fuzz_take(&in, 1), dt = fuzz_take(&in, 1);
		size_t n = len < in.len ? len : in.len;

		/* a copy of exactly its size, which the checksum fix may write */
		msg = malloc(n ? n : 1);
		memcpy(msg, in.p, n);
		in.p += n;
		in.len -= n;
		one(ctl, srcb, dt, msg, n);
		free(msg);
	}

	/* Without addresses nobody queries; far enough ahead, every timer
	 * has run out, in a single tick. */
	mship_set_addr(M, now, 4, NULL);
	mship_set_addr(M, now, 6, NULL);
	now += 7ull * 31744 * NS_S * 2;
	d = mship_tick(M, now);
	CHECK(d == UINT64_MAX, "a deadline after everything ran out: %llu",
	      (unsigned long long)d);
	CHECK(mship_allocs(M) == 0, "%lu allocations left", mship_allocs(M));
	check_state();
	mship_free(M);
	M = NULL;
	return 0;
}
