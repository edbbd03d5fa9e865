/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IGMP (RFC 1112, 2236, 3376) and MLD (RFC 2710, 3810) messages as a
 * multicast router reads and writes them: parse what hosts and other
 * queriers send, build the queries we send. Pure functions of their
 * buffers, no I/O, no allocation, so the fuzzers can drive them.
 *
 * Conventions of the whole API:
 * - family is 4 (IPv4, IGMP) or 6 (IPv6, MLD), as MCTUN_FAM_INET/INET6;
 * - an address is 16 bytes, an IPv4 one in the first 4 (the rest is
 *   ignored on input and zero on output);
 * - a list of sources ("srcs") is packed as on the wire: nsrc addresses of
 *   MSHIP_ALEN(family) bytes each, 4 for IPv4 and 16 for IPv6;
 * - times are in milliseconds (response delays) or seconds (QQI), already
 *   decoded from the exponential codes of RFC 3376 §4.1.1/§4.1.7 and
 *   RFC 3810 §5.1.3/§5.1.9.
 */
#ifndef MCTUN_MSHIP_WIRE_H
#define MCTUN_MSHIP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSHIP_ALEN(family) ((family) == 6 ? 16u : 4u)

enum mship_type {
	MSHIP_QUERY  = 1,
	MSHIP_REPORT = 2,        /* v1/v2 join (group) or v3 report (records) */
	MSHIP_LEAVE  = 3,        /* IGMPv2 leave, MLDv1 done (group) */
};

/* Group and multicast address record types (RFC 3376 §4.2.12). */
enum mship_rec_type {
	MSHIP_IS_IN  = 1,        /* MODE_IS_INCLUDE */
	MSHIP_IS_EX  = 2,        /* MODE_IS_EXCLUDE */
	MSHIP_TO_IN  = 3,        /* CHANGE_TO_INCLUDE_MODE */
	MSHIP_TO_EX  = 4,        /* CHANGE_TO_EXCLUDE_MODE */
	MSHIP_ALLOW  = 5,        /* ALLOW_NEW_SOURCES */
	MSHIP_BLOCK  = 6,        /* BLOCK_OLD_SOURCES */
};

/*
 * One parsed message. Pointers point into the parsed buffer, which must
 * outlive the struct.
 */
struct mship_msg {
	uint8_t type;            /* enum mship_type */
	uint8_t version;         /* IGMP 1, 2, 3; MLD 1, 2 */
	uint8_t family;
	bool s_flag;             /* v3/MLDv2 queries: suppress router-side processing */
	uint8_t qrv;             /* v3/MLDv2 queries: 0..7, 0 = "more than 7" */
	uint8_t src[16];         /* the IP source address */
	uint8_t group[16];       /* queries (all zero: general), v1/v2 reports, leaves */
	uint32_t max_resp_ms;    /* queries; an IGMPv1 query counts as 10 s */
	uint32_t qqi_s;          /* v3/MLDv2 queries; 0: the querier did not say */
	uint16_t nsrc;           /* v3/MLDv2 queries: sources of a source-specific query */
	const uint8_t *srcs;
	uint16_t nrec;           /* v3/MLDv2 reports: records, unknown types included */
	const uint8_t *recs;     /* the first record; read with mship_next_record() */
};

/* One group (or multicast address) record of a v3/MLDv2 report. */
struct mship_rec {
	uint8_t type;            /* enum mship_rec_type, never another value */
	uint8_t group[16];
	uint16_t nsrc;
	const uint8_t *srcs;
};

struct mship_rec_iter {
	const uint8_t *p;
	unsigned int left;
	uint8_t family;
};

