// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mctun send: numbered lab datagrams to a multicast group, at a steady rate.
 *
 * Pacing works on absolute deadlines: datagram k is due at start + k/rate,
 * and every wake-up sends all datagrams due by then (at most BATCH per
 * sendmmsg call), then sleeps with clock_nanosleep(TIMER_ABSTIME) until
 * the next one is due.  At a few pps that is one datagram per wake-up; at
 * line rate the timer slack makes each wake-up a batch.  A late wake-up is
 * made up for by the next batch, so the average rate does not drift.
 *
 * Sends never block: a full socket send buffer (datagrams the kernel holds
 * and has not sent: an unresolved neighbour, a slow qdisc) makes the loop
 * poll for room, at most until the next deadline check, so --duration and
 * signals end it on time.  A stall (no datagram taken for STALL_NS) is
 * reported when it begins and ends; with --count alone it gives up after
 * STALL_GIVE_UP_NS, so nothing makes `mctun send` hang silently.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cmds.h"
#include "lab.h"
#include "log.h"
#include "options.h"
#include "util.h"

#define BATCH          64          /* datagrams per sendmmsg call */
#define SLEEP_MAX_NS   100000000ull /* longest nap: a signal that lands just before one waits no longer */
#define BEHIND_PCT     3.0         /* "behind" beyond this shortfall, percent */
#define STALL_NS       1000000000ull  /* the kernel took nothing this long: a stall */
#define STALL_GIVE_UP_S 10         /* a stall this long ends a run that --count alone bounds */
#define STALL_GIVE_UP_NS (STALL_GIVE_UP_S * 1000000000ull)
#define DEFAULT_SIZE   200
#define DEFAULT_COUNT  10
#define DEFAULT_TTL    8

enum rate_unit { RATE_MAX, RATE_PPS, RATE_BPS };  /* RATE_MAX: no --rate, no pacing */

struct send_opts {
	struct mc_group group;
	enum rate_unit unit;
	double rate;              /* in `unit`: pps, or payload bits per second */
	double pps;               /* the rate in datagrams per second, 0 = no pacing */
	uint32_t size;
	uint64_t count;           /* 0 = no limit */
	double duration;          /* seconds, 0 = no limit */
	uint32_t ttl;
	uint8_t dscp;
	const char *iface;
	unsigned int ifindex;
	bool loopback;
	uint16_t sport;
	const char *bind;         /* --bind as given, NULL = the route's source */
	uint64_t sndbuf;          /* --sndbuf, 0 = the kernel's default */
	uint8_t bind_addr[16];    /* network order */
	bool json;
	bool quiet;
	uint64_t size_arg;        /* parsing: --size as given, checked against the family */
	bool count_set;           /* parsing: --count given */
	bool duration_set;        /* parsing: --duration given */
};

struct send_stats {
	uint64_t sender_id;
	uint64_t sent;
	uint64_t errors;
	uint64_t bytes;
	uint64_t due;             /* datagrams the schedule asked for by the end */
	uint64_t t_start;         /* CLOCK_MONOTONIC ns */
	uint64_t t_first;         /* before the first send call */
	uint64_t t_last;          /* after the last successful send call */
	uint64_t t_end;
	uint64_t stalls;          /* times the kernel took nothing for STALL_NS or more */
	uint64_t longest_stall;   /* ns */
	bool behind;
	bool gave_up;             /* a stall ended a run bounded by --count alone */
};

static volatile sig_atomic_t send_stop;

static void on_signal(int sig)
{
	(void)sig;
	send_stop = 1;
}

