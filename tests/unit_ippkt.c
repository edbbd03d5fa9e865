// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/lib/ippkt.c, the whole IPv4/IPv6 UDP packets that
 * --keep-source sends through a header-included raw socket: every packet
 * of a datagram is built, then read back here byte by byte (no code of
 * ippkt.c or csum.c is used to read them), its fragments reassembled, and
 * the UDP checksum worked out again by a plain RFC 1071 sum written here.
 * No network, no root.
 *
 * Prints "ok - NAME" or "not ok - NAME: why" per case and a last line
 * "unit_ippkt: N ok, M not ok"; exits 0 only when none failed.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ippkt.h"
#include "mctun.h"
#include "unit.h"

/* ---- the harness --------------------------------------------------------- */

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "unit_ippkt: out of memory\n");
		exit(2);
	}
	return p;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* Bytes no one can mistake for a header or a shifted copy of themselves. */
static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 12345u, i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

/* ---- the reference checksum (RFC 1071, RFC 768, RFC 8200 §8.1) ------------ */

/* The one's complement sum of the pseudo-header and the UDP datagram udp
 * (header included, its checksum field as it is), folded. */
static uint16_t ref_sum(int v6, const uint8_t *src, const uint8_t *dst, const uint8_t *udp,
			uint32_t ulen)
{
	uint8_t ph[40];
	size_t n;

	memset(ph, 0, sizeof(ph));
	if (v6) {
		memcpy(ph, src, 16);
		memcpy(ph + 16, dst, 16);
		ph[32] = (uint8_t)(ulen >> 24);
		ph[33] = (uint8_t)(ulen >> 16);
		ph[34] = (uint8_t)(ulen >> 8);
		ph[35] = (uint8_t)ulen;
		ph[39] = 17;
		n = 40;
	} else {
		memcpy(ph, src, 4);
		memcpy(ph + 4, dst, 4);
		ph[9] = 17;
		ph[10] = (uint8_t)(ulen >> 8);
		ph[11] = (uint8_t)ulen;
		n = 12;
	}
	/* at most 65,535 + 40 bytes: 32 bits hold the sum unfolded */
	return ref_fold(ref_add(ref_add(0, ph, n), udp, ulen));
}

/* The checksum the datagram should carry, before 0 becomes 0xffff. */
static uint16_t ref_csum_raw(const struct ippkt_udp *d, const uint8_t *payload, uint32_t len)
{
	uint8_t *u = xmalloc(len + 8);
	uint16_t c;

	u[0] = (uint8_t)(d->sport >> 8);
	u[1] = (uint8_t)d->sport;
	u[2] = (uint8_t)(d->dport >> 8);
	u[3] = (uint8_t)d->dport;
	u[4] = (uint8_t)((len + 8) >> 8);
	u[5] = (uint8_t)(len + 8);
	u[6] = u[7] = 0;
	if (len)
		memcpy(u + 8, payload, len);
	c = (uint16_t)~ref_sum(d->family == MCTUN_FAM_INET6, d->src, d->dst, u, len + 8);
	free(u);
	return c;
}

static uint16_t ref_csum(const struct ippkt_udp *d, const uint8_t *payload, uint32_t len)
{
	uint16_t c = ref_csum_raw(d, payload, len);

	return c ? c : 0xffff;
}

/* What ippkt_udp_csum() returned, as the two bytes it puts on the wire
 * (the module keeps it in memory order, for memcpy into the header). */
static uint16_t wire16(uint16_t v)
{
	uint8_t b[2];

	memcpy(b, &v, 2);
	return get16(b);
}

/* ---- the expectations, worked out apart from the module ------------------ */

static uint32_t max_payload(int v6) { return v6 ? 65527 : 65507; }

/* Bytes of the UDP datagram in each fragment but the last. */
static uint32_t room(int v6, uint32_t mtu)
{
	uint32_t r = mtu - (v6 ? 48 : 20);

	return r - r % 8;
}

static unsigned int want_count(int v6, uint32_t mtu, uint32_t len)
{
	uint64_t whole = (uint64_t)len + 8;

	if (mtu < (v6 ? 1280u : 68u) || len > max_payload(v6))
		return 0;
	if ((v6 ? 40 : 20) + whole <= mtu)
		return 1;
	return (unsigned int)((whole + room(v6, mtu) - 1) / room(v6, mtu));
}

