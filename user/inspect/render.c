// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Counters written out: names for the values in the maps, tables for
 * people, JSON, and the Prometheus text format. What they render comes
 * from counters.c; nothing here reads a map.
 */
#include <arpa/inet.h>
#include <string.h>

#include "render.h"
#include "util.h"

#define FIELD(type, f) { #f, offsetof(struct type, f) }

const struct counter_field bpf_fields[] = {
	FIELD(mctun_stats, seen), FIELD(mctun_stats, udp_mcast), FIELD(mctun_stats, matched),
	FIELD(mctun_stats, ingress), FIELD(mctun_stats, egress), FIELD(mctun_stats, pushed),
	FIELD(mctun_stats, pushed_bytes), FIELD(mctun_stats, ring_full),
	FIELD(mctun_stats, self), FIELD(mctun_stats, loopback), FIELD(mctun_stats, fragments),
	FIELD(mctun_stats, too_big), FIELD(mctun_stats, malformed), FIELD(mctun_stats, dir_in),
	FIELD(mctun_stats, range_frags), FIELD(mctun_stats, igmp), FIELD(mctun_stats, mld),
	FIELD(mctun_stats, unwanted), FIELD(mctun_stats, copies), FIELD(mctun_stats, copy_errors),
	FIELD(mctun_stats, ended),
};
const unsigned int n_bpf_fields = ARRAY_SIZE(bpf_fields);

const struct counter_field daemon_fields[] = {
	FIELD(mctun_dstats, cap_ring), FIELD(mctun_dstats, cap_sock),
	FIELD(mctun_dstats, cap_self), FIELD(mctun_dstats, injected),
	FIELD(mctun_dstats, inject_errors), FIELD(mctun_dstats, drop_loop),
	FIELD(mctun_dstats, drop_dup), FIELD(mctun_dstats, drop_hops),
	FIELD(mctun_dstats, drop_group), FIELD(mctun_dstats, framing_drops),
	FIELD(mctun_dstats, bad_frames),
	FIELD(mctun_dstats, refused), FIELD(mctun_dstats, queue_drops),
	FIELD(mctun_dstats, peers_up), FIELD(mctun_dstats, refused_allow),
	FIELD(mctun_dstats, refused_pending), FIELD(mctun_dstats, refused_auth),
	FIELD(mctun_dstats, refused_plain), FIELD(mctun_dstats, refused_timeout),
	FIELD(mctun_dstats, drop_direction), FIELD(mctun_dstats, rewritten),
	FIELD(mctun_dstats, http_ok), FIELD(mctun_dstats, http_errors),
	FIELD(mctun_dstats, http_refused), FIELD(mctun_dstats, http_timeouts),
	FIELD(mctun_dstats, drop_unwanted), FIELD(mctun_dstats, mship_groups),
	FIELD(mctun_dstats, mship_reports), FIELD(mctun_dstats, mship_leaves),
	FIELD(mctun_dstats, mship_refused), FIELD(mctun_dstats, mship_bad),
	FIELD(mctun_dstats, queries_sent), FIELD(mctun_dstats, queries_heard),
	FIELD(mctun_dstats, query_errors), FIELD(mctun_dstats, querier),
	FIELD(mctun_dstats, capture_all), FIELD(mctun_dstats, want_origins),
	FIELD(mctun_dstats, announce_in), FIELD(mctun_dstats, announce_out),
	FIELD(mctun_dstats, join_errors), FIELD(mctun_dstats, resume_replayed),
	FIELD(mctun_dstats, resume_gap), FIELD(mctun_dstats, resume_overflow),
	FIELD(mctun_dstats, resume_refused), FIELD(mctun_dstats, ring_wakeups),
	FIELD(mctun_dstats, ring_drains), FIELD(mctun_dstats, ring_coalesced),
};
const unsigned int n_daemon_fields = ARRAY_SIZE(daemon_fields);

/* Every __u64 of the struct but node_id is in the table. */
_Static_assert(ARRAY_SIZE(daemon_fields) == sizeof(struct mctun_dstats) / 8 - 1,
	       "daemon_fields lists every daemon counter");
_Static_assert(ARRAY_SIZE(bpf_fields) == sizeof(struct mctun_stats) / 8,
	       "bpf_fields lists every BPF counter");

/* ---- names -------------------------------------------------------------- */

const char *counters_direction_name(__u32 flags)
{
	return flags & MCTUN_GF_NOCAPTURE ? "in" : flags & MCTUN_GF_NOINJECT ? "out" : "both";
}

const char *target_direction_name(__u8 flags)
{
	return !(flags & MCTUN_TF_OUT) ? "in" : flags & MCTUN_TF_NOIN ? "out" : "both";
}

const char *counters_mode_name(__u32 mode)
{
	switch (mode) {
	case MCTUN_MODE_TC:     return "tc";
	case MCTUN_MODE_SOCKET: return "socket";
	case MCTUN_MODE_XDP:    return "xdp";
	default:                return "unknown";
	}
}

const char *counters_auth_name(__u32 flags)
{
	if (flags & MCTUN_INFO_INSECURE)
		return "none";
	if (flags & MCTUN_INFO_PSK)
		return "psk";
	if (flags & MCTUN_INFO_TLS_CERT)
		return "tls";
	if (flags & MCTUN_INFO_NO_TUNNEL)
		return "no-tunnel";
	return "unknown";
}

const char *counters_auth_desc(__u32 flags)
{
	if (flags & MCTUN_INFO_INSECURE_PUBLIC)
		return "none (--insecure): UNAUTHENTICATED and unencrypted, listening on an address "
		       "other than loopback";
	if (flags & MCTUN_INFO_INSECURE)
		return "none (--insecure): UNAUTHENTICATED and unencrypted";
	if (flags & MCTUN_INFO_PSK)
		return "TLS 1.3 with a pre-shared key";
	if (flags & MCTUN_INFO_TLS_CERT)
		return "TLS 1.3 with certificates";
	if (flags & MCTUN_INFO_NO_TUNNEL)
		return "no tunnel (local targets only)";
	return "not published (an older mctun)";
}

