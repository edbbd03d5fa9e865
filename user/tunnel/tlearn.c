// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "capture_bpf.h"
#include "capture_socket.h"
#include "daemon.h"
#include "interest.h"
#include "log.h"
#include "membership.h"
#include "tlearn.h"
#include "util.h"

#define READS_PER_EVENT 64             /* messages read per readiness, at most */

/*
 * A packet socket on the target's interface that takes what comes out of
 * it (not what we send) and only IGMP (IPv4 protocol 2) and ICMPv6 (next
 * header 58, directly or after a hop-by-hop header, as MLD comes); the
 * rest of the check is the parser's. SOCK_DGRAM: the filter and the
 * reader see the packet from its IP header on.
 */
static int packet_open(unsigned int ifindex)
{
	struct sock_filter f[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 10, 0),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 2),
		/* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_IGMP, 7, 6),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 5),
		/* 7 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 4, 0),
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2),     /* hop-by-hop */
		/* 10 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 40),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 1, 0),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, 0),
		/* 13 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)ifindex,
	};
	int fd, err;

	/* no protocol until the filter is on: nothing unfiltered queues */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void on_changed(void *ctx, uint8_t family, const uint8_t group[16])
{
	(void)family;
	(void)group;
	((struct tlearn *)ctx)->dirty = true;
}

static void slot_close(struct daemon *d, struct tslot *s)
{
	if (s->src.fd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, s->src.fd, NULL);
		close(s->src.fd);
		s->src.fd = -1;
	}
	if (s->open) {
		learn_close(&s->l);
		s->open = false;
		d->tl->dirty = true;      /* its groups are gone */
	}
	s->ifindex = 0;
}

/* Slot i on interface ifindex: its socket, a new membership state (whose
 * startup queries find the receivers that joined before). */
static void slot_open(struct daemon *d, unsigned int i, unsigned int ifindex, uint64_t now)
{
	struct tslot *s = &d->tl->s[i];
	char name[TARGET_PATH_MAX + 16], ifname[IF_NAMESIZE];
	int fd, err;

	s->ifindex = ifindex;
	if (!if_indextoname(ifindex, ifname)) {
		pr_warn("%s: interface index %u: %s: no learning there\n",
			target_name(&d->cfg->targets[i], name, sizeof(name)), ifindex, strerror(errno));
		return;
	}
	fd = packet_open(ifindex);
	if (fd < 0) {
		pr_warn("%s: a packet socket on %s for IGMP/MLD: %s: no learning there\n",
			target_name(&d->cfg->targets[i], name, sizeof(name)), ifname, strerror(-fd));
		return;
	}
	memset(&s->st, 0, sizeof(s->st));
	err = learn_open_on(&s->l, d->cfg, ifindex, ifname, true, &s->st, now);
	if (err) {
		learn_close(&s->l);
		close(fd);
		pr_warn("%s: learning on %s: %s\n",
			target_name(&d->cfg->targets[i], name, sizeof(name)), ifname, strerror(-err));
		return;
	}
	s->l.changed = on_changed;
	s->l.ctx = d->tl;
	s->open = true;
	s->src.fd = fd;
	ep_set(d->epfd, &s->src, EPOLLIN, EPOLL_CTL_ADD);
	pr_debug("%s: learning its receivers' groups on %s\n",
		 target_name(&d->cfg->targets[i], name, sizeof(name)), ifname);
}

/*
 * Learning needs a packet socket (and raw sockets for the queries), so
 * CAP_NET_RAW, and the address family: checked at start, so that a
 * missing one is named once rather than each target copying nothing.
 */
static int check_learning(const struct config *cfg)
{
	char name[TARGET_PATH_MAX + 16];
	unsigned int i;
	int fd, err;

	for (i = 0; i < cfg->ntargets && cfg->targets[i].all_groups; i++)
		;
	if (i == cfg->ntargets)
		return 0;
	target_name(&cfg->targets[i], name, sizeof(name));
	if (!cap_has(cap_effective(), CAPN_NET_RAW)) {
		pr_warn("%s: learning what its receivers join: %s: this process lacks "
			"CAP_NET_RAW (IGMP/MLD on a packet socket; a target of 'groups all' "
			"learns nothing)\n", name, strerror(EPERM));
		return -EPERM;
	}
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("%s: learning what its receivers join: a packet socket: %s (a target "
			"of 'groups all' learns nothing)\n", name, strerror(-err));
		return err;
	}
	close(fd);
	return 0;
}

int tlearn_open(struct daemon *d)
{
	struct tlearn *tl;
	unsigned int i;
	int err = check_learning(d->cfg);

	if (err)
		return err;
	tl = calloc(1, sizeof(*tl));
	if (!tl)
		return -ENOMEM;
	tl->n = d->cfg->ntargets;
	tl->all = targets_all_groups(d->cfg->targets, d->cfg->ntargets);
	for (i = 0; i < MCTUN_MAX_TARGETS; i++) {
		tl->s[i].src.kind = SRC_TLEARN;
		tl->s[i].src.fd = -1;
	}
	d->tl = tl;
	return 0;
}

