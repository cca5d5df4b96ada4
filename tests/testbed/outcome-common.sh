# Sourced by scenario-outcome.sh (threadirqs) and scenario-outcome-hardirq.sh
# (TESTBED_THREADIRQS=0), which carry the testbed header lines
# (TESTBED_DEVICES: -device VGA -device edu -device edu).
# Containment judged by its outcome, on whatever kernel and IRQ mode the
# testbed boots (TESTBED_SUITE, TESTBED_THREADIRQS): the levers vfiod finds
# are reported, and whichever they are, while one edu storms at full speed
# with its vector on the tenant's CPU (1):
# - uncontained, the tenant's pinned CPU-bound load loses work;
# - throttled (not yet silenced), the load keeps at least 80% of the work
#   it did before the storm, and a calm neighbouring edu's interrupts keep
#   flowing;
# - silenced, the storm's rate falls to 0/s;
# - an operator's unquarantine brings the device back.
# "The IRQ thread is in its cgroup" is asserted only where the kernel
# allows the move (containment_levers.irq_thread_cgroup).
. tests/testbed/lib.sh
mapfile -t edus < <(find_dev 1234 11e8)
storm=${edus[0]} calm=${edus[1]}
echo "kernel $(uname -r), cmdline: $(cat /proc/cmdline | grep -o threadirqs || echo 'no threadirqs'); storm=$storm calm=$calm"
mkdir -p /tmp/pol
cat >/tmp/pol/vfiod.conf <<POL
[class edu]
match = id=1234:11e8
storm_threshold = 3000
clear_threshold = 500
sustain_ms = 5000
cooldown_ms = 2000
escalation_ms = 12000
irq_cpu_max = 100
vmm_cpu_max = 100
storm_irq_cpu_max = 5
storm_vmm_cpu_max = 50
POL
start_vfiod --policy /tmp/pol || { bad "start"; finish; exit; }
ctl bind "$storm" >/dev/null && ctl bind "$calm" >/dev/null || bad "bind"
ctl events --follow >/tmp/ev.txt 2>&1 &
sub=$!
ctl --json status | jq .containment_levers >/tmp/levers.json
echo "levers: $(jq -r .sentence /tmp/levers.json)"
jqt "levers reported: threaded as the command line says" /tmp/levers.json \
	".irq_threads == $(grep -qw threadirqs /proc/cmdline && echo true || echo false)"
jqt "the default housekeeping CPUs (no isolation, one node): CPU 0" /tmp/levers.json \
	'.housekeeping_cpus == "0" and (.throttle | index("steer-vectors")) != null'

