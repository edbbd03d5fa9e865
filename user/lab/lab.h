/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The lab datagram: what `mctun send` emits and `mctun recv` checks.
 *
 * Every datagram starts with struct lab_hdr; the rest, up to the datagram
 * size, is a pattern derived from (sender_id, seq), so a receiver detects
 * datagrams that were cut, padded or mixed up on the way.  The header has
 * its own check: a damaged header cannot be attributed to a sender.
 */
#ifndef MCTUN_LAB_H
#define MCTUN_LAB_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#define LAB_MAGIC   "MCLB"
#define LAB_VERSION 1

/* Largest UDP payload without IPv6 jumbograms: 65535 - 8 (UDP header). */
#define LAB_MAX_SIZE 65527u

/*
 * Wire layout, version 1.  A later version may grow the header: the
 * pattern starts at hdr_len, and the check covers hdr_len bytes.
 */
struct lab_hdr {
	__u8   magic[4];   /* LAB_MAGIC, no terminating NUL */
	__u8   version;    /* LAB_VERSION */
	__u8   flags;      /* none defined yet; receivers ignore them */
	__be16 hdr_len;    /* net; header bytes, at least sizeof(struct lab_hdr) */
	__be64 sender_id;  /* net; random, chosen once per sender run */
	__be64 seq;        /* net; 0, 1, 2, ... within one sender run */
	__be64 send_ns;    /* net; CLOCK_REALTIME when the datagram was built */
	__u8   ttl;        /* TTL / hop limit the sender set */
	__u8   dscp;       /* DSCP the sender set, 0-63 */
	__be16 size;       /* net; whole UDP payload, header included */
	__be32 check;      /* net; FNV-1a of the hdr_len header bytes, this field as 0 */
};

#define LAB_HDR_LEN ((unsigned int)sizeof(struct lab_hdr))

_Static_assert(sizeof(struct lab_hdr) == 40, "lab header layout");

/* A lab datagram, decoded (host byte order). */
struct lab_dgram {
	uint64_t sender_id;
	uint64_t seq;
	uint64_t send_ns;
	uint16_t hdr_len;
	uint16_t size;
	uint8_t flags;
	uint8_t ttl;
	uint8_t dscp;
};

enum lab_verdict {
	LAB_OK = 0,
	LAB_FOREIGN,     /* too short for a header, wrong magic or version */
	LAB_BAD_HEADER,  /* our magic and version, but the header fails its check */
	LAB_CORRUPT,     /* header good (*d filled in), but length or pattern wrong */
};

/*
 * Writes a datagram of d->size bytes (header and pattern) into buf, which
 * must hold that many; d->size must be in [LAB_HDR_LEN, LAB_MAX_SIZE].
 * d->hdr_len is ignored: this version writes LAB_HDR_LEN.
 */
void lab_encode(void *buf, const struct lab_dgram *d);

/*
 * Classifies len bytes at buf and, for LAB_OK and LAB_CORRUPT, fills *d.
 * A pure function of its input: no state, no allocation, safe on any bytes.
 */
enum lab_verdict lab_parse(const void *buf, size_t len, struct lab_dgram *d);

#endif
