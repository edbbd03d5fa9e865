/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Re-injection: datagrams from the tunnel onto the island, through send
 * sockets per address family, batched with sendmmsg and UDP GSO: a group
 * some application on this gateway joined (localrx.h) through one with
 * multicast loopback on, so it receives them too; the others through one
 * with loopback off, so no copy climbs the stack for nobody.
 * With --keep-source, through a header-included raw socket per family
 * instead, as their original sender (user/lib/ippkt.h builds the packets).
 */
#ifndef MCTUN_INJECT_H
#define MCTUN_INJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "mctun.h"
#include "proto.h"

struct inj_batch;

/* Send sockets: [0] IPv4, [1] IPv6 (UDP); [2], [3] the same families'
 * header-included raw sockets (--keep-source); those four with multicast
 * loopback on, and again from INJ_QUIET with it off. */
#define INJ_RAW   2
#define INJ_QUIET 4
#define INJ_SOCKS 8

struct localrx;

struct injector {
	int fd[INJ_SOCKS];             /* -1 if not open */
	uint16_t port[4];              /* the UDP sockets' source ports, [0] [1] looping,
					* [2] [3] quiet: the BPF program skips them */
	struct inj_batch *b[INJ_SOCKS];
	bool no_gso;                   /* kernel without UDP GSO */
	uint32_t mtu;                  /* of the interface, 0 until read */
	uint32_t ttl;                  /* what the raw sockets' headers say */
	uint32_t frag_id;              /* identification of the last fragmented datagram */
	struct mctun_dstats *st;       /* injected, inject_errors, rewritten, drop_direction */
	const struct localrx *rx;      /* groups with a local receiver; NULL: all */
};

void injector_init(struct injector *in, struct mctun_dstats *st);
/*
 * The send sockets of family index fi (0 IPv4, 1 IPv6), looping and quiet,
 * unless they are open: bound to cfg's interface, with cfg's TTL and a
 * port of their own, which on_port (may be NULL) learns before anything is
 * sent from it; when on_port fails, the socket is closed again. With
 * cfg->keep_source also the family's raw sockets, marked MCTUN_SELF_MARK.
 * Returns 0 or -errno (logged).
 */
int injector_open(struct injector *in, const struct config *cfg, int fi,
		  int (*on_port)(void *ctx, uint16_t port), void *ctx);
void injector_close(struct injector *in);
/* The TTL / hop limit of what the open sockets send from now on. */
void injector_set_ttl(struct injector *in, uint32_t ttl);
/* The interface's MTU, which bounds a GSO batch's segments. */
void injector_mtu_load(struct injector *in, const char *ifname);

/* One datagram of group gc from the tunnel onto the island, as the group
 * says: not at all (direction out), or to its rewrite target. Queued: it
 * goes out by injector_flush() at the latest. */
void inject_group(struct injector *in, const struct cfg_group *gc, const struct data_hdr *h,
		  const uint8_t *payload, uint32_t len);
/* Where a datagram of h goes by gc's rewrite (config.c allows only these):
 * to one group, or from a range to the same host bits in the target prefix
 * of its length; to the target's port, or (any port) to its own. Without a
 * rewrite, h's own group and port. port may be NULL. */
void inject_target(const struct cfg_group *gc, const struct data_hdr *h, uint8_t group[16],
		   uint16_t *port);
/* Sends what is queued. */
void injector_flush(struct injector *in);

#endif
