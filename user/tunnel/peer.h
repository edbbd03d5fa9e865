/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Tunnel connections: accepting and connecting, TLS and the hello, reading
 * and parsing frames, per-peer output queues (bounded, drops counted), and
 * ending a connection, one way for every reason. What arrives goes to the
 * callbacks of struct peer_ops: nothing here knows what a frame carries.
 */
#ifndef MCTUN_PEER_H
#define MCTUN_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "addr.h"
#include "config.h"
#include "event.h"
#include "mctun.h"
#include "obuf.h"
#include "proto.h"
#include "replay.h"
#include "tls.h"
#include "utframe.h"

struct peer_stats {
	__u64 frames_in, bytes_in;
	__u64 frames_out, bytes_out;
	__u64 queue_drops;          /* frames dropped: output queue full */
	__u64 framing_drops;        /* datagrams its framing cannot carry */
};

enum peer_state {
	PS_IDLE,         /* outbound, waiting to reconnect (fd == -1) */
	PS_CONNECTING,   /* outbound connect() in progress */
	PS_TLS,          /* connected, TLS handshake running */
	PS_HELLO,        /* connected, waiting for the peer's hello */
	PS_UP,           /* hello exchanged: data flows */
};

/*
 * --resume: what we keep per peer node (its node id), across its
 * connections: the frames sent to it (out), and how many it sent us.
 */
struct rsess {
	uint64_t node;                 /* the peer's node id */
	struct replay out;             /* frames sent to it, until acknowledged */
	uint64_t rx;                   /* DATA frames received from it */
	uint64_t rx_acked;             /* ... as we last acknowledged */
	uint64_t t_down;               /* its connection went (0: it has one) */
	struct peer *p;                /* that connection, NULL while none */
	bool fresh;                    /* made for the connection it has now */
	bool parked;                   /* out of the window: frames only numbered */
	bool gap_logged;               /* a gap said in the log, this connection */
	uint64_t park_n;               /* peers.away_n when it was parked */
};

struct peer {
	struct src src;                /* first: epoll data points here */
	enum peer_state state;
	bool outbound;
	bool dead;                     /* close at the end of this loop pass */
	bool dirty;                    /* output to flush */
	bool want_out;                 /* EPOLLOUT armed */
	bool fail_logged;              /* outbound: failure reported since last up */
	uint8_t framing;               /* MCTUN_FRAMING_*, set when it is made */
	bool subs;                     /* up, and both hellos had PROTO_CAP_SUBSCRIBE */
	bool subs_ready;               /* ... and its own announcement has come */
	unsigned int id;               /* small, unique among the live peers (subs.h) */
	unsigned int slot;             /* outbound: index into config.peer */
	struct listener *lst;          /* inbound: the listener that accepted it */
	char name[ADDR_STRLEN + 16];
	struct sockaddr_storage addr;  /* inbound: where it connected from */
	uint64_t node_id;              /* the peer's, after hello */
	struct tls_conn *tls;          /* NULL on a plain connection */
	bool rx_more;                  /* TLS: decrypted input left after a bounded read */
	uint8_t *in;                   /* input bytes not yet parsed */
	size_t in_len;
	struct obuf out;
	uint64_t t_up, t_rx, t_tx;     /* monotonic ns */
	uint64_t t_deadline;           /* hello or connect must finish by */
	uint64_t t_retry;              /* outbound: next connect attempt */
	uint64_t backoff_ns;
	struct peer_stats st;
	struct rsess *rs;              /* up with PROTO_CAP_RESUME on both sides */
	bool rs_go;                    /* ... its RESUME came: we send */
	bool rs_rx;                    /* ... its REPLAY came: it sends */
};

struct listener {
	struct src src;                /* first: epoll data points here */
	unsigned int slot;             /* index into config.listen */
};

/* Why a connection ends. Before it came up, every reason but PE_REMOVED
 * counts as a refusal of that kind; an outbound peer then waits for its
 * next attempt. PE_REMOVED ends it for good (a reload removed it). */
enum peer_end {
	PE_CLOSED,       /* closed, failed or timed out connecting */
	PE_ALLOW,        /* not in --allow */
	PE_PENDING,      /* over --max-pending */
	PE_AUTH,         /* failed authentication */
	PE_PLAIN,        /* plain text at a TLS listener */
	PE_TIMEOUT,      /* handshake not done within --auth-timeout */
	PE_REMOVED,      /* gone from the configuration: no retry */
};

/* What a peer's frames are handed to. */
struct peer_ops {
	/* p came up (hello exchanged; udptunnel framing: connected) */
	void (*up)(void *ctx, struct peer *p, uint64_t now);
	/* p, which was up, goes down (still as it was: p->subs, p->id) */
	void (*down)(void *ctx, struct peer *p);
	/* a DATA frame (mctun framing); may end p */
	void (*data)(void *ctx, struct peer *p, struct frame *f);
	/* an ANNOUNCE frame (subscriptions); may end p */
	void (*announce)(void *ctx, struct peer *p, struct frame *f, uint64_t now);
	/* a datagram of a udptunnel-framed peer; may end p */
	void (*ut_data)(void *ctx, struct peer *p, const uint8_t *payload, uint32_t len);
};

