#!/bin/bash
# TESTBED_DEVICES: -device VGA -device edu
# A probe (not in make check): how far can a storming device's IRQ thread be
# demoted? Without vfiod (edu bound to vfio-pci by hand), edu-storm raises
# interrupts as fast as it can from CPU 0 while the vector and a CPU-bound
# load share CPU 0; for each scheduling of the IRQ thread (the kernel's
# SCHED_FIFO 50, SCHED_OTHER nice 0, nice 19, SCHED_IDLE) it reports the
# load's work, the interrupts delivered to the VMM and whether the kernel's
# spurious-interrupt detector disabled the vector ("nobody cared").
# Run: TESTBED_DEVICES="-device VGA -device edu" [TESTBED_SUITE=sid] scripts/testbed run tests/testbed/probe-demote.sh
. tests/testbed/lib.sh
edu=$(find_dev 1234 11e8 | head -n1)
echo "kernel $(uname -r) $(grep -o threadirqs /proc/cmdline)"
grep -qw threadirqs /proc/cmdline || { echo "needs threadirqs"; finish; exit; }
modprobe vfio-pci
echo vfio-pci >"/sys/bus/pci/devices/$edu/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe
work() { # SECONDS: median work per 250 ms window of a load on CPU 0
	build/tools/spin 0 "$1" | awk '{print $2}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
idle=$(work 2)
echo "load alone on CPU 0: $idle/window"
for how in fifo nice0 nice19 idle; do
	dmesg -C
	taskset -c 0 build/tools/edu-storm "$edu" --seconds 0 >/tmp/s.txt 2>&1 &
	p=$!
	v=
	for _ in $(seq 50); do v=$(ls "/sys/bus/pci/devices/$edu/msi_irqs" 2>/dev/null | head -n1); [ -n "$v" ] && break; sleep 0.1; done
	echo 0 >"/proc/irq/$v/smp_affinity_list"
	sleep 0.5
	tid=$(ps -eLo tid=,comm= | awk -v n="irq/$v-" 'index($2, n) == 1 { print $1; exit }')
	case $how in
	fifo) ;;
	nice0) chrt -o -p 0 "$tid" && renice -n 0 -p "$tid" >/dev/null ;;
	nice19) chrt -o -p 0 "$tid" && renice -n 19 -p "$tid" >/dev/null ;;
	idle) chrt -i -p 0 "$tid" ;;
	esac
	w=$(work 4)
	sleep 1
	dis=$(dmesg | grep -c "nobody cared")
	echo "RESULT $how: thread $(ps -o cls=,ni= -p "$tid" | tr -s ' ') on CPUs $(taskset -pc "$tid" | sed 's/.*: //'), load $w/window ($((w * 100 / idle))%), VMM: $(tail -n1 /tmp/s.txt | sed 's/edu-storm: //'), kernel disabled the vector: $([ "$dis" -gt 0 ] && echo yes || echo no)"
	dmesg | grep -A1 "nobody cared" | head -n 2
	kill "$p"; wait "$p" 2>/dev/null
done
finish
