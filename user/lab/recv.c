// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mctun recv: join a group, check the lab datagrams `mctun send` emits, and
 * report per sender what arrived: loss, duplicates, order, damage, TTL and
 * DSCP as received against what was sent, one-way latency, stalls.
 *
 * One event loop over the socket, a signalfd and (for the live dashboard)
 * a timerfd; the socket is drained with recvmmsg.  Memory is bounded: at
 * most MAX_SENDERS senders, each with a fixed duplicate window and a fixed
 * reservoir of latency samples.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cmds.h"
#include "lab.h"
#include "log.h"
#include "options.h"
#include "util.h"

#define MAX_SENDERS   1024            /* tracked; datagrams of more are "untracked" */
#define SLOTS         (2 * MAX_SENDERS) /* hash slots, a power of two */
#define WINDOW        65536u          /* sequence numbers remembered per sender */
#define RESERVOIR     2048            /* latency samples kept per sender */
#define RX_BATCH      64              /* datagrams per recvmmsg call */
#define RX_BUF        65536           /* any UDP payload fits */
#define RX_ROUNDS     16              /* recvmmsg calls before timers get a look */
#define RX_CTRL       128             /* room for timestamp, TTL and TOS cmsgs */
#define RCVBUF_BYTES  (16 << 20)
#define TICK_NS       250000000ull    /* dashboard redraw */
#define DASH_ROWS     16              /* senders shown on the dashboard */

struct recv_opts {
	struct mc_group group;
	const char *iface;
	unsigned int ifindex;
	uint32_t igmp_version;    /* 0 = leave the interface as it is */
	uint32_t mld_version;
	double duration;          /* seconds, 0 = until a signal */
	uint64_t count;           /* datagrams, 0 = no limit */
	double stall_timeout;     /* seconds */
	const char *ready_file;
	const char *source;       /* --source as given, NULL = none (then in group) */
	bool json;
	bool quiet;
};

struct sender {
	uint64_t id;
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	int prev;                 /* earlier sender from the same address:port, or -1 */
	uint64_t received;
	uint64_t unique;
	uint64_t duplicates;
	uint64_t reordered;
	uint64_t corrupt;
	uint64_t bytes;
	uint64_t min_seq;
	uint64_t max_seq;
	int ttl;                  /* last received; -1 if the kernel did not say */
	int dscp;                 /* last received; -1 if the kernel did not say */
	uint8_t ttl_sent;
	uint8_t dscp_sent;
	bool remarked;            /* some datagram arrived with a DSCP not sent */
	uint64_t first_rx;        /* CLOCK_REALTIME ns, kernel receive stamps */
	uint64_t last_rx;
	uint64_t stalls;          /* gaps longer than --stall-timeout, ended */
	uint64_t longest_stall;   /* ns */
	uint64_t dash_received;   /* at the previous dashboard draw */
	uint64_t lat_n;           /* latency samples offered */
	int64_t lat_max;          /* ns */
	int64_t lat[RESERVOIR];   /* ns; a uniform sample of all offered */
	uint64_t seen[WINDOW / 64]; /* bit (seq % WINDOW): seq in (max_seq - WINDOW, max_seq] seen */
};

struct recv_ctx {
	const struct recv_opts *o;
	struct sender *senders[MAX_SENDERS];
	int16_t slots[SLOTS];     /* index into senders, -1 empty */
	int nsenders;
	uint64_t received;        /* every datagram */
	uint64_t foreign;
	uint64_t corrupt;         /* lab header failed its check: no sender to blame */
	uint64_t untracked;       /* valid, from senders beyond MAX_SENDERS */
	uint64_t last_rx;         /* CLOCK_REALTIME ns */
	uint64_t t_start;         /* CLOCK_MONOTONIC ns */
	uint64_t t_end;
	uint64_t dash_ns;         /* CLOCK_MONOTONIC ns of the previous draw */
	int dash_lines;
	uint64_t rng;
	int64_t scratch[RESERVOIR];
};

struct sysctl_save {
	char path[96];
	char old[16];
	bool saved;
};

/* ---- options: setters into struct recv_opts, one table ------------------------ */

static int set_iface(void *ctx, const char *who, const char *val)
{
	struct recv_opts *o = ctx;

	(void)who;
	o->iface = val;
	return iface_index(val, &o->ifindex);
}

static int set_igmp_version(void *ctx, const char *who, const char *val)
{
	struct recv_opts *o = ctx;

	return parse_u32(who, val, 1, 3, &o->igmp_version);
}

static int set_mld_version(void *ctx, const char *who, const char *val)
{
	struct recv_opts *o = ctx;

	return parse_u32(who, val, 1, 2, &o->mld_version);
}

static int set_duration(void *ctx, const char *who, const char *val)
{
	struct recv_opts *o = ctx;

	return parse_seconds(who, val, 0, 1e9, &o->duration);
}

static int set_count(void *ctx, const char *who, const char *val)
{
	struct recv_opts *o = ctx;

	return parse_u64(who, val, 0, UINT64_MAX, &o->count);
}

