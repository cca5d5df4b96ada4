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
