#!/bin/bash
# Probe (not a scenario): a real VMM storms the edu. The root-bus edu goes to
# vfio-pci; a nested QEMU (TCG, no guest OS) takes it with -device vfio-pci
# and a qtest socket; build/tools/qtest-edu plays the guest driver over that
# socket (BAR0, Memory Space + Bus Master, MSI on, then raise/ack in a loop).
# Measured while it runs: the host vector's rate (vfio-msi[0](BDF) in
# /proc/interrupts, ~3 s), the CPU of the host IRQ thread, of the nested QEMU
# (per thread, idle and storming) and of qtest-edu. Runs: max (--max),
# nodest (--max --msi-dest 0xfe: the nested guest's APIC never sees the
# MSIs), paced (--rate 500). Each run starts a fresh nested QEMU.
#   [QTEST_SECONDS=S] scripts/testbed run tests/testbed/probe-qtest.sh
. tests/testbed/lib.sh
TOOL=build/tools/qtest-edu
[ -x "$TOOL" ] || { echo "build $TOOL first (make $TOOL)"; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { bad "no qemu-system-x86_64"; finish; exit; }

modprobe vfio-pci || bad "modprobe vfio-pci"
edu=$(find_dev 1234 11e8 | head -n1)
[ -n "$edu" ] || { bad "no edu"; finish; exit; }
dev=/sys/bus/pci/devices/$edu
echo vfio-pci >"$dev/driver_override"
[ -e "$dev/driver" ] && echo "$edu" >"$dev/driver/unbind"
echo "$edu" >/sys/bus/pci/drivers_probe
check "edu $edu on vfio-pci" test "$(driver_of "$edu")" = vfio-pci
echo "edu $edu, IOMMU group $(basename "$(readlink "$dev/iommu_group")")"

# vec_count: the host vector's total over all CPUs, from /proc/interrupts
# (empty when no vfio-msi line names the edu)
vec_count() {
	awk -v d="($edu)" 'index($0, "vfio-msi") && index($0, d) {
		s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts
}
# ticks PID|TID: utime+stime in clock ticks (a process: all its threads)
ticks() {
	local s f
	{ [ -n "$1" ] && read -r s <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
	read -r -a f <<<"${s##*) }"
	echo $((f[11] + f[12]))
}
# task_ticks PID: "TID TICKS COMM" for each thread of PID (builtins only)
task_ticks() {
	local t s f c
	for t in /proc/"$1"/task/*; do
		{ read -r s <"$t/stat" && read -r c <"$t/comm"; } 2>/dev/null || continue
		read -r -a f <<<"${s##*) }"
		echo "${t##*/} $((f[11] + f[12])) $c"
	done
}
# irq_thread N: tid of irq/N-vfio-msi...
irq_thread() {
	local f c
	for f in /proc/[0-9]*/comm; do
		{ read -r c <"$f"; } 2>/dev/null && [ "${c#"irq/$1-vfio-msi"}" != "$c" ] &&
			{ f=${f%/comm}; echo "${f#/proc/}"; return; }
	done
}

SOCK=/tmp/qt.sock
QEMU=(qemu-system-x86_64 -M q35 -m 64 -accel tcg -nodefaults -display none
	-device "vfio-pci,host=$edu"
	-qtest "unix:$SOCK,server=on,wait=off" -qtest-log none)
SECS=${QTEST_SECONDS:-12}

# run LABEL ARGS...: a fresh nested QEMU, qtest-edu ARGS in the background,
# measured while it storms
run() {
	local label=$1 qpid tpid irq= tid= f c0 c1 t0 t1 k0 k1 q0 q1 e0 e1 rc t_start
	shift
	echo "== $label: ${QEMU[*]}"
	rm -f "$SOCK"
	t_start=$EPOCHREALTIME
	"${QEMU[@]}" >"/tmp/qemu-$label.log" 2>&1 &
	qpid=$!
	for _ in $(seq 600); do
		[ -S "$SOCK" ] && break
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.1
	done
	[ -S "$SOCK" ] || { bad "$label: QEMU did not create $SOCK"; cat "/tmp/qemu-$label.log"; kill "$qpid" 2>/dev/null; return; }
	echo "$label: qtest socket after $(awk -v s="$t_start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }') s"
	check "$label: no vfio-msi vector before qtest-edu (QEMU up, MSI off)" test -z "$(vec_count)"
	# the nested QEMU idle (firmware done: it takes 1-4 s; no MSI yet): its
	# threads over 2 s
	sleep 5
	task_ticks "$qpid" >"/tmp/qidle0-$label"; t0=$EPOCHREALTIME
	sleep 2
	task_ticks "$qpid" >"/tmp/qidle1-$label"; t1=$EPOCHREALTIME
	awk -v s="$t0" -v e="$t1" 'NR == FNR { a[$1] = $2; next }
		{ printf "  idle nested QEMU thread %s: %.0f%% of a CPU\n", $1, ($2 - a[$1]) / (e - s) }' \
		"/tmp/qidle0-$label" "/tmp/qidle1-$label"
	echo "$label: $TOOL $SOCK $*"
	"$TOOL" "$SOCK" --bios-wait 120 --connect-wait 60 "$@" >"/tmp/tool-$label.out" 2>&1 &
	tpid=$!
	# the vector appears when qtest-edu enables MSI (after the firmware)
	for _ in $(seq 1800); do
		for f in "$dev"/msi_irqs/*; do [ -e "$f" ] && irq=${f##*/}; done
		[ -n "$irq" ] && tid=$(irq_thread "$irq") && [ -n "$tid" ] && break
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$irq" ]; then
		bad "$label: no MSI vector appeared"
		wait "$tpid"; cat "/tmp/tool-$label.out" "/tmp/qemu-$label.log"
		kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null
		return
	fi
	sleep 0.5   # past the set-up checks, into the loop
	task_ticks "$qpid" >"/tmp/qthreads0-$label"
	c0=$(vec_count); k0=$(ticks "$tid"); q0=$(ticks "$qpid"); e0=$(ticks "$tpid"); t0=$EPOCHREALTIME
	sleep 3
	c1=$(vec_count); k1=$(ticks "$tid"); q1=$(ticks "$qpid"); e1=$(ticks "$tpid"); t1=$EPOCHREALTIME
	task_ticks "$qpid" >"/tmp/qthreads1-$label"
	[ "$(irq_thread "$irq")" = "$tid" ] || bad "$label: IRQ thread $tid replaced by '$(irq_thread "$irq")' during the window"
	kill -0 "$tpid" 2>/dev/null || bad "$label: qtest-edu ended before the second sample (raise QTEST_SECONDS)"
	grep vfio-msi /proc/interrupts
	awk -v s="$t0" -v e="$t1" 'NR == FNR { a[$1] = $2; next }
		{ printf "  nested QEMU thread %s (%s): %.0f%% of a CPU in the window\n", $1, $3, ($2 - a[$1]) / (e - s) }' \
		"/tmp/qthreads0-$label" "/tmp/qthreads1-$label"
	echo "  (ps %CPU below: lifetime averages, firmware boot included)"
	ps -eLo pid,tid,cls,rtprio,pcpu,comm | grep -E 'irq/.*vfio|qemu|qtest-edu|PID'
	echo "vector $irq, IRQ thread tid ${tid:-none}; guest loadavg $(cat /proc/loadavg)"
	awk -v l="$label" -v a="${c0:-0}" -v b="${c1:-0}" -v s="$t0" -v e="$t1" \
		-v k="$((k1 - k0))" -v q="$((q1 - q0))" -v t="$((e1 - e0))" \
		'BEGIN { d = e - s; printf "%s: host vector %d -> %d over %.2f s: %.0f interrupts/s; CPU: IRQ thread %.0f%%, nested QEMU %.0f%%, qtest-edu %.0f%% of a CPU\n",
			l, a, b, d, (b - a) / d, k / d, q / d, t / d }' | tee -a /tmp/qtest-rates
	wait "$tpid"
	rc=$?
	cat "/tmp/tool-$label.out"
	check "$label: qtest-edu exited 0" test "$rc" = 0
	sleep 0.5
	check "$label: host vector released after MSI was disabled" test -z "$(vec_count)"
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	[ -s "/tmp/qemu-$label.log" ] && { echo "$label: QEMU said:"; cat "/tmp/qemu-$label.log"; }
}

run max --max --seconds "$SECS"
run nodest --max --msi-dest 0xfe --seconds "$SECS"
run paced --rate 500 --seconds "$SECS"
cat /tmp/qtest-rates
# The rates depend heavily on the build machine's load (TCG in TCG on 2
# cores): ~1300/s unpaced when it is quiet, a third of that when another
# guest runs beside this one.
check "unpaced: a storm (over 300 interrupts/s)" awk \
	'{ for (i = 1; i <= NF; i++) if ($i == "interrupts/s;") r[$1] = $(i - 1) }
	 END { exit !(r["max:"] > 300) }' /tmp/qtest-rates
check "--rate 500: 250-600 interrupts/s" awk \
	'{ for (i = 1; i <= NF; i++) if ($i == "interrupts/s;") r[$1] = $(i - 1) }
	 END { exit !(r["paced:"] > 250 && r["paced:"] < 600) }' /tmp/qtest-rates
check "edu back on vfio-pci alone (QEMU gone)" test "$(driver_of "$edu")" = vfio-pci
finish
