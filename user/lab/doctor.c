// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mctun doctor: look for what makes multicast fail without an error.
 *
 * Each check prints PASS, WARN or FAIL with what it saw, and for WARN and
 * FAIL the command that fixes it.  Everything is read, nothing changed:
 * interface flags and addresses (ioctl, getifaddrs), the route the kernel
 * would pick (an RTM_GETROUTE request, as `ip route get`), sysctls under
 * /proc/sys, the membership tables, the firewall as `nft -j list ruleset`
 * (JSON) and `iptables-save` print it (firewall.c), the process's
 * capabilities and the kernel version.  The firewall check reads what the
 * rules match, it does not evaluate them: a hint, not a proof.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/magic.h>
#include <linux/mptcp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "addr.h"
#include "cmds.h"
#include "counters.h"
#include "firewall.h"
#include "instances.h"
#include "log.h"
#include "mptcp.h"
#include "nlmsg.h"
#include "mctun.h"
#include "options.h"
#include "sysctl.h"
#include "util.h"

#define MAX_CHECKS     32
#define TEXT_LEN       512

enum result { PASS, WARN, FAIL };

static const char *const result_names[] = { "PASS", "WARN", "FAIL" };

struct check {
	const char *name;
	enum result r;
	char detail[TEXT_LEN];
	char fix[TEXT_LEN];
};

struct doctor_opts {
	const char *iface;
	const char *source;       /* --source as given, NULL = none (then in group) */
	bool have_group;
	struct mc_group group;    /* a sample any-source group without GROUP:PORT */
	int mode;                 /* MCTUN_MODE_* */
	bool json;
};

struct doctor {
	const struct doctor_opts *o;
	struct check checks[MAX_CHECKS];
	unsigned int n;
	char ifname[IF_NAMESIZE]; /* -i, or the route's; "" when neither */
	unsigned int ifindex;
	unsigned int route_oif;   /* the route's interface, 0 = no route */
	bool v6;
	char gs[GROUP_STRLEN];    /* the group as text */
	char src[ADDR_STRLEN];    /* its source, "" for any-source */
	char group_addr[ADDR_STRLEN]; /* its address alone */
};

/* ---- options: setters into struct doctor_opts, one table ---------------------- */

static int set_iface(void *ctx, const char *who, const char *val)
{
	struct doctor_opts *o = ctx;

	if (!*val || strlen(val) >= IF_NAMESIZE) {
		pr_warn("%s: '%s' is not an interface name\n", who, val);
		return -EINVAL;
	}
	o->iface = val;
	return 0;
}

static int set_mode(void *ctx, const char *who, const char *val)
{
	struct doctor_opts *o = ctx;

	if (!strcmp(val, "tc")) {
		o->mode = MCTUN_MODE_TC;
	} else if (!strcmp(val, "xdp")) {
		o->mode = MCTUN_MODE_XDP;
	} else if (!strcmp(val, "socket")) {
		o->mode = MCTUN_MODE_SOCKET;
	} else {
		pr_warn("%s: '%s' is not a mode (tc, xdp or socket)\n", who, val);
		return -EINVAL;
	}
	return 0;
}

static const struct opt doctor_options[] = {
	{ "iface", 'i', "IF", 0, set_iface,
	  "the interface to check (default: the group route's)" },
	{ "source", 'S', "S", OPT_TEXT, NULL, "the group's source, as GROUP:PORT@S",
	  OPT_FIELD(struct doctor_opts, source) },
	{ "mode", 0, "MODE", 0, set_mode,
	  "tc (default), xdp or socket: the mode `mctun run` would use" },
	{ "json", 'j', NULL, OPT_TRUE, NULL,
	  "{\"checks\":[{name, result, detail, fix}], \"fail\":N, \"warn\":N}",
	  OPT_FIELD(struct doctor_opts, json) },
	{ "help", 'h', NULL, OPT_HELP, NULL, "this text" },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: mctun doctor [-i IF] [GROUP:PORT[@SOURCE]] [--mode MODE] [--json]\n"
"\n"
"Check this host for what makes multicast fail silently and print one result\n"
"per check, PASS, WARN or FAIL, with the fix for WARN and FAIL.  Nothing is\n"
"changed.  Run it where the sender, receiver or mctun runs (as root, to see\n"
"the firewall and what the daemon would be allowed).\n"
"\n"
"Checks: the kernel version against what --mode needs; the process's\n"
"privileges to load BPF and attach to TC; bpffs at /sys/fs/bpf; the interface\n"
"(exists, up, MULTICAST, carrier, an address of the group's family); the\n"
"route the kernel picks for the group; multicast on lo; the reverse-path\n"
"filter (rp_filter, effective value max(all, IF)); accept_local for a local\n"
"source; the IGMP/MLD version for a source-specific group; firewall rules\n"
"that drop UDP, IGMP/MLD or the group (nft as JSON, iptables-save as text:\n"
"best-effort); running instances of this network namespace that are\n"
"unauthenticated (--insecure) and listen on an address other than loopback.\n"
"\n"
"Options:\n");
	opt_print_help(f, doctor_options, ARRAY_SIZE(doctor_options), 14);
	fprintf(f,
"\n"
"Without GROUP:PORT the checks use 239.255.0.1 as a sample any-source group.\n"
"Exit status: 0 when no check failed, 1 when one did, 2 on a usage error.\n"
"\n"
"EXAMPLES\n"
"  mctun doctor -i eth1\n"
"  mctun doctor -i eth1 232.1.1.1:5000@198.18.1.2\n"
"  mctun doctor '[ff15::1]:5000' --mode socket --json\n");
}

