// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * frame_parse() on arbitrary bytes, in both connection states, and the
 * encoders against the decoder.
 *
 * Invariants:
 * - a result is a frame length within the input, 0 (need more), or
 *   -EBADMSG with a reason;
 * - the bytes after a frame do not change how it parses, and the frame
 *   parses the same from an allocation of exactly its own size (with
 *   ASan, any read past it is a crash);
 * - every strict prefix of a valid frame asks for more bytes;
 * - "need more" is said only when the header is incomplete or announces
 *   more body than there is;
 * - frames built by frame_put_hello / frame_put_keepalive / frame_put_seq /
 *   frame_put_data_hdr / frame_put_announce_hdr parse back to the fields
 *   they were built from, and a valid DATA, ANNOUNCE or plain HELLO
 *   re-encodes to its own bytes;
 * - a valid ANNOUNCE holds exactly `count` entries that each pass
 *   want_check() and fill the body to its last byte.
 *
 * The input is taken as frame bytes (the seed corpus holds real frames);
 * its first bytes also seed the encoder round-trip.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "mctun.h"
#include "proto.h"

#define FT_FIRST_SEQ FT_RESUME   /* RESUME, REPLAY, ACK: three types in a row */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static int parse(const uint8_t *buf, size_t len, int hello_only, struct frame *f)
{
	const char *why = NULL;
	int r;

	memset(f, 0xa5, sizeof(*f));
	r = frame_parse(buf, len, hello_only, f, &why);
	CHECK(r == 0 || r == -EBADMSG || (r >= FRAME_HDR_LEN && (size_t)r <= len),
	      "frame_parse returned %d for %zu bytes", r, len);
	CHECK(r != -EBADMSG || (why && *why), "error without a reason");
	return r;
}

static void same_frame(const struct frame *a, const struct frame *b, const uint8_t *abase,
		       const uint8_t *bbase)
{
	CHECK(a->type == b->type && a->len == b->len, "type/len differ");
	CHECK(a->body - abase == b->body - bbase, "body offsets differ");
	if (a->type == FT_DATA) {
		CHECK(!memcmp(&a->data.hdr, &b->data.hdr, sizeof(a->data.hdr)), "data hdr differs");
		CHECK(a->data.payload_len == b->data.payload_len, "payload_len differs");
		CHECK(a->data.payload - abase == b->data.payload - bbase, "payload offsets differ");
	} else if (a->type == FT_ANNOUNCE) {
		CHECK(!memcmp(&a->announce.hdr, &b->announce.hdr, sizeof(a->announce.hdr)),
		      "announce hdr differs");
		CHECK(a->announce.entries - abase == b->announce.entries - bbase &&
		      a->announce.entries_len == b->announce.entries_len, "announce entries differ");
	} else if (a->type == FT_RESUME || a->type == FT_REPLAY || a->type == FT_ACK) {
		CHECK(a->count == b->count, "count differs");
	} else if (a->type == FT_HELLO) {
		CHECK(a->hello.version == b->hello.version &&
		      a->hello.auth_type == b->hello.auth_type &&
		      a->hello.node_id == b->hello.node_id && a->hello.caps == b->hello.caps &&
		      a->hello.auth_len == b->hello.auth_len, "hello differs");
		CHECK(a->hello.auth - abase == b->hello.auth - bbase, "auth offsets differ");
	}
}

/* The entries of a valid ANNOUNCE: count of them, each valid, filling
 * the body; each also parses alone from a copy of its exact size. */
