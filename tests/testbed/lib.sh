# Shared helpers for testbed scenarios (sourced). Processes are slow under
# TCG (~130 ms each): keep checks few and let jq do the work in one call.
set -u
FAILS=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
# check NAME COMMAND...: ok when the command succeeds
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}
# jqt NAME FILE FILTER: ok when the jq filter yields true on FILE
jqt() {
	if jq -e "$3" "$2" >/dev/null; then ok "$1"; else bad "$1"; echo "     filter: $3"; fi
}
finish() {
	echo "$(basename "$0"): $FAILS failed"
	[ "$FAILS" = 0 ]
}
[ "${TESTBED:-}" = 1 ] || { echo "run me with scripts/testbed run $0" >&2; exit 2; }

# The daemon under test, with its state and socket under $VST.
VST=${VST:-/tmp/vfiod-state}
SOCK=$VST/vfiod.sock
ctl() { vfioctl/vfioctl --socket "$SOCK" "$@"; }
# start_vfiod [ARGS...]: starts vfiod in the background, waits for its socket
start_vfiod() {
	mkdir -p "$VST"
	rm -f "$SOCK"
	vfiod/vfiod --state-dir "$VST" --socket "$SOCK" --udev-rules "$VST/70-vfiod.rules" "$@" \
		2>>"$VST/vfiod.log" &
	VFIOD_PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$VFIOD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "vfiod did not start:"; tail -5 "$VST/vfiod.log"
	return 1
}
stop_vfiod() {
	kill "$VFIOD_PID" 2>/dev/null
	wait "$VFIOD_PID" 2>/dev/null
	VFIOD_PID=
}
# driver_of BDF: the bound driver, "none" when unbound
driver_of() {
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/driver") || { echo none; return; }
	echo "${l##*/}"
}
# find_dev VENDOR DEVICE [CLASS]: BDFs by id, from sysfs (no vfiod involved)
find_dev() {
	local d v i c
	for d in /sys/bus/pci/devices/*; do
		read -r v <"$d/vendor"; read -r i <"$d/device"; read -r c <"$d/class"
		[ "$v" = "0x$1" ] && [ "$i" = "0x$2" ] && { [ -z "${3:-}" ] || [ "$c" = "0x$3" ]; } &&
			echo "${d##*/}"
	done
}
# expect NAME RC CODE-or-"" CMD...: ok when CMD exits RC and, with CODE,
# says "vfioctl: CODE: "; its output stays in $LAST for further checks
expect() {
	local name=$1 want=$2 code=$3 out rc
	shift 3
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && { [ -z "$code" ] || grep -q "vfioctl: $code: " <<<"$out"; }; then
		ok "$name"
	else
		bad "$name: rc=$rc: $out"
	fi
	LAST=$out
}
# vec_rate VECTOR: its rate over ~1 s, from /proc/interrupts
vec_rate() {
	local a b
	a=$(awk -v v="$1:" '$1 == v { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts)
	sleep 1
	b=$(awk -v v="$1:" '$1 == v { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts)
	echo $(( ${b:-0} - ${a:-0} ))
}
