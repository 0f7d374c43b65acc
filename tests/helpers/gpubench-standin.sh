#!/bin/sh
# gpubench-standin.sh - a stand-in for flightdeck-gpubench on machines without GPUs, so the
# launcher's side (the deadline, the process-group kill, the JSON contract, the judges) is
# tested in CI. STANDIN_MODE picks the behaviour:
#   good      8x H100 at healthy numbers           slow-hbm  one GPU at 1800 GB/s
#   wrong     an allreduce sum that did not verify  low-bus   busbw 200 GB/s
#   hang      a grandchild that sleeps forever      crash     SIGSEGV
#   garbage   text that is not the document         exit3     exit status 3
#   nonccl    NCCL could not run (reason given)   p2p-wrong  the custom allreduce summed wrong
#   world-doc a "scope": "world" document, as rank 0 under --mpi prints it
#
# With --world R/N (flightdeck check --job's allreduce across nodes) it plays one process of
# the world instead: rank 0 (no --nccl-id) makes an id and prints "nccl-id HEX" first; every
# rank then meets its peers in the directory $STANDIN_WORLD_DIR/world-ID, so a wrongly
# relayed id leaves them waiting until --timeout-ms (exit 4): the relay is what joins them.
# Each rank writes its node's speed there (STANDIN_SPEED, GB/s, default 200), and every rank
# prints a world document whose busbw is the slowest speed of the set, as NCCL's would be.
# STANDIN_WORLD picks a node's misbehaviour: hang (never prints the id / never finishes),
# no-id (prints something else first), no-gpu (prints "no-gpu ..." and exits 3, as the real
# one does without a GPU), crash.
world= id= tmo=60000
while [ $# -gt 0 ]; do
	case "$1" in
	--world) world=$2; shift ;;
	--nccl-id) id=$2; shift ;;
	--timeout-ms) tmo=$2; shift ;;
	esac
	shift
done
if [ -n "$world" ]; then
	rank=${world%/*} size=${world#*/}
	case "${STANDIN_WORLD:-good}" in
	hang)
		sleep "${STANDIN_SLEEP:-3601}" &
		wait
		exit 0
		;;
	no-id) [ "$rank" -eq 0 ] && { echo "CUDA error: out of memory"; exit 0; } ;;
	no-gpu)
		echo "no-gpu no CUDA device: device count is 0"
		echo "flightdeck-gpubench: no GPU: no CUDA device: device count is 0" >&2
		exit 3
		;;
	crash) kill -SEGV $$ ;;
	esac
	if [ "$rank" -eq 0 ] && [ -z "$id" ]; then
		id=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
		echo "nccl-id $id"
	fi
	[ -n "$id" ] || { echo "gpubench-standin: rank $rank needs --nccl-id" >&2; exit 2; }
	dir=${STANDIN_WORLD_DIR:?}/world-$id
	mkdir -p "$dir"
	echo "${STANDIN_SPEED:-200}" >"$dir/$rank"
	# the clock, not a count of naps: on a loaded machine each turn of this loop takes far
	# longer than its nap, and flightdeck kills at its own deadline just after this one
	end=$(($(date +%s%3N) + tmo))
	while [ "$(ls "$dir" | wc -l)" -lt "$size" ]; do
		sleep 0.05
		[ "$(date +%s%3N)" -lt "$end" ] || { echo "gpubench-standin: rank $rank: peers never came" >&2; exit 4; }
	done
	min=$(sort -g "$dir"/* | head -1)
	printf '{"version": 1, "gpus": [], "p2p": {"ran": false, "ngpus": 0, "reason": "world mode", "results": []}, '
	printf '"nccl": {"ran": true, "scope": "world", "rank": %d, "ngpus": %d, "nranks": %d, "nodes": %d, "reason": "", "results": [' \
		"$rank" $((size * 8)) $((size * 8)) "$size"
	printf '{"bytes": 1073741824, "time_us": 9000.0, "algbw": %s, "busbw": %s, "ok": true}]}}\n' "$min" "$min"
	exit 0
fi
mode=${STANDIN_MODE:-good}
hbm5=2950.4 ok=true busbw=365.2 p2pok=true
case "$mode" in
hang)
	sleep "${STANDIN_SLEEP:-3601}" & # tests give a value of their own to find it by
	wait
	exit 0
	;;
crash) kill -SEGV $$ ;;
garbage)
	echo "CUDA error: all CUDA-capable devices are busy or unavailable"
	exit 0
	;;
exit3) exit 3 ;;
world-doc)
	printf '{"version": 1, "gpus": [], "p2p": {"ran": false, "ngpus": 0, "reason": "--mpi measures only NCCL", "results": []}, '
	printf '"nccl": {"ran": true, "scope": "world", "ngpus": 16, "nranks": 16, "nodes": 2, "reason": "", "results": ['
	printf '{"bytes": 1073741824, "time_us": 6000.0, "algbw": 178.9, "busbw": 335.5, "ok": true}]}}\n'
	exit 0
	;;
slow-hbm) hbm5=1800.0 ;;
wrong) ok=false ;;
low-bus) busbw=200.0 ;;
p2p-wrong) p2pok=false ;;
esac
printf '{"version": 1, "gpus": ['
i=0
for bus in 18 2A 3A 5D 9A AB BA DB; do
	h=2948.7
	[ $i -eq 5 ] && h=$hbm5
	[ $i -gt 0 ] && printf ', '
	printf '{"index": %d, "name": "NVIDIA H100 80GB HBM3", "bus_id": "00000000:%s:00.0", "hbm_gbps": %s, "hbm_ok": true, "h2d_gbps": 53.2, "d2h_gbps": 52.9}' $i $bus $h
	i=$((i + 1))
done
printf '], "p2p": {"ran": true, "ngpus": 8, "reason": "", "results": ['
printf '{"bytes": 65536, "algorithm": "one-shot", "time_us": 30.1, "algbw": 2.2, "busbw": 3.8, "ok": true}, '
printf '{"bytes": 268435456, "algorithm": "two-shot", "time_us": 2100.0, "algbw": 127.8, "busbw": 223.7, "ok": %s}' "$p2pok"
if [ "$mode" = nonccl ]; then
	printf ']}, "nccl": {"ran": false, "ngpus": 0, "reason": "built without NCCL", "results": []}}\n'
	exit 0
fi
printf ']}, "nccl": {"ran": true, "ngpus": 8, "reason": "", "results": ['
printf '{"bytes": 8388608, "time_us": 120.5, "algbw": 69.6, "busbw": 121.8, "ok": true}, '
printf '{"bytes": 1073741824, "time_us": 5143.0, "algbw": 208.7, "busbw": %s, "ok": %s}]}}\n' "$busbw" "$ok"
