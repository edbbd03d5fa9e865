// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* mctun run: parse the command line into a struct config, then run. */
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define MAX_GROUPS MCTUN_MAX_GROUPS

static void usage(FILE *f)
{
	fprintf(f,
"Usage: mctun run -i IFACE -g GROUP:PORT [-g ...] [--listen ADDR:PORT ...]\n"
"                 [--peer HOST:PORT ...] [options]\n"
"\n"
"Carry the datagrams of multicast groups between this interface's island and\n"
"other islands over TCP. --listen accepts peers (server), --peer connects out\n"
"and reconnects on its own (client); both together make a hub or relay.\n"
"\n"
"Options:\n"
"  -i, --iface IFACE        the island's interface (required)\n"
"  -g, --group GROUP:PORT   a group to carry, repeatable: 239.1.2.3:5000,\n"
"                           [ff15::1]:5000, source-specific 232.1.1.1:5000@198.18.1.1\n"
"  -l, --listen ADDR:PORT   accept tunnel peers here, repeatable ([::]:7000 for IPv6)\n"
"  -p, --peer HOST:PORT     connect to this peer and keep reconnecting, repeatable\n"
"      --mode tc|xdp|socket capture with the eBPF TC program (default); with XDP\n"
"                           for the island's traffic plus TC for local senders and\n"
"                           fragments; or with plain sockets (no BPF needed; local\n"
"                           senders are seen only with multicast loopback on)\n"
"      --xdp-mode MODE      auto (default: native if the driver has it, else\n"
"                           generic), native or generic\n"
"      --ttl N              TTL / hop limit of re-injected datagrams (default 1)\n"
"      --max-hops N         tunnel links a datagram may cross (default 8)\n"
"      --queue-size BYTES   output queue bound per peer (default 4M)\n"
"      --queue-total BYTES  bound of all peers' queues together (default 16M)\n"
"      --ring-size BYTES    BPF ring buffer, power of two (default 8M)\n"
"      --max-peers N        accepted connections at once (default 256)\n"
"      --keepalive SECS     keepalive after this idle time (default 1)\n"
"      --dead-after SECS    drop a peer silent this long (default 3)\n"
"      --metrics ADDR:PORT  serve every counter over HTTP: GET /metrics, in the\n"
"                           Prometheus text format (as mctun stats --prometheus)\n"
"      --metrics-timeout SECS\n"
"                           close a metrics client still without its answer\n"
"                           after this long (default 5)\n"
"      --framing KIND       mctun (default): the mctun protocol; udptunnel: a\n"
"                           16-bit length before each datagram, as Debian's\n"
"                           udptunnel and mcasttunnel speak it, to replace one\n"
"                           end of their tunnel. Exactly one -g; no hello, no\n"
"                           loop or duplicate detection (use no cycles); TCP\n"
"                           keepalives after --keepalive (whole seconds) find a\n"
"                           dead peer within about --dead-after\n"
"  -v, --verbose            more log (repeat for libbpf's)\n"
"  -h, --help               this text\n"
"  -V, --version            print the version\n"
"\n"
"Authentication (default: plain TCP, unauthenticated and unencrypted):\n"
"      --tls-cert FILE      TLS 1.3 with certificates: this gateway's PEM cert,\n"
"      --tls-key FILE       its PEM private key (not encrypted, mode 0600),\n"
"      --tls-ca FILE        the CA that peers' certificates must chain to;\n"
"                           both sides verify each other\n"
"      --psk-file FILE      or TLS 1.3 with a pre-shared key: one line\n"
"                           'IDENTITY HEXKEY' (128 to 512 bits), mode 0600,\n"
"                           the same file on every gateway\n"
"      --allow CIDR         accept connections only from these, repeatable\n"
"                           (198.19.0.0/16, 2001:db8::/32); checked at accept\n"
"      --auth-timeout SECS  TLS handshake and hello within this (default 5)\n"
"      --max-pending N      inbound connections authenticating at once; one\n"
"                           more closes the oldest of them (default 64)\n"
"\n"
"Signals: SIGINT/SIGTERM stop cleanly (exit 0); SIGUSR1 logs every counter.\n"
"Counters: mctun stats [--json|--prometheus], or --metrics for a scraper.\n"
"\n"
"Examples:\n"
"  # site A accepts, site B connects; both carry one group\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 --listen 0.0.0.0:7000\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 --peer 198.18.0.1:7000\n"
"  # a hub for several sites, with IPv6 and an SSM group\n"
"  mctun run -i eth1 -g '[ff15::1]:5000' -g 232.1.1.1:6000@198.18.1.1 -l '[::]:7000'\n"
"  # counters for Prometheus on the management address\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 -l 0.0.0.0:7000 --metrics 192.0.2.10:9100\n"
"  # stand in for `udptunnel -s 7001 239.1.0.1/5000/1` (or its -c end)\n"
"  mctun run -i eth1 -g 239.1.0.1:5000 --listen 0.0.0.0:7001 --framing udptunnel\n"
"  # authenticated and encrypted: the same CA on both sides\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 -l 0.0.0.0:7000 --allow 198.51.100.0/24 \\\n"
"            --tls-cert gw1.pem --tls-key gw1.key --tls-ca ca.pem\n");
}

