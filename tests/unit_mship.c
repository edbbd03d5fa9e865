// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the membership modules: the IGMP/MLD wire format
 * (user/lib/mship_wire.c) on messages written here byte by byte, and the
 * router-side state and querier (user/tunnel/membership.c) driven by such
 * messages and a clock of our own. No network, no root.
 *
 * Prints "ok - NAME" or "not ok - NAME: why" per case and a last line
 * "unit_mship: N ok, M not ok"; exits 0 only when none failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership.h"
#include "mship_wire.h"
#include "unit.h"

/* ---- the harness --------------------------------------------------------- */

#define S(x)  ((uint64_t)(x) * 1000000000ull)
#define MS(x) ((uint64_t)(x) * 1000000ull)
#define T0    S(1000)

static uint8_t fam_of(const char *addr)
{
	return strchr(addr, ':') ? 6 : 4;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void fix_csum(uint8_t family, uint8_t *msg, size_t len, const uint8_t *src,
		     const uint8_t *dst)
{
	uint32_t s = 0;

	msg[2] = msg[3] = 0;
	if (family == 6) {
		s = ref_add(ref_add(0, src, 16), dst, 16);
		s += (uint32_t)len + 58;
	}
	put16(msg + 2, ~ref_fold(ref_add(s, msg, len)));
}

/* ---- the wire format ----------------------------------------------------- */

static uint8_t h4[16], h6[16], rt4[16], dst4[16], dst6[16];

static int parse(uint8_t family, const uint8_t *src, const uint8_t *dst, const uint8_t *msg,
		 size_t len, struct mship_msg *out, const char **why)
{
	*why = NULL;
	return mship_parse(family, src, dst, msg, len, out, why);
}

static void t_igmp_v1_v2(void)
{
	/* checksums worked out by hand */
	static const uint8_t v1_report[] = { 0x12, 0, 0xfc, 0xfa, 239, 1, 2, 3 };
	static const uint8_t v2_report[] = { 0x16, 0, 0xf8, 0xfa, 239, 1, 2, 3 };
	static const uint8_t v2_leave[] = { 0x17, 0, 0xf7, 0xfa, 239, 1, 2, 3 };
	static const uint8_t v1_query[] = { 0x11, 0, 0xee, 0xff, 0, 0, 0, 0 };
	static const uint8_t v2_query[] = { 0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0 };
	uint8_t g[16], longer[12];
	struct mship_msg m;
	const char *why;

	A("239.1.2.3", g);
	CHECK(!parse(4, h4, dst4, v1_report, 8, &m, &why), "v1 report: %s", why);
	CHECK(m.type == MSHIP_REPORT && m.version == 1 && m.family == 4 &&
	      !memcmp(m.group, g, 16) && !memcmp(m.src, h4, 4) && m.nrec == 0,
	      "v1 report fields");
	CHECK(!parse(4, h4, dst4, v2_report, 8, &m, &why), "v2 report: %s", why);
	CHECK(m.type == MSHIP_REPORT && m.version == 2 && !memcmp(m.group, g, 16), "v2 report");
	CHECK(!parse(4, h4, dst4, v2_leave, 8, &m, &why), "v2 leave: %s", why);
	CHECK(m.type == MSHIP_LEAVE && m.version == 2 && !memcmp(m.group, g, 16), "v2 leave");
	CHECK(!parse(4, rt4, dst4, v1_query, 8, &m, &why), "v1 query: %s", why);
	CHECK(m.type == MSHIP_QUERY && m.version == 1 && m.max_resp_ms == 10000, "v1 query");
	memcpy(longer, v1_query, 8);
	memcpy(longer + 4, g, 4);
	fix_csum(4, longer, 8, NULL, NULL);
	CHECK(!parse(4, rt4, dst4, longer, 8, &m, &why) && m.version == 1 && !m.group[0],
	      "a v1 query keeps its group field: %s", why);
	CHECK(!parse(4, rt4, dst4, v2_query, 8, &m, &why), "v2 query: %s", why);
	CHECK(m.type == MSHIP_QUERY && m.version == 2 && m.max_resp_ms == 10000 &&
	      m.group[0] == 0, "v2 query: version %u max resp %u", m.version, m.max_resp_ms);

	/* RFC 2236 §2.5: octets past the eighth are checksummed, then ignored */
	memcpy(longer, v2_report, 8);
	memset(longer + 8, 0xab, 4);
	fix_csum(4, longer, 12, NULL, NULL);
	CHECK(!parse(4, h4, dst4, longer, 12, &m, &why) && m.type == MSHIP_REPORT &&
	      m.version == 2, "a 12-byte v2 report: %s", why);
	/* but a query's length says its version: 9 to 11 are ignored */
	memcpy(longer, v2_query, 8);
	fix_csum(4, longer, 10, NULL, NULL);
	CHECK(parse(4, rt4, dst4, longer, 10, &m, &why) == -ENOMSG && why, "a 10-byte query");
}

static void t_igmp_errors(void)
{
	uint8_t b[8] = { 0x16, 0, 0xf8, 0xfa, 239, 1, 2, 3 }, c[8];
	static const uint8_t dvmrp[] = { 0x13, 0, 0, 0, 0, 0, 0, 0 };
	struct mship_msg m;
	const char *why;

	memcpy(c, b, 8);
	c[7] ^= 1;
	CHECK(parse(4, h4, dst4, c, 8, &m, &why) == -EBADMSG && !strcmp(why, "bad checksum"),
	      "flipped bit: %s", why);
	CHECK(parse(4, h4, dst4, b, 7, &m, &why) == -EBADMSG && !strcmp(why, "truncated"),
	      "7 bytes: %s", why);
	CHECK(parse(4, h4, dst4, b, 0, &m, &why) == -EBADMSG, "0 bytes");
	CHECK(parse(4, h4, dst4, dvmrp, 8, &m, &why) == -ENOMSG, "DVMRP: %s", why);
	/* a report for a unicast group */
	memcpy(c, b, 8);
	c[4] = 10;
	fix_csum(4, c, 8, NULL, NULL);
	CHECK(parse(4, h4, dst4, c, 8, &m, &why) == -EBADMSG, "report for 10.1.2.3");
	/* a query for one */
	c[0] = 0x11;
	fix_csum(4, c, 8, NULL, NULL);
	CHECK(parse(4, h4, dst4, c, 8, &m, &why) == -EBADMSG, "query for 10.1.2.3");
	CHECK(parse(5, h4, dst4, b, 8, &m, &why) == -EINVAL, "family 5");
}

static void t_igmp_v3_query(void)
{
	uint8_t q[] = {
		0x11, 100, 0, 0, 239, 1, 2, 3,
		0x0a /* S, QRV 2 */, 125, 0, 2,
		10, 0, 0, 1, 10, 0, 0, 2,
		0xee, 0xee,      /* additional data, ignored */
	};
	uint8_t g[16], s[16];
	struct mship_msg m;
	const char *why;

	fix_csum(4, q, sizeof(q), NULL, NULL);
	CHECK(!parse(4, rt4, dst4, q, sizeof(q), &m, &why), "v3 query: %s", why);
	A("239.1.2.3", g);
	CHECK(m.type == MSHIP_QUERY && m.version == 3 && !memcmp(m.group, g, 16) &&
	      m.max_resp_ms == 10000 && m.s_flag && m.qrv == 2 && m.qqi_s == 125 &&
	      m.nsrc == 2 && m.srcs == q + 12, "v3 query fields");
	mship_src_get(4, m.srcs, 1, s);
	CHECK(s[0] == 10 && s[3] == 2 && !s[4], "second source");

	/* exponential codes: 0x80 = 128 tenths, 0xff = 31744 seconds */
	q[1] = 0x80;
	q[9] = 0xff;
	fix_csum(4, q, sizeof(q), NULL, NULL);
	CHECK(!parse(4, rt4, dst4, q, sizeof(q), &m, &why) && m.max_resp_ms == 12800 &&
	      m.qqi_s == 31744, "codes: %u ms, %u s", m.max_resp_ms, m.qqi_s);

	/* one source more than there is */
	q[11] = 3;
	fix_csum(4, q, 20, NULL, NULL);
	CHECK(parse(4, rt4, dst4, q, 20, &m, &why) == -EBADMSG, "nsrc 3 in 20 bytes");
	q[11] = 0;
	memset(q + 4, 0, 4);
	fix_csum(4, q, 12, NULL, NULL);
	CHECK(!parse(4, rt4, dst4, q, 12, &m, &why) && m.nsrc == 0 && !m.group[0],
	      "12-byte general query: %s", why);
	q[11] = 1;
	fix_csum(4, q, 16, NULL, NULL);
	CHECK(parse(4, rt4, dst4, q, 16, &m, &why) == -EBADMSG, "general query with a source");
}

static void t_igmp_v3_report(void)
{
	uint8_t r[] = {
		0x22, 0, 0, 0, 0, 0, 0, 3,
		/* IS_IN 239.1.2.3 {10.0.0.1, 10.0.0.2} */
		1, 0, 0, 2, 239, 1, 2, 3, 10, 0, 0, 1, 10, 0, 0, 2,
		/* type 9 (unknown), one aux word, {10.0.0.3}, for a unicast
		 * address: nobody reads it */
		9, 1, 0, 1, 10, 9, 9, 9, 10, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef,
		/* BLOCK 239.4.5.6 {} */
		6, 0, 0, 0, 239, 4, 5, 6,
		/* additional data past the last record: ignored */
		0x55, 0x55,
	};
	uint8_t c[sizeof(r)], g[16];
	struct mship_rec_iter it;
	struct mship_rec rec;
	struct mship_msg m;
	const char *why;

	fix_csum(4, r, sizeof(r), NULL, NULL);
	CHECK(!parse(4, h4, dst4, r, sizeof(r), &m, &why), "v3 report: %s", why);
	CHECK(m.type == MSHIP_REPORT && m.version == 3 && m.nrec == 3 && m.recs == r + 8,
	      "v3 report fields");
	mship_records(&m, &it);
	CHECK(mship_next_record(&it, &rec), "first record");
	A("239.1.2.3", g);
	CHECK(rec.type == MSHIP_IS_IN && !memcmp(rec.group, g, 16) && rec.nsrc == 2 &&
	      rec.srcs == r + 16, "first record fields");
	CHECK(mship_next_record(&it, &rec), "second record");
	A("239.4.5.6", g);
	CHECK(rec.type == MSHIP_BLOCK && !memcmp(rec.group, g, 16) && rec.nsrc == 0,
	      "the unknown record was not skipped: type %u", rec.type);
	CHECK(!mship_next_record(&it, &rec), "a fourth record");

	/* lying counts: sources, aux words, records */
	memcpy(c, r, sizeof(r));
	c[11] = 4;           /* 4 sources where 2 (and 4 bytes of the next) are */
	fix_csum(4, c, 46, NULL, NULL);
	CHECK(parse(4, h4, dst4, c, 46, &m, &why) == -EBADMSG &&
	      !strcmp(why, "record runs past the end"), "nsrc 4: %s", why);
	memcpy(c, r, sizeof(r));
	c[25] = 5;           /* aux len 5 words: 20 bytes, runs past the end */
	fix_csum(4, c, sizeof(c), NULL, NULL);
	CHECK(parse(4, h4, dst4, c, sizeof(c), &m, &why) == -EBADMSG, "aux len 5");
	memcpy(c, r, sizeof(r));
	c[7] = 4;            /* 4 records, the 4th header is two bytes */
	fix_csum(4, c, sizeof(c), NULL, NULL);
	CHECK(parse(4, h4, dst4, c, sizeof(c), &m, &why) == -EBADMSG, "nrec 4");
	c[7] = 2;            /* fewer records than there are: the rest is data */
	fix_csum(4, c, sizeof(c), NULL, NULL);
	CHECK(!parse(4, h4, dst4, c, sizeof(c), &m, &why) && m.nrec == 2, "nrec 2: %s", why);
	/* a known record for a unicast group */
	memcpy(c, r, sizeof(r));
	c[12] = 10;
	fix_csum(4, c, sizeof(c), NULL, NULL);
	CHECK(parse(4, h4, dst4, c, sizeof(c), &m, &why) == -EBADMSG &&
	      !strcmp(why, "record for a non-multicast group"), "unicast record: %s", why);
	/* cut inside the last record header */
	fix_csum(4, r, 40, NULL, NULL);
	CHECK(parse(4, h4, dst4, r, 40, &m, &why) == -EBADMSG, "cut at 40");
	/* no records at all is a valid, empty report */
	memcpy(c, r, 8);
	c[7] = 0;
	fix_csum(4, c, 8, NULL, NULL);
	CHECK(!parse(4, h4, dst4, c, 8, &m, &why) && m.nrec == 0, "empty report");
}

static void t_mld_messages(void)
{
	uint8_t v1r[24] = { 131 }, v1d[24] = { 132 }, v1q[24] = { 130, 0, 0, 0, 0x27, 0x10 };
	uint8_t v2q[44] = { 130, 0, 0, 0, 0x80, 0x00 }, g[16], s[16], zero[16] = { 0 };
	uint8_t v2r[8 + 36 + 20 + 20] = { 143, 0, 0, 0, 0, 0, 0, 3 }, *p;
	struct mship_rec_iter it;
	struct mship_rec rec;
	struct mship_msg m;
	const char *why;

	A("ff05::1:3", g);
	A("2001:db8::1", s);
	memcpy(v1r + 8, g, 16);
	fix_csum(6, v1r, 24, h6, dst6);
	CHECK(!parse(6, h6, dst6, v1r, 24, &m, &why), "MLDv1 report: %s", why);
	CHECK(m.type == MSHIP_REPORT && m.version == 1 && m.family == 6 &&
	      !memcmp(m.group, g, 16) && !memcmp(m.src, h6, 16), "MLDv1 report fields");
	/* the pseudo-header counts: another destination, another checksum */
	CHECK(parse(6, h6, dst4, v1r, 24, &m, &why) == -EBADMSG &&
	      !strcmp(why, "bad checksum"), "checksum without the pseudo-header: %s", why);
	memcpy(v1d + 8, g, 16);
	fix_csum(6, v1d, 24, h6, dst6);
	CHECK(!parse(6, h6, dst6, v1d, 24, &m, &why) && m.type == MSHIP_LEAVE &&
	      m.version == 1, "MLDv1 done: %s", why);
	fix_csum(6, v1q, 24, h6, dst6);
	CHECK(!parse(6, h6, dst6, v1q, 24, &m, &why) && m.type == MSHIP_QUERY &&
	      m.version == 1 && m.max_resp_ms == 10000 && !memcmp(m.group, zero, 16),
	      "MLDv1 query: %s", why);

	memcpy(v2q + 8, g, 16);
	v2q[24] = 0x03;      /* QRV 3 */
	v2q[25] = 0x90;      /* QQIC: 16 << 4 = 256 s */
	v2q[27] = 1;
	memcpy(v2q + 28, s, 16);
	fix_csum(6, v2q, 44, h6, dst6);
	CHECK(!parse(6, h6, dst6, v2q, 44, &m, &why), "MLDv2 query: %s", why);
	CHECK(m.type == MSHIP_QUERY && m.version == 2 && m.max_resp_ms == 32768 &&
	      !m.s_flag && m.qrv == 3 && m.qqi_s == 256 && m.nsrc == 1 &&
	      m.srcs == v2q + 28, "MLDv2 query fields: %u ms %u s", m.max_resp_ms, m.qqi_s);
	/* RFC 3810 §8.1: 25 to 27 bytes are ignored */
	fix_csum(6, v2q, 26, h6, dst6);
	CHECK(parse(6, h6, dst6, v2q, 26, &m, &why) == -ENOMSG, "26-byte query");
	fix_csum(6, v2q, 43, h6, dst6);
	CHECK(parse(6, h6, dst6, v2q, 43, &m, &why) == -EBADMSG, "source cut short");

	/* TO_EX ff05::1:3 {2001:db8::1}; unknown type 7; IS_EX ff15::7 {} */
	p = v2r + 8;
	p[0] = 4;
	p[3] = 1;
	memcpy(p + 4, g, 16);
	memcpy(p + 20, s, 16);
	p += 36;
	p[0] = 7;
	memcpy(p + 4, g, 16);
	p += 20;
	p[0] = 2;
	A("ff15::7", p + 4);
	fix_csum(6, v2r, sizeof(v2r), h6, dst6);
	CHECK(!parse(6, h6, dst6, v2r, sizeof(v2r), &m, &why), "MLDv2 report: %s", why);
	CHECK(m.type == MSHIP_REPORT && m.version == 2 && m.nrec == 3, "MLDv2 report fields");
	mship_records(&m, &it);
	CHECK(mship_next_record(&it, &rec) && rec.type == MSHIP_TO_EX && rec.nsrc == 1 &&
	      !memcmp(rec.srcs, s, 16) && !memcmp(rec.group, g, 16), "first record");
	CHECK(mship_next_record(&it, &rec) && rec.type == MSHIP_IS_EX && rec.nsrc == 0 &&
	      rec.group[1] == 0x15, "third record");
	CHECK(!mship_next_record(&it, &rec), "more records");
	v2r[8 + 3] = 2;      /* the TO_EX record claims two sources */
	fix_csum(6, v2r, sizeof(v2r), h6, dst6);
	CHECK(parse(6, h6, dst6, v2r, sizeof(v2r), &m, &why) == -EBADMSG, "lying nsrc");
	v2r[8 + 3] = 1;
	v2r[8 + 4] = 0x20;   /* a record for a unicast address */
	fix_csum(6, v2r, sizeof(v2r), h6, dst6);
	CHECK(parse(6, h6, dst6, v2r, sizeof(v2r), &m, &why) == -EBADMSG, "unicast record");
}

static void t_mld_sources(void)
{
	uint8_t r[24] = { 131 }, q[24] = { 130 }, global[16], zero[16] = { 0 };
	uint8_t echo[8] = { 128 };
	struct mship_msg m;
	const char *why;

	A("2001:db8::5", global);
	A("ff05::1:3", r + 8);
	fix_csum(6, r, 24, global, dst6);
	CHECK(parse(6, global, dst6, r, 24, &m, &why) == -EBADMSG,
	      "report from a global address: %s", why);
	/* RFC 3810 §5.2.13: from :: it is valid, and ignored */
	fix_csum(6, r, 24, zero, dst6);
	CHECK(parse(6, zero, dst6, r, 24, &m, &why) == -ENOMSG, "report from ::");
	fix_csum(6, q, 24, zero, dst6);
	CHECK(parse(6, zero, dst6, q, 24, &m, &why) == -EBADMSG, "query from ::");
	fix_csum(6, q, 24, global, dst6);
	CHECK(parse(6, global, dst6, q, 24, &m, &why) == -EBADMSG, "query from global");
	fix_csum(6, echo, 8, h6, dst6);
	CHECK(parse(6, h6, dst6, echo, 8, &m, &why) == -ENOMSG, "echo request: %s", why);
	CHECK(parse(6, h6, dst6, r, 23, &m, &why) == -EBADMSG, "23-byte report");
}

static void t_ip_checks(void)
{
	struct mship_msg m = { .family = 4, .version = 2 };
	const char *why;

	CHECK(!mship_check_ip(&m, 1, false, &why), "IGMPv2 without router alert");
	CHECK(mship_check_ip(&m, 2, true, &why) == -EBADMSG, "IGMP TTL 2");
	m.version = 3;
	CHECK(mship_check_ip(&m, 1, false, &why) == -EBADMSG, "IGMPv3 without router alert");
	CHECK(!mship_check_ip(&m, 1, true, &why), "IGMPv3");
	m.family = 6;
	m.version = 1;
	CHECK(mship_check_ip(&m, 1, false, &why) == -EBADMSG, "MLD without router alert");
	CHECK(mship_check_ip(&m, 255, true, &why) == -EBADMSG, "MLD hop limit 255");
	CHECK(!mship_check_ip(&m, 1, true, &why), "MLD");
}

static void t_codes(void)
{
	uint32_t v, prev = 0;

	CHECK(mship_code8_encode(127) == 127 && mship_code8_decode(127) == 127, "127");
	CHECK(mship_code8_encode(128) == 0x80 && mship_code8_decode(0x80) == 128, "128");
	CHECK(mship_code8_encode(255) == 0x8f && mship_code8_decode(0x8f) == 248, "255");
	CHECK(mship_code8_encode(256) == 0x90, "256");
	CHECK(mship_code8_encode(31744) == 0xff && mship_code8_decode(0xff) == 31744, "31744");
	CHECK(mship_code8_encode(31743) == 0xfe && mship_code8_decode(0xfe) == 30720, "31743");
	CHECK(mship_code8_encode(100000) == 0xff, "beyond the largest");
	CHECK(mship_code16_encode(32767) == 32767, "32767");
	CHECK(mship_code16_encode(32768) == 0x8000 && mship_code16_decode(0x8000) == 32768,
	      "32768");
	CHECK(mship_code16_decode(0xffff) == 8191u << 10 &&
	      mship_code16_encode(8191u << 10) == 0xffff, "largest MLD code");
	/* every value: the code says at most the value, and more for more */
	for (v = 0; v < 40000; v++) {
		uint32_t d = mship_code8_decode(mship_code8_encode(v));

		CHECK(d <= v && d >= prev, "code8 of %u decodes to %u", v, d);
		CHECK(v >= 31744 || v < 128 || d > v - v / 16,
		      "code8 of %u loses too much: %u", v, d);
		prev = d;
	}
	for (prev = 0, v = 0; v < 9000000; v += 7) {
		uint32_t d = mship_code16_decode(mship_code16_encode(v));

		CHECK(d <= v && d >= prev, "code16 of %u decodes to %u", v, d);
		prev = d;
	}
}

static void t_build_roundtrip(void)
{
	uint8_t buf[1500], g[16], srcs[3 * 16], ip_dst[16], rt6[16];
	static const uint8_t general4[] = {
		0x11, 100, 0, 0, 0, 0, 0, 0, 0x02, 125, 0, 0,
	};
	uint8_t want[12];
	struct mship_msg m;
	const char *why;
	size_t n;

	/* the general query byte for byte */
	memcpy(want, general4, 12);
	fix_csum(4, want, 12, NULL, NULL);
	n = mship_build_query(4, buf, sizeof(buf), NULL, NULL, 0, 10000, false, 2, 125,
			      NULL, NULL);
	CHECK(n == 12 && !memcmp(buf, want, 12), "IGMPv3 general query bytes");
	CHECK(!parse(4, rt4, dst4, buf, n, &m, &why) && m.version == 3 &&
	      m.max_resp_ms == 10000 && m.qrv == 2 && m.qqi_s == 125 && !m.s_flag,
	      "general query back: %s", why);

	/* group-and-source-specific, S set, codes past 128 */
	A("239.1.2.3", g);
	memcpy(srcs, (uint8_t[]){ 10, 0, 0, 7, 10, 0, 0, 8, 10, 0, 0, 9 }, 12);
	n = mship_build_query(4, buf, sizeof(buf), g, srcs, 3, 12800, true, 9, 200,
			      NULL, NULL);
	CHECK(n == 24, "IGMP query size %zu", n);
	CHECK(!parse(4, rt4, dst4, buf, n, &m, &why) && !memcmp(m.group, g, 16) &&
	      m.nsrc == 3 && !memcmp(m.srcs, srcs, 12) && m.max_resp_ms == 12800 &&
	      m.s_flag && m.qrv == 0 && m.qqi_s == 200, "source query back: %s", why);
	CHECK(!mship_build_query(4, buf, 23, g, srcs, 3, 1000, false, 2, 125, NULL, NULL),
	      "23 bytes of room");
	/* a non-zero delay below 100 ms is not sent as "at once" */
	n = mship_build_query(4, buf, sizeof(buf), g, NULL, 0, 50, false, 2, 125, NULL, NULL);
	CHECK(n == 12 && buf[1] == 1, "50 ms: code %u", buf[1]);

	/* MLDv2, checksum over the pseudo-header */
	A("fe80::1", rt6);
	A("ff05::1:3", g);
	A("2001:db8::1", srcs);
	A("2001:db8::2", srcs + 16);
	mship_query_dst(6, g, ip_dst);
	CHECK(!memcmp(ip_dst, g, 16), "query destination is the group");
	n = mship_build_query(6, buf, sizeof(buf), g, srcs, 2, 70001, false, 2, 125, rt6,
			      ip_dst);
	CHECK(n == 60, "MLD query size %zu", n);
	CHECK(!parse(6, rt6, ip_dst, buf, n, &m, &why) && m.version == 2 &&
	      !memcmp(m.group, g, 16) && m.nsrc == 2 && !memcmp(m.srcs, srcs, 32) &&
	      m.max_resp_ms == 70000 && m.qqi_s == 125, "MLD query back: %s %u", why,
	      m.max_resp_ms);
	CHECK(parse(6, rt6, dst6, buf, n, &m, &why) == -EBADMSG, "other destination");
	mship_query_dst(6, NULL, ip_dst);
	CHECK(ip_dst[0] == 0xff && ip_dst[1] == 2 && ip_dst[15] == 1, "ff02::1");
	n = mship_build_query(6, buf, sizeof(buf), NULL, NULL, 0, 10000, false, 2, 125, rt6,
			      ip_dst);
	CHECK(n == 28 && !parse(6, rt6, ip_dst, buf, n, &m, &why) && !m.group[0] &&
	      m.max_resp_ms == 10000, "MLD general query back");
	mship_query_dst(4, NULL, ip_dst);
	CHECK(ip_dst[0] == 224 && ip_dst[3] == 1, "224.0.0.1");
}

/* ---- the router side: a clock, callbacks, and hosts ---------------------- */

struct query {
	uint8_t family;
	bool general;
	uint8_t group[16];
	unsigned int nsrc;
	uint8_t srcs[MSHIP_MAX_SOURCES][16];
	uint32_t max_resp_ms;
	bool s_flag;
	uint8_t qrv;
	uint32_t qqi_s;
	uint64_t at;
};

#define MAXQ 256

static struct env {
	struct mship *m;
	struct mship_params p;
	uint64_t now;
	struct query q[MAXQ];
	unsigned int nq;
	unsigned int nchanged;
	uint8_t changed_group[16];
	uint8_t changed_filter;       /* as lookup read it from the callback */
	bool deny;                    /* allowed() refuses 239.9.0.0/16 */
	bool reenter;                 /* callbacks try to call back in */
} E;

static bool cb_allowed(void *ctx, uint8_t family, const uint8_t group[16])
{
	struct env *e = ctx;

	return !(e->deny && family == 4 && group[0] == 239 && group[1] == 9);
}

static void cb_changed(void *ctx, uint8_t family, const uint8_t group[16])
{
	struct env *e = ctx;
	struct mship_group_info gi;
	struct mship_msg nothing = { .family = family, .type = MSHIP_QUERY };

	e->nchanged++;
	memcpy(e->changed_group, group, 16);
	mship_lookup(e->m, e->now, family, group, &gi);
	e->changed_filter = gi.filter;
	if (e->reenter) {
		/* refused while the tables are mid-walk */
		mship_tick(e->m, e->now + S(100000));
		mship_input(e->m, e->now, &nothing);
		mship_free(e->m);
	}
}

static void cb_query(void *ctx, uint8_t family, const uint8_t *group, const uint8_t *srcs,
		     unsigned int nsrc, uint32_t max_resp_ms, bool s_flag, uint8_t qrv,
		     uint32_t qqi_s)
{
	struct env *e = ctx;
	struct query *q;
	unsigned int i;

	if (e->nq == MAXQ) {
		NOTE("more than %d queries", MAXQ);
		return;
	}
	q = &e->q[e->nq++];
	memset(q, 0, sizeof(*q));
	q->family = family;
	q->general = !group;
	if (group)
		memcpy(q->group, group, 16);
	q->nsrc = nsrc;
	for (i = 0; i < nsrc && i < MSHIP_MAX_SOURCES; i++)
		mship_src_get(family, srcs, i, q->srcs[i]);
	q->max_resp_ms = max_resp_ms;
	q->s_flag = s_flag;
	q->qrv = qrv;
	q->qqi_s = qqi_s;
	q->at = e->now;
}

static int start(void)
{
	struct mship_ops ops = {
		.allowed = cb_allowed, .changed = cb_changed, .send_query = cb_query, .ctx = &E,
	};

	return mship_new(&E.p, &ops, &E.m);
}

static void set_addr(const char *a)
{
	uint8_t x[16];

	A(a, x);
	mship_set_addr(E.m, E.now, fam_of(a), x);
}

/* Time goes on to t, with a tick at every deadline on the way. */
static void advance_to(uint64_t t)
{
	unsigned int guard = 0;

	for (;;) {
		uint64_t d = mship_next_deadline(E.m);

		if (d > t)
			break;
		if (d > E.now)
			E.now = d;
		mship_tick(E.m, E.now);
		if (++guard > 1000000) {
			NOTE("the deadline does not move on from %llu", (unsigned long long)d);
			break;
		}
	}
	E.now = t;
}

static void advance(uint64_t dt)
{
	advance_to(E.now + dt);
}

static void rx(uint8_t family, const char *from, uint8_t *msg, size_t len)
{
	uint8_t src[16], dst[16];
	const char *why = NULL;
	int r;

	A(from, src);
	A(family == 4 ? "224.0.0.22" : "ff02::16", dst);
	fix_csum(family, msg, len, src, dst);
	advance_to(E.now);
	r = mship_receive(E.m, E.now, family, src, dst, 1, true, msg, len, &why);
	if (r)
		NOTE("mship_receive from %s: %d %s", from, r, why ? why : "");
}

/* IGMPv1/v2 report or leave; MLDv1 report or done (type of IGMP). */
static void old_msg(uint8_t igmp_type, const char *host, const char *group)
{
	uint8_t b[24] = { 0 };

	if (fam_of(group) == 4) {
		b[0] = igmp_type;
		A(group, b + 8);
		memmove(b + 4, b + 8, 4);
		rx(4, host, b, 8);
	} else {
		b[0] = igmp_type == 0x17 ? 132 : 131;
		A(group, b + 8);
		rx(6, host, b, 24);
	}
}

static void join1(const char *host, const char *group) { old_msg(0x12, host, group); }
static void join2(const char *host, const char *group) { old_msg(0x16, host, group); }
static void leave2(const char *host, const char *group) { old_msg(0x17, host, group); }

/* A v3/MLDv2 report of one record; srcs a comma-separated list. */
static void v3(const char *host, uint8_t type, const char *group, const char *srcs)
{
	uint8_t b[4096] = { 0 }, *r, a[16];
	uint8_t family = fam_of(group);
	unsigned int n = 0, alen = family == 4 ? 4 : 16;
	char list[2048], *tok, *save = NULL;

	b[0] = family == 4 ? 0x22 : 143;
	b[7] = 1;
	r = b + 8;
	r[0] = type;
	A(group, a);
	memcpy(r + 4, a, alen);
	snprintf(list, sizeof(list), "%s", srcs);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		A(tok, a);
		memcpy(r + 4 + alen + n * alen, a, alen);
		n++;
	}
	put16(r + 2, n);
	rx(family, host, b, 8 + 4 + alen + n * alen);
}

