#!/usr/bin/env bash
# vmtest/setup.sh CACHE: installs (from Debian's packages only) what the VM
# test needs, and only what is missing:
#   - qemu-system-x86 and busybox-static, with apt-get install;
#   - a Debian kernel package, fetched with `apt-get download` and extracted
#     into CACHE/kernel (the host's /boot and /lib/modules are not touched),
#     then indexed with busybox depmod.
# Idempotent: a second run with everything in place asks no registry.
# Prints nothing but progress on stderr; run as root.
#
# VMTEST_KERNEL_PKG   kernel package to use (default: the -unsigned build of
#                     what linux-image-amd64 depends on, else the newest
#                     linux-image-*-amd64-unsigned)
set -euo pipefail

CACHE=${1:?usage: setup.sh CACHE}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
say() { echo "vmtest: $*" >&2; }
export DEBIAN_FRONTEND=noninteractive

updated=
apt_update() {
	[ -n "$updated" ] && return 0
	say "apt-get update"
	timeout 600 apt-get update -qq >&2
	updated=1
}

# ---- host packages -------------------------------------------------------
pkgs=(qemu-system-x86 busybox-static coreutils)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { say "missing packages: ${missing[*]} (run as root)"; exit 1; }
	apt_update
	say "installing ${missing[*]}"
	timeout 1200 apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# ---- the guest kernel ----------------------------------------------------
stamp=$CACHE/kernel.stamp
want=${VMTEST_KERNEL_PKG:-}
if [ -z "$want" ] && [ -s "$stamp" ] && [ -d "$CACHE/kernel" ]; then
	exit 0                                  # already there: ask no registry
fi
if [ -n "$want" ] && [ -s "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ] &&
   [ -d "$CACHE/kernel" ]; then
	exit 0
fi

pick_kernel() {
	local meta dep
	dep=$(apt-cache depends linux-image-amd64 2>/dev/null |
	      awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}')
	if [ -n "$dep" ]; then
		case $dep in *-unsigned) meta=$dep ;; *) meta=$dep-unsigned ;; esac
		if apt-cache show "$meta" >/dev/null 2>&1; then echo "$meta"; return; fi
	fi
	apt-cache search --names-only '^linux-image-.*-amd64-unsigned$' 2>/dev/null |
		awk '{print $1}' | grep -Ev -- '-(cloud|rt)-amd64-unsigned$' | sort -V | tail -n1
}

fetch() {     # PKG: into CACHE/deb
	rm -rf "$CACHE/deb"
	mkdir -p "$CACHE/deb"
	(cd "$CACHE/deb" && timeout 1200 apt-get download -q -o APT::Sandbox::User=root "$1" >&2)
}
rm -rf "$CACHE/kernel" "$CACHE/kernel.tmp" "$stamp"
if [ -n "$want" ]; then
	say "fetching kernel package $want"
	fetch "$want" || { apt_update; fetch "$want"; }
else
	want=$(pick_kernel)
	if [ -z "$want" ] || { say "fetching kernel package $want"; ! fetch "$want"; }; then
		apt_update                      # no package lists, or old ones
		want=$(pick_kernel)
		[ -n "$want" ] || { say "no linux-image-*-amd64-unsigned package found"; exit 1; }
		say "fetching kernel package $want"
		fetch "$want"
	fi
fi
deb=$(ls "$CACHE"/deb/*.deb)
say "extracting $(basename "$deb")"
dpkg-deb -x "$deb" "$CACHE/kernel.tmp"
rm -rf "$CACHE/deb"
# Debian 12 ships /lib/modules; later ones /usr/lib/modules.
moddir=$(find "$CACHE/kernel.tmp" -maxdepth 3 -type d -path '*lib/modules' | head -n1)
[ -n "$moddir" ] || { say "$want holds no modules"; exit 1; }
kver=$(find "$moddir" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n1)
[ -d "$moddir/$kver/kernel" ] || { say "$want: no $moddir/$kver/kernel"; exit 1; }
ls "$CACHE"/kernel.tmp/boot/vmlinuz-"$kver" >/dev/null
# modules.dep is made by the package's postinst: make it here, with busybox
# (whose modprobe reads it, in the initramfs and in the guest).
base=${moddir%/lib/modules}
busybox depmod -b "$base" "$kver"
[ -s "$moddir/$kver/modules.dep" ] || { say "depmod made no modules.dep"; exit 1; }
# a fixed layout for run.sh: CACHE/kernel/{vmlinuz,modules/KVER}
mkdir -p "$CACHE/kernel.tmp/vm"
ln -s "../boot/vmlinuz-$kver" "$CACHE/kernel.tmp/vm/vmlinuz"
ln -s "../${moddir#"$CACHE/kernel.tmp/"}" "$CACHE/kernel.tmp/vm/modules"
mv "$CACHE/kernel.tmp" "$CACHE/kernel"
printf '%s\n%s\n' "$want" "$kver" >"$stamp"
say "kernel $kver ready in $CACHE/kernel"