static int set_stall_timeout(void *ctx, const char *who, const char *val)
{
	struct recv_opts *o = ctx;

	return parse_seconds(who, val, 0.001, 1e6, &o->stall_timeout);
}

static const struct opt recv_options[] = {
	{ "source", 'S', "S", OPT_TEXT, NULL,
	  "source-specific join (S,G); also GROUP:PORT@S\n"
	  "(default: any-source join)", OPT_FIELD(struct recv_opts, source) },
	{ "iface", 'i', "IF", 0, set_iface,
	  "join on this interface (default: the route's)" },
	{ "igmp-version", 0, "1|2|3", 0, set_igmp_version,
	  "force the IGMP version on --iface while running,\n"
	  "restored at exit (default: leave it)" },
	{ "mld-version", 0, "1|2", 0, set_mld_version,
	  "the same for MLD, IPv6 groups" },
	{ "duration", 'd', "SECS", 0, set_duration,
	  "stop after this long (1.5, 250ms, 2m), 0 = until\n"
	  "a signal (default 0)" },
	{ "count", 'c', "N", 0, set_count,
	  "stop after N datagrams, foreign ones included,\n"
	  "0 = no limit (default 0)" },
	{ "stall-timeout", 0, "SECS", 0, set_stall_timeout,
	  "a gap longer than this is a stall (default 1s)" },
	{ "ready-file", 0, "PATH", OPT_TEXT, NULL,
	  "create PATH once joined (removed at exit)", OPT_FIELD(struct recv_opts, ready_file) },
	{ "json", 'j', NULL, OPT_TRUE, NULL, "one JSON object on stdout at exit",
	  OPT_FIELD(struct recv_opts, json) },
	{ "quiet", 'q', NULL, OPT_TRUE, NULL, "no dashboard, no summary",
	  OPT_FIELD(struct recv_opts, quiet) },
	{ "help", 'h', NULL, OPT_HELP, NULL, "this text" },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: mctun recv GROUP:PORT [OPTIONS]\n"
"\n"
"Join a multicast group and check the datagrams `mctun send` emits: per sender,\n"
"loss, duplicates, reordering, damage, TTL and DSCP as received against as\n"
"sent, one-way latency (sender and receiver clocks must agree) and stalls.\n"
"\n"
"Options:\n");
	opt_print_help(f, recv_options, ARRAY_SIZE(recv_options), 21);
	fprintf(f,
"\n"
"On a terminal a dashboard is redrawn 4 times a second, state WAITING,\n"
"RECEIVING or STALLED; otherwise a summary is printed at exit.  SIGINT and\n"
"SIGTERM end the run normally.  A datagram without a lab header is counted as\n"
"foreign.  Senders are told apart by the id in the header; a new id from the\n"
"address:port of one that went quiet is a restart.  At most %d senders are\n"
"tracked.\n"
"\n"
"Per sender: first_seq and last_seq are the lowest and highest sequence\n"
"numbers seen; lost counts the numbers between them that never came;\n"
"reordered, arrivals below the highest seen that are not duplicates (told\n"
"apart over the last %u numbers); corrupt, datagrams whose length or pattern\n"
"is wrong; hops, the TTL sent minus the TTL received; remarked, whether any\n"
"DSCP differed from the one sent; stalls, gaps longer than --stall-timeout\n"
"that ended.  A datagram whose lab header fails its own check cannot be\n"
"blamed on a sender: it is the top-level corrupt.\n"
"\n"
"JSON keys: group, source, iface, duration_s, received, foreign, corrupt,\n"
"untracked, restarts, state, idle_s, senders[]: id, from, received, unique,\n"
"lost, duplicates, reordered, corrupt, first_seq, last_seq, bytes, ttl,\n"
"ttl_sent, hops, dscp, dscp_sent, remarked, latency_us {p50, p90, p99, max},\n"
"rate_pps, rate_kbps, stalls, longest_stall_s, idle_s.\n"
"\n"
"EXAMPLES\n"
"  mctun recv 239.1.2.3:5000\n"
"  mctun recv 232.1.1.1:5000 --source 198.18.1.2 --iface eth1 --igmp-version 3\n"
"  mctun recv [ff15::1]:5000 --iface eth1 --duration 10s --json\n"
"  mctun recv 239.1.2.3:5000 --count 1000 --ready-file /tmp/ready --json\n",
		MAX_SENDERS, WINDOW);
}

