#!/usr/bin/env bash
# vmtest/run.sh: the test suite (tests/run.sh, with the already-built
# build/mctun) inside a VM that boots another kernel than the host's.
#
#   vmtest/run.sh                 all tests
#   vmtest/run.sh NAME...         only these (as tests/run.sh NAME...)
#
# Boots Debian's linux-image-*-amd64-unsigned kernel (fetched into the cache
# by vmtest/setup.sh) with QEMU, a busybox initramfs, the host's root
# shared read-only over 9p (tmpfs overlay on top) and the project folder
# shared writable. The guest has no network device. With virtme-ng (vng)
# installed and a second kernel installed on the host (/boot/vmlinuz-R
# and /lib/modules/R), vng runs it instead.
#
# The accelerator: KVM only once it has proved itself. A /dev/kvm can exist
# while nested KVM does not work (QEMU aborts setting an MSR, or the guest
# resets and hangs), so with /dev/kvm present a first boot under KVM, bounded
# to VMTEST_PROBE_TIMEOUT, must reach the initramfs and print the guest's
# kernel release; if it does not, one line says why and the run uses TCG
# (emulation, multi-threaded). VMTEST_ACCEL=kvm or tcg skips the probe.
#
# Prints the guest's kernel release and the runner's "N passed, N failed,
# N skipped" line; exits non-zero if a test failed or the VM died or hung.
#
# Settings (environment; make variables of the same name):
#   VMTEST_TESTS          tests to run (default: all)
#   VMTEST_CACHE          cache folder (default: vmtest/.cache)
#   VMTEST_PROJECT        project folder to test (default: this checkout)
#   VMTEST_TIMEOUT        host-side bound of the whole VM run, s (2820)
#   VMTEST_TEST_TIMEOUT   bound of one test in the guest, s (300)
#   VMTEST_WAIT_STEPS     WAIT_STEPS of tests/lib.sh in the guest (400)
#   VMTEST_TIME_SCALE     TIME_SCALE of tests/lib.sh in the guest (4 under TCG,
#                         1 under KVM: the accelerator actually used)
#   VMTEST_ACCEL          auto, kvm or tcg (auto: KVM if the probe boot works)
#   VMTEST_PROBE_TIMEOUT  bound of the KVM probe boot, s (40)
#   VMTEST_CPUS, VMTEST_MEM   guest size (2, 2G)
#   VMTEST_KERNEL_PKG     Debian kernel package (see vmtest/setup.sh)
#   VMTEST_RUNNER         auto, qemu or vng (auto)
#   VMTEST_VNG_KERNEL     kernel release for vng (auto: an installed one
#                         that is not the running one)
#   VMTEST_PRELOAD        modules loaded at boot (veth sch_ingress cls_bpf act_bpf)
#   VMTEST_QEMU_OPTS      more QEMU options (split on blanks)
#   VMTEST_CMD            debugging: run this bash command in the guest
#                         instead of the tests (its exit status is returned)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PROJECT=$(cd "${VMTEST_PROJECT:-$HERE/..}" && pwd)
CACHE=${VMTEST_CACHE:-$HERE/.cache}
TESTS=${VMTEST_TESTS:-}
[ $# -gt 0 ] && TESTS="$*"
TIMEOUT=${VMTEST_TIMEOUT:-2820}
TEST_TIMEOUT=${VMTEST_TEST_TIMEOUT:-300}
WAIT_STEPS=${VMTEST_WAIT_STEPS:-400}
ACCEL=${VMTEST_ACCEL:-auto}
PROBE_TIMEOUT=${VMTEST_PROBE_TIMEOUT:-40}
CPUS=${VMTEST_CPUS:-2}
MEM=${VMTEST_MEM:-2G}
RUNNER=${VMTEST_RUNNER:-auto}
PRELOAD=${VMTEST_PRELOAD:-veth sch_ingress cls_bpf act_bpf}
CMD=${VMTEST_CMD:-}

say() { echo "vmtest: $*"; }
die() { echo "vmtest: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the install step uses apt-get; the guest runs the tests as root)"
[ -x "$PROJECT/build/mctun" ] || die "$PROJECT/build/mctun is missing: run make first"
[ -x "$PROJECT/tests/run.sh" ] || die "$PROJECT/tests/run.sh is missing"
case $RUNNER in auto | qemu | vng) ;; *) die "VMTEST_RUNNER must be auto, qemu or vng" ;; esac
case $ACCEL in auto | kvm | tcg) ;; *) die "VMTEST_ACCEL must be auto, kvm or tcg" ;; esac
[ "$ACCEL" = kvm ] && [ ! -w /dev/kvm ] && die "VMTEST_ACCEL=kvm: /dev/kvm is missing or not writable"
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# ---- install (idempotent), one at a time --------------------------------
exec 9>"$CACHE/setup.lock"
flock -w 1800 9 || die "another vmtest holds $CACHE/setup.lock"
"$HERE/setup.sh" "$CACHE" || die "install step failed"
flock -u 9
exec 9>&-
KPKG=$(sed -n 1p "$CACHE/kernel.stamp")
KVER=$(sed -n 2p "$CACHE/kernel.stamp")

