// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mctun status: what this host has joined, and every mctun running on it.
 *
 * Group memberships come from the kernel's own tables (/proc/net/igmp,
 * mcfilter, igmp6, mcfilter6), so they show every application's joins, not
 * only ours.  Instances are read from the maps each one pins (see instances.h);
 * nothing talks to a daemon, so a hung or killed one is shown as it was
 * left.  Socket-mode instances pin nothing: they are found by the abstract
 * Unix socket every daemon binds to state itself (instance_announce).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "cmds.h"
#include "counters.h"
#include "instances.h"
#include "log.h"
#include "mctun.h"
#include "render.h"
#include "sysctl.h"
#include "util.h"

struct mc_source {
	uint8_t addr[16];
	bool exclude;             /* listed as an EXCLUDE source, else INCLUDE */
};

struct mc_membership {
	uint8_t family;           /* MCTUN_FAM_* */
	uint8_t addr[16];         /* network order */
	unsigned int users;       /* sockets (or kernel users) holding the join */
	struct mc_source *src;
	unsigned int nsrc;
};

struct mc_iface {
	int ifindex;
	char name[IF_NAMESIZE];
	int igmp_version;         /* in force, from /proc/net/igmp; 0 = no IPv4 */
	int force_igmp, force_igmp_all;
	bool has_v6;
	int force_mld, force_mld_all;
	struct mc_membership *m;
	unsigned int nm;
};

struct iface_table {
	struct mc_iface *v;
	unsigned int n;
};

struct status_opts {
	bool all;
	bool json;
	const char *iface;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: mctun status [--all] [-i IF] [--json]\n"
"\n"
"Show which multicast groups each interface has joined (IPv4 and IPv6, with\n"
"sources, from the kernel's tables: every application's joins) and the\n"
"IGMP/MLD version in force; then every mctun instance on this host: its\n"
"interface, mode, uptime, groups with their counters, local targets (--to)\n"
"with theirs, the BPF and daemon counters and each tunnel peer.  Instances\n"
"are found through the kernel's BPF maps, however they were started\n"
"(nsenter, ip netns exec, a container, systemd); without CAP_SYS_ADMIN,\n"
"through the maps they pin under %s (CAP_BPF needed).  The\n"
"daemons are not asked.\n"
"\n"
"Options:\n"
"  -a, --all        also the groups every interface joins (224.0.0.1, ff02::1,\n"
"                   ff01::1, ff02::1:ffXX:XXXX), and the instances of every\n"
"                   network namespace, not only this one's\n"
"  -i, --iface IF   only this interface (and instances on an interface of\n"
"                   this name)\n"
"  -j, --json       one JSON object: \"interfaces\" and \"instances\"\n"
"  -h, --help       this text\n"
"\n"
"An instance in a container is shown with its pid as this process sees it\n"
"(the holder of its maps), then its pid there, its pid namespace and cgroup.\n"
"An instance whose pid is gone is \"stale\": it was killed without cleaning up;\n"
"the next `mctun run` on that interface clears it.  Socket-mode instances\n"
"publish no counters: they are listed from the abstract Unix socket each\n"
"daemon binds (`ss -xl | grep @mctun/run/`), with their command line.\n"
"\n"
"JSON keys: interfaces[]: name, ifindex, igmp_version, force_igmp_version,\n"
"mld_version, force_mld_version, groups[]: group, users, sources[] {source,\n"
"mode}.  instances[]: pin_dir, netns, pid (as this process sees it), ns_pid,\n"
"pidns and cgroup (only for one in another pid namespace: a container),\n"
"alive, stale, interface, ifindex,\n"
"mode, start_ns, uptime_s, groups[] {group, packets, bytes, fragments,\n"
"ring_full, direction (only when in or out)}, targets[] {ifname, ifindex\n"
"(0: the interface is gone), ttl (0: as sent), groups (all, learned), joined\n"
"[] (the groups receivers behind it joined), packets, bytes, errors,\n"
"unjoined, and with direction out or both: direction, from_packets,\n"
"from_bytes, from_errors} (the local targets, --to), bpf {...}, daemon {...},\n"
"peers[] {address, direction, state, node_id, up_since_ns, up_s, framing,\n"
"transport (tcp|mptcp|fallback), subflows,\n"
"frames_in, bytes_in, frames_out, bytes_out, queue_drops, queued},\n"
"learned[] {group, filter, hosts_version, timer_ms, reports, nsources,\n"
"sources[]} (--membership learn), wants[] {node_id, hops, want} (what the\n"
"gateways in the tunnel subscribed to); a group has idle: true when no peer\n"
"wants it now, wanted: true for the part of one a peer wants;\n"
"socket-mode ones (and those whose maps are unreadable): pid, mode, interface,\n"
"netns, cmdline, note; pid and cmdline are null for a daemon in another pid\n"
"namespace when not root.\n"
"\n"
"EXAMPLES\n"
"  mctun status\n"
"  mctun status -i eth1 --all\n"
"  sudo mctun status --all --json\n",
		PIN_ROOT);
}

