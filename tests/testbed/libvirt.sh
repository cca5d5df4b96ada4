# shellcheck shell=bash
# A real libvirtd with nested QEMU domains inside the testbed guest (sourced,
# after tests/testbed/lib.sh). libvirt 9.0 + QEMU 7.2 from this machine's
# root; TCG inside TCG; cgroup v2 without systemd. Every wait has a timeout.
#
# Functions (return nonzero and print a line on failure):
#   virt_up                      users, directories, configs; virtlogd and
#                                libvirtd started, waits until libvirtd answers
#                                (idempotent: a running libvirtd is kept)
#   virt_libvirtd_kill           SIGKILL libvirtd, wait until it is gone
#   virt_libvirtd_start [T]      start libvirtd, wait (T s, default 120) until
#                                it answers; running domains survive a
#                                kill/start (QEMU keeps running, libvirtd
#                                reconnects to it)
#   virt_answers                 true when libvirtd answers `virsh version`
#   virt_domain_xml NAME [ARG...]  the domain XML: type qemu, q35, 64 MiB, no
#                                disk, no graphics, no USB, no balloon,
#                                pcie-root plus 4 pcie-root-ports with indexes
#                                1..4 (chassis 1..4, port 0x10..0x13) = guest
#                                buses 0x01..0x04; qemu:commandline turns ACPI
#                                hotplug off (native PCIe hotplug, so unplug
#                                works without a guest OS), then one
#                                <qemu:arg> per ARG
#   virt_define NAME [ARG...]    define it (persistent, not started)
#   virt_hostdev_xml BDF ALIAS [BUS]  a managed='no' PCI hostdev for host BDF,
#                                with <alias name='ALIAS'/> (use 'ua-...' so
#                                events name it), at guest BUS:00.0 (default
#                                0x01 = root port 1)
#   virt_has_alias NAME ALIAS    true when ALIAS is in the live XML of NAME
#   virt_wait_gone NAME ALIAS T  poll the live XML (0.2 s) until ALIAS left it
#   virt_wait_state NAME STATE T poll `virsh domstate` until it prints STATE
#   virt_qemu_pid NAME           the domain's QEMU pid (/run/libvirt/qemu)
#   vfio_group BDF               the IOMMU group number of BDF
#   vfio_holders GROUP           pids with /dev/vfio/GROUP open (one per line)
#   vfio_wait_holders GROUP WANT T  poll until the holder list is WANT
#                                ("" = nobody; else pids, space separated)
#   vfio_bind BDF                bind BDF to vfio-pci through sysfs
#                                (driver_override, unbind, drivers_probe);
#                                for probes: vfiod does this in scenarios
#   virt_cgroup NAME             the domain's cgroup directory (v2: under
#                                /sys/fs/cgroup/machine/)
#   virt_down                    destroy all domains, stop libvirtd, virtlogd
#
# virsh: LIBVIRT_DEFAULT_URI is exported, so plain `virsh` talks to
# qemu:///system; VIRSH holds the explicit command line; `vsh` is virsh under
# a timeout (VIRT_TIMEOUT s, default 60) that prints its error text on stderr.

export LIBVIRT_DEFAULT_URI=qemu:///system
# shellcheck disable=SC2034 # for the scenarios that source this
VIRSH="virsh -c qemu:///system"
VIRT_TIMEOUT=${VIRT_TIMEOUT:-60}
VIRT_DIR=${VIRT_DIR:-/tmp/virt}

