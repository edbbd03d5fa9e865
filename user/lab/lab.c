// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <endian.h>
#include <string.h>

#include "lab.h"

#define CHECK_OFF offsetof(struct lab_hdr, check)

/* FNV-1a, 32 bits, with the check field read as zero. */
static uint32_t hdr_check(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t b = i >= CHECK_OFF && i < CHECK_OFF + 4 ? 0 : p[i];

		h = (h ^ b) * 16777619u;
	}
	return h;
}

/* splitmix64: a cheap stream that depends on every bit of the seed. */
static uint64_t pattern_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t pattern_seed(uint64_t sender_id, uint64_t seq)
{
	return sender_id ^ (seq * 0xd6e8feb86659fd93ull);
}

/* Pattern bytes are little-endian words, so hosts of either order agree. */
static void pattern_fill(uint8_t *p, size_t len, uint64_t seed)
{
	size_t off;

	for (off = 0; off < len; off += 8) {
		uint64_t w = htole64(pattern_next(&seed));

		memcpy(p + off, &w, len - off < 8 ? len - off : 8);
	}
}

static int pattern_equal(const uint8_t *p, size_t len, uint64_t seed)
{
	size_t off;

	for (off = 0; off < len; off += 8) {
		uint64_t w = htole64(pattern_next(&seed));

		if (memcmp(p + off, &w, len - off < 8 ? len - off : 8))
			return 0;
	}
	return 1;
}

void lab_encode(void *buf, const struct lab_dgram *d)
{
	struct lab_hdr h = {
		.magic = { LAB_MAGIC[0], LAB_MAGIC[1], LAB_MAGIC[2], LAB_MAGIC[3] },
		.version = LAB_VERSION,
		.flags = d->flags,
		.hdr_len = htobe16(LAB_HDR_LEN),
		.sender_id = htobe64(d->sender_id),
		.seq = htobe64(d->seq),
		.send_ns = htobe64(d->send_ns),
		.ttl = d->ttl,
		.dscp = d->dscp,
		.size = htobe16(d->size),
	};
	uint8_t *p = buf;

	h.check = htobe32(hdr_check((const uint8_t *)&h, LAB_HDR_LEN));
	memcpy(p, &h, LAB_HDR_LEN);
	pattern_fill(p + LAB_HDR_LEN, d->size - LAB_HDR_LEN,
		     pattern_seed(d->sender_id, d->seq));
}

enum lab_verdict lab_parse(const void *buf, size_t len, struct lab_dgram *d)
{
	const uint8_t *p = buf;
	struct lab_hdr h;
	size_t hlen;

	if (len < LAB_HDR_LEN)
		return LAB_FOREIGN;
	memcpy(&h, p, LAB_HDR_LEN);
	if (memcmp(h.magic, LAB_MAGIC, 4) || h.version != LAB_VERSION)
		return LAB_FOREIGN;
	hlen = be16toh(h.hdr_len);
	if (hlen < LAB_HDR_LEN || hlen > len ||
	    be32toh(h.check) != hdr_check(p, hlen))
		return LAB_BAD_HEADER;

	memset(d, 0, sizeof(*d));
	d->sender_id = be64toh(h.sender_id);
	d->seq = be64toh(h.seq);
	d->send_ns = be64toh(h.send_ns);
	d->hdr_len = hlen;
	d->size = be16toh(h.size);
	d->flags = h.flags;
	d->ttl = h.ttl;
	d->dscp = h.dscp;

	if (d->size != len)
		return LAB_CORRUPT;
	if (!pattern_equal(p + hlen, len - hlen, pattern_seed(d->sender_id, d->seq)))
		return LAB_CORRUPT;
	return LAB_OK;
}
