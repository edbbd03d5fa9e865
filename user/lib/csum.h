/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Internet checksum (RFC 1071). Sums run over 16-bit words in the
 * host's byte order: the one's complement sum does not care (RFC 1071
 * §2(B)), so a result goes into a header with memcpy, never htons, and a
 * pseudo-header is summed as the bytes it would be on the wire.
 */
#ifndef MCTUN_CSUM_H
#define MCTUN_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* sum plus the n bytes at p. Pieces after the first must start at an even
 * offset of the whole, i.e. all but the last have an even length. */
uint64_t csum_add(uint64_t sum, const void *p, size_t n);
/* sum folded to 16 bits: 0xffff when a message with its checksum is intact. */
uint16_t csum_fold(uint64_t sum);
/* The checksum field's value: the complement of the folded sum. */
static inline uint16_t csum_finish(uint64_t sum) { return (uint16_t)~csum_fold(sum); }
/* The sum of an IPv4 (alen 4) or IPv6 (alen 16) pseudo-header: addresses,
 * upper-layer length and protocol (RFC 768, RFC 8200 §8.1). */
uint64_t csum_pseudo(unsigned int alen, const uint8_t *src, const uint8_t *dst, uint32_t len,
		     uint8_t proto);

#endif
