/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Subscriptions carried over the tunnel (docs/PROTOCOL.md, "Subscriptions"):
 * what each gateway's island wants, flooded as ANNOUNCE frames between the
 * peers that negotiated PROTO_CAP_SUBSCRIBE, and which of those peers a
 * datagram should go to. No I/O, no clock, no globals: time comes in as
 * `now` (monotonic ns), frames go out through a callback, and peers are
 * small integer ids the caller assigns.
 *
 * Peers that did not negotiate the capability are not known here at all:
 * the caller sends them everything, as before, and says so by wanting
 * WANT_ALL itself (subs_set_local), so that the others send it everything.
 *
 * Callbacks must not call back into the same struct subs, except the
 * read-only queries (subs_select, subs_want_all, subs_foreach_*) from
 * `changed`.
 */
#ifndef MCTUN_SUBS_H
#define MCTUN_SUBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define SUBS_REFRESH_NS   (30ull * 1000000000)   /* our announcement, at least this often */
#define SUBS_LIFE_MULT    3                      /* lifetime = 3 x refresh */
#define SUBS_MAX_LIFE_S   3600u                  /* a longer one is taken as this */
#define SUBS_HOLDDOWN_NS  (100ull * 1000000)     /* between two of our own changes */
#define SUBS_RETRY_NS     (100ull * 1000000)     /* a failed send is redone after */
#define SUBS_MAX_ORIGINS  1024u                  /* remembered; the stalest goes first */
#define SUBS_MAX_HELD_ENTRIES (256u * 1024)      /* over all origins; see below */
#define SUBS_MAX_HELD_SOURCES (1024u * 1024)
#define SUBS_MAX_PEER_ID  (1u << 20)             /* peer ids are below this */

struct subs;

struct subs_config {
	uint64_t node_id;           /* ours, not 0 (it also seeds the index's hash) */
	uint64_t refresh_ns;        /* 0: SUBS_REFRESH_NS */
	unsigned int max_hops;      /* --max-hops: as for DATA, 1..255 */
	/* Memory bounds, 0 for the defaults above. An origin beyond
	 * max_origins evicts the stalest; one whose want set would take the
	 * entries or sources held over all origins past theirs is held as
	 * WANT_ALL (it gets more than it asked for, never less). */
	unsigned int max_origins;
	unsigned int max_held_entries;
	unsigned int max_held_sources;
	/*
	 * Queue one frame (len bytes, valid during the call) to peer. A
	 * return < 0 means it was not queued: the peer then gets no more
	 * ANNOUNCE until its full state is sent again, SUBS_RETRY_NS later
	 * (from subs_tick), so a lost change heals.
	 */
	int (*send)(void *ctx, unsigned int peer, const uint8_t *buf, size_t len);
	/* What subs_want_all and subs_foreach_want say has changed: once at
	 * the end of a call that changed it, however much changed. May be
	 * NULL. */
	void (*changed)(void *ctx);
	void *ctx;
};

struct subs_stats {
	uint64_t frames_in, frames_out;   /* ANNOUNCE frames (chunks) */
	uint64_t ann_in;            /* announcements received whole */
	uint64_t ann_out;           /* ... sent whole (one per peer) */
	uint64_t accepted;          /* newer serials taken */
	uint64_t relayed;           /* ... and passed on (once, to all other peers) */
	uint64_t same;              /* the serial held, from one more peer (via) */
	uint64_t older;             /* an older serial: ignored */
	uint64_t own;               /* our own origin come back: ignored */
	uint64_t hops;              /* hops >= max_hops: ignored */
	uint64_t aged_out;          /* not renewed within its lifetime */
	uint64_t unreachable;       /* forgotten: the last peer it came from went down */
	uint64_t evicted;           /* forgotten for room (max_origins) */
	uint64_t degraded;          /* held or sent as WANT_ALL for the bounds */
	uint64_t abandoned;         /* announcements cut short (restarted, peer down) */
	uint64_t bad;               /* -EBADMSG from subs_input */
	uint64_t send_fail;         /* send callback failures */
	uint64_t resends;           /* full states sent again after one */
	uint64_t floods;            /* our own announcements (serials) */
	/* gauges */
	uint64_t origins;           /* remembered now */
	uint64_t held_entries, held_sources;
	uint64_t mem;               /* bytes allocated by this instance */
	uint64_t serial;            /* our current serial */
	uint64_t local_entries;     /* our own want set */
};

