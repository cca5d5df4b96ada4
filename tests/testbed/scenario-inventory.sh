#!/bin/bash
# The inventory on a real kernel with a real IOMMU (default topology of
# scripts/testbed): names and classes, the boot GPU refused, the display
# device and its HDMI-audio companion assignable as one unit while
# snd-hda-intel holds the audio function, the three devices behind the
# PCIe-to-PCI bridge in one group with the bridge refused, and the e1000e
# refused as host-critical exactly while it carries the default route.
. tests/testbed/lib.sh
VFIOD=vfiod/vfiod
inv=/tmp/inv.json

modprobe snd-hda-intel && modprobe e1000e || bad "modprobe snd-hda-intel e1000e"

inventory() {
	if ! "$VFIOD" --inventory >"$inv" 2>/tmp/inv.err || [ -s /tmp/inv.err ]; then
		bad "vfiod --inventory: $(cat /tmp/inv.err)"
	fi
}
inventory
echo "--- inventory (bdf vendor:device class driver group reason)"
jq -r '.devices[] | "  \(.bdf) \(.vendor):\(.device) \(.class) \(.driver // "-") g=\(.iommu_group) \(.reason // "assignable")"' "$inv"

# Devices are found by vendor:device(:class), never by a fixed address.
dev() { jq -r --arg v "$1" --arg d "$2" --arg c "${3:-}" \
	'[.devices[] | select(.vendor == $v and .device == $d and ($c == "" or .class == $c)) | .bdf] | join(" ")' "$inv"; }
vga=$(dev 1234 1111 030000)
disp=$(dev 1234 1111 038000)
audio=$(dev 8086 293e)
nic=$(dev 8086 10d3)
bridge=$(dev 1b36 000e)
rootport=$(dev 1b36 000c)
edus=$(dev 1234 11e8)
testdev=$(dev 1b36 0005)
echo "--- found: vga=$vga display=$disp audio=$audio nic=$nic bridge=$bridge rootport=$rootport edu=[$edus] testdev=$testdev"
for v in vga disp audio nic bridge rootport testdev; do
	[ -n "${!v}" ] || bad "device $v not found"
done

n_sys=$(ls /sys/bus/pci/devices | wc -l)
jqt "all $n_sys PCI devices listed, none with errors" "$inv" \
	"(.devices | length) == $n_sys and all(.devices[]; .errors == [])"
jqt "IOMMU present, vfio-pci available" "$inv" '.iommu and .vfio.available'

# names and classes from pci.ids
jqt "classes right" "$inv" "
  (.devices[] | select(.bdf == \"$vga\") | .class_name == \"VGA compatible controller\") and
  (.devices[] | select(.bdf == \"$disp\") | .class_name == \"Display controller\") and
  (.devices[] | select(.bdf == \"$audio\") | .class == \"040300\" and .class_name == \"Audio device\") and
  (.devices[] | select(.bdf == \"$nic\") | .class == \"020000\" and .class_name == \"Ethernet controller\") and
  (.devices[] | select(.bdf == \"$bridge\") | .class == \"060400\" and .class_name == \"PCI bridge\")"
jqt "names right" "$inv" "
  (.devices[] | select(.bdf == \"$nic\") | .vendor_name == \"Intel Corporation\" and .device_name == \"82574L Gigabit Network Connection\") and
  (.devices[] | select(.bdf == \"$audio\") | .device_name == \"82801I (ICH9 Family) HD Audio Controller\") and
  (.devices[] | select(.bdf == \"$bridge\") | .vendor_name == \"Red Hat, Inc.\") and
  (.devices[] | select(.bdf == \"$testdev\") | .device_name == \"QEMU PCI Test Device\")"

# the boot GPU
jqt "boot VGA $vga refused as host-critical" "$inv" "
  .devices[] | select(.bdf == \"$vga\") | .boot_vga == true and .reason == \"host-critical\" and (.message | test(\"boot GPU\"))"

# the GPU with its HDMI audio function
jqt "display $disp and audio $audio share one group of two" "$inv" "
  (.devices[] | select(.bdf == \"$disp\") | .group_members) == [\"$disp\", \"$audio\"]"
jqt "audio is bound to snd_hda_intel" "$inv" \
	".devices[] | select(.bdf == \"$audio\") | .driver == \"snd_hda_intel\""
jqt "display assignable with the audio function as companion" "$inv" "
  .devices[] | select(.bdf == \"$disp\") | .assignable and .companions == [\"$audio\"] and (.message | test(\"companion $audio\"))"
jqt "audio assignable with the display as companion, its driver named" "$inv" "
  .devices[] | select(.bdf == \"$audio\") | .assignable and .companions == [\"$disp\"] and (.message | test(\"snd_hda_intel will be unbound\"))"

# behind the PCIe-to-PCI bridge
edu_behind=$(jq -r --arg b "$bridge" '.devices[] | select(.parent == $b and .vendor == "1234") | .bdf' "$inv")
jqt "bridge, edu $edu_behind and pci-testdev in one group of three" "$inv" "
  (.devices[] | select(.bdf == \"$bridge\") | .group_members) == ([\"$bridge\", \"$edu_behind\", \"$testdev\"] | sort)"
jqt "bridge $bridge and root port $rootport refused as not-endpoint" "$inv" "
  all(.devices[] | select(.bdf == \"$bridge\" or .bdf == \"$rootport\"); .reason == \"not-endpoint\" and .endpoint == false)"
jqt "edu and pci-testdev behind the bridge assignable (bridge left alone)" "$inv" "
  all(.devices[] | select(.bdf == \"$edu_behind\" or .bdf == \"$testdev\"); .assignable and .companions == [])"

# the NIC: assignable while it carries no default route
jqt "e1000e $nic bound, no default route: assignable, driver named" "$inv" "
  .devices[] | select(.bdf == \"$nic\") | .driver == \"e1000e\" and .assignable and (.message | test(\"host driver e1000e will be unbound\"))"
ifc=$(ls "/sys/bus/pci/devices/$nic/net" 2>/dev/null | head -n1)
if [ -n "$ifc" ]; then
	# no router advertisements: QEMU's user network sends them, and an
	# IPv6 default route learnt from one would (rightly) keep the NIC critical
	sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.autoconf=0"
	ip link set "$ifc" up && ip addr add 10.0.2.15/24 dev "$ifc" && ip route add default via 10.0.2.2 dev "$ifc" ||
		bad "cannot set a default route on $ifc"
	inventory
	jqt "with the default route on $ifc: host-critical" "$inv" "
	  (.devices[] | select(.bdf == \"$nic\") | .reason == \"host-critical\" and (.message | test(\"default route\"))) and
	  (.host_critical | any(.bdf == \"$nic\"))"
	ip route del default
	inventory
	jqt "route removed: assignable again" "$inv" ".devices[] | select(.bdf == \"$nic\") | .assignable"
	ip -6 route add default via fe80::2 dev "$ifc" || bad "cannot set an IPv6 default route"
	inventory
	jqt "with an IPv6 default route: host-critical" "$inv" \
		".devices[] | select(.bdf == \"$nic\") | .reason == \"host-critical\""
	ip -6 route del default via fe80::2 dev "$ifc"
	inventory
	jqt "IPv6 route removed: assignable again" "$inv" ".devices[] | select(.bdf == \"$nic\") | .assignable"
else
	bad "e1000e $nic has no network interface"
fi

echo "--- facts shown for the record"
jq -c '.devices[] | select(.vendor == "8086" and .device == "10d3") | {reset_methods, interrupts, numa_node}' "$inv"
jq -c '.host_critical, .warnings' "$inv"
finish
