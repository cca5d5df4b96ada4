#!/bin/bash
# Containers on a real kernel: live injection by PID into a process in its
# own mount namespace (unshare, its own /dev), which then opens the device;
# refused while no cgroup2 is mounted (a device program cannot be ruled
# out), accepted once cgroup2 is at /sys/fs/cgroup/unified (hybrid hosts);
# with the cgroup v1 device controller denying everything, vfiod's allow
# rules are what lets it open the nodes; release takes the nodes away; an
# untrusted tenant gets no container, and is told why.
. tests/testbed/lib.sh
edu=$(find_dev 1234 11e8 | head -n1)
group=""
mkdir -p /tmp/pol
cat >/tmp/pol/v.conf <<POL
[class edu]
match = id=1234:11e8

[tenant alice]
uids = 0
classes = edu
trusted = true

[tenant bob]
uids = 1002
classes = edu
POL
# the cgroup v1 device controller (the testbed mounts cgroup2 by default)
umount /sys/fs/cgroup
mount -t tmpfs cgroup_root /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/devices
mount -t cgroup -o devices devices /sys/fs/cgroup/devices || bad "mount the v1 devices controller"
start_vfiod --policy /tmp/pol || { bad "start"; finish; exit; }
ctl bind "$edu" >/dev/null || bad "bind"
group=$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")

# a "container": its own mount namespace and /dev, in a device cgroup that denies all
mkdir -p /sys/fs/cgroup/devices/ctr
echo a >/sys/fs/cgroup/devices/ctr/devices.deny
unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 && exec sleep 120' &
cpid=$!
sleep 1
echo "$cpid" >/sys/fs/cgroup/devices/ctr/cgroup.procs
check "no /dev/vfio in the container yet" sh -c "! nsenter -t $cpid -m test -e /dev/vfio"

# no cgroup2 mounted anywhere: vfiod cannot rule out a device program of
# the container's runtime, and fails closed
out=$(ctl assign "$edu" --pid "$cpid" --tenant alice 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "not-permitted" <<<"$out" && grep -q "cannot tell" <<<"$out" &&
	ok "no cgroup2 to query: refused, fails closed ($out)" || bad "fail closed: rc=$rc $out"
# cgroup2 where hybrid hosts have it: vfiod finds it there
mkdir -p /sys/fs/cgroup/unified
mount -t cgroup2 none /sys/fs/cgroup/unified || bad "mount cgroup2 at unified"

# as root on bob's account (the socket is root-only here; scenario-control
# runs real non-root tenants)
out=$(ctl assign "$edu" --pid "$cpid" --tenant bob 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "not-permitted" <<<"$out" && grep -q "shares the host's kernel" <<<"$out" &&
	ok "untrusted tenant refused, told why" || bad "untrusted: rc=$rc $out"

ctl assign "$edu" --pid "$cpid" --tenant alice >/dev/null && ok "live injection into process $cpid" || bad "assign --pid"
nsenter -t "$cpid" -m ls -l /dev/vfio
check "the nodes exist in its namespace, same major:minor as the host's" test \
	"$(nsenter -t "$cpid" -m stat -c %t:%T "/dev/vfio/$group")" = "$(stat -c %t:%T "/dev/vfio/$group")"
gmaj=$((16#$(stat -c %t "/dev/vfio/$group"))); gmin=$((16#$(stat -c %T "/dev/vfio/$group")))
echo "ctr devices.list: $(tr '\n' ' ' </sys/fs/cgroup/devices/ctr/devices.list)"
check "its device cgroup now allows c $gmaj:$gmin" grep -qx "c $gmaj:$gmin rwm" /sys/fs/cgroup/devices/ctr/devices.list
# open from inside: same namespace and same device cgroup as the container
opened=$(nsenter -t "$cpid" -m sh -c "echo \$\$ >/sys/fs/cgroup/devices/ctr/cgroup.procs 2>/dev/null; exec 3</dev/vfio/vfio 4<>/dev/vfio/$group && echo yes" 2>&1)
check "the container opens /dev/vfio/$group ($opened)" test "$opened" = yes
cstart=$(awk '{print $22}' "/proc/$cpid/stat")
jqt "store: assigned to alice, consumer pid:$cpid@$cstart (its start time)" "$VST/state.json" \
	".devices[] | select(.bdf == \"$edu\") | .state == \"assigned\" and .tenant == \"alice\" and .consumer == \"pid:$cpid@$cstart\""
ctl release "$edu" >/dev/null && ok "release" || bad "release"
check "the group node is gone from the container" sh -c "! nsenter -t $cpid -m test -e /dev/vfio/$group"
denied=$(nsenter -t "$cpid" -m sh -c "echo \$\$ >/sys/fs/cgroup/devices/ctr/cgroup.procs 2>/dev/null; exec 3</dev/vfio/vfio && echo opened" 2>&1)
check "and its device cgroup denies /dev/vfio/vfio again ($denied)" sh -c "! echo '$denied' | grep -qx opened"
kill "$cpid"
stop_vfiod
finish
