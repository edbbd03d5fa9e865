#!/usr/bin/env bash
# Installs, from Debian's packages, what building and testing mctun needs,
# and only what is missing. Run as root (make deps / make test call it).
set -eu

pkgs=(make gcc clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config bpftool
      iproute2 util-linux procps)
# tests/t_lab.sh: nft makes exact loss, duplicates, reordering and DSCP
# remarking on a path (the test kernel may lack netem and pedit); smcroute
# installs a static multicast route in a router namespace (TTL per hop).
pkgs+=(nftables smcroute)
# make fuzz and make test-asan link clang's libFuzzer and sanitizer
# runtimes (a Recommends of clang, which --no-install-recommends skips);
# make valgrind runs valgrind.
clang_major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p')
pkgs+=("libclang-rt-${clang_major:-14}-dev" valgrind)
# tests/t_metrics.sh: a real HTTP client against `mctun run --metrics`.
pkgs+=(curl)
# tests/t_interop.sh: the other end of --framing udptunnel.
pkgs+=(udptunnel)
# TLS for authenticated peers (OpenSSL 3); tests/t_auth.sh makes its
# certificates with the openssl command.
pkgs+=(libssl-dev openssl)
# tests/t_auth.sh moves a PSK listener's wall clock an hour on (libfaketime).
pkgs+=(faketime)
# mctun doctor reads nft's ruleset as JSON (`nft -j list ruleset`) with json-c.
pkgs+=(libjson-c-dev)
# make static links the .a files of the -dev packages above (Debian 12's
# libelf.a needs only zlib's; pkg-config --static names what each needs).
# make deb: dpkg-shlibdeps computes Depends. tests/t_package.sh: Docker's
# daemon (each test starts its own, dockerd_start in tests/lib.sh) and
# docker-compose, which runs docker/compose.yaml.
pkgs+=(dpkg-dev docker.io docker-compose)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# No service of what is installed here may start (Debian's policy-rc.d):
# the system's Docker daemon would make its bridge and iptables rules in
# the host's namespace, which the tests never touch.
policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d &&
		policy=/usr/sbin/policy-rc.d
fi
rc=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
[ -z "$policy" ] || rm -f "$policy"
[ "$rc" = 0 ] || exit "$rc"
# The tests start Docker daemons of their own; the system's, which the
# package has just enabled and started where systemd runs, is not needed:
# stopped and disabled (only when installed here, now).
if [[ " ${missing[*]} " == *" docker.io "* ]] && [ -d /run/systemd/system ]; then
	systemctl disable --now -q docker.socket docker.service containerd.service 2>/dev/null || true
fi
