#!/bin/bash
# Runs inside the test VM, as PID 1 after the initramfs (vmtest/init.sh) has
# switched to the host's root (read-only 9p under a tmpfs overlay):
# mounts what the tests need, runs tests/run.sh on the already-built
# build/mctun, writes its exit status to the result folder, powers off.
#
# With --vng it runs under virtme-ng instead (not PID 1, mounts done by vng):
# then it only completes the mounts and exits with the tests' status.
set -u
mode=${1:-init}
out=/run/vmtest/out
if [ "$mode" = init ]; then
	# shellcheck disable=SC1091
	. /run/vmtest/env
else
	out=${VMTEST_OUT:?}
fi
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

poweroff_now() {
	sync
	busybox poweroff -f 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 60
}
finish() {   # RC
	echo "$1" >"$out/rc.tmp" && mv "$out/rc.tmp" "$out/rc"
	sync
	if [ "$mode" = init ]; then poweroff_now; fi
	exit "$1"
}

mnt() {      # TYPE WHERE [OPTIONS]
	mountpoint -q "$2" && return 0
	mkdir -p "$2" 2>/dev/null
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" || echo "vmtest: cannot mount $1 on $2"
}

if [ "$mode" = init ]; then
	mnt proc /proc
	mnt sysfs /sys
	mnt devtmpfs /dev
	mnt devpts /dev/pts newinstance,ptmxmode=0666,mode=620
	mnt tmpfs /dev/shm mode=1777
	[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	hostname vmtest 2>/dev/null
fi
mnt bpf /sys/fs/bpf mode=700
mnt cgroup2 /sys/fs/cgroup
mnt tracefs /sys/kernel/tracing
mnt debugfs /sys/kernel/debug
mkdir -p /run/netns /var/tmp 2>/dev/null
ip link set lo up

cd "$VMTEST_PROJECT" || finish 2
echo "vmtest: guest kernel $(uname -r)" | tee "$out/uname"
echo "vmtest: running ${VMTEST_CMD:-tests/run.sh ${VMTEST_TESTS:-(all tests)}}"

export TEST_TIMEOUT=$VMTEST_TEST_TIMEOUT WAIT_STEPS=$VMTEST_WAIT_STEPS
export TIME_SCALE=${VMTEST_TIME_SCALE:-1}
# Not a pipe into tee: what a test leaves running in the background (its
# watchdog's sleep) would hold the pipe open. A file, shown as it grows.
if [ -n "${VMTEST_CMD:-}" ]; then       # debugging: another command
	bash -c "$VMTEST_CMD" >"$out/tests.log" 2>&1 </dev/null &
else
	# shellcheck disable=SC2086
	tests/run.sh $VMTEST_TESTS >"$out/tests.log" 2>&1 </dev/null &
fi
runpid=$!
tail -n +1 -s 0.5 -f --pid="$runpid" "$out/tests.log"
wait "$runpid"
rc=$?
echo "vmtest: exit status $rc"
finish "$rc"