static int parse_rate(const char *s, double *rate, enum rate_unit *unit)
{
	static const struct {
		const char *suffix;
		double mul;
		enum rate_unit unit;
	} units[] = {
		{ "",     1,   RATE_PPS }, { "pps",  1,   RATE_PPS },
		{ "kpps", 1e3, RATE_PPS }, { "mpps", 1e6, RATE_PPS },
		{ "bps",  1,   RATE_BPS }, { "kbps", 1e3, RATE_BPS },
		{ "mbps", 1e6, RATE_BPS }, { "gbps", 1e9, RATE_BPS },
	};
	char *end;
	double v;
	size_t i;

	if (*s < '0' || *s > '9') {
		pr_warn("--rate: '%s' is not a rate (e.g. 25pps, 500kbps, 10Mbps)\n", s);
		return -EINVAL;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || !isfinite(v)) {
		pr_warn("--rate: '%s' is not a rate (e.g. 25pps, 500kbps, 10Mbps)\n", s);
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcasecmp(end, units[i].suffix))
			break;
	if (i == ARRAY_SIZE(units)) {
		pr_warn("--rate: '%s' has an unknown unit (use pps, kpps, bps, kbps, Mbps or Gbps)\n",
			s);
		return -EINVAL;
	}
	v *= units[i].mul;
	if (v <= 0) {
		pr_warn("--rate: '%s' must be above zero (leave --rate out to send as fast as possible)\n",
			s);
		return -EINVAL;
	}
	if ((units[i].unit == RATE_PPS && v > 1e8) || (units[i].unit == RATE_BPS && v > 1e12)) {
		pr_warn("--rate: '%s' is beyond 100 Mpps / 1 Tbps\n", s);
		return -ERANGE;
	}
	*rate = v;
	*unit = units[i].unit;
	return 0;
}

static int parse_dscp(const char *s, uint8_t *dscp)
{
	static const struct {
		const char *name;
		uint8_t dscp;
	} names[] = {
		{ "be", 0 }, { "default", 0 }, { "le", 1 }, { "ef", 46 }, { "va", 44 },
		{ "cs0", 0 }, { "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 },
		{ "cs4", 32 }, { "cs5", 40 }, { "cs6", 48 }, { "cs7", 56 },
		{ "af11", 10 }, { "af12", 12 }, { "af13", 14 },
		{ "af21", 18 }, { "af22", 20 }, { "af23", 22 },
		{ "af31", 26 }, { "af32", 28 }, { "af33", 30 },
		{ "af41", 34 }, { "af42", 36 }, { "af43", 38 },
	};
	uint32_t v;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcasecmp(s, names[i].name)) {
			*dscp = names[i].dscp;
			return 0;
		}
	}
	if (*s < '0' || *s > '9') {
		pr_warn("--dscp: '%s' is not a DSCP (ef, af11..af43, cs0..cs7, be, or 0 to 63)\n", s);
		return -EINVAL;
	}
	err = parse_u32("--dscp", s, 0, 63, &v);
	if (!err)
		*dscp = v;
	return err;
}

/* ---- options: setters into struct send_opts, one table ------------------------ */

static int set_rate(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;

	(void)who;
	return parse_rate(val, &o->rate, &o->unit);
}

static int set_size(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;
	int err = parse_u64(who, val, 0, UINT64_MAX, &o->size_arg);

	if (!err && o->size_arg < LAB_HDR_LEN) {
		pr_warn("%s: %s is below the %u-byte lab header\n", who, val, LAB_HDR_LEN);
		err = -EINVAL;
	}
	return err;
}

static int set_count(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;

	o->count_set = true;
	return parse_u64(who, val, 0, UINT64_MAX, &o->count);
}

static int set_duration(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;

	o->duration_set = true;
	return parse_seconds(who, val, 0, 1e9, &o->duration);
}

static int set_ttl(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;

	return parse_u32(who, val, 0, 255, &o->ttl);
}

static int set_dscp(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;

	(void)who;
	return parse_dscp(val, &o->dscp);
}

static int set_iface(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;

	(void)who;
	o->iface = val;
	return iface_index(val, &o->ifindex);
}

static int set_no_loopback(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;

	(void)who;
	(void)val;
	o->loopback = false;
	return 0;
}

static int set_source_port(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;
	uint32_t v = 0;
	int err = parse_u32(who, val, 1, 65535, &v);

	o->sport = v;
	return err;
}

static int set_sndbuf_bytes(void *ctx, const char *who, const char *val)
{
	struct send_opts *o = ctx;

	/* SO_SNDBUF takes an int, which the kernel doubles */
	return parse_size(who, val, 1, INT_MAX / 2, &o->sndbuf);
}

