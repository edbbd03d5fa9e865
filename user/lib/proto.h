/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The tunnel wire format, specified in docs/PROTOCOL.md. Encoding and
 * decoding are pure functions of their buffers so the fuzzers can drive
 * them; nothing here does I/O.
 */
#ifndef MCTUN_PROTO_H
#define MCTUN_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC    0x4d43544eu   /* "MCTN" */
#define PROTO_VERSION  1

enum frame_type {
	FT_HELLO     = 1,
	FT_DATA      = 2,
	FT_KEEPALIVE = 3,
	FT_ANNOUNCE  = 4,           /* only where both hellos set PROTO_CAP_SUBSCRIBE */
	/* only where both hellos set PROTO_CAP_RESUME (docs/PROTOCOL.md, "Resume") */
	FT_RESUME    = 5,           /* the DATA frames this side has received of the other */
	FT_REPLAY    = 6,           /* the link number of the next DATA frame */
	FT_ACK       = 7,           /* DATA frames received so far (cumulative) */
};

/* HELLO caps bits. Unknown bits are ignored, so an old peer mixes in. */
#define PROTO_CAP_SUBSCRIBE 0x1u    /* speaks ANNOUNCE (docs/PROTOCOL.md, "Subscriptions") */
#define PROTO_CAP_RESUME    0x2u    /* speaks RESUME, REPLAY, ACK (docs/PROTOCOL.md, "Resume") */

#define FRAME_HDR_LEN    8
#define HELLO_LEN        24
#define HELLO_AUTH_MAX   1024
#define DATA_HDR_LEN     56
#define DATA_MAX_PAYLOAD 65527u      /* largest UDP payload (IPv6); IPv4: 65507 */
#define DATA_MAX_PAYLOAD4 65507u
#define FRAME_MAX        (FRAME_HDR_LEN + DATA_HDR_LEN + DATA_MAX_PAYLOAD)
#define SEQ_FRAME_LEN    8           /* body of RESUME, REPLAY and ACK: one counter */

/*
 * ANNOUNCE: one gateway's want set, in one or more chunks. The per-chunk
 * bounds are the parser's; the per-announcement ones (over all chunks)
 * are checked by whoever assembles them (user/tunnel/subs.c).
 */
#define ANNOUNCE_HDR_LEN     24
#define ANNOUNCE_ENTRY_LEN   24      /* an entry before its sources */
#define ANNOUNCE_MAX_BODY    65536u  /* bytes of entries in one chunk */
#define ANNOUNCE_MAX_SRC     64u     /* sources of one entry */
#define ANNOUNCE_MAX_ENTRIES 16384u  /* entries of one announcement */
#define ANNOUNCE_MAX_SOURCES 65536u  /* sources of one announcement */
#define ANNOUNCE_LAST        0x1     /* flags: the last chunk */

/* What one entry asks for (the wire's kind byte). */
enum want_kind {
	WANT_INCLUDE = 0,           /* datagrams from the listed sources only */
	WANT_EXCLUDE = 1,           /* from any source but the listed ones */
	WANT_ALL     = 2,           /* everything the sender has configured */
};

/*
 * One entry of a want set: a group (or a prefix of groups), a port and a
 * source filter. A WANT_ALL entry has every other field 0.
 */
struct want {
	uint8_t family;             /* MCTUN_FAM_*; 0 for WANT_ALL */
	uint8_t kind;               /* enum want_kind */
	uint8_t plen;               /* prefix length of group: 32 / 128 for one group */
	uint16_t port;              /* host order; 0: any port */
	uint16_t nsrc;              /* sources listed, at most ANNOUNCE_MAX_SRC */
	uint8_t group[16];          /* IPv4 in the first 4 bytes, the rest 0 */
	const uint8_t *src;         /* nsrc addresses of 16 bytes, each as group */
};