static int doctor_parse(int argc, char **argv, struct doctor_opts *o)
{
	int first, err;

	memset(o, 0, sizeof(*o));
	o->mode = MCTUN_MODE_TC;
	err = opt_parse("doctor", doctor_options, ARRAY_SIZE(doctor_options), argc, argv, o,
			&first);
	if (err == OPT_PARSE_HELP)
		usage(stdout);
	if (err)
		return err;
	err = opt_group_arg("doctor", argc, argv, first, false, o->source, &o->group);
	if (err == 1)   /* none: a sample any-source group */
		return group_parse("doctor", "239.255.0.1:1", &o->group) ? -EINVAL : 0;
	if (err)
		return err;
	o->have_group = true;
	return 0;
}

/* ---- results ------------------------------------------------------------- */

static struct check *report(struct doctor *d, const char *name, enum result r,
			    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fix(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static struct check *report(struct doctor *d, const char *name, enum result r,
			    const char *fmt, ...)
{
	static struct check spare;
	struct check *c = d->n < MAX_CHECKS ? &d->checks[d->n++] : &spare;
	va_list ap;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->r = r;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	return c;
}

static void fix(struct check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->fix, sizeof(c->fix), fmt, ap);
	va_end(ap);
}

/* ---- small readers --------------------------------------------------------- */

/*
 * The route the kernel picks for dst, as `ip route get` asks for it
 * (RTM_GETROUTE); oif 0 leaves the choice to the kernel.  Returns 0 with
 * the route's interface, or -errno (-ENETUNREACH: no route).
 */
static int route_get(uint8_t family, const uint8_t *dst, unsigned int oif, unsigned int *out_oif)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req = {};
	unsigned int alen = family == MCTUN_FAM_INET ? 4 : 16;
	char buf[8192];
	struct nlmsghdr *nh;
	struct rtattr *rta;
	int fd, err = -EIO;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = fam_to_af(family);
	req.rt.rtm_dst_len = alen * 8;
	nl_put_attr(&req.nh, RTA_DST, dst, alen);
	if (oif)
		nl_put_attr(&req.nh, RTA_OIF, &oif, sizeof(__u32));
	err = nl_send(fd, &req.nh);
	if (err)
		goto out;
	err = -EIO;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			err = e->error ? e->error : -EIO;
			break;
		}
		if (nh->nlmsg_type == RTM_NEWROUTE) {
			struct rtmsg *rt = NLMSG_DATA(nh);
			int len = RTM_PAYLOAD(nh);

			*out_oif = 0;
			for (rta = RTM_RTA(rt); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
				if (rta->rta_type == RTA_OIF)
					memcpy(out_oif, RTA_DATA(rta), sizeof(__u32));
			err = rt->rtm_type == RTN_UNREACHABLE || rt->rtm_type == RTN_BLACKHOLE ||
			      rt->rtm_type == RTN_PROHIBIT ? -ENETUNREACH : 0;
			break;
		}
	}
out:
	close(fd);
	return err;
}

static const char *ifname_of(unsigned int ifindex, char *buf)
{
	if (!ifindex || !if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%u", ifindex);
	return buf;
}

/* Which interface holds addr, if any: its index, else 0. */
static unsigned int local_addr_iface(uint8_t family, const uint8_t *addr)
{
	struct ifaddrs *ifa, *i;
	unsigned int idx = 0;

	if (getifaddrs(&ifa))
		return 0;
	for (i = ifa; i && !idx; i = i->ifa_next) {
		uint8_t fam, a[16];
		uint16_t port;

		if (!i->ifa_addr || sockaddr_addr(i->ifa_addr, &fam, a, &port) || fam != family)
			continue;
		if (!memcmp(a, addr, family == MCTUN_FAM_INET ? 4 : 16))
			idx = if_nametoindex(i->ifa_name);
	}
	freeifaddrs(ifa);
	return idx;
}

/* The first address of family on ifname, as text; false when it has none. */
static bool iface_addr(const char *ifname, uint8_t family, char *buf, size_t len)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		uint8_t fam, a[16];
		uint16_t port;

		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) ||
		    sockaddr_addr(i->ifa_addr, &fam, a, &port) || fam != family)
			continue;
		addr_str(fam, a, buf, len);
		found = true;
	}
	freeifaddrs(ifa);
	return found;
}

static int iface_flags(const char *ifname, unsigned int *flags)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	else
		*flags = (unsigned short)ifr.ifr_flags;
	close(fd);
	return err;
}

/* The IGMP version in force on ifindex as /proc/net/igmp shows it; 0 if not listed. */
static int igmp_in_force(unsigned int ifindex)
{
	char line[256], q[8];
	int idx, count, v = 0;
	FILE *f;

	f = fopen("/proc/net/igmp", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %*[^:] : %d %7s", &idx, &count, q) == 3 &&
		    (unsigned int)idx == ifindex && q[0] == 'V')
			v = q[1] - '0';
	fclose(f);
	return v;
}

