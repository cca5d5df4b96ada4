#!/bin/bash
# A nested QEMU as the VMM, storming: libvirt runs an OS-less q35 domain
# whose qemu:commandline carries a qtest socket; vfiod hot-assigns edu to it
# (--vm), and build/tools/qtest-edu drives the passed-through edu from the
# nested guest's side (BAR0, MSI, raise/ack), so the host sees a real MSI
# storm through the VMM's own vfio-pci. vfiod detects it and climbs the
# ladder. Phase 1: throttle tightens the domain's quotas through libvirt's
# scheduler parameters, and since the VMM is the storm's source that cuts the
# storm; it is undone when the storm is over. Phase 2 (a policy where the
# throttle leaves the VMM alone, reloaded with SIGHUP): throttle, silence
# (the rate falls to 0), quarantine (detached from the domain through
# libvirt); unquarantine brings the device back to the pool. Figures:
# detection latency in sampling periods, the domain's quota, the rates.
. tests/testbed/lib.sh
. tests/testbed/libvirt.sh
edu=$(find_dev 1234 11e8 | head -n1)
alias="ua-vfiod-$(echo "$edu" | tr ':.' '__')"
QD=/tmp/vq
QS=$QD/t2.sock
mkdir -p /tmp/pol "$QD"
cat >/tmp/pol/v.conf <<POL
[class edu]
match = id=1234:11e8
storm_threshold = 200
clear_threshold = 20
sustain_ms = 1500
cooldown_ms = 2000
escalation_ms = 5000
irq_cpu_max = 100
vmm_cpu_max = 40
storm_irq_cpu_max = 5
storm_vmm_cpu_max = 10
POL
sched() { vsh schedinfo t2 --live | awk -v k="$1" '$1 == k { print $3 }'; }
vec_count() {
	awk -v d="($edu)" 'index($0, "vfio-msi") && index($0, d) {
		s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts
}
rate() { # interrupts/s of the device's vfio-msi vectors over ~2 s
	local a b t0 t1
	a=$(vec_count); t0=$EPOCHREALTIME
	sleep 2
	b=$(vec_count); t1=$EPOCHREALTIME
	awk -v a="${a:-0}" -v b="${b:-0}" -v s="$t0" -v e="$t1" 'BEGIN { printf "%d", (b - a) / (e - s) }'
}
ev_time() { # TYPE: the unix time (ms) of the first TYPE event for edu, from the JSON stream
	local t
	t=$(jq -r --arg t "$1" --arg b "$edu" 'select(.type == $t and .bdf == $b) | .time' /tmp/ev.json 2>/dev/null | head -n1)
	[ -n "$t" ] && date -d "$t" +%s%3N
}

virt_up || { bad "libvirtd"; finish; exit; }
rm -f "$QS"
virt_define t2 -qtest "unix:$QS,server=on,wait=off" -qtest-log none || bad "define t2"
vsh start t2 >/dev/null || bad "start t2"
for _ in $(seq 300); do [ -S "$QS" ] && break; sleep 0.1; done
sleep 5 # SeaBIOS in the nested guest
start_vfiod --policy /tmp/pol || { bad "start vfiod"; finish; exit; }
ctl bind "$edu" >/dev/null || bad "bind"
ctl --json events --follow >/tmp/ev.json 2>&1 &
sub=$!
orig=$(sched global_quota)
ctl assign "$edu" --vm t2 && ok "assign $edu --vm t2 (hot)" || bad "assign --vm t2"
qpid=$(virt_qemu_pid t2)
check "the nested QEMU ($qpid) holds the group" vfio_wait_holders "$(vfio_group "$edu")" "$qpid" 10
check "t2 capped at vmm_cpu_max 40% (global_quota $(sched global_quota))" test "$(sched global_quota)" = 40000

# storm_from_vmm SECONDS: qtest-edu storms from the nested guest's side; sets
# t_storm (ms) when the host's vfio-msi vector appears (MSI enabled: the
# tool needs a few seconds to connect and set the device up first)
storm_from_vmm() {
	build/tools/qtest-edu "$QS" --max --seconds "$1" --no-bios-wait >/tmp/qtest.txt 2>&1 &
	tool=$!
	t_storm=
	for _ in $(seq 300); do
		[ -n "$(vec_count)" ] && { t_storm=$(date +%s%3N); break; }
		sleep 0.1
	done
	check "the host sees the VMM's MSI vector" test -n "$t_storm"
}
wait_ev() { # TYPE SECONDS [AFTER_MS]: waits for an event of TYPE for edu after AFTER_MS
	local i t
	for ((i = 0; i < $2 * 4; i++)); do
		t=$(jq -r --arg t "$1" --arg b "$edu" 'select(.type == $t and .bdf == $b) | .time' /tmp/ev.json 2>/dev/null | tail -n1)
		[ -n "$t" ] && t=$(date -d "$t" +%s%3N) && [ "$t" -gt "${3:-0}" ] && { echo "$t"; return 0; }
		sleep 0.25
	done
	return 1
}