/* A query from another router: version 2 (IGMP) / 1 (MLD), or the newest
 * with S, QRV and QQIC as given. */
static void query_from(const char *from, bool old, const char *group, const char *srcs,
		       bool s_flag, uint8_t qrv, uint8_t qqic)
{
	uint8_t b[1024] = { 0 }, a[16];
	uint8_t family = fam_of(from);
	unsigned int n = 0, alen = family == 4 ? 4 : 16, hdr = family == 4 ? 12 : 28;
	char list[512], *tok, *save = NULL;

	if (family == 4) {
		b[0] = 0x11;
		b[1] = 100;
		if (group) {
			A(group, a);
			memcpy(b + 4, a, 4);
		}
		if (old) {
			rx(4, from, b, 8);
			return;
		}
		b[8] = (s_flag ? 8 : 0) | qrv;
		b[9] = qqic;
	} else {
		b[0] = 130;
		put16(b + 4, 10000);
		if (group)
			A(group, b + 8);
		if (old) {
			rx(6, from, b, 24);
			return;
		}
		b[24] = (s_flag ? 8 : 0) | qrv;
		b[25] = qqic;
	}
	snprintf(list, sizeof(list), "%s", srcs ? srcs : "");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		A(tok, a);
		memcpy(b + hdr + n * alen, a, alen);
		n++;
	}
	put16(b + hdr - 2, n);
	rx(family, from, b, hdr + n * alen);
}

