// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mctun data path: pick the configured groups' UDP datagrams off an
 * interface and copy them, with their metadata, into a ring buffer.
 * With the load-time switch `learn` on, the IGMP and MLD messages that
 * arrive from the island go into the same ring too (group_id
 * MCTUN_GID_MEMBERSHIP), for the daemon to learn which groups its hosts
 * join and leave. Packets continue unchanged (TC_ACT_OK / XDP_PASS), but
 * for a mark bit on fragments of configured groups, which steers their
 * reassembled datagram to the daemon's per-group socket; and one
 * exception: a whole datagram captured on ingress of a group that no
 * local application joined (mctun_localrx) ends here (TC_ACT_STOLEN /
 * XDP_DROP), since the stack would only deliver it to the daemon's own
 * socket, which refuses it.
 *
 * Map roles: mctun_groups, mctun_ranges and mctun_selfport (and the global
 * range_kinds) are written only by the daemon (control plane); mctun_stats
 * and mctun_gstats are bumped only here (data path); mctun_ring is written
 * here and drained by the daemon; mctun_info, mctun_dstats, mctun_peers,
 * mctun_members and mctun_wants are the daemon's record of itself for
 * `mctun status` and restart clean-up, never touched here.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/icmpv6.h>
#include <linux/igmp.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "mctun.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Length of the link-layer header in front of IP on this device (14 on
 * Ethernet, 0 on L3 devices such as tun or wireguard). Set before load. */
const volatile __u32 l2_len = ETH_HLEN;

/* XDP mode: mctun_xdp takes the island's unfragmented datagrams, and TC
 * ingress is left only what XDP cannot do: marking fragments (XDP has no
 * skb mark) and judging looped-back copies (XDP has no pkt_type). */
const volatile __u8 xdp_mode = 0;

/* The interface's MTU: a looped-back copy larger than it was not seen
 * whole at egress (it was fragmented there). Set before load. */
const volatile __u32 mtu = 1500;

/* The mark set on fragments of configured groups (MCTUN_FRAG_MARK). */
const volatile __u32 frag_mark = MCTUN_FRAG_MARK;
/* MCTUN_SELF_MARK with --keep-source: our re-injections' mark; 0 without */
const volatile __u32 self_mark = 0;

/* Local targets (--to): slots of mctun_targets in use. 0: none, and the
 * verifier prunes the copying. Set before load. */
const volatile __u32 ntargets = 0;

/* Local targets with direction out or both (mctun_tc_tgt): the island
 * interface their datagrams are sent onto, and its MAC address, their
 * copies' source there. Set before load. */
const volatile __u32 island_ifindex = 0;
const volatile __u8 island_mac[6] = {};

/* Membership learning: IGMP and MLD messages are handed to the daemon
 * (membership()). Off, the verifier prunes all of it. Set before load. */
const volatile __u8 learn = 0;

/* Zero at run time; see hold_info(). */
const volatile __u8 never = 0;

/* MCTUN_RK_* of the ranges in mctun_ranges; written by the daemon. */
__u32 range_kinds = 0;

/* 1 while mctun_localrx holds every group a local application joined (the
 * daemon has read the kernel's counts); 0: nothing ends here. */
__u32 localrx_known = 0;

/* --coalesce: non-zero while the daemon drains the ring on a timer (it
 * writes this through the mmapped .bss); push() then submits without a
 * wake-up, save one when the unconsumed data crosses ring_wake_bytes, so a
 * burst never fills the ring between two drains. 0: every record wakes a
 * daemon that has caught up, as the ring does by default. */
__u32 ring_quiet = 0;
/* A quarter of the ring (set before load). */
const volatile __u32 ring_wake_bytes = MCTUN_RING_DEFAULT / 4;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mctun_stats);
} mctun_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MCTUN_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct mctun_gstats);
} mctun_gstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MCTUN_MAX_GROUPS);
	__type(key, struct mctun_group_key);
	__type(value, struct mctun_group_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} mctun_groups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MCTUN_MAX_GROUPS);
	__type(key, struct mctun_range_key);
	__type(value, struct mctun_group_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} mctun_ranges SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u8);
} mctun_selfport SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mctun_info);
} mctun_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mctun_dstats);
} mctun_dstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MCTUN_PINNED_PEERS);
	__type(key, __u32);
	__type(value, struct mctun_peer_info);
} mctun_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MCTUN_PINNED_MEMBERS);
	__type(key, __u32);
	__type(value, struct mctun_member_info);
} mctun_members SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MCTUN_PINNED_WANTS);
	__type(key, __u32);
	__type(value, struct mctun_want_info);
} mctun_wants SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MCTUN_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct mctun_target);
} mctun_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MCTUN_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct mctun_tstats);
} mctun_tstats SEC(".maps");

