#!/bin/sh
# shell-equivalent.sh SYSFS PROC KMSG - the quick-level checks written the way shell health
# checks (LBNL NHC's style: sourced shell functions, cat/grep/awk per attribute) do them,
# judging the same facts as `flightdeck check --level quick --counter-window 0`. It exists
# only so tests/bench/check-quick.sh can put flightdeck's time beside a shell run's.
S=$1 P=$2 K=$3
fail=0
best=0
for dev in "$S"/class/infiniband/*; do
	[ -e "$dev" ] || continue
	for port in "$dev"/ports/*; do
		state=$(cat "$port/state")
		phys=$(cat "$port/phys_state")
		rate=$(awk '{print $1}' "$port/rate")
		ll=$(cat "$port/link_layer")
		case "$state" in "4: ACTIVE") ;; *) echo "FAIL $port state $state"; fail=1 ;; esac
		case "$phys" in "5: LinkUp") ;; *) echo "FAIL $port phys $phys"; fail=1 ;; esac
		[ "$(echo "$rate > $best" | bc)" = 1 ] && best=$rate
		for c in "$port"/counters/*; do
			v=$(cat "$c")
			[ "$v" -ge 0 ] 2>/dev/null || echo "FAIL bad counter $c"
		done
		: "$ll"
	done
done
for port in "$S"/class/infiniband/*/ports/*; do
	[ -e "$port" ] || continue
	rate=$(awk '{print $1}' "$port/rate")
	[ "$(echo "$rate < $best" | bc)" = 1 ] && { echo "FAIL $port rate $rate"; fail=1; }
done
n=0
for d in "$S"/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x10de ] || continue
	case "$(cat "$d/class")" in 0x0300* | 0x0302*) n=$((n + 1)) ;; esac
done
[ $n -gt 0 ] && [ ! -e "$P/driver/nvidia/version" ] && { echo "FAIL driver"; fail=1; }
sed -n 's/.*NVRM: Xid ([^)]*): \([0-9]*\),.*/\1/p' "$K" | grep -q -E '^(48|63|64|74|79|92|94|95|119|120)$' &&
	{ echo "FAIL xid"; fail=1; }
shm=$(awk '$2 == "/dev/shm" { if (match($4, /size=[0-9]+k/)) print substr($4, RSTART + 5, RLENGTH - 6) }' "$P/mounts")
[ -n "$shm" ] && [ "$shm" -lt 1048576 ] && { echo "FAIL shm"; fail=1; }
grep -q '^Max locked memory *unlimited' "$P/self/limits" || { echo "FAIL memlock"; fail=1; }
exit $fail
