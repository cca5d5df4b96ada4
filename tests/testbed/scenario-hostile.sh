#!/bin/bash
# A hostile tenant on a real kernel (issue: the tenant boundary). Each
# attack below once worked; each must now be refused with a reason and
# leave nothing behind, while others are served:
# - live injection into a /dev the target controls: /dev/vfio/vfio a
#   symlink to a root-only host file; /dev/vfio a symlink to a root-only
#   host directory; a target whose /dev is the host's own (devtmpfs seen
#   through its own mount namespace); a target that is vfiod's own mount
#   namespace; a /dev on FUSE that never answers (the request times out,
#   status is answered meanwhile, a second request on the unit is busy);
# - a tenant naming someone else's process (root's); its own process works,
#   and the nodes it gets are the device's, owned as the host's;
# - a tenant allowed only audio naming the audio function of a GPU;
# - a file that merely has the path /dev/vfio/<group> in someone's own
#   namespace is not a holder;
# - a flood of subscriptions from one uid; root is still served;
# - a second daemon on the same state directory.
. tests/testbed/lib.sh
modprobe fuse || bad "modprobe fuse"
edu=$(find_dev 1234 11e8 | head -n1)
gpu=$(find_dev 1234 1111 038000)
hda=$(find_dev 8086 293e)
echo "edu=$edu gpu=$gpu hda=$hda"
as() { # UID VFIOCTL-ARGS...: a real non-root caller in the socket group (nogroup)
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --groups=65534 vfioctl/vfioctl --socket "$SOCK" "$@"
}
state_of() { jq -r --arg b "$1" '.devices[] | select(.bdf == $b) | .state + " " + .consumer' "$VST/state.json"; }
mkdir -p /tmp/pol /tmp/cdi
cat >/tmp/pol/v.conf <<POL
[daemon]
socket_group = nogroup
cdi_dir = /tmp/cdi

[class edu]
match = id=1234:11e8

[class display]
match = class=0380

[class audio]
match = class=0403

[tenant alice]
uids = 0
classes = edu
trusted = true

[tenant bob]
uids = 1002
classes = edu
trusted = true

[tenant carol]
uids = 1003
classes = audio
quota = 2
trusted = true

[tenant dave]
uids = 1004
classes = audio display
quota = 2
trusted = true
POL
start_vfiod --policy /tmp/pol || { bad "start"; finish; exit; }
chmod 0755 "$VST"
ctl bind "$edu" >/dev/null || bad "bind edu"
group=$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")
hostmm=$(stat -c %t:%T "/dev/vfio/$group")

# ---- live injection into a /dev the target controls ----
echo secret >/tmp/secret; chmod 0600 /tmp/secret
mkdir -p /root/stolen; chmod 0700 /root/stolen
# waits until process PID has become `sleep` (its set-up is done)
wait_sleep() {
	for _ in $(seq 100); do
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = sleep ] && return 0
		sleep 0.1
	done
	bad "process $1 never got to sleep"
}
# a "container" of root's with its own tmpfs /dev, prepared by SETUP
ctr() {
	unshare -m --propagation private sh -c "mount -t tmpfs tmpfs /dev && $1 && exec sleep 300" >/dev/null 2>&1 &
	wait_sleep $!
	echo $!
}
p1=$(ctr 'mkdir /dev/vfio && ln -s /tmp/secret /dev/vfio/vfio')
expect "symlinked /dev/vfio/vfio: refused" 1 not-permitted ctl assign "$edu" --pid "$p1" --tenant alice
check "  the host file it pointed at is untouched ($(stat -c '%a %U' /tmp/secret))" \
	test "$(stat -c '%a %U' /tmp/secret)" = "600 root"
check "  and nothing was left in the target's /dev/vfio" \
	test "$(nsenter -t "$p1" -m ls /dev/vfio | tr '\n' ' ')" = "vfio "
p2=$(ctr 'ln -s /root/stolen /dev/vfio')
expect "/dev/vfio a symlink to a root-only host directory: refused" 1 not-permitted \
	ctl assign "$edu" --pid "$p2" --tenant alice
check "  nothing created in /root/stolen" test -z "$(ls -A /root/stolen)"
unshare -m --propagation private sleep 300 &
p3=$!
wait_sleep "$p3"
expect "a target whose /dev is the host's devtmpfs: refused" 1 not-permitted \
	ctl assign "$edu" --pid "$p3" --tenant alice
grep -q "host's own /dev" <<<"$LAST" && ok "  told why ($LAST)" || bad "  reason: $LAST"
sleep 300 &
p4=$!
wait_sleep "$p4"
expect "a target in vfiod's own mount namespace: refused" 1 bad-request \
	ctl assign "$edu" --pid "$p4" --tenant alice
check "host /dev/vfio/$group still there, still the device" test "$(stat -c %t:%T "/dev/vfio/$group")" = "$hostmm"
check "edu still pooled after every refusal" test "$(state_of "$edu")" = "pooled "