/* ---- building and reading back ------------------------------------------- */

static uint8_t src4[16], dst4[16], src6[16], dst6[16];

static void datagram(struct ippkt_udp *d, int v6, uint32_t mtu)
{
	memset(d, 0, sizeof(*d));
	d->family = v6 ? MCTUN_FAM_INET6 : MCTUN_FAM_INET;
	d->ttl = 7;
	d->tos = 0xb8;                   /* EF: not symmetric in its nibbles */
	d->sport = 0x1234;               /* nor the ports in their bytes */
	d->dport = 0xabcd;
	memcpy(d->src, v6 ? src6 : src4, 16);
	memcpy(d->dst, v6 ? dst6 : dst4, 16);
	d->id = 0x89abcdef;              /* distinct bytes, low 16 bits nonzero */
	d->mtu = mtu;
}

/* Reads packet k (pkt, size bytes) of d's datagram of count packets: its IP
 * header(s) checked, its share of the UDP datagram copied to whole at the
 * offset it says. *next is where the previous fragment ended; *id the
 * identification of the first fragment. */
static int read_packet(const struct ippkt_udp *d, unsigned int count, unsigned int k,
		       const uint8_t *pkt, size_t size, uint8_t *whole, uint32_t wlen,
		       uint32_t *next, uint32_t *id)
{
	int v6 = d->family == MCTUN_FAM_INET6, frag = count > 1, last = k + 1 == count, more;
	uint32_t off, n, fid, hlen;
	const uint8_t *h = pkt;

	if (!v6) {
		hlen = 20;
		CHECK_R(size >= hlen, "packet %u: %zu bytes", k, size);
		CHECK_R(h[0] == 0x45, "packet %u: version/IHL 0x%02x", k, h[0]);
		CHECK_R(h[1] == d->tos, "packet %u: TOS 0x%02x", k, h[1]);
		CHECK_R(get16(h + 2) == size, "packet %u: total length %u, %zu bytes", k,
			get16(h + 2), size);
		fid = get16(h + 4);
		CHECK_R(!(h[6] & 0x80), "packet %u: reserved flag", k);
		CHECK_R(!(h[6] & 0x40), "packet %u: DF set", k);
		more = !!(h[6] & 0x20);
		off = (uint32_t)(get16(h + 6) & 0x1fff) * 8;
		CHECK_R(h[8] == d->ttl, "packet %u: TTL %u", k, h[8]);
		CHECK_R(h[9] == 17, "packet %u: protocol %u", k, h[9]);
		CHECK_R(get16(h + 10) == 0, "packet %u: IP checksum 0x%04x, not left to the kernel",
			k, get16(h + 10));
		CHECK_R(!memcmp(h + 12, d->src, 4) && !memcmp(h + 16, d->dst, 4),
			"packet %u: addresses", k);
		if (!frag) {
			CHECK_R(fid == 0, "whole datagram: id 0x%04x, not 0 (the kernel's)", fid);
		} else {
			CHECK_R(fid == (d->id & 0xffff), "packet %u: id 0x%04x, want 0x%04x", k, fid,
				d->id & 0xffff);
			CHECK_R(fid != 0, "packet %u: id 0 in a fragment", k);
		}
	} else {
		CHECK_R(size >= 40, "packet %u: %zu bytes", k, size);
		CHECK_R(h[0] >> 4 == 6, "packet %u: version %u", k, h[0] >> 4);
		CHECK_R((get32(h) >> 20 & 0xff) == d->tos, "packet %u: traffic class 0x%02x", k,
			get32(h) >> 20 & 0xff);
		CHECK_R((get32(h) & 0xfffff) == 0, "packet %u: flow label 0x%05x", k,
			get32(h) & 0xfffff);
		CHECK_R(get16(h + 4) + 40u == size, "packet %u: payload length %u, %zu bytes", k,
			get16(h + 4), size);
		CHECK_R(h[7] == d->ttl, "packet %u: hop limit %u", k, h[7]);
		CHECK_R(!memcmp(h + 8, d->src, 16) && !memcmp(h + 24, d->dst, 16),
			"packet %u: addresses", k);
		if (!frag) {
			CHECK_R(h[6] == 17, "whole datagram: next header %u", h[6]);
			hlen = 40;
			more = 0;
			off = 0;
			fid = 0;
		} else {
			CHECK_R(h[6] == 44, "packet %u: next header %u, want a fragment header", k,
				h[6]);
			CHECK_R(size >= 48, "packet %u: %zu bytes", k, size);
			hlen = 48;
			CHECK_R(h[40] == 17, "packet %u: fragment header's next header %u", k, h[40]);
			CHECK_R(h[41] == 0, "packet %u: fragment header reserved 0x%02x", k, h[41]);
			CHECK_R((h[43] & 6) == 0, "packet %u: fragment header Res bits", k);
			off = get16(h + 42) & 0xfff8;          /* 13 bits of 8-byte units */
			more = h[43] & 1;
			fid = get32(h + 44);
			CHECK_R(fid == d->id, "packet %u: id 0x%08x, want 0x%08x", k, fid, d->id);
		}
	}
	n = (uint32_t)size - hlen;
	if (k == 0)
		*id = fid;
	CHECK_R(fid == *id, "packet %u: id 0x%x, the first had 0x%x", k, fid, *id);
	CHECK_R(off == *next, "packet %u: offset %u, the previous ended at %u", k, off, *next);
	CHECK_R(off % 8 == 0, "packet %u: offset %u", k, off);
	CHECK_R(more == !last, "packet %u of %u: MF %d", k, count, more);
	CHECK_R(n > 0, "packet %u: no data", k);
	if (!last)
		CHECK_R(n % 8 == 0, "packet %u: %u bytes of data, not a multiple of 8", k, n);
	if (frag && !last)
		/* nothing wasted: every fragment but the last as full as the MTU allows */
		CHECK_R(n == room(v6, d->mtu), "packet %u: %u bytes of data, want %u", k, n,
			room(v6, d->mtu));
	CHECK_R((uint64_t)off + n <= wlen, "packet %u: data to %u, the datagram has %u", k,
		off + n, wlen);
	memcpy(whole + off, pkt + hlen, n);
	*next = off + n;
	return 0;
}

