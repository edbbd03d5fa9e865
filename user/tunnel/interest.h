/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Who wants what: the subscriptions (subs.c) this gateway announces and
 * hears, which peers a datagram goes to, and what it captures (capset.c).
 *
 * - We announce what our island wants: with --membership learn the groups
 *   its receivers joined (translated back through a rewrite), else
 *   everything (WANT_ALL); and everything while a peer that does not
 *   subscribe is up (a protocol 1 or udptunnel peer gets everything, so
 *   we must be sent everything to relay it).
 * - A datagram goes to a subscribing peer only when an origin behind it
 *   wants it; to the others, always.
 * - We capture every configured group while anyone wants everything (or a
 *   peer that does not subscribe is up, or none is up at all); else only the configured groups'
 *   parts that someone wants, joined on the island, each held 2 s after
 *   the last want is gone.
 */
#ifndef MCTUN_INTEREST_H
#define MCTUN_INTEREST_H

#include <stdbool.h>
#include <stdint.h>

#include "capset.h"
#include "proto.h"
#include "subs.h"

#define INTEREST_HOLDDOWN_NS (500 * 1000000ull)  /* a want gone: captured this longer */

struct daemon;
struct peer;

struct interest {
	struct subs *subs;             /* NULL with udptunnel framing: no hellos */
	struct capset cs;
	unsigned int plain_up;         /* peers up that do not subscribe */
	unsigned int unready;          /* ... that do, whose own announcement has
					* not come yet: until it does, they get
					* everything, as if they did not */
	bool local_dirty;              /* what we announce is to be made again */
	bool capture_dirty;            /* what we capture ... */
	bool no_holddown;              /* ... for a new configuration: at once */
	bool all;                      /* capturing everything configured */
	bool applied;                  /* ... since a first capture was made */
	bool publish;                  /* the wants changed: publish them */
	uint64_t t_publish;            /* ... and at the latest then */
	unsigned int published;        /* rows of mctun_wants in use */
	uint64_t next;                 /* subs' next deadline */
	/* scratch, kept between uses */
	struct want *w;
	unsigned int nw, capw;
	uint8_t *src;                  /* sources of w, 16 bytes each */
	unsigned int nsrc, capsrc;
	struct cfg_group *list;
	unsigned int nlist, caplist;
};

int interest_open(struct daemon *d, uint64_t now);
void interest_close(struct daemon *d);

/* Events, taken into account at the end of the loop pass (interest_run). */
void interest_config(struct daemon *d);        /* a (new) configuration */
void interest_learned(struct daemon *d);       /* the island's receivers changed */
void interest_peer_up(struct daemon *d, struct peer *p, uint64_t now);
void interest_peer_down(struct daemon *d, struct peer *p);
void interest_announce(struct daemon *d, struct peer *p, struct frame *f, uint64_t now);
/* The end of a loop pass: timers, and what the events above changed. */
void interest_run(struct daemon *d, uint64_t now);

/* The counters, and what the gateways want into the map for `mctun
 * status` (fd -1: none, socket mode). */
void interest_publish(struct daemon *d, int wants_fd, uint64_t now);

/* Before a datagram's fan-out: choose the subscribing peers that want it;
 * then ask per peer. */
void interest_select(struct daemon *d, const struct data_hdr *h);
bool interest_peer_wants(const struct daemon *d, const struct peer *p);

#endif