static struct mship_group_info gi;

static uint8_t filter(const char *group)
{
	uint8_t g[16];

	A(group, g);
	mship_lookup(E.m, E.now, fam_of(group), g, &gi);
	return gi.filter;
}

static bool gi_has(const char *src)
{
	uint8_t a[16];
	unsigned int i;

	A(src, a);
	for (i = 0; i < gi.nsrc; i++)
		if (!memcmp(gi.srcs[i], a, 16))
			return true;
	return false;
}

static bool wants(const char *group, const char *src)
{
	uint8_t g[16], s[16];

	A(group, g);
	A(src, s);
	return mship_wants(E.m, fam_of(group), g, s);
}

/* Queries sent for the group (NULL: general ones). */
static unsigned int nqueries(const char *group)
{
	uint8_t g[16];
	unsigned int i, n = 0;

	if (group)
		A(group, g);
	for (i = 0; i < E.nq; i++)
		if (group ? !E.q[i].general && !memcmp(E.q[i].group, g, 16) : E.q[i].general)
			n++;
	return n;
}

static struct mship_querier_info qinfo(uint8_t family)
{
	struct mship_querier_info qi;

	mship_querier_info(E.m, E.now, family, &qi);
	return qi;
}

#define GMI     S(260)           /* 2 x 125 s + 10 s */
#define LMQT    S(1)             /* 2 x 0.5 s */
#define G1      "239.1.1.1"
#define H1      "10.0.0.5"
#define H2      "10.0.0.6"
#define S1      "192.0.2.1"
#define S2      "192.0.2.2"
#define S3      "192.0.2.3"