void tlearn_close(struct daemon *d)
{
	struct tlearn *tl = d->tl;
	unsigned int i;

	if (!tl)
		return;
	for (i = 0; i < tl->n; i++)
		slot_close(d, &tl->s[i]);
	for (i = 0; i < tl->ng; i++)
		group_socket_close(tl->g[i].fd, tl->g[i].family, tl->g[i].addr);
	free(tl->g);
	free(tl);
	d->tl = NULL;
}

/* ---- what is wanted: the BPF map and the island's joins ------------------------ */

static int tg_cmp(const void *a, const void *b)
{
	const struct tgroup *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->addr, y->addr, 16);
}

struct collect {
	struct tgroup *v;
	unsigned int n, cap;
	uint32_t bit;
	int err;
};

static int collect_one(void *ctx, const struct mship_group_info *g)
{
	struct collect *c = ctx;

	if (c->n == c->cap) {
		unsigned int cap = c->cap ? 2 * c->cap : 16;
		struct tgroup *n = realloc(c->v, cap * sizeof(*n));

		if (!n)
			return c->err = -ENOMEM;
		c->v = n;
		c->cap = cap;
	}
	c->v[c->n] = (struct tgroup){ .family = g->family, .mask = c->bit, .fd = -1 };
	memcpy(c->v[c->n].addr, g->group, 16);
	c->n++;
	return 0;
}

static void map_key(const struct tgroup *g, struct mctun_tgroup_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = g->family;
	memcpy(k->addr, g->addr, 16);
}

/* Joined on the island, where the switches deliver it from. */
static int island_join(struct daemon *d, const struct tgroup *g)
{
	struct mc_group mg = { .family = g->family, .plen = group_full_plen(g->family) };

	memcpy(mg.addr, g->addr, 16);
	return group_socket_open(d->cfg, &mg, GSOCK_JOIN);
}

/* Who joined or left behind which target: logged per target. */
static void log_bits(struct daemon *d, const struct tgroup *g, uint32_t old, uint32_t now_)
{
	char name[TARGET_PATH_MAX + 16], a[ADDR_STRLEN];
	unsigned int i;

	for (i = 0; i < d->tl->n; i++) {
		uint32_t b = 1u << i;

		if ((old & b) == (now_ & b))
			continue;
		pr_info("%s: %s %s behind it%s\n", target_name(&d->cfg->targets[i], name, sizeof(name)),
			addr_str(g->family, g->addr, a, sizeof(a)),
			now_ & b ? "joined" : "left", now_ & b ? ": copying it there" : "");
	}
}

static void sync_wanted(struct daemon *d, uint64_t now)
{
	struct tlearn *tl = d->tl;
	struct collect c = { 0 };
	int mfd = capture_bpf_tgroups_fd(d->bpf);
	struct mctun_tgroup_key k;
	struct tgroup *out;
	unsigned int i, j, n, o;
	bool changed = false;

	tl->dirty = false;
	for (i = 0; i < tl->n && !c.err; i++) {
		if (!tl->s[i].open)
			continue;
		c.bit = 1u << i;
		learn_foreach(&tl->s[i].l, now, collect_one, &c);
	}
	if (c.err) {
		free(c.v);
		tl->dirty = true;        /* again at the next tick */
		return;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), tg_cmp);
	for (i = n = 0; i < c.n; i++) {   /* one entry a group, its bits together */
		if (n && !tg_cmp(&c.v[n - 1], &c.v[i]))
			c.v[n - 1].mask |= c.v[i].mask;
		else
			c.v[n++] = c.v[i];
	}
	out = calloc(n + tl->ng + 1, sizeof(*out));
	if (!out) {
		free(c.v);
		tl->dirty = true;
		return;
	}
	/* merge with what is in place: keep, add, change, remove */
	for (i = j = o = 0; i < n || j < tl->ng;) {
		int r = i == n ? 1 : j == tl->ng ? -1 : tg_cmp(&c.v[i], &tl->g[j]);
		struct tgroup *x;

		if (r > 0) {                         /* nobody behind a target wants it now */
			x = &tl->g[j++];
			log_bits(d, x, x->mask, 0);
			map_key(x, &k);
			bpf_map_delete_elem(mfd, &k);
			/* leaves it on the island */
			group_socket_close(x->fd, x->family, x->addr);
			changed = true;
			continue;
		}
		if (r < 0) {                         /* new */
			x = &out[o++];
			*x = c.v[i++];
			if (o > MCTUN_MAX_TGROUPS) {
				o--;
				continue;
			}
			log_bits(d, x, 0, x->mask);
			map_key(x, &k);
			if (bpf_map_update_elem(mfd, &k, &x->mask, BPF_ANY))
				pr_warn("targets: write the groups map: %s\n", strerror(errno));
			x->fd = island_join(d, x);
			if (x->fd < 0)
				tl->join_errors++;
			changed = true;
			continue;
		}
		x = &out[o++];                       /* kept */
		*x = tl->g[j++];
		if (x->mask != c.v[i].mask) {
			log_bits(d, x, x->mask, c.v[i].mask);
			x->mask = c.v[i].mask;
			map_key(x, &k);
			bpf_map_update_elem(mfd, &k, &x->mask, BPF_ANY);
		}
		i++;
	}
	free(c.v);
	free(tl->g);
	tl->g = out;
	tl->ng = o;
	/* what we announce to peers includes what targets want */
	if (changed && d->learn)
		interest_learned(d);
}

