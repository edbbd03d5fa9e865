// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "csum.h"
#include "mship_wire.h"

#define IGMP_QUERY       0x11
#define IGMP_V1_REPORT   0x12
#define IGMP_V2_REPORT   0x16
#define IGMP_V2_LEAVE    0x17
#define IGMP_V3_REPORT   0x22

#define MLD_QUERY        130
#define MLD_V1_REPORT    131
#define MLD_V1_DONE      132
#define MLD_V2_REPORT    143

static uint16_t get16(const uint8_t *p) { return (uint16_t)p[0] << 8 | p[1]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }

static int bad(const char **why, const char *reason)
{
	*why = reason;
	return -EBADMSG;
}

static int ignored(const char **why, const char *reason)
{
	*why = reason;
	return -ENOMSG;
}

/* ---- the exponential codes (RFC 3376 §4.1.1, §4.1.7; RFC 3810 §5.1.3) ------ */

/* Below 2^(mant_bits+3) a code is the value itself; above, it is
 * 1 exp mant and stands for (1 mant) << (exp + 3). Values between two
 * codes take the lower one, so a host never answers later than asked. */
static uint32_t code_encode(uint32_t v, unsigned int mant_bits)
{
	uint32_t linear = 1u << (mant_bits + 3), top = (2u << mant_bits) - 1;
	unsigned int exp;

	if (v < linear)
		return v;
	if (v >= top << 10)
		return (linear << 1) - 1;        /* every bit set: the largest */
	for (exp = 0; (v >> (exp + 3)) > top; exp++)
		;
	return linear | exp << mant_bits | ((v >> (exp + 3)) & ((1u << mant_bits) - 1));
}

static uint32_t code_decode(uint32_t code, unsigned int mant_bits)
{
	uint32_t linear = 1u << (mant_bits + 3);

	if (code < linear)
		return code;
	return ((code & ((1u << mant_bits) - 1)) | 1u << mant_bits) <<
	       (((code >> mant_bits) & 7) + 3);
}

uint8_t mship_code8_encode(uint32_t value) { return code_encode(value, 4); }
uint32_t mship_code8_decode(uint8_t code) { return code_decode(code, 4); }
uint16_t mship_code16_encode(uint32_t value) { return code_encode(value, 12); }
uint32_t mship_code16_decode(uint16_t code) { return code_decode(code, 12); }

/* ---- addresses ----------------------------------------------------------- */

static bool is_zero(const uint8_t *a, unsigned int n)
{
	while (n--)
		if (*a++)
			return false;
	return true;
}

bool mship_is_multicast(uint8_t family, const uint8_t addr[16])
{
	return family == 4 ? (addr[0] & 0xf0) == 0xe0 : addr[0] == 0xff;
}

bool mship_is_link_local_group(uint8_t family, const uint8_t addr[16])
{
	if (family == 4)
		return addr[0] == 224 && addr[1] == 0 && addr[2] == 0;
	return addr[0] == 0xff && (addr[1] & 0x0f) <= 2;
}

void mship_src_get(uint8_t family, const uint8_t *srcs, unsigned int i, uint8_t out[16])
{
	unsigned int alen = MSHIP_ALEN(family);

	memset(out, 0, 16);
	memcpy(out, srcs + (size_t)i * alen, alen);
}

void mship_query_dst(uint8_t family, const uint8_t *group, uint8_t dst[16])
{
	memset(dst, 0, 16);
	if (group && !is_zero(group, MSHIP_ALEN(family))) {
		memcpy(dst, group, MSHIP_ALEN(family));
	} else if (family == 4) {
		dst[0] = 224;
		dst[3] = 1;
	} else {
		dst[0] = 0xff;
		dst[1] = 0x02;
		dst[15] = 1;
	}
}

/* ---- parsing ------------------------------------------------------------- */

/* Records of a v3 report from off (the end of the fixed header): each has
 * a header (type, aux len, N, address), N sources and aux len words of
 * auxiliary data, all of which must be there. */
static int check_records(uint8_t family, const uint8_t *msg, size_t len, size_t off,
			 unsigned int nrec, const char **why)
{
	size_t alen = MSHIP_ALEN(family), hdr = 4 + alen;

	for (; nrec; nrec--) {
		const uint8_t *r = msg + off;
		size_t need;

		if (len - off < hdr)
			return bad(why, "record runs past the end");
		need = hdr + get16(r + 2) * alen + (size_t)r[1] * 4;
		if (len - off < need)
			return bad(why, "record runs past the end");
		if (r[0] >= MSHIP_IS_IN && r[0] <= MSHIP_BLOCK && !mship_is_multicast(family, r + 4))
			return bad(why, "record for a non-multicast group");
		off += need;
	}
	return 0;
}

static int parse_igmp(const uint8_t *src, const uint8_t *msg, size_t len,
		      struct mship_msg *out, const char **why)
{
	size_t nsrc;

