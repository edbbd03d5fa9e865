/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the tunnel does with a datagram: one captured here goes to every
 * peer that is up; one from a peer is checked (origin, loop, hops, group,
 * duplicates), re-injected here as its group says, and passed on to every
 * other peer (docs/PROTOCOL.md, "Forwarding"). Each peer's queue takes
 * its share of --queue-total.
 */
#ifndef MCTUN_FORWARD_H
#define MCTUN_FORWARD_H

#include <stdint.h>

#include "peer.h"
#include "proto.h"

/* capture_fn of the ring and of the group sockets; ctx is the daemon. */
void forward_from_ring(void *ctx, const struct data_hdr *h, const uint8_t *payload,
		       uint32_t len);
void forward_from_socket(void *ctx, const struct data_hdr *h, const uint8_t *payload,
			 uint32_t len);

/* What every peer's frames go to; ctx is the daemon. */
extern const struct peer_ops forward_peer_ops;

#endif