static void check_announce(const struct frame *f)
{
	const struct announce_hdr *h = &f->announce.hdr;
	uint32_t off = 0, nsrc = 0;
	unsigned int i;

	CHECK(f->len >= ANNOUNCE_HDR_LEN && f->len <= ANNOUNCE_HDR_LEN + ANNOUNCE_MAX_BODY,
	      "announce length %u", f->len);
	CHECK(f->announce.entries == f->body + ANNOUNCE_HDR_LEN &&
	      f->announce.entries_len == f->len - ANNOUNCE_HDR_LEN, "entries pointer");
	CHECK(h->origin && h->lifetime && !(h->flags & ~ANNOUNCE_LAST), "announce header");
	CHECK(h->count || (h->flags & ANNOUNCE_LAST), "empty chunk before the last");
	for (i = 0; i < h->count; i++) {
		const char *why = NULL;
		struct want w;
		uint8_t *copy;
		int r = announce_entry_parse(f->announce.entries + off,
					     f->announce.entries_len - off, &w, &why);

		CHECK(r >= ANNOUNCE_ENTRY_LEN && (size_t)r == want_wire_len(&w), "entry %u: %d", i, r);
		CHECK(w.nsrc <= ANNOUNCE_MAX_SRC, "nsrc %u", w.nsrc);
		CHECK(!want_check(&w, &why), "entry %u fails want_check: %s", i, why);
		copy = malloc(r);
		memcpy(copy, f->announce.entries + off, r);
		CHECK(announce_entry_parse(copy, r, &w, &why) == r, "entry alone");
		free(copy);
		off += r;
		nsrc += w.nsrc;
	}
	CHECK(nsrc == f->announce.nsrc, "%u sources counted, %u there", f->announce.nsrc, nsrc);
	CHECK(off == f->announce.entries_len, "entries end at %u of %u", off,
	      f->announce.entries_len);
}

/* Strict prefixes of a valid frame: every one must ask for more. All the
 * short ones (header and data header), then a sample of the longer ones. */
static void check_prefixes(const uint8_t *buf, int r, int hello_only)
{
	struct frame f;
	size_t n, step = (size_t)r / 61 + 1;

	for (n = 0; n < (size_t)r; n += n < 80 ? 1 : step) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, buf, n);
		CHECK(parse(copy, n, hello_only, &f) == 0, "prefix of %zu of a %d-byte frame", n, r);
		free(copy);
	}
	{
		uint8_t *copy = malloc(r - 1);

		memcpy(copy, buf, r - 1);
		CHECK(parse(copy, r - 1, hello_only, &f) == 0, "prefix of %d of a %d-byte frame",
		      r - 1, r);
		free(copy);
	}
}