RUN=$(mktemp -d "$CACHE/run.XXXXXX")
OUT=$RUN/out
mkdir -p "$OUT"
chmod 755 "$RUN" "$OUT"
vmpid=
stop_vm() {  # the VM's timeout(1), its QEMU or vng, and their children
	local i kids
	[ -n "$vmpid" ] && kill -0 "$vmpid" 2>/dev/null || return 0
	mapfile -t kids < <(pgrep -P "$vmpid")
	kill -TERM "$vmpid" "${kids[@]}" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$vmpid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$vmpid" "${kids[@]}" 2>/dev/null
	wait "$vmpid" 2>/dev/null
}
tailpid=
cleanup() {
	stop_vm
	[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
	[ -f "$RUN/console.raw" ] && tr -d '\r' <"$RUN/console.raw" >"$CACHE/last-console.log"
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

q() { printf '%q' "$1"; }

# ---- which runner ----------------------------------------------------------
vng_kernel=
if [ "$RUNNER" != qemu ] && command -v vng >/dev/null; then
	vng_kernel=${VMTEST_VNG_KERNEL:-}
	if [ -z "$vng_kernel" ]; then
		for r in $(find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -Vr); do
			[ "$r" != "$(uname -r)" ] && [ -e "/boot/vmlinuz-$r" ] && { vng_kernel=$r; break; }
		done
	fi
	[ -z "$vng_kernel" ] && say "vng is installed but no second kernel is (/boot + /lib/modules): using QEMU"
fi
[ "$RUNNER" = vng ] && [ -z "$vng_kernel" ] && die "VMTEST_RUNNER=vng: vng or a second installed kernel is missing"

# ---- the initramfs (QEMU's guest, and the KVM probe's) -------------------
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing"
kimg=$CACHE/kernel/vm/vmlinuz
kmods=$(cd "$CACHE/kernel/vm/modules/$KVER" && pwd -P)
ird=$RUN/initramfs.d
mkdir -p "$ird/bin" "$ird/dev" "$ird/lib/modules/$KVER"
cp /bin/busybox "$ird/bin/busybox"
cp "$HERE/init.sh" "$ird/init"
chmod 755 "$ird/init"
mknod -m 600 "$ird/dev/console" c 5 1
cp "$kmods"/modules.dep "$kmods"/modules.alias "$kmods"/modules.builtin "$ird/lib/modules/$KVER/"
# the modules the initramfs loads, with what they depend on
for m in virtio_pci 9pnet_virtio 9p overlay; do
	awk -F: -v m="$m" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n) }
		n == m { print $1; if ($2 != "") { k = split($2, d, " "); for (i = 1; i <= k; i++) print d[i] } }' \
		"$kmods/modules.dep"
done | sort -u >"$RUN/initramfs.mods"
[ -s "$RUN/initramfs.mods" ] || die "no 9p modules in $kmods"
while read -r f; do
	mkdir -p "$ird/lib/modules/$KVER/$(dirname "$f")"
	cp "$kmods/$f" "$ird/lib/modules/$KVER/$f"
