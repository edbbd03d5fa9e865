// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mctun stats: every counter of one running instance, read from the maps
 * it pins (the daemon is not asked), as tables, JSON or the Prometheus
 * text format that `mctun run --metrics` serves.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "counters.h"
#include "instances.h"
#include "log.h"
#include "render.h"
#include "util.h"

enum stats_format { FMT_TABLE, FMT_JSON, FMT_PROMETHEUS };

struct stats_opts {
	const char *iface;
	const char *pin_dir;
	enum stats_format fmt;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: mctun stats [-i IF | --pin-dir DIR] [--json | --prometheus]\n"
"\n"
"Print every counter of a running mctun: the BPF program's, per group, per\n"
"local target (--to), the daemon's and per peer. The instance is found\n"
"through the kernel's BPF maps, however it was started (nsenter, ip netns\n"
"exec, a container, systemd); without CAP_SYS_ADMIN, through the maps it\n"
"pins under %s (CAP_BPF needed). The daemon refreshes its own\n"
"every 200 ms. Without -i, the only instance of this network namespace.\n"
"\n"
"Options:\n"
"  -i, --iface IF     the instance on this interface (this network namespace)\n"
"  -d, --pin-dir DIR  the instance pinned in DIR, from any namespace\n"
"                     (mctun status --all lists them); found through the\n"
"                     kernel when nothing is pinned there (a container)\n"
"  -j, --json         one JSON object (the same as one of mctun status --json's\n"
"                     instances)\n"
"  -p, --prometheus   the Prometheus text format, as `mctun run --metrics`\n"
"                     serves it\n"
"  -h, --help         this text\n"
"\n"
"Prometheus families (each sample also has iface=\"IF\"):\n"
"  mctun_info{mode,node_id,auth}, mctun_start_time_seconds,\n"
"  mctun_bpf_seen_packets_total, mctun_bpf_multicast_packets_total,\n"
"  mctun_bpf_matched_packets_total{direction=ingress|egress},\n"
"  mctun_bpf_pushed_packets_total, mctun_bpf_pushed_bytes_total,\n"
"  mctun_bpf_fragments_total,\n"
"  mctun_bpf_skipped_packets_total{reason=self|loopback|direction_in|\n"
"  not_wanted},\n"
"  mctun_bpf_membership_messages_total{protocol=igmp|mld},\n"
"  mctun_bpf_dropped_packets_total{reason=ring_full|too_big|malformed|\n"
"  range_fragment},\n"
"  mctun_group_{packets,bytes,fragments}_total{group},\n"
"  mctun_group_dropped_packets_total{group,reason=ring_full},\n"
"  mctun_target_{packets,bytes,errors}_total{target},\n"
"  mctun_target_from_{packets,bytes,errors}_total{target} (direction out, both),\n"
"  mctun_captured_datagrams_total{source=ring|socket},\n"
"  mctun_capture_skipped_datagrams_total, mctun_injected_datagrams_total,\n"
"  mctun_rewritten_datagrams_total, mctun_inject_errors_total,\n"
"  mctun_dropped_frames_total{reason=loop|duplicate|max_hops|unknown_group|\n"
"  queue_full|framing|direction_out|not_wanted}, mctun_bad_frames_total,\n"
"  mctun_refused_connections_total, mctun_peers_up,\n"
"  mctun_refused_connections_by_reason_total{reason=not_allowed|max_pending|\n"
"  plain_text|timeout}, mctun_auth_failures_total,\n"
"  mctun_membership_groups, mctun_membership_messages_total{kind=report|\n"
"  leave|query|bad}, mctun_membership_refused_groups_total,\n"
"  mctun_queries_sent_total, mctun_query_errors_total,\n"
"  mctun_querier{family=ipv4|ipv6},\n"
"  mctun_metrics_requests_total{result=ok|error},\n"
"  mctun_metrics_refused_connections_total, mctun_metrics_timeouts_total,\n"
"  mctun_peer_up{peer,connection}, mctun_peer_frames_total{peer,connection,\n"
"  direction=in|out}, mctun_peer_bytes_total{...,direction},\n"
"  mctun_peer_dropped_frames_total, mctun_peer_queued_bytes,\n"
"  mctun_peer_up_since_seconds.\n"
"\n"
"Exit status: 0; 1 when no instance runs or its maps cannot be read; 2 for\n"
"a bad option or when several instances run and -i does not choose one.\n"
"Socket-mode instances pin no maps: use their --metrics.\n"
"\n"
"EXAMPLES\n"
"  mctun stats\n"
"  mctun stats -i eth1 --json\n"
"  mctun stats --prometheus > /var/lib/node_exporter/textfile/mctun.prom\n",
		PIN_ROOT);
}

static int stats_parse(int argc, char **argv, struct stats_opts *o)
{
	static const struct option longopts[] = {
		{ "iface",      required_argument, NULL, 'i' },
		{ "pin-dir",    required_argument, NULL, 'd' },
		{ "json",       no_argument,       NULL, 'j' },
		{ "prometheus", no_argument,       NULL, 'p' },
		{ "help",       no_argument,       NULL, 'h' },
		{}
	};
	bool json = false, prom = false;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:d:jph", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->iface = optarg;
			break;
		case 'd':
			o->pin_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			prom = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			return opt_error("stats", c, argv);
		}
	}
	if (optind != argc) {
		pr_warn("stats: unexpected argument '%s' (see mctun stats --help)\n",
			argv[optind]);
		return -EINVAL;
	}
	if (json && prom) {
		pr_warn("stats: --json and --prometheus exclude each other\n");
		return -EINVAL;
	}
	if (o->iface && o->pin_dir) {
		pr_warn("stats: -i and --pin-dir exclude each other\n");
		return -EINVAL;
	}
	o->fmt = json ? FMT_JSON : prom ? FMT_PROMETHEUS : FMT_TABLE;
	if (o->iface) {
		unsigned int ifindex;

		if (iface_index(o->iface, &ifindex))
			return -EINVAL;
	}
	return 0;
}

