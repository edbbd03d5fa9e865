// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's stream reassembly, re-implemented around frame_parse() the
 * way peer_read()/peer_parse() in user/tunnel/peer.c do it: bytes arrive in
 * chunks into a buffer of IN_CAP bytes, whole frames are taken from its
 * front, the rest is moved down. The first frame must be a HELLO.
 *
 * Input: 4 bytes that seed the chunk sizes, then the byte stream.
 *
 * Invariants:
 * - chunking does not matter: the frames taken (type, length, position in
 *   the stream) and the final verdict (error, or bytes left waiting) are
 *   those of parsing the whole stream from one buffer;
 * - the buffer never fills up without a frame coming out of it (a whole
 *   frame always fits after compaction);
 * - nothing reads past the bytes received: the free end of the buffer is
 *   poisoned for ASan.
 */
#include <errno.h>
#include <string.h>
#include <sanitizer/asan_interface.h>

#include "fuzz.h"
#include "proto.h"

#define IN_CAP (2 * FRAME_MAX)   /* as in user/tunnel/peer.c */
#define MAX_FRAMES 4096

struct taken {
	uint8_t type;
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

/* One pass of peer_parse over buf[0..*len); returns -EBADMSG or 0. */
static int parse_loop(uint8_t *buf, size_t *len, int *hello_seen, uint64_t *consumed,
		      struct result *res)
{
	size_t off = 0;

	while (off < *len) {
		const char *why = NULL;
		struct frame f;
		int r;

		r = frame_parse(buf + off, *len - off, !*hello_seen, &f, &why);
		if (r == 0)
			break;
		if (r < 0) {
			CHECK(r == -EBADMSG && why, "bad result %d", r);
			return r;
		}
		CHECK((size_t)r <= *len - off, "frame of %d with %zu bytes", r, *len - off);
		if (res->n < MAX_FRAMES)
			res->f[res->n] = (struct taken){ f.type, f.len, *consumed + off };
		res->n++;
		if (f.type == FT_HELLO)
			*hello_seen = 1;
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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	inbuf = malloc(IN_CAP);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint32_t seed = (uint32_t)fuzz_take(&in, 4) | 1, maxchunk;
	const uint8_t *stream = in.p;
	size_t slen = in.len, pos = 0, len = 0;
	uint64_t consumed = 0;
	int hello_seen = 0, err = 0;
	unsigned int i;

	/* The reference: the whole stream in one buffer of its exact size. */
	memset(&whole, 0, offsetof(struct result, f));
	{
		uint8_t *copy = malloc(slen ? slen : 1);
		size_t l = slen;

		memcpy(copy, stream, slen);
		whole.err = parse_loop(copy, &l, &hello_seen, &consumed, &whole);
		whole.waiting = whole.err ? 0 : l;
		free(copy);
	}

	/* The daemon's way: chunks of 1 .. maxchunk bytes into IN_CAP. */
	memset(&chunked, 0, offsetof(struct result, f));
	hello_seen = 0;
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
		err = parse_loop(inbuf, &len, &hello_seen, &consumed, &chunked);
		ASAN_POISON_MEMORY_REGION(inbuf + len, IN_CAP - len);
	}
	chunked.err = err;
	chunked.waiting = err ? 0 : len;
	ASAN_UNPOISON_MEMORY_REGION(inbuf, IN_CAP);

	CHECK(whole.err == chunked.err, "verdict: whole %d, chunked %d", whole.err, chunked.err);
	CHECK(whole.n == chunked.n, "frames: whole %u, chunked %u", whole.n, chunked.n);
	for (i = 0; i < whole.n && i < MAX_FRAMES; i++)
		CHECK(whole.f[i].type == chunked.f[i].type && whole.f[i].len == chunked.f[i].len &&
		      whole.f[i].at == chunked.f[i].at,
		      "frame %u: whole (%u, %u at %llu), chunked (%u, %u at %llu)", i,
		      whole.f[i].type, whole.f[i].len, (unsigned long long)whole.f[i].at,
		      chunked.f[i].type, chunked.f[i].len, (unsigned long long)chunked.f[i].at);
	if (!whole.err)
		CHECK(whole.waiting == chunked.waiting, "waiting: whole %llu, chunked %llu",
		      (unsigned long long)whole.waiting, (unsigned long long)chunked.waiting);
	return 0;
}