vsh() { timeout "$VIRT_TIMEOUT" virsh -c qemu:///system "$@"; }

virt_answers() { timeout 10 virsh -c qemu:///system version >/dev/null 2>&1; }

# _virt_pid FILE: the pid in FILE when that process is alive (not a zombie)
_virt_pid() {
	local p s
	p=$(cat "$1" 2>/dev/null) # libvirt writes its pid files without a newline
	[ -n "$p" ] || return 1
	read -r s 2>/dev/null <"/proc/$p/stat" || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ] && echo "$p"
}

virt_up() {
	mkdir -p /run/libvirt /var/lib/libvirt/qemu /var/log/libvirt/qemu \
		/var/cache/libvirt/qemu /etc/libvirt/qemu "$VIRT_DIR" || { echo "virt_up: mkdir failed"; return 1; }
	# Debian's libvirtd looks the user up before it reads qemu.conf
	grep -q '^libvirt-qemu:' /etc/group ||
		echo 'libvirt-qemu:x:64055:' >>/etc/group || { echo "virt_up: cannot write /etc/group"; return 1; }
	grep -q '^libvirt-qemu:' /etc/passwd ||
		echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' >>/etc/passwd ||
		{ echo "virt_up: cannot write /etc/passwd"; return 1; }
	cat >/etc/libvirt/libvirtd.conf <<-'EOF'
		unix_sock_group = "root"
		unix_sock_rw_perms = "0770"
		auth_unix_rw = "none"
		auth_unix_ro = "none"
	EOF
	cat >/etc/libvirt/qemu.conf <<-'EOF'
		user = "root"
		group = "root"
		dynamic_ownership = 0
		security_driver = "none"
		remember_owner = 0
	EOF
	if ! _virt_pid /run/virtlogd.pid >/dev/null; then
		virtlogd -d || { echo "virt_up: virtlogd -d failed"; return 1; }
	fi
	if _virt_pid /run/libvirtd.pid >/dev/null && virt_answers; then
		return 0
	fi
	virt_libvirtd_start "${1:-120}"
}

virt_libvirtd_start() {
	local t=${1:-120} i
	if ! _virt_pid /run/libvirtd.pid >/dev/null; then
		libvirtd -d || { echo "virt_libvirtd_start: libvirtd -d failed"; return 1; }
	fi
	for ((i = 0; i < t * 4; i++)); do
		virt_answers && return 0
		_virt_pid /run/libvirtd.pid >/dev/null || [ "$i" -lt 8 ] ||
			{ echo "virt_libvirtd_start: libvirtd exited"; return 1; }
		sleep 0.25
	done
	echo "virt_libvirtd_start: libvirtd did not answer within ${t}s"
	return 1
}

virt_libvirtd_kill() {
	local p i
	p=$(_virt_pid /run/libvirtd.pid) || { echo "virt_libvirtd_kill: libvirtd not running"; return 1; }
	kill -9 "$p" || return 1
	for ((i = 0; i < 100; i++)); do
		_virt_pid /run/libvirtd.pid >/dev/null || return 0
		sleep 0.1
	done
	echo "virt_libvirtd_kill: libvirtd $p still there"
	return 1
}

virt_domain_xml() {
	local name=$1 a i
	shift
	cat <<-EOF
		<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
		  <name>$name</name>
		  <memory unit='MiB'>64</memory>
		  <vcpu>1</vcpu>
		  <os><type arch='x86_64' machine='q35'>hvm</type></os>
		  <on_poweroff>destroy</on_poweroff>
		  <on_reboot>restart</on_reboot>
		  <on_crash>destroy</on_crash>
		  <devices>
		    <emulator>/usr/bin/qemu-system-x86_64</emulator>
		    <controller type='pci' index='0' model='pcie-root'/>
	EOF
	for i in 1 2 3 4; do
		printf "    <controller type='pci' index='%d' model='pcie-root-port'><target chassis='%d' port='0x%x'/></controller>\n" \
			"$i" "$i" $((0x0f + i))
	done
	cat <<-EOF
		    <controller type='usb' model='none'/>
		    <memballoon model='none'/>
		  </devices>
		  <qemu:commandline>
		    <qemu:arg value='-global'/>
		    <qemu:arg value='ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off'/>
	EOF
	for a in "$@"; do
		printf "    <qemu:arg value='%s'/>\n" "$a"
	done
	echo "  </qemu:commandline>"
	echo "</domain>"
}

virt_define() {
	local name=$1
	mkdir -p "$VIRT_DIR"
	virt_domain_xml "$@" >"$VIRT_DIR/$name.xml" || return 1
	vsh define "$VIRT_DIR/$name.xml" >/dev/null
}

virt_hostdev_xml() {
	local bdf=$1 alias=$2 bus=${3:-0x01} d b s f
	d=${bdf%%:*}; b=${bdf#*:}; b=${b%%:*}; s=${bdf##*:}; s=${s%.*}; f=${bdf##*.}
	cat <<-EOF
		<hostdev mode='subsystem' type='pci' managed='no'>
		  <source><address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/></source>
		  <alias name='$alias'/>
		  <address type='pci' domain='0x0000' bus='$bus' slot='0x00' function='0x0'/>
		</hostdev>
	EOF
}

virt_has_alias() { vsh dumpxml "$1" 2>/dev/null | grep -q "<alias name='$2'/>"; }

virt_wait_gone() {
	local i
	for ((i = 0; i < $3 * 5; i++)); do
		virt_has_alias "$1" "$2" || return 0
		sleep 0.2
	done
	echo "virt_wait_gone: $2 still in $1 after $3 s"
	return 1
}

virt_wait_state() {
	local i s
	for ((i = 0; i < $3 * 5; i++)); do
		s=$(vsh domstate "$1" 2>/dev/null | head -n1)
		[ "$s" = "$2" ] && return 0
		sleep 0.2
	done
	echo "virt_wait_state: $1 is '$s', not '$2', after $3 s"
	return 1
}

virt_qemu_pid() { _virt_pid "/run/libvirt/qemu/$1.pid"; }

vfio_group() {
	local g
	g=$(readlink "/sys/bus/pci/devices/$1/iommu_group") || return 1
	echo "${g##*/}"
}

vfio_holders() {
	find /proc/[0-9]*/fd -maxdepth 1 -lname "/dev/vfio/$1" 2>/dev/null |
		cut -d/ -f3 | sort -un
}

vfio_wait_holders() {
	local i h
	for ((i = 0; i < $3 * 5; i++)); do
		h=$(vfio_holders "$1" | tr '\n' ' ')
		[ "${h% }" = "$2" ] && return 0
		sleep 0.2
	done
	echo "vfio_wait_holders: /dev/vfio/$1 held by '${h% }', want '$2', after $3 s"
	return 1
}

vfio_bind() {
	local dev=/sys/bus/pci/devices/$1 drv
	modprobe vfio-pci || { echo "vfio_bind: modprobe vfio-pci failed"; return 1; }
	echo vfio-pci >"$dev/driver_override" || return 1
	if [ -e "$dev/driver" ]; then
		drv=$(readlink "$dev/driver")
		[ "${drv##*/}" = vfio-pci ] && return 0
		echo "$1" >"$dev/driver/unbind" || return 1
	fi
	echo "$1" >/sys/bus/pci/drivers_probe
	drv=$(readlink "$dev/driver")
	[ "${drv##*/}" = vfio-pci ] || { echo "vfio_bind: $1 not on vfio-pci"; return 1; }
	local i
	for ((i = 0; i < 50; i++)); do
		[ -c "/dev/vfio/$(vfio_group "$1")" ] && return 0
		sleep 0.1
	done
	echo "vfio_bind: no /dev/vfio/$(vfio_group "$1")"
	return 1
}

virt_cgroup() {
	local d
	for d in /sys/fs/cgroup/machine/qemu-*-"$1".libvirt-qemu /sys/fs/cgroup/machine.slice/machine-qemu*"$1".scope; do
		[ -d "$d" ] && { echo "$d"; return 0; }
	done
	return 1
}

virt_down() {
	local d
	for d in $(vsh list --name 2>/dev/null); do vsh destroy "$d" >/dev/null 2>&1; done
	virt_libvirtd_kill >/dev/null 2>&1
	local p
	p=$(_virt_pid /run/virtlogd.pid) && kill "$p"
	return 0
}