/* The help names these numbers as text. */
_Static_assert(LAB_HDR_LEN == 40 && LAB_MAX_SIZE == 65527 && DEFAULT_SIZE == 200 &&
	       DEFAULT_COUNT == 10 && DEFAULT_TTL == 8, "send --help says otherwise");

static const struct opt send_options[] = {
	{ "rate", 'r', "RATE", 0, set_rate,
	  "25pps, 500kbps, 10Mbps, 1Gbps; a bare number is pps;\n"
	  "bit rates count UDP payload bytes\n"
	  "(default: as fast as possible)" },
	{ "size", 's', "BYTES", 0, set_size,
	  "UDP payload per datagram, 40 to 65527 (default 200)" },
	{ "count", 'c', "N", 0, set_count,
	  "stop after N datagrams, 0 = no limit\n"
	  "(default 10, unless --duration is given)" },
	{ "duration", 'd', "SECS", 0, set_duration,
	  "stop after this long (1.5, 250ms, 2m), 0 = no limit" },
	{ "ttl", 't', "N", 0, set_ttl,
	  "multicast TTL / hop limit, 0 to 255 (default 8)" },
	{ "dscp", 0, "DSCP", 0, set_dscp,
	  "ef, af11..af43, cs0..cs7, va, le, be, default,\n"
	  "or 0 to 63 (default 0)" },
	{ "iface", 'i', "IF", 0, set_iface,
	  "send out of this interface (default: the route's)" },
	{ "no-loopback", 0, NULL, 0, set_no_loopback,
	  "do not loop datagrams back to this host's sockets" },
	{ "source-port", 0, "N", 0, set_source_port,
	  "send from this UDP port (default: an ephemeral one)" },
	{ "bind", 'b', "ADDR", OPT_TEXT, NULL,
	  "send from this local address, of the group's family\n"
	  "(default: the route's); without --iface the kernel\n"
	  "also sends out of the interface that holds ADDR", OPT_FIELD(struct send_opts, bind) },
	{ "sndbuf", 0, "BYTES", 0, set_sndbuf_bytes,
	  "the socket's send buffer (SO_SNDBUF, K/M/G), which\n"
	  "holds what the kernel has not sent yet (default:\n"
	  "net.core.wmem_default; beyond net.core.wmem_max\n"
	  "with CAP_NET_ADMIN)" },
	{ "json", 'j', NULL, OPT_TRUE, NULL, "one JSON object on stdout at exit",
	  OPT_FIELD(struct send_opts, json) },
	{ "quiet", 'q', NULL, OPT_TRUE, NULL, "no summary (warnings still go to stderr)",
	  OPT_FIELD(struct send_opts, quiet) },
	{ "help", 'h', NULL, OPT_HELP, NULL, "this text" },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: mctun send GROUP:PORT [OPTIONS]\n"
"\n"
"Send numbered lab datagrams to a multicast group, for `mctun recv` to check.\n"
"Each datagram carries a sender id, a sequence number, the send time, the TTL\n"
"and DSCP it was sent with, and a pattern that reveals damage.\n"
"\n"
"Options:\n");
	opt_print_help(f, send_options, ARRAY_SIZE(send_options), 18);
	fprintf(f,
"\n"
"Counting stops at whichever of --count and --duration comes first; SIGINT\n"
"and SIGTERM stop early, with the summary.\n"
"\n"
"Behind: datagram k is due at start + k/rate.  A run is behind when, as it\n"
"ends, it has sent fewer than were due by then, by more than %.0f%% and more\n"
"than one: the rate it reached fell short of --rate, whether --count or\n"
"--duration ended it.  It says so at exit (JSON: \"behind\": true).\n"
"\n"
"Sends never block.  When the kernel takes no datagram for %.0f s (the send\n"
"buffer is full of datagrams that have not left: a neighbour that does not\n"
"answer, a qdisc that holds them) that is a stall, reported on stderr when it\n"
"begins and ends.  --duration still ends the run on time; a run bounded by\n"
"--count alone gives up after a %d s stall, with the summary and exit status 1.\n"
"Failed sends are counted as errors and their sequence numbers skipped.\n"
"\n"
"JSON keys: group, sender_id, sent, errors, bytes, size, duration_s,\n"
"rate_pps, target_pps, behind, stalls, longest_stall_s, gave_up, ttl, dscp.\n"
"\n"
"EXAMPLES\n"
"  mctun send 239.1.2.3:5000 --rate 1000pps --count 5000\n"
"  mctun send 239.1.2.3:5000 --rate 10Mbps --size 1200 --duration 30s --dscp ef\n"
"  mctun send [ff15::1]:5000 --iface eth1 --ttl 16 --count 0\n"
"  mctun send 232.1.1.1:5000 --bind 198.18.1.2 --rate 100pps\n"
"  mctun send 232.1.1.1:5000 --rate 200000pps --count 400000 --json\n",
		BEHIND_PCT, STALL_NS / 1e9, STALL_GIVE_UP_S);
}

