#!/bin/sh
# The Indexed Job's metrics the Kubernetes way, on the real tools: the textfile path and the
# node label are taken from scripts/k8s/train-indexed-job.yaml and expanded as the kubelet
# does ($(POD_NAME), $(NODE_NAME)); two live pods of one node and a pod that ended there write
# into one directory laid out as the node's /var/lib/flightdeck/textfile; a real node_exporter
# started with the arguments of scripts/k8s/node-exporter.yaml (the directory and the listen
# address made this test's) serves it; a real Prometheus scrapes it, and PromQL returns each
# pod's flightdeck_run_* series with its labels, none lost to a clash.
. "$TESTS_DIR/integration/lib.sh"

command -v prometheus >/dev/null 2>&1 || skip "prometheus is not installed (Debian: prometheus)"
command -v prometheus-node-exporter >/dev/null 2>&1 || skip "prometheus-node-exporter is not installed"
command -v curl >/dev/null 2>&1 || skip "curl is not installed"
need_venv yaml
K8S="$SRC_DIR/scripts/k8s"

PIDS=
cleanup() {
	: >"$TMP/finish" 2>/dev/null # the pods' jobs end; flightdeck is the background pid (exec)
	for p in $PIDS; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# what the manifests say: the run's --prom-file and FLIGHTDECK_NODE; node_exporter's arguments
"$FD_VENV_PY" -c 'import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
c = [d for d in docs if d["kind"] == "Job"][0]["spec"]["template"]["spec"]["containers"][0]
print(c["command"][c["command"].index("--prom-file") + 1])
print([e for e in c["env"] if e["name"] == "FLIGHTDECK_NODE"][0]["value"])
ne = list(yaml.safe_load_all(open(sys.argv[2])))[0]["spec"]["template"]["spec"]["containers"][0]
print("\n".join(ne["args"]))' "$K8S/train-indexed-job.yaml" "$K8S/node-exporter.yaml" >"$TMP/manifest" ||
	fail "cannot read the manifests"
PROM_FILE=$(sed -n 1p "$TMP/manifest")
NODE_LABEL=$(sed -n 2p "$TMP/manifest")
HOSTDIR=/var/lib/flightdeck/textfile
case $PROM_FILE in "$HOSTDIR"/*.prom) ;; *) fail "the job's textfile $PROM_FILE is not a .prom file in $HOSTDIR" ;; esac
grep -qx -- "--collector.textfile.directory=$HOSTDIR" "$TMP/manifest" ||
	fail "node-exporter.yaml does not read $HOSTDIR: $(cat "$TMP/manifest")"
D="$TMP/node$HOSTDIR"
mkdir -p "$D" "$TMP/ckpt"
chmod 1777 "$D" # as flightdeck-node.yaml's DaemonSet makes it

# kubelet POD NODE STRING: STRING with $(POD_NAME) and $(NODE_NAME) expanded, the directory ours
kubelet() {
	printf '%s\n' "$3" | sed "s|\$(POD_NAME)|$1|g; s|\$(NODE_NAME)|$2|g; s|^$HOSTDIR|$D|"
}
cat >"$TMP/job.sh" <<'S'
i=1
while [ ! -e "$CTL/finish" ]; do
	"$FLIGHTDECK" beat --rank 0 --step $i
	i=$((i + 1))
	sleep 0.2
done
S
export CTL="$TMP" FLIGHTDECK
# pod POD COMMAND...: one pod of the job on node gpu-node-1, with the manifest's file and label;
# it execs flightdeck, so run it in a subshell (or with &: then $! is flightdeck itself)
pod() {
	name=$1
	shift
	FLIGHTDECK_NODE=$(kubelet "$name" gpu-node-1 "$NODE_LABEL") exec "$FLIGHTDECK" run --preflight none \
		--grace 1 --ranks 1 --prom-file "$(kubelet "$name" gpu-node-1 "$PROM_FILE")" -- "$@"
}
# a pod of index 0 that ended on this node (its last write: up 0, its exit code), then its retry
# and the pod of index 1, both live on the same node
(pod train-0-aaaaa true) >"$TMP/old.out" 2>&1 || fail "the first pod failed: $(cat "$TMP/old.out")"
pod train-0-bbbbb sh "$TMP/job.sh" >"$TMP/p0.out" 2>&1 &
PIDS="$PIDS $!"
pod train-1-ccccc sh "$TMP/job.sh" >"$TMP/p1.out" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 50); do
	[ "$(find "$D" -name 'flightdeck-run-*.prom' | wc -l)" -eq 3 ] && break
	sleep 0.1
done
[ "$(find "$D" -name 'flightdeck-run-*.prom' | wc -l)" -eq 3 ] || fail "expected 3 textfiles: $(ls -a "$D")"

NE_PORT=$(free_port)
grep -v -- '--web.listen-address' "$TMP/manifest" | sed -n '3,$p' |
	sed "s|^--collector.textfile.directory=.*|--collector.textfile.directory=$D|" >"$TMP/ne.args"
set --
while IFS= read -r a; do set -- "$@" "$a"; done <"$TMP/ne.args"
prometheus-node-exporter "$@" --web.listen-address "127.0.0.1:$NE_PORT" >"$TMP/ne.log" 2>&1 &
PIDS="$PIDS $!"

P_PORT=$(free_port)
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:$NE_PORT"]
EOF
prometheus --config.file "$TMP/prometheus.yml" --storage.tsdb.path "$TMP/tsdb" \
	--web.listen-address "127.0.0.1:$P_PORT" >"$TMP/prom.log" 2>&1 &
PIDS="$PIDS $!"

# query PROMQL: the result vector of an instant query, as JSON, in $TMP/q
query() {
	curl -sf --max-time 5 "http://127.0.0.1:$P_PORT/api/v1/query" --data-urlencode "query=$1" >"$TMP/q" 2>/dev/null &&
		jq -e '.status == "success"' "$TMP/q" >/dev/null
}
for _ in $(seq 150); do
	query 'count(flightdeck_run_up)' && [ "$(jq -r '.data.result[0].value[1] // 0' "$TMP/q")" = 3 ] && break
	sleep 0.2
done
[ "$(jq -r '.data.result[0].value[1] // 0' "$TMP/q")" = 3 ] ||
	fail "Prometheus does not have the 3 pods' flightdeck_run_up: $(cat "$TMP/q"; tail -n 3 "$TMP/prom.log" "$TMP/ne.log")"
query 'node_textfile_scrape_error' || fail "no node_textfile_scrape_error"
jq -e '.data.result[0].value[1] == "0"' "$TMP/q" >/dev/null || fail "node_exporter could not read the textfiles: $(cat "$TMP/q")"
grep -q 'collected before' "$TMP/ne.log" && fail "node_exporter dropped a clashing series: $(grep 'collected before' "$TMP/ne.log")"

query 'flightdeck_run_up'
for p in train-0-bbbbb:1 train-1-ccccc:1 train-0-aaaaa:0; do
	jq -e --arg n "gpu-node-1/${p%:*}" --arg v "${p#*:}" \
		'.data.result[] | select(.metric.node == $n and .metric.job == "node" and .value[1] == $v)' "$TMP/q" >/dev/null ||
		fail "no flightdeck_run_up{node=\"gpu-node-1/${p%:*}\"} ${p#*:} in Prometheus: $(cat "$TMP/q")"
done
query 'flightdeck_run_exit_code{node="gpu-node-1/train-0-aaaaa"}'
jq -e '.data.result[0].value[1] == "0"' "$TMP/q" >/dev/null || fail "the ended pod's exit code is not served: $(cat "$TMP/q")"
for _ in $(seq 50); do
	query 'flightdeck_run_last_step{node="gpu-node-1/train-1-ccccc",rank="0"} > 0' &&
		jq -e '.data.result | length == 1' "$TMP/q" >/dev/null && break
	sleep 0.2
done
jq -e '.data.result[0].metric | .rank == "0" and .instance != null and .__name__ == "flightdeck_run_last_step"' "$TMP/q" >/dev/null ||
	fail "PromQL does not return the live pod's last step with its labels: $(cat "$TMP/q")"
ok "a real Prometheus scrapes node_exporter (the manifest's arguments) on one node's textfile directory: 3 pods' flightdeck_run_* series (2 live, up 1; 1 ended, up 0, exit 0), each labelled node=NODE/POD, rank, job, instance"
touch "$TMP/finish"