/* Builds every packet of d's datagram of len bytes of payload and reads
 * them back: 0 when all is as it should be. d->csum is set here. */
static int build_and_check(struct ippkt_udp *d, const uint8_t *payload, uint32_t len)
{
	int v6 = d->family == MCTUN_FAM_INET6;
	unsigned int count, k;
	uint32_t max, wlen = len + 8, next = 0, id = 0;
	uint8_t *whole, *pkt;
	uint16_t want;
	size_t size;
	int err = -1;

	count = ippkt_count(d, len);
	CHECK_R(count == want_count(v6, d->mtu, len), "ippkt_count %u, want %u", count,
		want_count(v6, d->mtu, len));
	CHECK_R(count > 0, "count 0");
	want = ref_csum(d, payload, len);
	d->csum = ippkt_udp_csum(d, payload, len);
	CHECK_R(wire16(d->csum) == want, "ippkt_udp_csum 0x%04x, want 0x%04x",
		wire16(d->csum), want);
	max = ippkt_max(d, len);
	CHECK_R(max <= d->mtu, "ippkt_max %u beyond the MTU %u", max, d->mtu);
	CHECK_R(max >= (v6 ? 40u : 20u) + (count > 1 ? 8 : wlen), "ippkt_max %u", max);
	/* exactly max bytes: under valgrind, a byte written past it shows */
	pkt = xmalloc(max);
	whole = xmalloc(wlen);
	memset(whole, 0x5a, wlen);
	for (k = 0; k < count; k++) {
		/* what ippkt_build() leaves alone is garbage, not zero */
		memset(pkt, 0xa5, max);
		size = ippkt_build(d, payload, len, k, pkt);
		if (size > max) {
			NOTE("packet %u: %zu bytes, ippkt_max %u", k, size, max);
			goto out;
		}
		if (read_packet(d, count, k, pkt, size, whole, wlen, &next, &id))
			goto out;
	}
	if (next != wlen) {
		NOTE("the fragments end at %u of %u", next, wlen);
		goto out;
	}
	if (get16(whole) != d->sport || get16(whole + 2) != d->dport ||
	    get16(whole + 4) != wlen) {
		NOTE("UDP header: ports %u %u, length %u", get16(whole),
		     get16(whole + 2), get16(whole + 4));
		goto out;
	}
	if (get16(whole + 6) != want) {
		NOTE("UDP checksum 0x%04x, want 0x%04x", get16(whole + 6), want);
		goto out;
	}
	/* as a receiver checks it: all of it summed, the checksum too, is ~0 */
	if (ref_sum(v6, d->src, d->dst, whole, wlen) != 0xffff) {
		NOTE("the received datagram sums to 0x%04x",
		     ref_sum(v6, d->src, d->dst, whole, wlen));
		goto out;
	}
	if (len && memcmp(whole + 8, payload, len)) {
		for (k = 0; k < len && whole[8 + k] == payload[k]; k++)
			;
		NOTE("payload differs from byte %u", k);
		goto out;
	}
	err = 0;
out:
	free(pkt);
	free(whole);
	return err;
}

