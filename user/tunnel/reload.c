// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Applying a configuration to the daemon: at start, from nothing, and on
 * SIGHUP, from the running one. Only what differs is touched: a group kept
 * keeps its socket, its membership, its BPF entry and its counters; a peer
 * kept keeps its connection and its queue; a listener kept keeps its socket.
 *
 * Two phases. Prepare opens what the new configuration needs (the send
 * socket of a new address family, listeners, the all-multicast hold) and
 * zeroes new groups' counters; if any of it fails, what this call did is
 * undone and the daemon runs on as it was. Commit then closes what is no
 * longer wanted (peers, listeners) and cannot fail. What is captured and
 * joined (the BPF maps, the group sockets) follows the committed
 * configuration through interest.c, which keeps what stays.
 *
 * It runs between two passes of the event loop (never inside one), so no
 * pending event can point at a socket it frees.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "capture_bpf.h"
#include "capture_socket.h"
#include "daemon.h"
#include "groups.h"
#include "learn.h"
#include "tlearn.h"
#include "log.h"
#include "reload.h"
#include "metrics.h"
#include "mptcp.h"
#include "util.h"

#define NSEC 1000000000ull

struct plan {
	int *n2o;              /* per group of the new config: its index in the old, or -1 */
	int *o2n;              /* per group of the old config: its index in the new, or -1 */
	struct listener **ls;  /* per listen entry of the new config */
	bool *ls_new;          /* ... opened by this call */
	bool *ls_defer;        /* its port is held by a listener this call removes */
	struct gtable gt;
	int allmulti;          /* opened by this call for the ranges, -1 */
	bool need_allmulti;    /* the new config captures a range */
};

static void plan_free(struct plan *pl)
{
	free(pl->n2o);
	free(pl->o2n);
	free(pl->ls);
	free(pl->ls_new);
	free(pl->ls_defer);
	gtable_free(&pl->gt);
}

