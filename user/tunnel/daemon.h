/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The tunnel daemon: configuration, state, and the pieces of run. */
#ifndef MCTUN_DAEMON_H
#define MCTUN_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "allow.h"
#include "obuf.h"
#include "proto.h"
#include "seen.h"
#include "utframe.h"
#include "tls.h"

#define MAX_ENDPOINTS 64

struct endpoint {
	char host[256];
	uint16_t port;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char name[ADDR_STRLEN + 16];   /* as given, for logs */
};

/* Which way a group is carried. */
enum group_dir {
	GDIR_BOTH = 0,                 /* captured here and re-injected here */
	GDIR_IN   = 1,                 /* only re-injected: from the tunnel onto the island */
	GDIR_OUT  = 2,                 /* only captured: from the island into the tunnel */
};

struct cfg_group {
	struct mc_group g;
	struct mc_group to;            /* re-inject to this group:port instead; family 0: no */
	uint8_t dir;                   /* enum group_dir */
	uint32_t id;                   /* BPF group id (mctun_gstats slot), kept across reloads */
};

static inline bool group_captures(const struct cfg_group *g)
{
	return g->dir != GDIR_IN;
}

/* Filled by config.c from the command line and the config file. */
struct config {
	char *ifname;
	unsigned int ifindex;
	struct cfg_group *groups;
	unsigned int ngroups;
	struct endpoint listen[MAX_ENDPOINTS];
	unsigned int nlisten;
	struct endpoint peer[MAX_ENDPOINTS];
	unsigned int npeer;
	int mode;                      /* MCTUN_MODE_* */
	__u32 xdp_flags;               /* XDP_FLAGS_DRV_MODE/SKB_MODE, 0 = try native, then generic */
	uint32_t ttl;                  /* of re-injected datagrams */
	uint32_t max_hops;             /* tunnel hops a frame may take */
	uint64_t queue_bytes;          /* per-peer output queue bound */
	uint64_t queue_total;          /* bound of all peers' queues together */
	uint64_t ring_bytes;           /* BPF ring buffer size */
	uint32_t max_peers;            /* accepted connections at once */
	double keepalive_s;            /* send a keepalive after this idle time */
	double dead_s;                 /* drop a peer silent for this long */
	double handshake_s;            /* bound on TLS + hello exchange (--auth-timeout) */
	double backoff_max_s;          /* reconnect back-off ceiling */
	bool keep_dscp;                /* re-inject with the captured DSCP */
	struct endpoint metrics;       /* --metrics: where the HTTP server listens */
	bool metrics_on;
	double metrics_timeout_s;      /* bound on one HTTP exchange */
	double busy_poll_s;            /* --busy-poll: poll on this long after a datagram */
	int framing;                   /* MCTUN_FRAMING_* of every connection */
	struct tls_opts tls_opts;      /* --tls-cert/--tls-key/--tls-ca or --psk-file */
	struct tls_ctx *tls;           /* NULL: plain TCP, unauthenticated */
	bool insecure;                 /* --insecure: plain TCP was asked for by name */
	struct cidr *allow;            /* --allow: who may connect; none: anyone */
	unsigned int nallow;
	uint32_t max_pending;          /* inbound connections authenticating at once */
	unsigned int verbose;          /* -v given this often */
	char *path;                    /* the config file read, NULL for none */
	unsigned int *key_line;        /* config.c's: the file's line of each option, 0 = not in it */
	int argc;                      /* the command line, read again on reload */
	char **argv;
};

/* What an epoll event points at. */
enum src_kind { SRC_SIGNAL, SRC_TIMER, SRC_RING, SRC_LISTEN, SRC_PEER, SRC_GROUP,
		SRC_METRICS };

struct src {
	enum src_kind kind;
	int fd;
};

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

/* Group index by (family, address, port): open addressing, -1 = empty. */
struct gtable {
	int *slot;
	unsigned int mask;
};


struct tc_capture;
struct metrics;
struct counters_fds;