static int status_parse(int argc, char **argv, struct status_opts *o)
{
	static const struct option longopts[] = {
		{ "all",   no_argument,       NULL, 'a' },
		{ "iface", required_argument, NULL, 'i' },
		{ "json",  no_argument,       NULL, 'j' },
		{ "help",  no_argument,       NULL, 'h' },
		{}
	};
	unsigned int ifindex;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ai:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->all = true;
			break;
		case 'i':
			o->iface = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			return opt_error("status", c, argv);
		}
	}
	if (optind != argc) {
		pr_warn("status: unexpected argument '%s' (see mctun status --help)\n",
			argv[optind]);
		return -EINVAL;
	}
	/* with --all, IF may exist only in another namespace, for its instances */
	if (o->iface && !o->all && iface_index(o->iface, &ifindex))
		return -EINVAL;
	return 0;
}

/* ---- the kernel's membership tables ---------------------------------- */

static struct mc_iface *iface_get(struct iface_table *t, int ifindex, const char *name)
{
	struct mc_iface *v;
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].ifindex == ifindex)
			return &t->v[i];
	v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	t->v = v;
	v = &t->v[t->n++];
	memset(v, 0, sizeof(*v));
	v->ifindex = ifindex;
	/* the tables cut long names (mcfilter: 6 characters); the index does not lie */
	if (!if_indextoname(ifindex, v->name))
		snprintf(v->name, sizeof(v->name), "%s", name);
	return v;
}

static struct mc_membership *membership_get(struct mc_iface *ifc, uint8_t family,
					    const uint8_t *addr)
{
	struct mc_membership *m;
	unsigned int i;

	for (i = 0; i < ifc->nm; i++)
		if (ifc->m[i].family == family && !memcmp(ifc->m[i].addr, addr, 16))
			return &ifc->m[i];
	m = realloc(ifc->m, (ifc->nm + 1) * sizeof(*m));
	if (!m)
		return NULL;
	ifc->m = m;
	m = &ifc->m[ifc->nm++];
	memset(m, 0, sizeof(*m));
	m->family = family;
	memcpy(m->addr, addr, 16);
	return m;
}