const char *counters_peer_state(__u8 s)
{
	switch (s) {
	case MCTUN_PEER_WAITING:    return "waiting";
	case MCTUN_PEER_CONNECTING: return "connecting";
	case MCTUN_PEER_HELLO:      return "hello";
	case MCTUN_PEER_UP:         return "up";
	default:                    return "unknown";
	}
}

const char *counters_transport_name(__u8 t)
{
	switch (t) {
	case MCTUN_TRANSPORT_TCP:      return "tcp";
	case MCTUN_TRANSPORT_MPTCP:    return "mptcp";
	case MCTUN_TRANSPORT_FALLBACK: return "fallback";
	default:                       return "unknown";
	}
}

const char *counters_peer_addr(const struct mctun_peer_info *p, char *buf, size_t len)
{
	struct sockaddr_storage ss;

	if (p->family != MCTUN_FAM_INET && p->family != MCTUN_FAM_INET6) {
		snprintf(buf, len, "?");
		return buf;
	}
	addr_sockaddr(p->family, p->addr, ntohs(p->port), 0, &ss);
	return sockaddr_str((struct sockaddr *)&ss, buf, len);
}

double counters_since_s(__u64 ns, __u64 now)
{
	return ns && now > ns ? (now - ns) / 1e9 : 0;
}

const char *counters_duration(double s, char *buf, size_t len)
{
	unsigned long long t = s < 0 ? 0 : (unsigned long long)s;

	if (t >= 86400)
		snprintf(buf, len, "%llud%02lluh%02llum", t / 86400, t % 86400 / 3600,
			 t % 3600 / 60);
	else if (t >= 3600)
		snprintf(buf, len, "%lluh%02llum%02llus", t / 3600, t % 3600 / 60, t % 60);
	else if (t >= 60)
		snprintf(buf, len, "%llum%02llus", t / 60, t % 60);
	else
		snprintf(buf, len, "%.1fs", s < 0 ? 0 : s);
	return buf;
}

void counters_pidns_line(FILE *f, const struct counters *c, const char *indent)
{
	fprintf(f, "%sin another pid namespace (a container): pid %u there, namespace inode %llu",
		indent, c->info.pid, (unsigned long long)c->info.pidns);
	if (c->cgroup[0])
		fprintf(f, ", cgroup %s", c->cgroup);
	fprintf(f, "\n");
}

/* ---- JSON ---------------------------------------------------------------- */

