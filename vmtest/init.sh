#!/bin/busybox sh
# PID 1 of the test VM, from the initramfs that vmtest/run.sh builds (with
# busybox, the 9p modules and /vmtest.env). It mounts the host's root (9p,
# read-only) under a tmpfs overlay, the project folder (9p, writable) and the
# result folder (9p), then switch_root's into it to run vmtest/guest.sh.
# On any failure it writes why to the console and powers the VM off: the host
# then finds no exit status and reports the run as failed.
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

# The accelerator probe of vmtest/run.sh: the guest came this far, say so
# (with the kernel's release) and stop.
if grep -qw vmtest.probe=1 /proc/cmdline; then
	echo "vmtest-probe: guest kernel $(uname -r) is up"
	poweroff -f
	sleep 30
fi

die() {
	echo "vmtest-init: FAILED: $*"
	poweroff -f
	sleep 30
}

# shellcheck disable=SC1091
. /vmtest.env || die "no /vmtest.env"

for m in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe "$m" || die "modprobe $m"
done

# 9p: the virtio devices show up asynchronously: retry, bounded (~10 s).
p9="trans=virtio,version=9p2000.L,msize=262144"
mkdir -p /lower /rw /newroot
i=0
until mount -t 9p -o "$p9,ro,cache=loose" root /lower 2>/dev/null; do
	i=$((i + 1)); [ $i -ge 100 ] && die "cannot mount the host root over 9p"
	sleep 0.1
done

# The host root stays read-only; the guest writes into a tmpfs overlay.
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
if ! mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot; then
	echo "vmtest-init: overlay failed: the root stays read-only"
	mount --bind /lower /newroot
fi

mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /newroot/run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /newroot/tmp
mkdir -p /newroot/run/vmtest/out
# (mkdir: a project under /tmp or /run is under the new tmpfs now)
mkdir -p "/newroot$VMTEST_PROJECT"
mount -t 9p -o "$p9" proj "/newroot$VMTEST_PROJECT" || die "cannot mount the project folder"
mount -t 9p -o "$p9" out /newroot/run/vmtest/out || die "cannot mount the result folder"

# The kernel's modules (from the host's view: /lower), for modprobe and for
# the kernel's own requests
# (its usermode helper runs /sbin/modprobe of the new root: busybox's).
kmods=/newroot/lib/modules/$VMTEST_KVER
if mkdir -p "$kmods" 2>/dev/null; then
	mount --bind "/lower$VMTEST_MODULES" "$kmods" || die "cannot bind the modules"
	[ -e /newroot/sbin/modprobe ] || ln -s /bin/busybox /newroot/sbin/modprobe 2>/dev/null
fi
# What the tests need, loaded up front (no harm when auto-loading works too).
mkdir -p "/lib/modules/$VMTEST_KVER"
mount --bind "/lower$VMTEST_MODULES" "/lib/modules/$VMTEST_KVER" || die "cannot bind the modules"
for m in $VMTEST_PRELOAD; do
	modprobe "$m" || echo "vmtest-init: warning: modprobe $m failed"
done
umount "/lib/modules/$VMTEST_KVER"

cp /vmtest.env /newroot/run/vmtest/env
mount --move /dev /newroot/dev
umount /sys /proc
# shellcheck disable=SC2093
exec switch_root -c /dev/console /newroot /bin/bash "$VMTEST_PROJECT/vmtest/guest.sh"
die "switch_root failed"