static int recv_parse(int argc, char **argv, struct recv_opts *o)
{
	int first, err;

	memset(o, 0, sizeof(*o));
	o->stall_timeout = 1;

	err = opt_parse("recv", recv_options, ARRAY_SIZE(recv_options), argc, argv, o, &first);
	if (err == OPT_PARSE_HELP)
		usage(stdout);
	if (err)
		return err;
	err = opt_group_arg("recv", argc, argv, first, true, o->source, &o->group);
	if (err)
		return err;

	if (o->group.family == MCTUN_FAM_INET6 && o->igmp_version) {
		pr_warn("--igmp-version: %s is an IPv6 group; use --mld-version\n", argv[first]);
		return -EINVAL;
	}
	if (o->group.family == MCTUN_FAM_INET && o->mld_version) {
		pr_warn("--mld-version: %s is an IPv4 group; use --igmp-version\n", argv[first]);
		return -EINVAL;
	}
	if ((o->igmp_version || o->mld_version) && !o->iface) {
		pr_warn("--%s-version: needs --iface, the setting is per interface\n",
			o->igmp_version ? "igmp" : "mld");
		return -EINVAL;
	}
	if (o->group.ssm && (o->igmp_version == 1 || o->igmp_version == 2)) {
		pr_warn("--source: IGMPv%u cannot carry a source filter; a source-specific join needs IGMPv3\n",
			o->igmp_version);
		return -EINVAL;
	}
	if (o->group.ssm && o->mld_version == 1) {
		pr_warn("--source: MLDv1 cannot carry a source filter; a source-specific join needs MLDv2\n");
		return -EINVAL;
	}
	return 0;
}

/* /proc/sys/net/ipv{4,6}/conf/IF/force_{igmp,mld}_version, old value kept. */
static int force_version(const struct recv_opts *o, struct sysctl_save *sv)
{
	bool v6 = o->group.family == MCTUN_FAM_INET6;
	uint32_t ver = v6 ? o->mld_version : o->igmp_version;
	char val[16];
	ssize_t n;
	int fd, err;

	if (!ver)
		return 0;
	snprintf(sv->path, sizeof(sv->path), "/proc/sys/net/%s/conf/%s/force_%s_version",
		 v6 ? "ipv6" : "ipv4", o->iface, v6 ? "mld" : "igmp");
	fd = open(sv->path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("recv: open %s: %s\n", sv->path, strerror(-err));
		return err;
	}
	n = read(fd, sv->old, sizeof(sv->old) - 1);
	if (n <= 0) {
		err = n < 0 ? -errno : -EIO;
		pr_warn("recv: read %s: %s\n", sv->path, strerror(-err));
		close(fd);
		return err;
	}
	sv->old[n] = '\0';
	n = snprintf(val, sizeof(val), "%u\n", ver);
	if (pwrite(fd, val, n, 0) != n) {
		err = -errno;
		pr_warn("recv: write %u to %s: %s\n", ver, sv->path, strerror(-err));
		close(fd);
		return err;
	}
	sv->saved = true;
	close(fd);
	return 0;
}

static void restore_version(struct sysctl_save *sv)
{
	size_t len = strlen(sv->old);
	int fd;

	if (!sv->saved)
		return;
	fd = open(sv->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, sv->old, len) != (ssize_t)len)
		pr_warn("recv: restore %s to %.*s: %s\n", sv->path, (int)strcspn(sv->old, "\n"),
			sv->old, strerror(errno));
	if (fd >= 0)
		close(fd);
	sv->saved = false;
}

static int join(const struct recv_opts *o, int fd)
{
	int level = o->group.family == MCTUN_FAM_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
	char gs[GROUP_STRLEN];
	int err = 0;

	if (o->group.ssm) {
		struct group_source_req r = { .gsr_interface = o->ifindex };

		addr_sockaddr(o->group.family, o->group.addr, 0, 0, &r.gsr_group);
		addr_sockaddr(o->group.family, o->group.src, 0, 0, &r.gsr_source);
		if (setsockopt(fd, level, MCAST_JOIN_SOURCE_GROUP, &r, sizeof(r)) < 0)
			err = -errno;
	} else {
		struct group_req r = { .gr_interface = o->ifindex };

		addr_sockaddr(o->group.family, o->group.addr, 0, 0, &r.gr_group);
		if (setsockopt(fd, level, MCAST_JOIN_GROUP, &r, sizeof(r)) < 0)
			err = -errno;
	}
	if (!err)
		return 0;
	group_str(&o->group, gs, sizeof(gs));
	if (err == -ENODEV && !o->ifindex)
		pr_warn("recv: join %s: no route to the group picks an interface; use --iface\n",
			gs);
	else
		pr_warn("recv: join %s on %s: %s\n", gs, o->iface ? o->iface : "the route's interface",
			strerror(-err));
	return err;
}

