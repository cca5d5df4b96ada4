#!/bin/bash
# Binding on a real kernel, through the daemon and vfioctl: e1000e with its
# driver loaded goes to vfio-pci and back (its netdev returns); an edu with
# no driver goes and comes back to none; the display and its HDMI audio
# function move as one unit; refusals (boot GPU, bridge, a group made
# non-viable by a host driver, unknown and malformed addresses) change
# nothing.
. tests/testbed/lib.sh
modprobe e1000e && modprobe snd-hda-intel || bad "modprobe"
nic=$(find_dev 8086 10d3)
edu=$(find_dev 1234 11e8 | head -n1)
disp=$(find_dev 1234 1111 038000)
audio=$(find_dev 8086 293e)
vga=$(find_dev 1234 1111 030000)
bridge=$(find_dev 1b36 000e)
testdev=$(find_dev 1b36 0005)
edu2=$(find_dev 1234 11e8 | tail -n1)
echo "nic=$nic edu=$edu display=$disp audio=$audio vga=$vga bridge=$bridge testdev=$testdev edu2=$edu2"
check "vfio-pci not loaded yet (vfiod must load it)" test ! -d /sys/bus/pci/drivers/vfio-pci
start_vfiod || { bad "start vfiod"; finish; exit; }

group_of() { local g; g=$(readlink "/sys/bus/pci/devices/$1/iommu_group"); echo "${g##*/}"; }
rec() { jq -c --arg b "$1" '.devices[] | select(.bdf == $b)' "$VST/state.json"; }

# --- e1000e: bind and return, its netdev comes back
netdev=$(ls "/sys/bus/pci/devices/$nic/net")
check "e1000e has netdev $netdev" test -n "$netdev"
ctl bind "$nic" || bad "vfioctl bind $nic"
check "NIC on vfio-pci" test "$(driver_of "$nic")" = vfio-pci
check "/dev/vfio/$(group_of "$nic") exists" test -e "/dev/vfio/$(group_of "$nic")"
check "NIC's netdev gone" test ! -e "/sys/bus/pci/devices/$nic/net"
jqt "store: NIC pooled, original driver e1000e" "$VST/state.json" \
	".devices[] | select(.bdf == \"$nic\") | .state == \"pooled\" and .original_driver == \"e1000e\""
check "udev rule written for the NIC" grep -q "KERNEL==\"$nic\", ATTR{driver_override}=\"vfio-pci\"" "$VST/70-vfiod.rules"
ctl show "$nic" | grep -q "state         pooled" && ok "vfioctl show: pooled" || bad "vfioctl show: pooled"
ctl --json status | jq -e '.owned.pooled == 1' >/dev/null && ok "vfioctl status: one pooled" || bad "vfioctl status"
ctl return "$nic" || bad "vfioctl return $nic"
check "NIC back on e1000e" test "$(driver_of "$nic")" = e1000e
check "driver_override cleared" test "$(cat "/sys/bus/pci/devices/$nic/driver_override")" = "(null)"
check "netdev back" test -d "/sys/bus/pci/devices/$nic/net"
check "store: no record" test -z "$(rec "$nic")"
check "udev rule removed" sh -c "! grep -q '$nic' '$VST/70-vfiod.rules'"

# --- edu with no driver: back to none
ctl bind "$edu" && check "edu on vfio-pci" test "$(driver_of "$edu")" = vfio-pci || bad "bind edu"
ctl return "$edu" || bad "return edu"
check "edu back to no driver" test "$(driver_of "$edu")" = none

# --- the display and its audio function move as one unit
ctl bind "$disp" || bad "bind display"
check "display on vfio-pci" test "$(driver_of "$disp")" = vfio-pci
check "audio on vfio-pci with it" test "$(driver_of "$audio")" = vfio-pci
jqt "store: both recorded as one unit" "$VST/state.json" \
	"[.devices[] | select(.bdf == \"$disp\" or .bdf == \"$audio\") | .unit] == [[\"$disp\",\"$audio\"],[\"$disp\",\"$audio\"]]"