static int source_add(struct mc_membership *m, const uint8_t *addr, bool exclude)
{
	struct mc_source *s = realloc(m->src, (m->nsrc + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	m->src = s;
	memcpy(s[m->nsrc].addr, addr, 16);
	s[m->nsrc].exclude = exclude;
	m->nsrc++;
	return 0;
}

/* 32 hex digits, as the kernel prints an IPv6 address with %pi6. */
static int hex16(const char *s, uint8_t *out)
{
	unsigned int i, b;

	if (strlen(s) != 32)
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = b;
	}
	return 0;
}

/*
 * /proc/net/igmp: a device line "IDX\tNAME : COUNT QUERIER", then one line
 * per group, "\t\t\t\tGROUP USERS TIMER REPORTER", the group in hex as the
 * kernel holds it (network order read as a host integer).
 */
static int read_igmp(struct iface_table *t)
{
	struct mc_iface *ifc = NULL;
	char line[256], name[64], q[8];
	unsigned int grp, users;
	int idx, count;
	FILE *f;

	f = fopen("/proc/net/igmp", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] >= '0' && line[0] <= '9') {
			if (sscanf(line, "%d %63[^: \t] : %d %7s", &idx, name, &count, q) != 4)
				continue;
			ifc = iface_get(t, idx, name);
			if (!ifc)
				break;
			ifc->igmp_version = q[0] == 'V' ? q[1] - '0' : 3;
			sysctl_conf_int("ipv4", ifc->name, "force_igmp_version", &ifc->force_igmp);
			sysctl_conf_int("ipv4", "all", "force_igmp_version", &ifc->force_igmp_all);
		} else if (line[0] == '\t' && ifc &&
			   sscanf(line, "%x %u", &grp, &users) == 2) {
			uint8_t a[16] = {};
			struct mc_membership *m;

			memcpy(a, &grp, 4);
			m = membership_get(ifc, MCTUN_FAM_INET, a);
			if (m)
				m->users = users;
		}
	}
	fclose(f);
	return 0;
}

/* /proc/net/mcfilter: "IDX NAME 0xGROUP 0xSOURCE INC EXC", host-order hex. */
static int read_mcfilter(struct iface_table *t)
{
	unsigned int grp, src;
	unsigned long inc, exc;
	char line[256], name[64];
	FILE *f;
	int idx;

	f = fopen("/proc/net/mcfilter", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uint8_t g[16] = {}, s[16] = {};
		struct mc_membership *m;
		struct mc_iface *ifc;

		if (sscanf(line, "%d %63s 0x%x 0x%x %lu %lu", &idx, name, &grp, &src, &inc,
			   &exc) != 6)
			continue;
		grp = htonl(grp);
		src = htonl(src);
		memcpy(g, &grp, 4);
		memcpy(s, &src, 4);
		ifc = iface_get(t, idx, name);
		m = ifc ? membership_get(ifc, MCTUN_FAM_INET, g) : NULL;
		if (m && (inc || exc))
			source_add(m, s, !inc);
	}
	fclose(f);
	return 0;
}

/* /proc/net/igmp6: "IDX NAME GROUP USERS FLAGS TIMER", the group as 32 hex digits. */
static int read_igmp6(struct iface_table *t)
{
	char line[256], name[64], hex[64];
	unsigned int users;
	FILE *f;
	int idx;

	f = fopen("/proc/net/igmp6", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct mc_membership *m;
		struct mc_iface *ifc;
		uint8_t a[16];

		if (sscanf(line, "%d %63s %63s %u", &idx, name, hex, &users) != 4 || hex16(hex, a))
			continue;
		ifc = iface_get(t, idx, name);
		if (!ifc)
			break;
		if (!ifc->has_v6) {
			ifc->has_v6 = true;
			sysctl_conf_int("ipv6", ifc->name, "force_mld_version", &ifc->force_mld);
			sysctl_conf_int("ipv6", "all", "force_mld_version", &ifc->force_mld_all);
		}
		m = membership_get(ifc, MCTUN_FAM_INET6, a);
		if (m)
			m->users = users;
	}
	fclose(f);
	return 0;
}

/* /proc/net/mcfilter6: "IDX NAME GROUP SOURCE INC EXC", 32 hex digits each. */
static int read_mcfilter6(struct iface_table *t)
{
	char line[256], name[64], gh[64], sh[64];
	unsigned long inc, exc;
	FILE *f;
	int idx;

	f = fopen("/proc/net/mcfilter6", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct mc_membership *m;
		struct mc_iface *ifc;
		uint8_t g[16], s[16];

		if (sscanf(line, "%d %63s %63s %63s %lu %lu", &idx, name, gh, sh, &inc, &exc) != 6 ||
		    hex16(gh, g) || hex16(sh, s))
			continue;
		ifc = iface_get(t, idx, name);
		m = ifc ? membership_get(ifc, MCTUN_FAM_INET6, g) : NULL;
		if (m && (inc || exc))
			source_add(m, s, !inc);
	}
	fclose(f);
	return 0;
}