void counters_json(FILE *f, const struct counters *c, bool alive, __u64 now)
{
	char a[GROUP_STRLEN];
	unsigned int i, k, n;

	fprintf(f, "{\"pin_dir\":");
	json_string(f, c->dir);
	if (c->netns)
		fprintf(f, ",\"netns\":%lu", c->netns);
	else
		fprintf(f, ",\"netns\":\"host\"");
	fprintf(f, ",\"interface\":");
	json_string(f, c->ifname);
	if (c->err && !c->have_info) {
		fprintf(f, ",\"error\":");
		json_string(f, strerror(-c->err));
		fprintf(f, "}");
		return;
	}
	/* a daemon in another pid namespace: its pid as we see it, and its own */
	if (c->located && c->foreign_pid) {
		fprintf(f, ",\"pid\":");
		if (c->local_pid)
			fprintf(f, "%d", (int)c->local_pid);
		else
			fprintf(f, "null");
		fprintf(f, ",\"ns_pid\":%u,\"pidns\":%llu,\"cgroup\":", c->info.pid,
			(unsigned long long)c->info.pidns);
		if (c->cgroup[0])
			json_string(f, c->cgroup);
		else
			fprintf(f, "null");
	} else {
		fprintf(f, ",\"pid\":%u", c->info.pid);
	}
	fprintf(f, ",\"alive\":%s,\"stale\":%s,\"ifindex\":%u,\"mode\":\"%s\","
		"\"auth\":\"%s\",\"insecure_public\":%s,"
		"\"start_ns\":%llu,\"uptime_s\":%.1f,\"groups\":[",
		alive ? "true" : "false", alive ? "false" : "true", c->info.ifindex,
		counters_mode_name(c->info.mode), counters_auth_name(c->info.flags),
		c->info.flags & MCTUN_INFO_INSECURE_PUBLIC ? "true" : "false",
		(unsigned long long)c->info.start_ns, counters_since_s(c->info.start_ns, now));
	for (i = 0; i < c->ngroups; i++) {
		const struct counters_group *g = &c->groups[i];

		/* direction only when not both: the object stays as it was */
		fprintf(f, "%s{\"group\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"fragments\":%llu,"
			"\"ring_full\":%llu", i ? "," : "", g->name,
			(unsigned long long)g->st.packets, (unsigned long long)g->st.bytes,
			(unsigned long long)g->st.fragments, (unsigned long long)g->st.ring_full);
		if (g->flags & (MCTUN_GF_NOCAPTURE | MCTUN_GF_NOINJECT))
			fprintf(f, ",\"direction\":\"%s\"", counters_direction_name(g->flags));
		/* subscriptions: nobody wants it now; the part someone wants */
		if (g->flags & MCTUN_GF_IDLE)
			fprintf(f, ",\"idle\":true");
		if (g->flags & MCTUN_GF_WANTED)
			fprintf(f, ",\"wanted\":true");
		fprintf(f, "}");
	}
	fprintf(f, "],\"targets\":[");
	for (i = 0; i < c->ntargets; i++) {
		const struct counters_target *t = &c->targets[i];

		/* ifindex 0: the interface is gone; ttl 0: copies keep the datagram's */
		fprintf(f, "%s{\"ifname\":", i ? "," : "");
		json_string(f, t->ifname);
		fprintf(f, ",\"ifindex\":%u,\"ttl\":%u,", t->ifindex, t->ttl);
		/* direction out or both: it and what came from the target */
		if (t->flags & MCTUN_TF_OUT)
			fprintf(f, "\"direction\":\"%s\",", target_direction_name(t->flags));
		/* 'groups all', or the groups its receivers joined */
		fprintf(f, "\"groups\":\"%s\",\"joined\":[",
			t->flags & MCTUN_TF_ALL ? "all" : "learned");
		for (k = n = 0; k < c->ntgroups; k++) {
			const struct counters_tgroup *tg = &c->tgroups[k];

			if (tg->mask & (1u << i))
				fprintf(f, "%s\"%s\"", n++ ? "," : "",
					addr_str(tg->k.family, tg->k.addr, a, sizeof(a)));
		}
		fprintf(f, "],");
		if (t->have_st)
			fprintf(f, "\"packets\":%llu,\"bytes\":%llu,\"errors\":%llu,\"unjoined\":%llu",
				(unsigned long long)t->st.packets, (unsigned long long)t->st.bytes,
				(unsigned long long)t->st.errors, (unsigned long long)t->st.unjoined);
		else
			fprintf(f, "\"packets\":null,\"bytes\":null,\"errors\":null,\"unjoined\":null");
		if (!(t->flags & MCTUN_TF_OUT))
			fprintf(f, "}");
		else if (t->have_st)
			fprintf(f, ",\"from_packets\":%llu,\"from_bytes\":%llu,\"from_errors\":%llu}",
				(unsigned long long)t->st.from_packets,
				(unsigned long long)t->st.from_bytes,
				(unsigned long long)t->st.from_errors);
		else
			fprintf(f, ",\"from_packets\":null,\"from_bytes\":null,\"from_errors\":null}");
	}
	fprintf(f, "],\"bpf\":");
	if (c->have_stats) {
		for (i = 0; i < n_bpf_fields; i++)
			fprintf(f, "%s\"%s\":%llu", i ? "," : "{", bpf_fields[i].name,
				counter_get(&c->st, &bpf_fields[i]));
		fprintf(f, "}");
	} else {
		fprintf(f, "null");
	}
	fprintf(f, ",\"daemon\":");
	if (c->have_dstats) {
		fprintf(f, "{\"node_id\":\"%016llx\"", (unsigned long long)c->ds.node_id);
		for (i = 0; i < n_daemon_fields; i++)
			fprintf(f, ",\"%s\":%llu", daemon_fields[i].name,
				counter_get(&c->ds, &daemon_fields[i]));
		fprintf(f, "}");
	} else {
		fprintf(f, "null");
	}
	fprintf(f, ",\"peers\":[");
	for (i = 0; i < c->npeers; i++) {
		const struct mctun_peer_info *p = &c->peers[i];

		fprintf(f, "%s{\"address\":\"%s\",\"direction\":\"%s\",\"state\":\"%s\",",
			i ? "," : "", counters_peer_addr(p, a, sizeof(a)),
			p->outbound ? "outbound" : "inbound", counters_peer_state(p->state));
		if (p->state == MCTUN_PEER_UP && p->framing != MCTUN_FRAMING_UDPTUNNEL)
			fprintf(f, "\"node_id\":\"%016llx\",", (unsigned long long)p->node_id);
		else
			fprintf(f, "\"node_id\":null,");
		if (p->state == MCTUN_PEER_UP)
			fprintf(f, "\"up_since_ns\":%llu,\"up_s\":%.1f,",
				(unsigned long long)p->up_since_ns, counters_since_s(p->up_since_ns, now));
		else
			fprintf(f, "\"up_since_ns\":null,\"up_s\":null,");
		fprintf(f, "\"framing\":\"%s\",",
			p->framing == MCTUN_FRAMING_UDPTUNNEL ? "udptunnel" : "mctun");
		if (p->state == MCTUN_PEER_UP)
			fprintf(f, "\"transport\":\"%s\",\"subflows\":%u,",
				counters_transport_name(p->transport), p->subflows);
		else
			fprintf(f, "\"transport\":null,\"subflows\":null,");
		fprintf(f, "\"frames_in\":%llu,\"bytes_in\":%llu,\"frames_out\":%llu,"
			"\"bytes_out\":%llu,\"queue_drops\":%llu,\"queued\":%llu}",
			(unsigned long long)p->frames_in, (unsigned long long)p->bytes_in,
			(unsigned long long)p->frames_out, (unsigned long long)p->bytes_out,
			(unsigned long long)p->queue_drops, (unsigned long long)p->queued);
	}
	fprintf(f, "],\"learned\":[");
	for (i = 0; i < c->nmembers; i++) {
		const struct mctun_member_info *m = &c->members[i];

		fprintf(f, "%s{\"group\":\"%s\",\"filter\":\"%s\",\"hosts_version\":%u,"
			"\"timer_ms\":%u,\"reports\":%llu,\"nsources\":%u,\"sources\":[",
			i ? "," : "", addr_str(m->family, m->group, a, sizeof(a)),
			m->filter == 1 ? "include" : "exclude", m->compat, m->timer_ms,
			(unsigned long long)m->reports, m->nsrc);
		for (k = 0; k < m->nshown && k < 4; k++)
			fprintf(f, "%s\"%s\"", k ? "," : "", addr_str(m->family, m->srcs[k], a, sizeof(a)));
		fprintf(f, "]}");
	}
	fprintf(f, "],\"wants\":[");
	for (i = 0; i < c->nwants; i++) {
		const struct mctun_want_info *w = &c->wants[i];

		fprintf(f, "%s{\"node_id\":\"%016llx\",\"hops\":%u,\"want\":\"%s\"}",
			i ? "," : "", (unsigned long long)w->node_id, w->hops,
			counters_want_str(w, a, sizeof(a)));
	}
	fprintf(f, "]}");
}

const char *counters_want_str(const struct mctun_want_info *w, char *buf, size_t len)
{
	struct mc_group g = { .family = w->family, .plen = w->plen, .port = w->port };
	char s[GROUP_STRLEN];

	if (w->family == 0xff || w->kind == 2) {
		snprintf(buf, len, "all");
		return buf;
	}
	memcpy(g.addr, w->group, 16);
	group_str(&g, s, sizeof(s));
	if (w->kind == 0)
		snprintf(buf, len, "%s from %u source%s", s, w->nsrc, w->nsrc == 1 ? "" : "s");
	else if (w->nsrc)
		snprintf(buf, len, "%s but %u source%s", s, w->nsrc, w->nsrc == 1 ? "" : "s");
	else
		snprintf(buf, len, "%s", s);
	return buf;
}

