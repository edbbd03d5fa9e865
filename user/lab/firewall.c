// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * doctor's firewall readers (firewall.h).
 *
 * nft's JSON (libnftables-json(5), as `nft -j list ruleset` prints it),
 * parsed with json-c, is a list of objects, tables first, then chains,
 * then rules; a rule's "expr" is its statements, each an object of one key
 * ("match", "counter", "drop", ...). A rule drops when a "drop" or "reject" appears anywhere in
 * it (a verdict map included); it names our traffic when one of its
 * strings (protocols, values, set elements, prefixes, its comment) holds
 * one of the words below (what the text scan this replaced looked for).
 * The quoted text of a hit is rendered the way `nft list ruleset` prints
 * the common statements; rarer expressions show by their name, and a
 * netdev chain without its device (nft 1.0.6 leaves it out of the JSON).
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "firewall.h"
#include "util.h"

static void fw_hit(struct fw_scan *s, const char *text)
{
	if (!s->hits++)
		snprintf(s->first, sizeof(s->first), "%.*s", (int)sizeof(s->first) - 1, text);
}

/* ---- iptables-save: its text ------------------------------------------- */

static bool ipt_mentions_ours(const struct fw_scan *s, const char *l)
{
	static const char *const words[] = {
		"-p udp", "-p igmp", "-p 2 ", "-p ipv6-icmp", "-p icmpv6", "multicast",
		"224.0.0.0/4", "ff00::/8",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strstr(l, words[i]))
			return true;
	return s->group && strstr(l, s->group);
}

void fw_scan_ipt_line(struct fw_scan *s, const char *line)
{
	/* a built-in chain that drops what no rule accepts */
	if (line[0] == ':' && (strstr(line, " DROP ") || strstr(line, " REJECT "))) {
		fw_hit(s, line);
		return;
	}
	if (strncmp(line, "-A ", 3))
		return;
	s->rules++;
	if ((strstr(line, "-j DROP") || strstr(line, "-j REJECT")) && ipt_mentions_ours(s, line))
		fw_hit(s, line);
}

/* ---- nft: its JSON ------------------------------------------------------- */

static const char *const nft_words[] = {
	"udp", "igmp", "multicast", "224.0.0.0/4", "ff00::/8", "icmpv6", "mld",
};

/* Text built up to a bound, cut when longer. */
struct text {
	char buf[512];
	size_t len;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len = MIN(t->len + n, sizeof(t->buf) - 1);
}

/* JSON null is a NULL json_object: every helper takes one. */
static bool is(json_object *o, enum json_type type)
{
	return json_object_is_type(o, type);
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	return is(o, json_type_object) && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static bool has(json_object *o, const char *key)
{
	return is(o, json_type_object) && json_object_object_get_ex(o, key, NULL);
}

static const char *str(json_object *v)
{
	return is(v, json_type_string) ? json_object_get_string(v) : "";
}

static const char *str_of(json_object *o, const char *key)
{
	return str(get(o, key));
}

static long long int_of(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return is(v, json_type_int) ? (long long)json_object_get_int64(v) : 0;
}

static size_t len_of(json_object *a)
{
	return is(a, json_type_array) ? json_object_array_length(a) : 0;
}

static json_object *at(json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}

/* The one key of a statement or expression object, and its value. */
static const char *only_key(json_object *o, json_object **val)
{
	*val = NULL;
	if (!is(o, json_type_object))
		return "";
	json_object_object_foreach(o, k, v) {
		*val = v;
		return k;
	}
	return "";
}

/* "224.0.0.0/4" of {"prefix": {"addr": "224.0.0.0", "len": 4}}. */
static void prefix_text(json_object *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%lld", str_of(p, "addr"), int_of(p, "len"));
}

static bool has_word(const struct fw_scan *s, const char *text)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nft_words); i++)
		if (strstr(text, nft_words[i]))
			return true;
	return s->group && strstr(text, s->group);
}

/* Whether any string in v (values, not keys), or a prefix, holds one of
 * nft_words or the group. */