/* The groups every interface joins on its own: all-hosts and solicited-node. */
static bool is_default_group(const struct mc_membership *m)
{
	static const uint8_t sn[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	const uint8_t *a = m->addr;
	unsigned int i;

	if (m->family == MCTUN_FAM_INET)
		return a[0] == 224 && a[1] == 0 && a[2] == 0 && a[3] == 1;
	if (!memcmp(a, sn, sizeof(sn)))
		return true;
	if (a[0] != 0xff || (a[1] != 0x01 && a[1] != 0x02))
		return false;
	for (i = 2; i < 15; i++)
		if (a[i])
			return false;
	return a[15] == 1;
}

static int cmp_iface(const void *a, const void *b)
{
	return ((const struct mc_iface *)a)->ifindex - ((const struct mc_iface *)b)->ifindex;
}

static void iface_table_free(struct iface_table *t)
{
	unsigned int i, j;

	for (i = 0; i < t->n; i++) {
		for (j = 0; j < t->v[i].nm; j++)
			free(t->v[i].m[j].src);
		free(t->v[i].m);
	}
	free(t->v);
}

static int mld_version(const struct mc_iface *ifc)
{
	/* as the kernel decides: conf/all wins when set, then the interface's */
	int forced = ifc->force_mld_all ? ifc->force_mld_all : ifc->force_mld;

	return forced == 1 ? 1 : 2;
}

static bool iface_shown(const struct status_opts *o, const struct mc_iface *ifc)
{
	return !o->iface || !strcmp(o->iface, ifc->name);
}

static bool membership_shown(const struct status_opts *o, const struct mc_membership *m)
{
	return o->all || !is_default_group(m);
}

static void text_ifaces(const struct status_opts *o, const struct iface_table *t)
{
	unsigned int i, j, k, shown, listed = 0;
	char a[ADDR_STRLEN];

	printf("Interfaces (joined groups, from the kernel)\n");
	for (i = 0; i < t->n; i++) {
		const struct mc_iface *ifc = &t->v[i];

		if (!iface_shown(o, ifc))
			continue;
		listed++;
		printf("  %s (index %d):", ifc->name, ifc->ifindex);
		if (ifc->igmp_version)
			printf(" IGMPv%d%s", ifc->igmp_version,
			       ifc->force_igmp || ifc->force_igmp_all ? " (forced)" : "");
		if (ifc->has_v6)
			printf("%s MLDv%d%s", ifc->igmp_version ? "," : "", mld_version(ifc),
			       ifc->force_mld || ifc->force_mld_all ? " (forced)" : "");
		printf("\n");
		shown = 0;
		for (j = 0; j < ifc->nm; j++) {
			const struct mc_membership *m = &ifc->m[j];

			if (!membership_shown(o, m))
				continue;
			shown++;
			printf("    %s", addr_str(m->family, m->addr, a, sizeof(a)));
			for (k = 0; k < m->nsrc; k++)
				printf("%s%s %s", k ? "," : "",
				       m->src[k].exclude ? " except" : " from",
				       addr_str(m->family, m->src[k].addr, a, sizeof(a)));
			printf("  (users %u)\n", m->users);
		}
		if (!shown)
			printf("    no groups%s\n", o->all ? "" : " (--all shows the default ones)");
	}
	if (!listed && o->iface)
		printf("  %s: not in the kernel's tables (no IPv4 or IPv6 on it here)\n", o->iface);
}

static void json_ifaces(const struct status_opts *o, const struct iface_table *t)
{
	char a[ADDR_STRLEN];
	unsigned int i, j, k;
	bool first = true;

	printf("\"interfaces\":[");
	for (i = 0; i < t->n; i++) {
		const struct mc_iface *ifc = &t->v[i];
		bool gfirst = true;

		if (!iface_shown(o, ifc))
			continue;
		printf("%s{\"name\":", first ? "" : ",");
		first = false;
		json_string(stdout, ifc->name);
		printf(",\"ifindex\":%d,", ifc->ifindex);
		if (ifc->igmp_version)
			printf("\"igmp_version\":%d,\"force_igmp_version\":%d,", ifc->igmp_version,
			       ifc->force_igmp_all ? ifc->force_igmp_all : ifc->force_igmp);
		else
			printf("\"igmp_version\":null,\"force_igmp_version\":null,");
		if (ifc->has_v6)
			printf("\"mld_version\":%d,\"force_mld_version\":%d,", mld_version(ifc),
			       ifc->force_mld_all ? ifc->force_mld_all : ifc->force_mld);
		else
			printf("\"mld_version\":null,\"force_mld_version\":null,");
		printf("\"groups\":[");
		for (j = 0; j < ifc->nm; j++) {
			const struct mc_membership *m = &ifc->m[j];

			if (!membership_shown(o, m))
				continue;
			printf("%s{\"group\":\"%s\",\"users\":%u,\"sources\":[", gfirst ? "" : ",",
			       addr_str(m->family, m->addr, a, sizeof(a)), m->users);
			gfirst = false;
			for (k = 0; k < m->nsrc; k++)
				printf("%s{\"source\":\"%s\",\"mode\":\"%s\"}", k ? "," : "",
				       addr_str(m->family, m->src[k].addr, a, sizeof(a)),
				       m->src[k].exclude ? "exclude" : "include");
			printf("]}");
		}
		printf("]}");
	}
	printf("]");
}

/* ---- instances as they state themselves --------------------------------- */

/*
 * A daemon the maps did not show: socket mode (which has none), or maps
 * this user cannot read, or not yet written.
 */
struct ann_inst {
	struct instance_ann a;
	char cmdline[512];         /* "" when its pid is not ours to see */
	bool pins_unreadable;      /* tc/xdp: its pins may exist, we cannot read them */
};

struct ann_list {
	struct ann_inst *v;
	unsigned int n;
};

static bool read_small(const char *path, char *buf, size_t len, size_t *got)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (got)
		*got = n;
	return n > 0;
}