const char *counters_member_str(const struct mctun_member_info *m, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	size_t n;
	unsigned int k;

	n = snprintf(buf, len, "%s %s {", addr_str(m->family, m->group, a, sizeof(a)),
		     m->filter == 1 ? "include" : "exclude");
	for (k = 0; k < m->nshown && k < 4 && n < len; k++)
		n += snprintf(buf + n, len - n, "%s%s", k ? ", " : "",
			      addr_str(m->family, m->srcs[k], a, sizeof(a)));
	if (n < len)
		snprintf(buf + n, len - n, "%s}", m->nsrc > m->nshown ? ", ..." : "");
	return buf;
}

/* ---- tables --------------------------------------------------------------- */

/* Column widths that fit every name and value of a table. */
struct field_widths {
	int name, value;
};

static void widths_fit(struct field_widths *w, const void *s,
		       const struct counter_field *fields, unsigned int n)
{
	char num[24];
	unsigned int i;

	for (i = 0; i < n; i++) {
		w->name = MAX(w->name, (int)strlen(fields[i].name));
		w->value = MAX(w->value, snprintf(num, sizeof(num), "%llu",
						  counter_get(s, &fields[i])));
	}
}

/* name/value pairs, three to a row, in columns of widths w */
static void table_fields(FILE *f, const char *title, const void *s,
			 const struct counter_field *fields, unsigned int n,
			 const struct field_widths *w)
{
	unsigned int i;

	fprintf(f, "\n%s\n", title);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%-*s %*llu%s", i % 3 ? "   " : "  ", w->name, fields[i].name,
			w->value, counter_get(s, &fields[i]), i % 3 == 2 || i + 1 == n ? "\n" : "");
}

void counters_table(FILE *f, const struct counters *c, bool alive, __u64 now)
{
	struct field_widths w = { .name = 14, .value = 14 };
	char a[GROUP_STRLEN], up[32];
	unsigned int i;
	bool from;

	fprintf(f, "mctun on %s: pid ", c->ifname);
	if (!(c->located && c->foreign_pid))
		fprintf(f, "%u", c->info.pid);
	else if (c->local_pid)
		fprintf(f, "%d", (int)c->local_pid);
	else
		fprintf(f, "?");
	fprintf(f, " (%s), mode %s, up %s", alive ? "running" : "gone",
		counters_mode_name(c->info.mode),
		counters_duration(counters_since_s(c->info.start_ns, now), up, sizeof(up)));
	if (c->have_dstats)
		fprintf(f, ", node %016llx", (unsigned long long)c->ds.node_id);
	fprintf(f, "\n");
	if (c->located && c->foreign_pid)
		counters_pidns_line(f, c, "");
	fprintf(f, "authentication: %s\n", counters_auth_desc(c->info.flags));
	if (c->dir[0])
		fprintf(f, "pins: %s\n", c->dir);
	/* both tables in the same columns, whatever their longest name or value */
	if (c->have_stats)
		widths_fit(&w, &c->st, bpf_fields, n_bpf_fields);
	if (c->have_dstats)
		widths_fit(&w, &c->ds, daemon_fields, n_daemon_fields);
	if (c->have_stats)
		table_fields(f, "BPF program", &c->st, bpf_fields, n_bpf_fields, &w);
	if (c->have_dstats)
		table_fields(f, "Daemon", &c->ds, daemon_fields, n_daemon_fields, &w);

	fprintf(f, "\nGroups\n  %-40s %12s %14s %10s %10s\n", "GROUP", "PACKETS", "BYTES",
		"FRAGMENTS", "RING_FULL");
	for (i = 0; i < c->ngroups; i++) {
		const struct counters_group *g = &c->groups[i];

		fprintf(f, "  %-40s", g->name);
		if (g->have_st)
			fprintf(f, " %12llu %14llu %10llu %10llu\n",
				(unsigned long long)g->st.packets, (unsigned long long)g->st.bytes,
				(unsigned long long)g->st.fragments,
				(unsigned long long)g->st.ring_full);
		else
			fprintf(f, " %12s %14s %10s %10s\n", "-", "-", "-", "-");
	}

	/* with a target of direction out or both, what came from each too */
	for (i = 0; i < c->ntargets && !(c->targets[i].flags & MCTUN_TF_OUT); i++)
		;
	from = i < c->ntargets;
	if (c->ntargets)
		fprintf(f, "\nTargets (--to)\n  %-16s %-8s %-8s %12s %14s %10s%s\n", "TARGET",
			"IFINDEX", "TTL", "PACKETS", "BYTES", "ERRORS",
			from ? "  DIR  FROM_PACKETS     FROM_BYTES FROM_ERRORS" : "");
	for (i = 0; i < c->ntargets; i++) {
		const struct counters_target *t = &c->targets[i];
		char idx[16], ttl[16];

		if (t->ifindex)
			snprintf(idx, sizeof(idx), "%u", t->ifindex);
		else
			snprintf(idx, sizeof(idx), "gone");
		if (t->ttl)
			snprintf(ttl, sizeof(ttl), "%u", t->ttl);
		else
			snprintf(ttl, sizeof(ttl), "as sent");
		fprintf(f, "  %-16s %-8s %-8s", t->ifname, idx, ttl);
		if (t->have_st)
			fprintf(f, " %12llu %14llu %10llu", (unsigned long long)t->st.packets,
				(unsigned long long)t->st.bytes, (unsigned long long)t->st.errors);
		else
			fprintf(f, " %12s %14s %10s", "-", "-", "-");
		if (from && t->have_st && (t->flags & MCTUN_TF_OUT))
			fprintf(f, "  %-4s %12llu %14llu %11llu", target_direction_name(t->flags),
				(unsigned long long)t->st.from_packets,
				(unsigned long long)t->st.from_bytes,
				(unsigned long long)t->st.from_errors);
		else if (from)
			fprintf(f, "  %-4s %12s %14s %11s", target_direction_name(t->flags), "-",
				"-", "-");
		fprintf(f, "\n");
	}

	fprintf(f, "\nPeers\n  %-46s %-8s %-10s %10s %14s %10s %14s %8s %10s\n", "PEER",
		"LINK", "STATE", "FRAMES_IN", "BYTES_IN", "FRAMES_OUT", "BYTES_OUT", "DROPS",
		"QUEUED");
	for (i = 0; i < c->npeers; i++) {
		const struct mctun_peer_info *p = &c->peers[i];

		fprintf(f, "  %-46s %-8s %-10s %10llu %14llu %10llu %14llu %8llu %10llu\n",
			counters_peer_addr(p, a, sizeof(a)), p->outbound ? "outbound" : "inbound",
			counters_peer_state(p->state), (unsigned long long)p->frames_in,
			(unsigned long long)p->bytes_in, (unsigned long long)p->frames_out,
			(unsigned long long)p->bytes_out, (unsigned long long)p->queue_drops,
			(unsigned long long)p->queued);
	}
	if (!c->npeers)
		fprintf(f, "  (none)\n");
}