static int recv_socket(const struct recv_opts *o, int *fdp)
{
	bool v6 = o->group.family == MCTUN_FAM_INET6;
	struct sockaddr_storage ss;
	char gs[GROUP_STRLEN];
	int fd, err, rcvbuf = RCVBUF_BYTES;
	socklen_t sl;

	fd = socket(fam_to_af(o->group.family), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("recv: socket: %s\n", strerror(-err));
		return err;
	}
	/* FORCE passes net.core.rmem_max when we may; otherwise take what we get */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	err = set_sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "recv", "SO_REUSEADDR");
	if (!err)
		err = set_sockopt_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "recv", "SO_TIMESTAMPNS");
	if (!err && v6) {
		err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "recv",
				      "IPV6_RECVHOPLIMIT");
		if (!err)
			err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1, "recv",
					      "IPV6_RECVTCLASS");
		/* only this socket's joins, not every group the host is in; Linux
		 * 4.20+ (older kernels: ENOPROTOOPT, and the bind still filters) */
		if (!err && setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &(int){0},
				       sizeof(int)) < 0 && errno != ENOPROTOOPT) {
			err = -errno;
			pr_warn("recv: set IPV6_MULTICAST_ALL: %s\n", strerror(-err));
		}
	} else if (!err) {
		err = set_sockopt_int(fd, IPPROTO_IP, IP_RECVTTL, 1, "recv", "IP_RECVTTL");
		if (!err)
			err = set_sockopt_int(fd, IPPROTO_IP, IP_RECVTOS, 1, "recv", "IP_RECVTOS");
		if (!err)
			err = set_sockopt_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "recv",
					      "IP_MULTICAST_ALL");
	}
	if (err)
		goto fail;

	/* bound to the group itself: datagrams to other groups on this port stay out */
	sl = addr_sockaddr(o->group.family, o->group.addr, o->group.port, v6 ? o->ifindex : 0,
			   &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		err = -errno;
		pr_warn("recv: bind %s: %s%s\n", group_str(&o->group, gs, sizeof(gs)),
			strerror(-err), v6 && err == -EINVAL && !o->ifindex ?
			" (a link-local scope group needs --iface)" : "");
		goto fail;
	}
	err = join(o, fd);
	if (err)
		goto fail;
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return err;
}

static int ready_file_create(const char *path)
{
	char pid[16];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int err = -errno;

		pr_warn("--ready-file: create %s: %s\n", path, strerror(-err));
		return err;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, n) != n)
		pr_warn("--ready-file: write %s: %s\n", path, strerror(errno));
	close(fd);
	return 0;
}

/* ---- per-sender bookkeeping ---- */

static unsigned int slot_of(uint64_t id)
{
	return (id * 0x9e3779b97f4a7c15ull) >> 53;   /* top 11 bits: SLOTS = 2048 */
}

_Static_assert(SLOTS == 1 << 11, "slot_of() takes 11 bits");

static struct sender *sender_get(struct recv_ctx *c, uint64_t id, uint8_t fam,
				 const uint8_t *addr, uint16_t port, uint64_t rx)
{
	unsigned int h = slot_of(id), i;
	struct sender *s;
	int k;

	/* at most half the slots are ever used, so a free one is always found */
	for (i = 0; i < SLOTS; i++, h = (h + 1) & (SLOTS - 1)) {
		if (c->slots[h] < 0)
			break;
		if (c->senders[c->slots[h]]->id == id)
			return c->senders[c->slots[h]];
	}
	if (c->nsenders == MAX_SENDERS)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	s->family = fam;
	memcpy(s->addr, addr, 16);
	s->port = port;
	s->prev = -1;
	s->ttl = -1;
	s->dscp = -1;
	s->first_rx = rx;
	for (k = c->nsenders - 1; k >= 0; k--) {
		struct sender *p = c->senders[k];

		if (p->family == fam && p->port == port && !memcmp(p->addr, addr, 16)) {
			s->prev = k;
			break;
		}
	}
	c->slots[h] = c->nsenders;
	c->senders[c->nsenders++] = s;
	return s;
}

static bool seen_test_set(struct sender *s, uint64_t seq)
{
	uint64_t bit = 1ull << (seq % 64), *w = &s->seen[(seq % WINDOW) / 64];
	bool was = *w & bit;

	*w |= bit;
	return was;
}

static void seen_clear(struct sender *s, uint64_t seq)
{
	s->seen[(seq % WINDOW) / 64] &= ~(1ull << (seq % 64));
}

