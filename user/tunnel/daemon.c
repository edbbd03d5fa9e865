// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The event loop: one thread, one epoll set, nothing that blocks. Set-up,
 * dispatch of events to the modules that own their sources, the timer
 * tick, signals, and teardown.
 *
 * Captured datagrams (ring or socket) are framed once and queued to every
 * connected peer; frames from a peer are re-injected on the island and
 * queued to every other peer (forward.c). Queues are bounded and what does
 * not fit is dropped and counted per peer, so one slow peer never holds up
 * another. Output is flushed at the end of each pass over the ready events,
 * which coalesces the frames of a burst into few writes without delaying
 * any.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "config.h"
#include "capture_bpf.h"
#include "capture_socket.h"
#include "daemon.h"
#include "forward.h"
#include "learn.h"
#include "tlearn.h"
#include "groups.h"
#include "inject.h"
#include "instances.h"
#include "log.h"
#include "reload.h"
#include "metrics.h"
#include "counters.h"
#include "util.h"

#define TICK_NS       (200 * 1000000ull)
#define MAX_EVENTS    64
#define NSEC          1000000000ull

/* ---- housekeeping, signals, stats -------------------------------------- */

static void publish(struct daemon *d);

/*
 * The island interface going down and up is survived: the filters and the
 * memberships stay. Deleted (or renamed: its index now names another) it
 * takes our filters and joins with it, so the daemon exits with a clear
 * message and a failure status, for the service manager to restart it.
 */
/*
 * The same struct `mctun stats` reads from the pins: in tc and xdp mode
 * the BPF maps (info, counters, groups) through the daemon's own fds; the
 * daemon's counters and peer table from memory, built by the code that
 * publishes them.
 */
static void fill_counters(void *ctx, struct counters *c, struct mctun_peer_info *peers)
{
	struct daemon *d = ctx;
	const struct config *cfg = d->cfg;
	unsigned int i;

	snprintf(c->ifname, sizeof(c->ifname), "%s", cfg->ifname);
	if (d->bpf) {
		struct counters_fds fds;

		capture_bpf_fds(d->bpf, &fds);
		counters_read_fds(c, &fds);
	} else {
		c->have_info = true;
		c->info.pid = getpid();
		c->info.ifindex = cfg->ifindex;
		c->info.mode = cfg->mode;
		c->info.flags = config_auth_flags(cfg);
		c->info.start_ns = realtime_ns() - (now_ns() - d->t_start);
		c->groups = calloc(cfg->ngroups, sizeof(*c->groups));
		for (i = 0; c->groups && i < cfg->ngroups; i++) {
			c->groups[i].g = cfg->groups[i].g;
			c->groups[i].id = cfg->groups[i].id;
			c->groups[i].flags = groups_dir_flags(&cfg->groups[i]);
		}
		c->ngroups = c->groups ? cfg->ngroups : 0;
	}
	c->npeers = peers_table(&d->peers, peers, MCTUN_PINNED_PEERS);
	c->peers = peers;
	c->ds = d->st;
	c->have_dstats = true;
}

static void check_iface(struct daemon *d)
{
	char name[IF_NAMESIZE];

	if (if_indextoname(d->cfg->ifindex, name) && !strcmp(name, d->cfg->ifname)) {
		injector_mtu_load(&d->inj, d->cfg->ifname);
		return;
	}
	pr_warn("interface '%s' (index %u) was deleted or renamed: exiting\n", d->cfg->ifname,
		d->cfg->ifindex);
	d->exit_err = -ENODEV;
	d->stop = true;
}

/* Which groups local applications joined on the island, for the BPF
 * program and re-injection. What is queued goes out first, as it was
 * judged. */
static void localrx_tick(struct daemon *d)
{
	injector_flush(&d->inj);
	localrx_refresh(&d->rx, d->cfg->ifindex, d->bpf ? capture_bpf_localrx_fd(d->bpf) : -1);
	if (d->bpf)
		capture_bpf_set_localrx_known(d->bpf, d->rx.known);
}

/* ---- reading the ring (--coalesce) -------------------------------------- */

/* Above this many records per period, read on the timer; at or below
 * RING_IDLE_MAX for RING_IDLE_PERIODS in a row, back to wake-ups. */
#define RING_QUIET_MIN    2
#define RING_IDLE_MAX     1
#define RING_IDLE_PERIODS 4