/* ---- Prometheus text format ---------------------------------------------- */

/*
 * Families follow the Prometheus naming rules: a mctun_ prefix, base
 * units, _total on counters, and one family per quantity with labels
 * (direction, reason, source, ...) rather than one name per variant.
 * Every sample carries iface="..." so several instances can be scraped
 * into one job.
 */

static void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void prom_value(FILE *f, const char *s)
{
	if (!strpbrk(s, "\\\"\n")) {     /* the usual case, at thousands of groups */
		fputs_unlocked(s, f);
		return;
	}
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* name{iface="..",k1="v1",k2="v2"} value; k2 may be NULL. */
static void prom_sample(FILE *f, const struct counters *c, const char *name, const char *k1,
			const char *v1, const char *k2, const char *v2, unsigned long long value)
{
	fprintf(f, "%s{iface=\"", name);
	prom_value(f, c->ifname);
	if (k1) {
		fprintf(f, "\",%s=\"", k1);
		prom_value(f, v1);
	}
	if (k2) {
		fprintf(f, "\",%s=\"", k2);
		prom_value(f, v2);
	}
	fprintf(f, "\"} %llu\n", value);
}

/* One family whose samples are struct fields told apart by one label. */
struct prom_variant {
	const char *value;         /* of the label */
	size_t off;                /* of the __u64 field */
};

static void prom_variants(FILE *f, const struct counters *c, const void *s, const char *name,
			  const char *type, const char *help, const char *label,
			  const struct prom_variant *v, unsigned int n)
{
	unsigned int i;

	prom_family(f, name, type, help);
	for (i = 0; i < n; i++) {
		struct counter_field fl = { v[i].value, v[i].off };

		prom_sample(f, c, name, label, v[i].value, NULL, NULL, counter_get(s, &fl));
	}
}

#define ONE(type, field) (const struct prom_variant[]){ { NULL, offsetof(struct type, field) } }, 1
#define VARIANT(type, value, field) { value, offsetof(struct type, field) }

static void prom_bpf(FILE *f, const struct counters *c)
{
	static const struct prom_variant matched[] = {
		VARIANT(mctun_stats, "ingress", ingress), VARIANT(mctun_stats, "egress", egress),
	};
	static const struct prom_variant skipped[] = {
		VARIANT(mctun_stats, "self", self), VARIANT(mctun_stats, "loopback", loopback),
		VARIANT(mctun_stats, "direction_in", dir_in),
		VARIANT(mctun_stats, "not_wanted", unwanted),
	};
	static const struct prom_variant membership[] = {
		VARIANT(mctun_stats, "igmp", igmp), VARIANT(mctun_stats, "mld", mld),
	};
	static const struct prom_variant dropped[] = {
		VARIANT(mctun_stats, "ring_full", ring_full),
		VARIANT(mctun_stats, "too_big", too_big),
		VARIANT(mctun_stats, "malformed", malformed),
		VARIANT(mctun_stats, "range_fragment", range_frags),
	};
	const struct mctun_stats *s = &c->st;

	prom_variants(f, c, s, "mctun_bpf_seen_packets_total", "counter",
		      "Packets the BPF program ran on.", NULL, ONE(mctun_stats, seen));
	prom_variants(f, c, s, "mctun_bpf_multicast_packets_total", "counter",
		      "IPv4 and IPv6 UDP packets to a multicast address.", NULL,
		      ONE(mctun_stats, udp_mcast));
	prom_variants(f, c, s, "mctun_bpf_matched_packets_total", "counter",
		      "Datagrams of a configured group, by the hook that saw them "
		      "(egress: local senders).", "direction", matched, ARRAY_SIZE(matched));
	prom_variants(f, c, s, "mctun_bpf_pushed_packets_total", "counter",
		      "Datagrams written into the ring buffer.", NULL, ONE(mctun_stats, pushed));
	prom_variants(f, c, s, "mctun_bpf_pushed_bytes_total", "counter",
		      "Payload bytes written into the ring buffer.", NULL,
		      ONE(mctun_stats, pushed_bytes));
	prom_variants(f, c, s, "mctun_bpf_ended_packets_total", "counter",
		      "Datagrams captured from the island that ended in the BPF program: no "
		      "local application joined their group.", NULL, ONE(mctun_stats, ended));
	prom_variants(f, c, s, "mctun_bpf_fragments_total", "counter",
		      "Fragments of configured groups left to reassembly and the group socket.",
		      NULL, ONE(mctun_stats, fragments));
	prom_variants(f, c, s, "mctun_bpf_skipped_packets_total", "counter",
		      "Datagrams of configured groups not taken, on purpose: mctun's own "
		      "re-injections (self), looped-back copies of local sends (loopback), "
		      "groups carried only from the tunnel (direction_in), groups no peer "
		      "wants now (not_wanted).",
		      "reason", skipped, ARRAY_SIZE(skipped));
	prom_variants(f, c, s, "mctun_bpf_membership_messages_total", "counter",
		      "IGMP and MLD messages from the island handed to the daemon "
		      "(membership learning).", "protocol", membership, ARRAY_SIZE(membership));
	prom_variants(f, c, s, "mctun_bpf_dropped_packets_total", "counter",
		      "Packets the BPF program lost (ring_full), could not parse, or could not "
		      "carry (range_fragment: a fragmented datagram of a group only a range "
		      "matches).", "reason",
		      dropped, ARRAY_SIZE(dropped));
}

static void prom_groups(FILE *f, const struct counters *c)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fam[] = {
		{ "mctun_group_packets_total", "Datagrams of the group written into the ring.",
		  offsetof(struct mctun_gstats, packets) },
		{ "mctun_group_bytes_total", "Payload bytes of those datagrams.",
		  offsetof(struct mctun_gstats, bytes) },
		{ "mctun_group_fragments_total", "Fragments of the group marked for reassembly.",
		  offsetof(struct mctun_gstats, fragments) },
		{ "mctun_group_dropped_packets_total",
		  "Datagrams of the group lost: the ring had no room.",
		  offsetof(struct mctun_gstats, ring_full) },
	};
	unsigned int i, j;
	bool any = false;

	for (j = 0; j < c->ngroups; j++)
		any |= c->groups[j].have_st;
	if (!any)
		return;
	for (i = 0; i < ARRAY_SIZE(fam); i++) {
		prom_family(f, fam[i].name, "counter", fam[i].help);
		for (j = 0; j < c->ngroups; j++) {
			const struct counters_group *g = &c->groups[j];
			struct counter_field fl = { fam[i].name, fam[i].off };

			if (!g->have_st)
				continue;
			if (i == 3)
				prom_sample(f, c, fam[i].name, "group", g->name, "reason",
					    "ring_full", counter_get(&g->st, &fl));
			else
				prom_sample(f, c, fam[i].name, "group", g->name, NULL, NULL,
					    counter_get(&g->st, &fl));
		}
	}
}