# FUSE over /dev that never answers: timeout, everyone else served meanwhile
t0=$(date +%s%N)
ctl status >/dev/null
base=$((($(date +%s%N) - t0) / 1000000))
unshare -m --propagation private build/tools/fuse-stall /dev >/tmp/fuse.out &
p5=$!
for _ in $(seq 30); do grep -q ready /tmp/fuse.out && break; sleep 0.1; done
start=$(date +%s%N)
ctl assign "$edu" --pid "$p5" --tenant alice >/tmp/fuse.assign 2>&1 &
apid=$!
sleep 0.5
t0=$(date +%s%N)
ctl status >/dev/null && ok "status answered while the injection hangs ($((($(date +%s%N) - t0) / 1000000)) ms; $base ms before it)" ||
	bad "status during the hang"
expect "  a second operation on the unit meanwhile: busy" 1 busy ctl bind "$edu"
grep -q "in flight" <<<"$LAST" && ok "    because the injection is in flight" || bad "    reason: $LAST"
wait "$apid"; arc=$?
el=$((($(date +%s%N) - start) / 1000000))
[ "$arc" = 1 ] && grep -q "vfioctl: timeout: " /tmp/fuse.assign && [ "$el" -lt 9000 ] &&
	ok "FUSE /dev that never answers: timeout after $el ms ($(cat /tmp/fuse.assign))" ||
	bad "FUSE: rc=$arc after $el ms: $(cat /tmp/fuse.assign)"
check "  edu still pooled" test "$(state_of "$edu")" = "pooled "
kill "$p5" 2>/dev/null

# someone else's process, then the tenant's own
expect "bob names a root process: refused" 1 not-permitted as 1002 assign "$edu" --pid "$p1"
grep -q "does not belong to tenant bob" <<<"$LAST" && ok "  told why" || bad "  reason: $LAST"
unshare -m --propagation private sh -c \
	'mount -t tmpfs tmpfs /dev && exec setpriv --reuid=1002 --regid=1002 --clear-groups sleep 300' &
p6=$!
wait_sleep "$p6"
expect "bob injects into his own process" 0 "" as 1002 assign "$edu" --pid "$p6"
check "  its nodes are the device's (c $hostmm), owned and moded as the host's" test \
	"$(nsenter -t "$p6" -m stat -c '%F %t:%T %a %U' "/dev/vfio/$group")" = \
	"character special file $hostmm $(stat -c '%a %U' "/dev/vfio/$group")"
start6=$(awk '{print $22}' "/proc/$p6/stat")
check "  recorded with its start time (pid:$p6@$start6)" test "$(state_of "$edu")" = "assigned pid:$p6@$start6"
expect "bob releases it" 0 "" as 1002 release "$edu"
check "  the node is gone from his /dev" sh -c "! nsenter -t $p6 -m test -e /dev/vfio/$group"
check "  host /dev/vfio/$group untouched" test "$(stat -c %t:%T "/dev/vfio/$group")" = "$hostmm"
kill "$p1" "$p2" "$p3" "$p4" "$p6" 2>/dev/null

# ---- the whole unit is authorized ----
ctl bind "$gpu" >/dev/null || bad "bind the GPU and its audio"
expect "carol (audio only) names the GPU's audio function: refused" 1 not-permitted \
	as 1003 assign "$hda" --cdi
grep -q "$gpu" <<<"$LAST" && ok "  the refusal names the GPU" || bad "  reason: $LAST"
check "  nothing written to the CDI directory" test -z "$(ls -A /tmp/cdi)"
expect "dave (audio and display) gets the unit" 0 "" as 1004 assign "$hda" --cdi
expect "dave releases it" 0 "" as 1004 release "$hda"

# ---- a spoofed holder: a file with the node's path in its own namespace ----
unshare -m --propagation private sh -c \
	"mount -t tmpfs tmpfs /dev && mkdir /dev/vfio && echo x >/dev/vfio/$group && exec sleep 300 3</dev/vfio/$group" &
p7=$!
wait_sleep "$p7"
sleep 5 # the holder scan runs every 2 s
check "a regular file at /dev/vfio/$group is no holder: edu stays pooled" test "$(state_of "$edu")" = "pooled "
kill "$p7"

# ---- one uid floods subscriptions; root is still served ----
build/tools/vfiod-hostile --socket "$SOCK" --case per-uid-subscriptions --case reserve-for-root \
	--case per-uid-connections 2>&1 | sed 's/^/     /'
[ "${PIPESTATUS[0]}" = 0 ] && ok "subscription and connection floods from one uid: root and others served" ||
	bad "per-uid floods"

# ---- a second daemon ----
out=$(vfiod/vfiod --state-dir "$VST" --socket "$VST/second.sock" --policy /tmp/pol 2>&1); rc=$?
[ "$rc" != 0 ] && grep -q "another vfiod (pid $VFIOD_PID)" <<<"$out" &&
	ok "a second daemon on the same state directory refused: $out" || bad "second daemon: rc=$rc $out"
out=$(VST=/tmp/other vfiod/vfiod --state-dir /tmp/other --socket "$SOCK" --policy /tmp/pol 2>&1); rc=$?
[ "$rc" != 0 ] && grep -q "another vfiod (pid $VFIOD_PID)" <<<"$out" &&
	ok "a second daemon on the same socket refused" || bad "second daemon (socket): rc=$rc $out"
check "the first still answers on its socket" ctl status
stop_vfiod
finish