vec_of() { # BDF: its MSI vector, once its owner has enabled it
	local v
	for _ in $(seq 50); do
		v=$(ls "/sys/bus/pci/devices/$1/msi_irqs" 2>/dev/null | head -n1)
		[ -n "$v" ] && { echo "$v"; return; }
		sleep 0.1
	done
}
work() { # SECONDS: the median work per 250 ms window of a load pinned to CPU 1
	build/tools/spin 1 "$1" | awk '{print $2}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

# the calm neighbour: 300 interrupts/s, its VMM on the housekeeping CPU
taskset -c 0 build/tools/edu-storm "$calm" --rate 300 --seconds 90 >/tmp/calm.txt 2>&1 &
calm_pid=$!
cvec=$(vec_of "$calm")
base=$(work 3)
calm_before=$(vec_rate "$cvec")
echo "before the storm: load ${base}/window, neighbour ${calm_before}/s"

# the storm, its vector on the tenant's CPU (as an IRQ balancer may leave it)
taskset -c 0 build/tools/edu-storm "$storm" --seconds 60 >/tmp/storm.txt 2>&1 &
storm_pid=$!
svec=$(vec_of "$storm")
echo 1 >"/proc/irq/$svec/smp_affinity_list" || bad "put the storm's vector on CPU 1"
unc=$(work 2)
rate_unc=$(vec_rate "$svec")
echo "uncontained: load ${unc}/window ($((unc * 100 / base))%), storm ${rate_unc}/s"
for _ in $(seq 60); do grep -qE "throttled +$storm" /tmp/ev.txt && break; sleep 0.25; done
check "throttled" grep -qE "throttled +$storm" /tmp/ev.txt
if ! grep -qE "throttled +$storm" /tmp/ev.txt; then
	echo "storm tool: $(tail -n 3 /tmp/storm.txt)"
	echo "calm tool: $(tail -n 3 /tmp/calm.txt)"
	ctl --json show "$storm" | jq -c '{state, irq, vectors, interrupts_watch}'
	ctl --json show "$calm" | jq -c '{state, irq, vectors, interrupts_watch}'
	echo "storm vector $svec: $(cat /sys/kernel/irq/$svec/per_cpu_count) / msi_irqs $(ls /sys/bus/pci/devices/$storm/msi_irqs | tr '\n' ' ')"
	grep -E "^ *$svec:|^ *$cvec:" /proc/interrupts
	ctl --json status | jq -c .monitor
	sleep 1
	ctl --json status | jq -c .monitor
	ctl --json show "$storm" | jq -c .interrupts_watch
	ps -eLo tid,psr,cls,ni,pcpu,comm | grep -E "vfiod|irq/3|edu-storm|spin" | head -20
	cat /tmp/ev.txt
fi
sleep 1
thr=$(work 3)
calm_thr=$(vec_rate "$cvec")
rate_thr=$(vec_rate "$svec")
aff=$(cat "/proc/irq/$svec/smp_affinity_list")
echo "the VMM while throttled: $(tail -n 1 /tmp/storm.txt | sed 's/edu-storm: //')"
echo "throttled: load ${thr}/window ($((thr * 100 / base))% of before), neighbour ${calm_thr}/s, storm ${rate_thr}/s, its vector on CPUs $aff"
check "the storm's vector steered to the housekeeping CPU ($aff)" test "$aff" = 0
check "the tenant's load keeps >= 80% of its work while throttled ($((thr * 100 / base))%)" \
	test $((thr * 100)) -ge $((base * 80))
check "the neighbour's interrupts keep flowing (${calm_thr}/s, ${calm_before}/s before)" \
	test "$calm_thr" -ge $((calm_before / 2))
tid=$(ps -eLo tid=,comm= | awk -v v="irq/$svec-" 'index($2, v) == 1 { print $1; exit }')
if [ "$(jq -r .irq_thread_cgroup /tmp/levers.json)" = true ] && [ -n "$tid" ]; then
	cg=$(cat /sys/fs/cgroup/vfiod.slice/*/irq/cgroup.threads 2>/dev/null | tr '\n' ' ')
	check "the IRQ thread $tid is in its irq cgroup (the kernel allows it)" sh -c "echo ' $cg' | grep -q ' $tid '"
elif [ -n "$tid" ]; then
	echo "IRQ thread $tid: $(ps -o cls=,ni= -p "$tid"), affinity $(taskset -pc "$tid" | sed 's/.*: //'): the kernel keeps it out of cgroups"
	check "the IRQ thread is demoted to SCHED_OTHER, never below nice 0" test "$(ps -o cls=,ni= -p "$tid" | tr -s ' ')" = " TS 0"
else
	echo "no IRQ thread: the handler runs in hard-IRQ context on CPU $aff"
fi
check "the kernel kept the storm's vector (no \"irq $svec: nobody cared\")" sh -c "! dmesg | grep -q 'irq $svec: nobody cared'"
for _ in $(seq 120); do grep -qE "silenced +$storm" /tmp/ev.txt && break; sleep 0.5; done
check "silenced" grep -qE "silenced +$storm" /tmp/ev.txt
rate_sil=$(vec_rate "$svec")
check "the storm falls to 0/s once silenced (${rate_sil}/s)" test "${rate_sil:-1}" -lt 10
for _ in $(seq 60); do grep -qE "quarantined +$storm" /tmp/ev.txt && break; sleep 0.5; done
kill "$storm_pid" "$calm_pid" 2>/dev/null; wait "$storm_pid" "$calm_pid" 2>/dev/null
ctl unquarantine "$storm" >/dev/null && ok "operator unquarantines" || bad "unquarantine"
check "the device is back in the pool" test "$(ctl --json show "$storm" | jq -r .state)" = pooled
echo "FIGURES kernel=$(uname -r) threadirqs=$(grep -qw threadirqs /proc/cmdline && echo yes || echo no) levers=$(jq -c '.throttle' /tmp/levers.json) load_uncontained=$((unc * 100 / base))% load_throttled=$((thr * 100 / base))% neighbour=${calm_before}->${calm_thr}/s storm=${rate_unc}/s->${rate_thr}/s->${rate_sil}/s"
kill "$sub" 2>/dev/null
stop_vfiod
[ "$FAILS" = 0 ] || { echo "vfiod's log:"; tail -n 25 "$VST/vfiod.log"; }
finish
