// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "mctun.h"
#include "proto.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v >> 32); put32(p + 4, v); }

static int bad(const char **why, const char *reason)
{
	*why = reason;
	return -EBADMSG;
}

/* The daemon's input buffer holds two of the largest frames; an ANNOUNCE
 * must be one of them. */
_Static_assert(FRAME_HDR_LEN + ANNOUNCE_HDR_LEN + ANNOUNCE_MAX_BODY <= FRAME_MAX,
	       "an ANNOUNCE larger than the largest DATA frame");
_Static_assert(ANNOUNCE_ENTRY_LEN + 16 * ANNOUNCE_MAX_SRC <= ANNOUNCE_MAX_BODY,
	       "an entry with the most sources does not fit one chunk");

static int parse_hello(const uint8_t *b, uint32_t len, struct hello *h, const char **why)
{
	if (len < HELLO_LEN)
		return bad(why, "short hello");
	if (get32(b) != PROTO_MAGIC)
		return bad(why, "not an mctun peer (bad magic)");
	h->version = b[4];
	/* b[5]: flags, reserved */
	h->auth_type = b[6];
	/* b[7]: reserved */
	h->node_id = get64(b + 8);
	h->caps = get32(b + 16);
	h->auth_len = get16(b + 20);
	/* b[22..23]: reserved */
	if (h->auth_len > HELLO_AUTH_MAX || HELLO_LEN + (uint32_t)h->auth_len != len)
		return bad(why, "hello length inconsistent");
	h->auth = b + HELLO_LEN;
	return 0;
}

