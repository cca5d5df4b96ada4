#!/bin/bash
# tests/bench/control.sh: the control plane load benchmark (make
# bench-control, docs/testing.md). For each host -- the 15-device capture
# of the testbed guest (tests/fixtures/captured/testbed-q35/root) and the
# generated big544 and big2000 (tests/bench/bighost.sh, cached under
# build/bench/hosts/) -- starts vfiod on the tree (--sysroot, its own state
# directory and socket, no udev rules, the trimmed pci.ids, a policy whose
# socket group is nogroup), then for 1, 20 and 200 clients and the ops
# `show` (one fixed, assignable BDF) and `list` runs build/tools/vfiod-stress
# with --pipeline 1 for BENCH_SECONDS (default 5) per cell, every reply
# checked. Prints one table (host, devices, clients, op, req/s, p50 ms,
# p99 ms), the daemon's VmRSS per host at start and after its runs, and per client count
# the show req/s of each big host relative to the capture's, from this run;
# writes the same figures to build/bench/control.json.
#
# The clients connect as unprivileged uids 65400.. (group nogroup), at most
# CONTROL_MAX_CLIENTS_PER_UID (vfiod/control.h) connections per uid: 200
# clients are spread over ceil(200 / that) uids, as that many users would
# be, rather than connecting as root, which the daemon exempts from the
# per-uid cap and lets into its reserved slots. Needs root (to take those
# uids). VFIOD names another daemon binary (default vfiod/vfiod).
set -uo pipefail
cd "$(dirname -- "$0")/../.." || exit 2

VFIOD=${VFIOD:-vfiod/vfiod}
STRESS=build/tools/vfiod-stress
SECS=${BENCH_SECONDS:-5}
CLIENTS=(1 20 200)
OPS=(show list)
UID_BASE=65400
IDS=tests/fixtures/pci.ids
OUT_JSON=build/bench/control.json