/* ---- the checks -------------------------------------------------------------- */

static void check_kernel(struct doctor *d)
{
	static const char *const modes[] = { "tc", "socket", "xdp" };
	unsigned int maj = 0, min = 0, v;
	const char *mode = modes[d->o->mode];
	struct utsname u = {};
	struct check *c;

	if (uname(&u) || sscanf(u.release, "%u.%u", &maj, &min) != 2) {
		report(d, "kernel", WARN, "cannot tell the kernel version (uname: '%s')", u.release);
		return;
	}
	v = maj * 1000 + min;
	if (d->o->mode == MCTUN_MODE_SOCKET) {
		report(d, "kernel", PASS, "Linux %s: socket mode needs no BPF feature", u.release);
	} else if (v < 4005) {
		c = report(d, "kernel", FAIL, "Linux %s: --mode %s needs the clsact qdisc (4.5) and the BPF ring buffer (5.8)",
			   u.release, mode);
		fix(c, "run with --mode socket, or on Linux 5.8 or later");
	} else if (v < 5008) {
		c = report(d, "kernel", FAIL, "Linux %s: --mode %s needs the BPF ring buffer (5.8)",
			   u.release, mode);
		fix(c, "run with --mode socket, or on Linux 5.8 or later");
	} else if (v < 5018 && d->o->mode == MCTUN_MODE_XDP) {
		c = report(d, "kernel", FAIL, "Linux %s: --mode xdp needs bpf_xdp_load_bytes (5.18)",
			   u.release);
		fix(c, "run with --mode tc (Linux 5.8+) or --mode socket");
	} else if (v < 5018) {
		c = report(d, "kernel", WARN, "Linux %s: --mode tc works (ring buffer 5.8, clsact 4.5); --mode xdp would not (bpf_xdp_load_bytes, 5.18)",
			   u.release);
		fix(c, "nothing for --mode tc; --mode xdp needs Linux 5.18");
	} else {
		report(d, "kernel", PASS, "Linux %s: has what --mode %s needs (clsact 4.5, ring buffer 5.8%s)",
		       u.release, mode, d->o->mode == MCTUN_MODE_XDP ? ", bpf_xdp_load_bytes 5.18" : "");
	}
}

static void check_privileges(struct doctor *d)
{
	unsigned long long caps = cap_effective();
	bool bpf, net;
	struct check *c;

	bpf = cap_has(caps, CAPN_BPF) || cap_has(caps, CAPN_SYS_ADMIN);
	net = cap_has(caps, CAPN_NET_ADMIN);
	if (d->o->mode == MCTUN_MODE_SOCKET) {
		report(d, "privileges", PASS, "socket mode loads no BPF (this process: CAP_BPF %s, CAP_NET_ADMIN %s)",
		       bpf ? "yes" : "no", net ? "yes" : "no");
		return;
	}
	if (bpf && net) {
		report(d, "privileges", PASS, "may load BPF (CAP_%s) and attach to TC/XDP (CAP_NET_ADMIN)",
		       cap_has(caps, CAPN_BPF) ? "BPF" : "SYS_ADMIN");
		return;
	}
	c = report(d, "privileges", FAIL, "--mode %s needs CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN; this process has%s%s%s",
		   d->o->mode == MCTUN_MODE_XDP ? "xdp" : "tc", bpf ? " CAP_BPF" : "",
		   net ? " CAP_NET_ADMIN" : "", !bpf && !net ? " neither" : " only that");
	fix(c, "run as root, or grant CAP_BPF CAP_NET_ADMIN CAP_PERFMON (systemd: AmbientCapabilities=); or use --mode socket, which needs neither");
}

static void check_bpffs(struct doctor *d)
{
	struct statfs st;
	struct stat sb;
	struct check *c;

	if (d->o->mode == MCTUN_MODE_SOCKET) {
		report(d, "bpffs", PASS, "socket mode pins nothing");
		return;
	}
	if (statfs(PIN_ROOT_FS, &st) == 0 && st.f_type == BPF_FS_MAGIC) {
		report(d, "bpffs", PASS, "%s is a bpffs: instances pin their counters there", PIN_ROOT_FS);
		return;
	}
	if (stat(PIN_ROOT_FS, &sb) || !S_ISDIR(sb.st_mode)) {
		c = report(d, "bpffs", FAIL, "%s does not exist (is sysfs mounted?): mctun cannot pin its maps",
			   PIN_ROOT_FS);
		fix(c, "mount -t sysfs sysfs /sys && mount -t bpf bpf %s; or use --mode socket",
		    PIN_ROOT_FS);
		return;
	}
	if (cap_has(cap_effective(), CAPN_SYS_ADMIN)) {
		report(d, "bpffs", PASS, "%s is not a bpffs yet; mctun run mounts one there", PIN_ROOT_FS);
		return;
	}
	c = report(d, "bpffs", WARN, "%s is not a bpffs, and mounting one needs CAP_SYS_ADMIN",
		   PIN_ROOT_FS);
	fix(c, "mount -t bpf bpf %s (as root, e.g. in /etc/fstab: bpf %s bpf defaults 0 0)",
	    PIN_ROOT_FS, PIN_ROOT_FS);
}

