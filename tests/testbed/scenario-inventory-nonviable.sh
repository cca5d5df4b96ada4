#!/bin/bash
# TESTBED_DEVICES: -device VGA -device pcie-root-port,id=rp1,chassis=1 -device pcie-pci-bridge,id=br1,bus=rp1 -device edu,bus=br1,addr=1 -device e1000e,netdev=n0,bus=br1,addr=2 -netdev user,id=n0,restrict=on
# Group viability on a real kernel: an edu and an e1000e share the IOMMU
# group of a PCIe-to-PCI bridge. While e1000e.ko drives the NIC, the edu
# is group-not-viable and the verdict names the NIC and its driver; once
# the driver is gone the edu is assignable.
. tests/testbed/lib.sh
inv=/tmp/inv.json

modprobe e1000e || bad "modprobe e1000e"
vfiod/vfiod --inventory >"$inv" || bad "vfiod --inventory"
edu=$(jq -r '.devices[] | select(.vendor == "1234" and .device == "11e8") | .bdf' "$inv")
nic=$(jq -r '.devices[] | select(.vendor == "8086" and .device == "10d3") | .bdf' "$inv")
bridge=$(jq -r '.devices[] | select(.vendor == "1b36" and .device == "000e") | .bdf' "$inv")
echo "edu=$edu nic=$nic bridge=$bridge"
jq -r '.devices[] | "  \(.bdf) \(.vendor):\(.device) \(.driver // "-") g=\(.iommu_group) \(.reason // "assignable"): \(.message)"' "$inv"

jqt "edu, NIC and bridge in one group" "$inv" "
  (.devices[] | select(.bdf == \"$edu\") | .group_members) == ([\"$bridge\", \"$edu\", \"$nic\"] | sort)"
jqt "NIC $nic is bound to e1000e" "$inv" ".devices[] | select(.bdf == \"$nic\") | .driver == \"e1000e\""
jqt "edu $edu is group-not-viable, naming $nic and e1000e" "$inv" "
  .devices[] | select(.bdf == \"$edu\") | .reason == \"group-not-viable\" and
  (.message | test(\"$nic\") and test(\"host driver e1000e\"))"
jqt "the NIC itself is assignable (the others in its group are unbound)" "$inv" \
	".devices[] | select(.bdf == \"$nic\") | .assignable"

rmmod e1000e || bad "rmmod e1000e"
vfiod/vfiod --inventory >"$inv" || bad "vfiod --inventory"
jqt "without e1000e.ko the edu is assignable" "$inv" ".devices[] | select(.bdf == \"$edu\") | .assignable"
finish
