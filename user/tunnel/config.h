/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The options of `mctun run`, from the command line and from a config file.
 *
 * One table in config.c describes each option once: its long name is also
 * its key in the file, one setter parses its value into struct config for
 * both, and its help text is what `mctun run --help` prints. The file is
 * read first and the command line applied over it: a scalar given on the
 * command line wins, a list (group, listen, peer) gets the entries of both.
 */
#ifndef MCTUN_CONFIG_H
#define MCTUN_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

struct config;
struct endpoint;

/* Read when present and no --config or --no-config is given. */
#define CONFIG_DEFAULT_PATH "/etc/mctun/mctun.conf"

/* config_load() results besides 0 and -errno. */
enum { CONFIG_HELP = 1, CONFIG_VERSION = 2 };

/*
 * A new config from argv (as `mctun run` gets it: argv[0] is "run") and
 * the config file it names, or the default one when present; checked for
 * completeness. Every refusal prints one line, "FILE:LINE: reason" for the
 * file. argv is kept (not copied) for reloads: it must outlive the config.
 * ifindex is left 0.
 */
int config_load(int argc, char **argv, struct config **out);
void config_free(struct config *cfg);

/* The option lines of `mctun run --help`, from the table. */
void config_print_options(FILE *f);

/* Whether an option that cannot change at run time differs between the two
 * configs; for the first such, one line "FILE:LINE: KEY: cannot change at
 * run time ...", naming the line of cfg's file that sets it (or of old's,
 * when cfg's file no longer does). */
bool config_fixed_changed(const struct config *old, const struct config *cfg);

/* For each group of a, its index in b (same address, port and source), or
 * -1; into a_in_b[a->ngroups]. Returns 0 or -ENOMEM. */
int config_match_groups(const struct config *a, const struct config *b, int *a_in_b);

/* How peers authenticate, as MCTUN_INFO_* flags for struct mctun_info:
 * PSK, TLS_CERT, or INSECURE (with INSECURE_PUBLIC when a listener is on
 * an address other than loopback). */
unsigned int config_auth_flags(const struct config *cfg);

/* The same peer or listening address (as resolved). */
bool endpoint_same(const struct endpoint *a, const struct endpoint *b);

#endif