	if (len < 1)
		return bad(why, "truncated");
	switch (msg[0]) {
	case IGMP_QUERY:
	case IGMP_V1_REPORT:
	case IGMP_V2_REPORT:
	case IGMP_V2_LEAVE:
	case IGMP_V3_REPORT:
		break;
	default:
		/* DVMRP, mtrace, PIMv1...: IGMP, not membership. */
		return ignored(why, "not a membership message");
	}
	if (len < 8)
		return bad(why, "truncated");
	if (csum_fold(csum_add(0, msg, len)) != 0xffff)
		return bad(why, "bad checksum");

	out->family = 4;
	memcpy(out->src, src, 4);
	switch (msg[0]) {
	case IGMP_QUERY:
		out->type = MSHIP_QUERY;
		memcpy(out->group, msg + 4, 4);
		if (!is_zero(out->group, 4) && !mship_is_multicast(4, out->group))
			return bad(why, "query for a non-multicast group");
		/* RFC 3376 §7.1: the version of a query is told by its length. */
		if (len == 8) {
			out->version = msg[1] ? 2 : 1;
			/* RFC 2236 §4: a v1 query means the v1 10 s; RFC 1112
			 * has its group field ignored on receipt */
			out->max_resp_ms = msg[1] ? msg[1] * 100u : 10000;
			if (!msg[1])
				memset(out->group, 0, 4);
			return 0;
		}
		if (len < 12)
			return ignored(why, "query of a length RFC 3376 ignores");
		out->version = 3;
		out->max_resp_ms = mship_code8_decode(msg[1]) * 100;
		out->s_flag = msg[8] & 0x08;
		out->qrv = msg[8] & 0x07;
		out->qqi_s = mship_code8_decode(msg[9]);
		nsrc = get16(msg + 10);
		if ((len - 12) / 4 < nsrc)
			return bad(why, "sources run past the end");
		if (nsrc && is_zero(out->group, 4))
			return bad(why, "general query with sources");
		out->nsrc = nsrc;
		out->srcs = msg + 12;
		return 0;
	case IGMP_V1_REPORT:
	case IGMP_V2_REPORT:
	case IGMP_V2_LEAVE:
		out->type = msg[0] == IGMP_V2_LEAVE ? MSHIP_LEAVE : MSHIP_REPORT;
		out->version = msg[0] == IGMP_V1_REPORT ? 1 : 2;
		memcpy(out->group, msg + 4, 4);
		if (!mship_is_multicast(4, out->group))
			return bad(why, "report for a non-multicast group");
		return 0;
	default:
		out->type = MSHIP_REPORT;
		out->version = 3;
		out->nrec = get16(msg + 6);
		out->recs = msg + 8;
		return check_records(4, msg, len, 8, out->nrec, why);
	}
}

static bool is_link_local6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static int parse_mld(const uint8_t *src, const uint8_t *dst, const uint8_t *msg, size_t len,
		     struct mship_msg *out, const char **why)
{
	size_t nsrc;

	if (len < 1)
		return bad(why, "truncated");
	switch (msg[0]) {
	case MLD_QUERY:
	case MLD_V1_REPORT:
	case MLD_V1_DONE:
		if (len < 24)
			return bad(why, "truncated");
		break;
	case MLD_V2_REPORT:
		if (len < 8)
			return bad(why, "truncated");
		break;
	default:
		return ignored(why, "not an MLD message");
	}
	if (csum_fold(csum_add(csum_pseudo(16, src, dst, len, IPPROTO_ICMPV6), msg, len)) != 0xffff)
		return bad(why, "bad checksum");
	/* RFC 3810 §5.1.14 and §5.2.13: link-local sources only, but a host
	 * doing duplicate address detection reports from ::, and a router
	 * takes no action on that. */
	if (!is_link_local6(src)) {
		if (msg[0] != MLD_QUERY && is_zero(src, 16))
			return ignored(why, "report from :: (duplicate address detection)");
		return bad(why, "MLD from a source that is not link-local");
	}

	out->family = 6;
	memcpy(out->src, src, 16);
	switch (msg[0]) {
	case MLD_QUERY:
		out->type = MSHIP_QUERY;
		memcpy(out->group, msg + 8, 16);
		if (!is_zero(out->group, 16) && !mship_is_multicast(6, out->group))
			return bad(why, "query for a non-multicast address");
		/* RFC 3810 §8.1: 24 octets MLDv1, 28 or more MLDv2, others ignored */
		if (len == 24) {
			out->version = 1;
			out->max_resp_ms = get16(msg + 4);
			return 0;
		}
		if (len < 28)
			return ignored(why, "query of a length RFC 3810 ignores");
		out->version = 2;
		out->max_resp_ms = mship_code16_decode(get16(msg + 4));
		out->s_flag = msg[24] & 0x08;
		out->qrv = msg[24] & 0x07;
		out->qqi_s = mship_code8_decode(msg[25]);
		nsrc = get16(msg + 26);
		if ((len - 28) / 16 < nsrc)
			return bad(why, "sources run past the end");
		if (nsrc && is_zero(out->group, 16))
			return bad(why, "general query with sources");
		out->nsrc = nsrc;
		out->srcs = msg + 28;
		return 0;
	case MLD_V1_REPORT:
	case MLD_V1_DONE:
		out->type = msg[0] == MLD_V1_DONE ? MSHIP_LEAVE : MSHIP_REPORT;
		out->version = 1;
		memcpy(out->group, msg + 8, 16);
		if (!mship_is_multicast(6, out->group))
			return bad(why, "report for a non-multicast address");
		return 0;
	default:
		out->type = MSHIP_REPORT;
		out->version = 2;
		out->nrec = get16(msg + 6);
		out->recs = msg + 8;
		return check_records(6, msg, len, 8, out->nrec, why);
	}
}