/* The local targets (--to), by the name they were given. */
static void prom_targets(FILE *f, const struct counters *c)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fam[] = {
		{ "mctun_target_packets_total",
		  "Datagrams copied to the local target (--to), a fragment each.",
		  offsetof(struct mctun_tstats, packets) },
		{ "mctun_target_bytes_total", "Bytes of those copies, from the IP header on.",
		  offsetof(struct mctun_tstats, bytes) },
		{ "mctun_target_errors_total",
		  "Copies to the local target the kernel refused (its interface gone or down).",
		  offsetof(struct mctun_tstats, errors) },
		/* direction out or both (these families only when a target has it) */
		{ "mctun_target_from_packets_total",
		  "Datagrams sent from behind the local target forwarded onto the island, a "
		  "fragment each.", offsetof(struct mctun_tstats, from_packets) },
		{ "mctun_target_from_bytes_total",
		  "Bytes of those datagrams, from the IP header on.",
		  offsetof(struct mctun_tstats, from_bytes) },
		{ "mctun_target_from_errors_total",
		  "Datagrams from behind the local target the kernel refused to send onto the "
		  "island.", offsetof(struct mctun_tstats, from_errors) },
	};
	unsigned int i, j;
	bool any = false, from = false;

	for (j = 0; j < c->ntargets; j++) {
		any |= c->targets[j].have_st;
		from |= c->targets[j].have_st && (c->targets[j].flags & MCTUN_TF_OUT);
	}
	if (!any)
		return;
	for (i = 0; i < ARRAY_SIZE(fam); i++) {
		bool of_from = fam[i].off >= offsetof(struct mctun_tstats, from_packets);

		if (of_from && !from)
			break;
		prom_family(f, fam[i].name, "counter", fam[i].help);
		for (j = 0; j < c->ntargets; j++) {
			const struct counters_target *t = &c->targets[j];
			struct counter_field fl = { fam[i].name, fam[i].off };

			if (of_from && !(t->flags & MCTUN_TF_OUT))
				continue;
			if (t->have_st)
				prom_sample(f, c, fam[i].name, "target", t->ifname, NULL, NULL,
					    counter_get(&t->st, &fl));
		}
	}
}