/*
 * Multipath TCP for --transport mptcp: can a socket be made, and what the
 * path manager will do with it (its endpoints and limits, as `ip mptcp`
 * sets them). Never a failure: plain TCP is what mctun uses without it.
 */
static void check_mptcp(struct doctor *d)
{
	char eps[TEXT_LEN] = "", a[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE];
	struct mptcp_pm pm;
	struct check *c;
	size_t used = 0;
	unsigned int i;
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
	if (fd < 0) {
		err = errno;
		c = report(d, "mptcp", WARN, "the kernel refuses MPTCP sockets (%s): --transport "
			   "mptcp would run plain TCP", strerror(err));
		if (err == ENOPROTOOPT)
			fix(c, "sysctl -w net.mptcp.enabled=1");
		else
			fix(c, "a kernel built with CONFIG_MPTCP (Linux 5.6 or later)");
		return;
	}
	close(fd);
	err = mptcp_pm_read(&pm);
	if (err) {
		report(d, "mptcp", WARN, "MPTCP sockets work, but its path manager cannot be read "
		       "(%s)", strerror(-err));
		return;
	}
	for (i = 0; i < pm.n && used < sizeof(eps); i++) {
		const struct mptcp_endpoint *e = &pm.ep[i];
		const char *ifs = e->ifindex > 0 ? if_indextoname((unsigned int)e->ifindex, ifn) : NULL;

		used += snprintf(eps + used, sizeof(eps) - used, "%s%s%s%s%s%s%s", i ? ", " : "",
				 addr_str(e->family, e->addr, a, sizeof(a)), ifs ? " dev " : "",
				 ifs ? ifs : "", e->flags & MPTCP_PM_ADDR_FLAG_SIGNAL ? " signal" : "",
				 e->flags & MPTCP_PM_ADDR_FLAG_SUBFLOW ? " subflow" : "",
				 e->flags & MPTCP_PM_ADDR_FLAG_BACKUP ? " backup" : "");
	}
	if (!pm.n) {
		/* nothing wrong: most hosts have one uplink and no use for it */
		report(d, "mptcp", PASS, "MPTCP works; no endpoint configured, so a --transport "
		       "mptcp connection uses one path (to add one per extra uplink: ip mptcp "
		       "endpoint add ADDR dev IFACE subflow; limits: subflows %u, "
		       "add_addr_accepted %u)", pm.subflows, pm.add_addr_accepted);
		return;
	}
	if (!pm.subflows) {
		c = report(d, "mptcp", WARN, "MPTCP endpoints %s, but the limit of subflows is 0: "
			   "no second path opens", eps);
		fix(c, "ip mptcp limits set subflows %u add_addr_accepted %u", pm.n, pm.n);
		return;
	}
	report(d, "mptcp", PASS, "MPTCP works; endpoints %s; limits: subflows %u, "
	       "add_addr_accepted %u", eps, pm.subflows, pm.add_addr_accepted);
}

/* Which interface: -i, else the one the route for the group picks. */
static void check_route(struct doctor *d)
{
	const struct mc_group *g = &d->o->group;
	char name[IF_NAMESIZE];
	unsigned int oif = 0;
	struct check *c;
	int err;

	err = route_get(g->family, g->addr, 0, &oif);
	d->route_oif = err ? 0 : oif;
	if (!d->o->iface) {
		if (err || !oif) {
			c = report(d, "route", FAIL, "no route for %s, and no -i: the kernel picks no interface to send on or join (%s)",
				   d->gs, strerror(err ? -err : ENODEV));
			fix(c, "ip %sroute add %s dev IF (or give senders and receivers --iface IF)",
			    d->v6 ? "-6 " : "", d->v6 ? "ff00::/8 table local" : "224.0.0.0/4");
			return;
		}
		ifname_of(oif, d->ifname);
		report(d, "route", PASS, "%s goes out of %s", d->gs, d->ifname);
		return;
	}
	if (err || !oif) {
		c = report(d, "route", WARN, "no route for %s (%s): works only where --iface %s is given",
			   d->gs, strerror(err ? -err : ENODEV), d->o->iface);
		fix(c, "ip %sroute add %s dev %s, or give senders and receivers --iface %s",
		    d->v6 ? "-6 " : "", d->v6 ? "ff00::/8 table local" : "224.0.0.0/4",
		    d->o->iface, d->o->iface);
		return;
	}
	if (oif != d->ifindex) {
		c = report(d, "route", WARN, "%s is routed out of %s, not %s: senders and receivers without --iface %s use %s",
			   d->gs, ifname_of(oif, name), d->o->iface, d->o->iface, name);
		fix(c, "ip %sroute replace %s dev %s, or give senders and receivers --iface %s",
		    d->v6 ? "-6 " : "", d->v6 ? "ff00::/8 table local" : "224.0.0.0/4",
		    d->o->iface, d->o->iface);
		return;
	}
	report(d, "route", PASS, "%s goes out of %s", d->gs, d->o->iface);
}

