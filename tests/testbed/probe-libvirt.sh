#!/bin/bash
# Probe (not a scenario): a real libvirtd in the guest (tests/testbed/libvirt.sh)
# with a nested OS-less q35 domain, and a vfio-pci device handed to it the
# way vfiod's libvirt handoff will: managed='no' hostdev with a user alias,
# live attach, scheduler quotas (where they land in cgroup v2), live detach
# (event and live XML), libvirtd SIGKILL + restart under a running domain,
# destroy with the device attached, a cold (--config) attach, and the error
# texts a client gets for the usual mistakes. Prints the time of each step.
#   TESTBED_VERBOSE=1 scripts/testbed run tests/testbed/probe-libvirt.sh
. tests/testbed/lib.sh
. tests/testbed/libvirt.sh

# timed NAME CMD...: run CMD, print how long it took, keep its status
timed() {
	local n=$1 t=${EPOCHREALTIME/./} rc
	shift
	"$@"
	rc=$?
	t=$((${EPOCHREALTIME/./} - t))
	printf 'time %-44s %d.%03d s%s\n' "$n" $((t / 1000000)) $((t / 1000 % 1000)) \
		"$([ "$rc" = 0 ] || echo " (status $rc)")"
	return "$rc"
}
# tcheck NAME CMD...: timed, then ok or bad
tcheck() { if timed "$@"; then ok "$1"; else bad "$1"; fi; }
# errtext NAME CMD...: CMD must fail; print its error text for the report
errtext() {
	local n=$1 out
	shift
	if out=$("$@" 2>&1); then
		bad "$n: succeeded, expected an error: $out"
	else
		ok "$n refused"
		echo "     error text: $(echo "$out" | tr -s '\n' ' ')"
	fi
}
show_cpu_max() {
	local f
	echo "cgroup tree of t1 ($(virt_cgroup t1 || echo none)):"
	echo "  /sys/fs/cgroup/cgroup.subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
	for f in $(find /sys/fs/cgroup/machine* -name cpu.max 2>/dev/null | sort); do
		echo "  $f: $(cat "$f")"
	done
	for f in $(find /sys/fs/cgroup/machine* -name cgroup.threads 2>/dev/null | sort); do
		[ -n "$(head -c1 "$f")" ] || continue # cgroup files have size 0
		echo "  ${f%/cgroup.threads} threads:" \
			"$(while read -r t; do printf '%s(%s) ' "$t" "$(cat "/proc/$t/comm" 2>/dev/null)"; done <"$f")"
	done
}

edu=$(find_dev 1234 11e8 | head -n1)
nic=$(find_dev 8086 10d3 | head -n1)
[ -n "$edu" ] || { bad "no edu"; finish; exit; }
echo "edu $edu, e1000e ${nic:-none}"
timed "vfio_bind edu" vfio_bind "$edu" || { bad "vfio_bind $edu"; finish; exit; }
group=$(vfio_group "$edu")
echo "edu group $group, driver $(driver_of "$edu")"

timed "virt_up (virtlogd, libvirtd ready)" virt_up || { bad "virt_up"; finish; exit; }
vsh version
timed "define t1" virt_define t1 || { bad "define"; finish; exit; }
timed "start t1" vsh start t1 || { bad "start"; tail -20 /var/log/libvirt/qemu/t1.log; finish; exit; }
qpid=$(virt_qemu_pid t1)
echo "QEMU pid $qpid: $(tr '\0' ' ' <"/proc/$qpid/cmdline" | cut -c1-600)"
check "no holder of /dev/vfio/$group before attach" vfio_wait_holders "$group" "" 1

hd=$VIRT_DIR/hd.xml
virt_hostdev_xml "$edu" ua-vfiod-1 0x01 >"$hd"
cat "$hd"
tcheck "attach-device --live" vsh attach-device t1 "$hd" --live
check "QEMU $qpid holds /dev/vfio/$group" vfio_wait_holders "$group" "$qpid" 5
echo "QEMU vfio fds: $(find "/proc/$qpid/fd" -lname '*vfio*' -printf '%l ' 2>/dev/null)"
check "alias ua-vfiod-1 in the live XML" virt_has_alias t1 ua-vfiod-1
vsh dumpxml t1 | grep -A8 "<hostdev" | sed 's/^/     /'

# --- scheduler quotas, and where they land
timed "schedinfo --live (set quotas)" vsh schedinfo t1 --live vcpu_period=100000 vcpu_quota=20000 \
	emulator_period=100000 emulator_quota=10000 || bad "schedinfo --live"
vsh schedinfo t1 --live
cg=$(virt_cgroup t1)
sub=$cg; [ -d "$cg/libvirt" ] && sub=$cg/libvirt # libvirt >= 9.1 nests them one deeper
check "vcpu0 cpu.max is 20000 100000" grep -sqx "20000 100000" "$sub/vcpu0/cpu.max"
check "emulator cpu.max is 10000 100000" grep -sqx "10000 100000" "$sub/emulator/cpu.max"
show_cpu_max

# --- live detach: event and live XML
ev=$VIRT_DIR/event.out
vsh event t1 --event device-removed --timeout 20 >"$ev" 2>&1 &
evpid=$!
sleep 2
timed "detach-device --live (virsh returns)" vsh detach-device t1 "$hd" --live || bad "detach --live"
tcheck "until the alias leaves the live XML" virt_wait_gone t1 ua-vfiod-1 30
timed "until the event listener ends" wait "$evpid"
echo "event output: $(tr '\n' ' ' <"$ev")"
check "device-removed event names ua-vfiod-1" grep -q "device-removed.*ua-vfiod-1" "$ev"
check "QEMU no longer holds /dev/vfio/$group" vfio_wait_holders "$group" "" 10

