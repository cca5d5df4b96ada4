#!/bin/bash
# The control plane on a real kernel: a policy with a socket group, an admin
# group and two tenants; real non-root callers (setpriv); what each may do;
# a CDI handoff and its spec; quota and trust refusals; quarantine silencing
# the device's command register; events streamed to a subscriber; SIGHUP
# reloads; hotplug remove/rescan of an owned device; 100 clients reading
# while devices are bound and returned.
. tests/testbed/lib.sh
modprobe e1000e || bad "modprobe e1000e"
edu=$(find_dev 1234 11e8 | head -n1)
edu2=$(find_dev 1234 11e8 | tail -n1)
nic=$(find_dev 8086 10d3)
echo "edu=$edu edu2=$edu2 nic=$nic"

# users and groups exist only in this guest's overlay
echo "vfiod-users:x:4242:" >>/etc/group
echo "vfiod-admin:x:4243:" >>/etc/group
# as UID GROUPS VFIOCTL-ARGS...: as that uid (its own gid), with those
# supplementary groups ("-" for none): everyone who talks to vfiod is in
# the socket group; roles come from the admin group and the tenants
as() {
	local uid=$1 groups=$2
	shift 2
	if [ "$groups" = - ]; then
		setpriv --reuid="$uid" --regid="$uid" --clear-groups vfioctl/vfioctl --socket "$SOCK" "$@"
	else
		setpriv --reuid="$uid" --regid="$uid" --groups="$groups" vfioctl/vfioctl --socket "$SOCK" "$@"
	fi
}
U=4242        # the socket group
A=4242,4243   # the socket and admin groups
mkdir -p /tmp/pol /tmp/cdi
cat >/tmp/pol/vfiod.conf <<POL
[daemon]
socket_group = vfiod-users
admin_group = vfiod-admin
cdi_dir = /tmp/cdi

[class edu]
match = id=1234:11e8

[class nic]
match = class=0200

[tenant alice]
uids = 1001
classes = edu
quota = 1
trusted = true

[tenant bob]
uids = 1002
classes = edu nic
quota = 2
trusted = false
POL
check "policy passes --check-config" vfiod/vfiod --policy /tmp/pol --check-config >/dev/null
start_vfiod --policy /tmp/pol || { bad "start"; finish; exit; }
check "socket is mode 0660 group vfiod-users" test "$(stat -c '%a %G' "$SOCK")" = "660 vfiod-users"
chmod 0755 "$VST"  # the socket lives in the state dir here; let others reach it

# --- who may read, who may change
expect "a stranger cannot reach the socket" 3 "" as 1003 - list
expect "the socket group may list" 0 "" as 1003 $U list
for op in bind return quarantine unquarantine release; do
	expect "the socket group may not $op" 1 not-permitted as 1003 $U "$op" "$edu"
done
expect "the socket group may not assign (no tenant)" 1 not-permitted as 1003 $U assign "$edu" --cdi
expect "root binds $edu" 0 "" ctl bind "$edu"
expect "the admin group binds $edu2" 0 "" as 1004 $A bind "$edu2"
expect "the admin group binds $nic" 0 "" as 1004 $A bind "$nic"

# --- events to a subscriber, from here on
as 1001 $U events --follow >/tmp/events.txt 2>&1 &
sub=$!
sleep 1