/* Groups receivers behind the targets joined: which targets want each
 * (struct mctun_tgroup_key -> bitmask of target slots); the daemon writes
 * it. A target with MCTUN_TF_ALL ignores it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MCTUN_MAX_TGROUPS);
	__type(key, struct mctun_tgroup_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} mctun_tgroups SEC(".maps");

/* Groups some local application joined on the island interface (struct
 * mctun_tgroup_key -> 1); the daemon writes it (include/mctun.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MCTUN_MAX_LOCALRX);
	__type(key, struct mctun_tgroup_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} mctun_localrx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MCTUN_RING_DEFAULT);
} mctun_ring SEC(".maps");

struct pkt {
	__u32 l4off;      /* offset of the UDP header */
	__u32 ip_len;     /* IP datagram length from the IP header */
	__u8  family;
	__u8  frag;       /* 0: whole, 1: first fragment, 2: later fragment */
	__u8  ttl;
	__u8  tos;
	__u8  proto;      /* transport protocol */
	__u8  pad[3];
	__u8  src[16];
	__u8  dst[16];
};

#define FRAG_NONE  0
#define FRAG_FIRST 1
#define FRAG_LATER 2

#define IP_MF     0x2000
#define IP_OFFSET 0x1fff

static __always_inline int load(void *ctx, bool xdp, __u32 off, void *to, __u32 len)
{
	if (xdp)
		return bpf_xdp_load_bytes(ctx, off, to, len);
	return bpf_skb_load_bytes(ctx, off, to, len);
}

/* Returns 0 and fills *p for IPv4/IPv6 to a multicast address, 1 for
 * anything else, -1 for a packet too short for its own headers. */
static __always_inline int parse_ip(void *ctx, bool xdp, __u32 off, __be16 proto,
				    struct pkt *p)
{
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		__u16 frag;

		if (load(ctx, xdp, off, &ip, sizeof(ip)))
			return -1;
		if (ip.version != 4 || ip.ihl < 5)
			return -1;
		if ((ip.daddr & bpf_htonl(0xf0000000)) != bpf_htonl(0xe0000000))
			return 1;
		p->family = MCTUN_FAM_INET;
		p->l4off = off + ip.ihl * 4;
		p->ip_len = bpf_ntohs(ip.tot_len);
		p->ttl = ip.ttl;
		p->tos = ip.tos;
		p->proto = ip.protocol;
		__builtin_memcpy(p->src, &ip.saddr, 4);
		__builtin_memcpy(p->dst, &ip.daddr, 4);
		frag = bpf_ntohs(ip.frag_off);
		if (frag & IP_OFFSET)
			p->frag = FRAG_LATER;
		else if (frag & IP_MF)
			p->frag = FRAG_FIRST;
		return 0;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		__u8 nexthdr;
		int i;

		if (load(ctx, xdp, off, &ip6, sizeof(ip6)))
			return -1;
		if (ip6.version != 6)
			return -1;
		if (ip6.daddr.in6_u.u6_addr8[0] != 0xff)
			return 1;
		p->family = MCTUN_FAM_INET6;
		p->ip_len = bpf_ntohs(ip6.payload_len) + sizeof(ip6);
		p->ttl = ip6.hop_limit;
		p->tos = (ip6.priority << 4) | (ip6.flow_lbl[0] >> 4);
		__builtin_memcpy(p->src, &ip6.saddr, 16);
		__builtin_memcpy(p->dst, &ip6.daddr, 16);
		off += sizeof(ip6);
		nexthdr = ip6.nexthdr;
		/* Walk a bounded number of extension headers. */
#pragma unroll
		for (i = 0; i < 6; i++) {
			struct { __u8 nh; __u8 len; __be16 frag; __u32 id; } ext;

			if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
			    nexthdr != IPPROTO_DSTOPTS && nexthdr != IPPROTO_FRAGMENT)
				break;
			if (load(ctx, xdp, off, &ext, sizeof(ext)))
				return -1;
			if (nexthdr == IPPROTO_FRAGMENT) {
				__u16 fo = bpf_ntohs(ext.frag);

				if (fo & 0xfff8)
					p->frag = FRAG_LATER;
				else if (fo & 1)
					p->frag = FRAG_FIRST;
				off += 8;
			} else {
				off += (ext.len + 1) * 8;
			}
			nexthdr = ext.nh;
		}
		p->l4off = off;
		p->proto = nexthdr;
		return 0;
	}
	return 1;
}

static __always_inline struct mctun_stats *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mctun_stats, &zero);
}

static __always_inline struct mctun_gstats *gstats(__u32 id)
{
	return bpf_map_lookup_elem(&mctun_gstats, &id);
}

/* One lookup in the ranges, keeping the better of it and *best: the longer
 * prefix; of equal ones the earlier lookup (a port before any port, a
 * source before any source). */
static __always_inline struct mctun_group_val *range_try(struct mctun_range_key *key,
							 struct mctun_group_val *best)
{
	struct mctun_group_val *v = bpf_map_lookup_elem(&mctun_ranges, key);

	if (v && (!best || v->plen > best->plen))
		return v;
	return best;
}

