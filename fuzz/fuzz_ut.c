// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The udptunnel framing (user/lib/utframe.c): ut_frame_parse() on arbitrary
 * bytes, the header encoder against it, and the daemon's stream
 * reassembly (ut_parse() in user/tunnel/peer.c, re-implemented: chunks into a
 * buffer of IN_CAP bytes, whole frames from its front, the rest moved
 * down).
 *
 * Input: 1 byte that picks the limit (IPv4, IPv6, the field's maximum),
 * 4 bytes that seed the chunk sizes, then the byte stream.
 *
 * Invariants:
 * - a result is a frame length within the input, 0 (need more), or
 *   -EBADMSG with a reason; the error comes exactly when a whole header
 *   announces more than the limit, and "need more" exactly when the header
 *   or the body it announces is incomplete;
 * - a frame parses the same from an allocation of exactly its own size
 *   (with ASan, any read past it is a crash), and every strict prefix of it
 *   asks for more;
 * - the encoder refuses exactly the lengths 0 and over UT_MAX_LEN, and what
 *   it writes parses back to the length it was given;
 * - chunking does not matter: the frames taken and the verdict are those
 *   of parsing the whole stream from one buffer, and the buffer never
 *   fills up without a frame coming out of it.
 */
#include <errno.h>
#include <string.h>
#include <sanitizer/asan_interface.h>

#include "fuzz.h"
#include "proto.h"
#include "utframe.h"

#define IN_CAP (2 * FRAME_MAX)   /* as in user/tunnel/peer.c */
#define MAX_FRAMES 4096

struct taken {
	uint32_t len;
	uint64_t at;                 /* offset in the stream */
};

struct result {
	struct taken f[MAX_FRAMES];
	unsigned int n;
	int err;                     /* 0 or -EBADMSG */
	uint64_t waiting;            /* bytes left unparsed at the end */
};

static struct result whole, chunked;
static uint8_t *inbuf;

static int parse(const uint8_t *buf, size_t len, uint32_t max, uint32_t *plen)
{
	const char *why = NULL;
	int r;

	*plen = 0xa5a5a5a5u;
	r = ut_frame_parse(buf, len, max, plen, &why);
	CHECK(r == 0 || r == -EBADMSG || (r >= UT_HDR_LEN && (size_t)r <= len),
	      "ut_frame_parse returned %d for %zu bytes", r, len);
	CHECK(r != -EBADMSG || (why && *why), "error without a reason");
	if (len >= UT_HDR_LEN) {
		uint32_t said = (uint32_t)buf[0] << 8 | buf[1];

		CHECK(*plen == said, "length %u, the header says %u", *plen, said);
		CHECK((r == -EBADMSG) == (said > max), "verdict %d for length %u, limit %u", r,
		      said, max);
		CHECK((r == 0) == (said <= max && len - UT_HDR_LEN < said),
		      "need more: %d with %zu bytes for length %u", r, len, said);
		CHECK(r <= 0 || (uint32_t)r == UT_HDR_LEN + said, "took %d for length %u", r,
		      said);
	} else {
		CHECK(r == 0, "%d from %zu bytes", r, len);
	}
	return r;
}

static void check_frame(const uint8_t *data, size_t size, uint32_t max)
{
	uint32_t plen, p2;
	size_t n;
	int r = parse(data, size, max, &plen);

	if (r <= 0)
		return;
	{
		uint8_t *copy = malloc(r);

		memcpy(copy, data, r);
		CHECK(parse(copy, r, max, &p2) == r && p2 == plen, "frame alone parses differently");
		free(copy);
	}
	for (n = 0; n < (size_t)r; n += n < 80 ? 1 : (size_t)r / 61 + 1) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, data, n);
		CHECK(parse(copy, n, max, &p2) == 0, "prefix of %zu of a %d-byte frame", n, r);
		free(copy);
	}
}

static void check_encoder(uint32_t plen)
{
	uint8_t b[UT_HDR_LEN + 4];
	uint32_t got;
	int n = ut_frame_put_hdr(b, plen);

	CHECK((n == -EMSGSIZE) == (plen == 0 || plen > UT_MAX_LEN), "encoder: %d for %u", n, plen);
	if (n < 0)
		return;
	CHECK(n == UT_HDR_LEN, "encoder size %d", n);
	CHECK(parse(b, n, UT_MAX_LEN, &got) == 0 && got == plen, "round trip of %u", plen);
}