static void track_seq(struct sender *s, uint64_t seq)
{
	uint64_t q;

	if (s->received == 1) {
		s->min_seq = s->max_seq = seq;
		seen_test_set(s, seq);
		s->unique++;
		return;
	}
	if (seq > s->max_seq) {
		/* seqs skipped over leave the window empty: forget what was there */
		if (seq - s->max_seq >= WINDOW)
			memset(s->seen, 0, sizeof(s->seen));
		else
			for (q = s->max_seq + 1; q < seq; q++)
				seen_clear(s, q);
		seen_test_set(s, seq);
		s->max_seq = seq;
		s->unique++;
		return;
	}
	if (s->max_seq - seq >= WINDOW) {
		/* too old to tell; counted as new, so a duplicate this late is missed */
		s->min_seq = MIN(s->min_seq, seq);
		s->unique++;
		s->reordered++;
		return;
	}
	if (seen_test_set(s, seq)) {
		s->duplicates++;
		return;
	}
	s->min_seq = MIN(s->min_seq, seq);
	s->unique++;
	s->reordered++;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void sample_latency(struct recv_ctx *c, struct sender *s, int64_t ns)
{
	uint64_t j;

	if (!s->lat_n || ns > s->lat_max)
		s->lat_max = ns;
	s->lat_n++;
	if (s->lat_n <= RESERVOIR) {
		s->lat[s->lat_n - 1] = ns;
		return;
	}
	j = xorshift(&c->rng) % s->lat_n;
	if (j < RESERVOIR)
		s->lat[j] = ns;
}

static void on_datagram(struct recv_ctx *c, const uint8_t *buf, size_t len,
			const struct sockaddr *from, int ttl, int tos, uint64_t rx)
{
	struct lab_dgram d;
	enum lab_verdict v;
	struct sender *s;
	uint8_t fam, addr[16];
	uint16_t port;

	c->received++;
	c->last_rx = rx;
	v = lab_parse(buf, len, &d);
	if (v == LAB_FOREIGN) {
		c->foreign++;
		return;
	}
	if (v == LAB_BAD_HEADER) {
		c->corrupt++;
		return;
	}
	if (sockaddr_addr(from, &fam, addr, &port)) {
		fam = 0;
		memset(addr, 0, sizeof(addr));
		port = 0;
	}
	s = sender_get(c, d.sender_id, fam, addr, port, rx);
	if (!s) {
		c->untracked++;
		return;
	}
	if (s->received && rx > s->last_rx && rx - s->last_rx > c->o->stall_timeout * 1e9) {
		s->stalls++;
		s->longest_stall = MAX(s->longest_stall, rx - s->last_rx);
	}
	s->last_rx = MAX(s->last_rx, rx);
	s->received++;
	s->bytes += len;
	if (v == LAB_CORRUPT)
		s->corrupt++;
	track_seq(s, d.seq);
	s->ttl_sent = d.ttl;
	s->dscp_sent = d.dscp;
	s->ttl = ttl;
	if (tos >= 0) {
		s->dscp = tos >> 2;
		if (s->dscp != d.dscp)
			s->remarked = true;
	}
	sample_latency(c, s, (int64_t)(rx - d.send_ns));
}

/* ---- the receive loop ---- */

struct rx_batch {
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_storage names[RX_BATCH];
	uint8_t ctrl[RX_BATCH][RX_CTRL];
	uint8_t *bufs;
};

static void rx_cmsgs(struct msghdr *m, int *ttl, int *tos, uint64_t *rx)
{
	struct cmsghdr *cm;

	*ttl = -1;
	*tos = -1;
	*rx = 0;
	for (cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			*rx = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
		} else if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
			   (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) {
			memcpy(ttl, CMSG_DATA(cm), sizeof(int));
		} else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS) {
			*tos = *(uint8_t *)CMSG_DATA(cm);
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS) {
			memcpy(tos, CMSG_DATA(cm), sizeof(int));
		}
	}
	if (!*rx)
		*rx = realtime_ns();
}

static bool count_reached(const struct recv_ctx *c)
{
	return c->o->count && c->received >= c->o->count;
}

/* Drains up to RX_ROUNDS batches; 0 when the socket is empty, or -errno. */
static int rx_drain(struct recv_ctx *c, int fd, struct rx_batch *b)
{
	int round, i, n;

	for (round = 0; round < RX_ROUNDS && !count_reached(c); round++) {
		for (i = 0; i < RX_BATCH; i++) {
			struct msghdr *m = &b->msgs[i].msg_hdr;

			m->msg_name = &b->names[i];
			m->msg_namelen = sizeof(b->names[i]);
			m->msg_control = b->ctrl[i];
			m->msg_controllen = RX_CTRL;
			m->msg_flags = 0;
		}
		n = recvmmsg(fd, b->msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			n = -errno;
			pr_warn("recv: recvmmsg: %s\n", strerror(-n));
			return n;
		}
		for (i = 0; i < n && !count_reached(c); i++) {
			int ttl, tos;
			uint64_t rx;

			rx_cmsgs(&b->msgs[i].msg_hdr, &ttl, &tos, &rx);
			on_datagram(c, b->iov[i].iov_base, b->msgs[i].msg_len,
				    (struct sockaddr *)&b->names[i], ttl, tos, rx);
		}
		if (n < RX_BATCH)
			break;
	}
	return 0;
}

/* ---- reports ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct latency {
	bool valid;
	double p50, p90, p99, max;   /* microseconds */
};

static struct latency latency_of(struct recv_ctx *c, const struct sender *s)
{
	size_t n = MIN(s->lat_n, (uint64_t)RESERVOIR);
	struct latency l = {};

	if (!n)
		return l;
	memcpy(c->scratch, s->lat, n * sizeof(s->lat[0]));
	qsort(c->scratch, n, sizeof(c->scratch[0]), cmp_i64);
	/* nearest rank: the smallest sample with at least p of them at or below */
	l.p50 = c->scratch[(n * 50 + 99) / 100 - 1] / 1e3;
	l.p90 = c->scratch[(n * 90 + 99) / 100 - 1] / 1e3;
	l.p99 = c->scratch[(n * 99 + 99) / 100 - 1] / 1e3;
	l.max = s->lat_max / 1e3;
	l.valid = true;
	return l;
}