static void check_raw(const uint8_t *data, size_t size, int hello_only)
{
	struct frame f, g;
	int r = parse(data, size, hello_only, &f);

	if (r == 0) {
		/* Need more: the header is short or the body is not all here. */
		CHECK(size < FRAME_HDR_LEN || size - FRAME_HDR_LEN < get32(data + 4),
		      "need more with %zu bytes of a %u-byte body", size, get32(data + 4));
		return;
	}
	if (r < 0)
		return;

	CHECK(f.type == FT_HELLO || f.type == FT_DATA || f.type == FT_KEEPALIVE ||
	      f.type == FT_ANNOUNCE || f.type == FT_RESUME || f.type == FT_REPLAY ||
	      f.type == FT_ACK, "type %u", f.type);
	CHECK(hello_only == (f.type == FT_HELLO), "type %u in hello_only=%d", f.type, hello_only);
	CHECK((size_t)r == FRAME_HDR_LEN + f.len, "took %d for a %u-byte body", r, f.len);
	CHECK(f.body == data + FRAME_HDR_LEN, "body pointer");
	CHECK(data[0] == f.type && get32(data + 4) == f.len && !data[1] && !data[2] && !data[3],
	      "header fields");
	if (f.type == FT_KEEPALIVE)
		CHECK(f.len == 0, "keepalive with a body");
	if (f.type == FT_RESUME || f.type == FT_REPLAY || f.type == FT_ACK)
		CHECK(f.len == SEQ_FRAME_LEN && f.count == get64(f.body),
		      "resume/replay/ack of %u bytes", f.len);
	if (f.type == FT_HELLO) {
		CHECK(f.len == HELLO_LEN + f.hello.auth_len && f.hello.auth_len <= HELLO_AUTH_MAX,
		      "hello length");
		CHECK(f.hello.auth == f.body + HELLO_LEN, "auth pointer");
	}
	if (f.type == FT_DATA) {
		const struct data_hdr *h = &f.data.hdr;

		CHECK(f.len >= DATA_HDR_LEN && f.data.payload_len == f.len - DATA_HDR_LEN,
		      "payload length");
		CHECK(f.data.payload == f.body + DATA_HDR_LEN, "payload pointer");
		CHECK(h->dport != 0, "port 0 accepted");
		if (h->family == MCTUN_FAM_INET) {
			static const uint8_t zero[12];

			CHECK((h->group[0] & 0xf0) == 0xe0, "IPv4 group not multicast");
			CHECK(!memcmp(h->group + 4, zero, 12) && !memcmp(h->src + 4, zero, 12),
			      "IPv4 address with bytes past 4");
			CHECK(f.data.payload_len <= DATA_MAX_PAYLOAD4, "IPv4 payload too large");
		} else {
			CHECK(h->family == MCTUN_FAM_INET6, "family %u", h->family);
			CHECK(h->group[0] == 0xff, "IPv6 group not multicast");
			CHECK(f.data.payload_len <= DATA_MAX_PAYLOAD, "IPv6 payload too large");
		}
	}

	if (f.type == FT_ANNOUNCE)
		check_announce(&f);

	/* Exactly its own bytes: same result, nothing read past them. */
	{
		uint8_t *copy = malloc(r);

		memcpy(copy, data, r);
		CHECK(parse(copy, r, hello_only, &g) == r, "frame alone parses differently");
		same_frame(&f, &g, data, copy);
		free(copy);
	}
	check_prefixes(data, r, hello_only);

	/* Re-encoding reproduces the bytes where the encoder has no choice. */
	if (f.type == FT_DATA) {
		uint8_t enc[FRAME_HDR_LEN + DATA_HDR_LEN];

		CHECK(frame_put_data_hdr(enc, &f.data.hdr, f.data.payload_len) == sizeof(enc),
		      "encoder size");
		CHECK(!memcmp(enc, data, sizeof(enc)), "data frame does not re-encode to itself");
	} else if (f.type == FT_ANNOUNCE) {
		uint8_t *enc = malloc(r);
		size_t off = FRAME_HDR_LEN + ANNOUNCE_HDR_LEN, n;
		unsigned int i;

		n = frame_put_announce_hdr(enc, &f.announce.hdr, f.announce.entries_len);
		CHECK(n == off, "announce header size %zu", n);
		for (i = 0; i < f.announce.hdr.count; i++) {
			struct want w;
			const char *why;
			int er = announce_entry_parse(data + off, r - off, &w, &why);

			CHECK(er > 0, "entry %u of a parsed frame: %s", i, why);
			CHECK(announce_entry_put(enc + off, &w) == (size_t)er, "entry size");
			off += er;
		}
		CHECK(off == (size_t)r && !memcmp(enc, data, r),
		      "announce does not re-encode to itself");
		free(enc);
	} else if (f.type == FT_KEEPALIVE) {
		uint8_t enc[FRAME_HDR_LEN];

		CHECK(frame_put_keepalive(enc) == sizeof(enc) && !memcmp(enc, data, sizeof(enc)),
		      "keepalive does not re-encode to itself");
	} else if (f.type == FT_RESUME || f.type == FT_REPLAY || f.type == FT_ACK) {
		uint8_t enc[FRAME_HDR_LEN + SEQ_FRAME_LEN];

		CHECK(frame_put_seq(enc, f.type, f.count) == sizeof(enc) &&
		      !memcmp(enc, data, sizeof(enc)), "resume/replay/ack does not re-encode to itself");
	} else {
		const uint8_t *b = f.body;
		uint8_t enc[FRAME_HDR_LEN + HELLO_LEN];

		if (f.hello.version == PROTO_VERSION && !f.hello.auth_type && !f.hello.auth_len &&
		    !b[5] && !b[7] && !b[22] && !b[23]) {
			CHECK(frame_put_hello(enc, f.hello.node_id, f.hello.caps) == sizeof(enc),
			      "encoder size");
			CHECK((size_t)r == sizeof(enc) && !memcmp(enc, data, sizeof(enc)),
			      "hello does not re-encode to itself");
		}
	}
}

/* An ANNOUNCE of input-chosen header fields and entries made valid:
 * parses back to them; with one byte too many announced, it is refused
 * from the header alone. */