/* The most specific range the datagram (p, port) falls in, or NULL. */
static __always_inline struct mctun_group_val *lookup_range(const struct pkt *p, __be16 port)
{
	struct mctun_range_key key = { .prefixlen = MCTUN_RANGE_BITS, .family = p->family };
	struct mctun_group_val *best = NULL;
	__u32 kinds = range_kinds;

	if (!kinds)
		return NULL;
	__builtin_memcpy(key.addr, p->dst, 16);
	if (kinds & (MCTUN_RK_PORT_SRC | MCTUN_RK_PORT)) {
		key.port = port;
		if (kinds & MCTUN_RK_PORT_SRC) {
			__builtin_memcpy(key.src, p->src, 16);
			best = range_try(&key, best);
			__builtin_memset(key.src, 0, 16);
		}
		if (kinds & MCTUN_RK_PORT)
			best = range_try(&key, best);
	}
	key.port = 0;
	if (kinds & MCTUN_RK_SRC) {
		__builtin_memcpy(key.src, p->src, 16);
		best = range_try(&key, best);
		__builtin_memset(key.src, 0, 16);
	}
	if (kinds & MCTUN_RK_ANY)
		best = range_try(&key, best);
	return best;
}

/*
 * The group a datagram to (p->dst, port) from p->src belongs to: an exact
 * group (one address and port: the most specific there is, a source
 * before any source), else the most specific range. port 0 asks for the
 * address-only entry of an exact group, for a fragment past the first.
 */
static __always_inline struct mctun_group_val *lookup_group(const struct pkt *p, __be16 port)
{
	struct mctun_group_key key = {};
	struct mctun_group_val *v;

	key.family = p->family;
	key.port = port;
	__builtin_memcpy(key.addr, p->dst, 16);
	/* port 0: the address-only entry, whose source is always zero */
	if (!port)
		return bpf_map_lookup_elem(&mctun_groups, &key);
	__builtin_memcpy(key.src, p->src, 16);
	v = bpf_map_lookup_elem(&mctun_groups, &key);
	if (v)
		return v;
	__builtin_memset(key.src, 0, 16);
	v = bpf_map_lookup_elem(&mctun_groups, &key);
	if (v)
		return v;
	return lookup_range(p, port);
}

enum verdict {
	V_PASS,        /* not ours, or skipped */
	V_MARK,        /* leave to reassembly and the per-group socket */
	V_END,         /* captured, and nobody else here wants it: drop */
};

/* Datagrams in this packet: a UDP GSO batch carries several. */
static __always_inline __u32 segs(void *ctx, bool xdp)
{
	__u32 n = xdp ? 1 : ((struct __sk_buff *)ctx)->gso_segs;

	return n ? n : 1;
}

/* A fragment of a configured group (or a datagram only reassembly sees
 * whole): counted, and marked for the group's socket. A range has no
 * socket (nobody joins a whole range): its fragments are counted and left. */
static __always_inline enum verdict mark_fragment(struct mctun_stats *st,
						  const struct mctun_group_val *g,
						  struct mctun_gstats *gs)
{
	if (g->flags & MCTUN_GF_RANGE) {
		st->range_frags++;
		return V_PASS;
	}
	st->fragments++;
	if (gs)
		gs->fragments++;
	return V_MARK;
}

/* How push() went. */
enum push_result {
	PUSHED,
	PUSH_CUT,      /* the packet is shorter than its headers say */
	PUSH_FULL,     /* the ring had no room */
	PUSH_NONE,     /* beyond MCTUN_MAX_PAYLOAD */
};

/* The flags of the record just reserved (size bytes; see ring_quiet): no
 * wake-up while the daemon reads on its timer, save for the record that
 * takes the unconsumed data across ring_wake_bytes. Two CPUs racing may
 * both miss the crossing; the timer still reads within its period. */