static int parse_data(const uint8_t *b, uint32_t len, struct frame *f, const char **why)
{
	struct data_hdr *h = &f->data.hdr;
	static const uint8_t zero[16];

	if (len < DATA_HDR_LEN)
		return bad(why, "short data frame");
	h->family = b[0];
	h->hops = b[1];
	h->ttl = b[2];
	h->tos = b[3];
	h->dport = get16(b + 4);
	h->sport = get16(b + 6);
	memcpy(h->group, b + 8, 16);
	memcpy(h->src, b + 24, 16);
	h->origin = get64(b + 40);
	h->seq = get64(b + 48);
	f->data.payload = b + DATA_HDR_LEN;
	f->data.payload_len = len - DATA_HDR_LEN;

	if (h->family == MCTUN_FAM_INET) {
		if ((h->group[0] & 0xf0) != 0xe0 || memcmp(h->group + 4, zero, 12) ||
		    memcmp(h->src + 4, zero, 12))
			return bad(why, "data frame: bad IPv4 group");
		if (f->data.payload_len > DATA_MAX_PAYLOAD4)
			return bad(why, "data frame: payload too large for IPv4");
	} else if (h->family == MCTUN_FAM_INET6) {
		if (h->group[0] != 0xff)
			return bad(why, "data frame: bad IPv6 group");
	} else {
		return bad(why, "data frame: unknown address family");
	}
	if (!h->dport)
		return bad(why, "data frame: port 0");
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* A unicast address of the family: IPv4 with nothing past byte 4, not
 * multicast, not unspecified. */
static bool good_source(uint8_t family, const uint8_t *a)
{
	if (family == MCTUN_FAM_INET)
		return all_zero(a + 4, 12) && (a[0] & 0xf0) != 0xe0 && !all_zero(a, 4);
	return a[0] != 0xff && !all_zero(a, 16);
}

int want_check(const struct want *w, const char **why)
{
	unsigned int full, minlen, i;

	if (w->kind == WANT_ALL) {
		if (w->family || w->plen || w->port || w->nsrc || !all_zero(w->group, 16))
			return bad(why, "announce: ALL entry with other fields set");
		return 0;
	}
	if (w->kind != WANT_INCLUDE && w->kind != WANT_EXCLUDE)
		return bad(why, "announce: unknown entry kind");
	if (w->family == MCTUN_FAM_INET) {
		/* 224.0.0.0/4 and ff00::/8 are all of multicast: no shorter */
		full = 32;
		minlen = 4;
		if ((w->group[0] & 0xf0) != 0xe0 || !all_zero(w->group + 4, 12))
			return bad(why, "announce: bad IPv4 group");
	} else if (w->family == MCTUN_FAM_INET6) {
		full = 128;
		minlen = 8;
		if (w->group[0] != 0xff)
			return bad(why, "announce: bad IPv6 group");
	} else {
		return bad(why, "announce: unknown address family");
	}
	if (w->plen < minlen || w->plen > full)
		return bad(why, "announce: prefix length out of range");
	if ((w->plen % 8 && (w->group[w->plen / 8] & (0xff >> w->plen % 8))) ||
	    !all_zero(w->group + (w->plen + 7) / 8, full / 8 - (w->plen + 7) / 8))
		return bad(why, "announce: group has bits past its prefix");
	if (w->nsrc > ANNOUNCE_MAX_SRC)
		return bad(why, "announce: too many sources in an entry");
	/* INCLUDE of nothing wants nothing: such an entry is left out, not sent */
	if (w->kind == WANT_INCLUDE && !w->nsrc)
		return bad(why, "announce: INCLUDE entry without a source");
	for (i = 0; i < w->nsrc; i++)
		if (!good_source(w->family, w->src + 16 * i))
			return bad(why, "announce: bad source address");
	return 0;
}

size_t want_wire_len(const struct want *w)
{
	return ANNOUNCE_ENTRY_LEN + 16 * (size_t)w->nsrc;
}

int announce_entry_parse(const uint8_t *p, size_t len, struct want *w, const char **why)
{
	int err;

	if (len < ANNOUNCE_ENTRY_LEN)
		return bad(why, "announce: truncated entry");
	w->family = p[0];
	w->kind = p[1];
	w->plen = p[2];
	if (p[3])
		return bad(why, "announce: reserved entry bits set");
	w->port = get16(p + 4);
	w->nsrc = get16(p + 6);
	memcpy(w->group, p + 8, 16);
	w->src = p + ANNOUNCE_ENTRY_LEN;
	/* before the length: nsrc * 16 must not be trusted to fit anything */
	if (w->nsrc > ANNOUNCE_MAX_SRC)
		return bad(why, "announce: too many sources in an entry");
	if (len < want_wire_len(w))
		return bad(why, "announce: truncated entry");
	err = want_check(w, why);
	return err ? err : (int)want_wire_len(w);
}

static int parse_announce(const uint8_t *b, uint32_t len, struct frame *f, const char **why)
{
	struct announce_hdr *h = &f->announce.hdr;
	uint32_t off;
	unsigned int i;

	if (len < ANNOUNCE_HDR_LEN)
		return bad(why, "short announce");
	h->origin = get64(b);
	h->serial = get64(b + 8);
	h->hops = b[16];
	h->flags = b[17];
	h->chunk = get16(b + 18);
	h->count = get16(b + 20);
	h->lifetime = get16(b + 22);
	f->announce.entries = b + ANNOUNCE_HDR_LEN;
	f->announce.entries_len = len - ANNOUNCE_HDR_LEN;
	f->announce.nsrc = 0;

	if (h->flags & ~ANNOUNCE_LAST)
		return bad(why, "announce: unknown flags");
	if (!h->origin)
		return bad(why, "announce: origin 0");
	if (!h->lifetime)
		return bad(why, "announce: lifetime 0");
	/* only the last chunk may be empty: an empty announcement is one */
	if (!h->count && !(h->flags & ANNOUNCE_LAST))
		return bad(why, "announce: empty chunk before the last");
	for (i = 0, off = 0; i < h->count; i++) {
		struct want w;
		int r = announce_entry_parse(f->announce.entries + off,
					     f->announce.entries_len - off, &w, why);

		if (r < 0)
			return r;
		off += r;
		f->announce.nsrc += w.nsrc;
	}
	if (off != f->announce.entries_len)
		return bad(why, "announce: bytes after the last entry");
	return 0;
}

/* RESUME, REPLAY, ACK: one counter; what it may say is the peer's to
 * judge (user/lib/replay.h, replay_check_*). */
static int parse_seq(const uint8_t *b, uint32_t len, struct frame *f, const char **why)
{
	if (len != SEQ_FRAME_LEN)
		return bad(why, "resume, replay or ack frame: short");
	f->count = get64(b);
	return 0;
}

int frame_parse(const uint8_t *buf, size_t len, int hello_only, struct frame *f,
		const char **why)
{
	uint32_t blen, max;
	uint8_t type;
	int err;

	if (len < FRAME_HDR_LEN)
		return 0;
	type = buf[0];
	blen = get32(buf + 4);
	switch (type) {
	case FT_HELLO:
		max = HELLO_LEN + HELLO_AUTH_MAX;
		break;
	case FT_DATA:
		max = DATA_HDR_LEN + DATA_MAX_PAYLOAD;
		break;
	case FT_KEEPALIVE:
		max = 0;
		break;
	case FT_ANNOUNCE:
		max = ANNOUNCE_HDR_LEN + ANNOUNCE_MAX_BODY;
		break;
	case FT_RESUME:
	case FT_REPLAY:
	case FT_ACK:
		max = SEQ_FRAME_LEN;
		break;
	default:
		/* The first bytes of a stranger: say what it is not. */
		return bad(why, hello_only ? "not an mctun peer" : "unknown frame type");
	}
	if (hello_only && type != FT_HELLO)
		return bad(why, "expected hello");
	if (!hello_only && type == FT_HELLO)
		return bad(why, "second hello");
	if (buf[1] || get16(buf + 2))
		return bad(why, "reserved header bits set");
	if (blen > max)
		return bad(why, "frame too long");
	if (len - FRAME_HDR_LEN < blen)
		return 0;

	f->type = type;
	f->len = blen;
	f->body = buf + FRAME_HDR_LEN;
	if (type == FT_HELLO)
		err = parse_hello(f->body, blen, &f->hello, why);
	else if (type == FT_DATA)
		err = parse_data(f->body, blen, f, why);
	else if (type == FT_ANNOUNCE)
		err = parse_announce(f->body, blen, f, why);
	else if (type == FT_RESUME || type == FT_REPLAY || type == FT_ACK)
		err = parse_seq(f->body, blen, f, why);
	else
		err = 0;
	return err ? err : (int)(FRAME_HDR_LEN + blen);
}

static void put_hdr(uint8_t *b, uint8_t type, uint32_t len)
{
	b[0] = type;
	b[1] = 0;
	put16(b + 2, 0);
	put32(b + 4, len);
}

size_t frame_put_hello(uint8_t *b, uint64_t node_id, uint32_t caps)
{
	put_hdr(b, FT_HELLO, HELLO_LEN);
	b += FRAME_HDR_LEN;
	memset(b, 0, HELLO_LEN);
	put32(b, PROTO_MAGIC);
	b[4] = PROTO_VERSION;
	put64(b + 8, node_id);
	put32(b + 16, caps);
	return FRAME_HDR_LEN + HELLO_LEN;
}

size_t frame_put_keepalive(uint8_t *b)
{
	put_hdr(b, FT_KEEPALIVE, 0);
	return FRAME_HDR_LEN;
}

size_t frame_put_seq(uint8_t *b, uint8_t type, uint64_t count)
{
	put_hdr(b, type, SEQ_FRAME_LEN);
	put64(b + FRAME_HDR_LEN, count);
	return FRAME_HDR_LEN + SEQ_FRAME_LEN;
}

size_t frame_put_data_hdr(uint8_t *b, const struct data_hdr *h, uint32_t plen)
{
	put_hdr(b, FT_DATA, DATA_HDR_LEN + plen);
	b += FRAME_HDR_LEN;
	b[0] = h->family;
	b[1] = h->hops;
	b[2] = h->ttl;
	b[3] = h->tos;
	put16(b + 4, h->dport);
	put16(b + 6, h->sport);
	memcpy(b + 8, h->group, 16);
	memcpy(b + 24, h->src, 16);
	put64(b + 40, h->origin);
	put64(b + 48, h->seq);
	return FRAME_HDR_LEN + DATA_HDR_LEN;
}

size_t frame_put_announce_hdr(uint8_t *b, const struct announce_hdr *h, uint32_t elen)
{
	put_hdr(b, FT_ANNOUNCE, ANNOUNCE_HDR_LEN + elen);
	b += FRAME_HDR_LEN;
	put64(b, h->origin);
	put64(b + 8, h->serial);
	b[16] = h->hops;
	b[17] = h->flags;
	put16(b + 18, h->chunk);
	put16(b + 20, h->count);
	put16(b + 22, h->lifetime);
	return FRAME_HDR_LEN + ANNOUNCE_HDR_LEN;
}

size_t announce_entry_put(uint8_t *b, const struct want *w)
{
	b[0] = w->family;
	b[1] = w->kind;
	b[2] = w->plen;
	b[3] = 0;
	put16(b + 4, w->port);
	put16(b + 6, w->nsrc);
	memcpy(b + 8, w->group, 16);
	if (w->nsrc)
		memcpy(b + ANNOUNCE_ENTRY_LEN, w->src, 16 * (size_t)w->nsrc);
	return want_wire_len(w);
}