/* One remembered origin, for `mctun status`. */
struct subs_origin_info {
	uint64_t node_id;
	uint64_t serial;
	uint8_t hops;               /* as it arrived (0: the origin is a neighbour) */
	bool all;                   /* wants WANT_ALL */
	uint64_t age_ns;            /* since this serial was taken */
	uint64_t expires_ns;        /* forgotten in this long unless renewed */
	unsigned int entries, sources;
	const unsigned int *via;    /* peers it came from at this serial */
	unsigned int nvia;
	const struct want *w;       /* its entries[], valid during the callback */
};

/* NULL when out of memory or cfg is invalid. */
struct subs *subs_new(const struct subs_config *cfg, uint64_t now);
void subs_free(struct subs *s);
/* A reload: refresh, max_hops and the bounds (node_id and the callbacks
 * stay). Returns 0, -EINVAL or -ENOMEM. */
int subs_reconfigure(struct subs *s, const struct subs_config *cfg);

/*
 * Our own want set, replacing the previous one (entries and their sources
 * are copied). Flooded at once, or, within SUBS_HOLDDOWN_NS of our last
 * announcement, once at the end of it, whatever changed meanwhile. An
 * unchanged set sends nothing. Over the bounds it is made larger, never
 * smaller: an entry with more than ANNOUNCE_MAX_SRC sources, or past
 * ANNOUNCE_MAX_SOURCES in all, wants any source; more than
 * ANNOUNCE_MAX_ENTRIES entries, or any WANT_ALL, is WANT_ALL alone.
 * INCLUDE entries without a source are left out. Returns 0, or -EINVAL
 * with *why for an entry want_check() refuses (nothing changes then).
 */
int subs_set_local(struct subs *s, const struct want *w, unsigned int n, uint64_t now,
		   const char **why);

/*
 * A connection that negotiated PROTO_CAP_SUBSCRIBE is up (node_id from
 * its hello): it is sent our full state. Every peer that goes up must go
 * down before its id is given again. Returns 0, -EINVAL (id too large,
 * already up) or -ENOMEM.
 */
int subs_peer_up(struct subs *s, unsigned int peer, uint64_t node_id, uint64_t now);
void subs_peer_down(struct subs *s, unsigned int peer);

/*
 * An ANNOUNCE frame (as frame_parse() took it) from peer. Returns 0, or
 * -EBADMSG with *why (static) for a violation: the caller closes that
 * connection (and calls subs_peer_down). An ANNOUNCE from a peer that is
 * not up here (it did not negotiate the capability) is one.
 */
int subs_input(struct subs *s, unsigned int peer, const struct frame *f, uint64_t now,
	       const char **why);

/* Ageing, our refresh, held-down changes, resends after failures. Returns
 * when it is due next (ns, same clock as now). */
uint64_t subs_tick(struct subs *s, uint64_t now);

/*
 * Which subscribing peers want a datagram (group and src as in struct
 * data_hdr, port in host order): returns how many, and marks them for
 * subs_selected() until the next subs_select. A peer is selected when an
 * origin that wants the datagram came from it; the caller still skips the
 * peer the datagram came from, as before. Costs one hash lookup per
 * prefix length in use (one, with no prefix entries), the entries of that
 * group, and the origins wanting WANT_ALL. Allocates nothing.
 */
unsigned int subs_select(struct subs *s, uint8_t family, const uint8_t group[16],
			 uint16_t port, const uint8_t src[16]);
bool subs_selected(const struct subs *s, unsigned int peer);

/*
 * What to capture: everything (some remembered origin wants WANT_ALL), or
 * the union of every remembered origin's entries, one call per distinct
 * (family, plen, group, port) with the source filters of all of them
 * merged (more than ANNOUNCE_MAX_SRC sources merged: any source). Entries
 * are not merged across ports or prefixes. A non-zero return of fn stops
 * the walk and is returned. Reorders the index (hence not const).
 */
bool subs_want_all(const struct subs *s);
int subs_foreach_want(struct subs *s, int (*fn)(void *ctx, const struct want *w), void *ctx);

/* Every remembered origin (not ourselves). */
void subs_foreach_origin(const struct subs *s, uint64_t now,
			 void (*fn)(void *ctx, const struct subs_origin_info *oi), void *ctx);
const struct subs_stats *subs_stats(const struct subs *s);

#endif