static void ring_read(struct daemon *d)
{
	int n = capture_bpf_poll(d->bpf);

	if (n < 0)
		pr_debug("ring: consume failed: %s\n", strerror(-n));
	else
		d->rp.n += (unsigned int)n;
}

/*
 * After each pass of the loop. NOTIFY: each record wakes us (the kernel
 * wakes only when we have read everything before it, so at most once per
 * read); over a window of at least one period, more than RING_QUIET_MIN
 * records per period switch the BPF program to submitting without a
 * wake-up, and we read on the timer. QUIET: a read every period; after
 * RING_IDLE_PERIODS near-empty ones (or --coalesce 0 on reload), wake-ups
 * again: the flag is cleared, the ring read at once, and once more a
 * period later (SETTLE) for a record a CPU submitted silently around the
 * switch, which would otherwise silence every record after it (the kernel
 * wakes only for a record at the read position).
 */
static void ring_pace(struct daemon *d, uint64_t now)
{
	struct ring_pace *r = &d->rp;
	uint64_t p = (uint64_t)(d->cfg->coalesce_s * NSEC);

	switch (r->state) {
	case RING_NOTIFY:
		if (!p || now - r->t0 < p) {
			if (!p)
				r->t0 = now, r->n = 0;
			return;
		}
		if (r->n * p > RING_QUIET_MIN * (now - r->t0)) {
			capture_bpf_set_quiet(d->bpf, true);
			d->st.ring_coalesced++;
			r->state = RING_QUIET;
			r->period = p;
			r->next = now + p;
			r->idle = 0;
		}
		r->t0 = now;
		r->n = 0;
		return;
	case RING_QUIET:
		if (now < r->next)
			return;
		ring_read(d);
		d->st.ring_drains++;
		r->idle = r->n <= RING_IDLE_MAX ? r->idle + 1 : 0;
		r->n = 0;
		r->period = p ? p : r->period;
		r->next = now + r->period;
		if (p && r->idle < RING_IDLE_PERIODS)
			return;
		capture_bpf_set_quiet(d->bpf, false);
		ring_read(d);
		r->state = RING_SETTLE;
		return;
	case RING_SETTLE:
		if (now < r->next)
			return;
		ring_read(d);
		d->st.ring_drains++;
		r->state = RING_NOTIFY;
		r->next = UINT64_MAX;
		r->t0 = now;
		r->n = 0;
		return;
	}
}

static void tick(struct daemon *d, uint64_t now)
{
	check_iface(d);
	localrx_tick(d);
	/* a record no wake-up announced (see ring_pace()) waits a tick at most */
	if (d->bpf && d->rp.state == RING_NOTIFY)
		ring_read(d);
	if (d->bpf && d->cfg->ntargets) {
		capture_bpf_targets_refresh(d->bpf, d->cfg);
		tlearn_tick(d, now);
	}
	if (d->learn) {
		learn_tick(d->learn, now);
		learn_publish(d->learn, capture_bpf_members_fd(d->bpf), now);
	}
	interest_publish(d, d->bpf ? capture_bpf_wants_fd(d->bpf) : -1, now);
	peers_tick(&d->peers, now);
	metrics_tick(d->metrics, now);
	publish(d);
}

/* Refresh the pinned counters `mctun status` and `mctun stats` read. */
static void publish(struct daemon *d)
{
	static struct mctun_peer_info pi[MCTUN_PINNED_PEERS];
	unsigned int n = peers_table(&d->peers, pi, MCTUN_PINNED_PEERS);

	if (d->bpf)
		capture_bpf_publish(d->bpf, &d->st, pi, n);
}

