// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if_arp.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mctun.skel.h"
#include "config.h"
#include "counters.h"
#include "docker.h"
#include "capture_bpf.h"
#include "groups.h"
#include "instances.h"
#include "log.h"
#include "netns.h"
#include "render.h"
#include "util.h"

struct capture_bpf {
	capture_fn fn;                 /* each datagram from the ring goes here */
	capture_mship_fn mship_fn;     /* each membership message, NULL: dropped */
	void *ctx;
	bool learn;                    /* the program hands on IGMP and MLD */
	uint64_t mship_dropped;        /* membership messages with no mship_fn */
	struct mctun_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_tc_hook hook;
	bool qdisc_ours;
	bool attached[2];              /* ingress, egress */
	__u32 xdp_flags;               /* XDP mode: how mctun_xdp is attached, 0 if not */
	bool pinned;
	int lock;                      /* instance_lock() of the interface, -1 */
	unsigned int published;        /* peer slots written last time */
	unsigned int tidx[MCTUN_MAX_TARGETS];  /* --to: each target's ifindex in the map, 0 gone */
	char tname[MCTUN_MAX_TARGETS][IF_NAMESIZE];  /* --netns: the interface it led to last */
	/* direction out or both: where mctun_tc_tgt is attached (0: nowhere),
	 * and whether we made the clsact qdisc there */
	unsigned int tattached[MCTUN_MAX_TARGETS];
	bool tqdisc[MCTUN_MAX_TARGETS];
	/* --container: the thread asking Docker; per target, its index there,
	 * the answer last read (and its number), the process it names */
	struct docker_watch *docker;
	unsigned int dslot[MCTUN_MAX_TARGETS];
	struct docker_info dinfo[MCTUN_MAX_TARGETS];
	unsigned int dseq[MCTUN_MAX_TARGETS];
	int dpid[MCTUN_MAX_TARGETS];
	/* its interface on the network named ('network NET'), by address */
	unsigned char dmac[MCTUN_MAX_TARGETS][6];
	bool dmac_set[MCTUN_MAX_TARGETS];
	char dwhy[MCTUN_MAX_TARGETS][512];   /* why no network was chosen, last logged */
	char pin_dir[256];
};

/* Target i's slot of mctun_targets: ifindex (0: gone), cfg's TTL. */
static int target_write(struct capture_bpf *cap, const struct config *cfg, __u32 i,
			unsigned int ifindex)
{
	struct mctun_target t = { .ifindex = ifindex, .ttl = cfg->targets[i].ttl,
				  .flags = cfg->targets[i].all_groups ? MCTUN_TF_ALL : 0 };
	char name[IF_NAMESIZE];
	int err;

	if (target_sends(&cfg->targets[i]))
		t.flags |= MCTUN_TF_OUT;
	if (cfg->targets[i].dir == TDIR_OUT)
		t.flags |= MCTUN_TF_NOIN;
	if (ifindex && cap->tattached[i] == ifindex && cap->tqdisc[i])
		t.flags |= MCTUN_TF_QDISC_OURS;

	/* the name too, for mctun stats and status (the slot's "in use"):
	 * --netns's and --container's is the interface it leads through, the
	 * last one known while it is gone */
	_Static_assert(sizeof(t.ifname) == sizeof(cfg->targets[i].ifname), "target name size");
	memcpy(t.ifname, cfg->targets[i].ifname, sizeof(t.ifname));
	if (target_follows(&cfg->targets[i])) {
		if (ifindex && if_indextoname(ifindex, name))
			memcpy(cap->tname[i], name, sizeof(name));
		snprintf(t.ifname, sizeof(t.ifname), "%s", cap->tname[i][0] ? cap->tname[i] : "?");
	}
	if (bpf_map_update_elem(bpf_map__fd(cap->skel->maps.mctun_targets), &i, &t, BPF_ANY)) {
		err = -errno;
		pr_warn("target %u: write the BPF map: %s\n", i, strerror(-err));
		return err;
	}
	cap->tidx[i] = ifindex;
	return 0;
}

/* Where target i is now: its interface's index, or -errno (-ESRCH: a
 * container that does not run). A container's process is the one Docker
 * named last (cap->dpid: the thread's latest answer, read on the tick). */
static int target_find(struct capture_bpf *cap, const struct config *cfg, unsigned int i,
		       unsigned int *idx)
{
	const struct cfg_target *t = &cfg->targets[i];
	char path[64];
	uint64_t ino;

	*idx = 0;
	if (t->container[0]) {
		if (cap->dpid[i] <= 0)
			return -ESRCH;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", cap->dpid[i]);
		return netns_link_in_mac(path, cap->dmac_set[i] ? cap->dmac[i] : NULL, idx, &ino);
	}
	if (t->netns[0])
		return netns_link_in(t->netns, idx, &ino);
	*idx = if_nametoindex(t->ifname);
	return *idx ? 0 : errno ? -errno : -ENODEV;
}

