#!/bin/bash
# Probe (not a scenario): qtest-edu on an edu that libvirt HOT-PLUGS into a
# running OS-less q35 domain (tests/testbed/libvirt.sh) whose
# qemu:commandline carries a qtest socket. The hostdev lands on pcie-root-port
# 1 (guest bus 0x01) after SeaBIOS ran: qtest-edu finds it behind the root
# port, powers the slot on (QEMU leaves a hot-plugged slot's power off for the
# OS), assigns BAR0 in the port's memory window, storms, and at exit disables
# MSI and turns the slot power off again, so that a live detach unplugs at
# once without a guest OS. Measured: the host vector's rate (vfio-msi[0](BDF)
# in /proc/interrupts) over ~8 s; the time the detached device takes to leave
# the live XML. Two cycles: --max, then --rate 500 (a re-attach after the
# first detach).
#   TESTBED_TIMEOUT=900 TESTBED_VERBOSE=1 scripts/testbed run tests/testbed/probe-qtest-libvirt.sh
. tests/testbed/lib.sh
. tests/testbed/libvirt.sh
TOOL=build/tools/qtest-edu
[ -x "$TOOL" ] || { echo "build $TOOL first (make $TOOL)"; exit 2; }
WINDOW=${QTEST_WINDOW:-8}

edu=$(find_dev 1234 11e8 | head -n1)
[ -n "$edu" ] || { bad "no edu"; finish; exit; }
dev=/sys/bus/pci/devices/$edu
vfio_bind "$edu" || { bad "vfio_bind $edu"; finish; exit; }
group=$(vfio_group "$edu")
echo "edu $edu, IOMMU group $group, driver $(driver_of "$edu")"

vec_count() {
	awk -v d="($edu)" 'index($0, "vfio-msi") && index($0, d) {
		s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts
}
since() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }'; }

virt_up || { bad "virt_up"; finish; exit; }
QD=/tmp/vq-qtl
mkdir -p "$QD"
SOCK=$QD/t2.sock
rm -f "$SOCK"
virt_define t2 -qtest "unix:$SOCK,server=on,wait=off" -qtest-log none || { bad "define"; finish; exit; }
grep -A12 "<qemu:commandline>" "$VIRT_DIR/t2.xml"
t0=$EPOCHREALTIME
vsh start t2 || { bad "start t2"; tail -20 /var/log/libvirt/qemu/t2.log; finish; exit; }
qpid=$(virt_qemu_pid t2)
for _ in $(seq 300); do [ -S "$SOCK" ] && break; sleep 0.1; done
check "QEMU under libvirt created $SOCK" test -S "$SOCK"
echo "started in $(since "$t0") s; QEMU $qpid: $(tr '\0' ' ' <"/proc/$qpid/cmdline" | cut -c1-900)"
sleep 6 # SeaBIOS

hd=$VIRT_DIR/hd-qtl.xml
virt_hostdev_xml "$edu" ua-qtl-1 0x01 >"$hd"

# cycle LABEL TOOL-ARGS...: attach, storm (measured), tool exit, detach
cycle() {
	local label=$1 tpid rc irq="" c0 c1 s0 s1 t
	shift
	echo "== $label"
	t=$EPOCHREALTIME
	vsh attach-device t2 "$hd" --live || { bad "$label: attach-device"; return; }
	echo "$label: attach-device --live took $(since "$t") s"
	check "$label: QEMU $qpid holds /dev/vfio/$group" vfio_wait_holders "$group" "$qpid" 10
	vsh dumpxml t2 | grep -B2 -A8 "<hostdev" | sed 's/^/     /'
	echo "$label: $TOOL $SOCK $*"
	t=$EPOCHREALTIME
	"$TOOL" "$SOCK" --connect-wait 30 "$@" >"$QD/tool-$label.out" 2>&1 &
	tpid=$!
	for _ in $(seq 900); do
		for f in "$dev"/msi_irqs/*; do [ -e "$f" ] && irq=${f##*/}; done
		[ -n "$irq" ] && break
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$irq" ]; then
		bad "$label: no MSI vector appeared"
		wait "$tpid"
		cat "$QD/tool-$label.out"
	else
		echo "$label: host vector $irq after $(since "$t") s"
		sleep 0.5
		c0=$(vec_count); s0=$EPOCHREALTIME
		sleep "$WINDOW"
		c1=$(vec_count); s1=$EPOCHREALTIME
		kill -0 "$tpid" 2>/dev/null || bad "$label: qtest-edu ended before the window closed"
		grep vfio-msi /proc/interrupts
		awk -v l="$label" -v a="${c0:-0}" -v b="${c1:-0}" -v s="$s0" -v e="$s1" \
			'BEGIN { printf "%s: host vector %d -> %d over %.2f s: %.0f interrupts/s\n", l, a, b, e - s, (b - a) / (e - s) }' |
			tee -a "$QD/rates"
		echo "guest loadavg $(cat /proc/loadavg)"
		wait "$tpid"
		rc=$?
		cat "$QD/tool-$label.out"
		check "$label: qtest-edu exited 0" test "$rc" = 0
		sleep 0.5
		check "$label: host vector released after MSI was disabled" test -z "$(vec_count)"
	fi
	check "$label: hostdev still attached after qtest-edu's exit (no eject by the tool)" \
		virt_has_alias t2 ua-qtl-1
	t=$EPOCHREALTIME
	vsh detach-device t2 "$hd" --live || bad "$label: detach-device --live"
	echo "$label: detach-device --live returned after $(since "$t") s"
	if virt_wait_gone t2 ua-qtl-1 10; then
		ok "$label: ua-qtl-1 left the live XML $(since "$t") s after the detach"
	else
		bad "$label: ua-qtl-1 still in the live XML 10 s after the detach"
	fi
	check "$label: QEMU released /dev/vfio/$group" vfio_wait_holders "$group" "" 10
}

cycle max --max --seconds $((WINDOW + 6))
cycle paced --rate 500 --seconds $((WINDOW + 6))
cat "$QD/rates"
check "max: a storm (over 100 interrupts/s)" awk \
	'{ for (i = 1; i <= NF; i++) if ($i == "interrupts/s") r[$1] = $(i - 1) }
	 END { exit !(r["max:"] > 100) }' "$QD/rates"
check "domain t2 still running" virt_wait_state t2 running 5
vsh destroy t2 >/dev/null || bad "destroy"
vsh undefine t2 >/dev/null || bad "undefine"
virt_down
check "edu back on vfio-pci alone" test "$(driver_of "$edu")" = vfio-pci
finish
