/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The options of `mctun run`, from the command line and from a config file.
 *
 * One table in config.c describes each option once: its long name is also
 * its key in the file, one setter parses its value into struct config for
 * both, and its help text is what `mctun run --help` prints. The file is
 * read first and the command line applied over it: a scalar given on the
 * command line wins, a list (group, listen, peer) gets the entries of both.
 */
#ifndef MCTUN_CONFIG_H
#define MCTUN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "addr.h"
#include "allow.h"
#include "mctun.h"
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
	uint32_t bpf_flags;            /* more MCTUN_GF_* for its BPF entries (interest.c) */
};

static inline bool group_captures(const struct cfg_group *g)
{
	return g->dir != GDIR_IN;
}

/* A local target (--to 'IFACE [ttl N] [direction D]', --netns 'PATH ...',
 * --container 'NAME ...'): the TC program copies the groups' datagrams
 * to its egress. Names only: the loader finds the interfaces, and follows
 * them. Exactly one of ifname, netns and container is set. */
#define TARGET_PATH_MAX 128
struct cfg_target {
	char ifname[IF_NAMESIZE];      /* --to */
	char netns[TARGET_PATH_MAX];   /* --netns: the namespace, reached by the veth leading there */
	char container[TARGET_PATH_MAX];  /* --container: a Docker container's name or id */
	char network[64];              /* --container 'NAME network NET': the veth on NET; "" */
	uint8_t ttl;                   /* of the copies; 0: as they came */
	uint8_t dir;                   /* TDIR_*: 'direction in|out|both' */
	bool all_groups;               /* 'groups all': every configured group, else only
					* those its receivers joined (learned) */
};

/* A target's direction: in (the default) copies the groups into it; out
 * forwards what is sent from behind it (onto the island, to the other
 * targets, into the tunnel) and copies nothing into it; both does both. */
enum { TDIR_IN = 0, TDIR_OUT = 1, TDIR_BOTH = 2 };

static inline bool target_sends(const struct cfg_target *t)
{
	return t->dir != TDIR_IN;
}

/* A target as the user named it, for the log: "--to br0", "--netns
 * /run/netns/c1", "--container cam1". Returns buf. */
const char *target_name(const struct cfg_target *t, char *buf, size_t len);

/* Found through a network namespace (--netns, --container): its interface
 * is whichever veth leads there now. */
static inline bool target_follows(const struct cfg_target *t)
{
	return t->netns[0] || t->container[0];
}

/* Does a target take every configured group ('groups all')? */
static inline bool targets_all_groups(const struct cfg_target *t, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (t[i].all_groups)
			return true;
	return false;
}

/* --membership: the configured groups are carried whether or not anyone
 * listens (static), or only those receivers on the far islands joined. */
enum { MEMBERSHIP_STATIC = 0, MEMBERSHIP_LEARN = 1 };
/* --querier: send IGMP/MLD queries when no lower address does (auto), always
 * (on), never (off). */
enum { QUERIER_AUTO = 0, QUERIER_ON = 1, QUERIER_OFF = 2 };

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
	struct endpoint metrics;       /* --metrics: where the HTTP server listens */
	bool metrics_on;
	double metrics_timeout_s;      /* bound on one HTTP exchange */
	double busy_poll_s;            /* --busy-poll: poll on this long after a datagram */
	double coalesce_s;             /* --coalesce: ring drain period under load; 0 off */
	int framing;                   /* MCTUN_FRAMING_* of every connection */
	bool mptcp;                    /* --transport mptcp: Multipath TCP connections */
	double resume_s;               /* --resume: replay window; 0 off */
	struct tls_opts tls_opts;      /* --tls-cert/--tls-key/--tls-ca or --psk-file */
	struct tls_ctx *tls;           /* NULL: plain TCP, unauthenticated */
	bool insecure;                 /* --insecure: plain TCP was asked for by name */
	bool keep_source;              /* --keep-source: re-inject as the original sender */
	struct cfg_target targets[MCTUN_MAX_TARGETS];  /* --to; zeroed past ntargets */
	unsigned int ntargets;
	char docker_socket[108];       /* --container: the Docker Engine API's Unix socket */
	struct cidr *allow;            /* --allow: who may connect; none: anyone */
	unsigned int nallow;
	uint32_t max_pending;          /* inbound connections authenticating at once */
	/* Membership (user/tunnel/membership.h): groups learned from IGMP/MLD. */
	int membership;                /* MEMBERSHIP_* */
	int querier;                   /* QUERIER_* */
	double query_interval_s;       /* RFC 3376's Query Interval */
	double query_response_s;       /* ... Query Response Interval */
	double last_member_s;          /* ... Last Member Query Interval */
	uint32_t robustness;           /* ... Robustness Variable */
	uint32_t max_groups;           /* groups learned at once */
	unsigned int verbose;          /* -v given this often */
	char *path;                    /* the config file read, NULL for none */
	unsigned int *key_line;        /* config.c's: the file's line of each option, 0 = not in it */
	int argc;                      /* the command line, read again on reload */
	char **argv;
};


/* Read when present and no --config or --no-config is given. */
#define CONFIG_DEFAULT_PATH "/etc/mctun/mctun.conf"

/* config_load() results besides 0 and -errno. */
enum { CONFIG_HELP = 1, CONFIG_VERSION = 2 };

/*
 * A new config from argv (as `mctun run` gets it: argv[0] is "run") and
 * the config file it names, or the default one when present; checked for
 * completeness. Every refusal prints one line, "FILE:LINE: reason" for the
 * file. argv is kept (not copied) for reloads: it must outlive the config.
 * ifindex is left 0.
 */
int config_load(int argc, char **argv, struct config **out);
void config_free(struct config *cfg);

/* The option lines of `mctun run --help`, from the table. */
void config_print_options(FILE *f);

/* Whether an option that cannot change at run time differs between the two
 * configs; for the first such, one line "FILE:LINE: KEY: cannot change at
 * run time ...", naming the line of cfg's file that sets it (or of old's,
 * when cfg's file no longer does). */
bool config_fixed_changed(const struct config *old, const struct config *cfg);

/* How peers authenticate, as MCTUN_INFO_* flags for struct mctun_info:
 * PSK, TLS_CERT, or INSECURE (with INSECURE_PUBLIC when a listener is on
 * an address other than loopback). */
unsigned int config_auth_flags(const struct config *cfg);

/* The same peer or listening address (as resolved). */
bool endpoint_same(const struct endpoint *a, const struct endpoint *b);

#endif
