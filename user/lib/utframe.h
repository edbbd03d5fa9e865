/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The udptunnel framing (`--framing udptunnel`), specified in
 * docs/PROTOCOL.md: what Debian's udptunnel and the Python mcasttunnel put
 * on their TCP connection. Each frame is a 16-bit length in network byte
 * order, not counting itself, then that many bytes: the UDP payload of one
 * datagram. Nothing else: no handshake, no group, no keepalive, so one
 * connection carries one group. Pure functions, driven by fuzz/fuzz_ut.c;
 * nothing here does I/O.
 */
#ifndef MCTUN_UTFRAME_H
#define MCTUN_UTFRAME_H

#include <stddef.h>
#include <stdint.h>

#define UT_HDR_LEN  2
#define UT_MAX_LEN  65535u     /* the most the length field can say */

/*
 * Parse one frame from the start of buf. Returns the bytes it takes
 * (UT_HDR_LEN + *plen) with *plen set, 0 when more bytes are needed, or
 * -EBADMSG with *why set to a static reason when the length is over max
 * (the largest datagram this end can send on, which depends on the
 * group's family). That is decided from the header alone, before any body
 * byte is awaited, and *plen then holds the length announced.
 */
int ut_frame_parse(const uint8_t *buf, size_t len, uint32_t max, uint32_t *plen,
		   const char **why);

/*
 * Writes the header of a frame for a plen-byte payload and returns
 * UT_HDR_LEN, or -EMSGSIZE (nothing written) for a payload the peers
 * cannot take: longer than UT_MAX_LEN, or empty (udptunnel exits when its
 * UDP socket reads an empty datagram and mcasttunnel takes a zero length
 * for the end of the stream).
 */
int ut_frame_put_hdr(uint8_t *buf, uint32_t plen);

#endif