static const char *target_why(const struct cfg_target *t, int err)
{
	switch (err) {
	case -ENODEV: return t->container[0] ? "no veth leads into its network namespace from "
				"here (is its network host or none?)" :
			     t->netns[0] ? "no veth leads there from here" : "no such interface";
	case -ENOENT: return t->container[0] ? "its process is gone" : "no such namespace";
	case -EINVAL: return "not a network namespace";
	default:      return strerror(-err);
	}
}

/* "--to br0", "--netns /run/netns/c1" or "--container cam1" */
/* Target i's filter off the interface it is on (if that is still there),
 * with the clsact qdisc we made there, unless another instance's island
 * filters are on it now. */
static void target_detach(struct capture_bpf *cap, unsigned int i)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = cap->tattached[i],
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = MCTUN_TC_TGT_HANDLE,
			    .priority = MCTUN_TC_PRIO);
	char name[IF_NAMESIZE];

	if (!cap->tattached[i])
		return;
	if (if_indextoname(cap->tattached[i], name)) {
		if (bpf_tc_detach(&h, &o))
			pr_warn("detach tc ingress from target %s: %s\n", name, strerror(errno));
		if (cap->tqdisc[i] && !instance_island_filters(cap->tattached[i])) {
			h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&h);
		}
	}
	cap->tattached[i] = 0;
	cap->tqdisc[i] = false;
}

/*
 * Direction out or both: mctun_tc_tgt on the ingress of target i's
 * interface idx (a clsact qdisc made if there is none). A filter of ours
 * left there by an instance that runs no more is replaced; a running
 * one's is refused. 0 or -errno (logged).
 */
static int target_attach(struct capture_bpf *cap, const struct config *cfg, unsigned int i,
			 unsigned int idx)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = idx, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = MCTUN_TC_TGT_HANDLE,
			    .priority = MCTUN_TC_PRIO,
			    .prog_fd = bpf_program__fd(cap->skel->progs.mctun_tc_tgt));
	char name[TARGET_PATH_MAX + 16], ifname[IF_NAMESIZE] = "?";
	libbpf_print_fn_t old;
	__u32 pid;
	int err;

	if_indextoname(idx, ifname);
	target_name(&cfg->targets[i], name, sizeof(name));
	/* a qdisc already there (Docker's, or a stale one of ours) is no news */
	old = libbpf_set_print(NULL);
	err = bpf_tc_hook_create(&h);
	libbpf_set_print(old);
	if (err && err != -EEXIST) {
		pr_warn("%s: create clsact qdisc on %s: %s\n", name, ifname, strerror(-err));
		return err;
	}
	cap->tqdisc[i] = !err;
	err = instance_clear_target(idx, false, false, &pid);
	if (err == -EBUSY) {
		if (pid)
			pr_warn("%s: mctun (pid %u) forwards from %s already\n", name, pid, ifname);
		else
			pr_warn("%s: another mctun forwards from %s already\n", name, ifname);
	} else {
		err = bpf_tc_attach(&h, &o);
		if (err)
			pr_warn("%s: attach tc ingress on %s: %s\n", name, ifname, strerror(-err));
	}
	if (err) {
		if (cap->tqdisc[i]) {
			h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&h);
		}
		cap->tqdisc[i] = false;
		return err;
	}
	cap->tattached[i] = idx;
	return 0;
}

/*
 * Which of container target i's networks its copies go to (Docker's
 * answer d): the one named, or its only one. 0, or -ENOENT (not on the
 * one named) or -EEXIST (several, none named) with a phrase in why.
 */
static int container_net(struct capture_bpf *cap, const struct config *cfg, unsigned int i,
			 const struct docker_info *d, char *why, size_t len)
{
	const struct cfg_target *t = &cfg->targets[i];
	char nets[160];
	int err;

	why[0] = '\0';
	err = docker_pick_net(d, t->network, cap->dmac[i], &cap->dmac_set[i], nets, sizeof(nets));
	if (err == -ENOENT)
		snprintf(why, len, "not on network %s (on: %s)", t->network,
			 nets[0] ? nets : "none");
	else if (err)
		snprintf(why, len, "on several networks (%s): choose one with '%s network NET'",
			 nets, t->container);
	return err;
}

/*
 * --container targets: Docker is asked once now, before the loop runs
 * (bounded: DOCKER_TIMEOUT_MS), and refuses what it does not know or when
 * it cannot be asked; a container that does not run is accepted. Then the
 * thread that follows them starts, with these answers as its first.
 */
