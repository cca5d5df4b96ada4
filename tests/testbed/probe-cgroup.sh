#!/bin/bash
# Probe (not a scenario): vfiod/cgroup.c against a real MSI storm, on cgroup
# v2 (the guest's default) and then on cgroup v1 (cpu controller), in one run.
# The root-bus edu goes to vfio-pci; build/tools/edu-storm owns it and storms
# it; tests/testbed/cgroup-probe.c (built here if build/probe/cgroup-probe is
# missing or stale) sets up the device's cgroups (irq 50%, vmm 50%), attaches
# the IRQ thread and the VFIO holder, measures the IRQ thread's CPU use
# uncontained, at the 50% cap and at 5%, shows the groups, steers the vector
# to CPU 0 and back, tears down and checks nothing is left; on v2 it also
# forces a refused move (EBUSY) to check the fallback. About 1 min with a
# driver built on the host first, 3.5 min when the guest builds it:
#   mkdir -p build/probe && cc -std=gnu11 -D_GNU_SOURCE -O2 -Ivfiod -o build/probe/cgroup-probe \
#     tests/testbed/cgroup-probe.c vfiod/{cgroup,cgroup_tasks,cgroup_cpus,hostfs,err,util,parse,irqmon,policy,levers,irqbal,log}.c \
#     $(pkg-config --cflags --libs libcgroup inih json-c)
#   scripts/testbed run tests/testbed/probe-cgroup.sh
. tests/testbed/lib.sh
TOOL=build/tools/edu-storm
PROBE=build/probe/cgroup-probe
SRCS="tests/testbed/cgroup-probe.c vfiod/cgroup.c vfiod/hostfs.c vfiod/err.c vfiod/util.c
	vfiod/parse.c vfiod/irqmon.c vfiod/policy.c vfiod/levers.c vfiod/irqbal.c
	vfiod/cgroup_tasks.c vfiod/cgroup_cpus.c vfiod/log.c"
[ -x "$TOOL" ] || { echo "build $TOOL first (make $TOOL)"; exit 2; }

stale=
[ -x "$PROBE" ] || stale=1
for s in $SRCS vfiod/*.h; do [ "$s" -nt "$PROBE" ] && stale=1; done
if [ -n "$stale" ]; then
	echo "building the probe driver in the guest (slow under TCG)"
	PROBE=/tmp/cgroup-probe
	# shellcheck disable=SC2086,SC2046
	cc -std=gnu11 -D_GNU_SOURCE -O2 -Ivfiod -o "$PROBE" $SRCS \
		$(pkg-config --cflags --libs libcgroup inih json-c) || { bad "building $PROBE"; finish; exit; }
fi

modprobe vfio-pci || bad "modprobe vfio-pci"
edu=
for d in $(find_dev 1234 11e8); do
	case $d in 0000:00:*) edu=$d; break ;; esac
done
[ -n "$edu" ] || { bad "no edu on the root bus"; finish; exit; }
dev=/sys/bus/pci/devices/$edu
echo vfio-pci >"$dev/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe
check "edu $edu on vfio-pci" test "$(driver_of "$edu")" = vfio-pci
group=$(readlink "$dev/iommu_group")
group=${group##*/}

# irq_thread N: tid of the kernel thread irq/N-vfio-... (builtins only)
irq_thread() {
	local f c
	for f in /proc/[0-9]*/comm; do
		{ read -r c <"$f"; } 2>/dev/null && [ "${c#"irq/$1-vfio"}" != "$c" ] &&
			{ f=${f%/comm}; echo "${f#/proc/}"; return; }
	done
}
# field OUT KEY: value of KEY=... on the RESULT lines of the probe's output
field() { sed -n "s/^RESULT.* $2=\([^ ]*\).*/\1/p" "$1" | head -1; }

