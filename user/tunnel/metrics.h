/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * mctun run --metrics ADDR:PORT: every counter in the Prometheus text
 * format over HTTP, served from the daemon's own event loop.
 *
 * GET /metrics (or HEAD) answers 200 with what `mctun stats --prometheus`
 * prints (the same renderer, fed from the daemon's memory and its maps);
 * any other path 404, another method 405. One request per connection,
 * closed after the answer. At most METRICS_MAX_CLIENTS connections at
 * once (one more closes the oldest, counted), a request head of at most
 * METRICS_REQ_MAX bytes, and --metrics-timeout (default METRICS_TIMEOUT_S)
 * seconds for the whole exchange (then the client is closed and counted).
 * Every socket is non-blocking: a slow or silent client costs a slot,
 * never the data path.
 */
#ifndef MCTUN_METRICS_H
#define MCTUN_METRICS_H

#include <stdint.h>

#define METRICS_MAX_CLIENTS 16
#define METRICS_REQ_MAX     4096
#define METRICS_TIMEOUT_S   5

struct config;
struct counters;
struct metrics;
struct mctun_dstats;
struct mctun_peer_info;
struct src;

/* Fills c with every counter of the instance (peers: room for
 * MCTUN_PINNED_PEERS rows, which c->peers may point to); c->groups is
 * malloc'ed or NULL. */
typedef void (*metrics_fill_fn)(void *ctx, struct counters *c, struct mctun_peer_info *peers);

/* Listens on cfg->metrics, if given (else *out is NULL), in epoll set
 * epfd; its own counters go to st. 0 or -errno (with one line logged);
 * *out is to be closed either way. */
int metrics_open(const struct config *cfg, int epfd, struct mctun_dstats *st,
		 metrics_fill_fn fill, void *ctx, struct metrics **out);
/* The running configuration, after a reload (m may be NULL). */
void metrics_set_config(struct metrics *m, const struct config *cfg);
/* An epoll event on one of its sources (kind SRC_METRICS). */
void metrics_event(struct metrics *m, struct src *s, uint32_t events, uint64_t now);
/* Close the clients past their deadline; called on every timer tick. */
void metrics_tick(struct metrics *m, uint64_t now);
void metrics_close(struct metrics *m);

#endif