static int containers_open(struct capture_bpf *cap, const struct config *cfg)
{
	const char *names[MCTUN_MAX_TARGETS];
	struct docker_info first[MCTUN_MAX_TARGETS];
	unsigned int i, n = 0;
	int err;

	for (i = 0; i < cfg->ntargets; i++) {
		const struct cfg_target *t = &cfg->targets[i];
		struct docker_info *d = &cap->dinfo[i];

		if (!t->container[0])
			continue;
		docker_inspect(cfg->docker_socket, t->container, DOCKER_TIMEOUT_MS, -1, d);
		if (d->state == DOCKER_MISSING) {
			pr_warn("--container %s: no such container (Docker at %s)\n", t->container,
				cfg->docker_socket);
			return -ENOENT;
		}
		if (d->state == DOCKER_ERROR) {
			pr_warn("--container %s: Docker at %s: %s\n", t->container,
				cfg->docker_socket, d->err);
			return -EHOSTUNREACH;
		}
		if (container_net(cap, cfg, i, d, cap->dwhy[i], sizeof(cap->dwhy[i]))) {
			pr_warn("--container %s: %s\n", t->container, cap->dwhy[i]);
			return -EINVAL;
		}
		cap->dpid[i] = d->state == DOCKER_RUNNING ? d->pid : 0;
		cap->dslot[i] = n;
		names[n] = t->container;
		first[n++] = *d;
	}
	if (!n)
		return 0;
	err = docker_watch_start(cfg->docker_socket, names, n, first, &cap->docker);
	if (err)
		pr_warn("--container: start the thread that asks Docker: %s\n", strerror(-err));
	return err;
}

/*
 * The thread's latest answer about container target i: a new one names
 * the process to look in (an error keeps the last one known: Docker down
 * does not stop the copies), and is logged when it says more than that
 * the container stopped or started (which the interface's change says).
 */
static void container_update(struct capture_bpf *cap, const struct config *cfg, unsigned int i)
{
	const struct cfg_target *t = &cfg->targets[i];
	struct docker_info d, *old = &cap->dinfo[i];
	char why[sizeof(cap->dwhy[i])] = "";
	unsigned int seq;

	docker_watch_get(cap->docker, cap->dslot[i], &d, &seq);
	if (seq == cap->dseq[i])
		return;
	cap->dseq[i] = seq;
	if (d.state == DOCKER_ERROR) {
		if (old->state != DOCKER_ERROR || strcmp(old->err, d.err))
			pr_warn("--container %s: Docker at %s: %s (following its last known "
				"process meanwhile)\n", t->container, cfg->docker_socket, d.err);
		*old = d;
		return;
	}
	if (old->state == DOCKER_ERROR)
		pr_info("--container %s: Docker at %s answers again\n", t->container,
			cfg->docker_socket);
	if (d.state == DOCKER_MISSING && old->state != DOCKER_MISSING)
		pr_info("--container %s: no such container now (Docker at %s): no copies until "
			"it is back\n", t->container, cfg->docker_socket);
	cap->dpid[i] = d.state == DOCKER_RUNNING ? d.pid : 0;
	/* connected to another network meanwhile, or cut off the one named */
	if (d.state == DOCKER_RUNNING && container_net(cap, cfg, i, &d, why, sizeof(why))) {
		if (strcmp(why, cap->dwhy[i]))
			pr_warn("--container %s: %s: no copies meanwhile\n", t->container, why);
		cap->dpid[i] = 0;
	}
	snprintf(cap->dwhy[i], sizeof(cap->dwhy[i]), "%s", why);
	*old = d;
}

/*
 * A bridge and its port on either side would get every datagram twice:
 * once switched by the bridge, once copied by us. So the island may not be
 * a port of a target, nor a target a port of the island.
 */
static int target_vs_island(const struct config *cfg, const char *what, unsigned int idx)
{
	char tname[IF_NAMESIZE] = "?";
	unsigned int m;

	if_indextoname(idx, tname);
	if (!link_master(cfg->ifindex, &m) && m == idx) {
		pr_warn("%s: the island interface %s is a port of %s, which gets its traffic "
			"already\n", what, cfg->ifname, tname);
		return -EINVAL;
	}
	if (!link_master(idx, &m) && m == cfg->ifindex) {
		pr_warn("%s: %s is a port of the island bridge %s, which switches its traffic "
			"already\n", what, tname, cfg->ifname);
		return -EINVAL;
	}
	return 0;
}

/*
 * A target that is a port of another (a container's veth and its Docker
 * bridge) with direction out or both on either: what is sent from behind
 * the port would be forwarded twice (by its filter and, switched up to
 * the bridge, by the bridge's) or copied back to where it came from (into
 * the bridge, which floods it to the port). Refused at start.
 */
static int targets_vs_targets(struct capture_bpf *cap, const struct config *cfg)
{
	char a[TARGET_PATH_MAX + 16], b[TARGET_PATH_MAX + 16];
	unsigned int i, j, m;

	for (i = 0; i < cfg->ntargets; i++) {
		if (!cap->tidx[i] || link_master(cap->tidx[i], &m) || !m)
			continue;
		for (j = 0; j < cfg->ntargets; j++) {
			if (j == i || cap->tidx[j] != m ||
			    (!target_sends(&cfg->targets[i]) && !target_sends(&cfg->targets[j])))
				continue;
			pr_warn("%s: a port of %s, another target, and one of them has direction "
				"out or both: its datagrams would go out twice or come back\n",
				target_name(&cfg->targets[i], a, sizeof(a)),
				target_name(&cfg->targets[j], b, sizeof(b)));
			return -EINVAL;
		}
	}
	return 0;
}