static void t_join_wanted(void)
{
	CHECK(!start(), "mship_new");
	CHECK(filter(G1) == MSHIP_NONE, "present before any report");
	join2(H1, G1);
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.nsrc == 0 && gi.compat == 2 &&
	      gi.reports == 1, "after a v2 report: filter %u compat %u", gi.filter, gi.compat);
	CHECK(gi.timer_ns == GMI, "group timer %llu", (unsigned long long)gi.timer_ns);
	CHECK(E.nchanged == 1 && E.changed_filter == MSHIP_EXCLUDE, "changed %u times",
	      E.nchanged);
	CHECK(wants(G1, S1) && !wants("239.1.1.2", S1), "wants");
	CHECK(E.nq == 0, "a query without an address");
	CHECK(qinfo(4).groups == 1 && qinfo(4).stats.reports == 1 && qinfo(6).groups == 0,
	      "counters");
}

static void t_refresh_and_expiry(void)
{
	CHECK(!start(), "mship_new");
	join2(H1, G1);
	advance(S(200));
	join2(H1, G1);                   /* refreshes: GMI from now */
	advance(S(259));
	CHECK(filter(G1) == MSHIP_EXCLUDE, "gone 459 s after the first report");
	CHECK(E.nchanged == 1, "changed %u times by a refresh", E.nchanged);
	advance(S(1) - 1);
	CHECK(filter(G1) == MSHIP_EXCLUDE, "gone 1 ns before GMI");
	advance(1);
	CHECK(filter(G1) == MSHIP_NONE, "still there at GMI");
	CHECK(E.nchanged == 2 && E.changed_filter == MSHIP_NONE, "removal not told");
	CHECK(mship_allocs(E.m) == 0 && qinfo(4).groups == 0, "allocations left: %lu",
	      mship_allocs(E.m));
	CHECK(mship_next_deadline(E.m) == UINT64_MAX, "a deadline with nothing to do");
}

