#!/bin/bash
# irqbalance against vfiod's steering (see storm-common.sh for the storm).
# The real irqbalance (Debian's 1.9.2, balancing every second) runs in the
# guest; another tool has banned IRQ 9 through its socket before vfiod
# starts. An edu storms; before the throttle its vector is irqbalance's
# (the control: written to CPU 1 by hand, irqbalance moves it); vfiod
# throttles it, bans the vector through irqbalance's socket and steers it
# to the housekeeping CPU 0, where it stays across several intervals; at
# unthrottle (and, in a second storm, at return) vfiod's ban goes and the
# other tool's stays.
. tests/testbed/lib.sh
edu=$(find_dev 1234 11e8 | head -n1)
mkdir -p /tmp/pol /run/irqbalance
cat >/tmp/pol/vfiod.conf <<POL
[class edu]
match = id=1234:11e8
storm_threshold = 1000
clear_threshold = 200
sustain_ms = 2000
cooldown_ms = 8000
ladder = throttle
irq_cpu_max = 100
vmm_cpu_max = 100
storm_irq_cpu_max = 5
storm_vmm_cpu_max = 50
POL
irqbalance --foreground --interval=1 >/tmp/irqbalance.log 2>&1 &
ibpid=$!
for _ in $(seq 50); do [ -S "/run/irqbalance/irqbalance$ibpid.sock" ] && break; sleep 0.1; done
check "irqbalance runs with its socket" test -S "/run/irqbalance/irqbalance$ibpid.sock"
ib() { build/tools/irqbal-ctl "$ibpid" "$@"; }
banned() { ib setup | tr ' ' '\n' | awk 'p { print; p = 0 } $1 == "IRQ" { p = 1 }' | tr '\n' ' '; }
ib "settings ban irqs 9"
sleep 0.5
echo "irqbalance $(irqbalance --version 2>&1 | head -n1), setup: $(ib setup)"
check "another tool's ban is in irqbalance's list ($(banned))" test "$(banned)" = "9 "
start_vfiod --policy /tmp/pol || { bad "start"; finish; exit; }
ctl --json status | jq -c '.containment_levers | {irqbalance, irqbalance_why, housekeeping_cpus}'
check "status: irqbalance runs and is told" test "$(ctl --json status | jq -r .containment_levers.irqbalance)" = banned-through-socket
ctl --json status | jq -r .containment_levers.sentence
ctl bind "$edu" >/dev/null || bad "bind $edu"
ctl events --follow >/tmp/ev.txt 2>&1 &
sub=$!

aff_watch() { # VECTOR SECONDS: its smp_affinity_list every 0.5 s, the distinct values in order
	local last="" v
	for _ in $(seq $(($2 * 2))); do
		v=$(cat "/proc/irq/$1/smp_affinity_list" 2>/dev/null)
		[ "$v" != "$last" ] && printf '%s ' "$v" && last=$v
		sleep 0.5
	done
}

# --- the control: a quiet rate (no storm), the vector is irqbalance's to move
build/tools/edu-storm "$edu" --rate 200 --seconds 8 >/tmp/quiet.txt 2>&1 &
st=$!
sleep 1
vec=$(ls "/sys/bus/pci/devices/$edu/msi_irqs" 2>/dev/null | head -n1)
echo "quiet: vector $vec, affinity $(cat /proc/irq/$vec/smp_affinity_list)"
# the kernel takes the write; irqbalance may move it before it is read back
wrote=no
echo 1 >"/proc/irq/$vec/smp_affinity_list" && wrote=yes
first=$(cat "/proc/irq/$vec/smp_affinity_list")
moved=""
for i in $(seq 50); do # 5 s: five of its intervals
	v=$(cat "/proc/irq/$vec/smp_affinity_list" 2>/dev/null)
	[ -n "$v" ] && [ "$v" != 1 ] && moved="$v after $((i * 100)) ms" && break
	sleep 0.1
done
echo "not throttled, written to CPU 1 by hand (read back: $first), irqbalance moved it to: ${moved:-nothing}"
check "control: irqbalance moves an unbanned vector off CPU 1 (${moved:-not moved})" test "$wrote" = yes -a -n "$moved"
wait "$st"

# --- storm 1: throttle, then it ends (unthrottle)
build/tools/edu-storm "$edu" --seconds 60 >/tmp/storm.txt 2>&1 &
st=$!
sleep 1
vec=$(ls "/sys/bus/pci/devices/$edu/msi_irqs" 2>/dev/null | head -n1)
echo "storm: vector $vec, affinity $(cat /proc/irq/$vec/smp_affinity_list)"
nthr() { awk -v d="$edu" '{ for (i = 1; i < NF; i++) if ($i == "throttled" && $(i + 1) == d) n++ } END { print n + 0 }' /tmp/ev.txt; }
for _ in $(seq 120); do [ "$(nthr)" -ge 1 ] && break; sleep 0.25; done
tail -n 3 /tmp/storm.txt
check "throttled" test "$(nthr)" -ge 1
held=$(banned)
echo "irqbalance's ban list while throttled: $held"
check "the vector is in irqbalance's ban list, with the other tool's ($held)" sh -c "echo ' $held' | grep -q ' $vec ' && echo ' $held' | grep -q ' 9 '"
during=$(aff_watch "$vec" 6)
echo "while throttled (6 irqbalance intervals) its affinity was: $during"
check "it stays on the housekeeping CPU 0 ($during)" test "$during" = "0 "
kill "$st"; wait "$st" 2>/dev/null
for _ in $(seq 80); do grep -q "unthrottled *$edu" /tmp/ev.txt && break; sleep 0.25; done
check "unthrottled" grep -qE "unthrottled +$edu" /tmp/ev.txt
sleep 0.5
after=$(banned)
echo "after the unthrottle: ban list '$after', affinity $(cat /proc/irq/$vec/smp_affinity_list 2>/dev/null)"
check "vfiod's ban is gone, the other tool's stays ($after)" test "$after" = "9 "

# --- storm 2: throttled, then the device returns to the host while steered
build/tools/edu-storm "$edu" --seconds 60 >/tmp/storm2.txt 2>&1 &
st=$!
sleep 1
vec=$(ls "/sys/bus/pci/devices/$edu/msi_irqs" 2>/dev/null | head -n1)
for _ in $(seq 120); do [ "$(nthr)" -ge 2 ] && break; sleep 0.25; done
held=$(banned)
check "throttled again: banned again ($held)" sh -c "echo ' $held' | grep -q ' $vec '"
kill "$st"; wait "$st" 2>/dev/null
# the holder scan (every 2 s) gives the device back to the pool once its
# holder has gone; a return before that is refused (busy)
for _ in $(seq 20); do
	[ "$(ctl --json show "$edu" | jq -r .state)" = pooled ] && break
	sleep 0.25
done
# within the cooldown: still throttled, so the return restores and unbans
check "still throttled at the return" sh -c "! grep -c 'unthrottled *$edu' /tmp/ev.txt | grep -q 2"
ctl return "$edu" >/dev/null || bad "return"
sleep 0.5
after=$(banned)
check "after return: vfiod's ban is gone, the other tool's stays ($after)" test "$after" = "9 "
check "irqbalance survived vfiod's requests" kill -0 "$ibpid"
kill "$sub" 2>/dev/null
cat /tmp/ev.txt
grep -i irqbalance "$VST/vfiod.log"
stop_vfiod
kill "$ibpid"
finish