static bool check_interface(struct doctor *d)
{
	unsigned int flags = 0;
	char addr[ADDR_STRLEN];
	const char *fam = d->v6 ? "IPv6" : "IPv4";
	struct check *c;
	int err;

	if (!d->ifname[0])
		return false;
	d->ifindex = if_nametoindex(d->ifname);
	err = d->ifindex ? iface_flags(d->ifname, &flags) : -ENODEV;
	if (err) {
		c = report(d, "interface", FAIL, "%s: %s", d->ifname,
			   err == -ENODEV ? "no such interface in this network namespace" : strerror(-err));
		fix(c, "check the name with `ip link`; a namespace has its own interfaces");
		return false;
	}
	if (!(flags & IFF_UP)) {
		c = report(d, "interface", FAIL, "%s is down", d->ifname);
		fix(c, "ip link set %s up", d->ifname);
	} else if (!(flags & IFF_MULTICAST) && (flags & IFF_LOOPBACK)) {
		report(d, "interface", PASS, "%s (index %u) is up; a loopback device: see the loopback check",
		       d->ifname, d->ifindex);
	} else if (!(flags & IFF_MULTICAST)) {
		c = report(d, "interface", FAIL, "%s lacks the MULTICAST flag: the kernel neither joins nor sends groups there",
			   d->ifname);
		fix(c, "ip link set %s multicast on", d->ifname);
	} else if (!(flags & IFF_RUNNING)) {
		c = report(d, "interface", WARN, "%s is up but has no carrier (not RUNNING)", d->ifname);
		fix(c, "check the cable or the peer end (a veth needs both ends up)");
	} else {
		report(d, "interface", PASS, "%s (index %u) is up, running, MULTICAST", d->ifname,
		       d->ifindex);
	}
	if (iface_addr(d->ifname, d->o->group.family, addr, sizeof(addr))) {
		report(d, "address", PASS, "%s has %s address %s", d->ifname, fam, addr);
	} else {
		c = report(d, "address", WARN, "%s has no %s address: reports (IGMP/MLD) and datagrams go out with an unspecified source, which routers and rp_filter drop",
			   d->ifname, fam);
		fix(c, "ip %saddr add ADDR/LEN dev %s", d->v6 ? "-6 " : "", d->ifname);
	}
	return true;
}

static void check_loopback(struct doctor *d)
{
	unsigned int flags = 0;
	char name[IF_NAMESIZE];
	struct check *c;

	if (iface_flags(d->ifname, &flags) || !(flags & IFF_LOOPBACK)) {
		report(d, "loopback", PASS, "%s is not a loopback device", d->ifname);
		return;
	}
	if (!(flags & IFF_MULTICAST)) {
		c = report(d, "loopback", FAIL, "multicast on %s needs its MULTICAST flag, which loopback lacks by default",
			   d->ifname);
		fix(c, "ip link set %s multicast on; ip %sroute add %s dev %s", d->ifname,
		    d->v6 ? "-6 " : "", d->v6 ? "ff00::/8 table local" : "224.0.0.0/4", d->ifname);
		return;
	}
	if (d->route_oif != d->ifindex) {
		c = report(d, "loopback", WARN, "%s has MULTICAST, but %s is routed out of %s: senders without --iface %s miss it",
			   d->ifname, d->gs, d->route_oif ? ifname_of(d->route_oif, name) : "nowhere",
			   d->ifname);
		fix(c, "ip %sroute add %s dev %s", d->v6 ? "-6 " : "",
		    d->v6 ? "ff00::/8 table local" : "224.0.0.0/4", d->ifname);
		return;
	}
	report(d, "loopback", PASS, "%s has MULTICAST and the route for %s", d->ifname, d->gs);
}

static void check_rp_filter(struct doctor *d)
{
	const struct mc_group *g = &d->o->group;
	int all = 0, dev = 0, eff;
	char name[IF_NAMESIZE];
	unsigned int oif = 0;
	struct check *c;
	int err;

	if (d->v6) {
		report(d, "rp_filter", PASS, "IPv6 has no rp_filter sysctl (an nft fib or rpfilter rule would show under firewall)");
		return;
	}
	if (sysctl_conf_int("ipv4", "all", "rp_filter", &all) ||
	    sysctl_conf_int("ipv4", d->ifname, "rp_filter", &dev)) {
		report(d, "rp_filter", WARN, "cannot read net.ipv4.conf.{all,%s}.rp_filter", d->ifname);
		return;
	}
	eff = MAX(all, dev);
	if (eff == 0) {
		report(d, "rp_filter", PASS, "off on %s (all %d, %s %d)", d->ifname, all, d->ifname, dev);
		return;
	}
	if (!g->ssm) {
		if (eff == 1) {
			c = report(d, "rp_filter", WARN, "strict on %s (effective %d = max(all %d, %s %d)): multicast from a sender whose address is not routed back via %s is dropped before any socket sees it",
				   d->ifname, eff, all, d->ifname, dev, d->ifname);
			fix(c, "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.%s.rp_filter=2 (loose: any route back will do), or give GROUP:PORT@SOURCE to check one sender",
			    d->ifname);
		} else {
			report(d, "rp_filter", PASS, "loose on %s (effective %d = max(all %d, %s %d)): drops only senders with no route back at all",
			       d->ifname, eff, all, d->ifname, dev);
		}
		return;
	}
	err = route_get(g->family, g->src, 0, &oif);
	if (err || !oif) {
		c = report(d, "rp_filter", FAIL, "%s on %s (effective %d = max(all %d, %s %d)) and no route back to the source %s: its datagrams are dropped",
			   eff == 1 ? "strict" : "loose", d->ifname, eff, all, d->ifname, dev, d->src);
		fix(c, "ip route add %s/32 dev %s (or via its gateway), or sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.%s.rp_filter=0",
		    d->src, d->ifname, d->ifname);
		return;
	}
	if (eff == 1 && oif != d->ifindex) {
		c = report(d, "rp_filter", FAIL, "strict on %s (effective %d = max(all %d, %s %d)): the route back to the source %s goes out of %s, so its datagrams arriving on %s are dropped",
			   d->ifname, eff, all, d->ifname, dev, d->src, ifname_of(oif, name), d->ifname);
		fix(c, "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.%s.rp_filter=2 (loose), or route %s via %s",
		    d->ifname, d->src, d->ifname);
		return;
	}
	report(d, "rp_filter", PASS, "%s on %s (effective %d), and the route back to %s goes out of %s",
	       eff == 1 ? "strict" : "loose", d->ifname, eff, d->src, ifname_of(oif, name));
}

