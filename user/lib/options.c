// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The option table engine (options.h). An option without a short name is
 * known to getopt_long by OPT_VAL_BASE + its index, so the table alone says
 * everything; the leading ':' of the short options makes a missing value
 * ':' rather than '?', and opt_error() names either in one line.
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "options.h"
#include "util.h"

#define OPT_VAL_BASE 0x100

void opt_parser_init(struct opt_parser *p, const char *cmd, const struct opt *opts,
		     unsigned int n)
{
	char *s = p->shortopts;
	unsigned int i, k = 0;

	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	p->opts = opts;
	p->n = MIN(n, OPT_MAX);
	*s++ = ':';       /* a missing value returns ':', told apart from unknown */
	for (i = 0; i < p->n; i++) {
		const struct opt *o = &opts[i];

		if (!o->name)
			continue;
		p->longopts[k++] = (struct option){ o->name,
			o->arg ? required_argument : no_argument, NULL,
			o->short_name ? o->short_name : OPT_VAL_BASE + (int)i };
		if (o->short_name) {
			*s++ = o->short_name;
			if (o->arg)
				*s++ = ':';
		}
	}
	*s = '\0';
	opt_rewind(p);
}

void opt_rewind(struct opt_parser *p)
{
	optind = 0;
	opterr = 0;
	memset(p->given, 0, sizeof(p->given));
}

static int opt_by_val(const struct opt_parser *p, int c)
{
	unsigned int i;

	if (c >= OPT_VAL_BASE && c < OPT_VAL_BASE + (int)p->n)
		return c - OPT_VAL_BASE;
	for (i = 0; i < p->n; i++)
		if (p->opts[i].name && p->opts[i].short_name && p->opts[i].short_name == c)
			return i;
	return -1;
}

int opt_next(struct opt_parser *p, int argc, char **argv)
{
	int c, k;

	c = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
	if (c == -1)
		return -1;
	k = opt_by_val(p, c);
	if (k < 0)
		return opt_error(p->cmd, c, argv);
	return k;
}

int opt_set(struct opt_parser *p, int k, void *ctx)
{
	const struct opt *o = &p->opts[k];
	char who[64];

	snprintf(who, sizeof(who), "--%s", o->name);
	if ((o->flags & OPT_ONCE) && p->given[k]++) {
		pr_warn("%s: given twice\n", who);
		return -EINVAL;
	}
	if (o->set)
		return o->set(ctx, who, optarg);
	if ((o->flags & OPT_TRUE) && o->size == sizeof(bool))
		*(bool *)((char *)ctx + o->off) = true;
	if ((o->flags & OPT_TEXT) && o->size == sizeof(const char *))
		*(const char **)((char *)ctx + o->off) = optarg;
	return 0;
}

int opt_parse(const char *cmd, const struct opt *opts, unsigned int n, int argc, char **argv,
	      void *ctx, int *first)
{
	struct opt_parser p;
	int k;

	opt_parser_init(&p, cmd, opts, n);
	while ((k = opt_next(&p, argc, argv)) >= 0) {
		if (opts[k].flags & OPT_HELP)
			return OPT_PARSE_HELP;
		if (opt_set(&p, k, ctx))
			return -EINVAL;
	}
	if (k != -1)
		return k;
	*first = optind;
	return 0;
}

int opt_by_name(const struct opt *opts, unsigned int n, const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (opts[i].name && !strcmp(opts[i].name, name))
			return i;
	return -1;
}

void opt_print_help(FILE *f, const struct opt *opts, unsigned int n, int width)
{
	int col = 2 + 4 + width + 1;   /* "  -s, " LEFT " " */
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct opt *o = &opts[i];
		char left[64], sh[8] = "    ";
		const char *h = o->help, *nl;

		if (!o->name) {         /* a heading */
			fprintf(f, "\n%s\n", o->help);
			continue;
		}
		if (o->short_name)
			snprintf(sh, sizeof(sh), "-%c, ", o->short_name);
		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		if ((int)strlen(left) > width)
			fprintf(f, "  %s%s\n%*s", sh, left, col, "");
		else
			fprintf(f, "  %s%-*s ", sh, width, left);
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, col, "");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
}

int opt_group_arg(const char *cmd, int argc, char **argv, int first, bool required,
		  const char *source, struct mc_group *g)
{
	char buf[GROUP_STRLEN + ADDR_STRLEN];
	const char *s;

	if (argc - first > 1 || (required && first >= argc)) {
		pr_warn("%s: %s (see mctun %s --help)\n", cmd, first >= argc ?
			"GROUP:PORT is missing" : "more than one GROUP:PORT given", cmd);
		return -EINVAL;
	}
	if (first >= argc) {
		if (source) {
			pr_warn("--source: needs GROUP:PORT\n");
			return -EINVAL;
		}
		return 1;
	}
	s = argv[first];
	if (source) {
		if (strchr(s, '@')) {
			pr_warn("%s: '%s' already names a source; drop --source %s\n", cmd, s, source);
			return -EINVAL;
		}
		/* one parser checks the pair: families agree, the source is unicast */
		snprintf(buf, sizeof(buf), "%s@%s", s, source);
		s = buf;
	}
	return group_parse(cmd, s, g) ? -EINVAL : 0;
}
