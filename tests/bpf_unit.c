// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet-level unit tests of bpf/mctun.bpf.c, no network needed: each case
 * builds a packet, runs it through mctun_tc_in, mctun_tc_out or mctun_xdp
 * with BPF_PROG_TEST_RUN, and checks the verdict, that the packet comes
 * out unchanged, the skb mark, what landed in the ring (every event field
 * and the payload bytes) and every counter of mctun_stats and mctun_gstats
 * (summed over CPUs, zeroed before each case).
 *
 * The object is configured as the daemon does it (user/tunnel/capture_bpf.c):
 * rodata l2_len = 14 and xdp_mode, groups with their address-only entries, mtu and frag_mark, a self port.
 * Membership learning (rodata learn) is on in every environment but
 * ENV_NO_LEARN, so the datagram cases also show that it changes nothing
 * for datagrams; IGMP and MLD messages come out as events of group_id
 * MCTUN_GID_MEMBERSHIP, checked as datagrams are.
 *
 * Not testable here: the looped-back path (skb->pkt_type cannot be set
 * through the test-run context, so PACKET_LOOPBACK never reaches the
 * program) and too_big (a UDP length field cannot announce more than
 * 65,527 payload bytes, under MCTUN_MAX_PAYLOAD).
 *
 * Prints "ok - NAME" or "not ok - NAME: why" per case. Exit status 0
 * when no case failed, 1 otherwise, 2 when the object cannot be loaded.
 *
 *   build/bpf_unit [-v] [NAME-SUBSTRING]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mctun.h"
#include "mctun.skel.h"

#define SELF_PORT   40999
#define MARK_IN     0x00000007u     /* a mark someone else set: must survive */
#define MAX_EVENTS  8
#define NGROUPS     10
#define PKT_MAX     2048

enum hook { TC_IN, TC_OUT, XDP };
enum env_kind { ENV_TC, ENV_XDP, ENV_SMALL_RING, ENV_NO_LEARN, NENVS };

/* ---- the object, configured like the daemon does --------------------------- */

struct event {
	struct mctun_event ev;
	uint8_t data[PKT_MAX];
};

struct env {
	struct mctun_bpf *skel;
	struct ring_buffer *rb;
	struct event events[MAX_EVENTS];
	unsigned int nevents;           /* may exceed MAX_EVENTS: counted, not kept */
};

static int ncpus;
static bool verbose;

struct group_def {
	uint8_t family;
	const char *addr, *src;
	uint16_t port;           /* 0: any port (a range) */
	__u32 flags;             /* MCTUN_GF_* of its entry */
	uint8_t plen;            /* a range's prefix length; 0: one address */
};

/* Ids are the indexes, as the daemon numbers its -g options. */
static const struct group_def groups[NGROUPS] = {
	{ MCTUN_FAM_INET, "239.1.2.3", NULL, 5000 },
	{ MCTUN_FAM_INET6, "ff15::1", NULL, 5000 },
	{ MCTUN_FAM_INET, "232.1.1.1", "198.18.1.1", 6000 },
	/* direction in: like the daemon, no address-only entry for it */
	{ MCTUN_FAM_INET, "239.1.2.9", NULL, 5000, MCTUN_GF_NOCAPTURE },
	/* ranges (mctun_ranges), one of each kind, and an exact group inside one */
	{ MCTUN_FAM_INET, "239.192.0.0", NULL, 0, 0, 16 },
	{ MCTUN_FAM_INET, "239.192.7.0", NULL, 5000, 0, 24 },
	{ MCTUN_FAM_INET, "232.5.0.0", "198.18.1.1", 0, 0, 16 },
	{ MCTUN_FAM_INET6, "ff16::", "2001:db8:1::2", 5000, 0, 16 },
	{ MCTUN_FAM_INET, "239.192.5.5", NULL, 5000 },
	/* configured, nobody wants it now: like direction in, no address entry */
	{ MCTUN_FAM_INET, "239.1.2.10", NULL, 5000, MCTUN_GF_IDLE },
};

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN || verbose)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void ip_bytes(uint8_t family, const char *s, uint8_t *out)
{
	memset(out, 0, 16);
	if (inet_pton(family == MCTUN_FAM_INET ? AF_INET : AF_INET6, s, out) != 1) {
		fprintf(stderr, "bad address %s\n", s);
		exit(2);
	}
}

/* The payload slot of a ring record (include/mctun.h). */
static size_t slot_of(__u32 len)
{
	size_t slot = MCTUN_RING_SLOT_MIN;

	while (slot < len)
		slot <<= 1;
	return slot;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct env *e = ctx;

	if (e->nevents < MAX_EVENTS) {
		struct event *ev = &e->events[e->nevents];

		memset(ev, 0, sizeof(*ev));
		memcpy(ev, data, size < sizeof(*ev) ? size : sizeof(*ev));
		/* the record: the header, then len in the smallest slot that holds it */
		if (size != sizeof(ev->ev) + slot_of(ev->ev.len))
			ev->ev.len = ~0u;
	}
	e->nevents++;
	return 0;
}

/* A range's entry, as the daemon makes it (user/tunnel/groups.c). */
static int range_add(struct env *e, const struct group_def *g, __u32 id)
{
	struct mctun_range_key k = { .family = g->family, .port = htons(g->port) };
	struct mctun_group_val v = { .id = id, .flags = g->flags | MCTUN_GF_RANGE };

	v.plen = g->plen ? g->plen : g->family == MCTUN_FAM_INET ? 32 : 128;
	k.prefixlen = MCTUN_RANGE_FIXED_BITS + v.plen;
	ip_bytes(g->family, g->addr, k.addr);
	if (g->src)
		ip_bytes(g->family, g->src, k.src);
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.mctun_ranges), &k, &v, BPF_ANY))
		return -errno;
	e->skel->bss->range_kinds |= g->port ? (g->src ? MCTUN_RK_PORT_SRC : MCTUN_RK_PORT) :
					       (g->src ? MCTUN_RK_SRC : MCTUN_RK_ANY);
	return 0;
}

static int env_open(struct env *e, enum env_kind kind)
{
	__u16 self = SELF_PORT;
	__u8 one = 1;
	unsigned int i;
	int err, fd;

	memset(e, 0, sizeof(*e));
	e->skel = mctun_bpf__open();
	if (!e->skel)
		return -errno;
	e->skel->rodata->l2_len = ETH_HLEN;
	e->skel->rodata->xdp_mode = kind == ENV_XDP;
	e->skel->rodata->mtu = 1500;
	e->skel->rodata->frag_mark = MCTUN_FRAG_MARK;
	e->skel->rodata->learn = kind != ENV_NO_LEARN;
	if (kind != ENV_XDP)
		bpf_program__set_autoload(e->skel->progs.mctun_xdp, false);
	/* The smallest ring there is: four 1000-byte events do not fit. */
	bpf_map__set_max_entries(e->skel->maps.mctun_ring,
				 kind == ENV_SMALL_RING ? 4096 : 1 << 20);
	err = mctun_bpf__load(e->skel);
	if (err)
		return err;

	fd = bpf_map__fd(e->skel->maps.mctun_groups);
	for (i = 0; i < NGROUPS; i++) {
		struct mctun_group_key k = { .family = groups[i].family,
					     .port = htons(groups[i].port) };
		struct mctun_group_val v = { .id = i, .flags = groups[i].flags,
					     .plen = groups[i].family == MCTUN_FAM_INET ? 32 : 128 };

		if (groups[i].plen || !groups[i].port) {
			err = range_add(e, &groups[i], i);
			if (err)
				return err;
			continue;
		}

		ip_bytes(groups[i].family, groups[i].addr, k.addr);
		if (groups[i].src)
			ip_bytes(groups[i].family, groups[i].src, k.src);
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
		if (groups[i].flags & (MCTUN_GF_NOCAPTURE | MCTUN_GF_IDLE))
			continue;
		k.port = 0;
		memset(k.src, 0, 16);
		v.flags = MCTUN_GF_ADDR;
		if (bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST) && errno != EEXIST)
			return -errno;
	}
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.mctun_selfport), &self, &one, BPF_ANY))
		return -errno;
	e->rb = ring_buffer__new(bpf_map__fd(e->skel->maps.mctun_ring), on_event, e, NULL);
	if (!e->rb)
		return -errno;
	return 0;
}