static __always_inline __u64 ring_flags(__u64 size)
{
	__u64 avail;

	if (!*(volatile __u32 *)&ring_quiet)
		return 0;
	avail = bpf_ringbuf_query(&mctun_ring, BPF_RB_AVAIL_DATA);   /* with this record */
	if (avail >= ring_wake_bytes && avail < ring_wake_bytes + size)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/*
 * One event into the ring: the header from p and the arguments, then len
 * bytes of the packet from off, loaded straight into the ring's reservation
 * (one copy). bpf_ringbuf_reserve takes only constant sizes: the payload
 * gets a slot of the smallest size of MCTUN_RING_SLOT_MIN << k that holds
 * it (include/mctun.h); ev.len says how much of it is the payload. Shared
 * by datagrams and membership messages; the caller counts the result.
 */
static __always_inline enum push_result push(void *ctx, bool xdp, const struct pkt *p,
					     __u8 dir, __u32 group_id, __be16 sport,
					     __be16 dport, __u32 off, __u32 len)
{
	struct mctun_event *ev;
	__u64 n, slot, size;

	/*
	 * Sizes handed to helpers must carry their bounds in the register the
	 * helper gets: older verifiers (Linux 6.1) do not see bounds proved on
	 * a copy. The empty asm hides the value from clang, so the checks and
	 * the mask below stay on the very registers passed.
	 */
	n = len;
	asm volatile("" : "+r"(n));
	if (n > MCTUN_MAX_PAYLOAD)
		return PUSH_NONE;
	/* a constant on each path, as the verifier wants it */
	if (n <= MCTUN_RING_SLOT_MIN)
		slot = MCTUN_RING_SLOT_MIN;
	else if (n <= MCTUN_RING_SLOT_MIN << 1)
		slot = MCTUN_RING_SLOT_MIN << 1;
	else if (n <= MCTUN_RING_SLOT_MIN << 2)
		slot = MCTUN_RING_SLOT_MIN << 2;
	else if (n <= MCTUN_RING_SLOT_MIN << 3)
		slot = MCTUN_RING_SLOT_MIN << 3;
	else if (n <= MCTUN_RING_SLOT_MIN << 4)
		slot = MCTUN_RING_SLOT_MIN << 4;
	else if (n <= MCTUN_RING_SLOT_MIN << 5)
		slot = MCTUN_RING_SLOT_MIN << 5;
	else if (n <= MCTUN_RING_SLOT_MIN << 6)
		slot = MCTUN_RING_SLOT_MIN << 6;
	else if (n <= MCTUN_RING_SLOT_MIN << 7)
		slot = MCTUN_RING_SLOT_MIN << 7;
	else
		slot = MCTUN_MAX_PAYLOAD;
	size = sizeof(*ev) + slot;
	ev = bpf_ringbuf_reserve(&mctun_ring, size, 0);
	if (!ev)
		return PUSH_FULL;
	ev->tstamp_ns = 0;
	ev->len = len;
	ev->group_id = group_id;
	ev->family = p->family;
	ev->dir = dir;
	ev->ttl = p->ttl;
	ev->tos = p->tos;
	ev->sport = sport;
	ev->dport = dport;
	__builtin_memcpy(ev->src, p->src, 16);
	__builtin_memcpy(ev->dst, p->dst, 16);
	if (n) {
		__u64 m = n - 1;

		asm volatile("" : "+r"(m));
		m = (m & (slot - 1)) + 1;   /* == n, provably in [1, slot] */
		if (load(ctx, xdp, off, ev + 1, m)) {
			bpf_ringbuf_discard(ev, ring_flags(size));
			return PUSH_CUT;
		}
	}
	bpf_ringbuf_submit(ev, ring_flags(size));
	return PUSHED;
}

/* An IGMP message type mctun hands on: queries, reports of every version,
 * leaves; not DVMRP, PIM v1, mtrace or router discovery. */
static __always_inline bool igmp_type(__u8 t)
{
	return t == IGMP_HOST_MEMBERSHIP_QUERY || t == IGMP_HOST_MEMBERSHIP_REPORT ||
	       t == IGMPV2_HOST_MEMBERSHIP_REPORT || t == IGMP_HOST_LEAVE_MESSAGE ||
	       t == IGMPV3_HOST_MEMBERSHIP_REPORT;
}

/* An MLD message: query, report, done, MLDv2 report. */
static __always_inline bool mld_type(__u8 t)
{
	return t == ICMPV6_MGM_QUERY || t == ICMPV6_MGM_REPORT || t == ICMPV6_MGM_REDUCTION ||
	       t == ICMPV6_MLD2_REPORT;
}

/* The shortest message of either protocol: IGMP's header, an MLDv2 report
 * without records. */
#define MSHIP_MIN_LEN 8

/*
 * A packet to a multicast address other than UDP, with learning on: an
 * IGMP or MLD message that arrived from the island is copied into the
 * ring for the daemon. Only on ingress and not looped back (the host's own
 * reports and queries leave by egress and loop back), never a fragment;
 * in XDP mode the XDP hook judges it, as it does datagrams. Other IGMP
 * and ICMPv6 (neighbour discovery, echo...) cost one byte read.
 */
/*
 * MCTUN_MEV_RA when the message came with a router alert (RFC 2113, RFC
 * 2711), which RFC 3376 and RFC 3810 ask for; hosts put it first (Linux:
 * the only IPv4 option, the first of the hop-by-hop header), and only the
 * first option is looked at. As the value push() stores in sport, which
 * mflags shares.
 */
static __always_inline __be16 router_alert(void *ctx, bool xdp, __u32 l3off, const struct pkt *p)
{
	__u8 opt[2], nh;

	if (p->family == MCTUN_FAM_INET) {
		if (p->l4off - l3off < 24 || load(ctx, xdp, l3off + 20, opt, sizeof(opt)))
			return 0;
		return opt[0] == 0x94 && opt[1] == 4 ? (__be16)MCTUN_MEV_RA : 0;
	}
	if (load(ctx, xdp, l3off + 6, &nh, sizeof(nh)) || nh != IPPROTO_HOPOPTS ||
	    load(ctx, xdp, l3off + 40 + 2, opt, sizeof(opt)))
		return 0;
	return opt[0] == 5 && opt[1] == 2 ? (__be16)MCTUN_MEV_RA : 0;
}

static __always_inline enum verdict membership(void *ctx, bool xdp, __u8 dir, __u32 l3off,
					       bool loopback, const struct pkt *p,
					       struct mctun_stats *st)
{
	bool v4 = p->family == MCTUN_FAM_INET;
	__u32 hdrs = p->l4off - l3off;   /* IP header with options or extensions */
	__u32 len;
	__u8 type;

	/* known at load: XDP judges ingress in XDP mode, TC ingress otherwise */
	if (dir != MCTUN_DIR_INGRESS || (xdp_mode && !xdp))
		return V_PASS;
	if (loopback || p->frag != FRAG_NONE)
		return V_PASS;
	if (p->proto != (v4 ? IPPROTO_IGMP : IPPROTO_ICMPV6))
		return V_PASS;
	if (load(ctx, xdp, p->l4off, &type, sizeof(type))) {
		st->malformed++;
		return V_PASS;
	}
	if (v4 ? !igmp_type(type) : !mld_type(type))
		return V_PASS;
	if (p->ip_len < hdrs + MSHIP_MIN_LEN) {
		st->malformed++;
		return V_PASS;
	}
	len = p->ip_len - hdrs;
	switch (push(ctx, xdp, p, dir, MCTUN_GID_MEMBERSHIP, router_alert(ctx, xdp, l3off, p),
		     0, p->l4off, len)) {
	case PUSHED:
		if (v4)
			st->igmp++;
		else
			st->mld++;
		break;
	case PUSH_CUT:
		st->malformed++;
		break;
	case PUSH_FULL:
		st->ring_full++;
		break;
	case PUSH_NONE:
		break;
	}
	return V_PASS;
}

/*
 * The body shared by every hook. `dir` and `xdp` are constants after
 * inlining, so each program keeps only its own branches.
 */
/* Sets the TTL / hop limit of the packet at l3off from old to ttl (IPv4:
 * with the header checksum). A cloned skb's header is copied first, so a
 * copy already sent keeps what it had. */
static __always_inline int set_ttl(struct __sk_buff *skb, __u32 l3off, __u8 family, __u8 old,
				   __u8 ttl)
{
	if (family == MCTUN_FAM_INET) {
		/* the checksum's 16-bit word holds TTL and protocol */
		__be16 o = bpf_htons((__u16)old << 8), n = bpf_htons((__u16)ttl << 8);

		if (bpf_l3_csum_replace(skb, l3off + offsetof(struct iphdr, check), o, n, 2))
			return -1;
		return bpf_skb_store_bytes(skb, l3off + offsetof(struct iphdr, ttl), &ttl, 1, 0);
	}
	return bpf_skb_store_bytes(skb, l3off + offsetof(struct ipv6hdr, hop_limit), &ttl, 1, 0);
}

/*
 * A copy of the packet to each local target's egress (--to), in the
 * kernel: its link-layer header, source and TTL as they are (no routing
 * hop, so a datagram sent with TTL 1 arrives), unless the target sets a
 * TTL. A fragment is copied like a whole datagram: nothing is reassembled.
 * Target `skip` (the one a datagram came from; MCTUN_MAX_TARGETS: none)
 * gets nothing, nor does a target of direction out.
 */
static __noinline int copy_to_targets(struct __sk_buff *skb, __u32 l3off, const struct pkt *p,
				      __u32 skip)
{
	__u8 family = p->family, ttl = p->ttl;
	__u32 len = p->ip_len;
	struct mctun_stats *st = stats();
	/* a UDP GSO batch (our re-injection) is its datagrams on the wire */
	__u32 i, n = skb->gso_segs ? skb->gso_segs : 1;
	struct mctun_tgroup_key gk = { .family = family };
	__u32 *wm, want = 0;

	/* checked here, once: Linux 6.1's verifier refuses even the address
	 * of a field of a pointer not yet checked, which the compiler may
	 * compute ahead of a check inside the loop */
	if (!st)
		return 0;
	/* the targets whose receivers joined the group: parse_ip() left the
	 * destination in p (IPv4 in its first 4 bytes, the rest zero, as the
	 * key wants it) */
	__builtin_memcpy(gk.addr, p->dst, sizeof(gk.addr));
	wm = bpf_map_lookup_elem(&mctun_tgroups, &gk);
	if (wm)
		want = *wm;
	for (i = 0; i < MCTUN_MAX_TARGETS; i++) {
		struct mctun_target *t;
		struct mctun_tstats *ts;
		__u32 k = i, ifindex;
		__u8 to;
		int err = 0;

		if (i >= ntargets)
			break;
		t = bpf_map_lookup_elem(&mctun_targets, &k);
		ts = bpf_map_lookup_elem(&mctun_tstats, &k);
		if (!t || !ts || !t->ifindex || i == skip || (t->flags & MCTUN_TF_NOIN))
			continue;
		if (!(t->flags & MCTUN_TF_ALL) && !(want & (1u << i))) {
			ts->unjoined += n;
			continue;
		}
		ifindex = t->ifindex;
		to = t->ttl;
		if (to && to != ttl)
			err = set_ttl(skb, l3off, family, ttl, to);
		if (!err)
			err = bpf_clone_redirect(skb, ifindex, 0);
		if (to && to != ttl)
			set_ttl(skb, l3off, family, to, ttl);
		if (err) {
			ts->errors += n;
			st->copy_errors += n;
			continue;
		}
		ts->packets += n;
		ts->bytes += len;
		st->copies += n;
	}
	return 0;
}

/* A whole datagram of a captured group into the ring, counted. True if
 * it is in the ring. */
static __always_inline bool capture(void *ctx, bool xdp, struct mctun_stats *st,
				    const struct pkt *p, __u8 dir, __u32 id, struct mctun_gstats *gs,
				    const struct udphdr *udp)
{
	__u32 len;

	st->matched++;
	if (dir == MCTUN_DIR_EGRESS)
		st->egress++;
	else
		st->ingress++;

	len = bpf_ntohs(udp->len);
	if (len < sizeof(*udp)) {
		st->malformed++;
		return false;
	}
	len -= sizeof(*udp);
	if (len > MCTUN_MAX_PAYLOAD) {
		st->too_big++;
		return false;
	}

	switch (push(ctx, xdp, p, dir, id, udp->source, udp->dest, p->l4off + sizeof(*udp), len)) {
	case PUSHED:
		st->pushed++;
		st->pushed_bytes += len;
		if (gs) {
			gs->packets++;
			gs->bytes += len;
		}
		return true;
	case PUSH_CUT:
		st->malformed++;
		break;
	case PUSH_FULL:
		st->ring_full++;
		if (gs)
			gs->ring_full++;
		break;
	case PUSH_NONE:
		break;
	}
	return false;
}

/* Has a socket on this host other than the daemon's joined p's group on
 * the island? Yes while the daemon has not said (localrx_known 0). */
static __always_inline bool local_receiver(const struct pkt *p)
{
	struct mctun_tgroup_key k = { .family = p->family };

	if (!localrx_known)
		return true;
	__builtin_memcpy(k.addr, p->dst, sizeof(k.addr));
	return bpf_map_lookup_elem(&mctun_localrx, &k) != NULL;
}

static __always_inline enum verdict handle(void *ctx, bool xdp, __u8 dir, __u32 l3off,
					   __be16 proto, bool loopback)
{
	struct mctun_stats *st = stats();
	struct mctun_group_val *g;
	struct mctun_gstats *gs;
	struct udphdr udp;
	struct pkt p = {};
	bool in_only;
	int r;

	bool tc_behind_xdp = xdp_mode && !xdp && dir == MCTUN_DIR_INGRESS;

	if (!st)
		return V_PASS;
	if (!tc_behind_xdp)
		st->seen++;

	r = parse_ip(ctx, xdp, l3off, proto, &p);
	if (r < 0 && !tc_behind_xdp)
		st->malformed++;
	if (r)
		return V_PASS;
	/* Each datagram is judged by exactly one hook. */
	if (tc_behind_xdp && !loopback && p.frag == FRAG_NONE)
		return V_PASS;
	if (xdp && p.frag != FRAG_NONE)
		return V_PASS;
	if (learn && p.proto != IPPROTO_UDP)
		return membership(ctx, xdp, dir, l3off, loopback, &p, st);
	if (p.frag == FRAG_LATER) {
		/* No UDP header here: recognise the group by address only. */
		if (p.proto != IPPROTO_UDP)
			return V_PASS;
		g = lookup_group(&p, 0);
		if (!g)
			return V_PASS;
		if (!xdp && ntargets && !loopback)
			copy_to_targets(ctx, l3off, &p, MCTUN_MAX_TARGETS);
		/* an address entry of a group only joined for the targets
		 * (counted once per datagram, at its first fragment) */
		if (g->flags & (MCTUN_GF_IDLE | MCTUN_GF_NOCAPTURE))
			return V_PASS;
		return mark_fragment(st, g, gstats(g->id));
	}
	if (p.proto != IPPROTO_UDP)
		return V_PASS;
	if (load(ctx, xdp, p.l4off, &udp, sizeof(udp))) {
		st->malformed++;
		return V_PASS;
	}
	st->udp_mcast++;

	g = lookup_group(&p, udp.dest);
	if (!g)
		return V_PASS;
	/* Local targets get every datagram of a configured group that arrives
	 * from the island or leaves onto it: a local sender's, our own
	 * re-injection's. A looped-back copy was copied at egress. */
	if (!xdp && ntargets && !loopback)
		copy_to_targets(ctx, l3off, &p, MCTUN_MAX_TARGETS);
	gs = gstats(g->id);
	/* A group of direction in is never captured here, nor one nobody
	 * wants now (subscriptions): it is skipped wherever it would have
	 * been (address-only entries never carry the flags: the daemon makes
	 * them only for groups it captures). */
	in_only = g->flags & (MCTUN_GF_NOCAPTURE | MCTUN_GF_IDLE);

	if (p.frag == FRAG_FIRST) {
		if (in_only)
			goto skip_in;
		return mark_fragment(st, g, gs);
	}
	if (loopback) {
		/* A local sender's looped-back copy. Egress saw the original
		 * unless it was fragmented there, i.e. larger than the MTU:
		 * then only this whole copy exists and the socket takes it.
		 * Our own re-injections are never taken, and come larger than
		 * the MTU when they are UDP GSO batches. */
		__u16 sport = bpf_ntohs(udp.source);

		if (p.ip_len > mtu && !bpf_map_lookup_elem(&mctun_selfport, &sport)) {
			if (in_only)
				goto skip_in;
			return mark_fragment(st, g, gs);
		}
		st->loopback += segs(ctx, xdp);
		return V_PASS;
	}
	if (dir == MCTUN_DIR_EGRESS) {
		__u16 sport = bpf_ntohs(udp.source);

		if (bpf_map_lookup_elem(&mctun_selfport, &sport)) {
			st->self += segs(ctx, xdp);
			return V_PASS;
		}
	}

	if (in_only)
		goto skip_in;
	/* In the ring, from the island, and nobody here but the daemon's
	 * socket (which refuses it) would get it: the stack is spared. A
	 * datagram the ring had no room for goes on as before. */
	if (capture(ctx, xdp, st, &p, dir, g->id, gs, &udp) && dir == MCTUN_DIR_INGRESS &&
	    !local_receiver(&p)) {
		st->ended++;
		return V_END;
	}
	return V_PASS;
skip_in:
	if (g->flags & MCTUN_GF_IDLE)
		st->unwanted++;
	else
		st->dir_in++;
	return V_PASS;
}

/* Where IP starts and which protocol it is, past up to two VLAN tags. */
static __always_inline int l3_of(void *ctx, bool xdp, __u32 *off, __be16 *proto)
{
	struct ethhdr eth;
	int i;

	if (l2_len != ETH_HLEN) {
		*off = l2_len;
		return 0;
	}
	if (load(ctx, xdp, 0, &eth, sizeof(eth)))
		return -1;
	*off = ETH_HLEN;
	*proto = eth.h_proto;
#pragma unroll
	for (i = 0; i < 2; i++) {
		struct { __be16 tci; __be16 proto; } vlan;

		if (*proto != bpf_htons(ETH_P_8021Q) && *proto != bpf_htons(ETH_P_8021AD))
			break;
		if (load(ctx, xdp, *off, &vlan, sizeof(vlan)))
			return -1;
		*proto = vlan.proto;
		*off += sizeof(vlan);
	}
	return 0;
}

static __always_inline int tc_handle(struct __sk_buff *skb, __u8 dir)
{
	__be16 proto = skb->protocol;
	bool loopback = false;
	__u32 off = 0;

	/* Multicast looped back by a local sender enters ingress with the
	 * data pointer at the IP header: there is no link-layer header. */
	if (dir == MCTUN_DIR_INGRESS && skb->pkt_type == PACKET_LOOPBACK) {
		loopback = true;
	} else if (l3_of(skb, false, &off, &proto)) {
		struct mctun_stats *st = stats();

		/* behind XDP, which has counted it already */
		if (st && !(xdp_mode && dir == MCTUN_DIR_INGRESS)) {
			st->seen++;
			st->malformed++;
		}
		return TC_ACT_OK;
	}
	/* A target's datagram sent onto the island by mctun_tc_tgt, which
	 * has captured it and copied it to the other targets already. */
	if (ntargets && dir == MCTUN_DIR_EGRESS && skb->mark == MCTUN_TGT_MARK) {
		struct mctun_stats *st = stats();

		if (st)
			st->seen++;
		return TC_ACT_OK;
	}
	/* Our own re-injection under --keep-source: another host's source
	 * address and port, but our socket's mark, on the egress packet, on
	 * each of its fragments and on the copy looped back to local sockets. */
	if (self_mark && skb->mark == self_mark) {
		struct mctun_stats *st = stats();

		if (st) {
			st->seen++;
			if (loopback)
				st->loopback++;
			else
				st->self++;
		}
		/* what came from the tunnel goes to the local targets too */
		if (ntargets && !loopback) {
			struct pkt p = {};

			if (!parse_ip(skb, false, off, proto, &p))
				copy_to_targets(skb, off, &p, MCTUN_MAX_TARGETS);
		}
		return TC_ACT_OK;
	}
	switch (handle(skb, false, dir, off, proto, loopback)) {
	case V_MARK:
		skb->mark |= frag_mark;
		break;
	case V_END:
		/* consumed (the ring has it), not dropped: no drop counter of
		 * the qdisc's, no drop reason for drop monitors */
		return TC_ACT_STOLEN;
	case V_PASS:
		break;
	}
	return TC_ACT_OK;
}

/* The slot of the target whose interface is ifindex, MCTUN_MAX_TARGETS if
 * none forwards from it (its direction is in, or it is not ours now). */
static __always_inline __u32 target_slot(__u32 ifindex)
{
	__u32 i;

	for (i = 0; i < MCTUN_MAX_TARGETS; i++) {
		struct mctun_target *t;
		__u32 k = i;

		if (i >= ntargets)
			break;
		t = bpf_map_lookup_elem(&mctun_targets, &k);
		if (t && t->ifindex == ifindex)
			return t->flags & MCTUN_TF_OUT ? i : MCTUN_MAX_TARGETS;
	}
	return MCTUN_MAX_TARGETS;
}

/* The copy onto the island: from the island's MAC address (as a router's
 * would be: the host behind the target is no station of the island's
 * link, and a Wi-Fi access point drops frames from addresses it has not
 * associated), with the mark that makes the island's egress program let it
 * by. The packet itself goes on as it came. */
static __noinline int to_island(struct __sk_buff *skb)
{
	__u8 mac[ETH_ALEN], own[ETH_ALEN];
	__u32 mark = skb->mark;
	int err, i;

	/* byte by byte, as volatile: a plain copy of a const would be folded
	 * to its zero initializer at compile time */
	for (i = 0; i < ETH_ALEN; i++)
		own[i] = island_mac[i];
	if (bpf_skb_load_bytes(skb, ETH_ALEN, mac, ETH_ALEN))
		return -1;
	if (bpf_skb_store_bytes(skb, ETH_ALEN, own, ETH_ALEN, 0))
		return -1;
	skb->mark = MCTUN_TGT_MARK;
	err = bpf_clone_redirect(skb, island_ifindex, 0);
	skb->mark = mark;
	bpf_skb_store_bytes(skb, ETH_ALEN, mac, ETH_ALEN, 0);
	return err;
}

/*
 * A local target with direction out or both (its TC ingress): a datagram
 * of a configured group that a host behind it sends (a container, into a
 * Docker bridge or its veth) goes onto the island, to the other targets
 * and, whole and captured (a peer wants it), into the ring for the
 * tunnel, as a datagram a local sender sent onto the island would: source
 * address, port and TTL kept. Never back to its own target; the copy onto
 * the island is marked so that nothing there takes it again. A group of
 * direction in is never sent from here. Fragments are copied each (nothing
 * is reassembled) but not captured: the tunnel carries a target's whole
 * datagrams only. Everything goes on unchanged into the host.
 */
static __always_inline int target_in(struct __sk_buff *skb)
{
	struct mctun_group_val *g;
	struct mctun_tstats *ts;
	struct mctun_stats *st;
	struct udphdr udp = {};
	struct ethhdr eth;
	struct pkt p = {};
	__be16 port = 0;
	__u32 slot, n;

	if (!ntargets || skb->pkt_type == PACKET_LOOPBACK || skb->vlan_present)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) ||
	    parse_ip(skb, false, ETH_HLEN, eth.h_proto, &p) || p.proto != IPPROTO_UDP)
		return TC_ACT_OK;
	if (p.frag != FRAG_LATER) {
		if (bpf_skb_load_bytes(skb, p.l4off, &udp, sizeof(udp)))
			return TC_ACT_OK;
		port = udp.dest;
	}
	g = lookup_group(&p, port);
	if (!g || (g->flags & MCTUN_GF_NOCAPTURE))
		return TC_ACT_OK;
	slot = target_slot(skb->ifindex);
	if (slot >= MCTUN_MAX_TARGETS)
		return TC_ACT_OK;
	ts = bpf_map_lookup_elem(&mctun_tstats, &slot);
	st = stats();
	if (!ts || !st)
		return TC_ACT_OK;
	n = skb->gso_segs ? skb->gso_segs : 1;
	copy_to_targets(skb, ETH_HLEN, &p, slot);
	if (p.frag == FRAG_NONE && !(g->flags & MCTUN_GF_IDLE))
		capture(skb, false, st, &p, MCTUN_DIR_EGRESS, g->id, gstats(g->id), &udp);
	if (to_island(skb)) {
		ts->from_errors += n;
		return TC_ACT_OK;
	}
	ts->from_packets += n;
	ts->from_bytes += p.ip_len;
	return TC_ACT_OK;
}