/* At start every target must be there; the island's interface is none. */
static int targets_open(struct capture_bpf *cap, const struct config *cfg)
{
	char name[TARGET_PATH_MAX + 16];
	unsigned int i, idx;
	int err;

	if ((err = containers_open(cap, cfg)))
		return err;
	for (i = 0; i < cfg->ntargets; i++) {
		const struct cfg_target *t = &cfg->targets[i];

		err = target_find(cap, cfg, i, &idx);
		if (err == -ESRCH) {
			/* a container that does not run (yet): followed */
			pr_info("--container %s: not running (%s): no copies until it starts\n",
				t->container, cap->dinfo[i].status[0] ? cap->dinfo[i].status : "?");
			if ((err = target_write(cap, cfg, i, 0)))
				return err;
			continue;
		}
		if (err) {
			pr_warn("%s: %s\n", target_name(t, name, sizeof(name)), target_why(t, err));
			return err;
		}
		if (idx == cfg->ifindex) {
			pr_warn("%s: leads to the island interface %s\n",
				target_name(t, name, sizeof(name)), cfg->ifname);
			return -EINVAL;
		}
		if ((err = target_vs_island(cfg, target_name(t, name, sizeof(name)), idx)) ||
		    (target_sends(t) && (err = target_attach(cap, cfg, i, idx))) ||
		    (err = target_write(cap, cfg, i, idx)))
			return err;
	}
	return targets_vs_targets(cap, cfg);
}

void capture_bpf_targets_refresh(struct capture_bpf *cap, const struct config *cfg)
{
	char name[TARGET_PATH_MAX + 16], ifname[IF_NAMESIZE];
	unsigned int i, idx;

	for (i = 0; i < cfg->ntargets; i++) {
		const struct cfg_target *t = &cfg->targets[i];

		if (t->container[0])
			container_update(cap, cfg, i);
		if (target_find(cap, cfg, i, &idx) || idx == cfg->ifindex)
			idx = 0;
		if (idx == cap->tidx[i])
			continue;
		/* direction out or both: the filter moves to the new interface
		 * (a failure is logged; the copies into it go on) */
		if (target_sends(t)) {
			target_detach(cap, i);
			if (idx)
				target_attach(cap, cfg, i, idx);
		}
		if (target_write(cap, cfg, i, idx))
			continue;
		target_name(t, name, sizeof(name));
		if (!idx)
			pr_info("%s: the interface is gone: no copies until it is back\n", name);
		else if (target_follows(t))
			pr_info("%s: copying to %s (index %u) from now on\n", name,
				if_indextoname(idx, ifname) ? ifname : "?", idx);
		else
			pr_info("%s: the interface is back (index %u): copying to it again\n",
				name, idx);
	}
}

/* The maps of the instance's record, in MCTUN_IM_* order. */
static void record_fds(struct mctun_bpf *skel, int fds[MCTUN_IM_COUNT])
{
	fds[MCTUN_IM_STATS] = bpf_map__fd(skel->maps.mctun_stats);
	fds[MCTUN_IM_GSTATS] = bpf_map__fd(skel->maps.mctun_gstats);
	fds[MCTUN_IM_GROUPS] = bpf_map__fd(skel->maps.mctun_groups);
	fds[MCTUN_IM_INFO] = bpf_map__fd(skel->maps.mctun_info);
	fds[MCTUN_IM_DSTATS] = bpf_map__fd(skel->maps.mctun_dstats);
	fds[MCTUN_IM_PEERS] = bpf_map__fd(skel->maps.mctun_peers);
	fds[MCTUN_IM_RANGES] = bpf_map__fd(skel->maps.mctun_ranges);
	fds[MCTUN_IM_MEMBERS] = bpf_map__fd(skel->maps.mctun_members);
	fds[MCTUN_IM_WANTS] = bpf_map__fd(skel->maps.mctun_wants);
	fds[MCTUN_IM_TARGETS] = bpf_map__fd(skel->maps.mctun_targets);
	fds[MCTUN_IM_TSTATS] = bpf_map__fd(skel->maps.mctun_tstats);
	fds[MCTUN_IM_TGROUPS] = bpf_map__fd(skel->maps.mctun_tgroups);
}

unsigned int capture_bpf_target_ifindex(const struct capture_bpf *cap, unsigned int i)
{
	return i < MCTUN_MAX_TARGETS ? cap->tidx[i] : 0;
}

const char *capture_bpf_target_ifname(const struct capture_bpf *cap, const struct config *cfg,
				      unsigned int i)
{
	return target_follows(&cfg->targets[i]) ? cap->tname[i] : cfg->targets[i].ifname;
}

int capture_bpf_tgroups_fd(struct capture_bpf *cap)
{
	return bpf_map__fd(cap->skel->maps.mctun_tgroups);
}

int capture_bpf_localrx_fd(struct capture_bpf *cap)
{
	return bpf_map__fd(cap->skel->maps.mctun_localrx);
}

void capture_bpf_set_localrx_known(struct capture_bpf *cap, bool known)
{
	cap->skel->bss->localrx_known = known;
}