static void t_leave_queries_removed(void)
{
	uint64_t t;

	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	advance(S(1));
	E.nq = 0;
	join2(H1, G1);
	leave2(H1, G1);
	t = E.now;
	CHECK(nqueries(G1) == 1 && E.q[0].at == t && !E.q[0].s_flag && E.q[0].nsrc == 0 &&
	      E.q[0].max_resp_ms == 500, "first Q(G): %u queries", nqueries(G1));
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.timer_ns == LMQT, "timer not lowered to LMQT");
	advance(MS(499));
	CHECK(nqueries(G1) == 1, "second Q(G) early");
	advance(MS(1));
	CHECK(nqueries(G1) == 2 && E.q[1].at == t + MS(500) && !E.q[1].s_flag,
	      "second Q(G), LMQI later");
	advance(MS(499));
	CHECK(filter(G1) == MSHIP_EXCLUDE, "gone before LMQT");
	advance(MS(1));
	CHECK(filter(G1) == MSHIP_NONE, "there after LMQT");
	advance(S(10));
	CHECK(nqueries(G1) == 2 && mship_allocs(E.m) == 0, "more Q(G) or memory left");
}

static void t_leave_answered_kept(void)
{
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	advance(S(1));
	E.nq = 0;
	join2(H1, G1);
	join2(H2, G1);
	leave2(H1, G1);
	CHECK(nqueries(G1) == 1, "no Q(G)");
	/* the other member answers the query */
	advance(MS(200));
	join2(H2, G1);
	advance(MS(300));
	CHECK(nqueries(G1) == 2 && E.q[1].s_flag, "second Q(G) without the S flag");
	advance(S(2));
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.timer_ns > S(250), "the group is gone");
	CHECK(nqueries(G1) == 2, "more Q(G)");
}

static void t_include_block(void)
{
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	advance(S(1));
	E.nq = 0;
	v3(H1, MSHIP_IS_IN, G1, S1 "," S2);
	CHECK(filter(G1) == MSHIP_INCLUDE && gi.nsrc == 2 && gi_has(S1) && gi_has(S2),
	      "INCLUDE {S1,S2}");
	CHECK(wants(G1, S1) && !wants(G1, S3), "wants");
	E.nchanged = 0;
	v3(H1, MSHIP_BLOCK, G1, S1);
	CHECK(E.nq == 1 && E.q[0].nsrc == 1 && !E.q[0].s_flag && !E.q[0].general, "Q(G,S1)");
	CHECK(E.nchanged == 0 && filter(G1) == MSHIP_INCLUDE && gi.nsrc == 2,
	      "BLOCK took S1 away at once");
	{
		uint8_t s1[16];

		A(S1, s1);
		CHECK(!memcmp(E.q[0].srcs[0], s1, 16), "the query names another source");
	}
	advance(MS(500));
	CHECK(E.nq == 2 && E.q[1].nsrc == 1, "Q(G,S1) retransmission");
	advance(MS(500));
	CHECK(filter(G1) == MSHIP_INCLUDE && gi.nsrc == 1 && gi_has(S2),
	      "after LMQT: %u sources", gi.nsrc);
	CHECK(E.nchanged == 1 && !wants(G1, S1) && wants(G1, S2), "S1 still wanted");
	advance(GMI);
	CHECK(filter(G1) == MSHIP_NONE && mship_allocs(E.m) == 0, "S2 did not time out");
}

static void t_source_query_split(void)
{
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	advance(S(1));
	v3(H1, MSHIP_IS_IN, G1, S1 "," S2);
	E.nq = 0;
	v3(H1, MSHIP_BLOCK, G1, S1 "," S2);
	CHECK(E.nq == 1 && E.q[0].nsrc == 2 && !E.q[0].s_flag, "Q(G,{S1,S2})");
	/* another host still wants S1: its timer goes back up */
	advance(MS(100));
	v3(H2, MSHIP_ALLOW, G1, S1);
	advance(MS(400));
	CHECK(E.nq == 3, "%u queries in the second round", E.nq - 1);
	CHECK(E.q[1].s_flag && E.q[1].nsrc == 1 && !E.q[2].s_flag && E.q[2].nsrc == 1,
	      "S set for S1, clear for S2");
	advance(S(1));
	CHECK(filter(G1) == MSHIP_INCLUDE && gi.nsrc == 1 && gi_has(S1), "S1 only");
}

