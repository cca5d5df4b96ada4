#!/bin/bash
# Crash safety on a real kernel: vfiod is killed (SIGKILL, from its
# --fault-step switch) right after each step of a bind and of a return
# (intent saved, driver_override, unbind, drivers_probe, commit), then
# restarted. Every time, each device of the unit must end either fully
# pooled (vfio-pci, recorded) or fully back (its own driver, override
# cleared, no record), never one device half-way or on two consumers.
. tests/testbed/lib.sh
modprobe e1000e && modprobe snd-hda-intel || bad "modprobe"
nic=$(find_dev 8086 10d3)
disp=$(find_dev 1234 1111 038000)
audio=$(find_dev 8086 293e)
declare -A orig=([$nic]=e1000e [$disp]=none [$audio]=snd_hda_intel)

# consistent BDF...: prints "pooled" or "host" when every device is wholly
# on one side and the store agrees, else explains and returns 1
consistent() {
	local side="" s b drv ovr recd
	for b; do
		drv=$(driver_of "$b")
		ovr=$(cat "/sys/bus/pci/devices/$b/driver_override")
		recd=$(jq -r --arg b "$b" '[.devices[] | select(.bdf == $b and .state == "pooled")] | length' "$VST/state.json")
		if [ "$drv" = vfio-pci ] && [ "$ovr" = vfio-pci ] && [ "$recd" = 1 ]; then
			s=pooled
		elif [ "$drv" = "${orig[$b]}" ] && [ "$ovr" = "(null)" ] && [ "$recd" = 0 ]; then
			s=host
		else
			echo "$b half-way: driver=$drv override=$ovr recorded=$recd"
			return 1
		fi
		[ -z "$side" ] || [ "$side" = "$s" ] || { echo "unit split: $*"; return 1; }
		side=$s
	done
	[ "$(jq -r .intent "$VST/state.json")" = null ] || { echo "intent left open"; return 1; }
	echo "$side"
}

# crash_at OP STEP NORMALIZE-TO BDF UNIT...: the op with a fault at STEP,
# a restart (its reconcile repairs), the check, then (same daemon) back to
# the starting side for the next step
crash_at() {
	local op=$1 n=$2 want=$3 target=$4 got
	shift 4
	start_vfiod --fault-step "$n" || { bad "start vfiod"; return; }
	ctl "$op" "$target" >/dev/null 2>&1
	# exit 3: the daemon went away without a reply (a dead process can
	# linger as a zombie, so kill -0 would not tell)
	if [ $? = 3 ]; then
		wait "$VFIOD_PID" 2>/dev/null
		died=yes
		start_vfiod || { bad "restart vfiod"; return; }
	else
		died=no  # the move had fewer steps: it completed
	fi
	if got=$(consistent "$@"); then
		ok "$op $target, killed after step $n (died: $died): whole unit $got"
	else
		bad "$op $target, killed after step $n: $got"
	fi
	if [ "$died" = yes ] && [ "$got" != "$want" ]; then
		ctl "$([ "$want" = host ] && echo return || echo bind)" "$target" >/dev/null ||
			bad "back to $want"
	fi
	stop_vfiod
}

run_op() { # OP TARGET START-SIDE UNIT...: for every step until the op completes
	local op=$1 target=$2 want=$3 n
	shift 3
	for n in $(seq 1 12); do
		crash_at "$op" "$n" "$want" "$target" "$@"
		[ "$died" = yes ] || break
	done
	[ "$died" = no ] && ok "$op $target completes once the fault step is past its last step ($n)"
}

run_op bind "$nic" host "$nic"
start_vfiod && ctl bind "$nic" >/dev/null; stop_vfiod
run_op return "$nic" pooled "$nic"
run_op bind "$disp" host "$disp" "$audio"
start_vfiod && ctl bind "$disp" >/dev/null; stop_vfiod
run_op return "$audio" pooled "$disp" "$audio"
echo "--- reconcile lines from the daemon log"
grep reconcile "$VST/vfiod.log" | sort | uniq -c
finish
