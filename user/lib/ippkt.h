/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Whole IPv4/IPv6 UDP packets, as a header-included raw socket sends them:
 * for --keep-source, where a datagram goes out with its original sender's
 * address and port. Such a socket neither fragments nor checksums, so a
 * datagram longer than the MTU is cut here into fragments (RFC 791,
 * RFC 8200 §4.5), and the UDP checksum is computed here, once, over the
 * whole datagram.
 */
#ifndef MCTUN_IPPKT_H
#define MCTUN_IPPKT_H

#include <stddef.h>
#include <stdint.h>

#define IPPKT_MIN_MTU4 68u     /* RFC 791 */
#define IPPKT_MIN_MTU6 1280u   /* RFC 8200 §5 */

struct ippkt_udp {
	uint8_t family;          /* MCTUN_FAM_INET or MCTUN_FAM_INET6 */
	uint8_t ttl;             /* TTL / hop limit */
	uint8_t tos;             /* TOS / traffic class */
	uint16_t sport, dport;   /* host order */
	uint8_t src[16], dst[16];/* IPv4 in the first 4 bytes */
	uint32_t id;             /* fragment identification (IPv4: low 16 bits) */
	uint32_t mtu;            /* of the interface; at least IPPKT_MIN_MTU* */
	uint16_t csum;           /* UDP checksum, from ippkt_udp_csum() */
};

/* The UDP checksum of d's datagram with this payload (d->csum's value). */
uint16_t ippkt_udp_csum(const struct ippkt_udp *d, const void *payload, uint32_t len);
/* How many packets a datagram of len payload bytes takes at d->mtu: 1 when
 * it fits, else its fragments; 0 when it cannot be sent (beyond 65,507 /
 * 65,527 payload bytes, or an MTU below the minimum). */
unsigned int ippkt_count(const struct ippkt_udp *d, uint32_t len);
/* The size of the largest packet ippkt_build() writes for d: at most d->mtu. */
uint32_t ippkt_max(const struct ippkt_udp *d, uint32_t len);
/* Packet k (< ippkt_count()) of the datagram into out, which has room for
 * ippkt_max() bytes. Returns its length. */
size_t ippkt_build(const struct ippkt_udp *d, const uint8_t *payload, uint32_t len,
		   unsigned int k, uint8_t *out);

#endif