/* ---- the cases ------------------------------------------------------------ */

/* One (family, MTU, payload length): built, read back, reassembled. */
static int cur_v6;
static uint32_t cur_mtu, cur_len;

static void t_datagram(void)
{
	struct ippkt_udp d;
	uint8_t *payload = xmalloc(cur_len);

	datagram(&d, cur_v6, cur_mtu);
	fill(payload, cur_len, cur_len ^ cur_mtu ^ (uint32_t)cur_v6 << 20);
	build_and_check(&d, payload, cur_len);
	free(payload);
}

/* The reference sum itself, on sums worked out by hand and by another
 * program: so that it and the module cannot be wrong together. */
static void t_reference_csum(void)
{
	struct ippkt_udp d;
	uint8_t p[255];
	unsigned int i;

	datagram(&d, 0, 1500);
	A("192.0.2.1", d.src);
	A("192.0.2.2", d.dst);
	d.sport = 1;
	d.dport = 2;
	/* c000+0201+c000+0202+0011+0008 + 0001+0002+0008 = 18427 -> 8428 -> ~ 7bd7 */
	CHECK(ref_csum(&d, NULL, 0) == 0x7bd7, "empty: 0x%04x", ref_csum(&d, NULL, 0));
	CHECK(wire16(ippkt_udp_csum(&d, NULL, 0)) == 0x7bd7, "module, empty: 0x%04x",
	      wire16(ippkt_udp_csum(&d, NULL, 0)));
	CHECK(ref_csum(&d, (const uint8_t *)"abc", 3) == 0xb76e, "\"abc\": 0x%04x",
	      ref_csum(&d, (const uint8_t *)"abc", 3));
	CHECK(wire16(ippkt_udp_csum(&d, "abc", 3)) == 0xb76e, "module, \"abc\": 0x%04x",
	      wire16(ippkt_udp_csum(&d, "abc", 3)));
	datagram(&d, 1, 1500);
	A("2001:db8::1", d.src);
	A("ff02::1", d.dst);
	d.sport = 1;
	d.dport = 2;
	CHECK(ref_csum(&d, (const uint8_t *)"abc", 3) == 0x0eb5, "IPv6 \"abc\": 0x%04x",
	      ref_csum(&d, (const uint8_t *)"abc", 3));
	CHECK(wire16(ippkt_udp_csum(&d, "abc", 3)) == 0x0eb5, "module, IPv6 \"abc\": 0x%04x",
	      wire16(ippkt_udp_csum(&d, "abc", 3)));
	d.sport = 0x1234;
	d.dport = 0xabcd;
	for (i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)i;
	CHECK(ref_csum(&d, p, sizeof(p)) == 0x53e0, "IPv6 0..254: 0x%04x",
	      ref_csum(&d, p, sizeof(p)));
	CHECK(wire16(ippkt_udp_csum(&d, p, sizeof(p))) == 0x53e0, "module, IPv6 0..254: 0x%04x",
	      wire16(ippkt_udp_csum(&d, p, sizeof(p))));
}

/* Every length from 0 to 300, odd ones included, from an odd address too,
 * in both families: the module's checksum is the reference's. */