/*
 * Makes a program refer to mctun_info without touching it at run time (the
 * verifier removes the branch; the reference stays). The kernel keeps a
 * program's maps as long as the program, so the filters a killed daemon
 * left attached still say whose they were, with no pin needed: a daemon
 * started by `ip netns exec` pins where nobody else can see.
 */
static __always_inline void hold_info(void)
{
	__u32 zero = 0;

	if (never)
		bpf_map_lookup_elem(&mctun_info, &zero);
}

SEC("tc")
int mctun_tc_in(struct __sk_buff *skb)
{
	hold_info();
	return tc_handle(skb, MCTUN_DIR_INGRESS);
}

SEC("tc")
int mctun_tc_out(struct __sk_buff *skb)
{
	hold_info();
	return tc_handle(skb, MCTUN_DIR_EGRESS);
}

/* On each local target of direction out or both: target_in(). */
SEC("tc")
int mctun_tc_tgt(struct __sk_buff *skb)
{
	hold_info();
	return target_in(skb);
}

SEC("xdp")
int mctun_xdp(struct xdp_md *ctx)
{
	__be16 proto = 0;
	__u32 off = 0;

	hold_info();
	if (l3_of(ctx, true, &off, &proto)) {
		struct mctun_stats *st = stats();

		if (st) {
			st->seen++;
			st->malformed++;
		}
		return XDP_PASS;
	}
	if (handle(ctx, true, MCTUN_DIR_INGRESS, off, proto, false) == V_END)
		return XDP_DROP;
	return XDP_PASS;
}