int capture_bpf_update_info(struct capture_bpf *cap, const struct config *cfg)
{
	return instance_set_flags(bpf_map__fd(cap->skel->maps.mctun_info), ~MCTUN_INFO_QDISC_OURS,
				  config_auth_flags(cfg));
}

/* Link-layer header length in front of IP, from the device type. */
static int link_info(const struct config *cfg, __u32 *l2, __u32 *mtu, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cfg->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		err = -errno;
		pr_warn("interface '%s': %s\n", cfg->ifname, strerror(-err));
		goto out;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		*l2 = 14;
		break;
	case ARPHRD_NONE:
	case ARPHRD_PPP:
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case 519: /* ARPHRD_RAWIP */
		*l2 = 0;
		break;
	default:
		pr_warn("interface '%s': link type %u is not supported in tc mode "
			"(use --mode socket)\n", cfg->ifname, ifr.ifr_hwaddr.sa_family);
		err = -EOPNOTSUPP;
		goto out;
	}
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		err = -errno;
		pr_warn("interface '%s': MTU: %s\n", cfg->ifname, strerror(-err));
		goto out;
	}
	*mtu = ifr.ifr_mtu;
out:
	close(fd);
	return err;
}

int capture_bpf_sync(struct capture_bpf *cap, const struct group_entry *a, unsigned int na,
		     __u32 kinds_a, const struct group_entry *b, unsigned int nb, __u32 kinds_b)
{
	int fds[] = { [GE_GROUPS] = bpf_map__fd(cap->skel->maps.mctun_groups),
		      [GE_RANGES] = bpf_map__fd(cap->skel->maps.mctun_ranges) };
	unsigned int i = 0, j = 0;
	int err = 0;

	/* lookups of the new kinds start with the entries they find */
	cap->skel->bss->range_kinds = kinds_a | kinds_b;
	/* A merge of the two sorted lists: delete, add or change. */
	while (!err && (i < na || j < nb)) {
		int r = i == na ? 1 : j == nb ? -1 :
			a[i].map != b[j].map ? (a[i].map > b[j].map) - (a[i].map < b[j].map) :
			memcmp(a[i].key, b[j].key, sizeof(a[i].key));

		if (r < 0) {
			if (bpf_map_delete_elem(fds[a[i].map], a[i].key) && errno != ENOENT)
				err = -errno;
			i++;
		} else if (r > 0 || memcmp(&a[i].v, &b[j].v, sizeof(b[j].v))) {
			if (bpf_map_update_elem(fds[b[j].map], b[j].key, &b[j].v, BPF_ANY))
				err = -errno;
			i += r == 0;
			j++;
		} else {
			i++;
			j++;
		}
	}
	if (!err)
		cap->skel->bss->range_kinds = kinds_b;
	else
		pr_warn("BPF maps mctun_groups, mctun_ranges: %s\n", strerror(-err));
	return err;
}

int capture_bpf_zero_gstats(struct capture_bpf *cap, uint32_t id)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	void *zero;

	if (ncpus < 0)
		return ncpus;
	zero = calloc(ncpus, sizeof(struct mctun_gstats));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(bpf_map__fd(cap->skel->maps.mctun_gstats), &id, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct capture_bpf *cap = ctx;
	const struct mctun_event *ev = data;
	struct data_hdr h = {};

	if (size < sizeof(*ev) || size - sizeof(*ev) < ev->len)
		return 0;
	/* an IGMP or MLD message is never a datagram: it never goes out */
	if (ev->group_id == MCTUN_GID_MEMBERSHIP) {
		if (cap->mship_fn)
			cap->mship_fn(cap->ctx, ev, (const uint8_t *)(ev + 1), ev->len);
		else
			cap->mship_dropped++;
		return 0;
	}
	/* group_id may be of a group a reload has removed since: it was
	 * captured while configured, and goes out */
	if (ev->group_id >= MCTUN_MAX_GROUPS)
		return 0;
	h.family = ev->family;
	h.ttl = ev->ttl;
	h.tos = ev->tos;
	h.dport = ntohs(ev->dport);
	h.sport = ntohs(ev->sport);
	memcpy(h.group, ev->dst, 16);
	memcpy(h.src, ev->src, 16);
	cap->fn(cap->ctx, &h, (const uint8_t *)(ev + 1), ev->len);
	return 0;
}

/* Native XDP where the driver has it, generic (skb) XDP otherwise. */
static int attach_xdp(struct capture_bpf *cap, const struct config *cfg)
{
	int fd = bpf_program__fd(cap->skel->progs.mctun_xdp);
	__u32 modes[] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	libbpf_print_fn_t old;
	unsigned int i;
	__u32 id = 0;
	int err = 0;

	if (!bpf_xdp_query_id(cfg->ifindex, 0, &id) && id) {
		pr_warn("attach xdp on %s: the interface already has an XDP program (id %u)\n",
			cfg->ifname, id);
		return -EBUSY;
	}
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		if (cfg->xdp_flags && cfg->xdp_flags != modes[i])
			continue;
		/* the native attempt may fail for want of driver support: quietly */
		bool quiet = !i && !cfg->xdp_flags;

		old = quiet ? libbpf_set_print(NULL) : NULL;
		err = bpf_xdp_attach(cfg->ifindex, fd, modes[i] | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (quiet)
			libbpf_set_print(old);
		if (!err) {
			cap->xdp_flags = modes[i];
			pr_info("xdp: attached to %s in %s mode\n", cfg->ifname,
				i ? "generic" : "native");
			return 0;
		}
	}
	pr_warn("attach xdp on %s: %s\n", cfg->ifname, strerror(-err));
	return err;
}