static void env_close(struct env *e)
{
	ring_buffer__free(e->rb);
	mctun_bpf__destroy(e->skel);
}

/* Per-CPU values: sum the __u64 fields over the CPUs into out. */
static int percpu_sum(int fd, __u32 key, void *out, size_t size)
{
	size_t words = size / 8, i;
	__u64 *vals = calloc(ncpus, size), *sum = out;
	int c, err = 0;

	if (!vals)
		return -ENOMEM;
	memset(out, 0, size);
	if (bpf_map_lookup_elem(fd, &key, vals))
		err = -errno;
	for (c = 0; !err && c < ncpus; c++)
		for (i = 0; i < words; i++)
			sum[i] += vals[c * words + i];
	free(vals);
	return err;
}

static int percpu_zero(int fd, __u32 key, size_t size)
{
	void *vals = calloc(ncpus, size);
	int err = 0;

	if (!vals)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &key, vals, BPF_ANY))
		err = -errno;
	free(vals);
	return err;
}

static int env_reset(struct env *e)
{
	unsigned int i;
	int err;

	ring_buffer__consume(e->rb);
	e->nevents = 0;
	err = percpu_zero(bpf_map__fd(e->skel->maps.mctun_stats), 0, sizeof(struct mctun_stats));
	for (i = 0; !err && i < NGROUPS; i++)
		err = percpu_zero(bpf_map__fd(e->skel->maps.mctun_gstats), i,
				  sizeof(struct mctun_gstats));
	return err;
}

/* ---- packets ---------------------------------------------------------------- */

enum { FRAG_NONE, FRAG_FIRST, FRAG_LATER };

#define EXT_HOP     0x1      /* IPv6 hop-by-hop options, 8 bytes (PadN, or see ra) */
#define EXT_DST     0x2      /* IPv6 destination options, 16 bytes */
#define EXT_ROUTING 0x4      /* IPv6 routing header, 8 bytes */

struct pkt_spec {
	uint8_t family;          /* MCTUN_FAM_*; 0: an ARP frame */
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t ttl, tos;
	uint8_t proto;           /* 0: UDP */
	uint32_t plen;           /* payload bytes (a pattern) */
	const uint8_t *msg;      /* the transport message as is, in place of UDP
				  * header and payload (IGMP, ICMPv6) */
	size_t msg_len;
	unsigned int vlans;      /* 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
	unsigned int ip_opts;    /* IPv4 option bytes, a multiple of 4 */
	bool ra;                 /* router alert: IPv4's first option (ip_opts >= 4),
				  * in IPv6's hop-by-hop header before a PadN */
	unsigned int ext;        /* EXT_* before the transport header */
	int frag;                /* FRAG_* */
	int udp_len_delta;       /* added to the UDP length field */
	int ihl;                 /* overrides the IPv4 header length field */
	size_t cut;              /* keep only this many bytes (0: all) */
	size_t pad_to;           /* Ethernet padding up to this length */
};

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }

static uint8_t payload_byte(uint32_t i) { return (uint8_t)(i * 13 + 5); }

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Builds the packet; returns its length. */
static size_t build(const struct pkt_spec *s, uint8_t *b)
{
	uint8_t src[16], dst[16];
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;
	bool udp_hdr = s->frag != FRAG_LATER;
	size_t n = 0, l4len, i;

	memset(b, 0, PKT_MAX);
	/* Ethernet: a group's MAC for multicast, else anything unicast. */
	if (s->family == MCTUN_FAM_INET6)
		memcpy(b, (uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	else
		memcpy(b, (uint8_t[]){ 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 }, 6);
	memcpy(b + 6, (uint8_t[]){ 0x02, 0, 0, 0, 0, 1 }, 6);
	n = 12;
	if (s->vlans == 2) {
		put16(b + n, ETH_P_8021AD);
		put16(b + n + 2, 100);
		n += 4;
	}
	if (s->vlans >= 1) {
		put16(b + n, ETH_P_8021Q);
		put16(b + n + 2, 200);
		n += 4;
	}
	if (!s->family) {
		put16(b + n, ETH_P_ARP);
		n += 2;
		memset(b + n, 0x11, 28);
		return n + 28;
	}
	put16(b + n, s->family == MCTUN_FAM_INET ? ETH_P_IP : ETH_P_IPV6);
	n += 2;

	ip_bytes(s->family, s->src, src);
	ip_bytes(s->family, s->dst, dst);
	l4len = s->msg ? s->msg_len : (udp_hdr ? 8 : 0) + s->plen;
	if (s->family == MCTUN_FAM_INET) {
		size_t hl = 20 + s->ip_opts;

		b[n] = 0x40 | (s->ihl ? (unsigned int)s->ihl : hl / 4);
		b[n + 1] = s->tos;
		put16(b + n + 2, hl + l4len);
		put16(b + n + 4, 0x1234);
		put16(b + n + 6, s->frag == FRAG_FIRST ? 0x2000 : s->frag == FRAG_LATER ? 185 : 0);
		b[n + 8] = s->ttl;
		b[n + 9] = proto;
		memcpy(b + n + 12, src, 4);
		memcpy(b + n + 16, dst, 4);
		memset(b + n + 20, 0x01, s->ip_opts);   /* NOPs */
		if (s->ra)
			memcpy(b + n + 20, (uint8_t[]){ 0x94, 4, 0, 0 }, 4);
		put16(b + n + 10, ip_csum(b + n, hl));
		n += hl;
	} else {
		uint8_t *nh = b + n + 6;
		size_t plen_at = n + 4, start;

		b[n] = 0x60 | s->tos >> 4;
		b[n + 1] = (s->tos & 0xf) << 4;
		b[n + 7] = s->ttl;
		memcpy(b + n + 8, src, 16);
		memcpy(b + n + 24, dst, 16);
		n += 40;
		start = n;
		if (s->ext & EXT_HOP) {
			*nh = IPPROTO_HOPOPTS;
			nh = b + n;
			b[n + 1] = 0;                   /* 8 bytes */
			b[n + 2] = 1;                   /* PadN */
			b[n + 3] = 4;
			if (s->ra)                      /* router alert (MLD), PadN */
				memcpy(b + n + 2, (uint8_t[]){ 5, 2, 0, 0, 1, 0 }, 6);
			n += 8;
		}
		if (s->ext & EXT_ROUTING) {
			*nh = IPPROTO_ROUTING;
			nh = b + n;
			b[n + 1] = 0;
			b[n + 2] = 253;                 /* experimental type */
			n += 8;
		}
		if (s->ext & EXT_DST) {
			*nh = IPPROTO_DSTOPTS;
			nh = b + n;
			b[n + 1] = 1;                   /* 16 bytes */
			b[n + 2] = 1;                   /* PadN */
			b[n + 3] = 12;
			n += 16;
		}
		if (s->frag != FRAG_NONE) {
			*nh = IPPROTO_FRAGMENT;
			nh = b + n;
			put16(b + n + 2, s->frag == FRAG_FIRST ? 1 : 185 << 3);
			put16(b + n + 4, 0xabcd);
			n += 8;
		}
		*nh = proto;
		put16(b + plen_at, n - start + l4len);
	}
	if (s->msg) {
		memcpy(b + n, s->msg, s->msg_len);
		n += s->msg_len;
	} else if (udp_hdr && proto == IPPROTO_UDP) {
		put16(b + n, s->sport);
		put16(b + n + 2, s->dport);
		put16(b + n + 4, 8 + s->plen + s->udp_len_delta);
		n += 8;
	} else if (udp_hdr) {
		/* another transport: ports where UDP has them, then zeros */
		put16(b + n, s->sport);
		put16(b + n + 2, s->dport);
		n += 8;
	}
	for (i = 0; !s->msg && i < s->plen; i++)
		b[n + i] = payload_byte(i);
	n += s->msg ? 0 : s->plen;
	if (s->pad_to > n)
		n = s->pad_to;
	if (s->cut)
		n = s->cut;
	return n;
}

/* ---- cases ------------------------------------------------------------------ */

struct ev_want {
	uint32_t group_id;
	uint8_t dir;             /* MCTUN_DIR_* */
};

struct tcase {
	const char *name;
	enum env_kind env;
	enum hook hook;
	struct pkt_spec pkt;
	unsigned int runs;       /* times the packet is run (default 1) */
	bool marked;             /* the fragment mark is added */
	unsigned int events;     /* events expected in the ring */
	struct ev_want ev;
	struct mctun_stats st;   /* ended set: the verdict is TC_ACT_STOLEN / XDP_DROP */
	struct mctun_gstats gs[NGROUPS];
	uint8_t rx;              /* local receivers, RX_* */
};

/* What the daemon told the program of local receivers (mctun_localrx). */
enum {
	RX_UNKNOWN,              /* nothing yet (localrx_known 0): every case but these */
	RX_NONE,                 /* known: nobody on the gateway joined a group */
	RX_JOINED,               /* known: someone joined the packet's group */
	RX_OTHER,                /* known: someone joined another group (239.1.2.4) */
};

/* The usual datagram of group 0, from a host on the island. */
#define V4(...) { .family = MCTUN_FAM_INET, .src = "198.18.1.2", .dst = "239.1.2.3", \
		  .sport = 40000, .dport = 5000, .ttl = 4, .tos = 0xb8, .plen = 32, \
		  __VA_ARGS__ }
#define V6(...) { .family = MCTUN_FAM_INET6, .src = "2001:db8:1::2", .dst = "ff15::1", \
		  .sport = 40000, .dport = 5000, .ttl = 7, .tos = 0x2e, .plen = 32, \
		  __VA_ARGS__ }