/* Room for one socket per group, plus peers, listeners and the rest. */
static void raise_nofile(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want = cfg->ngroups + 2 * cfg->max_peers + cfg->max_pending + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = MIN(want, rl.rlim_max);
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* The BPF program skips what a send socket sends: by its port. */
static int selfport(void *ctx, uint16_t port)
{
	struct capture_bpf *bpf = ctx;

	return bpf ? capture_bpf_set_selfport(bpf, port) : 0;
}

static int listen_socket(const struct endpoint *ep, bool mptcp, bool quiet)
{
	int fd, one = 1, err;

	fd = stream_socket(ep->ss.ss_family, mptcp);
	if (fd < 0) {
		pr_warn("listen %s: %s\n", ep->name, strerror(-fd));
		return fd;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&ep->ss, ep->sslen) < 0 || listen(fd, 128) < 0) {
		err = -errno;
		if (!quiet)
			pr_warn("listen %s: %s\n", ep->name, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static struct listener *listener_new(int fd, unsigned int slot)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->src.kind = SRC_LISTEN;
	l->src.fd = fd;
	l->slot = slot;
	return l;
}

/* The live listener for this endpoint of old, or -1. */
static int live_listener(const struct daemon *d, const struct config *old,
			 const struct endpoint *ep)
{
	unsigned int k;

	for (k = 0; old && k < d->nlisteners; k++)
		if (endpoint_same(&old->listen[d->listeners[k]->slot], ep))
			return k;
	return -1;
}

static bool listener_kept(const struct plan *pl, const struct config *cfg,
			  const struct listener *l)
{
	unsigned int j;

	for (j = 0; j < cfg->nlisten; j++)
		if (pl->ls[j] == l)
			return true;
	return false;
}

static int prepare(struct daemon *d, const struct config *old, struct config *cfg,
		   struct plan *pl)
{
	unsigned int i, j, nold = old ? old->ngroups : 0;
	bool removing_listener = false;
	int err, fi, k;

	pl->n2o = malloc((cfg->ngroups + 1) * sizeof(int));
	pl->o2n = malloc((nold + 1) * sizeof(int));
	pl->ls = calloc(cfg->nlisten + 1, sizeof(*pl->ls));
	pl->ls_new = calloc(cfg->nlisten + 1, sizeof(bool));
	pl->ls_defer = calloc(cfg->nlisten + 1, sizeof(bool));
	if (!pl->n2o || !pl->o2n || !pl->ls || !pl->ls_new || !pl->ls_defer)
		return -ENOMEM;
	err = groups_match(cfg, old, pl->n2o);
	if (!err && old)
		err = groups_match(old, cfg, pl->o2n);
	if (!err)
		err = groups_assign_ids(old, cfg, pl->n2o);
	if (!err)
		err = gtable_build(cfg, &pl->gt);
	if (err)
		return err;
	raise_nofile(cfg);

	/* Send sockets: one per address family in use. A new one stays even
	 * if what follows fails: it is harmless. */
	for (i = 0; i < cfg->ngroups; i++) {
		fi = cfg->groups[i].g.family == MCTUN_FAM_INET6;
		err = injector_open(&d->inj, cfg, fi, selfport, d->bpf);
		if (err)
			return err;
	}

	/* a range joins no group: the interface takes all multicast instead */
	for (i = 0; i < cfg->ngroups; i++)
		if (group_captures(&cfg->groups[i]) && group_is_range(&cfg->groups[i].g))
			pl->need_allmulti = true;

	/* Listeners. One whose port a removed listener holds opens after it
	 * has gone (commit): 0.0.0.0:7000 may become 198.18.0.1:7000. */
	for (j = 0; j < cfg->nlisten; j++) {
		k = live_listener(d, old, &cfg->listen[j]);
		if (k >= 0)
			pl->ls[j] = d->listeners[k];
	}
	for (k = 0; k < (int)d->nlisteners; k++)
		removing_listener |= !listener_kept(pl, cfg, d->listeners[k]);
	for (j = 0; j < cfg->nlisten; j++) {
		int fd;

		if (pl->ls[j])
			continue;
		fd = listen_socket(&cfg->listen[j], cfg->mptcp, removing_listener);
		if (fd == -EADDRINUSE && removing_listener) {
			pl->ls_defer[j] = true;
			continue;
		}
		if (fd < 0)
			return fd;
		pl->ls[j] = listener_new(fd, j);
		if (!pl->ls[j]) {
			close(fd);
			return -ENOMEM;
		}
		pl->ls_new[j] = true;
	}

	/* learning: reports go to groups the gateway did not join (IGMPv2)
	 * or to 224.0.0.22 / ff02::16, which a NIC may filter out too */
	if (cfg->membership == MEMBERSHIP_LEARN)
		pl->need_allmulti = true;
	if (pl->need_allmulti && d->allmulti < 0) {
		pl->allmulti = allmulti_open(cfg->ifindex, cfg->ifname);
		if (pl->allmulti < 0)
			return pl->allmulti;
	}

	/* new groups' counters start at zero (what is captured, and so
	 * joined, follows once the configuration is in: interest.c) */
	for (i = 0; d->bpf && i < cfg->ngroups; i++) {
		if (pl->n2o[i] >= 0)
			continue;
		err = capture_bpf_zero_gstats(d->bpf, cfg->groups[i].id);
		if (err)
			return err;
	}
	return 0;
}

/* Undo a prepare() that failed part-way. */
static void unprepare(const struct config *cfg, struct plan *pl)
{
	unsigned int i;

	if (pl->allmulti >= 0)
		close(pl->allmulti);
	for (i = 0; pl->ls && pl->ls_new && i < cfg->nlisten; i++) {
		if (!pl->ls_new[i] || !pl->ls[i])
			continue;
		close(pl->ls[i]->src.fd);
		free(pl->ls[i]);
	}
}

static void log_group(const struct cfg_group *gc, const char *what)
{
	static const char *const dir[] = { "both", "in", "out" };
	char name[GROUP_STRLEN], to[GROUP_STRLEN];

	pr_info("group %s: %s (direction %s%s%s)\n", group_str(&gc->g, name, sizeof(name)), what,
		dir[gc->dir], gc->to.family ? ", rewrite to " : "",
		gc->to.family ? group_str(&gc->to, to, sizeof(to)) : "");
}

static void commit_groups(struct daemon *d, const struct config *old, struct config *cfg,
			  struct plan *pl, bool quiet)
{
	unsigned int i;

	for (i = 0; old && i < old->ngroups; i++)
		if (pl->o2n[i] < 0 && !quiet)
			log_group(&old->groups[i], "removed");
	for (i = 0; i < cfg->ngroups; i++) {
		int o = pl->n2o[i];

		if (!quiet && o < 0)
			log_group(&cfg->groups[i], "added");
		else if (!quiet && (old->groups[o].dir != cfg->groups[i].dir ||
				    memcmp(&old->groups[o].to, &cfg->groups[i].to,
					   sizeof(cfg->groups[i].to))))
			log_group(&cfg->groups[i], "changed");
	}
	gtable_free(&d->gtab);
	d->gtab = pl->gt;
	memset(&pl->gt, 0, sizeof(pl->gt));
	if (pl->allmulti >= 0) {
		d->allmulti = pl->allmulti;
		pl->allmulti = -1;
	} else if (!pl->need_allmulti && d->allmulti >= 0) {
		close(d->allmulti);
		d->allmulti = -1;
	}
}

static void commit_listeners(struct daemon *d, const struct config *old, struct config *cfg,
			     struct plan *pl, bool quiet)
{
	struct listener **ls = calloc(cfg->nlisten + 1, sizeof(*ls));
	unsigned int i, j, n = 0;
	char why[ADDR_STRLEN + 64];

	for (i = 0; i < d->nlisteners; i++) {
		struct listener *l = d->listeners[i];

		if (listener_kept(pl, cfg, l))
			continue;
		snprintf(why, sizeof(why), "its listener %s was removed", old->listen[l->slot].name);
		for (j = 0; j < d->peers.n; j++)
			if (!d->peers.v[j]->outbound && d->peers.v[j]->lst == l)
				peer_end(&d->peers, d->peers.v[j], PE_REMOVED, why);
		if (!quiet)
			pr_info("listener %s: removed\n", old->listen[l->slot].name);
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, l->src.fd, NULL);
		close(l->src.fd);
		free(l);
	}
	for (j = 0; j < cfg->nlisten; j++) {
		if (pl->ls_defer[j]) {
			int fd = listen_socket(&cfg->listen[j], cfg->mptcp, false);

			if (fd >= 0) {
				pl->ls[j] = listener_new(fd, j);
				if (!pl->ls[j])
					close(fd);
				pl->ls_new[j] = true;
			}
		}
		if (!pl->ls[j]) {
			pr_warn("listener %s: not open (the next reload tries again)\n",
				cfg->listen[j].name);
			continue;
		}
		pl->ls[j]->slot = j;
		if (pl->ls_new[j]) {
			ep_set(d->epfd, &pl->ls[j]->src, EPOLLIN, EPOLL_CTL_ADD);
			if (!quiet)
				pr_info("listener %s: added\n", cfg->listen[j].name);
			if (!quiet)
				listener_warn_open(cfg, j);
		}
		if (ls)
			ls[n++] = pl->ls[j];
	}
	if (!ls) {
		/* no memory for the new array: the old one still has room
		 * for the kept listeners; new ones are closed */
		for (j = 0; j < cfg->nlisten; j++) {
			if (!pl->ls[j])
				continue;
			if (pl->ls_new[j]) {
				epoll_ctl(d->epfd, EPOLL_CTL_DEL, pl->ls[j]->src.fd, NULL);
				close(pl->ls[j]->src.fd);
				free(pl->ls[j]);
				continue;
			}
			d->listeners[n++] = pl->ls[j];
		}
		d->nlisteners = n;
		return;
	}
	free(d->listeners);
	d->listeners = ls;
	d->nlisteners = n;
}

static void commit_peers(struct daemon *d, const struct config *old, struct config *cfg,
			 bool quiet)
{
	bool matched[MAX_ENDPOINTS] = { false };
	unsigned int i, j, n = d->peers.n;

	/* at start (old NULL) there is no peer yet */
	for (i = 0; old && i < n; i++) {
		struct peer *p = d->peers.v[i];

		if (!p->outbound || p->dead)
			continue;
		for (j = 0; j < cfg->npeer; j++)
			if (!matched[j] && endpoint_same(&old->peer[p->slot], &cfg->peer[j]))
				break;
		if (j < cfg->npeer) {
			p->slot = j;
			matched[j] = true;
		} else {
			peer_end(&d->peers, p, PE_REMOVED, "removed from the configuration");
		}
	}
	for (j = 0; j < cfg->npeer; j++) {
		struct peer *p;

		if (matched[j])
			continue;
		p = peer_new(&d->peers, -1, true, cfg->peer[j].name);
		if (!p) {
			pr_warn("peer %s: out of memory (the next reload tries again)\n",
				cfg->peer[j].name);
			continue;
		}
		if (!quiet)
			pr_info("peer %s: added\n", cfg->peer[j].name);
		p->slot = j;
		p->state = PS_IDLE;
		p->backoff_ns = NSEC;
		p->t_retry = 0;          /* the next tick connects */
	}
}

/* --allow holds for connections already open too, not only new ones: a
 * range taken out of it by a reload closes the peers that came from it. */
static void drop_disallowed(struct daemon *d, const struct config *cfg)
{
	unsigned int i;

	for (i = 0; cfg->nallow && i < d->peers.n; i++) {
		struct peer *p = d->peers.v[i];

		if (!p->outbound && !p->dead &&
		    !cidr_match(cfg->allow, cfg->nallow, (const struct sockaddr *)&p->addr))
			peer_end(&d->peers, p, PE_REMOVED, "no longer in --allow");
	}
}

void listener_warn_open(const struct config *cfg, unsigned int j)
{
	if (cfg->insecure && !sockaddr_is_loopback((const struct sockaddr *)&cfg->listen[j].ss))
		pr_warn("--insecure: anyone who reaches %s can inject datagrams into %s%s\n",
			cfg->listen[j].name, cfg->ifname,
			cfg->nallow ? " (from within --allow)" : "");
}

int daemon_apply(struct daemon *d, const struct config *old, struct config *cfg)
{
	struct plan pl = { .allmulti = -1 };
	bool quiet = !old;
	int err;

	err = prepare(d, old, cfg, &pl);
	if (err) {
		unprepare(cfg, &pl);
		plan_free(&pl);
		return err;
	}
	commit_groups(d, old, cfg, &pl, quiet);
	if (old && d->learn && learn_set_config(d->learn, cfg))
		pr_warn("reload: membership learning keeps the old groups' policy (out of memory)\n");
	/* what receivers behind targets may join: the new groups */
	if (old && d->tl)
		tlearn_set_config(d, cfg);
	commit_listeners(d, old, cfg, &pl, quiet);
	commit_peers(d, old, cfg, quiet);
	if (old)
		drop_disallowed(d, cfg);
	if (old && old->ttl != cfg->ttl)
		injector_set_ttl(&d->inj, cfg->ttl);
	/* a listener added or removed may change INSECURE_PUBLIC */
	if (old && d->bpf && (err = capture_bpf_update_info(d->bpf, cfg)))
		pr_warn("info map: %s; mctun status may show an old listener's exposure\n",
			strerror(-err));
	log_level = LOG_LVL_INFO + cfg->verbose;
	d->cfg = cfg;
	d->peers.cfg = cfg;
	metrics_set_config(d->metrics, cfg);
	/* what is captured and joined: the new groups, or what of them is
	 * wanted (interest.c), at once */
	interest_config(d);
	interest_run(d, now_ns());
	plan_free(&pl);
	return 0;
}

void daemon_reload(struct daemon *d)
{
	struct config *old = d->cfg, *cfg;
	int err;

	err = config_load(old->argc, old->argv, &cfg);
	if (err) {
		pr_warn("reload refused: keeping the running configuration\n");
		return;
	}
	pr_info("reload: %s%s\n", cfg->path ? "read " : "no config file, only the command line",
		cfg->path ? cfg->path : "");
	cfg->ifindex = old->ifindex;
	if (config_fixed_changed(old, cfg)) {
		pr_warn("reload refused: keeping the running configuration\n");
		config_free(cfg);
		return;
	}
	/* TLS settings cannot change: the running context goes on, in cfg */
	cfg->tls = old->tls;
	old->tls = NULL;
	err = daemon_apply(d, old, cfg);
	if (err) {
		pr_warn("reload refused: %s; keeping the running configuration\n", strerror(-err));
		old->tls = cfg->tls;
		cfg->tls = NULL;
		config_free(cfg);
		return;
	}
	pr_info("reload: done: %u group%s, %u listener%s, %u peer%s\n", cfg->ngroups,
		cfg->ngroups == 1 ? "" : "s", cfg->nlisten, cfg->nlisten == 1 ? "" : "s",
		cfg->npeer, cfg->npeer == 1 ? "" : "s");
	config_free(old);
}
