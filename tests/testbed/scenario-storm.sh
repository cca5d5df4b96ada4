#!/bin/bash
# Interrupt storms on a real kernel (threadirqs): a VMM-like owner
# (build/tools/edu-storm) storms an edu through VFIO; vfiod's monitor
# detects it, climbs its class's ladder (throttle, silence, quarantine)
# and an operator's unquarantine brings the device back. A busy but
# legitimate rate under the threshold is never touched.
. tests/testbed/lib.sh
edu=$(find_dev 1234 11e8 | head -n1)
mkdir -p /tmp/pol
cat >/tmp/pol/vfiod.conf <<POL
[class edu]
match = id=1234:11e8
storm_threshold = 3000
clear_threshold = 500
sustain_ms = 300
cooldown_ms = 2000
escalation_ms = 1500
POL
start_vfiod --policy /tmp/pol || { bad "start"; finish; exit; }
ctl bind "$edu" >/dev/null || bad "bind $edu"
ctl events --follow >/tmp/ev.txt 2>&1 &
sub=$!
vec_rate() { # VECTOR: its rate over ~1 s, from /proc/interrupts
	local a b
	a=$(awk -v v="$1:" '$1 == v { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts)
	sleep 1
	b=$(awk -v v="$1:" '$1 == v { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts)
	echo $(( ${b:-0} - ${a:-0} ))
}

# --- a legitimate rate under the threshold: nothing happens
build/tools/edu-storm "$edu" --rate 800 --seconds 6 >/tmp/legit.txt 2>&1 &
st=$!
sleep 2
vec=$(ls "/sys/bus/pci/devices/$edu/msi_irqs" 2>/dev/null | head -n1)
legit=$(vec_rate "$vec")
wait "$st"
echo "legit: vector $vec at ${legit}/s"
check "no storm event for a rate under the threshold" sh -c "! grep -qE 'throttl|silenc|quarantin' /tmp/ev.txt"
check "device still pooled and quiet" test "$(ctl --json show "$edu" | jq -r '.state + " " + .interrupts_watch.level')" = "pooled none"

# --- a storm
t0=$(date +%s.%N)
build/tools/edu-storm "$edu" --seconds 30 >/tmp/storm.txt 2>&1 &
st=$!
sleep 1.5
vec=$(ls "/sys/bus/pci/devices/$edu/msi_irqs" 2>/dev/null | head -n1)
echo "storm: vector $vec"
for _ in $(seq 60); do
	grep -q "quarantined $edu" /tmp/ev.txt && break
	sleep 0.5
done
after=$(vec_rate "$vec")
kill "$st" 2>/dev/null; wait "$st" 2>/dev/null
cat /tmp/ev.txt
check "storm throttled (or the attempt reported)" grep -qE "(throttled|throttle) +$edu" /tmp/ev.txt
check "storm silenced" grep -qE "silenced +$edu" /tmp/ev.txt
check "storm quarantined" grep -qE "quarantined +$edu" /tmp/ev.txt
echo "rate after silence: ${after}/s"
check "no interrupts after silencing (${after}/s)" test "${after:-1}" -lt 10
jqt "store: quarantined, the register before silencing kept" "$VST/state.json" \
	".devices[] | select(.bdf == \"$edu\") | .state == \"quarantined\" and .saved_command != null"
ctl unquarantine "$edu" >/dev/null && ok "operator unquarantines" || bad "unquarantine"
check "pooled again, detector reset" test "$(ctl --json show "$edu" | jq -r '.state + " " + .interrupts_watch.level')" = "pooled none"
ctl --json status | jq -c .monitor
kill "$sub" 2>/dev/null
stop_vfiod
finish
