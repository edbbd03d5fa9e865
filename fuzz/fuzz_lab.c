// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lab_parse() on arbitrary datagrams, and lab_encode() against it.
 *
 * Invariants:
 * - the verdict is one of the four; for LAB_OK and LAB_CORRUPT, *d has
 *   an hdr_len inside the datagram;
 * - LAB_OK means the size field is the datagram's length, and a version-1
 *   header (hdr_len 40) re-encodes to the very same bytes;
 * - a datagram made by lab_encode() from input-chosen fields parses LAB_OK
 *   to those fields; with any one bit flipped (outside hdr_len, whose
 *   change moves the checked span) it is no longer LAB_OK; cut short or
 *   grown by a byte it is not LAB_OK either.
 */
#include <endian.h>
#include <string.h>

#include "fuzz.h"
#include "lab.h"

static int same(const struct lab_dgram *a, const struct lab_dgram *b)
{
	return a->sender_id == b->sender_id && a->seq == b->seq && a->send_ns == b->send_ns &&
	       a->size == b->size && a->flags == b->flags && a->ttl == b->ttl &&
	       a->dscp == b->dscp;
}

static void check_raw(const uint8_t *data, size_t size)
{
	struct lab_dgram d;
	enum lab_verdict v;

	memset(&d, 0xa5, sizeof(d));
	v = lab_parse(data, size, &d);
	CHECK(v == LAB_OK || v == LAB_FOREIGN || v == LAB_BAD_HEADER || v == LAB_CORRUPT,
	      "verdict %d", v);
	if (v == LAB_FOREIGN || v == LAB_BAD_HEADER)
		return;
	CHECK(d.hdr_len >= LAB_HDR_LEN && d.hdr_len <= size, "hdr_len %u of %zu", d.hdr_len,
	      size);
	if (v != LAB_OK)
		return;
	CHECK(d.size == size, "LAB_OK with size %u for %zu bytes", d.size, size);
	if (d.hdr_len == LAB_HDR_LEN) {
		uint8_t *enc = malloc(size);

		lab_encode(enc, &d);
		CHECK(!memcmp(enc, data, size), "a valid datagram does not re-encode to itself");
		free(enc);
	}
}

static void check_encoded(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct lab_dgram d = {}, got;
	uint32_t bit;
	uint8_t *buf;
	size_t n;

	d.sender_id = fuzz_take(&in, 8);
	d.seq = fuzz_take(&in, 8);
	d.send_ns = fuzz_take(&in, 8);
	d.flags = fuzz_take(&in, 1);
	d.ttl = fuzz_take(&in, 1);
	d.dscp = fuzz_take(&in, 1) & 63;
	d.size = LAB_HDR_LEN + fuzz_take(&in, 2) % 2048;
	bit = fuzz_take(&in, 4);
	n = d.size;

	buf = malloc(n + 1);
	lab_encode(buf, &d);
	CHECK(lab_parse(buf, n, &got) == LAB_OK, "an encoded datagram is not LAB_OK");
	CHECK(same(&d, &got) && got.hdr_len == LAB_HDR_LEN, "fields differ after a round trip");

	CHECK(lab_parse(buf, n - 1, &got) != LAB_OK, "cut by one byte and still LAB_OK");
	buf[n] = 0;
	CHECK(lab_parse(buf, n + 1, &got) != LAB_OK, "grown by one byte and still LAB_OK");

	bit %= n * 8;
	if (bit / 8 != offsetof(struct lab_hdr, hdr_len) &&
	    bit / 8 != offsetof(struct lab_hdr, hdr_len) + 1) {
		buf[bit / 8] ^= 1u << (bit % 8);
		CHECK(lab_parse(buf, n, &got) != LAB_OK, "bit %u flipped and still LAB_OK", bit);
	}
	free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_raw(data, size);
	check_encoded(data, size);
	return 0;
}