static uint64_t lost_of(const struct sender *s)
{
	uint64_t span = s->max_seq - s->min_seq + 1;

	return span > s->unique ? span - s->unique : 0;
}

static double rate_of(const struct sender *s)
{
	if (s->received < 2 || s->last_rx <= s->first_rx)
		return 0;
	return (s->received - 1) * 1e9 / (s->last_rx - s->first_rx);
}

static int restarts_of(const struct recv_ctx *c)
{
	int i, n = 0;

	/* a restart: the earlier sender from that address:port went quiet first */
	for (i = 0; i < c->nsenders; i++) {
		const struct sender *s = c->senders[i];

		if (s->prev >= 0 && c->senders[s->prev]->last_rx <= s->first_rx)
			n++;
	}
	return n;
}

static const char *state_of(const struct recv_ctx *c, uint64_t now_rt)
{
	if (!c->received)
		return "WAITING";
	if (now_rt > c->last_rx && now_rt - c->last_rx > c->o->stall_timeout * 1e9)
		return "STALLED";
	return "RECEIVING";
}

static double idle_s(uint64_t last, uint64_t now_rt)
{
	return now_rt > last ? (now_rt - last) / 1e9 : 0;
}

static const char *from_str(const struct sender *s, char *buf, size_t len)
{
	struct sockaddr_storage ss;

	if (!s->family) {
		snprintf(buf, len, "?");
		return buf;
	}
	addr_sockaddr(s->family, s->addr, s->port, 0, &ss);
	return sockaddr_str((struct sockaddr *)&ss, buf, len);
}

static void json_report(struct recv_ctx *c, FILE *f)
{
	const struct recv_opts *o = c->o;
	uint64_t now_rt = realtime_ns();
	char buf[GROUP_STRLEN];
	struct mc_group g = o->group;
	int i;

	g.ssm = false;
	fprintf(f, "{\"group\":\"%s\",\"source\":", group_str(&g, buf, sizeof(buf)));
	if (o->group.ssm)
		fprintf(f, "\"%s\"", addr_str(g.family, g.src, buf, sizeof(buf)));
	else
		fputs("null", f);
	fputs(",\"iface\":", f);
	if (o->iface)
		json_string(f, o->iface);
	else
		fputs("null", f);
	fprintf(f, ",\"duration_s\":%.3f,\"received\":%llu,\"foreign\":%llu,\"corrupt\":%llu,"
		"\"untracked\":%llu,\"senders\":[",
		(c->t_end - c->t_start) / 1e9, (unsigned long long)c->received,
		(unsigned long long)c->foreign, (unsigned long long)c->corrupt,
		(unsigned long long)c->untracked);
	for (i = 0; i < c->nsenders; i++) {
		const struct sender *s = c->senders[i];
		struct latency l = latency_of(c, s);
		double pps = rate_of(s);

		fprintf(f, "%s{\"id\":\"%016llx\",\"from\":\"%s\",\"received\":%llu,"
			"\"unique\":%llu,\"lost\":%llu,\"duplicates\":%llu,\"reordered\":%llu,"
			"\"corrupt\":%llu,\"first_seq\":%llu,\"last_seq\":%llu,\"bytes\":%llu,",
			i ? "," : "", (unsigned long long)s->id, from_str(s, buf, sizeof(buf)),
			(unsigned long long)s->received, (unsigned long long)s->unique,
			(unsigned long long)lost_of(s), (unsigned long long)s->duplicates,
			(unsigned long long)s->reordered, (unsigned long long)s->corrupt,
			(unsigned long long)s->min_seq, (unsigned long long)s->max_seq,
			(unsigned long long)s->bytes);
		if (s->ttl >= 0)
			fprintf(f, "\"ttl\":%d,", s->ttl);
		else
			fputs("\"ttl\":null,", f);
		fprintf(f, "\"ttl_sent\":%u,", s->ttl_sent);
		if (s->ttl >= 0 && s->ttl <= s->ttl_sent)
			fprintf(f, "\"hops\":%d,", s->ttl_sent - s->ttl);
		else
			fputs("\"hops\":null,", f);
		if (s->dscp >= 0)
			fprintf(f, "\"dscp\":%d,", s->dscp);
		else
			fputs("\"dscp\":null,", f);
		fprintf(f, "\"dscp_sent\":%u,\"remarked\":%s,\"latency_us\":", s->dscp_sent,
			s->remarked ? "true" : "false");
		if (l.valid)
			fprintf(f, "{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
				l.p50, l.p90, l.p99, l.max);
		else
			fputs("null", f);
		fprintf(f, ",\"rate_pps\":%.1f,\"rate_kbps\":%.1f,\"stalls\":%llu,"
			"\"longest_stall_s\":%.3f,\"idle_s\":%.3f}",
			pps, s->received ? pps * s->bytes / s->received * 8 / 1e3 : 0,
			(unsigned long long)s->stalls, s->longest_stall / 1e9,
			idle_s(s->last_rx, now_rt));
	}
	fprintf(f, "],\"restarts\":%d,\"state\":\"%s\",\"idle_s\":%.3f}\n", restarts_of(c),
		state_of(c, now_rt), c->received ? idle_s(c->last_rx, now_rt) : 0);
}