struct announce_hdr {
	uint64_t origin;            /* node id of the gateway whose wants these are */
	uint64_t serial;            /* the origin's counter, higher is newer */
	uint8_t hops;               /* tunnel links crossed before this one */
	uint8_t flags;              /* ANNOUNCE_LAST */
	uint16_t chunk;             /* 0, 1, ... within one announcement */
	uint16_t count;             /* entries in this chunk */
	uint16_t lifetime;          /* seconds it stays valid unless renewed, not 0 */
};

struct hello {
	uint8_t version;
	uint8_t auth_type;          /* 0: none; other values reserved */
	uint64_t node_id;
	uint32_t caps;
	uint16_t auth_len;
	const uint8_t *auth;        /* points into the parsed buffer */
};

struct data_hdr {
	uint8_t family;             /* MCTUN_FAM_* */
	uint8_t hops;               /* tunnel hops taken so far */
	uint8_t ttl;                /* TTL / hop limit as captured */
	uint8_t tos;                /* TOS / traffic class as captured */
	uint16_t dport;             /* host order; group port */
	uint16_t sport;             /* host order; original sender's port */
	uint8_t group[16];
	uint8_t src[16];
	uint64_t origin;            /* node id of the capturing gateway */
	uint64_t seq;               /* per-origin sequence number */
};

struct frame {
	uint8_t type;
	uint32_t len;               /* body length */
	const uint8_t *body;        /* points into the parsed buffer */
	union {
		struct hello hello;
		struct {
			struct data_hdr hdr;
			const uint8_t *payload;
			uint32_t payload_len;
		} data;
		struct {
			struct announce_hdr hdr;
			const uint8_t *entries; /* hdr.count entries: announce_entry_parse() */
			uint32_t entries_len;
			uint32_t nsrc;          /* sources in them, in all */
		} announce;
		uint64_t count;             /* RESUME, REPLAY, ACK */
	};
};

/*
 * Parse one frame from the start of buf. Returns the number of bytes it
 * takes (> 0) and fills *f, 0 when more bytes are needed, or -EBADMSG with
 * *why set to a static reason for a malformed frame. `hello_only` accepts
 * nothing but a HELLO (the first frame of a connection).
 */
int frame_parse(const uint8_t *buf, size_t len, int hello_only, struct frame *f,
		const char **why);

/* Encoders write exactly the number of bytes they return. */
size_t frame_put_hello(uint8_t *buf, uint64_t node_id, uint32_t caps);
size_t frame_put_keepalive(uint8_t *buf);
/* RESUME, REPLAY or ACK (type) with its counter: FRAME_HDR_LEN + SEQ_FRAME_LEN. */
size_t frame_put_seq(uint8_t *buf, uint8_t type, uint64_t count);
/* Frame and data headers for a payload of plen bytes (the payload itself
 * is not copied): returns FRAME_HDR_LEN + DATA_HDR_LEN. */
size_t frame_put_data_hdr(uint8_t *buf, const struct data_hdr *h, uint32_t plen);
/* Frame and announce headers for elen bytes of entries, written after
 * them with announce_entry_put(): returns FRAME_HDR_LEN + ANNOUNCE_HDR_LEN.
 * elen must be at most ANNOUNCE_MAX_BODY. */
size_t frame_put_announce_hdr(uint8_t *buf, const struct announce_hdr *h, uint32_t elen);

/*
 * Entries of an ANNOUNCE. announce_entry_parse() reads the one at p (len
 * bytes left) into *w, its sources pointing into p, and returns its length
 * or -EBADMSG with *why; a frame that frame_parse() took has only valid
 * entries, exactly filling entries_len. want_check() is the validation
 * alone (family, multicast group, prefix without host bits, port, sources,
 * a WANT_ALL with nothing else, a WANT_INCLUDE with a source): for entries
 * that did not come from the wire.
 */
int announce_entry_parse(const uint8_t *p, size_t len, struct want *w, const char **why);
int want_check(const struct want *w, const char **why);
/* Bytes w takes on the wire; announce_entry_put() writes exactly that many. */
size_t want_wire_len(const struct want *w);
size_t announce_entry_put(uint8_t *p, const struct want *w);

#endif