static void t_csum_lengths(void)
{
	uint8_t buf[302];
	struct ippkt_udp d;
	uint32_t len;
	int v6, a;

	fill(buf, sizeof(buf), 77);
	for (v6 = 0; v6 < 2; v6++)
		for (a = 0; a < 2; a++)
			for (len = 0; len <= 300; len++) {
				datagram(&d, v6, 1500);
				d.sport = (uint16_t)(len * 7919);
				CHECK(wire16(ippkt_udp_csum(&d, buf + a, len)) ==
				      ref_csum(&d, buf + a, len),
				      "IPv%d, %u bytes at +%d: 0x%04x, want 0x%04x", v6 ? 6 : 4, len,
				      a, wire16(ippkt_udp_csum(&d, buf + a, len)),
				      ref_csum(&d, buf + a, len));
			}
}

/* A datagram whose checksum comes to 0 carries 0xffff (RFC 768: 0 says
 * "none"). Two payload bytes are chosen so that the sum is all ones. */
static int csum_zero(int v6, uint32_t mtu, uint32_t len, uint32_t at)
{
	struct ippkt_udp d;
	uint8_t *p = xmalloc(len);
	uint16_t s, w;
	int err = -1;

	datagram(&d, v6, mtu);
	fill(p, len, len + at);
	p[at] = p[at + 1] = 0;
	/* the 16-bit word at the even offset at completes the sum to 0xffff */
	s = (uint16_t)~ref_csum_raw(&d, p, len);
	w = (uint16_t)(0xffff - s);
	p[at] = (uint8_t)(w >> 8);
	p[at + 1] = (uint8_t)w;
	if (ref_csum_raw(&d, p, len) != 0) {
		NOTE("the test's own payload: checksum 0x%04x, not 0",
		     ref_csum_raw(&d, p, len));
		goto out;
	}
	if (ippkt_udp_csum(&d, p, len) != 0xffff) {
		NOTE("IPv%d, %u bytes: ippkt_udp_csum 0x%04x, want 0xffff", v6 ? 6 : 4,
		     len, wire16(ippkt_udp_csum(&d, p, len)));
		goto out;
	}
	err = build_and_check(&d, p, len);
out:
	free(p);
	return err;
}

static void t_csum_zero(void)
{
	CHECK(!csum_zero(0, 1500, 100, 10), "IPv4 whole");
	CHECK(!csum_zero(0, 1500, 101, 20), "IPv4 whole, odd length");
	CHECK(!csum_zero(0, 576, 4001, 3000), "IPv4 fragmented");
	CHECK(!csum_zero(1, 1500, 100, 10), "IPv6 whole");
	CHECK(!csum_zero(1, 1280, 4001, 3000), "IPv6 fragmented, odd length");
}

/* Beyond the largest payload, at any MTU, or below the least MTU: 0. */
static void t_cannot(void)
{
	static const uint32_t mtu4[] = { 68, 576, 1500, 9000, 65535, 65536, 100000 };
	static const uint32_t mtu6[] = { 1280, 1500, 9000, 65535, 65536, 100000 };
	static const uint32_t huge[] = { 65536, 65536 + 1000, 0x7fffffff, 0xfffffff7,
					 0xfffffff8, 0xfffffffc, 0xffffffff };
	struct ippkt_udp d;
	unsigned int i, j;

	for (i = 0; i < sizeof(mtu4) / sizeof(mtu4[0]); i++) {
		datagram(&d, 0, mtu4[i]);
		CHECK(ippkt_count(&d, 65507) > 0, "IPv4 MTU %u: 65,507 bytes refused", mtu4[i]);
		CHECK(ippkt_count(&d, 65508) == 0, "IPv4 MTU %u: 65,508 bytes, count %u", mtu4[i],
		      ippkt_count(&d, 65508));
		for (j = 0; j < sizeof(huge) / sizeof(huge[0]); j++)
			CHECK(ippkt_count(&d, huge[j]) == 0, "IPv4 MTU %u: %u bytes, count %u",
			      mtu4[i], huge[j], ippkt_count(&d, huge[j]));
	}
	for (i = 0; i < sizeof(mtu6) / sizeof(mtu6[0]); i++) {
		datagram(&d, 1, mtu6[i]);
		CHECK(ippkt_count(&d, 65527) > 0, "IPv6 MTU %u: 65,527 bytes refused", mtu6[i]);
		CHECK(ippkt_count(&d, 65528) == 0, "IPv6 MTU %u: 65,528 bytes, count %u", mtu6[i],
		      ippkt_count(&d, 65528));
		for (j = 0; j < sizeof(huge) / sizeof(huge[0]); j++)
			CHECK(ippkt_count(&d, huge[j]) == 0, "IPv6 MTU %u: %u bytes, count %u",
			      mtu6[i], huge[j], ippkt_count(&d, huge[j]));
	}
	for (i = 0; i < 68; i++) {
		datagram(&d, 0, i);
		CHECK(ippkt_count(&d, 0) == 0 && ippkt_count(&d, 1000) == 0,
		      "IPv4 MTU %u: count %u", i, ippkt_count(&d, 0));
	}
	for (i = 0; i < 1280; i++) {
		datagram(&d, 1, i);
		CHECK(ippkt_count(&d, 0) == 0 && ippkt_count(&d, 1000) == 0,
		      "IPv6 MTU %u: count %u", i, ippkt_count(&d, 0));
	}
	/* the least MTUs themselves do */
	datagram(&d, 0, 68);
	CHECK(ippkt_count(&d, 0) == 1 && ippkt_count(&d, 40) == 1 && ippkt_count(&d, 41) == 2,
	      "IPv4 MTU 68");
	datagram(&d, 1, 1280);
	CHECK(ippkt_count(&d, 0) == 1 && ippkt_count(&d, 1232) == 1 &&
	      ippkt_count(&d, 1233) == 2, "IPv6 MTU 1280");
}