static void text_report(struct recv_ctx *c, FILE *f)
{
	uint64_t now_rt = realtime_ns();
	char buf[GROUP_STRLEN];
	int i;

	fprintf(f, "recv %s: received %llu in %.3f s, state %s, foreign %llu, corrupt headers %llu, senders %d, untracked %llu, restarts %d\n",
		group_str(&c->o->group, buf, sizeof(buf)), (unsigned long long)c->received,
		(c->t_end - c->t_start) / 1e9, state_of(c, now_rt),
		(unsigned long long)c->foreign, (unsigned long long)c->corrupt, c->nsenders,
		(unsigned long long)c->untracked, restarts_of(c));
	for (i = 0; i < c->nsenders; i++) {
		const struct sender *s = c->senders[i];
		struct latency l = latency_of(c, s);
		double pps = rate_of(s);

		fprintf(f, "sender %016llx from %s\n", (unsigned long long)s->id,
			from_str(s, buf, sizeof(buf)));
		fprintf(f, "  received %llu  unique %llu  lost %llu  duplicates %llu  reordered %llu  corrupt %llu  seq %llu..%llu  bytes %llu\n",
			(unsigned long long)s->received, (unsigned long long)s->unique,
			(unsigned long long)lost_of(s), (unsigned long long)s->duplicates,
			(unsigned long long)s->reordered, (unsigned long long)s->corrupt,
			(unsigned long long)s->min_seq, (unsigned long long)s->max_seq,
			(unsigned long long)s->bytes);
		fprintf(f, "  ttl %d (sent %u, %d hops)  dscp %d (sent %u%s)",
			s->ttl, s->ttl_sent, s->ttl >= 0 ? s->ttl_sent - s->ttl : -1, s->dscp,
			s->dscp_sent, s->remarked ? ", remarked" : "");
		if (l.valid)
			fprintf(f, "  latency us p50 %.1f p90 %.1f p99 %.1f max %.1f\n",
				l.p50, l.p90, l.p99, l.max);
		else
			fputc('\n', f);
		fprintf(f, "  rate %.1f pps  stalls %llu (longest %.3f s)  idle %.3f s\n", pps,
			(unsigned long long)s->stalls, s->longest_stall / 1e9,
			idle_s(s->last_rx, now_rt));
	}
}

static void dash_draw(struct recv_ctx *c, bool erase)
{
	uint64_t now = now_ns(), now_rt = realtime_ns();
	double dt = c->dash_ns ? (now - c->dash_ns) / 1e9 : 0;
	char *text = NULL, buf[GROUP_STRLEN];
	size_t len = 0;
	FILE *f;
	int i, lines = 0;

	/* composed off-screen and written at once, so the redraw does not flicker */
	f = open_memstream(&text, &len);
	if (!f)
		return;
	if (c->dash_lines)
		fprintf(f, "\033[%dA\r", c->dash_lines);
	if (erase) {
		fputs("\033[J", f);
		goto out;
	}
	fprintf(f, "mctun recv %s  %-9s  %.1f s  received %llu  foreign %llu  corrupt %llu  senders %d  restarts %d\033[K\n",
		group_str(&c->o->group, buf, sizeof(buf)), state_of(c, now_rt),
		(now - c->t_start) / 1e9, (unsigned long long)c->received,
		(unsigned long long)c->foreign, (unsigned long long)c->corrupt, c->nsenders,
		restarts_of(c));
	fprintf(f, "%-16s  %-22s %10s %8s %6s %6s %5s %9s %4s %4s %5s %9s %9s %7s\033[K\n",
		"SENDER", "FROM", "RECEIVED", "LOST", "DUP", "REORD", "CORR", "PPS", "TTL",
		"HOPS", "DSCP", "P50 us", "P99 us", "IDLE s");
	lines = 2;
	for (i = 0; i < c->nsenders && i < DASH_ROWS; i++) {
		struct sender *s = c->senders[i];
		struct latency l = latency_of(c, s);
		double pps = dt > 0 ? (s->received - s->dash_received) / dt : 0;

		s->dash_received = s->received;
		fprintf(f, "%016llx  %-22s %10llu %8llu %6llu %6llu %5llu %9.1f %4d %4d %5d %9.1f %9.1f %7.1f\033[K\n",
			(unsigned long long)s->id, from_str(s, buf, sizeof(buf)),
			(unsigned long long)s->received, (unsigned long long)lost_of(s),
			(unsigned long long)s->duplicates, (unsigned long long)s->reordered,
			(unsigned long long)s->corrupt, pps, s->ttl,
			s->ttl >= 0 ? s->ttl_sent - s->ttl : -1, s->dscp, l.p50, l.p99,
			idle_s(s->last_rx, now_rt));
		lines++;
	}
	if (c->nsenders > DASH_ROWS) {
		fprintf(f, "... and %d more senders\033[K\n", c->nsenders - DASH_ROWS);
		lines++;
	}
	fputs("\033[J", f);
out:
	fclose(f);
	if (text) {
		fwrite(text, 1, len, stdout);
		fflush(stdout);
	}
	free(text);
	c->dash_lines = lines;
	c->dash_ns = now;
}