static void t_exclude_forwarding(void)
{
	CHECK(!start(), "mship_new");
	v3(H1, MSHIP_IS_EX, G1, S1);
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.nsrc == 1 && gi_has(S1), "EXCLUDE {S1}");
	CHECK(!wants(G1, S1) && wants(G1, S2), "wants");
	E.nchanged = 0;
	/* another host asks for S1 by name: EXCLUDE({S1} requested, {}) */
	v3(H2, MSHIP_IS_IN, G1, S1);
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.nsrc == 0 && gi.nrequested == 1,
	      "EXCLUDE with S1 requested: %u excluded", gi.nsrc);
	CHECK(E.nchanged == 1 && wants(G1, S1), "S1 not forwarded");
	/* GMI later without reports: S1's timer and the group's run out
	 * together, and nothing is left */
	advance(GMI);
	CHECK(filter(G1) == MSHIP_NONE, "group left: %u", gi.filter);
}

static void t_to_in_in_exclude(void)
{
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	advance(S(1));
	v3(H1, MSHIP_IS_EX, G1, "");
	v3(H2, MSHIP_ALLOW, G1, S1);   /* X = {S1} */
	E.nq = 0;
	v3(H1, MSHIP_TO_IN, G1, "");
	/* Q(G,X-A) = Q(G,{S1}) and Q(G), both with the S flag clear */
	CHECK(E.nq == 2, "%u queries", E.nq);
	CHECK(nqueries(G1) == 2 && (E.q[0].nsrc == 1) != (E.q[1].nsrc == 1) &&
	      !E.q[0].s_flag && !E.q[1].s_flag, "Q(G,{S1}) and Q(G)");
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.timer_ns == LMQT, "group timer not at LMQT");
	advance(LMQT);
	CHECK(filter(G1) == MSHIP_NONE, "still there: filter %u, %u sources", gi.filter,
	      gi.nsrc);

	/* the host that wants S1 answers: INCLUDE {S1} is what is left */
	v3(H1, MSHIP_IS_EX, G1, "");
	v3(H2, MSHIP_ALLOW, G1, S1);
	v3(H1, MSHIP_TO_IN, G1, "");
	advance(MS(300));
	v3(H2, MSHIP_IS_IN, G1, S1);
	advance(S(2));
	CHECK(filter(G1) == MSHIP_INCLUDE && gi.nsrc == 1 && gi_has(S1),
	      "INCLUDE {S1}: filter %u, %u sources", gi.filter, gi.nsrc);
}

static void t_v2_compat(void)
{
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	advance(S(1));
	join2(H1, G1);
	v3(H2, MSHIP_TO_EX, G1, S1);          /* TO_EX({S1}) read as TO_EX({}) */
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.nsrc == 0 && gi.nrequested == 0 &&
	      gi.compat == 2, "TO_EX kept its source in v2 mode");
	v3(H2, MSHIP_BLOCK, G1, S2);          /* ignored */
	CHECK(nqueries(G1) == 0 && filter(G1) == MSHIP_EXCLUDE && gi.nsrc == 0 &&
	      gi.nrequested == 0, "BLOCK was not ignored");
	/* v3 reports alone: v2 mode ends the older host present interval
	 * after the last v2 report */
	advance(S(200));
	v3(H2, MSHIP_IS_EX, G1, S1);
	advance(S(60));
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.compat == 3, "compat %u after 260 s",
	      gi.compat);
	v3(H2, MSHIP_BLOCK, G1, S2);          /* now it counts */
	CHECK(nqueries(G1) == 1 && E.q[E.nq - 1].nsrc == 1, "BLOCK in v3 mode: %u queries",
	      nqueries(G1));
}

static void t_v1_compat(void)
{
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	advance(S(1));
	join1(H1, G1);
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.compat == 1, "compat %u", gi.compat);
	E.nq = 0;
	leave2(H2, G1);                       /* ignored in v1 mode */
	CHECK(E.nq == 0 && filter(G1) == MSHIP_EXCLUDE && gi.timer_ns == GMI,
	      "a leave was heard in v1 mode");
	join2(H2, G1);                        /* v1 still rules */
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.compat == 1, "compat %u", gi.compat);
	CHECK(qinfo(4).stats.leaves == 1 && qinfo(4).stats.reports == 2, "counters");
}

static void t_querier_startup(void)
{
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	CHECK(qinfo(4).querier && !qinfo(6).querier, "querier state");
	advance(0);
	CHECK(E.nq == 1 && E.q[0].general && E.q[0].at == T0 && E.q[0].max_resp_ms == 10000 &&
	      E.q[0].qrv == 2 && E.q[0].qqi_s == 125 && !E.q[0].s_flag && E.q[0].family == 4,
	      "first general query");
	advance(MS(31250) - 1);
	CHECK(E.nq == 1, "second startup query early");
	advance(1);
	CHECK(E.nq == 2 && E.q[1].at == T0 + MS(31250), "second startup query");
	advance(S(125) - 1);
	CHECK(E.nq == 2, "third query early: startup count is 2");
	advance(1);
	CHECK(E.nq == 3 && E.q[2].at == T0 + MS(31250) + S(125), "query interval");
	advance(S(125));
	CHECK(E.nq == 4 && qinfo(4).stats.queries_sent == 4, "%u queries", E.nq);
}

static void t_querier_election(void)
{
	uint64_t t;

	CHECK(!start(), "mship_new");
	set_addr("10.0.0.5");
	advance(S(1));
	E.nq = 0;
	/* a higher address does not stop us, nor a snooping switch's 0.0.0.0 */
	query_from("10.0.0.9", false, NULL, NULL, false, 2, 125);
	CHECK(qinfo(4).querier && !qinfo(4).other_present, "stepped down for a higher address");
	query_from("0.0.0.0", false, NULL, NULL, false, 2, 125);
	CHECK(qinfo(4).querier && !qinfo(4).other_present, "stepped down for 0.0.0.0");
	/* a lower one does, and its QRV 3 and QQI 60 s are adopted */
	query_from("10.0.0.2", false, NULL, NULL, false, 3, 60);
	t = E.now;
	CHECK(!qinfo(4).querier && qinfo(4).other_present && qinfo(4).other[3] == 2,
	      "did not step down");
	CHECK(qinfo(4).robustness == 3 && qinfo(4).query_interval_ms == 60000,
	      "adopted %u, %u ms", qinfo(4).robustness, qinfo(4).query_interval_ms);
	/* other querier present interval: 3 x 60 s + 10 s / 2 */
	advance(S(185) - 1);
	CHECK(E.nq == 0, "queried while another querier was present");
	advance(1);
	CHECK(qinfo(4).querier && E.nq == 1 && E.q[0].at == t + S(185) && E.q[0].general,
	      "did not come back after 185 s");
	CHECK(qinfo(4).robustness == 2 && E.q[0].qrv == 2 && E.q[0].qqi_s == 125,
	      "kept the other querier's values");
	advance(S(125));
	CHECK(E.nq == 2, "query interval after coming back");
	/* the other querier keeps talking: we stay silent */
	query_from("10.0.0.2", false, NULL, NULL, false, 0, 0);
	advance(S(100));
	query_from("10.0.0.2", true, NULL, NULL, false, 0, 0);   /* a v2 one counts too */
	advance(S(200));
	CHECK(E.nq == 2 && !qinfo(4).querier, "queried with the querier talking");
	CHECK(qinfo(4).stats.queries_heard == 5 && qinfo(4).stats.queries_old == 1,
	      "counters %llu %llu", (unsigned long long)qinfo(4).stats.queries_heard,
	      (unsigned long long)qinfo(4).stats.queries_old);
	/* MLD is another election */
	set_addr("fe80::5");
	advance(0);
	CHECK(qinfo(6).querier && E.nq == 3 && E.q[2].family == 6, "MLD querier");
}

static void t_querier_modes(void)
{
	E.p.querier = MSHIP_QUERIER_OFF;
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	join2(H1, G1);
	leave2(H1, G1);
	advance(S(1000));
	CHECK(E.nq == 0 && !qinfo(4).querier, "mode off sent %u queries", E.nq);
	mship_free(E.m);
	E.m = NULL;

	E.p.querier = MSHIP_QUERIER_ON;
	E.nq = 0;
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.5");
	advance(S(1));
	query_from("10.0.0.2", false, NULL, NULL, false, 3, 60);
	advance(S(400));
	CHECK(qinfo(4).querier && qinfo(4).robustness == 2 && E.nq >= 4,
	      "mode on yielded: %u queries", E.nq);
}

