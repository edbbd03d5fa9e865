/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Docker containers as local targets (--container NAME|ID): the Docker
 * Engine API on its Unix socket says whether a container runs and with
 * which process; the target is then the veth leading into that process's
 * network namespace (netns.h), which capture_bpf.c looks up on its tick.
 *
 * Asking Docker can stall (a busy or hung daemon), so while mctun runs the
 * asking is done by a thread of its own: it follows Docker's events stream
 * and asks about a container again when an event names it (and about all
 * of them when the stream starts, and every DOCKER_RESYNC_MS), and
 * publishes the answers under a mutex; the event loop only reads the
 * latest one. Every exchange is bounded in time, and the thread is told
 * to stop (an eventfd it polls on, also during an exchange) and joined.
 */
#ifndef MCTUN_DOCKER_H
#define MCTUN_DOCKER_H

#include <stdbool.h>
#include <stddef.h>

#define DOCKER_SOCKET_DEFAULT "/var/run/docker.sock"
#define DOCKER_TIMEOUT_MS     3000    /* one exchange, connect to last byte */
#define DOCKER_RESYNC_MS      10000   /* asked again, events or not */
#define DOCKER_BACKOFF_MIN_MS 100     /* before asking for the events stream again */
#define DOCKER_BACKOFF_MAX_MS 2000
#define DOCKER_ANSWER_MAX     (1 << 20)

enum docker_state {
	DOCKER_ERROR = 0,      /* Docker was not reached or its answer not understood: err */
	DOCKER_RUNNING,        /* pid is the container's process */
	DOCKER_STOPPED,        /* it exists and does not run (status says how) */
	DOCKER_MISSING,        /* no such container (404) */
};

#define DOCKER_NETS_MAX 8     /* a container's networks we keep */

/* One of a container's networks: NetworkSettings.Networks.NAME. */
struct docker_net {
	char name[64];
	unsigned char mac[6];  /* its interface's in the container (MacAddress) */
	bool have_mac;         /* (only while it runs) */
	bool cut;              /* its name is longer than name holds: never matched */
};

struct docker_info {
	int state;             /* enum docker_state */
	int pid;               /* State.Pid while running, else 0 */
	char status[24];       /* State.Status: "running", "exited", "created", ... */
	char id[72];           /* Id: the container's full id, "" when not said */
	unsigned int nnets;    /* its networks, in Docker's order (at most DOCKER_NETS_MAX) */
	bool nets_more;        /* it has more than DOCKER_NETS_MAX */
	struct docker_net nets[DOCKER_NETS_MAX];
	char err[160];         /* DOCKER_ERROR: why, one phrase */
};

/*
 * A whole HTTP response to GET /containers/NAME/json (head and body, as
 * read until the server closed) into *out. Pure: the fuzzer drives it.
 * Returns 0 (out->state set, DOCKER_ERROR with err for an answer that is
 * not understood).
 */
int docker_parse_inspect(const char *buf, size_t len, struct docker_info *out);

/*
 * Where a container's copies go: its interface on network want (NULL: its
 * only network). 0 with *mac its MAC address (*have_mac false: no network
 * named and at most one: the first veth leading there, as before), or
 * -ENOENT (not on want) or -EEXIST (on several, and none named), with why
 * (one phrase naming its networks) in buf.
 */
int docker_pick_net(const struct docker_info *d, const char *want, unsigned char mac[6],
		    bool *have_mac, char *buf, size_t len);

/*
 * Ask the Docker at socket path sock about container name, waiting at most
 * timeout_ms in all; stop_fd (-1: none) readable ends the wait early.
 * Fills *out (state DOCKER_ERROR with err when Docker could not be asked).
 */
void docker_inspect(const char *sock, const char *name, int timeout_ms, int stop_fd,
		    struct docker_info *out);

/* One event of Docker's events stream (GET /events), as far as it says. */
struct docker_event {
	char type[16];         /* Type: "container", "network", ... */
	char action[40];       /* Action: "start", "die", "destroy", "rename", "connect", ... */
	char id[72];           /* Actor.ID: a container's id, or a network's */
	char name[128];        /* Actor.Attributes.name: a container's, or a network's */
	char container[72];    /* Actor.Attributes.container: the container of a network event */
};

typedef void (*docker_event_fn)(const struct docker_event *e, void *ctx);

/*
 * The events stream's answer as it comes, in pieces of any size: an HTTP
 * head (200, not chunked), then JSON objects one after the other, each
 * parsed as its bytes arrive (json-c's tokener), an event at most
 * DOCKER_ANSWER_MAX bytes. Pure: the fuzzer drives it.
 */
struct docker_events {
	char head[4096];
	size_t hlen;
	bool in_body;          /* the head was 200, events follow */
	bool failed;           /* err says why; nothing more is read */
	struct json_tokener *tok;
	size_t pending;        /* bytes of the object under way */
	unsigned long events;  /* objects read */
	char err[160];
};

int docker_events_init(struct docker_events *ev);
void docker_events_free(struct docker_events *ev);
/* Reads len more bytes, calling fn for each event with a Type and an
 * Action. 0, or -EPROTO (then and from then on: ev->err says why). */
int docker_events_feed(struct docker_events *ev, const char *buf, size_t len,
		       docker_event_fn fn, void *ctx);

/* The thread that follows containers. */
struct docker_watch;

/*
 * Start following n containers (names[i]) through the Docker at sock;
 * first[i] is what is known now (published until the thread's first
 * round). Names and path are copied. 0 or -errno.
 */
int docker_watch_start(const char *sock, const char *const *names, unsigned int n,
		       const struct docker_info *first, struct docker_watch **out);
/* The latest answer about container i, and a number that changes with it. */
void docker_watch_get(struct docker_watch *w, unsigned int i, struct docker_info *out,
		      unsigned int *seq);
/* Stop the thread (an exchange under way is cut short), join it, free. */
void docker_watch_stop(struct docker_watch *w);

#endif
