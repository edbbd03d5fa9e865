/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The tunnel daemon: its state, shared by the loop (daemon.c), the
 * forwarding rules (forward.c), the subscriptions (interest.c) and
 * reload.c; and daemon_run(). */
#ifndef MCTUN_DAEMON_H
#define MCTUN_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "capture_socket.h"
#include "config.h"
#include "event.h"
#include "groups.h"
#include "inject.h"
#include "interest.h"
#include "localrx.h"
#include "mctun.h"
#include "peer.h"
#include "seen.h"

struct capture_bpf;
struct learn;
struct tlearn;
struct metrics;

/* How the ring is read (--coalesce, daemon.c): on its wake-up per datagram
 * (NOTIFY), or on a timer while the rate is high (QUIET), then one more
 * timed read after switching back (SETTLE). */
enum { RING_NOTIFY, RING_QUIET, RING_SETTLE };

struct ring_pace {
	int state;                     /* RING_* */
	uint64_t t0;                   /* NOTIFY: start of the rate window */
	uint64_t n;                    /* records read since t0 / the last timed read */
	uint64_t period;               /* QUIET, SETTLE: ns between timed reads */
	uint64_t next;                 /* the next timed read, UINT64_MAX: none */
	unsigned int idle;             /* QUIET: near-empty periods in a row */
};

struct daemon {
	struct config *cfg;            /* the running one; a reload replaces it */
	int epfd;
	struct src sig, timer;
	uint64_t node_id;
	uint64_t seq;                  /* next sequence number of our captures */
	struct capture_bpf *bpf;       /* the BPF capture; NULL in socket mode */
	struct src *ring_src;          /* epoll entry of the ring, tc mode */
	struct ring_pace rp;           /* how it is read */
	int allmulti;                  /* allmulti_open() while a range is captured, -1 */
	struct listener **listeners;
	unsigned int nlisteners;
	struct gtable gtab;
	struct peers peers;             /* every tunnel connection */
	struct injector inj;            /* re-injection onto the island */
	struct localrx rx;              /* groups local applications joined there */
	struct local_addrs local;       /* the host's: our own looped-back re-injections */
	struct seen *seen;
	struct mctun_dstats st;
	bool no_pwait2;                /* kernel older than 5.11 */
	bool stop;
	bool reload;                   /* SIGHUP: reload after this loop pass */
	int exit_err;                  /* why the loop stopped, 0 for a signal */
	uint64_t t_start;
	uint64_t now;                  /* this pass of the loop's time, now_ns() */
	uint64_t t_event;              /* a datagram last moved (--busy-poll) */
	bool moved;                    /* ... in this pass of the loop */
	struct metrics *metrics;       /* --metrics server, NULL without */
	struct learn *learn;           /* --membership learn, NULL without */
	struct tlearn *tl;             /* groups joined behind local targets; NULL without */
	struct interest in;            /* who wants what; what is captured */
};

/* Runs the daemon until a signal stops it or the interface goes. Takes
 * cfg over and frees it (or what a reload put in its place). */
int daemon_run(struct config *cfg);

#endif