static void t_non_querier_lowers(void)
{
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.5");
	query_from("10.0.0.2", false, NULL, NULL, false, 2, 125);
	join2(H1, G1);
	E.nq = 0;
	leave2(H1, G1);
	CHECK(E.nq == 0 && filter(G1) == MSHIP_EXCLUDE && gi.timer_ns == GMI,
	      "a non-querier acted on a leave");
	/* the querier's Q(G) with S set changes nothing, with S clear it
	 * lowers the group timer */
	query_from("10.0.0.2", false, G1, NULL, true, 2, 125);
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.timer_ns == GMI, "S set lowered the timer");
	query_from("10.0.0.2", false, G1, NULL, false, 2, 125);
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.timer_ns == LMQT, "S clear: %llu ns",
	      (unsigned long long)gi.timer_ns);
	advance(LMQT);
	CHECK(filter(G1) == MSHIP_NONE && E.nq == 0, "still there");

	/* Q(G,S) lowers the named sources */
	v3(H1, MSHIP_IS_IN, G1, S1 "," S2);
	query_from("10.0.0.2", false, G1, S1, false, 2, 125);
	advance(LMQT);
	CHECK(filter(G1) == MSHIP_INCLUDE && gi.nsrc == 1 && gi_has(S2), "Q(G,S1)");
}

/* In EXCLUDE mode, sources new to a TO_EX or BLOCK take the group timer
 * (RFC 3376 §6.4.2, (A-X-Y)=Group Timer), not GMI: seen by a non-querier,
 * which sends no query that would lower them anyway. */
static void t_exclude_new_sources_group_timer(void)
{
	CHECK(!start(), "mship_new");
	set_addr("10.0.0.5");
	query_from("10.0.0.2", false, NULL, NULL, false, 2, 125);
	v3(H1, MSHIP_IS_EX, G1, "");
	v3(H1, MSHIP_IS_EX, "239.1.1.2", "");
	advance(S(200));                      /* the group timers have 60 s left */
	v3(H2, MSHIP_TO_EX, G1, S1 "," S2);
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.nsrc == 0 && gi.nrequested == 2 &&
	      gi.timer_ns == GMI, "EXCLUDE({S1,S2}, {}): %u/%u", gi.nsrc, gi.nrequested);
	v3(H2, MSHIP_BLOCK, "239.1.1.2", S3);
	v3(H2, MSHIP_IS_EX, "239.1.1.2", S3); /* keeps S3's timer, group timer GMI */
	CHECK(filter("239.1.1.2") == MSHIP_EXCLUDE && gi.nsrc == 0 && gi.nrequested == 1 &&
	      gi.timer_ns == GMI, "EXCLUDE({S3}, {})");
	advance(S(60));
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.nsrc == 2 && gi_has(S1) && gi_has(S2),
	      "TO_EX: S1 and S2 not excluded 60 s later: %u", gi.nsrc);
	CHECK(!wants(G1, S1) && wants(G1, S3), "wants");
	CHECK(filter("239.1.1.2") == MSHIP_EXCLUDE && gi.nsrc == 1 && gi_has(S3),
	      "BLOCK: S3 not excluded 60 s later");
}

static void t_bounds(void)
{
	char g[32], srcs[80 * 16];
	unsigned int i;

	E.p.max_groups = 4;
	E.deny = true;
	CHECK(!start(), "mship_new");
	for (i = 0; i < 6; i++) {
		snprintf(g, sizeof(g), "239.1.1.%u", i + 1);
		join2(H1, g);
	}
	CHECK(qinfo(4).groups == 4 && qinfo(4).stats.refused_max_groups == 2,
	      "%u groups, %llu refused", qinfo(4).groups,
	      (unsigned long long)qinfo(4).stats.refused_max_groups);
	CHECK(filter("239.1.1.5") == MSHIP_NONE, "a fifth group");
	join2("fe80::5", "ff05::1");
	CHECK(qinfo(6).groups == 0 && qinfo(6).stats.refused_max_groups == 1,
	      "max_groups is for both families");
	advance(GMI);
	CHECK(mship_allocs(E.m) == 0, "memory left");

	join2(H1, "239.9.1.1");
	v3(H1, MSHIP_IS_EX, "239.9.1.2", "");
	CHECK(filter("239.9.1.1") == MSHIP_NONE && qinfo(4).stats.refused_not_allowed == 2 &&
	      E.nchanged == 8, "a refused group was made");

	join2(H1, "224.0.0.251");
	v3(H1, MSHIP_IS_EX, "224.0.0.252", "");
	join2("fe80::5", "ff02::fb");
	v3("fe80::5", MSHIP_IS_EX, "ff12::1", "");
	v3("fe80::5", MSHIP_IS_EX, "ff01::1", "");
	CHECK(mship_allocs(E.m) == 0 && qinfo(4).stats.ignored_link_local == 2 &&
	      qinfo(6).stats.ignored_link_local == 3, "a link-local group was made");

	/* 70 sources: more than a group keeps, so everything is forwarded */
	srcs[0] = 0;
	for (i = 0; i < 70; i++)
		snprintf(srcs + strlen(srcs), sizeof(srcs) - strlen(srcs), "%s192.0.2.%u",
			 i ? "," : "", i + 1);
	v3(H1, MSHIP_IS_IN, G1, srcs);
	CHECK(filter(G1) == MSHIP_EXCLUDE && gi.nsrc == 0 && gi.timer_ns == GMI &&
	      qinfo(4).stats.src_overflows == 1, "70 sources: filter %u, %u sources",
	      gi.filter, gi.nsrc);
	CHECK(wants(G1, "192.0.2.200"), "not everything forwarded");
	/* 64 is fine, the 65th overflows */
	srcs[0] = 0;
	for (i = 0; i < 64; i++)
		snprintf(srcs + strlen(srcs), sizeof(srcs) - strlen(srcs), "%s198.51.100.%u",
			 i ? "," : "", i + 1);
	v3(H1, MSHIP_ALLOW, "239.1.1.2", srcs);
	CHECK(filter("239.1.1.2") == MSHIP_INCLUDE && gi.nsrc == 64, "64 sources");
	v3(H1, MSHIP_ALLOW, "239.1.1.2", "198.51.100.200");
	CHECK(filter("239.1.1.2") == MSHIP_EXCLUDE && gi.nsrc == 0 &&
	      qinfo(4).stats.src_overflows == 2, "the 65th");
	advance(GMI);
	CHECK(mship_allocs(E.m) == 0 && qinfo(4).groups == 0, "memory left");
}

static void t_mld_state(void)
{
	CHECK(!start(), "mship_new");
	set_addr("fe80::1");
	set_addr("10.0.0.1");
	advance(S(1));
	join2("fe80::5", "ff05::1:3");        /* MLDv1 */
	CHECK(filter("ff05::1:3") == MSHIP_EXCLUDE && gi.compat == 1 && gi.family == 6,
	      "MLDv1 report");
	E.nq = 0;
	v3("fe80::6", MSHIP_BLOCK, "ff05::1:3", "2001:db8::1");  /* ignored in v1 mode */
	CHECK(E.nq == 0, "BLOCK in MLDv1 mode");
	v3("fe80::6", MSHIP_IS_IN, "ff05::2", "2001:db8::1,2001:db8::2");
	v3("fe80::6", MSHIP_BLOCK, "ff05::2", "2001:db8::2");
	CHECK(E.nq == 1 && E.q[0].family == 6 && E.q[0].nsrc == 1 && E.q[0].srcs[0][15] == 2,
	      "MLD Q(G,S)");
	advance(LMQT);
	CHECK(filter("ff05::2") == MSHIP_INCLUDE && gi.nsrc == 1 && gi.srcs[0][15] == 1,
	      "ff05::2 sources");
	leave2("fe80::5", "ff05::1:3");      /* done */
	advance(LMQT);
	CHECK(filter("ff05::1:3") == MSHIP_NONE, "done did not end it");
	query_from("fe80::1", false, NULL, NULL, false, 2, 125);
	CHECK(qinfo(6).querier && qinfo(6).stats.queries_heard == 0, "our own query heard");
	query_from("fe80::9", false, NULL, NULL, false, 2, 125);
	CHECK(qinfo(6).querier, "a higher address stopped us");
	/* a lower MLD querier (fe80:: itself) stops MLD queries only */
	query_from("fe80::", false, NULL, NULL, false, 2, 125);
	CHECK(!qinfo(6).querier && qinfo(4).querier, "MLD querier %d, IGMP querier %d",
	      qinfo(6).querier, qinfo(4).querier);
}