done <"$RUN/initramfs.mods"
pack_initramfs() {   # with the settings as they are now
	{
		echo "VMTEST_PROJECT=$(q "$PROJECT")"
		echo "VMTEST_KVER=$(q "$KVER")"
		echo "VMTEST_MODULES=$(q "$kmods")"
		echo "VMTEST_PRELOAD=$(q "$PRELOAD")"
		echo "VMTEST_TESTS=$(q "$TESTS")"
		echo "VMTEST_TEST_TIMEOUT=$(q "$TEST_TIMEOUT")"
		echo "VMTEST_WAIT_STEPS=$(q "$WAIT_STEPS")"
		echo "VMTEST_TIME_SCALE=$(q "$TIME_SCALE")"
		echo "VMTEST_CMD=$(q "$CMD")"
	} >"$ird/vmtest.env"
	(cd "$ird" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$RUN/initramfs.cpio"
	[ -s "$RUN/initramfs.cpio" ] || die "could not build the initramfs"
}
TIME_SCALE=    # (the probe stops before it reads vmtest.env)
pack_initramfs

# The QEMU machine of the run and of the probe, but for the accelerator.
# shellcheck disable=SC2054
qemu_base=(qemu-system-x86_64 -nodefaults -no-user-config -machine pc
	-smp "$CPUS" -m "$MEM" -display none -vga none -nic none -no-reboot
	-chardev stdio,id=con,signal=off -serial chardev:con
	-kernel "$kimg" -initrd "$RUN/initramfs.cpio")
append="console=ttyS0 panic=-1 quiet loglevel=3 mitigations=off"

# ---- which accelerator -----------------------------------------------------
# probe_kvm: 0 if a guest under KVM boots to the initramfs and says so within
# PROBE_TIMEOUT; else 1, with why in $probe_why.
probe_why=
probe_kvm() {
	local log=$CACHE/last-kvm-probe.log rc err
	# (in a subshell that keeps bash's "Aborted" report of QEMU to itself)
	(
		timeout -k 5 "$PROBE_TIMEOUT" "${qemu_base[@]}" -accel kvm -cpu host \
			-append "$append vmtest.probe=1" </dev/null >"$log.raw" 2>&1
		rc=$?
		exit $rc
	) 2>/dev/null
	rc=$?
	tr -d '\r' <"$log.raw" >"$log"
	rm -f "$log.raw"
	grep -q '^vmtest-probe: guest kernel .* is up' "$log" && return 0
	err=$(grep -v -e '^[[:space:]]*$' -e 'terminating on signal' "$log" |
	      grep -m1 -iE 'qemu|kvm|error|fail|assert' | cut -c1-150)
	case $rc in
	124 | 137) probe_why="the guest printed nothing from its init within ${PROBE_TIMEOUT}s" ;;
	0) probe_why="QEMU stopped (the guest reset?) before the guest's init ran" ;;
	*) probe_why="QEMU exited with status $rc" ;;
	esac
	[ -n "$err" ] && probe_why+=": $err"
	return 1
}
case $ACCEL in
kvm | tcg) use=$ACCEL ;;
auto)
	if [ ! -w /dev/kvm ]; then
		use=tcg
		say "no usable /dev/kvm: TCG (emulation)"
	elif t0=$(date +%s) && probe_kvm; then
		use=kvm
		say "KVM: a probe boot reached the guest's init in $(($(date +%s) - t0))s"
	else
		use=tcg
		say "KVM unusable, using TCG (VMTEST_ACCEL=kvm forces it): $probe_why"
	fi ;;
esac
if [ "$use" = kvm ]; then
	accel_name=KVM
	accel=(-accel kvm -cpu host)
	TIME_SCALE=${VMTEST_TIME_SCALE:-1}