/* Counts worked out by hand, not by the formula the other cases share. */
static void t_known_counts(void)
{
	static const struct {
		int v6;
		uint32_t mtu, len;
		unsigned int count, max;
	} k[] = {
		/* 4008 bytes of UDP in 1480-byte pieces */
		{ 0, 1500, 4000, 3, 1500 },
		{ 0, 1500, 1472, 1, 1500 },
		{ 0, 1500, 1473, 2, 1500 },
		/* 556 -> 552 bytes a fragment: 4008 / 552 = 7.3 */
		{ 0, 576, 4000, 8, 572 },
		/* 48 bytes a fragment: 65,515 / 48 = 1364.9 */
		{ 0, 68, 65507, 1365, 68 },
		{ 0, 68, 40, 1, 68 },
		{ 0, 68, 41, 2, 68 },
		{ 0, 68, 0, 1, 28 },
		/* 1499: 1479 -> 1472 a fragment */
		{ 0, 1499, 1471, 1, 1499 },
		{ 0, 1499, 1472, 2, 1492 },
		{ 0, 65536, 65507, 1, 65535 },
		/* 1232 a fragment: 65,535 / 1232 = 53.2 */
		{ 1, 1280, 65527, 54, 1280 },
		{ 1, 1280, 1232, 1, 1280 },
		{ 1, 1280, 1233, 2, 1280 },
		{ 1, 1500, 4000, 3, 1496 },
		{ 1, 1500, 1452, 1, 1500 },
		{ 1, 1500, 7, 1, 55 },
		/* 65,536 - 48 = 65,488 a fragment */
		{ 1, 65536, 65488, 1, 65536 },
		{ 1, 65536, 65489, 2, 65536 },
		{ 1, 65536, 65527, 2, 65536 },
	};
	struct ippkt_udp d;
	unsigned int i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		datagram(&d, k[i].v6, k[i].mtu);
		CHECK(ippkt_count(&d, k[i].len) == k[i].count && ippkt_max(&d, k[i].len) == k[i].max,
		      "IPv%d MTU %u, %u bytes: count %u max %u, want %u and %u",
		      k[i].v6 ? 6 : 4, k[i].mtu, k[i].len, ippkt_count(&d, k[i].len),
		      ippkt_max(&d, k[i].len), k[i].count, k[i].max);
	}
}

/* The 16 or 32 bits of d->id as they are, and a whole datagram's IPv4 id
 * left 0 whatever d->id says; packet bytes past the returned length are
 * not written. */