static int send_parse(int argc, char **argv, struct send_opts *o)
{
	uint32_t v;
	int first, err;

	memset(o, 0, sizeof(*o));
	o->size_arg = DEFAULT_SIZE;
	o->count = DEFAULT_COUNT;
	o->ttl = DEFAULT_TTL;
	o->loopback = true;

	err = opt_parse("send", send_options, ARRAY_SIZE(send_options), argc, argv, o, &first);
	if (err == OPT_PARSE_HELP)
		usage(stdout);
	if (err)
		return err;
	err = opt_group_arg("send", argc, argv, first, true, NULL, &o->group);
	if (err)
		return err;
	if (o->group.ssm) {
		pr_warn("send: '%s': a source (@S) is for recv; send uses its own address\n",
			argv[first]);
		return -EINVAL;
	}
	if (o->bind && inet_pton(fam_to_af(o->group.family), o->bind, o->bind_addr) != 1) {
		pr_warn("--bind: '%s' is not an %s address (the group is %s)\n", o->bind,
			o->group.family == MCTUN_FAM_INET ? "IPv4" : "IPv6",
			o->group.family == MCTUN_FAM_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	v = o->group.family == MCTUN_FAM_INET ? 65507 : LAB_MAX_SIZE;
	if (o->size_arg > v) {
		pr_warn("--size: %llu is beyond the largest %s UDP payload (%u)\n",
			(unsigned long long)o->size_arg,
			o->group.family == MCTUN_FAM_INET ? "IPv4" : "IPv6", v);
		return -EINVAL;
	}
	o->size = o->size_arg;
	if (o->duration_set && !o->count_set)
		o->count = 0;
	if (o->unit == RATE_PPS)
		o->pps = o->rate;
	else if (o->unit == RATE_BPS)
		o->pps = o->rate / (8.0 * o->size);
	return 0;
}

/* --sndbuf: SO_SNDBUFFORCE passes net.core.wmem_max with CAP_NET_ADMIN;
 * without it SO_SNDBUF, which the kernel caps, and a word when it did. */
static int set_sndbuf(int fd, uint64_t bytes)
{
	int v = (int)bytes, got = 0, err;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0) {
		err = set_sockopt_int(fd, SOL_SOCKET, SO_SNDBUF, v, "send", "--sndbuf");
		if (err)
			return err;
	}
	/* the kernel reports twice what it was given: its own bookkeeping */
	if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) && got / 2 < v)
		pr_warn("send: --sndbuf %d: the kernel allows %d (net.core.wmem_max caps it "
			"without CAP_NET_ADMIN)\n", v, got / 2);
	return 0;
}

