/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a capture (capture_bpf.c, capture_socket.c) hands its caller: one
 * datagram of a configured group, with what was seen of it. */
#ifndef MCTUN_CAPTURE_H
#define MCTUN_CAPTURE_H

#include <stdint.h>

#include "proto.h"

/* h: family, group, dport, src, sport, ttl and tos as captured; the
 * callee fills in origin, seq and hops. */
typedef void (*capture_fn)(void *ctx, const struct data_hdr *h, const uint8_t *payload,
			   uint32_t len);

#endif
