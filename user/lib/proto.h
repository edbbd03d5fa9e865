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
};

#define FRAME_HDR_LEN    8
#define HELLO_LEN        24
#define HELLO_AUTH_MAX   1024
#define DATA_HDR_LEN     56
#define DATA_MAX_PAYLOAD 65527u      /* largest UDP payload (IPv6); IPv4: 65507 */
#define DATA_MAX_PAYLOAD4 65507u
#define FRAME_MAX        (FRAME_HDR_LEN + DATA_HDR_LEN + DATA_MAX_PAYLOAD)

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
/* Frame and data headers for a payload of plen bytes (the payload itself
 * is not copied): returns FRAME_HDR_LEN + DATA_HDR_LEN. */
size_t frame_put_data_hdr(uint8_t *buf, const struct data_hdr *h, uint32_t plen);

#endif