/*
 * Parse one IGMP message (family 4: msg starts at the IGMP header) or
 * ICMPv6 message (family 6: msg starts at the ICMPv6 header); len is the
 * rest of the IP payload. src and dst are the IP addresses, used for the
 * MLD checksum (pseudo-header) and the RFC 3810 §5 source checks.
 *
 * Returns
 *   0           a membership message, *out filled in;
 *   -ENOMSG     a well-formed message with nothing for a router to learn:
 *               other IGMP/ICMPv6 types, queries of the lengths RFC 3376
 *               §7.1 and RFC 3810 §8.1 say to ignore, MLD reports from ::
 *               (duplicate address detection, RFC 3810 §5.2.13);
 *   -EBADMSG    a malformed one: truncated, bad checksum, counts that run
 *               past the end, a non-multicast group, an MLD message from a
 *               source that is not link-local;
 *   -EINVAL     family is neither 4 nor 6.
 * With -ENOMSG and -EBADMSG, *why is a short static reason.
 *
 * Octets after the last source or record are covered by the checksum and
 * otherwise ignored (RFC 3376 §4.1.10/§4.2.11, RFC 3810 §5.1.12/§5.2.11);
 * so is the IGMPv1/v2 and MLDv1 message past its fixed size. Records of
 * an unknown type are checked for length and then skipped by the
 * iterator. The IP destination is not checked: RFC 3376 §4.2.14 asks
 * routers to take v1/v2 reports sent to any of their addresses.
 */
int mship_parse(uint8_t family, const uint8_t src[16], const uint8_t dst[16],
		const uint8_t *msg, size_t len, struct mship_msg *out, const char **why);

/*
 * The IP header checks, apart from the message: RFC 3376 §4 and RFC 3810
 * §5 send every message with TTL / hop limit 1 and a router alert option.
 * We refuse a TTL other than 1 (the message crossed a router or was forged
 * off-link) in both families, and a missing router alert for IGMPv3 and
 * all of MLD (IGMPv1 hosts predate the option). Returns 0 or -EBADMSG
 * with *why.
 */
int mship_check_ip(const struct mship_msg *msg, uint8_t ttl, bool router_alert,
		   const char **why);

/* Start reading the records of a parsed v3/MLDv2 report. */
void mship_records(const struct mship_msg *msg, struct mship_rec_iter *it);
/* The next record of a known type into *rec; false at the end. */
bool mship_next_record(struct mship_rec_iter *it, struct mship_rec *rec);

/* Source i of a packed list, as a 16-byte address. */
void mship_src_get(uint8_t family, const uint8_t *srcs, unsigned int i, uint8_t out[16]);

/*
 * Build an IGMPv3 (family 4) or MLDv2 (family 6) query into buf: a general
 * query when group is NULL or all zero, else group-specific, or group-and-
 * source-specific with nsrc sources. max_resp_ms and qqi_s are encoded
 * with the exponential codes where they need them, rounded down to what a
 * code can say and capped at the largest one; qrv above 7 is sent as 0
 * (RFC 3376 §4.1.6). The checksum is filled in: for MLD over the pseudo-
 * header of ip_src and ip_dst (a raw ICMPv6 socket computes it again; the
 * message is valid either way). ip_src and ip_dst may be NULL for IPv4.
 * Returns the length, or 0 if it does not fit in cap or nsrc > 65535.
 */
size_t mship_build_query(uint8_t family, uint8_t *buf, size_t cap, const uint8_t *group,
			 const uint8_t *srcs, unsigned int nsrc, uint32_t max_resp_ms,
			 bool s_flag, uint8_t qrv, uint32_t qqi_s, const uint8_t *ip_src,
			 const uint8_t *ip_dst);

/* The IP destination of a query: all-systems (224.0.0.1, ff02::1) for a
 * general query (group NULL or zero), the group itself otherwise
 * (RFC 3376 §4.1.12, RFC 3810 §5.1.15). */
void mship_query_dst(uint8_t family, const uint8_t *group, uint8_t dst[16]);

/* The codes themselves, exposed for the tests. IGMP: 8 bits, in units of
 * 1/10 s (max resp) or seconds (QQIC); MLD max resp: 16 bits, in ms. */
uint8_t mship_code8_encode(uint32_t value);
uint32_t mship_code8_decode(uint8_t code);
uint16_t mship_code16_encode(uint32_t value);
uint32_t mship_code16_decode(uint16_t code);

/* Scope helpers shared with the router side. */
bool mship_is_multicast(uint8_t family, const uint8_t addr[16]);
/* 224.0.0.0/24; IPv6 multicast of scope 0, 1 or 2 (reserved, interface-
 * and link-local: ff00::/16, ff01::/16, ff02::/16 and the same with flags,
 * ff12:: and so on). Never reported, never forwarded off the link. */
bool mship_is_link_local_group(uint8_t family, const uint8_t addr[16]);

#endif