static void check_accept_local(struct doctor *d)
{
	const struct mc_group *g = &d->o->group;
	char name[IF_NAMESIZE];
	unsigned int holder;
	int al = 0, all = 0;
	struct check *c;

	if (d->v6) {
		report(d, "accept_local", PASS, "IPv6 does not drop datagrams from its own addresses");
		return;
	}
	if (!g->ssm) {
		report(d, "accept_local", PASS, "no source given: nothing to check");
		return;
	}
	holder = local_addr_iface(g->family, g->src);
	if (!holder) {
		report(d, "accept_local", PASS, "the source %s is not an address of this host", d->src);
		return;
	}
	sysctl_conf_int("ipv4", d->ifname, "accept_local", &al);
	sysctl_conf_int("ipv4", "all", "accept_local", &all);
	if (al || all) {
		report(d, "accept_local", PASS, "the source %s is local, and accept_local is on", d->src);
		return;
	}
	if (holder != d->ifindex) {
		c = report(d, "accept_local", FAIL, "the source %s is this host's own address (on %s): its datagrams arriving on %s are dropped as martians",
			   d->src, ifname_of(holder, name), d->ifname);
		fix(c, "sysctl -w net.ipv4.conf.%s.accept_local=1", d->ifname);
		return;
	}
	report(d, "accept_local", PASS, "the source %s is %s's own address: this host's copies are looped back locally (copies that return over the wire would need accept_local=1)",
	       d->src, d->ifname);
}

static void check_igmp(struct doctor *d)
{
	const struct mc_group *g = &d->o->group;
	const char *proto = d->v6 ? "ipv6" : "ipv4", *key = d->v6 ? "force_mld_version" :
								    "force_igmp_version";
	/* 232.0.0.0/8; ff3x::/96, the unicast-prefix form with a zero prefix */
	bool ssm_range = d->v6 ? g->addr[0] == 0xff && (g->addr[1] & 0xf0) == 0x30 &&
				 !memcmp(g->addr + 2, (uint8_t[10]){}, 10) :
				 g->addr[0] == 232;
	int all = 0, dev = 0, forced, v;
	struct check *c;

	sysctl_conf_int(proto, "all", key, &all);
	sysctl_conf_int(proto, d->ifname, key, &dev);
	if (d->v6) {
		forced = all ? all : dev;
		v = forced == 1 ? 1 : 2;
	} else {
		forced = all == 1 || dev == 1 ? 1 : all == 2 || dev == 2 ? 2 : MAX(all, dev);
		v = igmp_in_force(d->ifindex);
		if (!v)
			v = forced ? forced : 3;
	}
	if (g->ssm && ((d->v6 && v == 1) || (!d->v6 && v < 3))) {
		c = report(d, d->v6 ? "mld" : "igmp", FAIL, "%sv%d in force on %s (%s=%d%s): a source-specific join goes out as a plain group report, which SSM routers and snooping switches ignore",
			   d->v6 ? "MLD" : "IGMP", v, d->ifname, key, forced,
			   forced ? "" : ", so a querier of that version was heard");
		fix(c, "sysctl -w net.%s.conf.all.%s=0 net.%s.conf.%s.%s=0 (or run recv with --%s-version %d); an old querier must be upgraded",
		    proto, key, proto, d->ifname, key, d->v6 ? "mld" : "igmp", d->v6 ? 2 : 3);
		return;
	}
	if (!g->ssm && ssm_range && d->o->have_group) {
		c = report(d, d->v6 ? "mld" : "igmp", WARN, "%s is in the source-specific range (%s): routers deliver it only to (S,G) joins",
			   d->gs, d->v6 ? "ff3x::/96" : "232.0.0.0/8");
		fix(c, "give the source: GROUP:PORT@SOURCE (recv --source S, run -g GROUP:PORT@S)");
		return;
	}
	report(d, d->v6 ? "mld" : "igmp", PASS, "%sv%d in force on %s%s", d->v6 ? "MLD" : "IGMP", v,
	       d->ifname, g->ssm ? ": source-specific joins are carried" : "");
}