/* Its argv, shown as it is: NULs between arguments as spaces. */
static void read_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	size_t n, i;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (!pid || !read_small(path, buf, len, &n))
		return;
	while (n && !buf[n - 1])
		n--;
	for (i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = '\0';
}

static void scan_announced(const struct status_opts *o, const struct counters_list *il,
			   bool pins_unreadable, struct ann_list *l)
{
	struct instance_ann *av = NULL;
	unsigned int i, j;
	int n;

	n = instances_announced(o->all, &av);
	for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++) {
		const struct instance_ann *a = &av[i];
		bool in_maps = false;
		struct ann_inst *v;

		for (j = 0; j < il->n; j++)
			in_maps |= il->v[j].have_info && il->v[j].info.pid == a->pid &&
				   il->v[j].info.pidns == a->pidns;
		if (in_maps || (o->iface && strcmp(o->iface, a->ifname)))
			continue;
		v = realloc(l->v, (l->n + 1) * sizeof(*v));
		if (!v)
			break;
		l->v = v;
		v = &l->v[l->n++];
		v->a = *a;
		v->pins_unreadable = pins_unreadable;
		read_cmdline(a->local_pid, v->cmdline, sizeof(v->cmdline));
	}
	free(av);
}

/* ---- instance output ----------------------------------------------------- */

static const char *time_str(__u64 ns, char *buf, size_t len)
{
	time_t t = ns / 1000000000ull;
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "?");
	return buf;
}

