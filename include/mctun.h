/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Types shared by the BPF object (bpf/mctun.bpf.c) and the daemon (user/).
 *
 * Everything here is fixed-width with explicit padding, so both sides see
 * the same layout; sizes are pinned with _Static_assert at the bottom.
 * Byte order is noted per field: "net" is network order, "host" is the
 * byte order of the machine running the program.
 */
#ifndef MCTUN_H
#define MCTUN_H

#include <linux/types.h>

/* The maps are declared in bpf/mctun.bpf.c, which says who writes each;
 * their names (mctun_*) fit the kernel's 15 characters. */

#define MCTUN_MAX_GROUPS   16384u         /* per-group counter slots (group ids) */
#define MCTUN_MAX_TARGETS  16u            /* local targets (--to), slots of mctun_targets */
#define MCTUN_MAX_TGROUPS  4096u          /* groups wanted behind targets (mctun_tgroups) */
#define MCTUN_MAX_LOCALRX  4096u          /* groups with a local receiver (mctun_localrx) */

/*
 * Largest datagram payload the BPF program copies into the ring.  An
 * unfragmented datagram can exceed the interface MTU only on loopback-like
 * devices or with GSO; the kernel caps UDP payloads at 65,535 - 8 bytes.
 */
#define MCTUN_MAX_PAYLOAD  65536u

/* Sizes of rings and queues. */
#define MCTUN_RING_DEFAULT (8u << 20)     /* bytes; power of two */

/*
 * skb->mark bit the TC program sets on IP fragments of configured groups.
 * The kernel reassembles them and a per-group socket whose classic BPF
 * filter accepts only marked skbs receives the whole datagram, so every
 * datagram is captured exactly once: unfragmented ones by the ring,
 * fragmented ones by the socket.
 */
#define MCTUN_FRAG_MARK    0x4d430000u

/*
 * skb->mark of what the header-included send sockets of --keep-source
 * re-inject (SO_MARK). Those datagrams carry another host's address and
 * port, so the TC program (and, in socket mode, each capture socket's
 * filter) knows them as our own by this mark, which the looped-back copy
 * and every fragment keep. None of MCTUN_FRAG_MARK's bits are set in it.
 */
#define MCTUN_SELF_MARK    0x00004d54u

/*
 * skb->mark of the copy the TC program of a local target with direction
 * out or both (mctun_tc_tgt, on the target's ingress) sends onto the
 * island (bpf_clone_redirect to its egress). That program has already
 * captured the datagram for the tunnel and copied it to the other targets,
 * so the island's egress program lets a packet with this mark go by
 * untouched: it is never captured again nor copied back to a target. None
 * of the bits of MCTUN_FRAG_MARK or MCTUN_SELF_MARK are set in it.
 */
#define MCTUN_TGT_MARK     0x20008000u

/* Families as carried in maps, events and frames (not AF_* values). */
enum {
	MCTUN_FAM_INET  = 4,
	MCTUN_FAM_INET6 = 6,
};

/* Hook a datagram was captured on. */
enum {
	MCTUN_DIR_INGRESS = 0,
	MCTUN_DIR_EGRESS  = 1,
};

/*
 * Key of mctun_groups, the exact groups: one address, one port (ranges are
 * in mctun_ranges, below).  For an any-source group src is all zero; for a
 * source-specific group it holds the source.  The daemon also inserts one
 * entry per group address with port 0 and src 0 (flag MCTUN_GF_ADDR) so
 * fragments, which carry no UDP header past the first, can be recognised
 * by destination address alone.
 */
struct mctun_group_key {
	__u8  family;      /* MCTUN_FAM_* */
	__u8  pad;
	__be16 port;       /* net; 0 for an address-only entry */
	__u8  addr[16];    /* net; IPv4 in the first 4 bytes, rest zero */
	__u8  src[16];     /* net; zero for ASM */
};