/* ---- firewall: nft's ruleset as JSON, iptables-save's as text ---------------- */

static const char *find_tool(const char *name, char *buf, size_t len)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin",
					    "/usr/local/sbin", "/usr/local/bin" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(buf, len, "%s/%s", dirs[i], name);
		if (!access(buf, X_OK))
			return buf;
	}
	return NULL;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	char *p = s;

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	memmove(s, p, strlen(p) + 1);
}

/*
 * Runs cmd (its stderr joined to its stdout) and scans what it prints:
 * nft's JSON, one line that begins with '{', or iptables-save's lines. A
 * refusal it prints (not root) or its failure lands in err; -errno when it
 * cannot be run.
 */
static int fw_run(const char *cmd, bool nft, struct fw_scan *s, char *err, size_t errlen)
{
	char *line = NULL, *json = NULL;
	size_t cap = 0, jlen = 0;
	ssize_t n;
	FILE *p;
	int st;

	p = popen(cmd, "re");
	if (!p)
		return -errno;
	err[0] = '\0';
	while ((n = getline(&line, &cap, p)) >= 0) {
		if (nft && line[0] == '{' && !json) {
			json = line;          /* kept whole: it is the ruleset */
			jlen = n;
			line = NULL;
			cap = 0;
			continue;
		}
		trim(line);
		if (!line[0] || line[0] == '#')
			continue;
		if (strstr(line, "Operation not permitted") || strstr(line, "Permission denied")) {
			if (!err[0])
				snprintf(err, errlen, "%.*s", (int)errlen - 1, line);
			continue;
		}
		if (!nft)
			fw_scan_ipt_line(s, line);
	}
	free(line);
	st = pclose(p);
	if (st && !err[0])
		snprintf(err, errlen, "exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (nft && !err[0]) {
		if (json)
			fw_scan_nft_json(s, json, jlen, err, errlen);
		else
			snprintf(err, errlen, "no JSON in its output");
	}
	free(json);
	return 0;
}

static void check_firewall(struct doctor *d)
{
	char path[64], cmd[128], err[256], checked[256] = "", failed[512] = "";
	struct fw_scan s = { .group = d->group_addr };
	const char *tools[] = { "nft", d->v6 ? "ip6tables-save" : "iptables-save" };
	unsigned int i, ran = 0;
	struct check *c;

	for (i = 0; i < ARRAY_SIZE(tools); i++) {
		bool nft = i == 0;
		size_t n;

		if (!find_tool(tools[i], path, sizeof(path))) {
			n = strlen(failed);
			snprintf(failed + n, sizeof(failed) - n, "%s%s not installed", n ? "; " : "",
				 tools[i]);
			continue;
		}
		snprintf(cmd, sizeof(cmd), "%s%s 2>&1", path, nft ? " -j list ruleset" : "");
		if (fw_run(cmd, nft, &s, err, sizeof(err)) || err[0]) {
			n = strlen(failed);
			snprintf(failed + n, sizeof(failed) - n, "%s%s could not be read (%s)",
				 n ? "; " : "", tools[i], err[0] ? err : "popen failed");
			continue;
		}
		ran++;
		n = strlen(checked);
		snprintf(checked + n, sizeof(checked) - n, "%s%s", n ? " and " : "", nft ?
			 "nft list ruleset" : tools[i]);
	}
	if (s.hits) {
		c = report(d, "firewall", WARN, "%u of %u rules read (%s) may drop the group, UDP or IGMP/MLD; first: \"%s\"%s%s",
			   s.hits, s.rules, checked, s.first, failed[0] ? "; " : "", failed);
		fix(c, "make sure rules accept udp dport %u to %s and %s before these (best-effort: rules are read as text, not evaluated)",
		    d->o->group.port, d->gs, d->v6 ? "ICMPv6 MLD (types 130-132, 143)" :
		    "IGMP (ip protocol 2)");
		return;
	}
	if (!ran && strstr(failed, "could not")) {
		c = report(d, "firewall", WARN, "could not read the firewall: %s", failed);
		fix(c, "run the doctor as root (reading the ruleset needs CAP_NET_ADMIN)");
		return;
	}
	if (!ran) {
		report(d, "firewall", PASS, "nothing checked: %s", failed);
		return;
	}
	report(d, "firewall", PASS, "%u rules read (%s): none drops UDP, IGMP/MLD or the group by its text%s%s",
	       s.rules, checked, failed[0] ? "; " : "", failed);
}

/* ---- running instances --------------------------------------------------------------- */

/*
 * An instance that runs --insecure and listens on an address other than
 * loopback lets anyone who reaches that port inject into its island. The
 * daemon publishes that as MCTUN_INFO_INSECURE_PUBLIC in its info map,
 * found as status finds it; socket-mode instances have none and are not
 * seen here.
 */