static int attach(struct capture_bpf *cap, const struct config *cfg)
{
	int fds[2] = { bpf_program__fd(cap->skel->progs.mctun_tc_in),
		       bpf_program__fd(cap->skel->progs.mctun_tc_out) };
	int err, i;

	cap->hook.sz = sizeof(cap->hook);
	cap->hook.ifindex = cfg->ifindex;
	cap->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	err = bpf_tc_hook_create(&cap->hook);
	if (!err)
		cap->qdisc_ours = true;
	else if (err != -EEXIST) {
		pr_warn("create clsact qdisc on %s: %s\n", cfg->ifname, strerror(-err));
		return err;
	}
	for (i = 0; i < 2; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = MCTUN_TC_HANDLE,
				    .priority = MCTUN_TC_PRIO, .prog_fd = fds[i]);

		cap->hook.attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		err = bpf_tc_attach(&cap->hook, &o);
		if (err) {
			pr_warn("attach tc %s on %s: %s\n", i ? "egress" : "ingress",
				cfg->ifname, strerror(-err));
			return err;
		}
		cap->attached[i] = true;
	}
	if (cfg->mode == MCTUN_MODE_XDP)
		return attach_xdp(cap, cfg);
	return 0;
}

/*
 * The capabilities the BPF side needs, checked up front so that a missing
 * one is named (the kernel only says EPERM): CAP_BPF (or CAP_SYS_ADMIN,
 * which implies it) for maps and programs, CAP_NET_ADMIN for programs of
 * TC and XDP type and for attaching them.
 */
static int check_caps(const struct config *cfg)
{
	unsigned long long caps = cap_effective();
	bool bpf = cap_has(caps, CAPN_BPF) || cap_has(caps, CAPN_SYS_ADMIN);
	bool net = cap_has(caps, CAPN_NET_ADMIN);

	if (bpf && net)
		return 0;
	pr_warn("load BPF object: %s: this process lacks %s%s%s (--mode %s needs CAP_BPF and "
		"CAP_NET_ADMIN; --mode socket works without)\n", strerror(EPERM),
		bpf ? "" : "CAP_BPF", !bpf && !net ? " and " : "", net ? "" : "CAP_NET_ADMIN",
		cfg->mode == MCTUN_MODE_XDP ? "xdp" : "tc");
	return -EPERM;
}

static int load_error(int err)
{
	if (err == -EPERM || err == -EACCES)
		pr_warn("load BPF object: %s (needs root, or CAP_BPF and CAP_NET_ADMIN; "
			"--mode socket works without)\n", strerror(-err));
	else
		pr_warn("load BPF object: %s (run with -vv for the verifier log)\n",
			strerror(-err));
	return err;
}