#define MCTUN_GF_ADDR      0x1  /* address-only entry, used for fragments */
#define MCTUN_GF_NOCAPTURE 0x2  /* direction in: re-injected here, never captured */
#define MCTUN_GF_NOINJECT  0x4  /* direction out: captured, never re-injected here
				 * (the daemon's business; for `mctun status`) */
#define MCTUN_GF_RANGE     0x8  /* an entry of mctun_ranges: no socket joins a
				 * whole range, so its fragments are not carried */
#define MCTUN_GF_IDLE      0x10 /* configured, but no peer wants it now
				 * (subscriptions): not captured */
#define MCTUN_GF_WANTED    0x20 /* the part of a configured group a peer wants:
				 * captured (its counters are the group's) */

struct mctun_group_val {
	__u32 id;          /* host; index into mctun_gstats, < MCTUN_MAX_GROUPS */
	__u16 flags;       /* host; MCTUN_GF_* */
	__u8  plen;        /* prefix length of the group address (32 / 128 for
			    * one group): of two ranges that match, the longer wins */
	__u8  pad;
};

/*
 * Key of mctun_ranges, an LPM trie of the configured ranges: groups with a
 * prefix (239.192.0.0/16:5000) or any port (239.1.2.3:*). prefixlen counts
 * the bits from family on: an entry matches family, port and source in
 * full (port 0: any port; src zero: any source) and the first plen bits of
 * the group address, so its prefixlen is MCTUN_RANGE_FIXED_BITS + plen.
 * A lookup gives prefixlen MCTUN_RANGE_BITS.
 */
struct mctun_range_key {
	__u32 prefixlen;   /* host */
	__u8  family;      /* MCTUN_FAM_* */
	__u8  pad;
	__be16 port;       /* net; 0: any port */
	__u8  src[16];     /* net; zero: any source */
	__u8  addr[16];    /* net; the prefix, host bits zero */
};

#define MCTUN_RANGE_FIXED_BITS (8 * (4 + 16))     /* family, pad, port, src */
#define MCTUN_RANGE_BITS       (MCTUN_RANGE_FIXED_BITS + 128)

/*
 * Which kinds of range are configured (bits of the program's range_kinds,
 * written by the daemon): lookups of kinds none is configured of are
 * skipped, so datagrams of groups outside every range pay only for the
 * kinds in use.
 */
#define MCTUN_RK_PORT_SRC  0x1  /* a port and a source */
#define MCTUN_RK_PORT      0x2  /* a port, any source */
#define MCTUN_RK_SRC       0x4  /* any port, a source */
#define MCTUN_RK_ANY       0x8  /* any port, any source */

/*
 * Counters bumped only by the BPF program, one copy per CPU; user space
 * sums them.  Field names are what `bpftool map dump name mctun_stats`
 * prints, so they are the operator's vocabulary: keep them plain.
 */
struct mctun_stats {
	__u64 seen;          /* packets the program ran on */
	__u64 udp_mcast;     /* IPv4/IPv6 UDP to a multicast address */
	__u64 matched;       /* datagrams of a configured group */
	__u64 ingress;       /* ... of which seen on ingress */
	__u64 egress;        /* ... of which seen on egress (local senders) */
	__u64 pushed;        /* datagrams written into the ring (membership
			      * messages are counted in igmp and mld only) */
	__u64 pushed_bytes;  /* their payload bytes */
	__u64 ring_full;     /* events lost: ring had no room (datagrams and
			      * membership messages) */
	__u64 self;          /* skipped: sent by mctun's own socket */
	__u64 loopback;      /* skipped: loopback copy, seen at egress */
	__u64 fragments;     /* fragments left to reassembly + socket */
	__u64 too_big;       /* datagram beyond MCTUN_MAX_PAYLOAD: a guard; a UDP
			      * length field cannot announce more than 65,527 */
	__u64 malformed;     /* truncated or inconsistent headers */
	__u64 dir_in;        /* skipped: a group of direction in (not carried from here) */
	__u64 range_frags;   /* fragmented datagrams of a group matched only by a
			      * range: not carried (reassembly needs a socket that
			      * joined the group, and nobody joins a whole range) */
	__u64 igmp;          /* IGMP messages handed to the daemon (learn on) */
	__u64 mld;           /* MLD messages handed to the daemon (learn on) */
	__u64 unwanted;      /* skipped: a configured group no peer wants now */
	__u64 copies;        /* copies sent to local targets (--to), all targets */
	__u64 copy_errors;   /* ... that the kernel refused */
	__u64 ended;         /* captured on ingress and ended there (TC_ACT_STOLEN,
			      * XDP_DROP): whole datagrams of a group no local
			      * application joined (mctun_localrx) */
};

/*
 * A local target (--to): an interface of this host the TC program copies
 * the configured groups' datagrams to, in the kernel (bpf_clone_redirect to
 * its egress), as they arrive from the island or leave onto it (local
 * senders, re-injections from the tunnel). Slots 0 .. ntargets-1 of
 * mctun_targets; written by the daemon. The program reads ifindex and ttl;
 * ifname is for the tools (mctun stats, status), which cannot see ntargets:
 * the targets are the slots from 0 up to the first with an empty name.
 */
struct mctun_target {
	__u32 ifindex;       /* host; 0: no copies (the interface went away) */
	__u8  ttl;           /* TTL / hop limit of the copies; 0: as the datagram came */
	__u8  flags;         /* MCTUN_TF_* */
	__u8  pad[2];
	char  ifname[16];    /* its name as configured, kept while it is gone; "": unused */
};

/*
 * A target's direction (--to 'IFACE direction in|out|both'): in (the
 * default) is neither flag. With MCTUN_TF_OUT the daemon attaches
 * mctun_tc_tgt to the target's TC ingress, which forwards the configured
 * groups' datagrams sent from behind it onto the island, to the other
 * targets and (captured) into the tunnel; with MCTUN_TF_NOIN nothing is
 * copied into it.
 */
#define MCTUN_TF_OUT        0x1  /* direction out or both: forwarded from it */
#define MCTUN_TF_NOIN       0x2  /* direction out: nothing copied into it */
#define MCTUN_TF_QDISC_OURS 0x4  /* its clsact qdisc was created by the daemon
				  * (removed with the filter, after kill -9 too) */
/* Without MCTUN_TF_ALL a target gets only the groups its receivers
 * joined: those whose mctun_tgroups entry has its bit. */
#define MCTUN_TF_ALL        0x8  /* 'groups all': every configured group */

/*
 * Key of mctun_tgroups: a group some receiver behind a local target
 * joined (learned from the IGMP/MLD reports coming out of the target).
 * The value is a __u32 (host): bit i set, target slot i wants it.
 * Written by the daemon; the program reads it once per datagram.
 */
struct mctun_tgroup_key {
	__u8  family;        /* MCTUN_FAM_* */
	__u8  pad[3];
	__u8  addr[16];      /* net; IPv4 in the first 4 bytes, the rest 0 */
};

/*
 * mctun_localrx, keyed by struct mctun_tgroup_key: a group some socket on
 * this host other than the daemon's own has joined on the island
 * interface (the kernel's count in /proc/net/igmp, /proc/net/igmp6 less
 * the daemon's joins); the value (a __u8) is 1. Written by the daemon on
 * its 200 ms tick. The program reads it only while the global
 * localrx_known is 1 (the daemon has filled it and it holds every such
 * group): then a whole datagram it captured on ingress of a group not in
 * it ends there. localrx_known 0: every datagram goes on up the stack.
 */

/* Per-target counters (per CPU), indexed like mctun_targets. */
struct mctun_tstats {
	__u64 packets;       /* copies sent to the target (a fragment is one) */
	__u64 bytes;         /* their bytes from the IP header on */
	__u64 errors;        /* copies the kernel refused (the interface gone or down) */
	__u64 unjoined;      /* datagrams not copied: no receiver behind it joined the group */
	/* direction out or both: what came from the target */
	__u64 from_packets;  /* datagrams of configured groups sent onto the island
			      * (a fragment is one) */
	__u64 from_bytes;    /* their bytes from the IP header on */
	__u64 from_errors;   /* ... that the kernel refused to send there */
};

/* Per-group counters (per CPU), indexed by mctun_group_val.id. */
struct mctun_gstats {
	__u64 packets;       /* datagrams pushed into the ring */
	__u64 bytes;         /* their payload bytes */
	__u64 fragments;     /* fragments marked for reassembly */
	__u64 ring_full;     /* datagrams lost: ring had no room */
};

/*
 * One ring entry: this header, then `len` bytes of UDP payload, or of a
 * membership message when group_id is MCTUN_GID_MEMBERSHIP, at the start
 * of a slot of MCTUN_RING_SLOT_MIN bytes or the smallest power of two above
 * that holds them (the program reserves entries of constant sizes, and
 * copies the packet into the reservation once): the entry is longer than
 * header + len, the rest of the slot unspecified. Entries are written by
 * the BPF program only.
 */
#define MCTUN_RING_SLOT_MIN 256u
_Static_assert((MCTUN_RING_SLOT_MIN << 8) == MCTUN_MAX_PAYLOAD, "slots end at the largest payload");

struct mctun_event {
	__u64 tstamp_ns;     /* 0 (kept for the layout: no clock read per datagram) */
	__u32 len;           /* host; payload bytes following this header */
	__u32 group_id;      /* host; mctun_group_val.id, or MCTUN_GID_MEMBERSHIP */
	__u8  family;        /* MCTUN_FAM_* */
	__u8  dir;           /* MCTUN_DIR_* */
	__u8  ttl;           /* TTL / hop limit as received */
	__u8  tos;           /* IPv4 TOS / IPv6 traffic class */
	union {
		__be16 sport;    /* net; sender's UDP source port */
		__u16 mflags;    /* host; of a membership event: MCTUN_MEV_* */
	};
	__be16 dport;        /* net; group port */
	__u8  src[16];       /* net; sender's address */
	__u8  dst[16];       /* net; group address */
};

/* A membership event's mflags. */
#define MCTUN_MEV_RA       0x1  /* the first IPv4 option, or the first option of
				 * an IPv6 hop-by-hop header, is a router alert */

/*
 * group_id of an event that carries an IGMP or MLD message instead of a
 * datagram; only with the program's load-time switch `learn` on. The
 * message was sent to a multicast address and seen on ingress (not looped
 * back, not a fragment; in XDP mode by the XDP hook), and is one of IGMP
 * query 0x11, reports 0x12, 0x16, 0x22, leave 0x17, or of ICMPv6 MLD
 * query 130, report 131, done 132, MLDv2 report 143. The payload is the
 * message from the IGMP header (IPv4) or from the ICMPv6 header (IPv6),
 * len as long as the IP header says it is (IPv4: total length less the
 * header with its options; IPv6: payload length less the extension
 * headers), at least 8; nothing of it is checked beyond its type
 * (checksum, code, records: the daemon's job). src and dst are the IP
 * addresses (dst: 224.0.0.22, ff02::16, a group...), ttl and tos as
 * received, mflags (in place of sport) MCTUN_MEV_*, dport 0, dir
 * MCTUN_DIR_INGRESS. Counted in
 * mctun_stats' igmp or mld, never in pushed, pushed_bytes or mctun_gstats;
 * when the ring is full, in ring_full.
 */
#define MCTUN_GID_MEMBERSHIP 0xffffffffu

/*
 * ---- The daemon's record of itself ----
 * The values of mctun_info, mctun_dstats, mctun_peers and mctun_members. The program
 * never touches them; the BPF object declares their maps so that they are
 * made, pinned and found with the instance's other maps, and so that
 * `bpftool map dump` names their fields from BTF.
 */

/* Where in mctun_info.map_ids each of an instance's maps is. */
enum {
	MCTUN_IM_STATS,
	MCTUN_IM_GSTATS,
	MCTUN_IM_GROUPS,
	MCTUN_IM_INFO,
	MCTUN_IM_DSTATS,
	MCTUN_IM_PEERS,
	MCTUN_IM_RANGES,
	MCTUN_IM_MEMBERS,
	MCTUN_IM_WANTS,
	MCTUN_IM_TARGETS,
	MCTUN_IM_TSTATS,
	MCTUN_IM_TGROUPS,
	MCTUN_IM_COUNT,
};

/*
 * Who owns a set of maps: written by the daemon after attaching (and its
 * flags' MCTUN_INFO_INSECURE_PUBLIC again after a reload).
 * Tools find instances by walking the kernel's maps for this one (pins are
 * only a shortcut: a daemon started by `ip netns exec` pins in a mount
 * namespace nobody else sees), so it names everything they need.
 */
struct mctun_info {
	__u32 pid;           /* host; daemon pid, in the pid namespace pidns */
	__u32 ifindex;       /* host; in the network namespace netns */
	__u32 flags;         /* host; MCTUN_INFO_* */
	__u32 mode;          /* host; MCTUN_MODE_* */
	__u64 start_ns;      /* host; CLOCK_REALTIME at start */
	__u64 netns;         /* host; inode of the daemon's network namespace */
	__u64 pidns;         /* host; inode of the daemon's pid namespace */
	__u32 map_ids[MCTUN_IM_COUNT];  /* host; kernel ids of its maps */
	char  ifname[16];    /* the interface's name at start */
};

/*
 * The daemon's own counters, published in a pinned map (refreshed every
 * 200 ms) so `mctun status` reads them without talking to the daemon.
 */
struct mctun_dstats {
	__u64 node_id;        /* this instance's random node id */
	__u64 cap_ring;       /* datagrams captured from the ring */
	__u64 cap_sock;       /* ... from the per-group sockets */
	__u64 cap_self;       /* socket saw our own re-injection: skipped */
	__u64 injected;       /* datagrams sent onto the island */
	__u64 inject_errors;  /* ... that the send socket refused */
	__u64 drop_loop;      /* frames whose origin is this node */
	__u64 drop_dup;       /* (origin, seq) already handled */
	__u64 drop_hops;      /* frames past --max-hops */
	__u64 drop_group;     /* frames for a group not configured here */
	__u64 bad_frames;     /* malformed frames (connection closed) */
	__u64 refused;        /* inbound connections refused, every reason */
	__u64 queue_drops;    /* frames dropped on full peer queues, all peers */
	__u64 peers_up;       /* peers with the hello exchanged, now */
	/* The --metrics HTTP server (user/metrics.c). */
	__u64 http_ok;        /* GET /metrics answered 200 */
	__u64 http_errors;    /* requests answered 4xx or 5xx */
	__u64 http_refused;   /* clients closed for a newer one: all slots busy */
	__u64 http_timeouts;  /* clients closed for not finishing in time */
	__u64 framing_drops;  /* datagrams a peer's framing cannot carry (udptunnel: empty) */
	/* Refusals by reason (the inbound ones are also in `refused`): */
	__u64 refused_allow;  /* inbound from an address outside --allow */
	__u64 refused_pending;/* closed: --max-pending connections were authenticating */
	__u64 refused_auth;   /* TLS authentication failed (certificate, CA, key), both ways */
	__u64 refused_plain;  /* plain text to a TLS listener */
	__u64 refused_timeout;/* TLS and hello not done within --auth-timeout */
	__u64 drop_direction; /* frames of a group of direction out: passed on, not re-injected */
	__u64 rewritten;      /* re-injected to a group's rewrite target */
	/* Membership learned on the island (--membership learn). */
	__u64 drop_unwanted;  /* frames not re-injected: nobody here joined (passed on) */
	__u64 mship_groups;   /* groups learned, now */
	__u64 mship_reports;  /* IGMP/MLD reports heard */
	__u64 mship_leaves;   /* IGMPv2 leaves, MLDv1 dones heard */
	__u64 mship_refused;  /* groups not learned: outside the configuration, over
			       * --max-groups, link-local */
	__u64 mship_bad;      /* IGMP/MLD messages refused: malformed, TTL not 1, no
			       * router alert */
	__u64 queries_sent;   /* IGMP/MLD queries we sent */
	__u64 queries_heard;  /* ... other queriers sent */
	__u64 query_errors;   /* ... the socket refused */
	__u64 querier;        /* now: 1 we are the IGMP querier, 2 the MLD one, 3 both */
	/* Subscriptions (docs/PROTOCOL.md). */
	__u64 capture_all;    /* now: 1 every configured group is captured, 0 only
			       * what peers want */
	__u64 want_origins;   /* gateways whose wants we know, now */
	__u64 announce_in;    /* announcements received whole */
	__u64 announce_out;   /* ... sent whole (one per peer) */
	__u64 join_errors;    /* group sockets that could not open or join */
	/* --resume (docs/PROTOCOL.md, "Resume"). */
	__u64 resume_replayed;/* frames sent again after a peer came back */
	__u64 resume_gap;     /* frames a peer that came back had missed and that had
			       * left the window: lost */
	__u64 resume_overflow;/* frames pushed out of a window for room (--queue-size,
			       * --queue-total) before they were acknowledged */
	__u64 resume_refused; /* acks and resumes that lied: connection closed */
	/* How the ring was read (tc and xdp mode; --coalesce). */
	__u64 ring_wakeups;   /* the ring woke the loop (a wake-up per datagram, or
			       * a quarter of it full while coalescing) */
	__u64 ring_drains;    /* reads on the --coalesce timer, without a wake-up */
	__u64 ring_coalesced; /* switches to reading on the timer (the rate rose) */
};

#define MCTUN_PINNED_MEMBERS 1024 /* learned groups published; more run unlisted */
#define MCTUN_PINNED_WANTS   1024 /* peers' wants published; more run unlisted */

/* What a gateway somewhere in the tunnel wants (its announcement, docs/
 * PROTOCOL.md "Subscriptions"), one entry a row, as published in
 * mctun_wants (slots past the last one in use have family 0). */
struct mctun_want_info {
	__u64 node_id;        /* the gateway (origin) that wants it */
	__u8  family;         /* MCTUN_FAM_*; 0: an empty slot; 0xff: WANT_ALL */
	__u8  kind;           /* 0 INCLUDE (only from sources), 1 EXCLUDE (all but), 2 all */
	__u8  plen;
	__u8  hops;           /* tunnel links between it and us */
	__u16 port;           /* host; 0: any port */
	__u16 nsrc;           /* sources in its list */
	__u8  group[16];      /* net */
};

/* One learned group, as published in mctun_members (slots past the last
 * one in use have family 0). */
struct mctun_member_info {
	__u8  family;         /* MCTUN_FAM_*; 0: an empty slot */
	__u8  filter;         /* 1 INCLUDE (only from srcs), 2 EXCLUDE (all but srcs) */
	__u8  compat;         /* hosts' version: IGMP 1, 2, 3; MLD 1, 2 */
	__u8  nshown;         /* of srcs[] filled */
	__u16 nsrc;           /* sources in the list */
	__u16 pad;
	__u32 timer_ms;       /* EXCLUDE: left on the group timer */
	__u32 pad2;
	__u64 reports;        /* reports and records naming it */
	__u8  group[16];      /* net */
	__u8  srcs[4][16];    /* net; the first sources of the list */
};

#define MCTUN_PINNED_PEERS 256   /* peer slots published; more run unlisted */

enum {
	MCTUN_PEER_EMPTY      = 0,   /* unused slot */
	MCTUN_PEER_WAITING    = 1,   /* outbound, waiting to reconnect */
	MCTUN_PEER_CONNECTING = 2,
	MCTUN_PEER_HELLO      = 3,   /* connected, hello not yet exchanged */
	MCTUN_PEER_UP         = 4,
};

/* How a connection frames datagrams (--framing). */
enum {
	MCTUN_FRAMING_MCTUN     = 0,   /* docs/PROTOCOL.md: hello, data, keepalive */
	MCTUN_FRAMING_UDPTUNNEL = 1,   /* 16-bit length + payload, one group */
};

/* What a tunnel connection runs on (--transport). */
enum {
	MCTUN_TRANSPORT_TCP      = 0,
	MCTUN_TRANSPORT_MPTCP    = 1,   /* Multipath TCP, its subflows in use */
	MCTUN_TRANSPORT_FALLBACK = 2,   /* asked for MPTCP, runs plain TCP: the
					 * peer (or the path) did not take it */
};

struct mctun_peer_info {
	__u8  state;          /* MCTUN_PEER_* */
	__u8  family;         /* MCTUN_FAM_* */
	__u8  outbound;       /* 1: we connect, 0: it connected to us */
	__u8  framing;        /* MCTUN_FRAMING_* */
	__be16 port;          /* net; the peer's TCP port */
	__u8  transport;      /* MCTUN_TRANSPORT_* (0 also: an older instance) */
	__u8  subflows;       /* MPTCP: its subflows now; else 0 */
	__u8  addr[16];       /* net; the peer's address */
	__u64 node_id;        /* the peer's node id once up */
	__u64 up_since_ns;    /* CLOCK_REALTIME when it came up */
	__u64 frames_in;      /* data frames */
	__u64 bytes_in;
	__u64 frames_out;
	__u64 bytes_out;
	__u64 queue_drops;    /* frames dropped: its queue was full */
	__u64 queued;         /* bytes waiting in its queue now */
};

#define MCTUN_INFO_QDISC_OURS 0x1  /* the clsact qdisc was created by us */
/* How peers authenticate; none of the three: an instance older than these. */
#define MCTUN_INFO_INSECURE   0x2  /* --insecure: plain TCP, unauthenticated */
#define MCTUN_INFO_PSK        0x4  /* TLS 1.3 with a pre-shared key */
#define MCTUN_INFO_TLS_CERT   0x8  /* TLS 1.3 with certificates */
/* --insecure and a listener on an address other than loopback (the
 * wildcard included): anyone who reaches it can inject. Kept current on
 * reload. */
#define MCTUN_INFO_INSECURE_PUBLIC 0x10
/* No tunnel at all: local targets (--to, --netns) only, no key needed. */
#define MCTUN_INFO_NO_TUNNEL  0x20

enum {
	MCTUN_MODE_TC     = 0,
	MCTUN_MODE_SOCKET = 1,
	MCTUN_MODE_XDP    = 2,
};

_Static_assert(sizeof(struct mctun_group_key) == 36, "group key layout");
_Static_assert(sizeof(struct mctun_group_val) == 8, "group val layout");
_Static_assert(sizeof(struct mctun_event) == 56, "event layout");
_Static_assert(sizeof(struct mctun_stats) == 21 * 8, "stats layout");
_Static_assert(sizeof(struct mctun_info) == 104, "info layout");
_Static_assert(sizeof(struct mctun_want_info) == 32, "want info layout");
_Static_assert(sizeof(struct mctun_target) == 24, "target layout");
_Static_assert(sizeof(struct mctun_tstats) == 56, "target stats layout");
_Static_assert(!(MCTUN_TGT_MARK & (MCTUN_FRAG_MARK | MCTUN_SELF_MARK)), "marks overlap");
_Static_assert(sizeof(struct mctun_tgroup_key) == 20, "tgroup key layout");
_Static_assert(sizeof(struct mctun_range_key) == 4 + MCTUN_RANGE_BITS / 8, "range key layout");
_Static_assert(sizeof(struct mctun_peer_info) == 88, "peer info layout");
_Static_assert(sizeof(struct mctun_dstats) == 48 * 8, "daemon stats layout");
_Static_assert(sizeof(struct mctun_member_info) == 104, "member info layout");

#endif /* MCTUN_H */