static void text_instance(const struct counters *in, __u64 now)
{
	char a[GROUP_STRLEN], b[64], c[64];
	unsigned int i, k, n;
	bool alive;

	printf("\nInstance %s\n", in->dir);
	if (in->err && !in->have_info) {
		printf("  cannot read its maps: %s\n", strerror(-in->err));
		return;
	}
	alive = in->alive;
	printf("  pid ");
	if (!in->foreign_pid)
		printf("%u", in->info.pid);
	else if (in->local_pid)
		printf("%d", (int)in->local_pid);
	else
		printf("?");
	printf(" (%s), interface %s (index %u), mode %s\n", alive ? "running" : "gone",
	       in->ifname, in->info.ifindex, counters_mode_name(in->info.mode));
	if (in->foreign_pid)
		counters_pidns_line(stdout, in, "  ");
	printf("  authentication: %s\n", counters_auth_desc(in->info.flags));
	if (in->netns)
		printf("  network namespace: inode %lu\n", in->netns);
	else
		printf("  network namespace: the host's\n");
	if (!alive)
		printf("  stale: left by a killed instance; the next start on this interface clears it\n");
	printf("  started %s, up %s\n", time_str(in->info.start_ns, b, sizeof(b)),
	       counters_duration(counters_since_s(in->info.start_ns, now), c, sizeof(c)));
	for (i = 0; i < in->ngroups; i++) {
		const struct counters_group *g = &in->groups[i];

		if (g->flags & MCTUN_GF_WANTED) {
			printf("  wanted %s: captured and joined for a peer\n",
			       group_str(&g->g, a, sizeof(a)));
			continue;
		}
		printf("  group %s%s%s%s: packets %llu, bytes %llu, fragments %llu, ring full %llu\n",
		       group_str(&g->g, a, sizeof(a)),
		       g->flags & (MCTUN_GF_NOCAPTURE | MCTUN_GF_NOINJECT) ? " direction " : "",
		       g->flags & (MCTUN_GF_NOCAPTURE | MCTUN_GF_NOINJECT) ?
		       counters_direction_name(g->flags) : "",
		       g->flags & MCTUN_GF_IDLE ? " (no peer wants it now)" : "",
		       (unsigned long long)g->st.packets,
		       (unsigned long long)g->st.bytes, (unsigned long long)g->st.fragments,
		       (unsigned long long)g->st.ring_full);
	}
	for (i = 0; i < in->ntargets; i++) {
		const struct counters_target *t = &in->targets[i];

		printf("  target %s (", t->ifname);
		if (t->ttl)
			printf("ttl %u", t->ttl);
		else
			printf("ttl as sent");
		if (t->flags & MCTUN_TF_OUT)
			printf(", direction %s", target_direction_name(t->flags));
		printf("%s", t->ifindex ? "" : ", gone");
		printf("%s)", t->flags & MCTUN_TF_ALL ? ", groups all" : "");
		if (t->have_st) {
			printf(": packets %llu, bytes %llu, errors %llu",
			       (unsigned long long)t->st.packets, (unsigned long long)t->st.bytes,
			       (unsigned long long)t->st.errors);
			/* direction out or both: what came from behind it */
			if (t->flags & MCTUN_TF_OUT)
				printf("; from it: packets %llu, bytes %llu, errors %llu",
				       (unsigned long long)t->st.from_packets,
				       (unsigned long long)t->st.from_bytes,
				       (unsigned long long)t->st.from_errors);
			printf("\n");
		} else {
			printf(": counters unreadable\n");
		}
		if (t->flags & MCTUN_TF_ALL)
			continue;
		/* what its receivers joined (IGMP/MLD reports out of it) */
		printf("    joined behind it:");
		for (k = n = 0; k < in->ntgroups; k++) {
			if (!(in->tgroups[k].mask & (1u << i)))
				continue;
			printf("%s %s", n++ ? "," : "",
			       addr_str(in->tgroups[k].k.family, in->tgroups[k].k.addr, a, sizeof(a)));
		}
		printf("%s", n ? "" : " none");
		if (t->have_st)
			printf("; not copied, nobody joined: %llu",
			       (unsigned long long)t->st.unjoined);
		printf("\n");
	}
	if (in->have_dstats && (in->nmembers || in->ds.mship_reports || in->ds.queries_sent ||
				in->ds.queries_heard))
		printf("  learned on the island: %llu group%s; querier: IGMP %s, MLD %s\n",
		       (unsigned long long)in->ds.mship_groups, in->ds.mship_groups == 1 ? "" : "s",
		       in->ds.querier & 1 ? "this instance" : "another or none",
		       in->ds.querier & 2 ? "this instance" : "another or none");
	for (i = 0; i < in->nwants; i++) {
		const struct mctun_want_info *w = &in->wants[i];

		printf("  node %016llx (%u hop%s away) wants %s\n", (unsigned long long)w->node_id,
		       w->hops + 1, w->hops ? "s" : "", counters_want_str(w, a, sizeof(a)));
	}
	for (i = 0; i < in->nmembers; i++) {
		const struct mctun_member_info *m = &in->members[i];
		char s[320];

		printf("  learned %s, hosts v%u, ", counters_member_str(m, s, sizeof(s)), m->compat);
		if (m->filter == 2)
			printf("timer %.1fs, ", m->timer_ms / 1000.0);
		printf("reports %llu\n", (unsigned long long)m->reports);
	}
	if (in->have_stats) {
		printf("  bpf:");
		for (i = 0; i < n_bpf_fields; i++)
			printf(" %s %llu", bpf_fields[i].name, counter_get(&in->st, &bpf_fields[i]));
		printf("\n");
	}
	if (in->have_dstats) {
		printf("  daemon: node %016llx", (unsigned long long)in->ds.node_id);
		for (i = 0; i < n_daemon_fields; i++)
			printf(" %s %llu", daemon_fields[i].name,
			       counter_get(&in->ds, &daemon_fields[i]));
		printf("\n");
	}
	if (!in->npeers)
		printf("  no peers\n");
	for (i = 0; i < in->npeers; i++) {
		const struct mctun_peer_info *p = &in->peers[i];

		printf("  peer %s %s %s", counters_peer_addr(p, a, sizeof(a)),
		       p->outbound ? "outbound" : "inbound", counters_peer_state(p->state));
		if (p->framing == MCTUN_FRAMING_UDPTUNNEL)
			printf(", udptunnel framing");
		else if (p->state == MCTUN_PEER_UP)
			printf(", node %016llx", (unsigned long long)p->node_id);
		if (p->state == MCTUN_PEER_UP && p->transport == MCTUN_TRANSPORT_MPTCP)
			printf(", mptcp (%u subflow%s)", p->subflows, p->subflows == 1 ? "" : "s");
		else if (p->state == MCTUN_PEER_UP && p->transport == MCTUN_TRANSPORT_FALLBACK)
			printf(", plain TCP (MPTCP not taken)");
		if (p->state == MCTUN_PEER_UP)
			printf(", up since %s (%s)", time_str(p->up_since_ns, b, sizeof(b)),
			       counters_duration(counters_since_s(p->up_since_ns, now), c, sizeof(c)));
		printf(": in %llu frames %llu bytes, out %llu frames %llu bytes, queue drops %llu, queued %llu bytes\n",
		       (unsigned long long)p->frames_in, (unsigned long long)p->bytes_in,
		       (unsigned long long)p->frames_out, (unsigned long long)p->bytes_out,
		       (unsigned long long)p->queue_drops, (unsigned long long)p->queued);
	}
}

