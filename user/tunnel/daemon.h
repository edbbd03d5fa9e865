/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The tunnel daemon: configuration, state, and the pieces of run. */
#ifndef MCTUN_DAEMON_H
#define MCTUN_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "allow.h"
#include "capture_socket.h"
#include "config.h"
#include "event.h"
#include "groups.h"
#include "inject.h"
#include "obuf.h"
#include "proto.h"
#include "seen.h"
#include "utframe.h"
#include "tls.h"

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

struct peer {
	struct src src;                /* first: epoll data points here */
	enum peer_state state;
	bool outbound;
	bool dead;                     /* close at the end of this loop pass */
	bool dirty;                    /* output to flush */
	bool want_out;                 /* EPOLLOUT armed */
	bool fail_logged;              /* outbound: failure reported since last up */
	uint8_t framing;               /* MCTUN_FRAMING_*, set when it is made */
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
};

struct gsock {
	struct src src;
	unsigned int gid;              /* index into config.groups */
};

struct listener {
	struct src src;                /* first: epoll data points here */
	unsigned int slot;             /* index into config.listen */
};



struct metrics;
struct counters_fds;

struct daemon {
	struct config *cfg;            /* the running one; a reload replaces it */
	int epfd;
	struct src sig, timer;
	uint64_t node_id;
	uint64_t seq;                  /* next sequence number of our captures */
	struct capture_bpf *bpf;       /* the BPF capture; NULL in socket mode */
	struct src *ring_src;          /* epoll entry of the ring, tc mode */
	struct gsock **gs;             /* per group of cfg; NULL: none (direction in) */
	struct listener **listeners;
	unsigned int nlisteners;
	struct gtable gtab;
	struct peer **peers;
	unsigned int npeers, cap_peers;
	struct injector inj;            /* re-injection onto the island */
	struct local_addrs local;       /* the host's: our own looped-back re-injections */
	struct seen *seen;
	struct mctun_dstats st;
	__u64 dead_drops;              /* queue drops of peers already freed */
	uint64_t flush_at;             /* no flush round before this (ns) */
	bool no_pwait2;                /* kernel older than 5.11 */
	uint64_t rl_start;             /* refusal log lines: this second began */
	unsigned int rl_lines;         /* ... lines logged in it */
	__u64 rl_quiet;                /* ... refusals not logged */
	bool stop;
	bool reload;                   /* SIGHUP: reload after this loop pass */
	int exit_err;                  /* why the loop stopped, 0 for a signal */
	uint64_t t_start;
	uint64_t t_event;              /* a datagram last moved (--busy-poll) */
	bool moved;                    /* ... in this pass of the loop */
	struct metrics *metrics;       /* --metrics server, NULL without */
};

/* daemon.c. daemon_run takes cfg over and frees it (or what a reload put
 * in its place) before it returns. */
int daemon_run(struct config *cfg);
/* Hand one captured datagram to the tunnel (from the ring or a socket). */
void daemon_capture(struct daemon *d, const struct data_hdr *h, const uint8_t *payload,
		    uint32_t len);
/* The peer table as published (at most max rows), with d->st's node_id,
 * queue_drops and peers_up brought up to date. Returns the rows. */
unsigned int daemon_peer_table(struct daemon *d, struct mctun_peer_info *pi, unsigned int max);

/* daemon.c, for reload.c */
struct peer *peer_new(struct daemon *d, int fd, bool outbound, const char *name);
/* End a connection for good (outbound ones too); freed after the loop pass. */
void peer_drop(struct daemon *d, struct peer *p, const char *why);
void raise_nofile(const struct config *cfg);

/* reload.c */
/* Bring the daemon's groups, listeners, peers and settings from old (NULL
 * at start) to cfg, which becomes d->cfg. On failure nothing has changed
 * and the error is logged: returns -errno. */
int daemon_apply(struct daemon *d, const struct config *old, struct config *cfg);
/* Under --insecure, a listener of cfg (index j) on an address other than
 * loopback: a warning that anyone who reaches it can inject. At start (once
 * the daemon runs) and for a listener a reload adds. */
void listener_warn_open(const struct config *cfg, unsigned int j);
/* SIGHUP: read the config again and apply it, or keep the running one. */
void daemon_reload(struct daemon *d);

#endif