int capture_bpf_open(const struct config *cfg, bool learn, capture_fn fn,
		     capture_mship_fn mship_fn, void *ctx, struct capture_bpf **out)
{
	struct capture_bpf *cap;
	__u32 l2 = 14, mtu = 0;
	__u8 mac[6] = { 0 };
	int fds[MCTUN_IM_COUNT];
	unsigned int i;
	int err, pins;

	cap = calloc(1, sizeof(*cap));
	if (!cap)
		return -ENOMEM;
	cap->fn = fn;
	cap->mship_fn = mship_fn;
	cap->ctx = ctx;
	cap->learn = learn;
	cap->lock = -1;
	*out = cap;

	err = check_caps(cfg);
	if (err)
		return err;
	err = link_info(cfg, &l2, &mtu, mac);
	if (err)
		return err;
	/* a target's frames go onto the island as they are, from its MAC */
	for (i = 0; i < cfg->ntargets && l2 != 14; i++) {
		char name[TARGET_PATH_MAX + 16];

		if (!target_sends(&cfg->targets[i]))
			continue;
		pr_warn("%s direction %s: the island interface %s has no Ethernet header to "
			"send a target's frames with\n",
			target_name(&cfg->targets[i], name, sizeof(name)),
			cfg->targets[i].dir == TDIR_OUT ? "out" : "both", cfg->ifname);
		return -EINVAL;
	}
	pins = instance_bpffs();
	err = pin_dir_for(cfg->ifname, cap->pin_dir, sizeof(cap->pin_dir));
	if (err)
		return err;
	cap->lock = instance_lock(cfg->ifindex);
	if (cap->lock == -EBUSY) {
		__u32 pid = instance_holder(cfg->ifindex, cap->pin_dir);

		if (pid)
			pr_warn("%s: mctun (pid %u) already runs on this interface\n", cfg->ifname,
				pid);
		else
			pr_warn("%s: mctun already runs on this interface (in another mount or pid "
				"namespace)\n", cfg->ifname);
		return -EBUSY;
	}
	if (cap->lock < 0) {
		pr_warn("%s: lock the interface: %s\n", cfg->ifname, strerror(-cap->lock));
		return cap->lock;
	}
	instance_clear_stale(cfg->ifindex, cfg->ifname, cap->pin_dir);

	cap->skel = mctun_bpf__open();
	if (!cap->skel)
		return load_error(-errno);
	cap->skel->rodata->l2_len = l2;
	cap->skel->rodata->mtu = mtu;
	cap->skel->rodata->frag_mark = MCTUN_FRAG_MARK;
	cap->skel->rodata->self_mark = cfg->keep_source ? MCTUN_SELF_MARK : 0;
	cap->skel->rodata->xdp_mode = cfg->mode == MCTUN_MODE_XDP;
	cap->skel->rodata->learn = learn;
	cap->skel->rodata->ntargets = cfg->ntargets;
	cap->skel->rodata->island_ifindex = cfg->ifindex;
	memcpy((void *)cap->skel->rodata->island_mac, mac, sizeof(mac));
	if (cfg->mode != MCTUN_MODE_XDP)
		bpf_program__set_autoload(cap->skel->progs.mctun_xdp, false);
	bpf_map__set_max_entries(cap->skel->maps.mctun_ring, cfg->ring_bytes);
	cap->skel->rodata->ring_wake_bytes = cfg->ring_bytes / 4;
	err = mctun_bpf__load(cap->skel);
	if (err)
		return load_error(err);

	/* the groups come with the rest of the configuration: daemon_apply() */
	err = targets_open(cap, cfg);
	if (err)
		return err;
	record_fds(cap->skel, fds);
	/* pins only serve tools without CAP_SYS_ADMIN: none is no reason to stop */
	if (!pins) {
		pins = instance_pin(cap->pin_dir, fds);
		cap->pinned = !pins;
		if (pins)
			instance_unpin(cap->pin_dir);
	}
	if (pins)
		pr_warn("%s: no pins in %s (%s): mctun status and stats find this instance "
			"through the kernel's BPF objects (as root)\n", cfg->ifname, cap->pin_dir,
			strerror(-pins));
	/* info last: its presence says the instance is complete */
	err = attach(cap, cfg);
	if (err)
		return err;
	err = instance_write_info(fds, cfg->ifindex, cfg->ifname, cfg->mode,
				  (cap->qdisc_ours ? MCTUN_INFO_QDISC_OURS : 0) |
				  config_auth_flags(cfg));
	if (err)
		return err;

	cap->rb = ring_buffer__new(bpf_map__fd(cap->skel->maps.mctun_ring), on_event, cap, NULL);
	if (!cap->rb) {
		err = -errno;
		pr_warn("open ring buffer: %s\n", strerror(-err));
		return err;
	}
	pr_debug("tc: attached to %s ingress and egress%s, pins in %s\n", cfg->ifname,
		 cap->qdisc_ours ? " (created clsact)" : "", cap->pin_dir);
	return 0;
}

uint64_t capture_bpf_mship_dropped(const struct capture_bpf *cap)
{
	return cap->mship_dropped;
}

int capture_bpf_ring_fd(struct capture_bpf *cap)
{
	return ring_buffer__epoll_fd(cap->rb);
}

int capture_bpf_members_fd(struct capture_bpf *cap)
{
	return bpf_map__fd(cap->skel->maps.mctun_members);
}

int capture_bpf_wants_fd(struct capture_bpf *cap)
{
	return bpf_map__fd(cap->skel->maps.mctun_wants);
}

int capture_bpf_poll(struct capture_bpf *cap)
{
	return ring_buffer__consume(cap->rb);
}

void capture_bpf_set_quiet(struct capture_bpf *cap, bool quiet)
{
	__atomic_store_n(&cap->skel->bss->ring_quiet, quiet, __ATOMIC_SEQ_CST);
}

int capture_bpf_set_selfport(struct capture_bpf *cap, uint16_t port)
{
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(cap->skel->maps.mctun_selfport), &port, &one,
				BPF_ANY))
		return -errno;
	return 0;
}

