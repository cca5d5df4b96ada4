#!/bin/bash
# Testbed smoke scenario: run with `scripts/testbed run tests/testbed/scenario-smoke.sh`.
# Checks the guest is the testbed (IOMMU groups present, modules loadable)
# and lists the PCI devices with vendor:device, class, IOMMU group and driver.
set -u
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }

[ "${TESTBED:-}" = 1 ] || { echo "not inside the testbed (TESTBED unset)" >&2; exit 2; }
echo "kernel: $(uname -r) (TESTBED_KERNEL=${TESTBED_KERNEL:-unset})"
[ "$(uname -r)" = "${TESTBED_KERNEL:-}" ] || fail "uname -r differs from TESTBED_KERNEL"
echo "suite: ${TESTBED_SUITE:-unset}"
[ -n "${TESTBED_SUITE:-}" ] || fail "TESTBED_SUITE is not set in the guest"
echo "pid 1: $(tr '\0' ' ' </proc/1/cmdline)"
echo "cwd: $(pwd)"

ngroups=$(ls /sys/kernel/iommu_groups 2>/dev/null | wc -l)
echo "iommu groups: $ngroups"
[ "$ngroups" -gt 0 ] || fail "/sys/kernel/iommu_groups is empty"

for m in vfio-pci e1000e snd-hda-intel; do
	if modprobe "$m"; then echo "modprobe $m: ok"; else fail "modprobe $m"; fi
done
grep -q '^vfio_pci ' /proc/modules || fail "vfio_pci not in /proc/modules"
[ -e /dev/vfio/vfio ] || fail "/dev/vfio/vfio missing"

# Builtins only (no fork per device): processes are slow under TCG.
declare -A group=() driver=()
for l in /sys/kernel/iommu_groups/*/devices/*; do
	[ -e "$l" ] || continue
	g=${l%/devices/*}; group[${l##*/}]=${g##*/}
done
for l in /sys/bus/pci/drivers/*/0000:*; do
	[ -e "$l" ] || continue
	drv=${l%/*}; driver[${l##*/}]=${drv##*/}
done
echo "PCI devices (BDF vendor:device class group driver):"
for d in /sys/bus/pci/devices/*; do
	b=${d##*/}
	read -r ven <"$d/vendor"; read -r dev <"$d/device"; read -r cls <"$d/class"
	printf '  %s %s:%s %s group=%s driver=%s\n' "$b" "${ven#0x}" "${dev#0x}" "$cls" \
		"${group[$b]:--}" "${driver[$b]:--}"
done

# Drivers that must bind to these devices wherever they are present.
for d in /sys/bus/pci/devices/*; do
	read -r ven <"$d/vendor"; read -r dev <"$d/device"
	case "$ven:$dev" in
	0x8086:0x10d3) want=e1000e ;;
	0x8086:0x293e) want=snd_hda_intel ;;
	*) continue ;;
	esac
	drv=${driver[${d##*/}]:-}
	[ "$drv" = "$want" ] || fail "${d##*/} bound to '${drv:-nothing}', expected $want"
done

[ -x vfiod/vfiod ] && echo "vfiod/vfiod present" || echo "vfiod/vfiod not built (fine for the smoke test)"
[ $rc -eq 0 ] && echo "smoke: OK" || echo "smoke: FAILED"
exit $rc