enum {
	OPT_MODE = 0x100, OPT_TTL, OPT_MAX_HOPS, OPT_QUEUE, OPT_QUEUE_TOTAL, OPT_RING, OPT_MAX_PEERS,
	OPT_KEEPALIVE, OPT_DEAD, OPT_XDP_MODE, OPT_METRICS, OPT_METRICS_TIMEOUT,
	OPT_FRAMING, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_CA, OPT_PSK_FILE, OPT_ALLOW,
	OPT_AUTH_TIMEOUT, OPT_MAX_PENDING,
};

static const struct option opts[] = {
	{ "iface",      required_argument, NULL, 'i' },
	{ "group",      required_argument, NULL, 'g' },
	{ "listen",     required_argument, NULL, 'l' },
	{ "peer",       required_argument, NULL, 'p' },
	{ "mode",       required_argument, NULL, OPT_MODE },
	{ "ttl",        required_argument, NULL, OPT_TTL },
	{ "max-hops",   required_argument, NULL, OPT_MAX_HOPS },
	{ "queue-size", required_argument, NULL, OPT_QUEUE },
	{ "queue-total", required_argument, NULL, OPT_QUEUE_TOTAL },
	{ "ring-size",  required_argument, NULL, OPT_RING },
	{ "max-peers",  required_argument, NULL, OPT_MAX_PEERS },
	{ "keepalive",  required_argument, NULL, OPT_KEEPALIVE },
	{ "dead-after", required_argument, NULL, OPT_DEAD },
	{ "xdp-mode",   required_argument, NULL, OPT_XDP_MODE },
	{ "metrics",    required_argument, NULL, OPT_METRICS },
	{ "metrics-timeout", required_argument, NULL, OPT_METRICS_TIMEOUT },
	{ "framing",    required_argument, NULL, OPT_FRAMING },
	{ "tls-cert",   required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key",    required_argument, NULL, OPT_TLS_KEY },
	{ "tls-ca",     required_argument, NULL, OPT_TLS_CA },
	{ "psk-file",   required_argument, NULL, OPT_PSK_FILE },
	{ "allow",      required_argument, NULL, OPT_ALLOW },
	{ "auth-timeout", required_argument, NULL, OPT_AUTH_TIMEOUT },
	{ "max-pending", required_argument, NULL, OPT_MAX_PENDING },
	{ "verbose",    no_argument,       NULL, 'v' },
	{ "help",       no_argument,       NULL, 'h' },
	{ "version",    no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int add_endpoint(const char *opt, const char *arg, struct endpoint *eps,
			unsigned int *n, bool passive)
{
	struct endpoint *ep;
	int err;

	if (*n >= MAX_ENDPOINTS) {
		pr_warn("%s: at most %d\n", opt, MAX_ENDPOINTS);
		return -EINVAL;
	}
	ep = &eps[*n];
	err = hostport_parse(opt, arg, ep->host, sizeof(ep->host), &ep->port);
	if (err)
		return err;
	err = hostport_resolve(opt, ep->host, ep->port, passive, &ep->ss, &ep->sslen);
	if (err)
		return err;
	snprintf(ep->name, sizeof(ep->name), "%s", arg);
	(*n)++;
	return 0;
}

static int add_group(struct config *cfg, const char *arg)
{
	struct mc_group g;
	unsigned int i;
	int err;

	err = group_parse("--group", arg, &g);
	if (err)
		return err;
	for (i = 0; i < cfg->ngroups; i++) {
		if (!memcmp(&cfg->groups[i], &g, sizeof(g))) {
			pr_warn("--group: '%s' is given twice\n", arg);
			return -EINVAL;
		}
	}
	if (cfg->ngroups >= MAX_GROUPS) {
		pr_warn("--group: at most %u groups\n", MAX_GROUPS);
		return -EINVAL;
	}
	if ((cfg->ngroups & (cfg->ngroups + 1)) == 0 || !cfg->groups) {
		struct mc_group *n = realloc(cfg->groups, 2 * (cfg->ngroups + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		cfg->groups = n;
	}
	cfg->groups[cfg->ngroups++] = g;
	return 0;
}

static int add_allow(struct config *cfg, const char *arg)
{
	struct cidr c, *n;
	int err;

	err = cidr_parse("--allow", arg, &c);
	if (err)
		return err;
	if (cfg->nallow >= MAX_ENDPOINTS) {
		pr_warn("--allow: at most %d\n", MAX_ENDPOINTS);
		return -EINVAL;
	}
	n = realloc(cfg->allow, (cfg->nallow + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	cfg->allow = n;
	cfg->allow[cfg->nallow++] = c;
	return 0;
}

/* A file option given once. */
static int set_file(const char *opt, const char *arg, const char **dst)
{
	if (*dst) {
		pr_warn("%s: given twice ('%s', '%s')\n", opt, *dst, arg);
		return -EINVAL;
	}
	if (!*arg) {
		pr_warn("%s: empty file name\n", opt);
		return -EINVAL;
	}
	*dst = arg;
	return 0;
}

static int parse(int argc, char **argv, struct config *cfg)
{
	uint64_t v64;
	int c, err = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:g:l:p:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			cfg->ifname = optarg;
			break;
		case 'g':
			err = add_group(cfg, optarg);
			break;
		case 'l':
			err = add_endpoint("--listen", optarg, cfg->listen, &cfg->nlisten, true);
			break;
		case 'p':
			err = add_endpoint("--peer", optarg, cfg->peer, &cfg->npeer, false);
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "tc"))
				cfg->mode = MCTUN_MODE_TC;
			else if (!strcmp(optarg, "socket"))
				cfg->mode = MCTUN_MODE_SOCKET;
			else if (!strcmp(optarg, "xdp"))
				cfg->mode = MCTUN_MODE_XDP;
			else {
				pr_warn("--mode: '%s' is not tc, xdp or socket\n", optarg);
				err = -EINVAL;
			}
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "native"))
				cfg->xdp_flags = XDP_FLAGS_DRV_MODE;
			else if (!strcmp(optarg, "generic"))
				cfg->xdp_flags = XDP_FLAGS_SKB_MODE;
			else if (!strcmp(optarg, "auto"))
				cfg->xdp_flags = 0;
			else {
				pr_warn("--xdp-mode: '%s' is not auto, native or generic\n", optarg);
				err = -EINVAL;
			}
			break;
		case OPT_FRAMING:
			if (!strcmp(optarg, "mctun"))
				cfg->framing = MCTUN_FRAMING_MCTUN;
			else if (!strcmp(optarg, "udptunnel"))
				cfg->framing = MCTUN_FRAMING_UDPTUNNEL;
			else {
				pr_warn("--framing: '%s' is not mctun or udptunnel\n", optarg);
				err = -EINVAL;
			}
			break;
		case OPT_TTL:
			err = parse_u32("--ttl", optarg, 1, 255, &cfg->ttl);
			break;
		case OPT_MAX_HOPS:
			err = parse_u32("--max-hops", optarg, 1, 255, &cfg->max_hops);
			break;
		case OPT_QUEUE:
			err = parse_size("--queue-size", optarg, 2 * FRAME_MAX, 1ULL << 30,
					 &cfg->queue_bytes);
			break;
		case OPT_QUEUE_TOTAL:
			err = parse_size("--queue-total", optarg, 2 * FRAME_MAX, 1ULL << 40,
					 &cfg->queue_total);
			break;
		case OPT_RING:
			err = parse_size("--ring-size", optarg, 1 << 16, 1ULL << 30, &v64);
			if (!err && (v64 & (v64 - 1))) {
				pr_warn("--ring-size: %s is not a power of two\n", optarg);
				err = -EINVAL;
			}
			cfg->ring_bytes = v64;
			break;
		case OPT_MAX_PEERS:
			err = parse_u32("--max-peers", optarg, 1, 65536, &cfg->max_peers);
			break;
		case OPT_KEEPALIVE:
			err = parse_seconds("--keepalive", optarg, 0.05, 3600, &cfg->keepalive_s);
			break;
		case OPT_DEAD:
			err = parse_seconds("--dead-after", optarg, 0.1, 3600, &cfg->dead_s);
			break;
		case OPT_METRICS: {
			unsigned int n = 0;

			if (cfg->metrics_on) {
				pr_warn("--metrics: given twice\n");
				return -EINVAL;
			}
			err = add_endpoint("--metrics", optarg, &cfg->metrics, &n, true);
			cfg->metrics_on = !err;
			break;
		}
		case OPT_METRICS_TIMEOUT:
			err = parse_seconds("--metrics-timeout", optarg, 0.1, 3600,
					    &cfg->metrics_timeout_s);
			break;
		case OPT_TLS_CERT:
			err = set_file("--tls-cert", optarg, &cfg->tls_opts.cert);
			break;
		case OPT_TLS_KEY:
			err = set_file("--tls-key", optarg, &cfg->tls_opts.key);
			break;
		case OPT_TLS_CA:
			err = set_file("--tls-ca", optarg, &cfg->tls_opts.ca);
			break;
		case OPT_PSK_FILE:
			err = set_file("--psk-file", optarg, &cfg->tls_opts.psk_file);
			break;
		case OPT_ALLOW:
			err = add_allow(cfg, optarg);
			break;
		case OPT_AUTH_TIMEOUT:
			err = parse_seconds("--auth-timeout", optarg, 0.1, 600, &cfg->handshake_s);
			break;
		case OPT_MAX_PENDING:
			err = parse_u32("--max-pending", optarg, 1, 65536, &cfg->max_pending);
			break;
		case 'v':
			log_level++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("mctun %s\n", MCTUN_VERSION);
			exit(0);
		default:
			fprintf(stderr, "mctun run: see mctun run --help\n");
			return -EINVAL;
		}
		if (err)
			return err;
	}
	if (optind < argc) {
		pr_warn("run: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->ifname) {
		pr_warn("run: no interface (-i IFACE)\n");
		return -EINVAL;
	}
	if (!cfg->ngroups) {
		pr_warn("run: no group (-g GROUP:PORT)\n");
		return -EINVAL;
	}
	/* The framing names no group: a connection carries exactly one. */
	if (cfg->framing == MCTUN_FRAMING_UDPTUNNEL && cfg->ngroups != 1) {
		pr_warn("--framing udptunnel: carries exactly one group (-g), %u given\n",
			cfg->ngroups);
		return -EINVAL;
	}
	/* udptunnel speaks plain TCP: TLS would only make it a stranger */
	if (cfg->framing == MCTUN_FRAMING_UDPTUNNEL && tls_opts_on(&cfg->tls_opts)) {
		pr_warn("--framing udptunnel: not with --tls-cert or --psk-file (udptunnel "
			"has no TLS)\n");
		return -EINVAL;
	}
	if (!cfg->nlisten && !cfg->npeer) {
		pr_warn("run: nothing to connect: give --listen and/or --peer\n");
		return -EINVAL;
	}
	if (cfg->dead_s <= cfg->keepalive_s) {
		pr_warn("--dead-after: %.2f s must be longer than --keepalive (%.2f s)\n",
			cfg->dead_s, cfg->keepalive_s);
		return -EINVAL;
	}
	return 0;
}

int run_main(int argc, char **argv)
{
	struct config cfg = {
		.mode = MCTUN_MODE_TC,
		.ttl = 1,
		.max_hops = 8,
		.queue_bytes = 4u << 20,     /* 75 ms of 200-byte datagrams at 200k pps */
		.queue_total = 16u << 20,    /* with 100 peers, under 64 MiB in all */
		.ring_bytes = MCTUN_RING_DEFAULT,
		.max_peers = 256,
		.keepalive_s = 1,
		.dead_s = 3,
		.handshake_s = 5,
		.backoff_max_s = 30,
		.keep_dscp = true,
		.metrics_timeout_s = METRICS_TIMEOUT_S,
		.max_pending = 64,
	};
	int err;

	log_setup_libbpf();
	err = parse(argc, argv, &cfg);
	/* Keys and certificates are checked before anything else is set up. */
	if (!err && tls_opts_on(&cfg.tls_opts))
		err = tls_ctx_new(&cfg.tls_opts, &cfg.tls);
	if (!err)
		err = iface_index(cfg.ifname, &cfg.ifindex);
	if (!err)
		err = daemon_run(&cfg);
	tls_ctx_free(cfg.tls);
	free(cfg.allow);
	free(cfg.groups);
	return err;
}