static bool alive(struct counters *c)
{
	counters_locate(c);
	return c->alive;
}

static int read_error(const struct counters *c)
{
	int err = c->err ? c->err : -ENOENT;

	if (err == -EPROTO)
		pr_warn("stats: %s: pinned by another version of mctun (map layout differs)\n",
			c->dir);
	else if (err == -EACCES || err == -EPERM)
		pr_warn("stats: reading the maps in %s needs root (CAP_BPF): %s\n", c->dir,
			strerror(-err));
	else
		pr_warn("stats: reading the maps in %s: %s\n", c->dir, strerror(-err));
	return err;
}

/*
 * The instance that status names DIR, found through the kernel's maps:
 * one in a container pins in a bpffs of its own, or nowhere, which we do
 * not see. Its maps' ids in out when found, else out is left to the pins.
 */
static void by_kernel(struct counters *out)
{
	struct counters_list l = {};
	unsigned int i;

	counters_scan(true, NULL, 0, &l);
	for (i = 0; !l.by_pins && i < l.n; i++) {
		if (strcmp(l.v[i].dir, out->dir))
			continue;
		memcpy(out->map_ids, l.v[i].map_ids, sizeof(out->map_ids));
		/* a live one before one a killed instance left there */
		counters_read(&l.v[i]);
		if (alive(&l.v[i]))
			break;
	}
	counters_list_free(&l);
}

/* --pin-dir DIR: that instance, wherever it runs. */
static int from_dir(const char *dir, struct counters *out)
{
	const char *slash, *ns;
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len >= sizeof(out->dir)) {
		pr_warn("stats: --pin-dir: '%s' is too long\n", dir);
		return -EINVAL;
	}
	memcpy(out->dir, dir, len);
	out->dir[len] = '\0';
	slash = strrchr(out->dir, '/');
	snprintf(out->ifname, sizeof(out->ifname), "%.*s", (int)sizeof(out->ifname) - 1,
		 slash ? slash + 1 : out->dir);
	ns = strstr(out->dir, "/netns");
	out->netns = ns ? strtoul(ns + 6, NULL, 10) : 0;
	by_kernel(out);
	counters_read(out);
	if (!out->have_info)
		return read_error(out);
	if (!alive(out)) {
		pr_warn("stats: %s: its daemon (pid %u) is gone: stale pins\n", out->dir,
			out->info.pid);
		return -ESRCH;
	}
	return 0;
}

/* -i IF or the only instance of our namespace. */
static int choose(const struct stats_opts *o, struct counters *out)
{
	struct counters_list l = {};
	unsigned int i, n = 0, pick = 0, stale = 0;
	char names[256] = "";
	size_t used = 0;
	int err = 0;

	counters_scan(false, o->iface, counters_own_netns(), &l);
	if (l.err) {
		pr_warn("stats: reading %s: %s\n", PIN_ROOT, strerror(-l.err));
		err = l.err;
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		counters_read(&l.v[i]);
		if (!l.v[i].have_info) {
			/* the one asked for, unreadable: say why */
			if (o->iface || l.n == 1) {
				err = read_error(&l.v[i]);
				goto out;
			}
			continue;
		}
		if (!alive(&l.v[i])) {
			stale++;
			continue;
		}
		if (used < sizeof(names))
			used += snprintf(names + used, sizeof(names) - used, "%s%s",
					 n ? ", " : "", l.v[i].ifname);
		pick = i;
		n++;
	}
	if (n == 0) {
		pr_warn("stats: no mctun runs%s%s in this network namespace%s\n",
			o->iface ? " on " : "", o->iface ? o->iface : "",
			stale ? " (only the stale pins of a killed one)" :
			" (socket-mode instances pin no counters: use their --metrics)");
		err = -ENOENT;
		goto out;
	}
	if (n > 1) {
		pr_warn("stats: %u instances run in this network namespace (on %s): "
			"choose one with -i IF\n", n, names);
		err = -EINVAL;
		goto out;
	}
	*out = l.v[pick];
	memset(&l.v[pick], 0, sizeof(l.v[pick]));    /* its tables are now *out's */
out:
	counters_list_free(&l);
	return err;
}

int stats_main(int argc, char **argv)
{
	struct stats_opts o;
	struct counters c = {};
	int err;

	err = stats_parse(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	err = o.pin_dir ? from_dir(o.pin_dir, &c) : choose(&o, &c);
	if (err)
		goto out;
	switch (o.fmt) {
	case FMT_JSON:
		counters_json(stdout, &c, true, realtime_ns());
		printf("\n");
		break;
	case FMT_PROMETHEUS:
		counters_prometheus(stdout, &c);
		break;
	case FMT_TABLE:
		counters_table(stdout, &c, true, realtime_ns());
		break;
	}
	if (fflush(stdout) || ferror(stdout)) {
		err = -EIO;
		pr_warn("stats: writing the output: %s\n", strerror(errno));
	}
out:
	counters_free(&c);
	return err;
}
