// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* mctun run: the command line and the config file into a struct config
 * (config.c), then run. */
#include <errno.h>
#include <stdio.h>

#include "cmds.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "tls.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: mctun run -i IFACE -g GROUP:PORT [-g ...] [--listen ADDR:PORT ...]\n"
"                 [--peer HOST:PORT ...] --psk-file FILE | --tls-* | --insecure\n"
"                 [options]\n"
"       mctun run [--config FILE] [options]\n"
"\n"
"Carry the datagrams of multicast groups between this interface's island and\n"
"other islands over TCP. --listen accepts peers (server), --peer connects out\n"
"and reconnects on its own (client); both together make a hub or relay.\n"
"Peers authenticate with TLS 1.3: a pre-shared key (make one with\n"
"'mctun genpsk FILE') or certificates; plain TCP must be asked for with\n"
"--insecure.\n"
"\n"
"Options (each long option is also a key of the config file):\n");
	config_print_options(f);
	fprintf(f,
"\n"
"Config file: one 'KEY VALUE' per line, KEY a long option without '--'\n"
"(iface, group, listen, peer, ttl, ...); '#' begins a comment. group, listen\n"
"and peer repeat. A group line may add 'direction in' (only from the tunnel\n"
"onto the island), 'direction out' (only from the island into the tunnel) and\n"
"'rewrite GROUP:PORT' (re-inject to that group and port instead).\n"
"\n"
"Signals: SIGINT/SIGTERM stop cleanly (exit 0); SIGUSR1 logs every counter;\n"
"SIGHUP reads the config file again: groups, peers and listeners added or\n"
"removed, the rest undisturbed; a bad file is refused and the old one runs on.\n"
"Counters: mctun stats [--json|--prometheus], or --metrics for a scraper.\n"
"\n"
"Examples:\n"
"  # one key (mode 0600), copied to every gateway over a channel you trust\n"
"  mctun genpsk /etc/mctun/psk\n"
"  # site A accepts, site B connects; both carry one group\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 --listen 0.0.0.0:7000 --psk-file /etc/mctun/psk\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 --peer 198.18.0.1:7000 --psk-file /etc/mctun/psk\n"
"  # a hub for several sites, with IPv6 and an SSM group\n"
"  mctun run -i eth1 -g '[ff15::1]:5000' -g 232.1.1.1:6000@198.18.1.1 -l '[::]:7000' \\\n"
"            --psk-file /etc/mctun/psk\n"
"  # counters for Prometheus on the management address\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 -l 0.0.0.0:7000 --psk-file /etc/mctun/psk \\\n"
"            --metrics 192.0.2.10:9100\n"
"  # certificates: the same CA on both sides\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 -l 0.0.0.0:7000 --allow 198.51.100.0/24 \\\n"
"            --tls-cert gw1.pem --tls-key gw1.key --tls-ca ca.pem\n"
"  # plain TCP over a path you already trust (here: a VPN's address)\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 --peer 10.8.0.1:7000 --insecure\n"
"  # stand in for `udptunnel -s 7001 239.1.0.1/5000/1` (or its -c end)\n"
"  mctun run -i eth1 -g 239.1.0.1:5000 --listen 0.0.0.0:7001 --framing udptunnel \\\n"
"            --insecure\n"
"  # everything from a file, more log\n"
"  mctun run --config /etc/mctun/site-a.conf -v\n");
}

int run_main(int argc, char **argv)
{
	struct config *cfg;
	int err;

	log_setup_libbpf();
	err = config_load(argc, argv, &cfg);
	if (err == CONFIG_HELP) {
		usage(stdout);
		return 0;
	}
	if (err == CONFIG_VERSION) {
		printf("mctun %s\n", MCTUN_VERSION);
		return 0;
	}
	if (err)
		return err;
	log_level = LOG_LVL_INFO + cfg->verbose;
	/* Keys and certificates are checked before anything else is set up. */
	if (tls_opts_on(&cfg->tls_opts))
		err = tls_ctx_new(&cfg->tls_opts, &cfg->tls);
	if (!err)
		err = iface_index(cfg->ifname, &cfg->ifindex);
	if (err) {
		config_free(cfg);
		return err;
	}
	return daemon_run(cfg);   /* takes cfg over */
}