static void log_stats(struct daemon *d)
{
	const struct mctun_dstats *s = &d->st;
	unsigned int up = peers_up(&d->peers);

	if (d->bpf)
		capture_bpf_log_stats(d->bpf, d->cfg);
	pr_info("daemon: node %016llx, %u peers up; captured %llu (ring %llu, socket %llu, "
		"own skipped %llu); injected %llu (errors %llu, rewritten %llu); dropped: loop %llu "
		"dup %llu hops %llu unknown-group %llu direction-out %llu framing %llu; "
		"bad frames %llu; refused %llu (not allowed %llu, over max-pending %llu, plain "
		"text %llu, timed out %llu); auth failed %llu; resume: replayed %llu gap %llu "
		"overflow %llu lies %llu; ring: wake-ups %llu timer reads %llu switches to timer "
		"%llu\n",
		(unsigned long long)d->node_id, up, s->cap_ring + s->cap_sock, s->cap_ring,
		s->cap_sock, s->cap_self, s->injected, s->inject_errors, s->rewritten, s->drop_loop,
		s->drop_dup, s->drop_hops, s->drop_group, s->drop_direction, s->framing_drops,
		s->bad_frames, s->refused, s->refused_allow, s->refused_pending, s->refused_plain,
		s->refused_timeout, s->refused_auth, s->resume_replayed, s->resume_gap,
		s->resume_overflow, s->resume_refused, s->ring_wakeups, s->ring_drains,
		s->ring_coalesced);
	peers_log(&d->peers);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			log_stats(d);
		else if (si.ssi_signo == SIGHUP)
			d->reload = true;
		else
			d->stop = true;
	}
}

/* ---- set-up and the loop ----------------------------------------------- */

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	d->sig.kind = SRC_SIGNAL;
	d->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig.fd < 0)
		return -errno;
	ep_set(d->epfd, &d->sig, EPOLLIN, EPOLL_CTL_ADD);
	return 0;
}

static int setup_timer(struct daemon *d)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = TICK_NS },
		.it_value = { .tv_nsec = TICK_NS },
	};

	d->timer.kind = SRC_TIMER;
	d->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->timer.fd < 0 || timerfd_settime(d->timer.fd, 0, &its, NULL) < 0)
		return -errno;
	ep_set(d->epfd, &d->timer, EPOLLIN, EPOLL_CTL_ADD);
	return 0;
}

/* What the island's receivers want changed: so does what we announce. */
static void on_learned(void *ctx, uint8_t family, const uint8_t group[16])
{
	(void)family;
	(void)group;
	interest_learned(ctx);
}

/* An IGMP/MLD message from the island, handed over by the BPF program. */
static void on_membership(void *ctx, const struct mctun_event *ev, const uint8_t *msg,
			  uint32_t len)
{
	struct daemon *d = ctx;

	learn_event(d->learn, ev, msg, len);
}

static int setup(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	int err = 0, i;

	/* never 0 (no node has it); drawing 0 twice is as good as impossible */
	for (i = 0; i < 2 && !d->node_id; i++) {
		err = random_bytes(&d->node_id, sizeof(d->node_id));
		if (err)
			return err;
	}
	if (!d->node_id)
		return -EIO;
	d->seen = calloc(1, sizeof(*d->seen));
	if (!d->seen)
		return -ENOMEM;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	peers_init(&d->peers, d->cfg, d->epfd, d->node_id, &d->st, &forward_peer_ops, d);
	err = setup_signals(d);
	if (!err)
		err = setup_timer(d);
	if (!err)
		err = local_addrs_load(&d->local);
	if (err)
		return err;

	if (cfg->mode != MCTUN_MODE_SOCKET) {
		struct src *ring = calloc(1, sizeof(*ring));

		if (!ring)
			return -ENOMEM;
		bool learn = cfg->membership == MEMBERSHIP_LEARN;

		if (learn) {
			d->learn = malloc(sizeof(*d->learn));
			if (!d->learn)
				return -ENOMEM;
			err = learn_open(d->learn, cfg, &d->st, now_ns());
			if (err)
				return err;
		}
		err = capture_bpf_open(d->cfg, learn, forward_from_ring,
				       learn ? on_membership : NULL, d, &d->bpf);
		if (err) {
			free(ring);
			return err;
		}
		ring->kind = SRC_RING;
		ring->fd = capture_bpf_ring_fd(d->bpf);
		/* edge-triggered: ready only on the ring's own wake-ups, which
		 * come after we read it all (ring_pace()), never again for data
		 * that a silent submit left there */
		ep_set(d->epfd, ring, EPOLLIN | EPOLLET, EPOLL_CTL_ADD);
		d->ring_src = ring;
	}
	if (d->bpf && cfg->ntargets && (err = tlearn_open(d)))
		return err;
	/* how mctun status finds us in any mode (socket mode has no maps) */
	instance_announce(cfg->mode, cfg->ifindex, cfg->ifname);
	err = interest_open(d, now_ns());
	if (err)
		return err;
	if (d->learn) {
		d->learn->changed = on_learned;
		d->learn->ctx = d;
	}
	/* groups, sockets, listeners and peers: as a reload from nothing */
	err = daemon_apply(d, NULL, d->cfg);
	if (err)
		return err;
	return metrics_open(d->cfg, d->epfd, &d->st, fill_counters, d, &d->metrics);
}