static void t_ids_and_extent(void)
{
	static const uint32_t ids[] = { 1, 0xffff, 0x12340001, 0xfffffffe, 0x80000000 };
	struct ippkt_udp d;
	uint8_t payload[3000], pkt[1600];
	unsigned int i, j;
	size_t size;

	fill(payload, sizeof(payload), 5);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		datagram(&d, 1, 1280);
		d.id = ids[i];
		CHECK(!build_and_check(&d, payload, sizeof(payload)), "IPv6 id 0x%08x", ids[i]);
		/* IPv4 fragments need 16 nonzero bits: the caller's to choose so */
		if (!(ids[i] & 0xffff))
			continue;
		datagram(&d, 0, 1500);
		d.id = ids[i];
		CHECK(!build_and_check(&d, payload, sizeof(payload)), "IPv4 id 0x%08x", ids[i]);
		memset(pkt, 0xa5, sizeof(pkt));
		size = ippkt_build(&d, payload, sizeof(payload), 1, pkt);
		CHECK(get16(pkt + 4) == (ids[i] & 0xffff), "IPv4 id 0x%04x for 0x%08x",
		      get16(pkt + 4), ids[i]);
		for (j = (unsigned int)size; j < sizeof(pkt); j++)
			CHECK(pkt[j] == 0xa5, "byte %u written, the packet has %zu", j, size);
		CHECK(!build_and_check(&d, payload, 100), "IPv4 whole, id 0x%08x", ids[i]);
	}
	/* IPv6: 0 is an id like any other */
	datagram(&d, 1, 1280);
	d.id = 0;
	CHECK(!build_and_check(&d, payload, sizeof(payload)), "IPv6 id 0");
}

/* TTL/hop limit and TOS/traffic class at their extremes. */
static void t_header_values(void)
{
	static const uint8_t v[] = { 0, 1, 0x0f, 0xf0, 0xfc, 0xff };
	struct ippkt_udp d;
	uint8_t payload[2000];
	unsigned int i;
	int v6;

	fill(payload, sizeof(payload), 9);
	for (v6 = 0; v6 < 2; v6++)
		for (i = 0; i < sizeof(v); i++) {
			datagram(&d, v6, 1280);
			d.ttl = v[i];
			d.tos = v[sizeof(v) - 1 - i];
			d.sport = v[i] * 0x101u;
			d.dport = 0;
			CHECK(!build_and_check(&d, payload, sizeof(payload)),
			      "IPv%d TTL %u TOS 0x%02x", v6 ? 6 : 4, d.ttl, d.tos);
		}
}

/* ---- main ---------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "reference_checksum", t_reference_csum },
	{ "checksum_every_length", t_csum_lengths },
	{ "checksum_zero_is_ffff", t_csum_zero },
	{ "cannot_send", t_cannot },
	{ "known_counts", t_known_counts },
	{ "ids_and_extent", t_ids_and_extent },
	{ "header_values", t_header_values },
};

int main(void)
{
	static const struct {
		int v6;
		uint32_t mtu;
	} links[] = {
		{ 0, 1500 }, { 0, 576 }, { 0, 68 }, { 0, 1499 }, { 0, 65536 },
		{ 1, 1500 }, { 1, 1280 }, { 1, 1283 }, { 1, 9000 }, { 1, 65536 },
	};
	uint32_t lens[10], fit, r;
	unsigned int i, j, l, n;
	char name[96];

	A("192.0.2.10", src4);
	A("239.1.2.3", dst4);
	A("2001:db8::10", src6);
	A("ff15::1:3", dst6);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		unit_run(cases[i].name, cases[i].fn);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cur_v6 = links[i].v6;
		cur_mtu = links[i].mtu;
		fit = cur_mtu - (cur_v6 ? 48 : 28);
		r = room(cur_v6, cur_mtu);
		if (fit > max_payload(cur_v6))
			fit = max_payload(cur_v6);
		n = 0;
		lens[n++] = 0;
		lens[n++] = 1;
		lens[n++] = 7;
		lens[n++] = fit;
		lens[n++] = fit + 1;
		lens[n++] = 4000;
		lens[n++] = 2 * r - 8;          /* two full fragments */
		lens[n++] = 2 * r - 8 + 1;      /* and a third of one byte */
		lens[n++] = max_payload(cur_v6);
		for (j = 0; j < n; j++) {
			cur_len = lens[j];
			if (cur_len > max_payload(cur_v6))
				continue;
			for (l = 0; l < j && lens[l] != cur_len; l++)
				;
			if (l < j)
				continue;       /* said already */
			snprintf(name, sizeof(name), "ipv%d_mtu%u_len%u", cur_v6 ? 6 : 4, cur_mtu,
				 cur_len);
			unit_run(name, t_datagram);
		}
	}
	return unit_summary("unit_ippkt");
}