static const char *ann_note(const struct ann_inst *p)
{
	if (p->a.mode == MCTUN_MODE_SOCKET)
		return "socket mode: no counters published";
	if (p->pins_unreadable)
		return "its counters are in pinned maps this user cannot read";
	return "no pinned maps found: starting up, or its pins were removed";
}

static void text_ann(const struct ann_inst *p)
{
	printf("\nInstance pid ");
	if (p->a.local_pid)
		printf("%d", (int)p->a.local_pid);
	else
		printf("%u in pid namespace %llu", p->a.pid, (unsigned long long)p->a.pidns);
	printf(" (running), interface %s, mode %s\n  %s\n", p->a.ifname,
	       counters_mode_name(p->a.mode), ann_note(p));
	if (p->cmdline[0])
		printf("  command: %s\n", p->cmdline);
	if (p->a.netns)
		printf("  network namespace: inode %llu\n", (unsigned long long)p->a.netns);
}

static void json_ann(const struct ann_inst *p)
{
	printf("{\"pin_dir\":null,\"pid\":");
	if (p->a.local_pid)
		printf("%d", (int)p->a.local_pid);
	else
		printf("null");
	printf(",\"alive\":true,\"stale\":false,\"mode\":\"%s\",\"interface\":",
	       counters_mode_name(p->a.mode));
	json_string(stdout, p->a.ifname);
	printf(",\"netns\":");
	if (p->a.netns)
		printf("%llu", (unsigned long long)p->a.netns);
	else
		printf("null");
	printf(",\"cmdline\":");
	if (p->cmdline[0])
		json_string(stdout, p->cmdline);
	else
		printf("null");
	printf(",\"note\":");
	json_string(stdout, ann_note(p));
	printf("}");
}

