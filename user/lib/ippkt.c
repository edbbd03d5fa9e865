// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <netinet/in.h>
#include <string.h>

#include "csum.h"
#include "ippkt.h"
#include "mctun.h"

#define IP4_HLEN   20u
#define IP6_HLEN   40u
#define FRAG6_HLEN 8u
#define UDP_HLEN   8u

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }

static int v6(const struct ippkt_udp *d) { return d->family == MCTUN_FAM_INET6; }

uint16_t ippkt_udp_csum(const struct ippkt_udp *d, const void *payload, uint32_t len)
{
	unsigned int alen = v6(d) ? 16 : 4;
	uint8_t udp[UDP_HLEN] = { 0 };
	uint16_t c;

	put16(udp, d->sport);
	put16(udp + 2, d->dport);
	put16(udp + 4, (uint16_t)(len + UDP_HLEN));
	c = csum_finish(csum_add(csum_add(csum_pseudo(alen, d->src, d->dst, len + UDP_HLEN,
						      IPPROTO_UDP), udp, sizeof(udp)),
				 payload, len));
	/* 0 says "no checksum" (RFC 768): all ones stands for a computed 0 */
	return c ? c : 0xffff;
}

/* Bytes of the UDP datagram (header included) one fragment carries: a
 * multiple of 8, as fragment offsets are. */
static uint32_t frag_room(const struct ippkt_udp *d)
{
	return v6(d) ? (d->mtu - IP6_HLEN - FRAG6_HLEN) & ~7u : (d->mtu - IP4_HLEN) & ~7u;
}

unsigned int ippkt_count(const struct ippkt_udp *d, uint32_t len)
{
	uint32_t hlen = v6(d) ? IP6_HLEN : IP4_HLEN, whole;

	/* len itself is compared: len + UDP_HLEN wraps from 0xfffffff8 */
	if (d->mtu < (v6(d) ? IPPKT_MIN_MTU6 : IPPKT_MIN_MTU4) ||
	    len > 0xffffu - UDP_HLEN - (v6(d) ? 0 : IP4_HLEN))
		return 0;
	whole = len + UDP_HLEN;
	if (hlen + whole <= d->mtu)
		return 1;
	return (whole + frag_room(d) - 1) / frag_room(d);
}

uint32_t ippkt_max(const struct ippkt_udp *d, uint32_t len)
{
	uint32_t hlen = v6(d) ? IP6_HLEN : IP4_HLEN;

	if (hlen + UDP_HLEN + len <= d->mtu)
		return hlen + UDP_HLEN + len;
	return hlen + (v6(d) ? FRAG6_HLEN : 0) + frag_room(d);
}

/* The IP header of a packet carrying n bytes of the datagram from byte
 * off; fragmented says whether it is one of several. Returns its length. */
static size_t ip_header(const struct ippkt_udp *d, uint8_t *o, uint32_t off, uint32_t n,
			int fragmented, int more)
{
	if (!v6(d)) {
		memset(o, 0, IP4_HLEN);
		o[0] = 0x45;
		o[1] = d->tos;
		put16(o + 2, (uint16_t)(IP4_HLEN + n));
		/* 0 lets the kernel pick an id for a whole datagram */
		put16(o + 4, fragmented ? (uint16_t)d->id : 0);
		put16(o + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
		o[8] = d->ttl;
		o[9] = IPPROTO_UDP;
		/* the checksum (o + 10) is the kernel's: it always fills it in */
		memcpy(o + 12, d->src, 4);
		memcpy(o + 16, d->dst, 4);
		return IP4_HLEN;
	}
	put32(o, 6u << 28 | (uint32_t)d->tos << 20);
	put16(o + 4, (uint16_t)(n + (fragmented ? FRAG6_HLEN : 0)));
	o[6] = fragmented ? IPPROTO_FRAGMENT : IPPROTO_UDP;
	o[7] = d->ttl;
	memcpy(o + 8, d->src, 16);
	memcpy(o + 24, d->dst, 16);
	if (!fragmented)
		return IP6_HLEN;
	o += IP6_HLEN;
	o[0] = IPPROTO_UDP;
	o[1] = 0;
	put16(o + 2, (uint16_t)(off | (more ? 1 : 0)));
	put32(o + 4, d->id);
	return IP6_HLEN + FRAG6_HLEN;
}

size_t ippkt_build(const struct ippkt_udp *d, const uint8_t *payload, uint32_t len,
		   unsigned int k, uint8_t *out)
{
	uint32_t whole = len + UDP_HLEN, room = frag_room(d), off, n, from;
	int fragmented = ippkt_count(d, len) > 1;
	uint8_t *p = out;

	off = fragmented ? k * room : 0;
	n = fragmented ? (whole - off < room ? whole - off : room) : whole;
	p += ip_header(d, p, off, n, fragmented, off + n < whole);
	if (off == 0) {
		put16(p, d->sport);
		put16(p + 2, d->dport);
		put16(p + 4, (uint16_t)whole);
		memcpy(p + 6, &d->csum, 2);
		p += UDP_HLEN;
		n -= UDP_HLEN;
		from = 0;
	} else {
		from = off - UDP_HLEN;
	}
	memcpy(p, payload + from, n);
	return (size_t)(p + n - out);
}
