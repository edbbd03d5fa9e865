/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --resume: what a gateway sent to one peer node (docs/PROTOCOL.md,
 * "Resume"), kept until the peer acknowledges it, for at most the window's
 * seconds and a bound of bytes. DATA frames to such a peer go in here
 * first and are moved to its output queue from here (replay_peek,
 * replay_advance), so a reconnect replays in the order they were sent and
 * before anything newer. Link numbers are implicit: the n-th frame put in
 * (from 0) has number n. Pure bookkeeping over one buffer; nothing here
 * does I/O.
 */
#ifndef MCTUN_REPLAY_H
#define MCTUN_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define REPLAY_REC_HDR 16        /* a record: frame length, send time, then the frame */

struct replay {
	uint8_t *buf;            /* NULL until the first frame (replay_init) */
	size_t cap;
	size_t wrap;             /* records go round within this (<= cap) */
	size_t touched;          /* pages below may be resident */
	size_t head;             /* offset of the oldest record */
	size_t len;              /* bytes of records */
	size_t tx_off;           /* record `tx`, in bytes from head */
	uint64_t base;           /* number of the oldest record held (or end) */
	uint64_t end;            /* number of the next frame put in */
	uint64_t tx;             /* number of the next frame to move to the queue */
	uint64_t acked;          /* the peer's highest acknowledgement */
	uint64_t overflow;       /* frames pushed out for room before acknowledged */
	uint64_t skipped;        /* frames pushed out before they were sent: a gap
				  * the peer is to be told of (REPLAY) */
};

int replay_init(struct replay *r, size_t cap);
void replay_free(struct replay *r);
/* A frame (a, then b) sent at t: kept within min(limit, cap) bytes, the
 * oldest frames pushed out for it (counted in overflow). */
void replay_put(struct replay *r, size_t limit, uint64_t t, const void *a, size_t alen,
		const void *b, size_t blen);
/* Forget frames sent before t (out of the window); returns how many. */
uint64_t replay_expire(struct replay *r, uint64_t t);
/* The next frame to send (two pieces when it wraps): 0 when there is none. */
int replay_peek(const struct replay *r, const uint8_t **a, size_t *alen, const uint8_t **b,
		size_t *blen);
void replay_advance(struct replay *r);
static inline uint64_t replay_pending(const struct replay *r) { return r->end - r->tx; }

/*
 * What a peer says, checked before it is believed (-EPROTO and *why when
 * it lies). An ACK of n: the peer has the first n frames; not more than
 * were sent on this connection (tx), not fewer than it said before. A
 * RESUME of n on a new connection: not more than were ever put in, not
 * fewer than acknowledged before; replay_resume() then takes it: the
 * frames from n on that are still held are sent again, *from is the
 * number of the first of them and *gap how many before it are gone.
 */
int replay_check_ack(const struct replay *r, uint64_t n, const char **why);
void replay_ack(struct replay *r, uint64_t n);
int replay_resume(struct replay *r, uint64_t n, uint64_t *from, uint64_t *gap,
		  const char **why);
/* The receiving side: a REPLAY from `from` when `rx` frames were received.
 * Behind rx would deliver frames twice. */
int replay_check_from(uint64_t rx, uint64_t from, const char **why);

#endif