# --- 1: the storm comes from the VMM, so capping the VMM contains it
echo "== phase 1: storm_vmm_cpu_max 10% of vmm_cpu_max 40%"
storm_from_vmm 20
before=$(rate)
echo "storm: ${before} interrupts/s on the host (vfio-msi of $edu)"
t_thr=$(wait_ev throttled 20)
check "throttled" test -n "$t_thr"
during=$(sched global_quota)
echo "t2 global_quota: $orig before assign, 40000 assigned, $during during the throttle"
check "the domain's quota tightened through libvirt to 10% ($during)" test "$during" = 10000
throttled_rate=$(rate)
echo "rate with the VMM capped: ${throttled_rate}/s (before: ${before}/s)"
check "capping the VMM cut the storm (${before}/s -> ${throttled_rate}/s)" test "$throttled_rate" -lt $((before / 2))
wait "$tool"
t_un=$(wait_ev unthrottled 30 "$t_thr")
check "unthrottled once the storm is over" test -n "$t_un"
check "and the domain's quota is back at 40% ($(sched global_quota))" test "$(sched global_quota)" = 40000
p1_detect=$((t_thr - t_storm))

# --- 2: a storm the VMM cap does not stop climbs the ladder
echo "== phase 2: storm_vmm_cpu_max = vmm_cpu_max: the throttle leaves the VMM alone"
sed -i 's/^storm_vmm_cpu_max = .*/storm_vmm_cpu_max = 40/' /tmp/pol/v.conf
kill -HUP "$VFIOD_PID"
sleep 1
# quarantine comes ~12 s into the storm and waits for the guest to let go:
# the tool's exit (MSI off, slot power off) is that guest letting go
storm_from_vmm 22
before2=$(rate)
t_thr2=$(wait_ev throttled 20 "$t_un")
check "throttled" test -n "$t_thr2"
t_sil=$(wait_ev silenced 30 "$t_thr2")
check "silenced" test -n "$t_sil"
after=$(rate)
echo "phase 2: ${before2}/s before, ${after}/s after silencing"
check "no interrupts after silencing (${after}/s)" test "${after:-1}" -lt 5
t_q=$(wait_ev quarantined 60 "$t_sil")
check "quarantined" test -n "$t_q"
wait "$tool"
tail -n 3 /tmp/qtest.txt
check "detached from t2 through libvirt (not in its live XML)" sh -c "! virsh -c qemu:///system dumpxml t2 | grep -q '$alias'"
check "nobody holds the group" vfio_wait_holders "$(vfio_group "$edu")" "" 10
check "store: quarantined" test "$(ctl --json show "$edu" | jq -r .state)" = quarantined
check "t2 holds nothing of vfiod's: its own quota is back ($(sched global_quota))" test "$(sched global_quota)" = "$orig"
ctl unquarantine "$edu" >/dev/null && ok "operator unquarantines" || bad "unquarantine"
check "pooled again" test "$(ctl --json show "$edu" | jq -r .state)" = pooled
kill "$sub" 2>/dev/null
mon=$(ctl --json status | jq -c .monitor)
iv=$(jq -r .interval_ms <<<"$mon")
echo "--- figures (sampling period ${iv} ms)"
echo "detection (MSI vector appears -> throttled): phase 1 ${p1_detect} ms = $((p1_detect / iv)) periods, phase 2 $((t_thr2 - t_storm)) ms = $(((t_thr2 - t_storm) / iv)) periods (sustain_ms 1500 = $((1500 / iv)) periods)"
echo "phase 1: ${before}/s, ${throttled_rate}/s with the VMM capped at 10% (domain quota ${orig} own -> 40000 -> ${during})"
echo "phase 2: ${before2}/s before silence, ${after}/s after; silenced $((t_sil - t_thr2)) ms after the throttle, quarantined $((t_q - t_sil)) ms after the silence"
echo "monitor: $mon"
echo "--- events"
jq -r '"\(.time)  \(.type)  \(.bdf // "-")  \(.message)"' /tmp/ev.json 2>/dev/null
ctl return "$edu" >/dev/null || bad "return"
stop_vfiod
virt_down
finish