void capture_bpf_log_stats(struct capture_bpf *cap, const struct config *cfg)
{
	struct mctun_stats s;
	struct mctun_gstats g;
	char line[1024];
	size_t len = 0;
	unsigned int i;

	if (stats_sum(bpf_map__fd(cap->skel->maps.mctun_stats), 0, &s, sizeof(s)))
		return;
	/* every counter, by the names bpftool prints */
	for (i = 0; i < n_bpf_fields; i++)
		len += snprintf(line + len, sizeof(line) - MIN(len, sizeof(line)), " %s %llu",
				bpf_fields[i].name, counter_get(&s, &bpf_fields[i]));
	pr_info("bpf:%s\n", line);
	if (cap->learn)
		pr_info("bpf: membership messages dropped, no handler: %llu\n",
			(unsigned long long)cap->mship_dropped);
	for (i = 0; i < cfg->ngroups; i++) {
		char name[GROUP_STRLEN];

		if (stats_sum(bpf_map__fd(cap->skel->maps.mctun_gstats), cfg->groups[i].id, &g,
			      sizeof(g)))
			continue;
		pr_info("bpf: group %s: packets %llu bytes %llu fragments %llu ring_full %llu\n",
			group_str(&cfg->groups[i].g, name, sizeof(name)), g.packets, g.bytes,
			g.fragments, g.ring_full);
	}
	for (i = 0; i < cfg->ntargets; i++) {
		struct mctun_tstats t;
		char from[96];

		if (stats_sum(bpf_map__fd(cap->skel->maps.mctun_tstats), i, &t, sizeof(t)))
			continue;
		/* direction out or both: what came from it too */
		if (target_sends(&cfg->targets[i]))
			snprintf(from, sizeof(from), " from_packets %llu from_bytes %llu "
				 "from_errors %llu", t.from_packets, t.from_bytes, t.from_errors);
		else
			from[0] = '\0';
		if (target_follows(&cfg->targets[i]))
			pr_info("bpf: target %s (%s %s): packets %llu bytes %llu errors %llu%s\n",
				cap->tname[i][0] ? cap->tname[i] : "?",
				cfg->targets[i].container[0] ? "container" : "netns",
				cfg->targets[i].container[0] ? cfg->targets[i].container :
				cfg->targets[i].netns, t.packets, t.bytes, t.errors, from);
		else
			pr_info("bpf: target %s: packets %llu bytes %llu errors %llu%s\n",
				cfg->targets[i].ifname, t.packets, t.bytes, t.errors, from);
	}
}

void capture_bpf_publish(struct capture_bpf *cap, const struct mctun_dstats *st,
			const struct mctun_peer_info *peers, unsigned int npeers)
{
	int pfd = bpf_map__fd(cap->skel->maps.mctun_peers);
	static const struct mctun_peer_info empty;
	__u32 i;

	i = 0;
	bpf_map_update_elem(bpf_map__fd(cap->skel->maps.mctun_dstats), &i, st, BPF_ANY);
	for (i = 0; i < npeers; i++)
		bpf_map_update_elem(pfd, &i, &peers[i], BPF_ANY);
	for (; i < cap->published; i++)
		bpf_map_update_elem(pfd, &i, &empty, BPF_ANY);
	cap->published = npeers;
}

void capture_bpf_fds(struct capture_bpf *cap, struct counters_fds *fds)
{
	fds->info = bpf_map__fd(cap->skel->maps.mctun_info);
	fds->stats = bpf_map__fd(cap->skel->maps.mctun_stats);
	fds->gstats = bpf_map__fd(cap->skel->maps.mctun_gstats);
	fds->groups = bpf_map__fd(cap->skel->maps.mctun_groups);
	fds->ranges = bpf_map__fd(cap->skel->maps.mctun_ranges);
	fds->dstats = -1;
	fds->peers = -1;
	fds->members = -1;
	fds->wants = -1;
	fds->targets = bpf_map__fd(cap->skel->maps.mctun_targets);
	fds->tstats = bpf_map__fd(cap->skel->maps.mctun_tstats);
	fds->tgroups = -1;      /* the metrics list no groups (status reads the map) */
}

void capture_bpf_close(struct capture_bpf *cap)
{
	char name[IF_NAMESIZE];
	int i;

	if (!cap)
		return;
	docker_watch_stop(cap->docker);
	ring_buffer__free(cap->rb);
	for (i = 0; i < (int)MCTUN_MAX_TARGETS; i++)
		target_detach(cap, i);
	/* A deleted interface took our filters, qdisc and XDP program along. */
	if (!if_indextoname(cap->hook.ifindex, name))
		cap->xdp_flags = cap->attached[0] = cap->attached[1] = cap->qdisc_ours = false;
	if (cap->xdp_flags) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, xo,
			    .old_prog_fd = bpf_program__fd(cap->skel->progs.mctun_xdp));

		if (bpf_xdp_detach(cap->hook.ifindex, cap->xdp_flags | XDP_FLAGS_REPLACE, &xo))
			pr_warn("detach xdp: %s\n", strerror(errno));
	}
	for (i = 0; i < 2; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = MCTUN_TC_HANDLE,
				    .priority = MCTUN_TC_PRIO);

		if (!cap->attached[i])
			continue;
		cap->hook.attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		if (bpf_tc_detach(&cap->hook, &o))
			pr_warn("detach tc %s: %s\n", i ? "egress" : "ingress", strerror(errno));
	}
	if (cap->qdisc_ours) {
		cap->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&cap->hook);
	}
	if (cap->pinned)
		instance_unpin(cap->pin_dir);
	mctun_bpf__destroy(cap->skel);
	/* last: a successor starts only once all of the above is gone */
	if (cap->lock >= 0)
		close(cap->lock);
	free(cap);
}
