#!/bin/bash
# TESTBED_DEVICES: -device VGA -device edu
# A probe (not in make check): a full-speed MSI storm through vfio with the
# handler in hard-IRQ context, the vector on CPU 1 beside a CPU-bound load,
# and no vfiod at all (edu bound to vfio-pci by hand). trixie's 6.12 guest
# dies of a double fault under it in QEMU 7.2's TCG (twice in two runs, and
# in scenario-outcome-hardirq); bookworm's 6.1 and sid's 7.2 do not:
#   TESTBED_SUITE=trixie TESTBED_THREADIRQS=0 \
#     TESTBED_DEVICES="-device VGA -device edu" scripts/testbed run tests/testbed/probe-hardirq-crash.sh
. tests/testbed/lib.sh
edu=$(find_dev 1234 11e8 | head -n1)
echo "kernel $(uname -r) $(grep -o threadirqs /proc/cmdline || echo no-threadirqs)"
modprobe vfio-pci
echo vfio-pci >"/sys/bus/pci/devices/$edu/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe
taskset -c 0 build/tools/edu-storm "$edu" --seconds 25 >/tmp/s.txt 2>&1 &
p=$!
sleep 1
v=$(ls "/sys/bus/pci/devices/$edu/msi_irqs" | head -n1)
echo 1 >"/proc/irq/$v/smp_affinity_list"
build/tools/spin 1 20 >/dev/null
for i in $(seq 20); do cat /proc/loadavg >/dev/null; done
wait $p
tail -n 2 /tmp/s.txt
ok "survived"
finish