/* ... and ended in the program: no local receiver. */
#define ENDED_IN(n) { .seen = 1, .udp_mcast = 1, .matched = 1, .ingress = 1, .pushed = 1, \
		      .pushed_bytes = (n), .ended = 1 }
/* Counters of one captured datagram of n payload bytes on ingress. */
#define CAPTURED_IN(n) { .seen = 1, .udp_mcast = 1, .matched = 1, .ingress = 1, .pushed = 1, \
			 .pushed_bytes = (n) }
#define CAPTURED_OUT(n) { .seen = 1, .udp_mcast = 1, .matched = 1, .egress = 1, .pushed = 1, \
			  .pushed_bytes = (n) }
#define GS(id, ...) [id] = { __VA_ARGS__ }

/* IGMP and MLD messages as hosts and routers send them (checksums zero:
 * the program reads nothing past the type), and ICMPv6 that is not MLD. */
static const uint8_t igmpv2_report[] = { 0x16, 0, 0, 0, 239, 1, 2, 3 };
static const uint8_t igmpv3_report[] = { 0x22, 0, 0, 0, 0, 0, 0, 1,
					 4, 0, 0, 0, 239, 1, 2, 3 };  /* to exclude {} */
static const uint8_t igmpv3_report_big[1000] = { 0x22 };
static const uint8_t igmp_leave[] = { 0x17, 0, 0, 0, 239, 1, 2, 3 };
static const uint8_t igmpv3_query[] = { 0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0 };
static const uint8_t igmp_mtrace[] = { 0x1f, 8, 0, 0, 239, 1, 2, 3, 198, 18, 1, 2,
				       198, 18, 1, 1, 198, 18, 1, 2, 239, 9, 9, 9, 0, 0, 0, 1 };
static const uint8_t igmp_short[] = { 0x16, 0, 0, 0 };
static const uint8_t mldv2_report[] = { 143, 0, 0, 0, 0, 0, 0, 1,
					4, 0, 0, 0, 0xff, 0x15, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 1 };    /* ff15::1, to exclude {} */
static const uint8_t mld_done[] = { 132, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x15, 0, 0,
				    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t mldv2_query[] = { 130, 0, 0, 0, 0x27, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
				       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0 };
static const uint8_t icmp6_echo[] = { 128, 0, 0, 0, 0x12, 0x34, 0, 1 };
static const uint8_t icmp6_ns[] = { 135, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8,
				    0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

/* A message from a host of the island: IPv4 with the router alert option
 * (ihl 6), IPv6 with it in a hop-by-hop header, TTL 1. */
#define IGMP(m, ...) { .family = MCTUN_FAM_INET, .src = "198.18.1.2", .dst = "224.0.0.22", \
		       .ttl = 1, .tos = 0xc0, .proto = IPPROTO_IGMP, .ip_opts = 4, .ra = true, \
		       .msg = (m), .msg_len = sizeof(m), __VA_ARGS__ }
#define MLD(m, ...) { .family = MCTUN_FAM_INET6, .src = "fe80::2", .dst = "ff02::16", \
		      .ttl = 1, .proto = IPPROTO_ICMPV6, .ext = EXT_HOP, .ra = true, \
		      .msg = (m), .msg_len = sizeof(m), __VA_ARGS__ }
#define MSHIP_IN { MCTUN_GID_MEMBERSHIP, MCTUN_DIR_INGRESS }

/* Later fragments are looked up by (group address, port 0, source): the
 * address-only entries have a zero source, so nothing matches. The first
 * fragment's mark still reaches the reassembled datagram. */
