// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "csum.h"

uint64_t csum_add(uint64_t sum, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint16_t h;
	uint32_t w;

	/* 32 bits at a time into 64: no carry is lost before 2^32 words */
	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w, p, sizeof(w));
		sum += w;
	}
	if (n >= 2) {
		memcpy(&h, p, sizeof(h));
		sum += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		/* a last odd byte is the high-order byte of a word padded with 0 */
		uint8_t pad[2] = { p[0], 0 };

		memcpy(&h, pad, sizeof(h));
		sum += h;
	}
	return sum;
}

uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint64_t csum_pseudo(unsigned int alen, const uint8_t *src, const uint8_t *dst, uint32_t len,
		     uint8_t proto)
{
	static const uint8_t zero[16];
	/* RFC 8200's layout; for IPv4 (zero, proto, 16-bit length) sums the same */
	uint8_t tail[8] = { len >> 24, len >> 16, len >> 8, len, 0, 0, 0, proto };
	uint64_t s;

	s = csum_add(0, src ? src : zero, alen);
	s = csum_add(s, dst ? dst : zero, alen);
	return csum_add(s, tail, sizeof(tail));
}
