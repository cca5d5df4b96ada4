#!/bin/bash
# testbed stage 2: PID 1 inside the guest, after switch_root into the overlay
# of the build machine's root. Run by scripts/testbed-init (not by hand).
#
# Mounts the kernel filesystems, the per-run results share (9p tag
# "results" at /run/testbed), binds the testbed kernel's module tree to
# /lib/modules/<release>, runs the scenario described by
# /run/testbed/params and writes its stdout, stderr and exit status to the
# share, then powers the machine off.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec </dev/null >/dev/console 2>&1

log() { echo "testbed-stage2: $*"; }
poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger
	while :; do sleep 1; done
}
fail() {
	log "FATAL: $*"
	poweroff_now
}
# PID 1 must never exit (kernel panic); any stray error ends the run cleanly.
trap 'fail "stage 2 exited unexpectedly"' EXIT

mnt() { # mnt TYPE TARGET [OPTIONS]: mount unless TARGET is already a mount point
	mkdir -p "$2"
	mountpoint -q "$2" && return 0
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" || fail "mount -t $1 $2"
}
mnt proc /proc
mnt sysfs /sys
mnt devtmpfs /dev mode=0755
mnt devpts /dev/pts gid=5,mode=620,ptmxmode=000
mnt tmpfs /dev/shm mode=1777
# A checkout under /tmp or /run (CI clones anywhere) would vanish under the
# guest's own tmpfs: hold it aside and put it back on top.
checkout=
for w in $(cat /proc/cmdline); do
	case "$w" in testbed_checkout=*) checkout=${w#testbed_checkout=} ;; esac
done
case "$checkout" in
/tmp/* | /run/*)
	mkdir -p /.testbed-checkout && mount --bind "$checkout" /.testbed-checkout ||
		fail "cannot hold the checkout $checkout"
	;;
*) checkout= ;;
esac
mnt tmpfs /run mode=0755
mnt tmpfs /tmp mode=1777
if [ -n "$checkout" ]; then
	mkdir -p "$checkout" && mount --move /.testbed-checkout "$checkout" ||
		fail "cannot put the checkout back at $checkout"
fi
mnt cgroup2 /sys/fs/cgroup
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

results=/run/testbed
mkdir -p "$results"
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 results "$results" ||
	fail "cannot mount the results share (9p tag results)"
[ -r "$results/params" ] || fail "$results/params missing"
# Sets TESTBED_RELEASE, TESTBED_SUITE, TESTBED_MODULES (the module tree of
# that release), TESTBED_CHECKOUT, TESTBED_SCENARIO and the array
# TESTBED_ARGS.
. "$results/params" || fail "cannot read $results/params"

# The kernel's whole module tree, at the standard place.
moddir=/lib/modules/$TESTBED_RELEASE
mkdir -p "$moddir" && mount --bind "$TESTBED_MODULES" "$moddir" ||
	fail "cannot bind $TESTBED_MODULES to $moddir"
[ -s "$moddir/modules.dep" ] || fail "$moddir/modules.dep missing"

hostname testbed 2>/dev/null || echo testbed >/proc/sys/kernel/hostname
ip link set lo up 2>/dev/null || true

cd "$TESTBED_CHECKOUT" || fail "cannot enter $TESTBED_CHECKOUT"

log "scenario $TESTBED_SCENARIO starts at $(cut -d' ' -f1 /proc/uptime)s"
# The marker scripts/testbed waits for: a guest that dies before it is a
# boot failure (retried once), after it the scenario's (never retried).
: >"$results/started" || fail "cannot write $results/started"
if [ -x "$TESTBED_SCENARIO" ]; then
	cmd=("$TESTBED_SCENARIO")
else
	cmd=(/bin/bash "$TESTBED_SCENARIO")
fi
# Run as a child, not with exec: PID 1 stays here to report the status.
env -i \
	PATH="$PATH" HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
	LANG=C.UTF-8 TERM=dumb \
	TESTBED=1 TESTBED_KERNEL="$TESTBED_RELEASE" TESTBED_SUITE="${TESTBED_SUITE:-}" \
	"${cmd[@]}" "${TESTBED_ARGS[@]}" \
	</dev/null >"$results/stdout" 2>"$results/stderr"
status=$?
log "scenario exited with status $status at $(cut -d' ' -f1 /proc/uptime)s"

# Write then rename: the host never reads a half-written status.
echo "$status" >"$results/status.tmp" && mv "$results/status.tmp" "$results/status"
trap - EXIT
poweroff_now
