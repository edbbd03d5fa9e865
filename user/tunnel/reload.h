/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Applying a configuration to the daemon: at start, from nothing, and on
 * SIGHUP, from the running one. */
#ifndef MCTUN_RELOAD_H
#define MCTUN_RELOAD_H

struct config;
struct daemon;

/* Bring the daemon's groups, listeners, peers and settings from old (NULL
 * at start) to cfg, which becomes d->cfg. On failure nothing has changed
 * and the error is logged: returns -errno. */
int daemon_apply(struct daemon *d, const struct config *old, struct config *cfg);
/* Under --insecure, a listener of cfg (index j) on an address other than
 * loopback: a warning that anyone who reaches it can inject. At start (once
 * the daemon runs) and for a listener a reload adds. */
void listener_warn_open(const struct config *cfg, unsigned int j);
/* SIGHUP: read the config again and apply it, or keep the running one. */
void daemon_reload(struct daemon *d);

#endif