static void check_announce_encoder(struct fuzz_in *in)
{
	struct announce_hdr h = { 0 };
	struct want w[4];
	uint8_t src[4][2][16];
	size_t n, elen = 0;
	unsigned int i, k, count = fuzz_take(in, 1) % 5;
	uint8_t *buf = malloc(FRAME_HDR_LEN + ANNOUNCE_HDR_LEN + 4 * (ANNOUNCE_ENTRY_LEN + 32));
	struct frame f;

	h.origin = fuzz_take(in, 8) | 1;
	h.serial = fuzz_take(in, 8);
	h.hops = fuzz_take(in, 1);
	h.chunk = fuzz_take(in, 2);
	h.lifetime = fuzz_take(in, 2) | 0x100;
	h.flags = count ? fuzz_take(in, 1) & ANNOUNCE_LAST : ANNOUNCE_LAST;
	for (i = 0; i < count && i < 4; i++) {
		struct want *e = &w[i];
		unsigned int sel = fuzz_take(in, 1), full;

		memset(e, 0, sizeof(*e));
		if (sel % 4 == 3) {
			e->kind = WANT_ALL;
			continue;
		}
		e->family = sel & 4 ? MCTUN_FAM_INET6 : MCTUN_FAM_INET;
		full = e->family == MCTUN_FAM_INET ? 32 : 128;
		e->kind = sel % 2 ? WANT_EXCLUDE : WANT_INCLUDE;
		e->plen = full - fuzz_take(in, 1) % (full == 32 ? 29 : 121);
		e->port = fuzz_take(in, 2);
		for (k = 0; k < full / 8; k++)
			e->group[k] = fuzz_take(in, 1);
		e->group[0] = e->family == MCTUN_FAM_INET ? 0xe0 | (e->group[0] & 0x0f) : 0xff;
		/* clear the bits past plen */
		for (k = e->plen; k < full; k++)
			e->group[k / 8] &= ~(0x80 >> k % 8);
		e->nsrc = e->kind == WANT_INCLUDE ? 1 + sel / 8 % 2 : sel / 8 % 3;
		for (k = 0; k < e->nsrc; k++) {
			memset(src[i][k], 0, 16);
			src[i][k][0] = 1 + fuzz_take(in, 1) % 200;   /* unicast, not 0 */
			src[i][k][3] = fuzz_take(in, 1);
			if (e->family == MCTUN_FAM_INET6)
				src[i][k][15] = 1;
		}
		e->src = src[i][0];
	}
	count = i;
	for (i = 0; i < count; i++) {
		const char *why = NULL;

		CHECK(!want_check(&w[i], &why), "built entry %u invalid: %s", i, why);
		elen += announce_entry_put(buf + FRAME_HDR_LEN + ANNOUNCE_HDR_LEN + elen, &w[i]);
	}
	h.count = count;
	n = frame_put_announce_hdr(buf, &h, elen);
	CHECK(n == FRAME_HDR_LEN + ANNOUNCE_HDR_LEN, "announce header size %zu", n);
	CHECK(parse(buf, n + elen, 0, &f) == (int)(n + elen), "announce round trip");
	CHECK(f.type == FT_ANNOUNCE && !memcmp(&f.announce.hdr, &h, sizeof(h)),
	      "announce fields differ");
	for (i = 0, elen = 0; i < count; i++) {
		const char *why = NULL;
		struct want g;
		int r = announce_entry_parse(f.announce.entries + elen,
					     f.announce.entries_len - elen, &g, &why);

		CHECK(r > 0 && g.family == w[i].family && g.kind == w[i].kind &&
		      g.plen == w[i].plen && g.port == w[i].port && g.nsrc == w[i].nsrc &&
		      !memcmp(g.group, w[i].group, 16) &&
		      (!g.nsrc || !memcmp(g.src, w[i].src, 16 * g.nsrc)), "entry %u differs", i);
		elen += r;
	}
	CHECK(parse(buf, n, 1, &f) == -EBADMSG, "announce accepted as a first frame");
	frame_put_announce_hdr(buf, &h, ANNOUNCE_MAX_BODY + 1);
	CHECK(parse(buf, n, 0, &f) == -EBADMSG, "oversized announce awaited");
	free(buf);
}