static int send_socket(const struct send_opts *o, int *fdp)
{
	bool v6 = o->group.family == MCTUN_FAM_INET6;
	struct sockaddr_storage ss;
	char gs[GROUP_STRLEN];
	socklen_t sl;
	int fd, err;

	fd = socket(fam_to_af(o->group.family), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("send: socket: %s\n", strerror(-err));
		return err;
	}
	if (v6) {
		err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, o->ttl, "send",
				      "hop limit");
		if (!err)
			err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, o->loopback,
					      "send", "multicast loopback");
		if (!err)
			err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS, o->dscp << 2, "send",
					      "traffic class");
		if (!err && o->ifindex)
			err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, o->ifindex,
					      "send", "multicast interface");
	} else {
		err = set_sockopt_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, o->ttl, "send", "TTL");
		if (!err)
			err = set_sockopt_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, o->loopback,
					      "send", "multicast loopback");
		if (!err)
			err = set_sockopt_int(fd, IPPROTO_IP, IP_TOS, o->dscp << 2, "send", "TOS");
		if (!err && o->ifindex) {
			struct ip_mreqn mr = { .imr_ifindex = o->ifindex };

			if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0) {
				err = -errno;
				pr_warn("send: set multicast interface %s: %s\n", o->iface,
					strerror(-err));
			}
		}
	}
	if (!err && o->sndbuf)
		err = set_sndbuf(fd, o->sndbuf);
	if (err)
		goto fail;

	if (o->sport || o->bind) {
		if (o->sport) {
			err = set_sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "send",
					      "SO_REUSEADDR");
			if (err)
				goto fail;
		}
		/* bind_addr is all zero without --bind: any address, this port */
		sl = addr_sockaddr(o->group.family, o->bind_addr, o->sport, o->ifindex, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
			err = -errno;
			if (o->sport)
				pr_warn("send: bind %s port %u: %s\n", o->bind ? o->bind : "any address",
					o->sport, strerror(-err));
			else
				pr_warn("send: bind %s: %s%s\n", o->bind, strerror(-err),
					err == -EADDRNOTAVAIL ? " (not an address of this host)" : "");
			goto fail;
		}
	}

	/* connect() looks the route up now, so a missing one is reported at start. */
	sl = addr_sockaddr(o->group.family, o->group.addr, o->group.port, o->ifindex, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		err = -errno;
		if (err == -ENETUNREACH)
			pr_warn("send: %s: no route to the group; add one (ip route add %s dev IF) or use --iface\n",
				group_str(&o->group, gs, sizeof(gs)),
				v6 ? "ff00::/8" : "224.0.0.0/4");
		else
			pr_warn("send: connect to %s: %s\n",
				group_str(&o->group, gs, sizeof(gs)), strerror(-err));
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return err;
}

/* Absolute deadline of datagram k, CLOCK_MONOTONIC ns. */
static uint64_t deadline(const struct send_opts *o, const struct send_stats *st, uint64_t k)
{
	return st->t_start + (uint64_t)((double)k * 1e9 / o->pps);
}

/* Datagrams whose deadline is at or before t, counting from 0. */
static uint64_t due_by(const struct send_opts *o, const struct send_stats *st, uint64_t t)
{
	uint64_t n = (uint64_t)floor((double)(t - st->t_start) * o->pps / 1e9) + 1;

	/* the float rounding may put deadline(n - 1) a nanosecond after t */
	while (n > 0 && deadline(o, st, n - 1) > t)
		n--;
	return n;
}

static void nap_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000ull, .tv_nsec = t % 1000000000ull };

	/* EINTR is the point: a signal ends the nap; the loop looks at send_stop */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void warn_error(const struct send_opts *o, int err, uint64_t errors, uint64_t *last)
{
	uint64_t now = now_ns();
	char gs[GROUP_STRLEN];

	/* once a second at most: a dead route would otherwise flood stderr */
	if (*last && now - *last < 1000000000ull)
		return;
	*last = now;
	pr_warn("send: to %s: %s (%llu errors so far)\n", group_str(&o->group, gs, sizeof(gs)),
		strerror(err), (unsigned long long)errors);
}

/* The stall that began at `since` has lasted to `now`; say so when it
 * reaches STALL_NS, and again every STALL_GIVE_UP_NS while it lasts. */
static void stall_tell(const struct send_opts *o, int fd, uint64_t since, uint64_t now,
		       uint64_t *next)
{
	char gs[GROUP_STRLEN];
	socklen_t len;
	int buf = 0;

	if (now - since < *next)
		return;
	*next = (now - since) + STALL_GIVE_UP_NS;
	len = sizeof(buf);
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, &len);
	pr_warn("send: to %s: the kernel has taken no datagram for %.1f s: the socket's send "
		"buffer (%d bytes) is full of datagrams that have not left (a neighbour that "
		"does not answer? a qdisc that holds them?)\n",
		group_str(&o->group, gs, sizeof(gs)), (now - since) / 1e9, buf);
}

/* A stall that lasted `ns` ended (datagrams are taken again, or the run
 * stopped): counted when it was one. */