static void check_auth(struct doctor *d)
{
	struct counters_list l = {};
	unsigned int i, n = 0, loop = 0, pub = 0;
	char names[TEXT_LEN] = "";
	struct check *c;

	counters_scan(false, NULL, counters_own_netns(), &l);
	for (i = 0; i < l.n; i++) {
		struct counters *in = &l.v[i];
		size_t len = strlen(names);

		counters_read(in);
		if (!in->have_info) {
			if (!l.err && in->err)
				l.err = in->err;
			continue;
		}
		if (!instance_alive(&in->info))
			continue;     /* stale pins: nothing listens */
		n++;
		if (in->info.flags & MCTUN_INFO_INSECURE_PUBLIC) {
			snprintf(names + len, sizeof(names) - len, "%s%s (pid %u)", pub ? ", " : "",
				 in->ifname, in->info.pid);
			pub++;
		} else if (in->info.flags & MCTUN_INFO_INSECURE) {
			loop++;
		}
	}
	counters_list_free(&l);
	if (pub) {
		c = report(d, "auth", WARN, "%u instance%s run%s --insecure and listen%s on an address other than loopback: %s; anyone who reaches the port can inject datagrams into the island",
			   pub, pub == 1 ? "" : "s", pub == 1 ? "s" : "", pub == 1 ? "s" : "", names);
		fix(c, "mctun genpsk /etc/mctun/psk, copy it to every gateway, and run each with --psk-file /etc/mctun/psk instead of --insecure (or listen on 127.0.0.1 behind a tunnel you trust)");
		return;
	}
	if ((l.err == -EACCES || l.err == -EPERM) && !n) {
		c = report(d, "auth", WARN, "could not read the running instances under %s: %s",
			   PIN_ROOT, strerror(-l.err));
		fix(c, "run the doctor as root");
		return;
	}
	if (!n) {
		report(d, "auth", PASS, "no mctun instance in this network namespace (socket-mode instances are not seen)");
		return;
	}
	report(d, "auth", PASS, "%u instance%s: %u authenticate%s peers%s", n, n == 1 ? "" : "s",
	       n - loop, n - loop == 1 ? "s" : "",
	       loop ? "; the --insecure ones listen on loopback only" : "");
}

/* ---- output ---------------------------------------------------------------------- */

static void print_text(const struct doctor *d)
{
	unsigned int i, nfail = 0, nwarn = 0;

	printf("mctun doctor: %s%s%s, mode %s\n", d->gs, d->o->have_group ? "" : " (a sample group)",
	       d->ifname[0] ? "" : ", no interface", d->o->mode == MCTUN_MODE_SOCKET ? "socket" :
	       d->o->mode == MCTUN_MODE_XDP ? "xdp" : "tc");
	for (i = 0; i < d->n; i++) {
		const struct check *c = &d->checks[i];

		printf("%s  %-13s %s\n", result_names[c->r], c->name, c->detail);
		if (c->fix[0])
			printf("      %-13s fix: %s\n", "", c->fix);
		nfail += c->r == FAIL;
		nwarn += c->r == WARN;
	}
	printf("%u failed, %u warned, %u passed\n", nfail, nwarn, d->n - nfail - nwarn);
}

static void print_json(const struct doctor *d)
{
	unsigned int i, nfail = 0, nwarn = 0;

	printf("{\"group\":");
	json_string(stdout, d->gs);
	printf(",\"interface\":");
	if (d->ifname[0])
		json_string(stdout, d->ifname);
	else
		printf("null");
	printf(",\"checks\":[");
	for (i = 0; i < d->n; i++) {
		const struct check *c = &d->checks[i];

		printf("%s{\"name\":\"%s\",\"result\":\"%s\",\"detail\":", i ? "," : "", c->name,
		       result_names[c->r]);
		json_string(stdout, c->detail);
		printf(",\"fix\":");
		if (c->fix[0])
			json_string(stdout, c->fix);
		else
			printf("null");
		printf("}");
		nfail += c->r == FAIL;
		nwarn += c->r == WARN;
	}
	printf("],\"fail\":%u,\"warn\":%u}\n", nfail, nwarn);
}

int doctor_main(int argc, char **argv)
{
	struct doctor_opts o;
	struct doctor *d;
	unsigned int i;
	bool fail = false;
	int err;

	err = doctor_parse(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->o = &o;
	d->v6 = o.group.family == MCTUN_FAM_INET6;
	{
		struct mc_group g = o.group;

		g.ssm = false;
		if (o.have_group)
			group_str(&g, d->gs, sizeof(d->gs));
		else
			addr_str(g.family, g.addr, d->gs, sizeof(d->gs));
		if (o.group.ssm)
			addr_str(g.family, g.src, d->src, sizeof(d->src));
		addr_str(g.family, g.addr, d->group_addr, sizeof(d->group_addr));
	}
	if (o.iface) {
		snprintf(d->ifname, sizeof(d->ifname), "%s", o.iface);
		d->ifindex = if_nametoindex(o.iface);
	}

	check_kernel(d);
	check_privileges(d);
	check_bpffs(d);
	check_route(d);
	if (check_interface(d)) {
		check_loopback(d);
		check_rp_filter(d);
		check_accept_local(d);
		check_igmp(d);
	}
	check_firewall(d);
	check_auth(d);
	check_mptcp(d);

	if (o.json)
		print_json(d);
	else
		print_text(d);
	fflush(stdout);
	for (i = 0; i < d->n; i++)
		fail |= d->checks[i].r == FAIL;
	free(d);
	/* a failed check is the exit status 1 that scripts test */
	return fail ? -EIO : 0;
}
