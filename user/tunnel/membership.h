/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which groups the receivers on one interface want, learned from their
 * IGMP and MLD messages the way a multicast router learns them (RFC 3376
 * §6, RFC 3810 §7), and the querier that keeps their reports coming.
 *
 * Pure: time comes in as `now` (a monotonic clock in ns, never 0),
 * messages come in parsed (mship_wire.h) or raw (mship_receive), and
 * queries and changes go out through callbacks. No clock, no socket, no
 * global state. IGMP (family 4) and MLD (family 6) are independent: each
 * has its own querier, its own adopted robustness and query interval, its
 * own counters; groups of both share the one max_groups bound.
 *
 * Forwarding state of a group (RFC 3376 §6.3): not present (nobody
 * wants it), INCLUDE(S) (forward only traffic from the sources in S) or
 * EXCLUDE(S) (forward all traffic but that from the sources in S).
 *
 * Deviations from the RFCs, chosen on purpose:
 * - last_member_interval defaults to 0.5 s, not 1 s, and the last member
 *   count is the robustness: with the defaults a leave is noticed in
 *   LMQT = 0.5 s x 2 = 1 s, a second sooner than the RFC defaults;
 * - at most MSHIP_MAX_SOURCES source records per group: a group that would
 *   need more becomes EXCLUDE({}) with its group timer at (at least) GMI,
 *   i.e. everything is forwarded, the conservative answer; counted in
 *   src_overflows. It returns to source filtering once it times out;
 * - link-local scope groups (224.0.0.0/24; IPv6 scopes 0, 1 and 2, which
 *   is ff00::/16, ff01::/16, ff02::/16 and their flagged forms like
 *   ff12::/16) are never tracked, nor any group the allowed() callback
 *   refuses: both are counted and otherwise ignored;
 * - queries from 0.0.0.0 (snooping switches' proxy queries, RFC 4541) and
 *   from our own address take no part in the querier election; the
 *   values adopted from another querier's QRV/QQIC (RFC 3376 §4.1.6-7) are
 *   dropped for the configured ones when that querier goes silent, and a
 *   router in querier mode "on" adopts nothing;
 * - hearing an IGMPv1/v2 or MLDv1 querier is counted (queries_old), not
 *   acted on: RFC 3376 §7.3.1 leaves the switch to older versions to the
 *   administrator;
 * - a general query with sources is refused by the parser.
 */
#ifndef MCTUN_MEMBERSHIP_H
#define MCTUN_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mship_wire.h"

#define MSHIP_MAX_SOURCES 64

enum mship_querier_mode {
	MSHIP_QUERIER_OFF  = 0,  /* never send a query */
	MSHIP_QUERIER_AUTO = 1,  /* RFC election: start as querier, yield to a lower address */
	MSHIP_QUERIER_ON   = 2,  /* always query, never yield */
};

/* Intervals that the codes of a query cannot say exactly are rounded down
 * to ones they can (QI to whole seconds, 128 s and more in steps of 1/16;
 * the others in tenths of a second likewise), so that what we announce is
 * what we use. */
struct mship_params {
	unsigned int robustness;               /* 2; 1..255, also the last member count */
	uint32_t query_interval_ms;            /* 125000; 1 s .. 31744 s (the largest QQIC) */
	uint32_t query_response_interval_ms;   /* 10000; 100 ms .. 3174.4 s, below the QI */
	uint32_t last_member_interval_ms;      /* 500 (see above); 100 ms .. 3174.4 s */
	uint32_t startup_query_interval_ms;    /* 0: query_interval / 4 */
	unsigned int startup_query_count;      /* 0: robustness */
	unsigned int max_groups;               /* 4096, both families together; 1 .. 2^20 */
	enum mship_querier_mode querier;       /* auto */
};

/*
 * The callbacks. ctx is passed back to each. A callback may read (lookup,
 * iterate, querier info, mship_wants) but must not call mship_input,
 * mship_receive, mship_tick, mship_set_addr, mship_recheck or mship_free:
 * such a call does nothing (the tables are mid-walk).
 */
struct mship_ops {
	/* May the group be tracked (the configuration is the policy)? Asked
	 * before a group is created; NULL allows every group. */
	bool (*allowed)(void *ctx, uint8_t family, const uint8_t group[16]);
	/* What should be forwarded for the group changed: created, removed,
	 * filter mode or the source list that matters changed. Called after
	 * the change, once per group per mship_input / mship_tick. */
	void (*changed)(void *ctx, uint8_t family, const uint8_t group[16]);
	/* Send a query on the interface: general (group NULL), group-specific
	 * (nsrc 0) or group-and-source-specific; srcs packed as on the wire.
	 * mship_build_query() takes the same arguments, mship_query_dst()
	 * gives the IP destination; the IP source is the address given to
	 * mship_set_addr(), with TTL 1 and a router alert option. */
	void (*send_query)(void *ctx, uint8_t family, const uint8_t *group, const uint8_t *srcs,
			   unsigned int nsrc, uint32_t max_resp_ms, bool s_flag, uint8_t qrv,
			   uint32_t qqi_s);
	void *ctx;
};

enum mship_filter {
	MSHIP_NONE    = 0,       /* not present: nobody wants the group */
	MSHIP_INCLUDE = 1,       /* forward only from srcs */
	MSHIP_EXCLUDE = 2,       /* forward all but from srcs */
};

struct mship_group_info {
	uint8_t family;
	uint8_t group[16];
	uint8_t filter;          /* enum mship_filter */
	uint8_t compat;          /* host compatibility: IGMP 1, 2, 3; MLD 1, 2 */
	uint16_t nsrc;           /* of srcs[] */
	uint16_t nrequested;     /* EXCLUDE: sources asked for by name, forwarded anyway */
	uint64_t timer_ns;       /* EXCLUDE: time left on the group timer; else 0 */
	uint64_t reports;        /* reports and records naming the group */
	uint8_t srcs[MSHIP_MAX_SOURCES][16];
};

struct mship_stats {
	uint64_t reports;            /* report messages, every version */
	uint64_t records;            /* their v3/MLDv2 records of a known type */
	uint64_t leaves;             /* IGMPv2 leaves, MLDv1 dones */
	uint64_t queries_heard;      /* from other routers */
	uint64_t queries_old;        /* of them IGMPv1/v2 or MLDv1: an older querier */
	uint64_t queries_sent;
	uint64_t refused_max_groups; /* a new group past max_groups */
	uint64_t refused_not_allowed;/* a group allowed() refused */
	uint64_t ignored_link_local; /* reports for link-local scope groups */
	uint64_t src_overflows;      /* groups made EXCLUDE({}) for too many sources */
	uint64_t bad;                /* messages mship_receive refused */
	uint64_t nomem;              /* allocations that failed */
};

struct mship_querier_info {
	bool has_addr;           /* mship_set_addr gave an address */
	bool querier;            /* we are the querier (and send queries) */
	bool other_present;      /* a lower address queried within the other querier interval */
	uint8_t addr[16];        /* ours */
	uint8_t other[16];       /* that other querier, while other_present */
	uint64_t other_timer_ns; /* time left before we take over (mode auto) */
	uint64_t next_query_ns;  /* time left to our next general query; 0: none */
	unsigned int robustness; /* in effect: configured, or adopted from the querier */
	uint32_t query_interval_ms;
	unsigned int groups;     /* groups of the family */
	struct mship_stats stats;
};

struct mship;

/* The defaults above into *p. */
void mship_params_default(struct mship_params *p);

/* A new, empty state for one interface. ops is copied. Returns 0, -EINVAL
 * for parameters out of range, or -ENOMEM. */
int mship_new(const struct mship_params *p, const struct mship_ops *ops, struct mship **out);
/* Frees everything, without callbacks. NULL is fine. */
void mship_free(struct mship *m);

/* Our own address on the interface for a family (the source of our
 * queries, our place in the election); NULL or all zero: none, and no
 * querying for that family. Setting one starts the startup queries in
 * querier modes auto (unless a lower querier is present) and on. */
void mship_set_addr(struct mship *m, uint64_t now, uint8_t family, const uint8_t *addr);

/* A parsed message heard on the interface (mship_parse and, for what the
 * IP header says, mship_check_ip, both passed). Updates the state, calls
 * changed() and send_query() as needed, and returns the next deadline as
 * mship_tick does. */
uint64_t mship_input(struct mship *m, uint64_t now, const struct mship_msg *msg);

/* All of it for a raw message as the BPF program hands it over: parse,
 * check the IP header fields, count what is refused, mship_input. Returns
 * 0, or what mship_parse / mship_check_ip returned, with *why. Call
 * mship_next_deadline() afterwards. */
int mship_receive(struct mship *m, uint64_t now, uint8_t family, const uint8_t src[16],
		  const uint8_t dst[16], uint8_t ttl, bool router_alert, const uint8_t *msg,
		  size_t len, const char **why);

/* Runs what is due at now: timers expire (with changed() calls), queries
 * go out. Returns the next deadline in ns (UINT64_MAX: none). Calling it
 * early is harmless; calling it late delays expiries and queries. */
uint64_t mship_tick(struct mship *m, uint64_t now);
/* The earliest time mship_tick has something to do (may be earlier). */
uint64_t mship_next_deadline(const struct mship *m);

/* The group's state as of the last input or tick into *out; 0, or -ENOENT
 * with out->filter MSHIP_NONE. now only turns deadlines into time left. */
int mship_lookup(const struct mship *m, uint64_t now, uint8_t family, const uint8_t group[16],
		 struct mship_group_info *out);
/* Does anyone on the interface want traffic from src to group? */
bool mship_wants(const struct mship *m, uint8_t family, const uint8_t group[16],
		 const uint8_t src[16]);

/* Every group, in no order: start from a zeroed iterator. Iterating while
 * the state changes is safe but may skip or repeat a group. */
struct mship_iter {
	unsigned int bucket, pos;
};
bool mship_next_group(const struct mship *m, uint64_t now, struct mship_iter *it,
		      struct mship_group_info *out);

void mship_querier_info(const struct mship *m, uint64_t now, uint8_t family,
			struct mship_querier_info *out);

/* Asks allowed() again for every group (after a configuration change) and
 * removes those it now refuses, with changed() for each. */
void mship_recheck(struct mship *m);

/* Live allocations of groups and their source lists (0 when no group is
 * left): for the tests. */
unsigned long mship_allocs(const struct mship *m);

#endif