static void prom_daemon(FILE *f, const struct counters *c)
{
	static const struct prom_variant captured[] = {
		VARIANT(mctun_dstats, "ring", cap_ring), VARIANT(mctun_dstats, "socket", cap_sock),
	};
	static const struct prom_variant dropped[] = {
		VARIANT(mctun_dstats, "loop", drop_loop),
		VARIANT(mctun_dstats, "duplicate", drop_dup),
		VARIANT(mctun_dstats, "max_hops", drop_hops),
		VARIANT(mctun_dstats, "unknown_group", drop_group),
		VARIANT(mctun_dstats, "queue_full", queue_drops),
		VARIANT(mctun_dstats, "framing", framing_drops),
		VARIANT(mctun_dstats, "direction_out", drop_direction),
		VARIANT(mctun_dstats, "not_wanted", drop_unwanted),
	};
	static const struct prom_variant refused[] = {
		VARIANT(mctun_dstats, "not_allowed", refused_allow),
		VARIANT(mctun_dstats, "max_pending", refused_pending),
		VARIANT(mctun_dstats, "plain_text", refused_plain),
		VARIANT(mctun_dstats, "timeout", refused_timeout),
	};
	static const struct prom_variant mship_msgs[] = {
		VARIANT(mctun_dstats, "report", mship_reports),
		VARIANT(mctun_dstats, "leave", mship_leaves),
		VARIANT(mctun_dstats, "query", queries_heard),
		VARIANT(mctun_dstats, "bad", mship_bad),
	};
	static const struct prom_variant announce[] = {
		VARIANT(mctun_dstats, "in", announce_in), VARIANT(mctun_dstats, "out", announce_out),
	};
	static const struct prom_variant ring_reads[] = {
		VARIANT(mctun_dstats, "wakeup", ring_wakeups),
		VARIANT(mctun_dstats, "timer", ring_drains),
	};
	static const struct prom_variant http[] = {
		VARIANT(mctun_dstats, "ok", http_ok), VARIANT(mctun_dstats, "error", http_errors),
	};
	const struct mctun_dstats *s = &c->ds;

	prom_variants(f, c, s, "mctun_captured_datagrams_total", "counter",
		      "Datagrams the daemon took from the island, from the ring or a group "
		      "socket (fragmented ones, socket mode).", "source", captured,
		      ARRAY_SIZE(captured));
	prom_variants(f, c, s, "mctun_capture_skipped_datagrams_total", "counter",
		      "Datagrams a group socket saw that were mctun's own re-injections.",
		      NULL, ONE(mctun_dstats, cap_self));
	prom_variants(f, c, s, "mctun_injected_datagrams_total", "counter",
		      "Datagrams from the tunnel sent onto the island.", NULL,
		      ONE(mctun_dstats, injected));
	prom_variants(f, c, s, "mctun_rewritten_datagrams_total", "counter",
		      "Datagrams from the tunnel re-injected to their group's rewrite target "
		      "(part of mctun_injected_datagrams_total).", NULL,
		      ONE(mctun_dstats, rewritten));
	prom_variants(f, c, s, "mctun_inject_errors_total", "counter",
		      "Datagrams from the tunnel the send socket refused.", NULL,
		      ONE(mctun_dstats, inject_errors));
	prom_variants(f, c, s, "mctun_dropped_frames_total", "counter",
		      "Tunnel frames dropped: our own (loop), already handled (duplicate), "
		      "past --max-hops, for a group not carried here, on a full peer queue, "
		      "that a peer's framing cannot carry (udptunnel: empty datagrams), or "
		      "not re-injected here for a group of direction out or one nobody on the "
		      "island joined (both still passed on).",
		      "reason", dropped, ARRAY_SIZE(dropped));
	prom_variants(f, c, s, "mctun_bad_frames_total", "counter",
		      "Malformed frames; each closed its connection.", NULL,
		      ONE(mctun_dstats, bad_frames));
	prom_variants(f, c, s, "mctun_refused_connections_total", "counter",
		      "Inbound tunnel connections refused, for any reason.", NULL,
		      ONE(mctun_dstats, refused));
	prom_variants(f, c, s, "mctun_refused_connections_by_reason_total", "counter",
		      "Inbound tunnel connections refused: outside --allow, closed for a newer "
		      "one past --max-pending, plain text at a TLS listener, handshake past "
		      "--auth-timeout.", "reason", refused, ARRAY_SIZE(refused));
	prom_variants(f, c, s, "mctun_auth_failures_total", "counter",
		      "TLS handshakes that failed authentication (certificate, CA, key), "
		      "either direction.", NULL, ONE(mctun_dstats, refused_auth));
	prom_variants(f, c, s, "mctun_peers_up", "gauge",
		      "Peers with the hello exchanged.", NULL, ONE(mctun_dstats, peers_up));
	prom_variants(f, c, s, "mctun_membership_groups", "gauge",
		      "Groups learned on the island from IGMP/MLD (--membership learn).", NULL,
		      ONE(mctun_dstats, mship_groups));
	prom_variants(f, c, s, "mctun_membership_messages_total", "counter",
		      "IGMP/MLD messages heard on the island: reports, leaves (and MLD dones), "
		      "other queriers' queries, and those refused as bad (malformed, TTL not 1, "
		      "no router alert).", "kind", mship_msgs, ARRAY_SIZE(mship_msgs));
	prom_variants(f, c, s, "mctun_membership_refused_groups_total", "counter",
		      "Groups not learned: outside the configuration, over --max-groups, or of "
		      "link-local scope.", NULL, ONE(mctun_dstats, mship_refused));
	prom_variants(f, c, s, "mctun_queries_sent_total", "counter",
		      "IGMP/MLD queries sent as the island's querier.", NULL,
		      ONE(mctun_dstats, queries_sent));
	prom_variants(f, c, s, "mctun_query_errors_total", "counter",
		      "IGMP/MLD queries the socket refused.", NULL, ONE(mctun_dstats, query_errors));
	prom_family(f, "mctun_querier", "gauge",
		    "1 while this instance is the island's IGMP (family ipv4) or MLD (ipv6) "
		    "querier.");
	prom_sample(f, c, "mctun_querier", "family", "ipv4", NULL, NULL, s->querier & 1);
	prom_sample(f, c, "mctun_querier", "family", "ipv6", NULL, NULL, !!(s->querier & 2));
	prom_variants(f, c, s, "mctun_capture_all", "gauge",
		      "1 while every configured group is captured (someone wants all of them, "
		      "or a peer that does not subscribe is up); 0 while only what peers want.",
		      NULL, ONE(mctun_dstats, capture_all));
	prom_variants(f, c, s, "mctun_want_origins", "gauge",
		      "Gateways in the tunnel whose wants (subscriptions) this one knows.", NULL,
		      ONE(mctun_dstats, want_origins));
	prom_variants(f, c, s, "mctun_announcements_total", "counter",
		      "Subscription announcements received and sent whole.", "direction",
		      announce, ARRAY_SIZE(announce));
	prom_variants(f, c, s, "mctun_join_errors_total", "counter",
		      "Group sockets that could not open or join a group on the island.", NULL,
		      ONE(mctun_dstats, join_errors));
	prom_variants(f, c, s, "mctun_resume_replayed_frames_total", "counter",
		      "Frames sent again to a peer that came back within the --resume window.",
		      NULL, ONE(mctun_dstats, resume_replayed));
	prom_variants(f, c, s, "mctun_resume_gap_frames_total", "counter",
		      "Frames a peer that came back had missed and that had left the --resume "
		      "window (or its bytes): lost.", NULL, ONE(mctun_dstats, resume_gap));
	prom_variants(f, c, s, "mctun_resume_overflow_frames_total", "counter",
		      "Frames pushed out of a --resume window for room (--queue-size, "
		      "--queue-total) before the peer acknowledged them.", NULL,
		      ONE(mctun_dstats, resume_overflow));
	prom_variants(f, c, s, "mctun_resume_refused_total", "counter",
		      "Acknowledgements and resume requests that lied (ahead of what was sent, "
		      "behind what was acknowledged, from an unknown node); each closed its "
		      "connection.", NULL, ONE(mctun_dstats, resume_refused));
	if (c->have_info && c->info.mode != MCTUN_MODE_SOCKET) {
		prom_variants(f, c, s, "mctun_ring_reads_total", "counter",
			      "Reads of the BPF ring: woken by it (wakeup), or on the --coalesce "
			      "timer while the rate was high (timer).", "how", ring_reads,
			      ARRAY_SIZE(ring_reads));
		prom_variants(f, c, s, "mctun_ring_coalesce_switches_total", "counter",
			      "Switches from a ring wake-up per datagram to reads on the "
			      "--coalesce timer.", NULL, ONE(mctun_dstats, ring_coalesced));
	}
	prom_variants(f, c, s, "mctun_metrics_requests_total", "counter",
		      "Requests to the --metrics server: answered 200 (ok) or 4xx/5xx (error).",
		      "result",
		      http, ARRAY_SIZE(http));
	prom_variants(f, c, s, "mctun_metrics_refused_connections_total", "counter",
		      "Clients of the --metrics server closed for a newer one: every slot busy.",
		      NULL, ONE(mctun_dstats, http_refused));
	prom_variants(f, c, s, "mctun_metrics_timeouts_total", "counter",
		      "Clients of the --metrics server closed for not finishing in time.",
		      NULL, ONE(mctun_dstats, http_timeouts));
}