/* Every peer of the daemon, and what they share. */
struct peers {
	struct peer **v;
	unsigned int n, cap;
	const struct config *cfg;      /* the running one (peers_set_config) */
	int epfd;
	uint64_t node_id;              /* ours, for the hello */
	struct mctun_dstats *st;       /* refusals, bad frames, queue drops, peers up */
	__u64 dead_drops;              /* queue drops of peers already freed */
	uint64_t flush_at;             /* no flush round before this (ns) */
	uint64_t rl_start;             /* refusal log lines: this second began */
	unsigned int rl_lines;         /* ... lines logged in it */
	__u64 rl_quiet;                /* ... refusals not logged */
	const struct peer_ops *ops;
	void *ctx;
	uint32_t caps;                 /* PROTO_CAP_* our hello offers */
	unsigned int next_id;          /* the next peer id to try */
	struct rsess **rs;             /* --resume: a session per peer node */
	unsigned int nrs, caprs;
	unsigned int nrs_away;         /* ... gone, their window still open */
	uint64_t away_n;               /* frames that went to nodes away */
};

void peers_init(struct peers *ps, const struct config *cfg, int epfd, uint64_t node_id,
		struct mctun_dstats *st, const struct peer_ops *ops, void *ctx);
/* Closes and frees every peer. */
void peers_free(struct peers *ps);

/* A new peer: inbound on fd, or outbound (fd -1, PS_IDLE) to be set up by
 * the caller. NULL when out of memory. */
struct peer *peer_new(struct peers *ps, int fd, bool outbound, const char *name);
/* Ends p's connection (see enum peer_end); one that is dead is freed by
 * peers_reap(), after the loop pass. */
void peer_end(struct peers *ps, struct peer *p, enum peer_end how, const char *why);
/* A frame that breaks the protocol: counted, and p's connection ends. */
void peer_bad_frame(struct peers *ps, struct peer *p, const char *why);
/* Queue a frame (header + payload) to p within its share of the memory
 * bound, or count the drop and return -ENOBUFS. */
int peer_queue(struct peer *p, size_t share, const uint8_t *hdr, size_t hlen,
	       const uint8_t *payload, uint32_t plen, uint64_t now);
/* Queue a control frame (an ANNOUNCE) within p's whole queue bound, not
 * counted with the data frames. Returns 0 or -ENOBUFS. */
int peer_queue_ctl(struct peer *p, const uint8_t *frame, size_t len, uint64_t now);
/*
 * --resume. A DATA frame (header and payload) for p, whose connection
 * resumes (p->rs): kept in its window within share, sent from there.
 * peers_resume_away() keeps one for every peer node whose connection is
 * gone but whose window is still open (it is replayed when it is back).
 * peers_resume_away_open() says whether
 * there is such a node (everything configured is then captured).
 */
void peer_resume_put(struct peers *ps, struct peer *p, size_t share, const uint8_t *hdr,
		     size_t hlen, const uint8_t *payload, uint32_t plen, uint64_t now);
void peers_resume_away(struct peers *ps, size_t share, const uint8_t *hdr, size_t hlen,
		       const uint8_t *payload, uint32_t plen, uint64_t now);
bool peers_resume_away_open(const struct peers *ps);
/* The live peer of this id, or NULL. */
struct peer *peer_by_id(const struct peers *ps, unsigned int id);

/* The loop's calls: connections waiting on listener l; an epoll event of
 * p; timers (connect, retry, handshake, keepalive, silence); the output
 * round (returns how long the loop may wait before the next is due, 0 for
 * no limit); freeing the dead. */
void peers_accept(struct peers *ps, struct listener *l, uint64_t now);
void peer_event(struct peers *ps, struct peer *p, uint32_t events, uint64_t now);
void peers_tick(struct peers *ps, uint64_t now);
uint64_t peers_flush(struct peers *ps);
void peers_reap(struct peers *ps);
/* TLS: decrypted input OpenSSL holds after a bounded read, which epoll
 * does not report; peers_read_more() reads it. */
bool peers_rx_more(const struct peers *ps);
void peers_read_more(struct peers *ps, uint64_t now);

/* The peer table as published (at most max rows), with st's node_id,
 * queue_drops and peers_up brought up to date. Returns the rows. */
unsigned int peers_table(struct peers *ps, struct mctun_peer_info *pi, unsigned int max);
unsigned int peers_up(const struct peers *ps);
/* One log line per peer (SIGUSR1, exit). */
void peers_log(const struct peers *ps);

#endif