# --- libvirtd SIGKILL + restart with the domain running
timed "kill -9 libvirtd" virt_libvirtd_kill || bad "kill libvirtd"
check "QEMU $qpid survives libvirtd's death" test -d "/proc/$qpid"
timed "libvirtd start, answering" virt_libvirtd_start || bad "libvirtd restart"
tcheck "domstate running after restart" virt_wait_state t1 running 30
check "same QEMU pid ($qpid) after restart" test "$(virt_qemu_pid t1)" = "$qpid"

# --- attach again (after the restart), error texts, then destroy with it attached
tcheck "attach-device --live after restart" vsh attach-device t1 "$hd" --live
check "QEMU holds /dev/vfio/$group again" vfio_wait_holders "$group" "$qpid" 5
errtext "the same host device twice" vsh attach-device t1 "$hd" --live
virt_hostdev_xml "$edu" ua-vfiod-2 0x02 >"$VIRT_DIR/hd-again.xml"
errtext "the same host device twice, other alias and port" vsh attach-device t1 "$VIRT_DIR/hd-again.xml" --live
if [ -n "$nic" ]; then
	virt_hostdev_xml "$nic" ua-vfiod-3 0x02 >"$VIRT_DIR/nic.xml"
	errtext "managed=no device still on e1000e" vsh attach-device t1 "$VIRT_DIR/nic.xml" --live
	check "no QEMU holder of the NIC's group" test -z "$(vfio_holders "$(vfio_group "$nic")")"
	vfio_bind "$nic" || bad "vfio_bind $nic"
	virt_hostdev_xml "$nic" ua-vfiod-3 0x01 >"$VIRT_DIR/nic-busy.xml"
	errtext "guest port 0x01 already used" vsh attach-device t1 "$VIRT_DIR/nic-busy.xml" --live
	virt_hostdev_xml "$nic" ua-vfiod-3 0x07 >"$VIRT_DIR/nic-nobus.xml"
	errtext "guest bus 0x07 that does not exist" vsh attach-device t1 "$VIRT_DIR/nic-nobus.xml" --live
	sed s/ua-vfiod-3/vfiod-3/ "$VIRT_DIR/nic.xml" >"$VIRT_DIR/nic-noua.xml"
	if out=$(vsh attach-device t1 "$VIRT_DIR/nic-noua.xml" --live 2>&1); then
		echo "note: alias without the ua- prefix accepted; live XML: $(vsh dumpxml t1 | grep -c "alias name='vfiod-3'") such alias," \
			"aliases now: $(vsh dumpxml t1 | grep -o "alias name='[^']*'" | tr '\n' ' ')"
		vsh detach-device t1 "$VIRT_DIR/nic-noua.xml" --live
		virt_wait_gone t1 vfiod-3 30
		vfio_wait_holders "$(vfio_group "$nic")" "" 10
	else
		ok "alias without the ua- prefix refused"
		echo "     error text: $(echo "$out" | tr -s '\n' ' ')"
	fi
	# no guest address: libvirt picks a free root port itself
	sed '/<address type=/d' "$VIRT_DIR/nic.xml" >"$VIRT_DIR/nic-noaddr.xml"
	tcheck "attach without a guest address" vsh attach-device t1 "$VIRT_DIR/nic-noaddr.xml" --live
	echo "     it got: $(vsh dumpxml t1 | grep -A1 "alias name='ua-vfiod-3'" | grep "address type")"
	tcheck "detach-device-alias ua-vfiod-3 --live" vsh detach-device-alias t1 ua-vfiod-3 --live
	tcheck "until ua-vfiod-3 leaves the live XML" virt_wait_gone t1 ua-vfiod-3 30
fi
errtext "detach-device-alias of an unknown alias" vsh detach-device-alias t1 ua-nope --live
timed "destroy t1 with the device attached" vsh destroy t1 || bad "destroy"
check "nobody holds /dev/vfio/$group after destroy" vfio_wait_holders "$group" "" 10
check "QEMU $qpid is gone" sh -c "! test -d /proc/$qpid"
errtext "attach --live to a stopped domain" vsh attach-device t1 "$hd" --live

# --- cold: --config on the stopped persistent domain, then start
tcheck "attach-device --config (stopped)" vsh attach-device t1 "$hd" --config
timed "start t1 with the hostdev in its config" vsh start t1 || bad "start with hostdev"
qpid=$(virt_qemu_pid t1)
check "QEMU $qpid holds /dev/vfio/$group from the start" vfio_wait_holders "$group" "$qpid" 5
check "alias ua-vfiod-1 in the live XML" virt_has_alias t1 ua-vfiod-1
# a device present at start has a powered slot: no OS, no eject
timed "detach-device --live of the cold-plugged one" vsh detach-device t1 "$hd" --live
if virt_wait_gone t1 ua-vfiod-1 8 >/dev/null; then
	ok "cold-plugged device left within 8 s"
else
	echo "note: the cold-plugged device is still there 8 s after detach (no guest OS to eject it)"
fi
timed "destroy t1" vsh destroy t1 || bad "destroy"
check "nobody holds /dev/vfio/$group after destroy" vfio_wait_holders "$group" "" 10
timed "detach-device --config" vsh detach-device t1 "$hd" --config || bad "detach --config"
check "no hostdev left in the persistent config" sh -c "! timeout 20 virsh dumpxml --inactive t1 | grep -q hostdev"
vsh undefine t1 >/dev/null || bad "undefine"
virt_down
finish