ctl return "$audio" || bad "return via the audio function"
check "audio back on snd_hda_intel" test "$(driver_of "$audio")" = snd_hda_intel
check "display back to no driver" test "$(driver_of "$disp")" = none

# --- refusals change nothing
before=$(for d in /sys/bus/pci/devices/*; do echo "${d##*/} $(driver_of "${d##*/}")"; done)
refuse() { # NAME CODE BDF
	local out rc
	out=$(ctl bind "$3" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -q "^vfioctl: $2: " <<<"$out"; then ok "$1 ($out)"; else bad "$1: rc=$rc $out"; fi
}
refuse "boot VGA refused" host-critical "$vga"
refuse "bridge refused" not-endpoint "$bridge"
refuse "unknown device refused" not-found 0000:00:1c.7
out=$(ctl bind "0000:00:1f.7/../x" 2>&1); rc=$?
[ "$rc" = 2 ] && ok "malformed address refused by vfioctl ($out)" || bad "malformed: rc=$rc $out"
# a host driver on one member makes the group behind the bridge non-viable
modprobe uio_pci_generic
echo uio_pci_generic >"/sys/bus/pci/devices/$edu2/driver_override"
echo "$edu2" >/sys/bus/pci/drivers_probe
if [ "$(driver_of "$edu2")" = uio_pci_generic ]; then
	out=$(ctl bind "$testdev" 2>&1); rc=$?
	if [ "$rc" = 1 ] && grep -q "group-not-viable" <<<"$out" && grep -q "$edu2" <<<"$out" &&
		grep -q uio_pci_generic <<<"$out"; then
		ok "pci-testdev refused: group-not-viable naming $edu2 and uio_pci_generic"
	else
		bad "pci-testdev: rc=$rc $out"
	fi
	check "pci-testdev untouched" test "$(driver_of "$testdev")" = none
	echo "$edu2" >/sys/bus/pci/drivers/uio_pci_generic/unbind
	echo >"/sys/bus/pci/devices/$edu2/driver_override"
else
	bad "could not bind $edu2 to uio_pci_generic (it has $(driver_of "$edu2"))"
fi
after=$(for d in /sys/bus/pci/devices/*; do echo "${d##*/} $(driver_of "${d##*/}")"; done)
check "refusals changed no binding" test "$before" = "$after"
jqt "store: nothing owned" "$VST/state.json" '.devices == [] and .intent == null'

# --- a "reboot": the NIC is pooled, the daemon stops, the host driver takes
# the device back (as after a reboot without the udev rule); at the next
# start vfiod pools it again, and still knows its original driver.
ctl bind "$nic" >/dev/null || bad "bind before the reboot"
stop_vfiod
echo "$nic" >/sys/bus/pci/drivers/vfio-pci/unbind
echo >"/sys/bus/pci/devices/$nic/driver_override"
echo "$nic" >/sys/bus/pci/drivers_probe
check "\"after the reboot\" the NIC is on e1000e" test "$(driver_of "$nic")" = e1000e
start_vfiod || bad "restart"
check "the restart pooled it again" test "$(driver_of "$nic")" = vfio-pci
check "reported in the log" grep -q "$nic: was pooled, found on its host driver (a reboot?); pooled again" "$VST/vfiod.log"
jqt "store: original driver still e1000e" "$VST/state.json" \
	".devices[] | select(.bdf == \"$nic\") | .original_driver == \"e1000e\""
ctl return "$nic" >/dev/null && check "returned to e1000e" test "$(driver_of "$nic")" = e1000e

# --- a corrupt store is set aside and the daemon starts from the kernel
stop_vfiod
echo '{"version": 1, "devices": [ {"bdf": "0000:00:03.0", "sta' >"$VST/state.json"
start_vfiod || bad "start with a corrupt store"
check "corrupt store reported loudly" grep -q "STATE STORE CORRUPT" "$VST/vfiod.log"
check "corrupt store kept aside" sh -c "ls '$VST'/state.json.corrupt-* >/dev/null"
ctl status >/dev/null && ok "daemon serves after a corrupt store" || bad "daemon after corrupt store"
stop_vfiod
echo "--- daemon log"; cat "$VST/vfiod.log"
finish
