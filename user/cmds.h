/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Subcommands: one file each, `foo.c` provides foo_main(). Each returns 0
 * or -errno; main() maps that to the exit status. */
#ifndef MCTUN_CMDS_H
#define MCTUN_CMDS_H

int run_main(int argc, char **argv);
int send_main(int argc, char **argv);
int recv_main(int argc, char **argv);
int status_main(int argc, char **argv);
int stats_main(int argc, char **argv);
int doctor_main(int argc, char **argv);
int genpsk_main(int argc, char **argv);

#endif