static const char *pins_error(int err)
{
	static char buf[256];

	if (err == -EACCES || err == -EPERM)
		snprintf(buf, sizeof(buf), "reading the pinned maps under %s needs root (CAP_BPF): %s",
			 PIN_ROOT, strerror(-err));
	else
		snprintf(buf, sizeof(buf), "reading the pinned maps under %s: %s", PIN_ROOT,
			 strerror(-err));
	return buf;
}

int status_main(int argc, char **argv)
{
	struct iface_table t = {};
	struct counters_list il = {};
	struct ann_list pl = {};
	struct status_opts o;
	unsigned long own_ns;
	unsigned int i;
	__u64 now;
	int err;

	err = status_parse(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;

	/* IPv4 or IPv6 may be absent from the kernel: a missing table is no error */
	err = read_igmp(&t);
	if (!err)
		read_mcfilter(&t);
	if (!read_igmp6(&t))
		read_mcfilter6(&t);
	if (t.n)
		qsort(t.v, t.n, sizeof(*t.v), cmp_iface);

	own_ns = counters_own_netns();
	counters_scan(o.all, o.iface, own_ns, &il);
	for (i = 0; i < il.n; i++) {
		counters_read(&il.v[i]);
		counters_locate(&il.v[i]);
		/* a permission error on every map is one error for the lot */
		if (!il.err && (il.v[i].err == -EACCES || il.v[i].err == -EPERM) &&
		    !il.v[i].have_info)
			il.err = il.v[i].err;
	}
	if (il.err == -EACCES || il.err == -EPERM)
		counters_list_free(&il);
	scan_announced(&o, &il, il.err == -EACCES || il.err == -EPERM, &pl);
	now = realtime_ns();

	if (o.json) {
		printf("{");
		json_ifaces(&o, &t);
		printf(",\"instances\":[");
		for (i = 0; i < il.n; i++) {
			printf("%s", i ? "," : "");
			counters_json(stdout, &il.v[i], il.v[i].alive, now);
		}
		for (i = 0; i < pl.n; i++) {
			printf("%s", i || il.n ? "," : "");
			json_ann(&pl.v[i]);
		}
		printf("]");
		if (il.err) {
			printf(",\"instances_error\":");
			json_string(stdout, pins_error(il.err));
		}
		printf("}\n");
	} else {
		text_ifaces(&o, &t);
		if (il.err)
			printf("\n%s\n", pins_error(il.err));
		for (i = 0; i < il.n; i++)
			text_instance(&il.v[i], now);
		for (i = 0; i < pl.n; i++)
			text_ann(&pl.v[i]);
		if (!il.n && !pl.n && !il.err)
			printf("\nNo mctun instance %s%s%s\n",
			       o.all ? "on this host" : "in this network namespace",
			       o.iface ? " on " : "", o.iface ? o.iface : "");
	}
	fflush(stdout);

	counters_list_free(&il);
	free(pl.v);
	iface_table_free(&t);
	return 0;
}