int mship_parse(uint8_t family, const uint8_t src[16], const uint8_t dst[16],
		const uint8_t *msg, size_t len, struct mship_msg *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	if (family == 4)
		return parse_igmp(src, msg, len, out, why);
	if (family == 6)
		return parse_mld(src, dst, msg, len, out, why);
	*why = "unknown address family";
	return -EINVAL;
}

int mship_check_ip(const struct mship_msg *msg, uint8_t ttl, bool router_alert,
		   const char **why)
{
	if (msg->family == 4) {
		if (ttl != 1)
			return bad(why, "IGMP with a TTL other than 1");
		if (msg->version == 3 && !router_alert)
			return bad(why, "IGMPv3 without a router alert option");
		return 0;
	}
	if (ttl != 1)
		return bad(why, "MLD with a hop limit other than 1");
	if (!router_alert)
		return bad(why, "MLD without a router alert option");
	return 0;
}

void mship_records(const struct mship_msg *msg, struct mship_rec_iter *it)
{
	it->p = msg->recs;
	it->left = msg->type == MSHIP_REPORT && msg->recs ? msg->nrec : 0;
	it->family = msg->family;
}

/* The parser checked every length: the walk needs no bounds of its own. */
bool mship_next_record(struct mship_rec_iter *it, struct mship_rec *rec)
{
	size_t alen = MSHIP_ALEN(it->family);

	while (it->left) {
		const uint8_t *r = it->p;

		it->p += 4 + alen + get16(r + 2) * alen + (size_t)r[1] * 4;
		it->left--;
		if (r[0] < MSHIP_IS_IN || r[0] > MSHIP_BLOCK)
			continue;        /* RFC 3376 §4.2.12: ignore unknown types */
		rec->type = r[0];
		memset(rec->group, 0, 16);
		memcpy(rec->group, r + 4, alen);
		rec->nsrc = get16(r + 2);
		rec->srcs = r + 4 + alen;
		return true;
	}
	return false;
}

/* ---- building ------------------------------------------------------------ */

size_t mship_build_query(uint8_t family, uint8_t *buf, size_t cap, const uint8_t *group,
			 const uint8_t *srcs, unsigned int nsrc, uint32_t max_resp_ms,
			 bool s_flag, uint8_t qrv, uint32_t qqi_s, const uint8_t *ip_src,
			 const uint8_t *ip_dst)
{
	size_t alen = MSHIP_ALEN(family), hdr = family == 4 ? 12 : 28, len;
	uint8_t flags = (s_flag ? 0x08 : 0) | (qrv > 7 ? 0 : qrv);
	uint16_t sum16;
	uint64_t sum;
	uint32_t units;
	uint8_t *g;

	if ((family != 4 && family != 6) || nsrc > 0xffff)
		return 0;
	len = hdr + nsrc * alen;
	if (len > cap)
		return 0;
	memset(buf, 0, hdr);
	if (family == 4) {
		/* 1/10 s; a non-zero delay never becomes "answer at once" */
		units = max_resp_ms / 100;
		buf[0] = IGMP_QUERY;
		buf[1] = mship_code8_encode(units || !max_resp_ms ? units : 1);
		g = buf + 4;
		buf[8] = flags;
		buf[9] = mship_code8_encode(qqi_s);
		put16(buf + 10, nsrc);
	} else {
		buf[0] = MLD_QUERY;
		put16(buf + 4, mship_code16_encode(max_resp_ms));
		g = buf + 8;
		buf[24] = flags;
		buf[25] = mship_code8_encode(qqi_s);
		put16(buf + 26, nsrc);
	}
	if (group)
		memcpy(g, group, alen);
	if (nsrc)
		memcpy(buf + hdr, srcs, nsrc * alen);
	sum = family == 4 ? 0 : csum_pseudo(16, ip_src, ip_dst, len, IPPROTO_ICMPV6);
	sum16 = csum_finish(csum_add(sum, buf, len));
	memcpy(buf + 2, &sum16, sizeof(sum16));
	return len;
}