static bool names_ours(const struct fw_scan *s, json_object *v)
{
	char pfx[80];
	size_t i;

	if (is(v, json_type_string))
		return has_word(s, str(v));
	if (is(v, json_type_array)) {
		for (i = 0; i < len_of(v); i++)
			if (names_ours(s, at(v, i)))
				return true;
		return false;
	}
	if (!is(v, json_type_object))
		return false;
	if (is(get(v, "prefix"), json_type_object)) {
		prefix_text(get(v, "prefix"), pfx, sizeof(pfx));
		if (has_word(s, pfx))
			return true;
	}
	json_object_object_foreach(v, k, x) {
		(void)k;
		if (names_ours(s, x))
			return true;
	}
	return false;
}

/* Whether a "drop" or "reject" appears anywhere in v. */
static bool drops(json_object *v)
{
	size_t i;

	if (is(v, json_type_array)) {
		for (i = 0; i < len_of(v); i++)
			if (drops(at(v, i)))
				return true;
		return false;
	}
	if (!is(v, json_type_object))
		return false;
	json_object_object_foreach(v, k, x)
		if (!strcmp(k, "drop") || !strcmp(k, "reject") || drops(x))
			return true;
	return false;
}

/* Meta keys nft prints without "meta ". */
static bool meta_unqualified(const char *key)
{
	static const char *const keys[] = {
		"iif", "oif", "iifname", "oifname", "iifgroup", "oifgroup",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

static void render_expr(struct text *t, json_object *e, bool quote);

static void render_list(struct text *t, json_object *a, const char *sep, bool quote)
{
	size_t i;

	for (i = 0; i < len_of(a); i++) {
		if (i)
			add(t, "%s", sep);
		render_expr(t, at(a, i), quote);
	}
}

/* An expression: a value, or an object of one key. quote: strings are
 * names nft prints in quotes (interface names). */
static void render_expr(struct text *t, json_object *e, bool quote)
{
	json_object *v;
	const char *k;

	if (is(e, json_type_string)) {
		add(t, quote ? "\"%s\"" : "%s", str(e));
		return;
	}
	if (is(e, json_type_int)) {
		add(t, "%lld", (long long)json_object_get_int64(e));
		return;
	}
	if (is(e, json_type_boolean)) {
		add(t, "%s", json_object_get_boolean(e) ? "exists" : "missing");
		return;
	}
	if (is(e, json_type_array)) {      /* flags, as ct state invalid,new */
		render_list(t, e, ",", quote);
		return;
	}
	k = only_key(e, &v);
	if (!strcmp(k, "payload")) {
		if (has(v, "protocol"))
			add(t, "%s %s", str_of(v, "protocol"), str_of(v, "field"));
		else
			add(t, "@%s,%lld,%lld", str_of(v, "base"), int_of(v, "offset"),
			    int_of(v, "len"));
	} else if (!strcmp(k, "meta")) {
		add(t, meta_unqualified(str_of(v, "key")) ? "%s" : "meta %s", str_of(v, "key"));
	} else if (!strcmp(k, "ct")) {
		add(t, "ct %s%s%s", str_of(v, "dir"), *str_of(v, "dir") ? " " : "",
		    str_of(v, "key"));
	} else if (!strcmp(k, "fib")) {
		add(t, "fib ");
		if (is(get(v, "flags"), json_type_array))
			render_list(t, get(v, "flags"), " . ", false);
		else
			render_expr(t, get(v, "flags"), false);
		add(t, " %s", str_of(v, "result"));
	} else if (!strcmp(k, "prefix")) {
		char pfx[80];

		prefix_text(v, pfx, sizeof(pfx));
		add(t, "%s", pfx);
	} else if (!strcmp(k, "range")) {
		render_list(t, v, "-", quote);
	} else if (!strcmp(k, "set") && is(v, json_type_array)) {
		add(t, "{ ");
		render_list(t, v, ", ", quote);
		add(t, " }");
	} else if (!strcmp(k, "set")) {    /* a set of one */
		render_expr(t, v, quote);
	} else if (!strcmp(k, "concat")) {
		render_list(t, v, " . ", quote);
	} else if (!strcmp(k, "elem")) {
		render_expr(t, get(v, "val"), quote);
	} else if (!strcmp(k, "&") || !strcmp(k, "|") || !strcmp(k, "^") ||
		   !strcmp(k, "<<") || !strcmp(k, ">>")) {
		if (len_of(v) == 2) {
			render_expr(t, at(v, 0), quote);
			add(t, " %s ", k);
			render_expr(t, at(v, 1), quote);
		}
	} else if (!strcmp(k, "jump") || !strcmp(k, "goto")) {
		add(t, "%s %s", k, str_of(v, "target"));
	} else {                           /* accept, drop, continue, return, and the rest */
		add(t, "%s", k);
	}
}

/* A verdict map's elements, [key, verdict] each. */
static void render_map(struct text *t, json_object *set)
{
	size_t i;

	add(t, "{ ");
	for (i = 0; i < len_of(set); i++) {
		json_object *x = at(set, i);

		if (i)
			add(t, ", ");
		if (len_of(x) == 2) {
			render_expr(t, at(x, 0), false);
			add(t, " : ");
			render_expr(t, at(x, 1), false);
		} else {
			render_expr(t, x, false);
		}
	}
	add(t, " }");
}

/* A reject's "with ...", left out where it is the family's default. */
static void render_reject(struct text *t, json_object *v, const char *family)
{
	const char *type = str_of(v, "type"), *code = str_of(v, "expr");
	bool dflt = !*type || (!strcmp(code, "port-unreachable") &&
			       ((!strcmp(type, "icmpx") && !strcmp(family, "inet")) ||
				(!strcmp(type, "icmp") && !strcmp(family, "ip")) ||
				(!strcmp(type, "icmpv6") && !strcmp(family, "ip6"))));

	add(t, "reject");
	if (!dflt)
		add(t, " with %s%s%s", type, *code ? " " : "", code);
}

static void render_stmt(struct text *t, json_object *st, const char *family)
{
	json_object *v, *left;
	const char *k, *op;

	k = only_key(st, &v);
	if (!strcmp(k, "match")) {
		left = get(v, "left");
		op = str_of(v, "op");
		render_expr(t, left, false);
		if (*op && strcmp(op, "==") && strcmp(op, "in"))
			add(t, " %s", op);
		add(t, " ");
		render_expr(t, get(v, "right"), has(left, "meta") &&
			    strstr(str_of(get(left, "meta"), "key"), "name"));
	} else if (!strcmp(k, "counter") && is(v, json_type_object)) {
		add(t, "counter packets %lld bytes %lld", int_of(v, "packets"), int_of(v, "bytes"));
	} else if (!strcmp(k, "counter") && is(v, json_type_string)) {
		add(t, "counter name \"%s\"", str(v));
	} else if (!strcmp(k, "reject")) {
		render_reject(t, v, family);
	} else if (!strcmp(k, "log")) {
		add(t, "log");
		if (has(v, "prefix"))
			add(t, " prefix \"%s\"", str_of(v, "prefix"));
		if (has(v, "level"))
			add(t, " level %s", str_of(v, "level"));
	} else if (!strcmp(k, "limit") && is(v, json_type_object)) {
		long long burst = int_of(v, "burst");
		json_object *inv = get(v, "inv");

		add(t, "limit rate %s%lld/%s", is(inv, json_type_boolean) &&
		    json_object_get_boolean(inv) ? "over " : "", int_of(v, "rate"),
		    str_of(v, "per"));
		if (burst && burst != 5)
			add(t, " burst %lld packets", burst);
	} else if (!strcmp(k, "vmap") && is(v, json_type_object)) {
		render_expr(t, get(v, "key"), false);
		add(t, " vmap ");
		if (is(get(get(v, "data"), "set"), json_type_array))
			render_map(t, get(get(v, "data"), "set"));
		else
			render_expr(t, get(v, "data"), false);
	} else {
		render_expr(t, st, false);
	}
}

static void render_rule(struct text *t, json_object *rule)
{
	json_object *expr = get(rule, "expr");
	size_t i;

	for (i = 0; i < len_of(expr); i++) {
		if (i)
			add(t, " ");
		render_stmt(t, at(expr, i), str_of(rule, "family"));
	}
	if (has(rule, "comment"))
		add(t, " comment \"%s\"", str_of(rule, "comment"));
}

/* A standard priority's name, as nft prints it within 10 of one. */
static void render_prio(struct text *t, const char *family, const char *hook, long long prio)
{
	static const struct {
		const char *name;
		int prio;
		bool bridge;
		const char *hook;     /* only on this hook; NULL: any */
	} std[] = {
		{ "raw", -300, false, NULL }, { "mangle", -150, false, NULL },
		{ "dstnat", -100, false, "prerouting" }, { "filter", 0, false, NULL },
		{ "security", 50, false, NULL }, { "srcnat", 100, false, "postrouting" },
		{ "dstnat", -300, true, "prerouting" }, { "filter", -200, true, NULL },
		{ "out", 100, true, "output" }, { "srcnat", 300, true, "postrouting" },
	};
	bool bridge = !strcmp(family, "bridge"), ipfam = !strcmp(family, "ip") ||
		      !strcmp(family, "ip6") || !strcmp(family, "inet");
	size_t i;

	for (i = 0; i < ARRAY_SIZE(std) && prio > INT_MIN && prio < INT_MAX; i++) {
		long long off = prio - std[i].prio;

		if (std[i].bridge != bridge || (std[i].hook && strcmp(std[i].hook, hook)))
			continue;
		if (!bridge && !ipfam && strcmp(std[i].name, "filter"))
			continue;   /* netdev, arp: filter alone */
		if (off < -10 || off > 10)
			continue;
		add(t, "%s", std[i].name);
		if (off)
			add(t, " %c %lld", off > 0 ? '+' : '-', off > 0 ? off : -off);
		return;
	}
	add(t, "%lld", prio);
}

/* A base chain's line "type filter hook input priority filter; policy drop;". */
static void render_chain(struct text *t, json_object *c)
{
	json_object *dev = get(c, "dev");

	add(t, "type %s hook %s", str_of(c, "type"), str_of(c, "hook"));
	if (is(dev, json_type_string)) {
		add(t, " device \"%s\"", str(dev));
	} else if (is(dev, json_type_array)) {
		add(t, " devices = { ");
		render_list(t, dev, ", ", false);
		add(t, " }");
	}
	add(t, " priority ");
	render_prio(t, str_of(c, "family"), str_of(c, "hook"), int_of(c, "prio"));
	add(t, "; policy %s;", str_of(c, "policy"));
}

static bool same_chain(json_object *rule, json_object *chain)
{
	return !strcmp(str_of(rule, "family"), str_of(chain, "family")) &&
	       !strcmp(str_of(rule, "table"), str_of(chain, "table")) &&
	       !strcmp(str_of(rule, "chain"), str_of(chain, "name"));
}

static void scan_rule(struct fw_scan *s, json_object *rule)
{
	json_object *expr = get(rule, "expr");
	struct text t = {};

	s->rules++;
	if (!drops(expr) || !(names_ours(s, expr) || names_ours(s, get(rule, "comment"))))
		return;
	render_rule(&t, rule);
	fw_hit(s, t.buf);
}

int fw_scan_nft_json(struct fw_scan *s, const char *json, size_t len, char *err, size_t errlen)
{
	json_object *root, *list, *chain, *rule;
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	size_t i, j;

	if (len > INT_MAX) {
		snprintf(err, errlen, "a ruleset of %zu bytes", len);
		return -E2BIG;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		json_object_put(root);
		snprintf(err, errlen, "not JSON: %s", json_tokener_error_desc(jerr));
		return -EINVAL;
	}
	list = get(root, "nftables");
	if (!is(list, json_type_array)) {
		snprintf(err, errlen, "no \"nftables\" list in its JSON");
		json_object_put(root);
		return -EINVAL;
	}
	/* chain by chain, each one's policy then its rules, as the text lists them */
	for (i = 0; i < len_of(list); i++) {
		chain = get(at(list, i), "chain");
		if (!is(chain, json_type_object))
			continue;
		if (has(chain, "hook") && !strcmp(str_of(chain, "policy"), "drop")) {
			struct text t = {};

			render_chain(&t, chain);
			fw_hit(s, t.buf);
		}
		for (j = 0; j < len_of(list); j++) {
			rule = get(at(list, j), "rule");
			if (is(rule, json_type_object) && same_chain(rule, chain))
				scan_rule(s, rule);
		}
	}
	json_object_put(root);
	return 0;
}