/* ---- the loop's calls ------------------------------------------------------------ */

void tlearn_set_config(struct daemon *d, const struct config *cfg)
{
	unsigned int i;

	for (i = 0; i < d->tl->n; i++)
		if (d->tl->s[i].open && learn_set_config(&d->tl->s[i].l, cfg))
			pr_warn("reload: learning behind %s keeps the old groups' policy (out of "
				"memory)\n", cfg->targets[i].ifname[0] ? cfg->targets[i].ifname :
				"a target");
}

void tlearn_tick(struct daemon *d, uint64_t now)
{
	struct tlearn *tl = d->tl;
	unsigned int i, idx;

	if (!tl)
		return;
	for (i = 0; i < tl->n; i++) {
		struct tslot *s = &tl->s[i];

		if (d->cfg->targets[i].all_groups)
			continue;
		/* a target followed to another interface: learnt anew there */
		idx = capture_bpf_target_ifindex(d->bpf, i);
		if (idx != s->ifindex) {
			slot_close(d, s);
			if (idx)
				slot_open(d, i, idx, now);
		}
		if (s->open)
			learn_tick(&s->l, now);
	}
	if (tl->dirty)
		sync_wanted(d, now);
}

/* An IGMP or MLD message from its IP header on, as the BPF program would
 * hand it over: the addresses, TTL, router alert, the message. */
static void packet_in(struct tslot *s, const uint8_t *p, size_t n, uint16_t proto)
{
	struct mctun_event ev = { .dir = MCTUN_DIR_INGRESS };
	size_t hl, tot, off;
	uint8_t nh;

	if (proto == ETH_P_IP) {
		if (n < 20 || (p[0] >> 4) != 4)
			return;
		hl = (size_t)(p[0] & 0xf) * 4;
		tot = (size_t)p[2] << 8 | p[3];
		/* whole (not a fragment), IGMP */
		if (hl < 20 || tot < hl || tot > n || p[9] != IPPROTO_IGMP ||
		    ((p[6] & 0x3f) | p[7]))
			return;
		ev.family = MCTUN_FAM_INET;
		memcpy(ev.src, p + 12, 4);
		memcpy(ev.dst, p + 16, 4);
		ev.ttl = p[8];
		ev.tos = p[1];
		if (hl >= 24 && p[20] == 0x94 && p[21] == 4)
			ev.mflags = MCTUN_MEV_RA;
		learn_event(&s->l, &ev, p + hl, (uint32_t)(tot - hl));
		return;
	}
	if (proto != ETH_P_IPV6 || n < 40 || (p[0] >> 4) != 6)
		return;
	tot = 40 + ((size_t)p[4] << 8 | p[5]);
	if (tot > n)
		return;
	nh = p[6];
	off = 40;
	if (nh == 0) {                       /* hop-by-hop: the router alert */
		if (off + 8 > tot)
			return;
		if (p[off + 2] == 5 && p[off + 3] == 2)
			ev.mflags = MCTUN_MEV_RA;
		nh = p[off];
		off += ((size_t)p[off + 1] + 1) * 8;
	}
	if (nh != IPPROTO_ICMPV6 || off > tot)
		return;
	ev.family = MCTUN_FAM_INET6;
	memcpy(ev.src, p + 8, 16);
	memcpy(ev.dst, p + 24, 16);
	ev.ttl = p[7];
	learn_event(&s->l, &ev, p + off, (uint32_t)(tot - off));
}

void tlearn_read(struct daemon *d, struct tslot *s)
{
	static uint8_t buf[65536];
	struct sockaddr_ll from;
	socklen_t fl;
	unsigned int k;
	ssize_t n;

	for (k = 0; k < READS_PER_EVENT; k++) {
		fl = sizeof(from);
		n = recvfrom(s->src.fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &fl);
		if (n < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING || !s->open)
			continue;
		packet_in(s, buf, (size_t)n, ntohs(from.sll_protocol));
	}
	/* joined or left: copies and the island's join follow at once */
	if (d->tl->dirty)
		sync_wanted(d, now_ns());
}

bool tlearn_wants(const struct tlearn *tl, uint8_t family, const uint8_t group[16])
{
	struct tgroup key = { .family = family };

	if (!tl)
		return false;
	if (tl->all)
		return true;
	memcpy(key.addr, group, 16);
	return tl->ng && bsearch(&key, tl->g, tl->ng, sizeof(*tl->g), tg_cmp);
}

int tlearn_foreach(const struct tlearn *tl, int (*fn)(void *ctx, uint8_t family,
						      const uint8_t group[16]), void *ctx)
{
	unsigned int i;
	int r;

	for (i = 0; tl && i < tl->ng; i++)
		if ((r = fn(ctx, tl->g[i].family, tl->g[i].addr)))
			return r;
	return 0;
}