/* One pass of ut_parse over buf[0..*len); returns -EBADMSG or 0. */
static int parse_loop(uint8_t *buf, size_t *len, uint32_t max, uint64_t *consumed,
		      struct result *res)
{
	size_t off = 0;

	while (off < *len) {
		const char *why = NULL;
		uint32_t plen;
		int r = ut_frame_parse(buf + off, *len - off, max, &plen, &why);

		if (r == 0)
			break;
		if (r < 0)
			return r;
		if (res->n < MAX_FRAMES)
			res->f[res->n] = (struct taken){ plen, *consumed + off };
		res->n++;
		off += r;
	}
	if (off) {
		memmove(buf, buf + off, *len - off);
		*len -= off;
		*consumed += off;
	}
	return 0;
}

static uint32_t next_rand(uint32_t *s)
{
	/* xorshift32; the seed is never 0 */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void check_stream(uint32_t seed, const uint8_t *stream, size_t slen, uint32_t max)
{
	size_t pos = 0, len = 0;
	uint64_t consumed = 0;
	uint32_t maxchunk;
	unsigned int i;
	int err = 0;

	memset(&whole, 0, offsetof(struct result, f));
	{
		uint8_t *copy = malloc(slen ? slen : 1);
		size_t l = slen;

		memcpy(copy, stream, slen);
		whole.err = parse_loop(copy, &l, max, &consumed, &whole);
		whole.waiting = whole.err ? 0 : l;
		free(copy);
	}

	memset(&chunked, 0, offsetof(struct result, f));
	consumed = 0;
	maxchunk = 1u << (seed % 18);
	ASAN_POISON_MEMORY_REGION(inbuf, IN_CAP);
	while (pos < slen && !err) {
		size_t n = next_rand(&seed) % maxchunk + 1;

		n = n < slen - pos ? n : slen - pos;
		n = n < IN_CAP - len ? n : IN_CAP - len;
		CHECK(n > 0, "buffer full (%zu bytes) with no frame taken", len);
		ASAN_UNPOISON_MEMORY_REGION(inbuf + len, n);
		memcpy(inbuf + len, stream + pos, n);
		pos += n;
		len += n;
		err = parse_loop(inbuf, &len, max, &consumed, &chunked);
		ASAN_POISON_MEMORY_REGION(inbuf + len, IN_CAP - len);
	}
	chunked.err = err;
	chunked.waiting = err ? 0 : len;
	ASAN_UNPOISON_MEMORY_REGION(inbuf, IN_CAP);

	CHECK(whole.err == chunked.err, "verdict: whole %d, chunked %d", whole.err, chunked.err);
	CHECK(whole.n == chunked.n, "frames: whole %u, chunked %u", whole.n, chunked.n);
	for (i = 0; i < whole.n && i < MAX_FRAMES; i++)
		CHECK(whole.f[i].len == chunked.f[i].len && whole.f[i].at == chunked.f[i].at,
		      "frame %u: whole (%u at %llu), chunked (%u at %llu)", i, whole.f[i].len,
		      (unsigned long long)whole.f[i].at, chunked.f[i].len,
		      (unsigned long long)chunked.f[i].at);
	if (!whole.err)
		CHECK(whole.waiting == chunked.waiting, "waiting: whole %llu, chunked %llu",
		      (unsigned long long)whole.waiting, (unsigned long long)chunked.waiting);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	inbuf = malloc(IN_CAP);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t limits[] = { DATA_MAX_PAYLOAD4, DATA_MAX_PAYLOAD, UT_MAX_LEN };
	struct fuzz_in in = { data, size };
	uint32_t max = limits[fuzz_take(&in, 1) % 3];
	uint32_t raw = (uint32_t)fuzz_take(&in, 4), seed = raw | 1;
	static const uint32_t edges[] = { 0, 1, UT_MAX_LEN, UT_MAX_LEN + 1, 0xffffffffu };
	unsigned int i;

	check_frame(in.p, in.len, max);
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_encoder(edges[i]);
	check_encoder(raw % (UT_MAX_LEN + 2));
	check_stream(seed, in.p, in.len, max);
	return 0;
}