die() {
	echo "control.sh: $*" >&2
	exit 1
}
[[ $(id -u) == 0 ]] || die "needs root (the clients connect as uids $UID_BASE.., group nogroup)"
[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive number of seconds: $SECS"
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
[[ -x $VFIOD && -x $STRESS ]] || die "build $VFIOD and $STRESS first (make bench-control)"
getent group nogroup >/dev/null || die "no group nogroup on this machine"
per_uid=$(awk '$1 == "#define" && $2 == "CONTROL_MAX_CLIENTS_PER_UID" { print $3 }' vfiod/control.h)
[[ $per_uid =~ ^[0-9]+$ ]] || die "cannot read CONTROL_MAX_CLIENTS_PER_UID from vfiod/control.h"

t_start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p build/bench/hosts
for h in big544 big2000; do
	t0=$(date +%s)
	tests/bench/bighost.sh "build/bench/hosts/$h" "$h" || die "cannot build host $h"
	t1=$(date +%s)
	((t1 - t0 < 1)) || echo "built build/bench/hosts/$h in $((t1 - t0)) s"
done

# name, sysroot, the BDF `show` asks for (assignable), host-critical BDFs
HOSTS=(
	"testbed-q35 tests/fixtures/captured/testbed-q35/root 0000:00:02.0 0000:00:01.0,0000:00:1e.0,0000:00:1e.1"
	"big544 build/bench/hosts/big544 0000:10:00.0 0000:20:00.0,0000:40:00.0"
	"big2000 build/bench/hosts/big2000 0000:10:00.0 0000:20:00.0,0000:40:00.0"
)

tmp=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# the clients' uids must reach the socket: a directory others may enter
chmod 0711 "$tmp"
printf '[daemon]\nsocket_group = nogroup\n' >"$tmp/policy.conf"

# cpu_ticks PID: the process's user + system time, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

cells=()     # one JSON object per cell
hostobjs=()  # one JSON object per host
fails=0

for spec in "${HOSTS[@]}"; do
	read -r host root bdf critical <<<"$spec"
	# the tree: its device count, the BDF to show assignable, the
	# host-critical devices exactly those expected
	"$VFIOD" --sysroot "$root" --inventory --pci-ids "$IDS" >"$tmp/inv.json" 2>"$tmp/inv.err" ||
		die "$host: vfiod --inventory failed: $(head -c 400 "$tmp/inv.err")"
	devices=$(jq '.devices | length' "$tmp/inv.json")
	jq -e --arg b "$bdf" 'any(.devices[]; .bdf == $b and .assignable)' "$tmp/inv.json" >/dev/null ||
		die "$host: $bdf is not an assignable device of the tree"
	got=$(jq -r '[.devices[] | select(.reason == "host-critical") | .bdf] | sort | join(",")' "$tmp/inv.json")
	want=$(tr , '\n' <<<"$critical" | sort | paste -sd, -)
	[[ $got == "$want" ]] || die "$host: host-critical devices are $got, not $want"

	sd=$tmp/$host
	mkdir -p "$sd"
	sock=$sd/s.sock
	"$VFIOD" --sysroot "$root" --state-dir "$sd/state" --socket "$sock" --udev-rules none \
		--policy "$tmp/policy.conf" --pci-ids "$IDS" 2>"$sd/d.log" &
	pid=$!
	for _ in $(seq 600); do
		[[ -S $sock ]] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! [[ -S $sock ]] || ! kill -0 "$pid" 2>/dev/null; then
		tail -n 5 "$sd/d.log" >&2
		die "$host: the daemon did not start"
	fi
	# the view alone, before any client: what the daemon holds for this host
	sleep 1
	rss0=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
	for n in "${CLIENTS[@]}"; do
		uids=$(((n + per_uid - 1) / per_uid))
		for op in "${OPS[@]}"; do
			args=(--socket "$sock" --clients "$n" --duration "$SECS" --pipeline 1 --op "$op"
				--uids "$UID_BASE-$((UID_BASE + uids - 1))")
			[[ $op == show ]] && args+=(--bdf "$bdf")
			# a big list is ~700 kB: every 20th checked in full, the rest by
			# frame, or the client's checking is what gets measured
			[[ $op == list ]] && args+=(--check-every 20)
			c0=$(cpu_ticks "$pid")
			"$STRESS" "${args[@]}" >"$sd/stress.out" 2>"$sd/stress.err"
			rc=$?
			c1=$(cpu_ticks "$pid")
			line=$(tail -n 1 "$sd/stress.out")
			# "key value" pairs of the summary line
			declare -A f=()
			read -ra w <<<"$line"
			for ((k = 0; k + 1 < ${#w[@]}; k += 2)); do f[${w[k]}]=${w[k + 1]}; done
			if ((rc != 0)) || [[ -z ${f[rps]:-} ]]; then
				fails=$((fails + 1))
				echo "FAIL $host clients $n $op (exit $rc): $line" >&2
				head -n 10 "$sd/stress.err" | sed 's/^/     | /' >&2
			fi
			cells+=("$(jq -nc --arg host "$host" --argjson devices "$devices" \
				--argjson clients "$n" --arg op "$op" --argjson uids "$uids" \
				--arg bdf "$([[ $op == show ]] && echo "$bdf")" \
				--argjson ok "$([[ $rc == 0 ]] && echo true || echo false)" \
				--argjson requests "${f[requests]:-0}" --argjson replies "${f[replies]:-0}" \
				--argjson errors "${f[errors]:-0}" --argjson lost "${f[lost]:-0}" \
				--argjson rps "${f[rps]:-0}" --argjson p50 "${f[p50_ms]:-0}" \
				--argjson p99 "${f[p99_ms]:-0}" --argjson max "${f[max_latency_ms]:-0}" \
				--argjson ccpu "${f[cpu_s]:-0}" \
				--argjson dcpu "$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')" \
				'{host: $host, devices: $devices, clients: $clients, op: $op,
				  bdf: (if $bdf == "" then null else $bdf end), uids: $uids, ok: $ok,
				  requests: $requests, replies: $replies, errors: $errors, lost: $lost,
				  rps: $rps, p50_ms: $p50, p99_ms: $p99, max_ms: $max,
				  client_cpu_s: $ccpu, daemon_cpu_s: $dcpu}')")
			unset f
		done
	done
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
	hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status")
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	if ((rc != 0)) || grep -qE 'vfiod: (error|crit|alert|emerg)' "$sd/d.log"; then
		fails=$((fails + 1))
		echo "FAIL $host: the daemon exited $rc or logged errors:" >&2
		tail -n 5 "$sd/d.log" | sed 's/^/     | /' >&2
	fi
	hostobjs+=("$(jq -nc --arg host "$host" --arg root "$root" --argjson devices "$devices" \
		--arg bdf "$bdf" --argjson rss "${rss:-0}" --argjson hwm "${hwm:-0}" --argjson rss0 "${rss0:-0}" \
		'{host: $host, sysroot: $root, devices: $devices, show_bdf: $bdf,
		  vmrss_start_kb: $rss0, vmrss_kb: $rss, vmhwm_kb: $hwm}')")
done

mkdir -p "${OUT_JSON%/*}"
printf '%s\n' "${cells[@]}" >"$tmp/cells"
printf '%s\n' "${hostobjs[@]}" >"$tmp/hosts"
jq -n --slurpfile cells "$tmp/cells" --slurpfile hosts "$tmp/hosts" \
	--arg commit "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
	--arg dirty "$(git status --porcelain --untracked-files=no -- vfiod 2>/dev/null | head -c 1)" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg kernel "$(uname -r)" \
	--argjson cpus "$(nproc)" --argjson secs "$SECS" --argjson per_uid "$per_uid" \
	--argjson uid_base "$UID_BASE" --argjson wall "$(($(date +%s) - t_start))" \
	--arg load_start "$load_start" --arg load_end "$(cut -d' ' -f1-3 /proc/loadavg)" '
	def ratio($h; $n):
		([$cells[] | select(.host == $h and .clients == $n and .op == "show") | .rps][0]) as $b
		| ([$cells[] | select(.host == "testbed-q35" and .clients == $n and .op == "show") | .rps][0]) as $c
		| if ($c // 0) > 0 then $b / $c else null end;
	{commit: $commit, vfiod_modified: ($dirty != ""), date: $date, kernel: $kernel, cpus: $cpus,
	 seconds_per_cell: $secs, pipeline: 1, clients_per_uid_max: $per_uid, first_uid: $uid_base,
	 wall_s: $wall, loadavg_start: $load_start, loadavg_end: $load_end,
	 hosts: $hosts, cells: $cells,
	 show_rps_ratio: [$cells[] | select(.host == "testbed-q35" and .op == "show") | .clients
		| {clients: ., big544: ratio("big544"; .), big2000: ratio("big2000"; .)}]}' \
	>"$OUT_JSON" || die "cannot write $OUT_JSON"

echo
echo "control plane, $SECS s per cell, --pipeline 1, commit $(git rev-parse --short HEAD 2>/dev/null)"
{
	printf 'host\tdevices\tclients\top\treq/s\tp50 ms\tp99 ms\n'
	jq -r '.cells[] | [.host, .devices, .clients, .op] + ([.rps, .p50_ms, .p99_ms]
		| map(tostring | if test("\\.") then . else . + ".0" end)) | @tsv' "$OUT_JSON"
} | column -t -s $'\t'
echo
jq -r '.hosts[] | "VmRSS \(.host): \(.vmrss_start_kb) kB at start (the view), \(.vmrss_kb) kB after the clients (peak \(.vmhwm_kb) kB)"' "$OUT_JSON"
jq -r 'def r: if type == "number" then "\(. * 10000 | round / 10000)" else "-" end;
	.show_rps_ratio[] | "show req/s relative to testbed-q35, clients \(.clients): big544 \(.big544 | r), big2000 \(.big2000 | r)"' "$OUT_JSON"
jq -r '"load average (1, 5, 15 min) at the start \(.loadavg_start), at the end \(.loadavg_end)"' "$OUT_JSON"
echo "figures in $OUT_JSON; $(($(date +%s) - t_start)) s"
((fails == 0)) || die "$fails cells or daemons failed (above)"