/* ---- main ---- */

static int recv_loop(struct recv_ctx *c, int fd, int sigfd, int tickfd)
{
	const struct recv_opts *o = c->o;
	struct pollfd pfd[3] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
		{ .fd = tickfd, .events = POLLIN },
	};
	uint64_t t_stop = 0, now;
	struct rx_batch *b;
	int err = 0, timeout;

	b = calloc(1, sizeof(*b));
	if (b)
		b->bufs = malloc((size_t)RX_BATCH * RX_BUF);
	if (!b || !b->bufs) {
		pr_warn("recv: out of memory for the receive buffers\n");
		free(b);
		return -ENOMEM;
	}
	for (int i = 0; i < RX_BATCH; i++) {
		b->iov[i].iov_base = b->bufs + (size_t)i * RX_BUF;
		b->iov[i].iov_len = RX_BUF;
		b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
		b->msgs[i].msg_hdr.msg_iovlen = 1;
	}

	if (o->duration > 0)
		t_stop = c->t_start + (uint64_t)(o->duration * 1e9);
	/* Bounded by --duration, --count or a signal; poll sleeps between events. */
	for (;;) {
		now = now_ns();
		if (count_reached(c) || (t_stop && now >= t_stop))
			break;
		timeout = t_stop ? (int)MIN((t_stop - now + 999999) / 1000000, (uint64_t)INT32_MAX)
				 : -1;
		if (poll(pfd, ARRAY_SIZE(pfd), timeout) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_warn("recv: poll: %s\n", strerror(-err));
			break;
		}
		if (pfd[1].revents & POLLIN)
			break;
		if (pfd[0].revents & POLLIN) {
			err = rx_drain(c, fd, b);
			if (err)
				break;
		}
		if (pfd[2].revents & POLLIN) {
			uint64_t ticks;

			if (read(tickfd, &ticks, sizeof(ticks)) > 0)
				dash_draw(c, false);
		}
	}
	c->t_end = now_ns();
	free(b->bufs);
	free(b);
	return err;
}

int recv_main(int argc, char **argv)
{
	struct sysctl_save sv = {};
	struct recv_ctx *c = NULL;
	struct recv_opts o;
	sigset_t mask, old_mask;
	int fd = -1, sigfd = -1, tickfd = -1, err, i;
	bool dashboard, ready = false;

	err = recv_parse(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	dashboard = !o.json && !o.quiet && isatty(STDOUT_FILENO);

	/* blocked from here on, so a Ctrl-C during set-up still restores the sysctl */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		err = -errno;
		pr_warn("recv: signalfd: %s\n", strerror(-err));
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		err = -ENOMEM;
		goto out;
	}
	c->o = &o;
	memset(c->slots, -1, sizeof(c->slots));
	if (random_bytes(&c->rng, sizeof(c->rng)) || !c->rng)
		c->rng = 0x2545f4914f6cdd1dull;

	if (o.ready_file && unlink(o.ready_file) < 0 && errno != ENOENT) {
		err = -errno;
		pr_warn("--ready-file: remove stale %s: %s\n", o.ready_file, strerror(-err));
		goto out;
	}
	err = force_version(&o, &sv);
	if (err)
		goto out;
	err = recv_socket(&o, &fd);
	if (err)
		goto out;
	if (o.ready_file) {
		err = ready_file_create(o.ready_file);
		if (err)
			goto out;
		ready = true;
	}
	if (dashboard) {
		struct itimerspec its = {
			.it_interval = { 0, TICK_NS },
			.it_value = { 0, TICK_NS },
		};

		tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (tickfd < 0 || timerfd_settime(tickfd, 0, &its, NULL) < 0) {
			err = -errno;
			pr_warn("recv: timerfd: %s\n", strerror(-err));
			goto out;
		}
	}

	c->t_start = now_ns();
	if (dashboard)
		dash_draw(c, false);
	err = recv_loop(c, fd, sigfd, tickfd);
	if (dashboard)
		dash_draw(c, true);
	if (o.json)
		json_report(c, stdout);
	else if (!o.quiet)
		text_report(c, stdout);
	fflush(stdout);
out:
	if (fd >= 0)
		close(fd);
	if (tickfd >= 0)
		close(tickfd);
	restore_version(&sv);
	if (ready)
		unlink(o.ready_file);
	if (sigfd >= 0) {
		struct signalfd_siginfo si;

		/* swallow signals already taken as "stop", so unblocking does not kill us */
		for (i = 0; i < 64 && read(sigfd, &si, sizeof(si)) == sizeof(si); i++)
			;
		close(sigfd);
	}
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	if (c)
		for (i = 0; i < c->nsenders; i++)
			free(c->senders[i]);
	free(c);
	return err;
}