static void stall_end(const struct send_opts *o, struct send_stats *st, uint64_t ns, bool taken)
{
	char gs[GROUP_STRLEN];

	if (ns < STALL_NS)
		return;
	st->stalls++;
	st->longest_stall = MAX(st->longest_stall, ns);
	if (taken)
		pr_warn("send: to %s: the kernel takes datagrams again after %.1f s\n",
			group_str(&o->group, gs, sizeof(gs)), ns / 1e9);
}

/* Until the socket has room, a signal, or at most until `until`. */
static void wait_room(int fd, uint64_t now, uint64_t until)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	uint64_t ms = until > now ? (until - now + 999999) / 1000000 : 0;

	/* EINTR is the point, as in nap_until() */
	poll(&pfd, 1, (int)MIN(ms, (uint64_t)INT_MAX));
}

static int send_loop(const struct send_opts *o, int fd, struct send_stats *st)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct lab_dgram d = {
		.sender_id = st->sender_id,
		.size = o->size,
		.ttl = o->ttl,
		.dscp = o->dscp,
	};
	uint64_t attempts = 0, t_stop = 0, last_warn = 0, now;
	uint64_t stall_since = 0, stall_next = STALL_NS;   /* 0: not stalled */
	char gs[GROUP_STRLEN];
	uint8_t *bufs;
	int i, n;

	bufs = malloc((size_t)BATCH * o->size);
	if (!bufs) {
		pr_warn("send: out of memory for %u datagrams of %u bytes\n", BATCH, o->size);
		return -ENOMEM;
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs + (size_t)i * o->size;
		iov[i].iov_len = o->size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	st->t_start = now_ns();
	if (o->duration > 0)
		t_stop = st->t_start + (uint64_t)(o->duration * 1e9);
	/*
	 * Bounded by --count, --duration or a signal, and by a stall of
	 * STALL_GIVE_UP_NS when --count alone bounds it; each pass sends,
	 * sleeps until a deadline or waits for room, none longer than
	 * SLEEP_MAX_NS.
	 */
	for (;;) {
		uint64_t want = BATCH;

		now = now_ns();
		if (send_stop || (t_stop && now >= t_stop) || (o->count && attempts >= o->count))
			break;
		if (stall_since) {
			stall_tell(o, fd, stall_since, now, &stall_next);
			if (o->count && !t_stop && now - stall_since >= STALL_GIVE_UP_NS) {
				pr_warn("send: to %s: giving up: the kernel took no datagram for %d s "
					"(%llu of %llu sent)\n", group_str(&o->group, gs, sizeof(gs)),
					STALL_GIVE_UP_S, (unsigned long long)st->sent,
					(unsigned long long)o->count);
				st->gave_up = true;
				break;
			}
		}
		if (o->count)
			want = MIN(want, o->count - attempts);
		if (o->pps > 0) {
			uint64_t due = due_by(o, st, now);

			if (due <= attempts) {
				uint64_t t = MIN(deadline(o, st, attempts), now + SLEEP_MAX_NS);

				nap_until(t_stop ? MIN(t, t_stop) : t);
				continue;
			}
			want = MIN(want, due - attempts);
		}

		for (i = 0; i < (int)want; i++) {
			d.seq = attempts + i;
			d.send_ns = realtime_ns();
			lab_encode(iov[i].iov_base, &d);
		}
		if (!st->t_first)
			st->t_first = now_ns();
		n = sendmmsg(fd, msgs, want, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* the send buffer is full: the same datagrams again once it has room */
				if (!stall_since)
					stall_since = now;
				wait_room(fd, now, t_stop ? MIN(t_stop, now + SLEEP_MAX_NS) :
						    now + SLEEP_MAX_NS);
				continue;
			}
			/* the first datagram failed: count it, skip its seq, go on */
			st->errors++;
			attempts++;
			warn_error(o, errno, st->errors, &last_warn);
			continue;
		}
		st->t_last = now_ns();
		if (stall_since) {
			stall_end(o, st, st->t_last - stall_since, true);
			stall_since = 0;
			stall_next = STALL_NS;
		}
		st->sent += n;
		st->bytes += (uint64_t)n * o->size;
		attempts += n;
	}
	st->t_end = now;
	if (stall_since)
		stall_end(o, st, now - stall_since, false);
	if (o->pps > 0) {
		/* a datagram due exactly at the stop time is not owed */
		uint64_t t = t_stop ? MIN(now, t_stop - 1) : now;

		/*
		 * Not capped at --count: a run that --count ended late sent
		 * fewer than the schedule had due by its end, as one that
		 * --duration ended does. One short is the race between the last
		 * wake-up and the stop time.
		 */
		st->due = due_by(o, st, t);
		st->behind = attempts + 1 < st->due &&
			     (double)(st->due - attempts) > st->due * BEHIND_PCT / 100;
	}
	free(bufs);
	return 0;
}