static void t_iterate_recheck(void)
{
	struct mship_iter it = { 0 };
	unsigned int n = 0;

	CHECK(!start(), "mship_new");
	join2(H1, "239.9.0.1");
	join2(H1, "239.9.0.2");
	join2(H1, G1);
	join2("fe80::5", "ff05::1");
	while (mship_next_group(E.m, E.now, &it, &gi))
		n++;
	CHECK(n == 4, "%u groups iterated", n);
	E.deny = true;
	E.nchanged = 0;
	mship_recheck(E.m);
	CHECK(E.nchanged == 2 && E.changed_filter == MSHIP_NONE && filter("239.9.0.1") ==
	      MSHIP_NONE && filter(G1) == MSHIP_EXCLUDE, "recheck");
	memset(&it, 0, sizeof(it));
	for (n = 0; mship_next_group(E.m, E.now, &it, &gi); n++)
		;
	CHECK(n == 2, "%u groups after recheck", n);
}

static void t_receive_refuses(void)
{
	uint8_t b[8] = { 0x16, 0, 0, 0, 239, 1, 1, 1 }, src[16], dst[16];
	const char *why;

	CHECK(!start(), "mship_new");
	A(H1, src);
	A(G1, dst);
	CHECK(mship_receive(E.m, E.now, 4, src, dst, 1, true, b, 8, &why) == -EBADMSG,
	      "bad checksum taken");
	fix_csum(4, b, 8, NULL, NULL);
	CHECK(mship_receive(E.m, E.now, 4, src, dst, 2, true, b, 8, &why) == -EBADMSG,
	      "TTL 2 taken");
	CHECK(qinfo(4).stats.bad == 2 && filter(G1) == MSHIP_NONE, "bad not counted");
	CHECK(!mship_receive(E.m, E.now, 4, src, dst, 1, false, b, 8, &why) &&
	      filter(G1) == MSHIP_EXCLUDE, "a good one refused");
}

static void t_reentry_refused(void)
{
	CHECK(!start(), "mship_new");
	E.reenter = true;
	join2(H1, G1);
	advance(GMI);
	E.reenter = false;
	CHECK(E.nchanged == 2 && filter(G1) == MSHIP_NONE, "changed %u", E.nchanged);
}

static void t_params(void)
{
	struct mship *m;

	E.p.query_interval_ms = 150500;       /* QQIC says 144 s at most */
	E.p.last_member_interval_ms = 250;
	CHECK(!start(), "mship_new");
	CHECK(qinfo(4).query_interval_ms == 144000, "QI %u", qinfo(4).query_interval_ms);
	set_addr("10.0.0.1");
	advance(0);
	v3(H1, MSHIP_IS_IN, G1, S1);
	v3(H1, MSHIP_BLOCK, G1, S1);
	CHECK(E.nq == 2 && E.q[0].qqi_s == 144 && E.q[1].max_resp_ms == 200,
	      "queries say %u s, %u ms", E.q[0].qqi_s, E.q[1].max_resp_ms);
	mship_params_default(&E.p);
	E.p.robustness = 0;
	CHECK(mship_new(&E.p, NULL, &m) == -EINVAL && !m, "robustness 0");
	mship_params_default(&E.p);
	E.p.query_response_interval_ms = 125000;
	CHECK(mship_new(&E.p, NULL, &m) == -EINVAL, "QRI = QI");
	mship_params_default(&E.p);
	E.p.query_interval_ms = 130000;       /* 128 s, below ... */
	E.p.query_response_interval_ms = 129000;   /* ... 128.0 s */
	CHECK(mship_new(&E.p, NULL, &m) == -EINVAL, "QRI = QI once rounded");
	mship_params_default(&E.p);
	E.p.max_groups = 0;
	CHECK(mship_new(&E.p, NULL, &m) == -EINVAL, "max_groups 0");
}

/* Both families, many groups and sources, then silence: all of it goes. */
static void t_memory_returns(void)
{
	char g[64], s[64];
	unsigned int i;

	CHECK(!start(), "mship_new");
	set_addr("10.0.0.1");
	set_addr("fe80::1");
	for (i = 0; i < 40; i++) {
		snprintf(g, sizeof(g), "239.2.0.%u", i);
		snprintf(s, sizeof(s), "192.0.2.%u,192.0.2.%u", i, i + 100);
		v3(H1, i % 3 ? MSHIP_IS_IN : MSHIP_IS_EX, g, s);
		snprintf(g, sizeof(g), "ff05::2:%x", i);
		snprintf(s, sizeof(s), "2001:db8::%x", i);
		v3("fe80::9", i % 2 ? MSHIP_ALLOW : MSHIP_TO_EX, g, s);
		if (i % 5 == 0)
			join2(H2, "239.3.0.1");
	}
	CHECK(mship_allocs(E.m) > 80, "%lu allocations", mship_allocs(E.m));
	v3(H1, MSHIP_BLOCK, "239.2.0.1", "192.0.2.1");
	v3("fe80::9", MSHIP_TO_IN, "ff05::2:0", "");
	advance(S(3600));
	CHECK(mship_allocs(E.m) == 0 && qinfo(4).groups == 0 && qinfo(6).groups == 0,
	      "%lu allocations left", mship_allocs(E.m));
}

/* ---- main ---------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "igmp_v1_v2_messages", t_igmp_v1_v2 },
	{ "igmp_errors", t_igmp_errors },
	{ "igmp_v3_query", t_igmp_v3_query },
	{ "igmp_v3_report", t_igmp_v3_report },
	{ "mld_messages", t_mld_messages },
	{ "mld_source_rules", t_mld_sources },
	{ "ip_header_checks", t_ip_checks },
	{ "exponential_codes", t_codes },
	{ "build_roundtrip", t_build_roundtrip },
	{ "join_wanted", t_join_wanted },
	{ "refresh_and_gmi_expiry", t_refresh_and_expiry },
	{ "leave_queries_then_removed", t_leave_queries_removed },
	{ "leave_answered_kept", t_leave_answered_kept },
	{ "include_block_source", t_include_block },
	{ "source_query_s_flag_split", t_source_query_split },
	{ "exclude_forwarding", t_exclude_forwarding },
	{ "to_in_in_exclude", t_to_in_in_exclude },
	{ "v2_compat_block_ignored", t_v2_compat },
	{ "v1_compat_leave_ignored", t_v1_compat },
	{ "querier_startup", t_querier_startup },
	{ "querier_election", t_querier_election },
	{ "querier_modes_off_on", t_querier_modes },
	{ "non_querier_lowers_timers", t_non_querier_lowers },
	{ "exclude_new_sources_group_timer", t_exclude_new_sources_group_timer },
	{ "bounds_and_policy", t_bounds },
	{ "mld_state", t_mld_state },
	{ "iterate_and_recheck", t_iterate_recheck },
	{ "receive_refuses_bad", t_receive_refuses },
	{ "callbacks_cannot_reenter", t_reentry_refused },
	{ "memory_returns_to_zero", t_memory_returns },
	{ "params_checked_and_rounded", t_params },
};

int main(void)
{
	unsigned int i;

	A("10.0.0.5", h4);
	A("10.0.0.1", rt4);
	A("224.0.0.22", dst4);
	A("fe80::5", h6);
	A("ff02::16", dst6);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&E, 0, sizeof(E));
		mship_params_default(&E.p);
		E.now = T0;
		unit_run(cases[i].name, cases[i].fn);
		mship_free(E.m);
	}
	return unit_summary("unit_mship");
}