# phase LABEL HIER: one run of the probe against a fresh storm
phase() {
	local label=$1 want=$2 pid irq='' tid='' f rc out=/tmp/probe-$1.out how c5 c50
	echo "=== $label: $(awk '$5 ~ "^/sys/fs/cgroup" { print $5, $(NF - 2), $NF }' /proc/self/mountinfo | tr '\n' ';')"
	"$TOOL" "$edu" --seconds 120 >"/tmp/storm-$label.out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		for f in "$dev"/msi_irqs/*; do [ -e "$f" ] && irq=${f##*/}; done
		[ -n "$irq" ] && tid=$(irq_thread "$irq") && [ -n "$tid" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$tid" ]; then
		bad "$label: no IRQ thread (vector ${irq:-none})"
		kill "$pid" 2>/dev/null; wait "$pid"; cat "/tmp/storm-$label.out"
		return
	fi
	echo "vector $irq, IRQ thread $tid ($(cat "/proc/$tid/comm")), edu-storm $pid, group $group"
	"$PROBE" "$edu" "$group" "$irq" >"$out" 2>&1
	rc=$?
	cat "$out"
	kill -0 "$pid" 2>/dev/null || bad "$label: edu-storm ended during the probe"
	kill "$pid" 2>/dev/null
	wait "$pid"
	check "$label: every probe step worked" test "$rc" = 0
	check "$label: hierarchy $want used" test "$(field "$out" hierarchy)" = "$want"
	check "$label: the holder is edu-storm $pid" grep -q "^RESULT holder pid=$pid comm=edu-storm" "$out"
	check "$label: every thread of the holder moved" grep -q "^RESULT holder pid=$pid .*failed=0" "$out"
	how=$(field "$out" how)
	c50=$(sed -n 's/^RESULT cap50 irq_thread_cpu=\([0-9]*\)%.*/\1/p' "$out")
	c5=$(sed -n 's/^RESULT cap5 irq_thread_cpu=\([0-9]*\)%.*/\1/p' "$out")
	echo "SUMMARY $label: hierarchy $(field "$out" hierarchy), IRQ thread $how" \
		"(move refused: $(field "$out" move_err)), IRQ thread CPU" \
		"uncontained $(sed -n 's/^RESULT uncontained irq_thread_cpu=\([0-9]*%\).*/\1/p' "$out")," \
		"cap 50% ${c50}%, cap 5% ${c5}%" | tee -a /tmp/summary
	case $how in
	moved+demoted)
		check "$label: the 5% cap holds the IRQ thread under 15% of a CPU" test "${c5:-100}" -le 15
		check "$label: the IRQ thread used no more at 5% than at 50%" test "${c5:-100}" -le "${c50:-0}" ;;
	demoted-only)
		echo "note $label: the kernel refused the IRQ thread's move: demoted to SCHED_OTHER only" ;;
	*) bad "$label: IRQ thread not contained ($how)" ;;
	esac
	check "$label: IRQ thread back to SCHED_FIFO 50 after teardown" \
		grep -q "^RESULT after_teardown irq_thread policy=1 rtprio=50" "$out"
	check "$label: nothing left under the hierarchy" grep -q "^RESULT left_behind=no" "$out"
	[ "$want" = v2 ] || return
	# the fallback, forced with v2's no-internal-process rule
	local before
	before=$(sed -n 's/^RESULT fallback_before .* cpus=\(.*\)$/\1/p' "$out")
	check "$label fallback: move refused (EBUSY), demoted" grep -q \
		"^RESULT fallback_thread tid=$tid how=demoted-only was_rt=1 move_err=EBUSY err=-" "$out"
	check "$label fallback: SCHED_OTHER at nice 0 (never lower), CPUs $before unchanged" grep -q \
		"^RESULT fallback_contained policy=0 rtprio=0 nice=0 cpus=$before$" "$out"
	check "$label fallback: teardown restored FIFO 50, nice 0, CPUs $before" grep -q \
		"^RESULT fallback_after_teardown policy=1 rtprio=50 nice=0 cpus=$before$" "$out"
	echo "SUMMARY $label fallback (move refused): IRQ thread CPU" \
		"$(sed -n 's/^RESULT fallback_cap50 irq_thread_cpu=\([0-9]*%\).*/\1/p' "$out")" \
		"(demoted to SCHED_OTHER only; the cap does not apply)" | tee -a /tmp/summary
}

grep -qw cpu /sys/fs/cgroup/cgroup.controllers || bad "cgroup2 without the cpu controller"
phase v2 v2
[ -e /sys/fs/cgroup/vfiod.slice ] && bad "v2: vfiod.slice left in /sys/fs/cgroup"

# cgroup v1: the cpu controller leaves v2 (disabled in the root's subtree,
# its child csses gone) and is mounted alone
echo "=== switching to cgroup v1"
echo "-cpu" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
if umount /sys/fs/cgroup && mount -t tmpfs cgroup_root /sys/fs/cgroup && mkdir /sys/fs/cgroup/cpu; then
	for _ in $(seq 50); do
		mount -t cgroup -o cpu cpu /sys/fs/cgroup/cpu 2>/dev/null && break
		sleep 0.2
	done
fi
if grep -q " /sys/fs/cgroup/cpu .* cgroup .*cpu" /proc/self/mountinfo; then
	phase v1 v1
	[ -e /sys/fs/cgroup/cpu/vfiod.slice ] && bad "v1: vfiod.slice left in /sys/fs/cgroup/cpu"
else
	bad "could not mount cgroup v1 with the cpu controller"
fi
echo "=== summary"
cat /tmp/summary 2>/dev/null
finish
