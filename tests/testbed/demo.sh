#!/bin/bash
# The main job, watched on the testbed (`make demo`): vfiod's inventory of
# a real kernel with a real IOMMU, with the verdict for every device, and a
# verdict changing as the host's own use of a device changes; the daemon
# binding devices, containing an interrupt storm, and handing a device to a
# VM through a real libvirtd; the tenant boundary holding against a hostile
# live-injection target and a second daemon.
set -u
[ "${TESTBED:-}" = 1 ] || { echo "run with: make demo" >&2; exit 2; }
VFIOD=vfiod/vfiod
table() {
	"$VFIOD" --inventory | jq -r '
	  ["BDF", "ID", "CLASS", "DRIVER", "GROUP", "VERDICT"],
	  (.devices[] | [.bdf, "\(.vendor):\(.device)", (.class_name // .class), (.driver // "-"),
	                 (.iommu_group // "-" | tostring), (.reason // "assignable")]) | @tsv' |
	column -t -s $'\t'
}
echo "== kernel $(uname -r), $(ls /sys/kernel/iommu_groups | wc -l) IOMMU groups"
echo "== loading host drivers: snd-hda-intel (the display's audio function), e1000e (the NIC)"
modprobe snd-hda-intel
modprobe e1000e
echo
echo "== vfiod --inventory: every device and its verdict"
table
echo
echo "== why each refused device is refused"
"$VFIOD" --inventory | jq -r '.devices[] | select(.assignable | not) | "  \(.bdf) [\(.reason)] \(.message)"'
echo
echo "== the GPU and its HDMI audio function move as one unit"
"$VFIOD" --inventory | jq '.devices[] | select(.class == "038000") |
	{bdf, iommu_group, group_members, companions, assignable, message}'
nic=$("$VFIOD" --inventory | jq -r '.devices[] | select(.class == "020000") | .bdf' | head -n1)
ifc=$(ls "/sys/bus/pci/devices/$nic/net" | head -n1)
echo
echo "== the host starts using NIC $nic ($ifc) for its default route"
sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0"  # only the IPv4 route below
ip link set "$ifc" up
ip addr add 10.0.2.15/24 dev "$ifc"
ip route add default via 10.0.2.2 dev "$ifc"
"$VFIOD" --inventory | jq -r --arg b "$nic" '.devices[] | select(.bdf == $b) | "  \(.bdf) [\(.reason // "assignable")] \(.message)"'
echo "== the route goes away"
ip route del default
"$VFIOD" --inventory | jq -r --arg b "$nic" '.devices[] | select(.bdf == $b) | "  \(.bdf) [\(.reason // "assignable")] \(.message)"'

echo
echo "== the daemon: vfiod owns devices, vfioctl drives it"
st=/tmp/vfiod-demo
mkdir -p "$st"
# daemon [ARGS...]: vfiod on the demo's state and socket, its log in $st/log; $pid
daemon() {
	"$VFIOD" "$@" --state-dir "$st" --socket "$st/vfiod.sock" --udev-rules "$st/70-vfiod.rules" 2>>"$st/log" &
	pid=$!
	for _ in $(seq 50); do [ -S "$st/vfiod.sock" ] && break; sleep 0.1; done
}
: >"$st/log"
daemon
ctl() { echo "\$ vfioctl $*"; vfioctl/vfioctl --socket "$st/vfiod.sock" "$@"; echo "  (exit $?)"; }
ctl status
ctl bind "$nic"
echo "  $nic driver: $(basename "$(readlink "/sys/bus/pci/devices/$nic/driver")"), /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
disp=$("$VFIOD" --inventory | jq -r '.devices[] | select(.class == "038000") | .bdf')
ctl bind "$disp"
ctl list
ctl show "$nic"
ctl bind "$("$VFIOD" --inventory | jq -r '.devices[] | select(.boot_vga == true) | .bdf')"
ctl return "$nic"
ctl return "$disp"
echo "  $nic driver: $(basename "$(readlink "/sys/bus/pci/devices/$nic/driver")"), netdev: $(ls "/sys/bus/pci/devices/$nic/net")"
echo
echo "== the daemon's view: kept current by the kernel's events, not gathered for every answer"
ifc=$(ls "/sys/bus/pci/devices/$nic/net" | head -n1)
sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.autoconf=0"
echo "\$ ip route add default via 10.0.2.2 dev $ifc   (another tool; vfiod is not told)"
ip link set "$ifc" up && ip addr add 10.0.2.15/24 dev "$ifc" 2>/dev/null; ip route add default via 10.0.2.2 dev "$ifc"
vfioctl/vfioctl --socket "$st/vfiod.sock" --json show "$nic" | jq -r '"  next show: \(.bdf) [\(.reason // "assignable")] \(.message)"'
ip route del default
echo "\$ echo vfio-pci > driver_override; unbind; drivers_probe   (by hand, as virsh nodedev-detach does)"
echo vfio-pci >"/sys/bus/pci/devices/$nic/driver_override"
echo "$nic" >"/sys/bus/pci/devices/$nic/driver/unbind"
echo "$nic" >/sys/bus/pci/drivers_probe
vfioctl/vfioctl --socket "$st/vfiod.sock" --json show "$nic" | jq -r '"  next show: \(.bdf) driver \(.driver), override \(.driver_override)"'
echo >"/sys/bus/pci/devices/$nic/driver_override"
echo "$nic" >"/sys/bus/pci/devices/$nic/driver/unbind"
echo "$nic" >/sys/bus/pci/drivers_probe
echo "\$ vfioctl list --rescan   (everything read again: did the view miss anything?)"
vfioctl/vfioctl --socket "$st/vfiod.sock" list --rescan 2>&1 >/dev/null | sed 's/^/  /'
ctl status
kill "$pid"; wait "$pid"

echo
echo "== the tenant boundary: one daemon, and live injection a tenant cannot turn on the host"
mkdir -p /tmp/demo-pol
printf '[class edu]\nmatch = id=1234:11e8\n\n[tenant alice]\nuids = 0\nclasses = edu\ntrusted = true\n' >/tmp/demo-pol/edu.conf
daemon --policy /tmp/demo-pol
echo "\$ vfiod --state-dir $st   # a second daemon on the same state"
"$VFIOD" --state-dir "$st" --socket "$st/other.sock" 2>&1 | sed 's/^/  /'
edu=$("$VFIOD" --inventory | jq -r '[.devices[] | select(.vendor == "1234" and .device == "11e8")][0].bdf')
ctl bind "$edu" >/dev/null
echo secret >/tmp/demo-secret; chmod 0600 /tmp/demo-secret
# a "container" whose /dev/vfio/vfio points at a root-only host file
unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /dev && mkdir /dev/vfio &&
	ln -s /tmp/demo-secret /dev/vfio/vfio && exec sleep 60' >/dev/null 2>&1 &
evil=$!
# and an honest one
unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /dev && exec sleep 60' >/dev/null 2>&1 &
good=$!
sleep 1
ctl assign "$edu" --pid "$evil" --tenant alice
echo "  /tmp/demo-secret is still $(stat -c '%a %U' /tmp/demo-secret)"
ctl assign "$edu" --pid "$good" --tenant alice
echo "  in process $good's /dev/vfio: $(nsenter -t "$good" -m ls /dev/vfio | tr '\n' ' ')"
ctl release "$edu"
ctl return "$edu" >/dev/null
kill "$evil" "$good" "$pid" 2>/dev/null; wait "$pid"

echo
echo "== an interrupt storm: a VMM-like owner storms the edu through VFIO"
mkdir -p /tmp/demo-pol
printf '[class edu]\nmatch = id=1234:11e8\nstorm_threshold = 3000\nsustain_ms = 300\nescalation_ms = 1500\n' >/tmp/demo-pol/edu.conf
daemon --policy /tmp/demo-pol
edu=$("$VFIOD" --inventory | jq -r '[.devices[] | select(.vendor == "1234" and .device == "11e8")][0].bdf')
ctl bind "$edu"
vfioctl/vfioctl --socket "$st/vfiod.sock" events --follow >/tmp/demo-ev.txt 2>/dev/null &
evp=$!
build/tools/edu-storm "$edu" --seconds 15 >/dev/null 2>&1 &
storm=$!
for _ in $(seq 40); do grep -q "quarantined *$edu" /tmp/demo-ev.txt && break; sleep 0.5; done
echo "  what vfiod did, as its event stream told it:"
sed 's/^/    /' /tmp/demo-ev.txt
kill "$storm" "$evp" 2>/dev/null; wait "$storm" "$evp" 2>/dev/null
ctl show "$edu"
ctl unquarantine "$edu"
kill "$pid"; wait "$pid"

echo
echo "== a tenant VM through a real libvirtd (a nested, OS-less q35 domain)"
. tests/testbed/libvirt.sh
virt_up >/dev/null && virt_define demo1 && vsh start demo1 >/dev/null && echo "  libvirtd up, domain demo1 running"
printf '[class edu]\nmatch = id=1234:11e8\nvmm_cpu_max = 30\n\n[tenant alice]\nuids = 0\nclasses = edu\n' >/tmp/demo-pol/edu.conf
daemon --policy /tmp/demo-pol
: >/tmp/demo-ev.txt
vfioctl/vfioctl --socket "$st/vfiod.sock" events --follow >/tmp/demo-ev.txt 2>/dev/null &
evp=$!
ctl assign "$edu" --vm demo1 --tenant alice
echo "  demo1's live XML now has:"
vsh dumpxml demo1 | sed -n '/<hostdev/,/<\/hostdev>/p' | sed 's/^/    /'
echo "  the nested QEMU holds /dev/vfio/$(vfio_group "$edu"): pid $(vfio_holders "$(vfio_group "$edu")" | tr '\n' ' ')(demo1's QEMU: $(virt_qemu_pid demo1))"
echo "  demo1 capped through libvirt's scheduler parameters:"
vsh schedinfo demo1 --live | grep -E "global_quota|vcpu_quota|emulator_quota" | sed 's/^/    /'
ctl release "$edu"
ctl assign "$edu" --vm demo1 --tenant alice
echo "\$ virsh destroy demo1"
vsh destroy demo1 >/dev/null
for _ in $(seq 40); do grep -q "domain demo1 stopped" /tmp/demo-ev.txt && break; sleep 0.25; done
echo "  what vfiod did, as its event stream told it:"
sed 's/^/    /' /tmp/demo-ev.txt
kill "$evp" 2>/dev/null; wait "$evp" 2>/dev/null
ctl list
ctl return "$edu"
kill "$pid"; wait "$pid"
virt_down
echo
echo "== the daemon's log"
cat "$st/log"
