/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Command-line options from one table per tool: getopt_long's tables are
 * built from it, each option's value goes through its setter, and the help
 * lines are rendered from it. `mctun run` (config.c, which also reads its
 * config file through the same table), send, recv and doctor use it.
 *
 * A setter parses val (NULL for an option without value) into ctx, the
 * tool's own struct; it returns 0 or -errno after one line naming the
 * option (`who`, "--ttl" on the command line) and the value.
 */
#ifndef MCTUN_OPTIONS_H
#define MCTUN_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct mc_group;

/* Flags the engine reads; bits below 1 << 16 are left to each tool. */
#define OPT_ONCE (1u << 16)   /* twice on the command line is an error (not: the last wins) */
#define OPT_HELP (1u << 17)   /* print the help: opt_parse() returns OPT_PARSE_HELP */
/* Without a setter, for the plainest options: */
#define OPT_TRUE (1u << 18)   /* set the bool at OPT_FIELD() to true */
#define OPT_TEXT (1u << 19)   /* point the const char * at OPT_FIELD() at the value */

#define OPT_MAX 64            /* options in one table, headings included */

struct opt {
	const char *name;          /* long option; NULL: a heading of the help, its text in help */
	int short_name;            /* 0: none */
	const char *arg;           /* the value's name in the help; NULL: takes no value */
	unsigned int flags;        /* OPT_* */
	int (*set)(void *ctx, const char *who, const char *val);  /* NULL: OPT_TRUE, OPT_TEXT or none */
	const char *help;          /* '\n' goes on at the help column */
	size_t off, size;          /* a field of the tool's struct: OPT_TRUE, OPT_TEXT, or the tool's use */
};

#define OPT_FIELD(type, f) .off = offsetof(type, f), .size = sizeof(((type *)0)->f)

/* getopt_long's view of one table, and what was given how often. */
struct opt_parser {
	const char *cmd;           /* the subcommand, for messages */
	const struct opt *opts;
	unsigned int n;
	struct option longopts[OPT_MAX + 1];
	char shortopts[2 * OPT_MAX + 2];
	unsigned int given[OPT_MAX];
};

/* Builds the parser for opts[n] (n <= OPT_MAX) of subcommand cmd, at the
 * start of argv. */
void opt_parser_init(struct opt_parser *p, const char *cmd, const struct opt *opts,
		     unsigned int n);
/* From the start of argv again (getopt's state and the counts reset). */
void opt_rewind(struct opt_parser *p);
/* The next option of argv, as its index in opts; -1 after the last (optind
 * is then the first positional argument); -EINVAL, after one line naming
 * it, for an unknown option or a missing value. */
int opt_next(struct opt_parser *p, int argc, char **argv);
/* Runs the setter of opts[k] on the current value (optarg), as "--NAME",
 * or does what OPT_TRUE or OPT_TEXT says; OPT_ONCE given twice is refused.
 * 0 or -errno. */
int opt_set(struct opt_parser *p, int k, void *ctx);

/* Every option of argv in order through its setter into ctx, as most tools
 * want it: 0 with *first the index of the first positional argument,
 * OPT_PARSE_HELP when an OPT_HELP option comes before any error, or
 * -EINVAL (a refused value is a usage error) after one line. */
enum { OPT_PARSE_HELP = 1 };
int opt_parse(const char *cmd, const struct opt *opts, unsigned int n, int argc, char **argv,
	      void *ctx, int *first);

/* The index of the option named name, or -1. */
int opt_by_name(const struct opt *opts, unsigned int n, const char *name);

/* The option lines of a --help: "  -s, --long ARG" in a column `width`
 * wide, the help text after it (on the next line when it does not fit);
 * headings with an empty line before them. */
void opt_print_help(FILE *f, const struct opt *opts, unsigned int n, int width);

/*
 * The one GROUP:PORT[@SOURCE] of the lab tools, argv[first..argc), with
 * source (--source S, or NULL) appended as @S, into *g. Without it: a
 * refusal when required, else 1 (*g untouched). Refusals are one line:
 * "CMD: GROUP:PORT is missing", "CMD: more than one GROUP:PORT given"
 * (both with "(see mctun CMD --help)"), "CMD: 'G' already names a source;
 * drop --source S", "--source: needs GROUP:PORT", or group_parse()'s;
 * -EINVAL.
 */
int opt_group_arg(const char *cmd, int argc, char **argv, int first, bool required,
		  const char *source, struct mc_group *g);

#endif