struct daemon {
	struct config *cfg;            /* the running one; a reload replaces it */
	int epfd;
	struct src sig, timer;
	uint64_t node_id;
	uint64_t seq;                  /* next sequence number of our captures */
	struct tc_capture *tc;         /* NULL in socket mode */
	struct src *ring_src;          /* epoll entry of the ring, tc mode */
	struct gsock **gs;             /* per group of cfg; NULL: none (direction in) */
	struct listener **listeners;
	unsigned int nlisteners;
	struct gtable gtab;
	struct peer **peers;
	unsigned int npeers, cap_peers;
	int inj_fd[2];                 /* [0] IPv4, [1] IPv6; -1 if unused */
	uint16_t inj_port[2];
	uint8_t local_addrs[64][17];   /* family byte + address, for self checks */
	unsigned int nlocal;
	struct seen *seen;
	struct mctun_dstats st;
	__u64 dead_drops;              /* queue drops of peers already freed */
	uint64_t flush_at;             /* no flush round before this (ns) */
	bool no_pwait2;                /* kernel older than 5.11 */
	bool no_gso;                   /* kernel without UDP GSO */
	uint32_t mtu;                  /* of the interface, 0 until read */
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

/* capture_tc.c: the BPF side of tc mode. */
int tc_capture_open(struct daemon *d, struct tc_capture **out);
int tc_capture_ring_fd(struct tc_capture *tc);
int tc_capture_poll(struct tc_capture *tc);
int tc_capture_set_selfport(struct tc_capture *tc, uint16_t port);
void tc_capture_log_stats(struct tc_capture *tc, const struct config *cfg);
/* Bring the groups map from old's groups (NULL: none) to cfg's, touching
 * only the entries that differ; new groups' counters start at zero. */
int tc_capture_set_groups(struct tc_capture *tc, const struct config *old,
			  const struct config *cfg);
/* The info map's flags from cfg (config_auth_flags()): after a reload
 * that changed the listeners. */
int tc_capture_update_info(struct tc_capture *tc, const struct config *cfg);
/* Counters of a group id at zero, before a new group takes it. */
int tc_capture_zero_gstats(struct tc_capture *tc, uint32_t id);
/* Publish the daemon's counters and peer table in the pinned maps. */
void tc_capture_publish(struct tc_capture *tc, const struct mctun_dstats *st,
			const struct mctun_peer_info *peers, unsigned int npeers);
void tc_capture_close(struct tc_capture *tc);
/* The maps `mctun stats` reads from the pins: info, stats, gstats, groups
 * (dstats and peers: -1, the daemon has them in memory). */
void tc_capture_fds(struct tc_capture *tc, struct counters_fds *fds);

/* sockets.c: per-group capture sockets and the re-injection sockets. */
int group_socket_open(const struct config *cfg, unsigned int gid, bool marked_only);
int inject_socket_open(const struct config *cfg, int family, uint16_t *port);
int inject_socket_set_ttl(int fd, int family, uint32_t ttl);
int local_addrs_load(struct daemon *d);
bool is_local_addr(const struct daemon *d, uint8_t family, const uint8_t *addr);
/* TCP keepalives that end a connection silent for about dead_s: the only
 * way to find a dead peer whose framing has no keepalive of its own. */
int tcp_keepalive_on(int fd, double idle_s, double dead_s);

/* daemon.c. daemon_run takes cfg over and frees it (or what a reload put
 * in its place) before it returns. */
int daemon_run(struct config *cfg);
/* Hand one captured datagram to the tunnel (from the ring or a socket). */
void daemon_capture(struct daemon *d, const struct data_hdr *h, const uint8_t *payload,
		    uint32_t len);
/* Index into d->cfg->groups of the group (addr, port), or -1. */
int daemon_find_group(const struct daemon *d, uint8_t family, const uint8_t *addr,
		      uint16_t port);
/* The peer table as published (at most max rows), with d->st's node_id,
 * queue_drops and peers_up brought up to date. Returns the rows. */
unsigned int daemon_peer_table(struct daemon *d, struct mctun_peer_info *pi, unsigned int max);

/* daemon.c, for reload.c */
void ep_set(struct daemon *d, struct src *s, uint32_t events, int op);
struct peer *peer_new(struct daemon *d, int fd, bool outbound, const char *name);
/* End a connection for good (outbound ones too); freed after the loop pass. */
void peer_drop(struct daemon *d, struct peer *p, const char *why);
int gtable_build(const struct config *cfg, struct gtable *gt);
/* The re-injection socket of family index fi (0 IPv4, 1 IPv6). */
int inject_open(struct daemon *d, int fi);
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