static void teardown(struct daemon *d)
{
	unsigned int i;

	peers_free(&d->peers);
	metrics_close(d->metrics);
	tlearn_close(d);
	interest_close(d);
	if (d->allmulti >= 0)
		close(d->allmulti);
	for (i = 0; i < d->nlisteners; i++) {
		close(d->listeners[i]->src.fd);
		free(d->listeners[i]);
	}
	free(d->listeners);
	injector_close(&d->inj);
	localrx_free(&d->rx);
	capture_bpf_close(d->bpf);
	if (d->learn) {
		learn_close(d->learn);
		free(d->learn);
	}
	free(d->ring_src);
	if (d->sig.fd >= 0)
		close(d->sig.fd);
	if (d->timer.fd >= 0)
		close(d->timer.fd);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d->seen);
	gtable_free(&d->gtab);
}

static void dispatch(struct daemon *d, struct epoll_event *ev, uint64_t now)
{
	struct src *s = ev->data.ptr;
	struct gsock *g;
	uint64_t ticks;

	switch (s->kind) {
	case SRC_SIGNAL:
		on_signal(d);
		break;
	case SRC_TIMER:
		if (read(s->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
			pr_debug("timerfd: %s\n", strerror(errno));
		tick(d, now);
		break;
	case SRC_RING:
		d->st.ring_wakeups++;
		ring_read(d);
		break;
	case SRC_LISTEN:
		peers_accept(&d->peers, (struct listener *)s, now);
		break;
	case SRC_GROUP:
		g = (struct gsock *)s;
		capture_socket_read(s->fd, &g->g, &d->local, d->inj.port, &d->st.cap_self,
				    forward_from_socket, d);
		break;
	case SRC_METRICS:
		metrics_event(d->metrics, s, ev->events, now);
		break;
	case SRC_TLEARN:
		tlearn_read(d, (struct tslot *)s);
		break;
	case SRC_PEER:
		peer_event(&d->peers, (struct peer *)s, ev->events, now);
		break;
	}
}

/* epoll_wait, for at most wait_ns when that is not 0 (to the nanosecond
 * where the kernel has epoll_pwait2, Linux 5.11; else to the millisecond).
 * With --busy-poll it first asks epoll without sleeping, until busy_poll_s
 * after the last datagram moved (timers and keepalives do not count): a
 * datagram in that window finds the loop running, where waking a sleeping
 * thread, and the idle CPU it would run on, can cost more than the tunnel.
 * Each empty poll yields: on a shared core the sender or receiver next to
 * us runs first, and we stay runnable, never asleep. */
static int wait_events(struct daemon *d, struct epoll_event *evs, uint64_t wait_ns)
{
	uint64_t spin_ns = (uint64_t)(d->cfg->busy_poll_s * NSEC);
	struct timespec ts;
	int n;

	if (spin_ns) {
		uint64_t now = now_ns(), end = wait_ns ? now + wait_ns : UINT64_MAX;

		while (now < d->t_event + spin_ns && now < end) {
			n = epoll_wait(d->epfd, evs, MAX_EVENTS, 0);
			if (n)
				return n;
			sched_yield();
			now = now_ns();
		}
		if (now >= end)
			return 0;
		if (wait_ns)
			wait_ns = end - now;
	}
	ts.tv_sec = (time_t)(wait_ns / NSEC);
	ts.tv_nsec = (long)(wait_ns % NSEC);
	if (!wait_ns)
		return epoll_wait(d->epfd, evs, MAX_EVENTS, -1);
	if (!d->no_pwait2) {
		n = epoll_pwait2(d->epfd, evs, MAX_EVENTS, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		d->no_pwait2 = true;
	}
	return epoll_wait(d->epfd, evs, MAX_EVENTS, (int)((wait_ns + 999999) / 1000000));
}

int daemon_run(struct config *cfg)
{
	struct daemon d = {
		.cfg = cfg, .epfd = -1, .sig.fd = -1, .timer.fd = -1, .allmulti = -1,
		.rp.next = UINT64_MAX,
	};
	struct epoll_event evs[MAX_EVENTS];
	char allow_str[256] = "";
	char to_str[16 + MCTUN_MAX_TARGETS * (TARGET_PATH_MAX + 36)] = "";
	unsigned int i;
	int err, n;

	injector_init(&d.inj, &d.st);
	d.inj.rx = &d.rx;
	d.t_start = now_ns();
	for (i = 0; i < cfg->nallow; i++) {
		char a[ADDR_STRLEN];
		size_t l = strlen(allow_str);

		snprintf(allow_str + l, sizeof(allow_str) - l, "%s%s/%u", i ? ", " : "",
			 addr_str(cfg->allow[i].family, cfg->allow[i].addr, a, sizeof(a)),
			 cfg->allow[i].plen);
	}
	for (i = 0; i < cfg->ntargets; i++) {
		size_t l = strlen(to_str);

		const struct cfg_target *t = &cfg->targets[i];

		snprintf(to_str + l, sizeof(to_str) - l, "%s%s%s%s", i ? ", " : "; copies to ",
			 t->container[0] ? "container " : t->netns[0] ? "netns " : "",
			 t->container[0] ? t->container : t->netns[0] ? t->netns : t->ifname,
			 t->dir == TDIR_BOTH ? " (direction both)" :
			 t->dir == TDIR_OUT ? " (direction out)" : "");
	}
	err = setup(&d);
	if (err)
		goto out;
	pr_info("running on %s (%s mode), node %016llx, %u group%s, %u listener%s, %u peer%s%s%s%s; "
		"%s%s%s%s%s\n",
		cfg->ifname, cfg->mode == MCTUN_MODE_TC ? "tc" :
		cfg->mode == MCTUN_MODE_XDP ? "xdp" : "socket",
		(unsigned long long)d.node_id, cfg->ngroups, cfg->ngroups == 1 ? "" : "s",
		cfg->nlisten, cfg->nlisten == 1 ? "" : "s", cfg->npeer, cfg->npeer == 1 ? "" : "s",
		cfg->mptcp ? " over mptcp" : "", cfg->path ? ", config " : "", cfg->path ? cfg->path : "",
		cfg->tls ? "peers authenticate with " : cfg->insecure ?
		"tunnel is unauthenticated and unencrypted (--insecure)" :
		"no tunnel (local targets only)",
		cfg->tls ? tls_ctx_describe(cfg->tls) : "",
		cfg->nallow ? "; inbound only from --allow " : "", allow_str, to_str);
	for (i = 0; i < cfg->nlisten; i++)
		listener_warn_open(cfg, i);
	d.now = now_ns();
	tick(&d, d.now);   /* connect out right away */

	while (!d.stop) {
		uint64_t now, wait_ns = peers_flush(&d.peers), due;
		bool more;

		peers_reap(&d.peers);
		/* what this pass's events changed; subscriptions' timers */
		now = now_ns();
		interest_run(&d, now);
		due = MIN(MIN(d.in.next, d.in.cs.next), d.rp.next);
		if (due != UINT64_MAX)
			wait_ns = due <= now ? 1 : MIN(wait_ns ? wait_ns : UINT64_MAX, due - now);
		more = d.cfg->tls && peers_rx_more(&d.peers);
		/* TLS input waits in OpenSSL: look at events, then read on */
		n = more ? epoll_wait(d.epfd, evs, MAX_EVENTS, 0) : wait_events(&d, evs, wait_ns);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_warn("epoll_wait: %s\n", strerror(-err));
			break;
		}
		d.now = now = now_ns();
		for (i = 0; i < (unsigned int)n && !d.stop; i++)
			dispatch(&d, &evs[i], now);
		if (d.bpf && !d.stop)
			ring_pace(&d, now);
		if (d.moved) {
			d.moved = false;
			d.t_event = now;
		}
		if (d.cfg->tls && !d.stop)
			peers_read_more(&d.peers, now);
		injector_flush(&d.inj);
		/* here, where no event of this pass points at what it frees */
		if (d.reload && !d.stop) {
			d.reload = false;
			daemon_reload(&d);
		}
	}
	log_stats(&d);
	if (!err)
		err = d.exit_err;
out:
	teardown(&d);
	config_free(d.cfg);
	return err;
}
