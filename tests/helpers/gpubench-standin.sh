#!/bin/sh
# gpubench-standin.sh - a stand-in for flightdeck-gpubench on machines without GPUs, so the
# launcher's side (the deadline, the process-group kill, the JSON contract, the judges) is
# tested in CI. STANDIN_MODE picks the behaviour:
#   good      8x H100 at healthy numbers           slow-hbm  one GPU at 1800 GB/s
#   wrong     an allreduce sum that did not verify  low-bus   busbw 200 GB/s
#   hang      a grandchild that sleeps forever      crash     SIGSEGV
#   garbage   text that is not the document         exit3     exit status 3
#   nonccl    NCCL could not run (reason given)   p2p-wrong  the custom allreduce summed wrong
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