# --- tenants
expect "alice (trusted) assigns $edu to a container" 0 "" as 1001 $U assign "$edu" --cdi
spec=/tmp/cdi/vfiod-${edu//:/_}.json
group=$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")
jqt "CDI spec: version, kind, the device by address and by alias, its nodes" "$spec" "
  .cdiVersion == \"0.6.0\" and .kind == \"vfiod.io/pci\" and
  ([.devices[].name] == [\"$edu\", \"iommu-group-$group\"]) and
  all(.devices[]; .containerEdits.deviceNodes == [{\"path\": \"/dev/vfio/vfio\"}, {\"path\": \"/dev/vfio/$group\"}]) and
  (keys == [\"cdiVersion\", \"devices\", \"kind\"])"
check "the spec's device nodes exist on the host" test -c /dev/vfio/vfio -a -c "/dev/vfio/$group"
expect "alice over her quota of 1" 1 quota-exceeded as 1001 $U assign "$edu2" --cdi
expect "alice may not take a NIC (not her class)" 1 not-permitted as 1001 $U assign "$nic" --cdi
expect "bob (untrusted) gets no container" 1 not-permitted as 1002 $U assign "$edu2" --cdi
out=$(as 1002 $U assign "$edu2" --cdi 2>&1)
grep -q "shares the host's kernel" <<<"$out" && ok "... and is told why" || bad "why: $out"
expect "bob may not release alice's device" 1 not-permitted as 1002 $U release "$edu"
expect "bob may not name alice as his tenant" 1 not-permitted as 1002 $U assign "$edu2" --cdi --tenant alice
expect "with no libvirtd running, a VM handoff is refused and says why" 1 libvirt-unavailable ctl assign "$edu2" --vm guest1
as 1001 $U list | grep -q "^$edu .* assigned .* alice " && ok "list shows alice as the owner" || bad "list owner"
jqt "store: $edu assigned to alice" "$VST/state.json" \
	".devices[] | select(.bdf == \"$edu\") | .state == \"assigned\" and .tenant == \"alice\""
expect "alice releases it" 0 "" as 1001 $U release "$edu"
check "the spec is gone" test ! -e "$spec"
jqt "store: $edu pooled again" "$VST/state.json" \
	".devices[] | select(.bdf == \"$edu\") | .state == \"pooled\" and .tenant == null"

# --- quarantine by hand: the command register is silenced, then restored
cmd() { od -An -tx2 -j4 -N2 "/sys/bus/pci/devices/$1/config" | tr -d ' '; }
setpci_cmd() { printf "\\x$(printf %02x $(($2 & 255)))\\x$(printf %02x $(($2 >> 8)))" |
	dd of="/sys/bus/pci/devices/$1/config" bs=1 seek=4 conv=notrunc status=none; }
setpci_cmd "$edu" 0x0006   # memory + bus master on, as a driver would leave it
before=$(cmd "$edu")
expect "root quarantines $edu" 0 "" ctl quarantine "$edu"
after=$(cmd "$edu")
check "bus master off, INTx disabled ($before -> $after)" test $((0x$after & 0x4)) = 0 -a $((0x$after & 0x400)) = $((0x400))
jqt "store: quarantined, old command kept" "$VST/state.json" \
	".devices[] | select(.bdf == \"$edu\") | .state == \"quarantined\" and .saved_command == $((0x$before))"
expect "a quarantined device cannot be assigned" 1 busy as 1001 $U assign "$edu" --cdi
expect "unquarantine" 0 "" ctl unquarantine "$edu"
check "command register restored ($(cmd "$edu"))" test "$(cmd "$edu")" = "$before"

# --- 100 clients reading while devices move
if [ -x build/tools/vfiod-stress ]; then
	( for i in 1 2 3 4 5; do ctl return "$nic" >/dev/null; ctl bind "$nic" >/dev/null; done ) &
	mover=$!
	out=$(build/tools/vfiod-stress --socket "$SOCK" --clients 100 --requests 5 2>&1) && ok "stress: $out" || bad "stress: $out"
	wait "$mover" && ok "binds and returns during the stress all succeeded" || bad "moves during stress"
else
	bad "build/tools/vfiod-stress missing (make builds it)"
fi

# --- SIGHUP: a broken policy is refused, a good one taken
expect "carol is nobody's tenant yet" 1 not-permitted as 1005 $U assign "$edu" --cdi
echo "[tenant carol]" >>/tmp/pol/vfiod.conf   # no uids: invalid
kill -HUP "$VFIOD_PID"; sleep 0.5
check "broken policy kept out" grep -q "SIGHUP: keeping the old policy" "$VST/vfiod.log"
printf 'uids = 1005\nclasses = edu\ntrusted = true\n' >>/tmp/pol/vfiod.conf
kill -HUP "$VFIOD_PID"; sleep 0.5
check "good policy reloaded" grep -q "SIGHUP: policy /tmp/pol reloaded" "$VST/vfiod.log"
expect "carol, a tenant now, assigns $edu" 0 "" as 1005 $U assign "$edu" --cdi
expect "carol releases it" 0 "" as 1005 $U release "$edu"

# --- hotplug: an owned device removed and found again
echo 1 >"/sys/bus/pci/devices/$edu2/remove"
sleep 1
echo 1 >/sys/bus/pci/rescan
sleep 2
check "the removal is an event" grep -q "vanished.*$edu2" /tmp/events.txt
check "it came back pooled" test "$(driver_of "$edu2")" = vfio-pci

kill "$sub" 2>/dev/null
for t in bound assigned released quarantined unquarantined; do
	check "subscriber saw a '$t' event" grep -q " $t " /tmp/events.txt
done
stop_vfiod
echo "--- events seen by the subscriber"; cat /tmp/events.txt
finish