enum peer_metric { PM_UP, PM_FRAMES, PM_BYTES, PM_DROPS, PM_QUEUED, PM_SINCE, PM_SUBFLOWS, PM_N };

static void prom_peer_sample(FILE *f, const struct counters *c, const struct mctun_peer_info *p,
			     const char *name, const char *dir, unsigned long long v)
{
	char a[ADDR_STRLEN + 16];

	counters_peer_addr(p, a, sizeof(a));
	fprintf(f, "%s{iface=\"", name);
	prom_value(f, c->ifname);
	fprintf(f, "\",peer=\"");
	prom_value(f, a);
	fprintf(f, "\",connection=\"%s\"", p->outbound ? "outbound" : "inbound");
	if (dir)
		fprintf(f, ",direction=\"%s\"", dir);
	fprintf(f, "} %llu\n", v);
}

static void prom_peers(FILE *f, const struct counters *c)
{
	static const struct {
		const char *name, *type, *help;
	} fam[PM_N] = {
		[PM_UP] = { "mctun_peer_up", "gauge",
			    "1 when the peer's hello is exchanged and frames flow." },
		[PM_FRAMES] = { "mctun_peer_frames_total", "counter",
				"Data frames from (in) and to (out) the peer." },
		[PM_BYTES] = { "mctun_peer_bytes_total", "counter",
			       "Bytes of those frames, headers included." },
		[PM_DROPS] = { "mctun_peer_dropped_frames_total", "counter",
			       "Frames for the peer dropped: its queue was full." },
		[PM_QUEUED] = { "mctun_peer_queued_bytes", "gauge",
				"Bytes waiting in the peer's output queue." },
		[PM_SINCE] = { "mctun_peer_up_since_seconds", "gauge",
			       "Unix time the peer came up (peers that are up)." },
		[PM_SUBFLOWS] = { "mctun_peer_subflows", "gauge",
				  "Multipath TCP subflows the connection uses now (--transport "
				  "mptcp; 0: plain TCP; peers that are up)." },
	};
	unsigned int m, i;

	for (m = 0; m < PM_N; m++) {
		prom_family(f, fam[m].name, fam[m].type, fam[m].help);
		for (i = 0; i < c->npeers; i++) {
			const struct mctun_peer_info *p = &c->peers[i];
			const char *n = fam[m].name;

			switch (m) {
			case PM_UP:
				prom_peer_sample(f, c, p, n, NULL, p->state == MCTUN_PEER_UP);
				break;
			case PM_FRAMES:
				prom_peer_sample(f, c, p, n, "in", p->frames_in);
				prom_peer_sample(f, c, p, n, "out", p->frames_out);
				break;
			case PM_BYTES:
				prom_peer_sample(f, c, p, n, "in", p->bytes_in);
				prom_peer_sample(f, c, p, n, "out", p->bytes_out);
				break;
			case PM_DROPS:
				prom_peer_sample(f, c, p, n, NULL, p->queue_drops);
				break;
			case PM_QUEUED:
				prom_peer_sample(f, c, p, n, NULL, p->queued);
				break;
			case PM_SINCE:
				if (p->state == MCTUN_PEER_UP)
					prom_peer_sample(f, c, p, n, NULL,
							 p->up_since_ns / 1000000000ull);
				break;
			case PM_SUBFLOWS:
				if (p->state == MCTUN_PEER_UP)
					prom_peer_sample(f, c, p, n, NULL, p->subflows);
				break;
			}
		}
	}
}

void counters_prometheus(FILE *f, const struct counters *c)
{
	prom_family(f, "mctun_info", "gauge",
		    "The instance: its capture mode, node id and how peers authenticate "
		    "(auth none: --insecure, unauthenticated) (value 1).");
	fprintf(f, "mctun_info{iface=\"");
	prom_value(f, c->ifname);
	fprintf(f, "\",mode=\"%s\",node_id=\"%016llx\",auth=\"%s\"} 1\n",
		counters_mode_name(c->info.mode),
		(unsigned long long)(c->have_dstats ? c->ds.node_id : 0),
		counters_auth_name(c->info.flags));
	prom_family(f, "mctun_start_time_seconds", "gauge", "Unix time the instance started.");
	prom_sample(f, c, "mctun_start_time_seconds", NULL, NULL, NULL, NULL,
		    c->info.start_ns / 1000000000ull);
	if (c->have_stats)
		prom_bpf(f, c);
	prom_groups(f, c);
	prom_targets(f, c);
	if (c->have_dstats)
		prom_daemon(f, c);
	prom_peers(f, c);
}