else
	accel_name=TCG
	# shellcheck disable=SC2054
	accel=(-accel tcg,thread=multi -cpu max)
	# Receive windows and time bounds of the tests, stretched: under
	# emulation a process starts in ~0.1 s, and a busy host stalls the guest.
	TIME_SCALE=${VMTEST_TIME_SCALE:-4}
fi
pack_initramfs

start=$(date +%s)
set +e
if [ -n "$vng_kernel" ]; then
	# ---- virtme-ng ---------------------------------------------------------
	say "booting $vng_kernel with virtme-ng, $accel_name (host kernel $(uname -r))"
	vng_args=(--run "/boot/vmlinuz-$vng_kernel" --cpus "$CPUS" --memory "$MEM"
		  --rwdir "$PROJECT" --rwdir "$OUT")
	[ "$use" = kvm ] || vng_args+=(--disable-kvm)
	cmd="env VMTEST_OUT=$(q "$OUT") VMTEST_PROJECT=$(q "$PROJECT") VMTEST_TESTS=$(q "$TESTS")"
	cmd+=" VMTEST_TEST_TIMEOUT=$(q "$TEST_TIMEOUT") VMTEST_WAIT_STEPS=$(q "$WAIT_STEPS")"
	cmd+=" VMTEST_TIME_SCALE=$(q "$TIME_SCALE")"
	cmd+=" VMTEST_CMD=$(q "$CMD")"
	cmd+=" bash $(q "$PROJECT/vmtest/guest.sh") --vng"
	vm=(vng "${vng_args[@]}" --exec "$cmd")
else
	# ---- QEMU + busybox initramfs ------------------------------------------
	say "booting $KVER ($KPKG) with QEMU, $accel_name (host kernel $(uname -r))"
	v9="security_model=none,multidevs=remap"
	vpath() { printf '%s' "${1//,/,,}"; }   # QEMU option values double commas
	# shellcheck disable=SC2054
	vm=("${qemu_base[@]}" "${accel[@]}" -append "$append" \
		-virtfs "local,path=/,mount_tag=root,$v9,readonly=on" \
		-virtfs "local,path=$(vpath "$PROJECT"),mount_tag=proj,$v9" \
		-virtfs "local,path=$(vpath "$OUT"),mount_tag=out,$v9")
	# shellcheck disable=SC2206
	vm+=(${VMTEST_QEMU_OPTS:-})
fi
# In the background, bounded by timeout(1), so that a signal to this script
# stops it (cleanup); its console goes to a file, shown as it grows.
: >"$RUN/console.raw"   # before tail opens it: the background job may not have yet
timeout -k 30 "$TIMEOUT" "${vm[@]}" </dev/null >"$RUN/console.raw" 2>&1 &
vmpid=$!
tail -n +1 -s 0.2 -f --pid="$vmpid" "$RUN/console.raw" | sed -u 's/\r$//' &
tailpid=$!
wait "$vmpid"
vmrc=$?
vmpid=
wait "$tailpid"      # tail --pid ends by itself once the VM is gone
tailpid=
set -e
secs=$(($(date +%s) - start))

# ---- the verdict -----------------------------------------------------------
echo
if [ "$vmrc" = 124 ] || [ "$vmrc" = 137 ]; then
	die "the VM ($accel_name) did not finish within ${TIMEOUT}s (VMTEST_TIMEOUT): killed"
fi
[ -s "$OUT/rc" ] || die "the VM ($accel_name) stopped (status $vmrc) without the tests' exit status: see $CACHE/last-console.log"
rc=$(cat "$OUT/rc")
say "guest kernel $(sed 's/^vmtest: guest kernel //' "$OUT/uname" 2>/dev/null) under $accel_name, host kernel $(uname -r), ${secs}s in the VM"
if [ -n "$CMD" ]; then say "VMTEST_CMD exited $rc"; exit "$rc"; fi
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$OUT/tests.log" 2>/dev/null | tail -n1)
[ -n "$summary" ] || die "tests/run.sh printed no summary line (exit status $rc)"
echo "$summary"
[ "$rc" = 0 ] || exit 1
case $summary in "0 passed, 0 failed"*) die "no test ran" ;; esac