static double achieved_pps(const struct send_stats *st)
{
	/* from the first send to the last: N datagrams span N - 1 intervals */
	if (st->sent > 1 && st->t_last > st->t_first)
		return (st->sent - 1) * 1e9 / (st->t_last - st->t_first);
	return 0;
}

static void send_report(const struct send_opts *o, const struct send_stats *st)
{
	double secs = (st->t_end - st->t_start) / 1e9, pps = achieved_pps(st);
	char gs[GROUP_STRLEN];

	group_str(&o->group, gs, sizeof(gs));
	if (st->behind)
		pr_warn("send: behind the requested rate: %llu of %llu due datagrams sent (%.1f pps of %.1f)\n",
			(unsigned long long)(st->sent + st->errors),
			(unsigned long long)st->due, pps, o->pps);
	if (o->json) {
		printf("{\"group\":\"%s\",\"sender_id\":\"%016llx\",\"sent\":%llu,\"errors\":%llu,"
		       "\"bytes\":%llu,\"size\":%u,\"duration_s\":%.6f,\"rate_pps\":%.1f,",
		       gs, (unsigned long long)st->sender_id, (unsigned long long)st->sent,
		       (unsigned long long)st->errors, (unsigned long long)st->bytes, o->size,
		       secs, pps);
		if (o->pps > 0)
			printf("\"target_pps\":%.1f,", o->pps);
		else
			printf("\"target_pps\":null,");
		printf("\"behind\":%s,\"stalls\":%llu,\"longest_stall_s\":%.3f,\"gave_up\":%s,"
		       "\"ttl\":%u,\"dscp\":%u}\n", st->behind ? "true" : "false",
		       (unsigned long long)st->stalls, st->longest_stall / 1e9,
		       st->gave_up ? "true" : "false", o->ttl, o->dscp);
	} else if (!o->quiet) {
		printf("sent %llu datagrams (%llu bytes) to %s in %.3f s: %.1f pps, %.3f Mbit/s, %llu errors, %llu stalls, sender id %016llx\n",
		       (unsigned long long)st->sent, (unsigned long long)st->bytes, gs, secs, pps,
		       pps * o->size * 8 / 1e6, (unsigned long long)st->errors,
		       (unsigned long long)st->stalls, (unsigned long long)st->sender_id);
	}
	fflush(stdout);
}

int send_main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	struct send_stats st = {};
	struct send_opts o;
	char gs[GROUP_STRLEN];
	int fd = -1, err;

	err = send_parse(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	err = random_bytes(&st.sender_id, sizeof(st.sender_id));
	if (err) {
		pr_warn("send: random sender id: %s\n", strerror(-err));
		return err;
	}
	err = send_socket(&o, &fd);
	if (err)
		return err;
	if (!o.quiet && !o.json) {
		char rate[32] = "as fast as possible";

		if (o.pps > 0)
			snprintf(rate, sizeof(rate), "%.1f pps", o.pps);
		pr_info("sending to %s: %u bytes, %s, ttl %u, dscp %u, sender id %016llx\n",
			group_str(&o.group, gs, sizeof(gs)), o.size, rate, o.ttl, o.dscp,
			(unsigned long long)st.sender_id);
	}

	/* no SA_RESTART: a signal must cut a nap or a wait for room short */
	send_stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	err = send_loop(&o, fd, &st);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (!err)
		send_report(&o, &st);
	if (!err && st.gave_up)
		err = -ETIMEDOUT;
	close(fd);
	return err;
}