/* A case names only what differs from the usual datagram: later
 * initializers override the macro's, on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const struct tcase cases[] = {
	/* -- captured whole -- */
	{ "ipv4 group datagram on ingress: captured", ENV_TC, TC_IN, V4(), .events = 1,
	  .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "ipv4 group datagram on egress: captured", ENV_TC, TC_OUT, V4(.sport = 40001),
	  .events = 1, .ev = { 0, MCTUN_DIR_EGRESS }, .st = CAPTURED_OUT(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "ipv6 group datagram: captured", ENV_TC, TC_IN, V6(.plen = 100), .events = 1,
	  .ev = { 1, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(100),
	  .gs = { GS(1, .packets = 1, .bytes = 100) } },
	{ "zero-byte payload: captured with len 0", ENV_TC, TC_IN, V4(.plen = 0), .events = 1,
	  .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(0),
	  .gs = { GS(0, .packets = 1, .bytes = 0) } },
	{ "zero-byte ipv6 payload: captured with len 0", ENV_TC, TC_IN, V6(.plen = 0),
	  .events = 1, .ev = { 1, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(0),
	  .gs = { GS(1, .packets = 1, .bytes = 0) } },
	{ "ethernet padding after a short datagram: not payload", ENV_TC, TC_IN,
	  V4(.plen = 2, .pad_to = 60), .events = 1, .ev = { 0, MCTUN_DIR_INGRESS },
	  .st = CAPTURED_IN(2), .gs = { GS(0, .packets = 1, .bytes = 2) } },
	{ "1400-byte payload: captured whole", ENV_TC, TC_IN, V4(.plen = 1400), .events = 1,
	  .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(1400),
	  .gs = { GS(0, .packets = 1, .bytes = 1400) } },
	{ "ipv4 options (ihl 6): captured, payload after them", ENV_TC, TC_IN,
	  V4(.ip_opts = 4), .events = 1, .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "ipv4 options (ihl 15): captured, payload after them", ENV_TC, TC_IN,
	  V4(.ip_opts = 40), .events = 1, .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "802.1Q tag before ipv4: captured", ENV_TC, TC_IN, V4(.vlans = 1), .events = 1,
	  .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "QinQ (802.1ad + 802.1Q) before ipv4: captured", ENV_TC, TC_IN, V4(.vlans = 2),
	  .events = 1, .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "802.1Q tag before ipv6: captured", ENV_TC, TC_IN, V6(.vlans = 1), .events = 1,
	  .ev = { 1, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(1, .packets = 1, .bytes = 32) } },
	{ "ipv6 hop-by-hop + destination options: captured", ENV_TC, TC_IN,
	  V6(.ext = EXT_HOP | EXT_DST), .events = 1, .ev = { 1, MCTUN_DIR_INGRESS },
	  .st = CAPTURED_IN(32), .gs = { GS(1, .packets = 1, .bytes = 32) } },
	{ "ipv6 hop-by-hop + routing + destination options: captured", ENV_TC, TC_IN,
	  V6(.ext = EXT_HOP | EXT_ROUTING | EXT_DST), .events = 1,
	  .ev = { 1, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(1, .packets = 1, .bytes = 32) } },

	/* -- SSM -- */
	{ "ssm group, its source: captured", ENV_TC, TC_IN,
	  V4(.src = "198.18.1.1", .dst = "232.1.1.1", .dport = 6000), .events = 1,
	  .ev = { 2, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(2, .packets = 1, .bytes = 32) } },
	{ "ssm group, another source: not matched", ENV_TC, TC_IN,
	  V4(.src = "198.18.1.2", .dst = "232.1.1.1", .dport = 6000),
	  .st = { .seen = 1, .udp_mcast = 1 } },

	/* -- not ours -- */
	{ "configured group, another port: not matched", ENV_TC, TC_IN, V4(.dport = 5001),
	  .st = { .seen = 1, .udp_mcast = 1 } },
	{ "another group, configured port: not matched", ENV_TC, TC_IN, V4(.dst = "239.1.2.4"),
	  .st = { .seen = 1, .udp_mcast = 1 } },
	{ "ipv6: another group: not matched", ENV_TC, TC_IN, V6(.dst = "ff15::2"),
	  .st = { .seen = 1, .udp_mcast = 1 } },
	{ "tcp to a group address and port: not udp_mcast", ENV_TC, TC_IN,
	  V4(.proto = IPPROTO_TCP), .st = { .seen = 1 } },
	{ "igmp report: not udp_mcast", ENV_TC, TC_IN,
	  V4(.proto = IPPROTO_IGMP, .dst = "224.0.0.22", .plen = 0), .st = { .seen = 1 } },
	{ "ipv4 unicast udp: not udp_mcast", ENV_TC, TC_IN, V4(.dst = "198.18.1.1"),
	  .st = { .seen = 1 } },
	{ "ipv6 unicast udp: not udp_mcast", ENV_TC, TC_IN, V6(.dst = "2001:db8:1::1"),
	  .st = { .seen = 1 } },
	{ "arp: not ip", ENV_TC, TC_IN, { .family = 0 }, .st = { .seen = 1 } },

	/* -- our own re-injections -- */
	{ "self port on egress: counted self, not captured", ENV_TC, TC_OUT,
	  V4(.sport = SELF_PORT), .st = { .seen = 1, .udp_mcast = 1, .self = 1 } },
	{ "self port on egress, ipv6: counted self, not captured", ENV_TC, TC_OUT,
	  V6(.sport = SELF_PORT), .st = { .seen = 1, .udp_mcast = 1, .self = 1 } },

	/* -- a group of direction in: never captured, never marked -- */
	{ "direction in, ingress: skipped, counted", ENV_TC, TC_IN, V4(.dst = "239.1.2.9"),
	  .st = { .seen = 1, .udp_mcast = 1, .dir_in = 1 } },
	{ "direction in, local sender on egress: skipped, counted", ENV_TC, TC_OUT,
	  V4(.dst = "239.1.2.9"), .st = { .seen = 1, .udp_mcast = 1, .dir_in = 1 } },
	{ "direction in, our own re-injection: self, as any", ENV_TC, TC_OUT,
	  V4(.dst = "239.1.2.9", .sport = SELF_PORT), .st = { .seen = 1, .udp_mcast = 1, .self = 1 } },
	{ "direction in, first fragment: not marked", ENV_TC, TC_IN,
	  V4(.dst = "239.1.2.9", .frag = FRAG_FIRST, .plen = 1472),
	  .st = { .seen = 1, .udp_mcast = 1, .dir_in = 1 } },
	{ "direction in, later fragment: not marked (no address entry)", ENV_TC, TC_IN,
	  V4(.dst = "239.1.2.9", .frag = FRAG_LATER, .plen = 500), .st = { .seen = 1 } },
	{ "direction in, xdp: skipped, counted", ENV_XDP, XDP, V4(.dst = "239.1.2.9"),
	  .st = { .seen = 1, .udp_mcast = 1, .dir_in = 1 } },

	/* -- a group no peer wants now (subscriptions) -- */
	{ "group nobody wants: skipped, counted not_wanted", ENV_TC, TC_IN,
	  V4(.dst = "239.1.2.10"), .st = { .seen = 1, .udp_mcast = 1, .unwanted = 1 } },
	{ "group nobody wants, first fragment: not marked", ENV_TC, TC_IN,
	  V4(.dst = "239.1.2.10", .frag = FRAG_FIRST, .plen = 1472),
	  .st = { .seen = 1, .udp_mcast = 1, .unwanted = 1 } },
	{ "group nobody wants, xdp: skipped", ENV_XDP, XDP, V4(.dst = "239.1.2.10"),
	  .st = { .seen = 1, .udp_mcast = 1, .unwanted = 1 } },

	/* -- ranges: the most specific entry -- */
	{ "range /16 of any port: captured with its id", ENV_TC, TC_IN,
	  V4(.dst = "239.192.1.1", .dport = 6000), .events = 1, .ev = { 4, MCTUN_DIR_INGRESS },
	  .st = CAPTURED_IN(32), .gs = { GS(4, .packets = 1, .bytes = 32) } },
	{ "range /24:5000 beats /16:* (longer prefix)", ENV_TC, TC_IN,
	  V4(.dst = "239.192.7.9"), .events = 1, .ev = { 5, MCTUN_DIR_INGRESS },
	  .st = CAPTURED_IN(32), .gs = { GS(5, .packets = 1, .bytes = 32) } },
	{ "range /24:5000, other port: falls to /16:*", ENV_TC, TC_IN,
	  V4(.dst = "239.192.7.9", .dport = 5001), .events = 1, .ev = { 4, MCTUN_DIR_INGRESS },
	  .st = CAPTURED_IN(32), .gs = { GS(4, .packets = 1, .bytes = 32) } },
	{ "exact group inside a range: the exact one", ENV_TC, TC_IN,
	  V4(.dst = "239.192.5.5"), .events = 1, .ev = { 8, MCTUN_DIR_INGRESS },
	  .st = CAPTURED_IN(32), .gs = { GS(8, .packets = 1, .bytes = 32) } },
	{ "outside every range: not captured", ENV_TC, TC_IN, V4(.dst = "239.193.0.1"),
	  .st = { .seen = 1, .udp_mcast = 1 } },
	{ "range with a source, from it: captured", ENV_TC, TC_IN,
	  V4(.dst = "232.5.1.1", .src = "198.18.1.1", .dport = 7000), .events = 1,
	  .ev = { 6, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(6, .packets = 1, .bytes = 32) } },
	{ "range with a source, from another: not captured", ENV_TC, TC_IN,
	  V4(.dst = "232.5.1.1", .dport = 7000), .st = { .seen = 1, .udp_mcast = 1 } },
	{ "ipv6 range with a port and a source: captured", ENV_TC, TC_IN,
	  V6(.dst = "ff16::42"), .events = 1, .ev = { 7, MCTUN_DIR_INGRESS },
	  .st = CAPTURED_IN(32), .gs = { GS(7, .packets = 1, .bytes = 32) } },
	{ "ipv6 range, other port: not captured", ENV_TC, TC_IN, V6(.dst = "ff16::42", .dport = 1),
	  .st = { .seen = 1, .udp_mcast = 1 } },
	{ "range in xdp mode: captured by xdp", ENV_XDP, XDP,
	  V4(.dst = "239.192.1.1", .dport = 6000), .events = 1, .ev = { 4, MCTUN_DIR_INGRESS },
	  .st = CAPTURED_IN(32), .gs = { GS(4, .packets = 1, .bytes = 32) } },
	{ "range first fragment: counted, not marked", ENV_TC, TC_IN,
	  V4(.dst = "239.192.1.1", .frag = FRAG_FIRST, .plen = 1472),
	  .st = { .seen = 1, .udp_mcast = 1, .range_frags = 1 } },
	{ "range later fragment: no address entry, left", ENV_TC, TC_IN,
	  V4(.dst = "239.192.1.1", .frag = FRAG_LATER, .plen = 500), .st = { .seen = 1 } },

	/* -- fragments: marked, left to reassembly -- */
	{ "ipv4 first fragment: marked, not captured", ENV_TC, TC_IN,
	  V4(.frag = FRAG_FIRST, .plen = 1472), .marked = true,
	  .st = { .seen = 1, .udp_mcast = 1, .fragments = 1 },
	  .gs = { GS(0, .fragments = 1) } },
	{ "ipv4 later fragment: marked by address, not captured", ENV_TC, TC_IN,
	  V4(.frag = FRAG_LATER, .plen = 500), .marked = true,
	  .st = { .seen = 1, .fragments = 1 }, .gs = { GS(0, .fragments = 1) } },
	{ "ipv4 first fragment on egress: marked", ENV_TC, TC_OUT,
	  V4(.frag = FRAG_FIRST, .plen = 1472), .marked = true,
	  .st = { .seen = 1, .udp_mcast = 1, .fragments = 1 },
	  .gs = { GS(0, .fragments = 1) } },
	{ "ipv4 later fragment of another group: not marked", ENV_TC, TC_IN,
	  V4(.frag = FRAG_LATER, .dst = "239.9.9.9", .plen = 500), .st = { .seen = 1 } },
	{ "ipv4 first fragment, another port: not marked", ENV_TC, TC_IN,
	  V4(.frag = FRAG_FIRST, .dport = 5001, .plen = 1472),
	  .st = { .seen = 1, .udp_mcast = 1 } },
	{ "ipv4 later fragment of an ssm group: marked by address", ENV_TC, TC_IN,
	  V4(.frag = FRAG_LATER, .src = "198.18.1.1", .dst = "232.1.1.1", .plen = 500),
	  .marked = true, .st = { .seen = 1, .fragments = 1 },
	  .gs = { GS(2, .fragments = 1) } },
	{ "ipv6 fragment header, first: marked, not captured", ENV_TC, TC_IN,
	  V6(.frag = FRAG_FIRST, .plen = 1400), .marked = true,
	  .st = { .seen = 1, .udp_mcast = 1, .fragments = 1 },
	  .gs = { GS(1, .fragments = 1) } },
	{ "ipv6 fragment header, later: marked by address", ENV_TC, TC_IN,
	  V6(.frag = FRAG_LATER, .plen = 500), .marked = true,
	  .st = { .seen = 1, .fragments = 1 }, .gs = { GS(1, .fragments = 1) } },
	{ "ipv6 hop-by-hop then fragment header: marked", ENV_TC, TC_IN,
	  V6(.ext = EXT_HOP, .frag = FRAG_FIRST, .plen = 1400), .marked = true,
	  .st = { .seen = 1, .udp_mcast = 1, .fragments = 1 },
	  .gs = { GS(1, .fragments = 1) } },

	/* -- truncated or inconsistent: counted malformed, never captured -- */
	/* The kernel's test run refuses an skb whose Ethernet type says IP and
	 * whose IP header is cut: TC sees those behind a VLAN tag, XDP bare. */
	{ "ipv4 header cut (tc, behind 802.1Q): malformed", ENV_TC, TC_IN,
	  V4(.vlans = 1, .cut = 18 + 12), .st = { .seen = 1, .malformed = 1 } },
	{ "ipv6 header cut (tc, behind 802.1Q): malformed", ENV_TC, TC_IN,
	  V6(.vlans = 1, .cut = 18 + 30), .st = { .seen = 1, .malformed = 1 } },
	{ "ethernet header only (xdp): malformed", ENV_XDP, XDP, V4(.cut = 14),
	  .st = { .seen = 1, .malformed = 1 } },
	{ "ipv4 header cut (xdp): malformed", ENV_XDP, XDP, V4(.cut = 14 + 12),
	  .st = { .seen = 1, .malformed = 1 } },
	{ "ipv6 header cut (xdp): malformed", ENV_XDP, XDP, V6(.cut = 14 + 30),
	  .st = { .seen = 1, .malformed = 1 } },
	{ "ipv6 extension header cut (xdp): malformed", ENV_XDP, XDP,
	  V6(.ext = EXT_DST, .cut = 14 + 40 + 3), .st = { .seen = 1, .malformed = 1 } },
	{ "udp header cut (ipv4): malformed", ENV_TC, TC_IN, V4(.cut = 14 + 20 + 4),
	  .st = { .seen = 1, .malformed = 1 } },
	{ "udp header cut (ipv6): malformed", ENV_TC, TC_IN, V6(.cut = 14 + 40 + 6),
	  .st = { .seen = 1, .malformed = 1 } },
	{ "ipv6 extension header cut: malformed", ENV_TC, TC_IN,
	  V6(.ext = EXT_HOP, .cut = 14 + 40 + 3), .st = { .seen = 1, .malformed = 1 } },
	{ "vlan tag cut: malformed", ENV_TC, TC_IN, V4(.vlans = 1, .cut = 16),
	  .st = { .seen = 1, .malformed = 1 } },
	{ "ipv4 ihl below 5: malformed", ENV_TC, TC_IN, V4(.ihl = 4),
	  .st = { .seen = 1, .malformed = 1 } },
	{ "ipv4 ihl past the packet: malformed", ENV_TC, TC_IN, V4(.ihl = 15, .plen = 0),
	  .st = { .seen = 1, .malformed = 1 } },
	{ "udp length beyond the packet: malformed, not captured", ENV_TC, TC_IN,
	  V4(.udp_len_delta = 100),
	  .st = { .seen = 1, .udp_mcast = 1, .matched = 1, .ingress = 1, .malformed = 1 } },
	{ "udp length below 8: malformed", ENV_TC, TC_IN, V4(.udp_len_delta = -36),
	  .st = { .seen = 1, .udp_mcast = 1, .matched = 1, .ingress = 1, .malformed = 1 } },
	{ "payload cut short of the udp length: malformed", ENV_TC, TC_IN,
	  V4(.plen = 100, .cut = 14 + 20 + 8 + 50),
	  .st = { .seen = 1, .udp_mcast = 1, .matched = 1, .ingress = 1, .malformed = 1 } },

	/* -- local receivers: a whole datagram from the island that nobody on
	 * the gateway joined ends in the program -- */
	{ "nobody joined: captured, ended", ENV_TC, TC_IN, V4(), .rx = RX_NONE, .events = 1,
	  .ev = { 0, MCTUN_DIR_INGRESS }, .st = ENDED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "nobody joined, ipv6: captured, ended", ENV_TC, TC_IN, V6(.plen = 100), .rx = RX_NONE,
	  .events = 1, .ev = { 1, MCTUN_DIR_INGRESS }, .st = ENDED_IN(100),
	  .gs = { GS(1, .packets = 1, .bytes = 100) } },
	{ "another group joined: captured, ended", ENV_TC, TC_IN, V4(), .rx = RX_OTHER,
	  .events = 1, .ev = { 0, MCTUN_DIR_INGRESS }, .st = ENDED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "its group joined here: captured, goes on", ENV_TC, TC_IN, V4(), .rx = RX_JOINED,
	  .events = 1, .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "its group joined here, ipv6: goes on", ENV_TC, TC_IN, V6(.plen = 100), .rx = RX_JOINED,
	  .events = 1, .ev = { 1, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(100),
	  .gs = { GS(1, .packets = 1, .bytes = 100) } },
	{ "nobody joined, egress (a local sender): goes on", ENV_TC, TC_OUT, V4(.sport = 40001),
	  .rx = RX_NONE, .events = 1, .ev = { 0, MCTUN_DIR_EGRESS }, .st = CAPTURED_OUT(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "nobody joined, first fragment: marked, goes on", ENV_TC, TC_IN,
	  V4(.frag = FRAG_FIRST, .plen = 1472), .rx = RX_NONE, .marked = true,
	  .st = { .seen = 1, .udp_mcast = 1, .fragments = 1 }, .gs = { GS(0, .fragments = 1) } },
	{ "nobody joined, a group nobody wants: not captured, goes on", ENV_TC, TC_IN,
	  V4(.dst = "239.1.2.10"), .rx = RX_NONE,
	  .st = { .seen = 1, .udp_mcast = 1, .unwanted = 1 } },
	{ "nobody joined, xdp: captured, XDP_DROP", ENV_XDP, XDP, V4(), .rx = RX_NONE,
	  .events = 1, .ev = { 0, MCTUN_DIR_INGRESS }, .st = ENDED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "nobody joined, xdp mode: tc ingress leaves it to xdp", ENV_XDP, TC_IN, V4(),
	  .rx = RX_NONE },

	/* -- a full ring -- */
	{ "ring full: counted per datagram and per group", ENV_SMALL_RING, TC_IN,
	  V4(.plen = 1000), .runs = 5, .events = 3, .ev = { 0, MCTUN_DIR_INGRESS },
	  .st = { .seen = 5, .udp_mcast = 5, .matched = 5, .ingress = 5, .pushed = 3,
		  .pushed_bytes = 3000, .ring_full = 2 },
	  .gs = { GS(0, .packets = 3, .bytes = 3000, .ring_full = 2) } },

	/* -- XDP mode: XDP takes whole datagrams, TC ingress the rest -- */
	{ "xdp mode: tc ingress leaves a whole datagram to xdp", ENV_XDP, TC_IN, V4() },
	{ "xdp mode: xdp captures the whole datagram", ENV_XDP, XDP, V4(), .events = 1,
	  .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "xdp mode: xdp captures ipv6 behind 802.1Q", ENV_XDP, XDP, V6(.vlans = 1),
	  .events = 1, .ev = { 1, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(1, .packets = 1, .bytes = 32) } },
	{ "xdp mode: xdp leaves fragments alone", ENV_XDP, XDP,
	  V4(.frag = FRAG_FIRST, .plen = 1472), .st = { .seen = 1 } },
	{ "xdp mode: tc ingress marks a first fragment", ENV_XDP, TC_IN,
	  V4(.frag = FRAG_FIRST, .plen = 1472), .marked = true,
	  .st = { .udp_mcast = 1, .fragments = 1 }, .gs = { GS(0, .fragments = 1) } },
	{ "xdp mode: tc ingress marks a later fragment", ENV_XDP, TC_IN,
	  V4(.frag = FRAG_LATER, .plen = 500), .marked = true, .st = { .fragments = 1 },
	  .gs = { GS(0, .fragments = 1) } },
	{ "xdp mode: tc egress still captures local senders", ENV_XDP, TC_OUT, V4(),
	  .events = 1, .ev = { 0, MCTUN_DIR_EGRESS }, .st = CAPTURED_OUT(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "xdp mode: tc ingress does not count a cut ip header again", ENV_XDP, TC_IN,
	  V4(.vlans = 1, .cut = 18 + 12) },
	{ "xdp mode: tc ingress does not count a cut vlan tag again", ENV_XDP, TC_IN,
	  V4(.vlans = 1, .cut = 16) },

	/* -- membership messages: handed on with learning on, never a datagram -- */
	{ "igmpv2 report, router alert (ihl 6), padded frame: handed on", ENV_TC, TC_IN,
	  IGMP(igmpv2_report, .dst = "239.1.2.3", .pad_to = 60), .events = 1, .ev = MSHIP_IN,
	  .st = { .seen = 1, .igmp = 1 } },
	{ "igmpv2 report without ip options: handed on", ENV_TC, TC_IN,
	  IGMP(igmpv2_report, .dst = "239.1.2.3", .ip_opts = 0, .ra = false), .events = 1,
	  .ev = MSHIP_IN, .st = { .seen = 1, .igmp = 1 } },
	{ "igmpv3 report to 224.0.0.22: handed on", ENV_TC, TC_IN, IGMP(igmpv3_report),
	  .events = 1, .ev = MSHIP_IN, .st = { .seen = 1, .igmp = 1 } },
	{ "igmpv3 report behind 802.1Q: handed on", ENV_TC, TC_IN,
	  IGMP(igmpv3_report, .vlans = 1), .events = 1, .ev = MSHIP_IN,
	  .st = { .seen = 1, .igmp = 1 } },
	{ "igmp leave to 224.0.0.2: handed on", ENV_TC, TC_IN,
	  IGMP(igmp_leave, .dst = "224.0.0.2"), .events = 1, .ev = MSHIP_IN,
	  .st = { .seen = 1, .igmp = 1 } },
	{ "igmpv3 general query to 224.0.0.1: handed on", ENV_TC, TC_IN,
	  IGMP(igmpv3_query, .src = "198.18.1.1", .dst = "224.0.0.1"), .events = 1,
	  .ev = MSHIP_IN, .st = { .seen = 1, .igmp = 1 } },
	{ "igmp of another type (mtrace): not handed on", ENV_TC, TC_IN,
	  IGMP(igmp_mtrace, .dst = "224.0.0.2"), .st = { .seen = 1 } },
	{ "igmp to a unicast address: not handed on", ENV_TC, TC_IN,
	  IGMP(igmpv3_query, .dst = "198.18.1.2"), .st = { .seen = 1 } },
	{ "igmp shorter than 8 bytes: malformed", ENV_TC, TC_IN, IGMP(igmp_short),
	  .st = { .seen = 1, .malformed = 1 } },
	{ "igmp cut short of its ip length: malformed, not handed on", ENV_TC, TC_IN,
	  IGMP(igmpv3_report, .cut = 14 + 24 + 10), .st = { .seen = 1, .malformed = 1 } },
	{ "igmp first fragment: ignored", ENV_TC, TC_IN,
	  IGMP(igmpv3_report, .frag = FRAG_FIRST), .st = { .seen = 1 } },
	{ "igmp later fragment: ignored", ENV_TC, TC_IN,
	  IGMP(igmpv3_report, .frag = FRAG_LATER), .st = { .seen = 1 } },
	{ "igmp on egress (the gateway's own): not handed on", ENV_TC, TC_OUT,
	  IGMP(igmpv3_report), .st = { .seen = 1 } },
	{ "icmpv6 type over ipv4: not handed on", ENV_TC, TC_IN,
	  IGMP(mld_done, .proto = IPPROTO_ICMPV6), .st = { .seen = 1 } },
	{ "mldv2 report, hop-by-hop (router alert, PadN), to ff02::16: handed on", ENV_TC,
	  TC_IN, MLD(mldv2_report), .events = 1, .ev = MSHIP_IN, .st = { .seen = 1, .mld = 1 } },
	{ "mldv1 done to ff02::2: handed on", ENV_TC, TC_IN, MLD(mld_done, .dst = "ff02::2"),
	  .events = 1, .ev = MSHIP_IN, .st = { .seen = 1, .mld = 1 } },
	{ "mldv2 query to ff02::1: handed on", ENV_TC, TC_IN,
	  MLD(mldv2_query, .src = "fe80::1", .dst = "ff02::1"), .events = 1, .ev = MSHIP_IN,
	  .st = { .seen = 1, .mld = 1 } },
	{ "mld behind hop-by-hop and destination options: len is the message's", ENV_TC,
	  TC_IN, MLD(mld_done, .ext = EXT_HOP | EXT_DST, .tos = 0x2e), .events = 1,
	  .ev = MSHIP_IN, .st = { .seen = 1, .mld = 1 } },
	{ "mld without a router alert (hop-by-hop of padding only): handed on, flag clear",
	  ENV_TC, TC_IN, MLD(mld_done, .ra = false), .events = 1, .ev = MSHIP_IN,
	  .st = { .seen = 1, .mld = 1 } },
	{ "mld without any hop-by-hop header: handed on, flag clear", ENV_TC, TC_IN,
	  MLD(mld_done, .ext = 0, .ra = false), .events = 1, .ev = MSHIP_IN,
	  .st = { .seen = 1, .mld = 1 } },
	{ "icmpv6 echo request to ff02::1: not handed on", ENV_TC, TC_IN,
	  MLD(icmp6_echo, .dst = "ff02::1", .ext = 0, .ra = false), .st = { .seen = 1 } },
	{ "neighbour solicitation: not handed on", ENV_TC, TC_IN,
	  MLD(icmp6_ns, .dst = "ff02::1:ff00:2", .ttl = 255, .ext = 0, .ra = false),
	  .st = { .seen = 1 } },
	{ "mld fragment: ignored", ENV_TC, TC_IN, MLD(mldv2_report, .frag = FRAG_FIRST),
	  .st = { .seen = 1 } },
	{ "mld cut short of its payload length: malformed, not handed on", ENV_TC, TC_IN,
	  MLD(mldv2_report, .cut = 14 + 40 + 8 + 10), .st = { .seen = 1, .malformed = 1 } },
	{ "mld on egress: not handed on", ENV_TC, TC_OUT, MLD(mldv2_report),
	  .st = { .seen = 1 } },
	{ "learning off: igmp report not handed on", ENV_NO_LEARN, TC_IN,
	  IGMP(igmpv3_report), .st = { .seen = 1 } },
	{ "learning off: mld report not handed on", ENV_NO_LEARN, TC_IN, MLD(mldv2_report),
	  .st = { .seen = 1 } },
	{ "learning off: datagrams captured as ever", ENV_NO_LEARN, TC_IN, V4(), .events = 1,
	  .ev = { 0, MCTUN_DIR_INGRESS }, .st = CAPTURED_IN(32),
	  .gs = { GS(0, .packets = 1, .bytes = 32) } },
	{ "ring full: membership messages in ring_full, no group's", ENV_SMALL_RING, TC_IN,
	  IGMP(igmpv3_report_big, .dst = "239.1.2.3"), .runs = 5, .events = 3, .ev = MSHIP_IN,
	  .st = { .seen = 5, .igmp = 3, .ring_full = 2 } },
	{ "xdp mode: xdp hands on an igmp report", ENV_XDP, XDP, IGMP(igmpv3_report),
	  .events = 1, .ev = MSHIP_IN, .st = { .seen = 1, .igmp = 1 } },
	{ "xdp mode: xdp hands on an mld report", ENV_XDP, XDP, MLD(mldv2_report),
	  .events = 1, .ev = MSHIP_IN, .st = { .seen = 1, .mld = 1 } },
	{ "xdp mode: tc ingress leaves igmp to xdp (not twice)", ENV_XDP, TC_IN,
	  IGMP(igmpv3_report) },
	{ "xdp mode: tc ingress leaves mld to xdp (not twice)", ENV_XDP, TC_IN,
	  MLD(mldv2_report) },
	{ "xdp mode: xdp ignores an igmp fragment", ENV_XDP, XDP,
	  IGMP(igmpv3_report, .frag = FRAG_FIRST), .st = { .seen = 1 } },
	{ "xdp mode: tc ingress ignores an igmp fragment", ENV_XDP, TC_IN,
	  IGMP(igmpv3_report, .frag = FRAG_FIRST) },
	{ "xdp mode: tc egress does not hand on igmp", ENV_XDP, TC_OUT, IGMP(igmpv3_report),
	  .st = { .seen = 1 } },
};
#pragma GCC diagnostic pop

/* ---- running and checking ------------------------------------------------- */

static char why[1024];

static bool failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool failf(const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n >= sizeof(why) - 4)
		return false;
	if (n)
		strcat(why, "; ");
	va_start(ap, fmt);
	vsnprintf(why + strlen(why), sizeof(why) - strlen(why), fmt, ap);
	va_end(ap);
	return false;
}

static const char *const stat_names[] = {
	"seen", "udp_mcast", "matched", "ingress", "egress", "pushed", "pushed_bytes",
	"ring_full", "self", "loopback", "fragments", "too_big", "malformed", "dir_in",
	"range_frags", "igmp", "mld", "unwanted", "copies", "copy_errors", "ended",
};
_Static_assert(sizeof(stat_names) / sizeof(stat_names[0]) ==
	       sizeof(struct mctun_stats) / sizeof(__u64), "a name per mctun_stats field");

static const char *const gstat_names[] = { "packets", "bytes", "fragments", "ring_full" };
_Static_assert(sizeof(gstat_names) / sizeof(gstat_names[0]) ==
	       sizeof(struct mctun_gstats) / sizeof(__u64), "a name per mctun_gstats field");

static bool run_once(struct env *e, const struct tcase *c, const uint8_t *pkt, size_t len)
{
	static uint8_t out[PKT_MAX + 256];
	struct __sk_buff ctx_in = { .mark = MARK_IN }, ctx_out = {};
	struct bpf_program *prog = c->hook == TC_IN ? e->skel->progs.mctun_tc_in :
				   c->hook == TC_OUT ? e->skel->progs.mctun_tc_out :
				   e->skel->progs.mctun_xdp;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	__u32 want_mark = MARK_IN | (c->marked ? MCTUN_FRAG_MARK : 0);
	int want_ret = c->hook == XDP ? (c->st.ended ? XDP_DROP : XDP_PASS) :
				       (c->st.ended ? TC_ACT_STOLEN : TC_ACT_OK);
	bool ok = true;

	if (c->hook != XDP) {
		o.ctx_in = &ctx_in;
		o.ctx_size_in = sizeof(ctx_in);
		o.ctx_out = &ctx_out;
		o.ctx_size_out = sizeof(ctx_out);
	}
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
		return failf("test run: %s", strerror(errno));
	if ((int)o.retval != want_ret)
		ok = failf("verdict %u, want %d", o.retval, want_ret);
	if (o.data_size_out != len || memcmp(out, pkt, len))
		ok = failf("packet changed (%u bytes out of %zu in)", o.data_size_out, len);
	if (c->hook != XDP && ctx_out.mark != want_mark)
		ok = failf("mark 0x%08x, want 0x%08x", ctx_out.mark, want_mark);
	return ok;
}

static bool check_event(const struct tcase *c, const struct event *got)
{
	const struct pkt_spec *s = &c->pkt;
	const struct mctun_event *ev = &got->ev;
	uint32_t want_len = s->msg ? s->msg_len : s->plen;
	uint8_t src[16], dst[16];
	bool ok = true;
	uint32_t i;

	ip_bytes(s->family, s->src, src);
	ip_bytes(s->family, s->dst, dst);
	if (ev->len == ~0u)
		return failf("event record size is not header + the slot of len");
	if (ev->len != want_len)
		ok = failf("event len %u, want %u", ev->len, want_len);
	if (ev->group_id != c->ev.group_id)
		ok = failf("event group_id %u, want %u", ev->group_id, c->ev.group_id);
	if (ev->family != s->family)
		ok = failf("event family %u, want %u", ev->family, s->family);
	if (ev->dir != c->ev.dir)
		ok = failf("event dir %u, want %u", ev->dir, c->ev.dir);
	if (ev->ttl != s->ttl || ev->tos != s->tos)
		ok = failf("event ttl %u tos 0x%02x, want %u 0x%02x", ev->ttl, ev->tos, s->ttl,
			   s->tos);
	if (c->ev.group_id == MCTUN_GID_MEMBERSHIP) {
		/* no ports: the router alert flag where sport would be */
		if (ev->mflags != (s->ra ? MCTUN_MEV_RA : 0) || ev->dport)
			ok = failf("event mflags 0x%x dport %u, want 0x%x 0", ev->mflags,
				   ntohs(ev->dport), s->ra ? MCTUN_MEV_RA : 0);
	} else if (ntohs(ev->sport) != s->sport || ntohs(ev->dport) != s->dport) {
		ok = failf("event ports %u -> %u, want %u -> %u", ntohs(ev->sport),
			   ntohs(ev->dport), s->sport, s->dport);
	}
	if (memcmp(ev->src, src, 16))
		ok = failf("event src differs");
	if (memcmp(ev->dst, dst, 16))
		ok = failf("event dst differs");
	if (ev->tstamp_ns)
		ok = failf("event tstamp_ns is %llu, want 0 (no clock read per datagram)",
			   (unsigned long long)ev->tstamp_ns);
	for (i = 0; i < ev->len && i < want_len && i < PKT_MAX; i++) {
		uint8_t want = s->msg ? s->msg[i] : payload_byte(i);

		if (got->data[i] != want)
			return failf("payload byte %u is 0x%02x, want 0x%02x", i, got->data[i],
				     want);
	}
	return ok;
}

static bool check_counters(struct env *e, const struct tcase *c)
{
	struct mctun_stats st;
	struct mctun_gstats gs;
	const __u64 *got = (const __u64 *)&st, *want = (const __u64 *)&c->st;
	bool ok = true;
	unsigned int i, g;
	int err;

	err = percpu_sum(bpf_map__fd(e->skel->maps.mctun_stats), 0, &st, sizeof(st));
	if (err)
		return failf("read mctun_stats: %s", strerror(-err));
	for (i = 0; i < sizeof(st) / sizeof(__u64); i++)
		if (got[i] != want[i])
			ok = failf("stats %s %llu, want %llu", stat_names[i],
				   (unsigned long long)got[i], (unsigned long long)want[i]);
	for (g = 0; g < NGROUPS; g++) {
		err = percpu_sum(bpf_map__fd(e->skel->maps.mctun_gstats), g, &gs, sizeof(gs));
		if (err)
			return failf("read mctun_gstats: %s", strerror(-err));
		got = (const __u64 *)&gs;
		want = (const __u64 *)&c->gs[g];
		for (i = 0; i < sizeof(gs) / sizeof(__u64); i++)
			if (got[i] != want[i])
				ok = failf("group %u %s %llu, want %llu", g, gstat_names[i],
					   (unsigned long long)got[i],
					   (unsigned long long)want[i]);
	}
	return ok;
}

/* The local receivers c->rx says (NULL: none known again, the map empty). */
static int rx_set(struct env *e, const struct tcase *c)
{
	int fd = bpf_map__fd(e->skel->maps.mctun_localrx);
	struct mctun_tgroup_key k = { .family = MCTUN_FAM_INET };
	__u8 one = 1;

	e->skel->bss->localrx_known = c && c->rx != RX_UNKNOWN;
	if (!c) {
		struct mctun_tgroup_key next;

		while (!bpf_map_get_next_key(fd, NULL, &next))
			if (bpf_map_delete_elem(fd, &next))
				return -errno;
		return 0;
	}
	if (c->rx == RX_JOINED) {
		k.family = c->pkt.family;
		ip_bytes(c->pkt.family, c->pkt.dst, k.addr);
	} else if (c->rx == RX_OTHER) {
		ip_bytes(MCTUN_FAM_INET, "239.1.2.4", k.addr);
	} else {
		return 0;
	}
	return bpf_map_update_elem(fd, &k, &one, BPF_ANY) ? -errno : 0;
}

static bool run_case(struct env *e, const struct tcase *c)
{
	static uint8_t pkt[PKT_MAX];
	size_t len = build(&c->pkt, pkt);
	unsigned int i, runs = c->runs ? c->runs : 1;
	bool ok = true;
	int err;

	why[0] = '\0';
	err = env_reset(e);
	if (err)
		return failf("reset maps: %s", strerror(-err));
	err = rx_set(e, c);
	if (err)
		return failf("local receivers map: %s", strerror(-err));
	for (i = 0; i < runs; i++)
		ok &= run_once(e, c, pkt, len);
	rx_set(e, NULL);
	err = ring_buffer__consume(e->rb);
	if (err < 0)
		return failf("consume ring: %s", strerror(-err));
	if (e->nevents != c->events)
		ok = failf("%u events in the ring, want %u", e->nevents, c->events);
	for (i = 0; i < e->nevents && i < c->events && i < MAX_EVENTS; i++)
		ok &= check_event(c, &e->events[i]);
	ok &= check_counters(e, c);
	return ok;
}

int main(int argc, char **argv)
{
	static struct env envs[NENVS];
	static const char *const env_names[] = { "tc", "xdp", "small ring", "no learn" };
	const char *only = NULL;
	unsigned int i, passed = 0, failed = 0;
	int a, err;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-v"))
			verbose = true;
		else
			only = argv[a];
	}
	libbpf_set_print(libbpf_quiet);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0) {
		fprintf(stderr, "bpf_unit: possible CPUs: %s\n", strerror(-ncpus));
		return 2;
	}
	for (i = 0; i < NENVS; i++) {
		err = env_open(&envs[i], i);
		if (err) {
			fprintf(stderr, "bpf_unit: load the object (%s): %s\n", env_names[i],
				strerror(-err));
			return 2;
		}
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		bool ok;

		if (only && !strstr(c->name, only))
			continue;
		ok = run_case(&envs[c->env], c);
		if (ok) {
			printf("ok - %s\n", c->name);
			passed++;
		} else {
			printf("not ok - %s: %s\n", c->name, why);
			failed++;
		}
	}
	for (i = 0; i < NENVS; i++)
		env_close(&envs[i]);
	printf("bpf_unit: %u ok, %u not ok\n", passed, failed);
	return failed ? 1 : 0;
}
