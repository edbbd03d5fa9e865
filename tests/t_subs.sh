# shellcheck shell=bash
# Subscriptions carried over the tunnel (user/tunnel/subs.c, the ANNOUNCE
# frame of user/lib/proto.c): tests/unit_subs.c wires several instances
# together in memory, no network, no namespace (unit_run in lib.sh).

# the module allocates per origin and entry: nothing may leak
test_subs_unit() { UNIT_VALGRIND=1 unit_run unit_subs; }