/* Frames built from input-chosen fields parse back to those fields. */
static void check_encoders(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct data_hdr h;
	struct frame f;
	uint64_t node = fuzz_take(&in, 8);
	uint32_t caps = fuzz_take(&in, 4), plen, max;
	uint8_t *buf;
	size_t n;
	int r;

	buf = malloc(FRAME_HDR_LEN + HELLO_LEN);
	n = frame_put_hello(buf, node, caps);
	CHECK(n == FRAME_HDR_LEN + HELLO_LEN, "hello size %zu", n);
	r = parse(buf, n, 1, &f);
	CHECK(r == (int)n && f.type == FT_HELLO && f.hello.version == PROTO_VERSION &&
	      f.hello.node_id == node && f.hello.caps == caps && f.hello.auth_len == 0 &&
	      f.hello.auth_type == 0, "hello round trip");
	CHECK(parse(buf, n, 0, &f) == -EBADMSG, "second hello accepted");
	free(buf);

	buf = malloc(FRAME_HDR_LEN);
	n = frame_put_keepalive(buf);
	CHECK(parse(buf, n, 0, &f) == FRAME_HDR_LEN && f.type == FT_KEEPALIVE && f.len == 0,
	      "keepalive round trip");
	CHECK(parse(buf, n, 1, &f) == -EBADMSG, "keepalive accepted as a first frame");
	free(buf);

	buf = malloc(FRAME_HDR_LEN + SEQ_FRAME_LEN);
	n = frame_put_seq(buf, FT_FIRST_SEQ + node % 3, caps * 0x100000001ull);
	CHECK(parse(buf, n, 0, &f) == FRAME_HDR_LEN + SEQ_FRAME_LEN &&
	      f.type == FT_FIRST_SEQ + node % 3 && f.count == caps * 0x100000001ull,
	      "resume/replay/ack round trip");
	CHECK(parse(buf, n - 1, 0, &f) == 0, "a short resume/replay/ack taken whole");
	free(buf);

	memset(&h, 0, sizeof(h));
	h.family = fuzz_take(&in, 1) & 1 ? MCTUN_FAM_INET6 : MCTUN_FAM_INET;
	h.hops = fuzz_take(&in, 1);
	h.ttl = fuzz_take(&in, 1);
	h.tos = fuzz_take(&in, 1);
	h.dport = fuzz_take(&in, 2) | 1;
	h.sport = fuzz_take(&in, 2);
	for (n = 0; n < (h.family == MCTUN_FAM_INET ? 4u : 16u); n++) {
		h.group[n] = fuzz_take(&in, 1);
		h.src[n] = fuzz_take(&in, 1);
	}
	if (h.family == MCTUN_FAM_INET)
		h.group[0] = 0xe0 | (h.group[0] & 0x0f);
	else
		h.group[0] = 0xff;
	h.origin = fuzz_take(&in, 8);
	h.seq = fuzz_take(&in, 8);
	max = h.family == MCTUN_FAM_INET ? DATA_MAX_PAYLOAD4 : DATA_MAX_PAYLOAD;
	plen = fuzz_take(&in, 4);
	/* Mostly short payloads (fast), sometimes the largest ones. */
	plen = plen & 0x80000000u ? max - (plen & 0xff) : plen % 512;

	buf = malloc(FRAME_HDR_LEN + DATA_HDR_LEN + plen);
	n = frame_put_data_hdr(buf, &h, plen);
	CHECK(n == FRAME_HDR_LEN + DATA_HDR_LEN, "data header size %zu", n);
	memset(buf + n, 0x5a, plen);
	r = parse(buf, n + plen, 0, &f);
	CHECK(r == (int)(n + plen), "data round trip: %d for %zu bytes", r, n + plen);
	CHECK(f.type == FT_DATA && !memcmp(&f.data.hdr, &h, sizeof(h)) &&
	      f.data.payload == buf + n && f.data.payload_len == plen, "data fields differ");
	CHECK(parse(buf, n + plen, 1, &f) == -EBADMSG, "data accepted as a first frame");
	free(buf);

	check_announce_encoder(&in);

	/* One byte over the family's limit is refused before it is awaited. */
	buf = malloc(FRAME_HDR_LEN + DATA_HDR_LEN);
	frame_put_data_hdr(buf, &h, max + 1);
	CHECK(parse(buf, FRAME_HDR_LEN + DATA_HDR_LEN, 0, &f) ==
	      (h.family == MCTUN_FAM_INET6 ? -EBADMSG : 0), "oversized data frame");
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
	check_raw(data, size, 1);
	check_raw(data, size, 0);
	check_encoders(data, size);
	return 0;
}
