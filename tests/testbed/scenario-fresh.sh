#!/bin/bash
# TESTBED_DEVICES: -device VGA -device edu -device e1000e,netdev=n0 -netdev user,id=n0,restrict=on -fsdev local,id=fx,path=/usr/share/misc,security_model=none,readonly=on -device virtio-9p-pci,fsdev=fx,mount_tag=fresh,addr=0x9.0
# The daemon's view kept current on a real kernel (issue 12): each change
# below is made by another tool, with no word to vfiod, and the very next
# answer must show it:
#   - the NIC bound to vfio-pci and back by hand (driver_override and
#     drivers_probe, as virsh nodedev-detach does): PCI uevents;
#   - a default route on the NIC, then removed: rtnetlink;
#   - a mount of the extra virtio-9p device's tag, then unmounted: POLLPRI
#     on /proc/self/mountinfo;
# and then `vfioctl list --rescan` finds nothing the view had wrong, and the
# consistency sweep found nothing either (no drift: every change came by an
# event).
. tests/testbed/lib.sh

modprobe e1000e && modprobe vfio-pci || bad "modprobe e1000e vfio-pci"
nic=$(find_dev 8086 10d3)
fx=""
for d in $(find_dev 1af4 1009); do
	case $d in *:09.0) fx=$d ;; esac
done
[ -n "$nic" ] && [ -n "$fx" ] || { bad "devices: nic=$nic 9p=$fx"; finish; exit 1; }
ifc=$(ls "/sys/bus/pci/devices/$nic/net" | head -n1)
sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.autoconf=0"
echo "--- nic $nic ($ifc), extra 9p device $fx"

start_vfiod || { finish; exit 1; }
ctl --json status >/tmp/st.json
jqt "status: the view is told by uevents, mounts, swaps, routes and links" /tmp/st.json \
	'.view.watching | test("uevents, mounts, swaps, routes and links, a sweep")'

# show BDF FILTER NAME: the very next answer, checked
show() {
	local t0 t1
	t0=$(date +%s%N)
	ctl --json show "$1" >/tmp/show.json
	t1=$(date +%s%N)
	jqt "$3 ($(((t1 - t0) / 1000000)) ms)" /tmp/show.json "$2"
	jq -e "$2" /tmp/show.json >/dev/null || jq -c '{driver, driver_override, reason, message}' /tmp/show.json
}

show "$nic" '.driver == "e1000e" and .assignable' "nic on e1000e, assignable"

# 1. bound by another tool, and given back
echo vfio-pci >"/sys/bus/pci/devices/$nic/driver_override"
echo "$nic" >"/sys/bus/pci/devices/$nic/driver/unbind"
echo "$nic" >/sys/bus/pci/drivers_probe
[ "$(driver_of "$nic")" = vfio-pci ] || bad "could not bind $nic to vfio-pci by hand"
show "$nic" '.driver == "vfio-pci" and .driver_override == "vfio-pci"' "bound to vfio-pci by hand: the next show says so"
echo >"/sys/bus/pci/devices/$nic/driver_override"
echo "$nic" >"/sys/bus/pci/devices/$nic/driver/unbind"
echo "$nic" >/sys/bus/pci/drivers_probe
[ "$(driver_of "$nic")" = e1000e ] || bad "could not give $nic back to e1000e"
ifc=$(ls "/sys/bus/pci/devices/$nic/net" | head -n1)
sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.autoconf=0"
show "$nic" '.driver == "e1000e" and .driver_override == null' "back on e1000e by hand: the next show says so"

# 2. a new default route
ip link set "$ifc" up && ip addr add 10.0.2.15/24 dev "$ifc" && ip route add default via 10.0.2.2 dev "$ifc" ||
	bad "cannot set a default route on $ifc"
show "$nic" '.reason == "host-critical" and (.message | test("default route"))' "a new default route: host-critical in the next show"
ctl --json list >/tmp/list.json
jqt "and in the next list" /tmp/list.json ".[] | select(.bdf == \"$nic\") | .reason == \"host-critical\""
ip route del default
show "$nic" '.assignable' "route removed: assignable in the next show"

# 3. a new mount
mkdir -p /mnt/fresh
show "$fx" '.assignable' "9p device $fx, nothing mounted: assignable"
mount -t 9p -o trans=virtio,version=9p2000.L,ro fresh /mnt/fresh || bad "cannot mount tag fresh"
show "$fx" '.reason == "host-critical" and (.message | test("/mnt/fresh"))' "a new mount: host-critical in the next show"
umount /mnt/fresh
show "$fx" '.assignable' "unmounted: assignable in the next show"

# 4. nothing was missed
ctl --json status >/tmp/st.json
jq -c '.view' /tmp/st.json
jqt "every change came by an event: the view read a few devices, not the host, and found no drift" /tmp/st.json \
	'.view.drift == 0 and .view.host_reads >= 4'
ctl --json list --rescan >/tmp/rescan.json
jqt "list --rescan: the view had nothing wrong" /tmp/rescan.json '.drift == [] and (.devices | length) > 5'
ctl list --rescan >/dev/null 2>/tmp/rescan.err
grep -q "rescan: 0 differences" /tmp/rescan.err && ok "vfioctl list --rescan says so" || bad "rescan said: $(cat /tmp/rescan.err)"
ctl events | grep drift
grep -q "view:" "$VST/vfiod.log" && bad "drift logged: $(grep 'view:' "$VST/vfiod.log" | head -3)" || ok "no drift in the log"
stop_vfiod
finish
