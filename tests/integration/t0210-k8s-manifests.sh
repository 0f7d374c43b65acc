#!/bin/sh
# scripts/k8s/: the Kubernetes manifests as shipped. yamllint (the repo's .yamllint); the real
# OpenAPI schemas of Kubernetes 1.26 (the oldest the manifests need: podFailurePolicy) and 1.37
# (the newest kubernetes-validate 1.37.0 ships), strict: a field the API does not know fails
# (tests/helpers/k8s-validate.py, in the Python environment of scripts/venv.sh). The PyTorchJob
# is a custom resource with no schema there: its pod templates are validated as core
# PodTemplates, the rest of it only by the rules. Then the rules the recipes rely on
# (podFailurePolicy mapping 69/75/86 with restartPolicy Never, a grace period longer than
# flightdeck's --grace, /dev/shm in memory, the token off /etc/flightdeck and readable by a
# non-root user, the PyTorchJob's ExitCode and 75 mapped to a retryable code, the textfile on
# the node's directory under a per-pod name); each proven able to fail on a broken copy. Every
# flightdeck command line in them is given to the real binary (--show-config: the flags and
# values parse); the init container's choice of kernel log and the PyTorchJob's shell around
# flightdeck run are run with the real binary. No cluster runs here: what a kubelet would do
# with them is not tested.
. "$TESTS_DIR/integration/lib.sh"

K8S="$SRC_DIR/scripts/k8s"
VALIDATE="$TESTS_DIR/helpers/k8s-validate.py"
VERSIONS="-k 1.26 -k 1.37"
need_venv kubernetes_validate yaml
command -v yamllint >/dev/null 2>&1 || skip "yamllint is not installed (Debian: yamllint)"

yamllint -s -c "$SRC_DIR/.yamllint" "$K8S" >"$TMP/lint" 2>&1 || fail "yamllint: $(cat "$TMP/lint")"
ok "yamllint: scripts/k8s/ is clean"

# validate FILE...: the validator on FILEs against both versions; stdout $TMP/argv, stderr $TMP/verr
validate() {
	# shellcheck disable=SC2086 # VERSIONS is two flags
	"$FD_VENV_PY" "$VALIDATE" $VERSIONS "$@" >"$TMP/argv" 2>"$TMP/verr"
}
validate "$K8S"/*.yaml || fail "the shipped manifests: $(cat "$TMP/verr")"
[ "$(grep -c '^FLIGHTDECK ' "$TMP/argv")" -ge 4 ] || fail "fewer flightdeck command lines than expected: $(cat "$TMP/argv")"
grep -q '^SKIPPED .*train-pytorchjob.yaml: doc 1: PyTorchJob' "$TMP/argv" ||
	fail "the PyTorchJob's skipped schema is not said: $(cat "$TMP/argv")"
cp "$TMP/argv" "$TMP/shipped.argv"
ok "the manifests pass the schemas of Kubernetes 1.26 and 1.37 (strict) and the recipes' rules"

# broken copies: each must be refused, naming what is wrong
broken() { # broken FILE NAME SED-EXPRESSION EXPECTED-WORDS
	sed "$3" "$K8S/$1" >"$TMP/$2.yaml"
	cmp -s "$TMP/$2.yaml" "$K8S/$1" && fail "$2: the edit changed nothing"
	validate "$TMP/$2.yaml" && fail "$2: the broken manifest passed"
	grep -q -- "$4" "$TMP/verr" || fail "$2: the error does not say '$4': $(cat "$TMP/verr")"
}
J=train-indexed-job.yaml
broken $J misspelt 's/terminationGracePeriodSeconds: 90/terminationGracePeriodSecond: 90/' \
	"Additional properties are not allowed ('terminationGracePeriodSecond'"
broken $J not-an-int 's/completions: 2/completions: two/' "spec.completions: 'two' is not of type 'integer'"
broken $J misplaced 's/^      subdomain: train/      containerName: train/' \
	"Additional properties are not allowed ('containerName'"
# a field only the older API requires: refused against 1.26, not 1.37
broken $J old-api '/status: "True"/d' "Kubernetes 1.26: spec.podFailurePolicy.rules.0.onPodConditions.0: 'status' is a required property"
grep -q 'Kubernetes 1.37' "$TMP/verr" && fail "old-api: 1.37 refused what its schema allows: $(cat "$TMP/verr")"
broken $J short-grace 's/terminationGracePeriodSeconds: 90/terminationGracePeriodSeconds: 30/' \
	"is not longer than flightdeck's --grace 60"
broken $J no-86 's/values: \[86\]/values: [87]/' "does not map exit code 86"
broken $J shm-disk 's/medium: Memory/medium: ""/' "/dev/shm is not an emptyDir of medium Memory"
broken $J restart 's/restartPolicy: Never/restartPolicy: OnFailure/' "podFailurePolicy needs restartPolicy Never"
broken $J failindex 's/action: FailJob # gave up/action: FailIndex # gave up/' "FailIndex needs backoffLimitPerIndex"
broken $J token-etc 's|mountPath: /var/run/flightdeck|mountPath: /etc/flightdeck|' \
	"hides the default config file"
broken $J token-0400 's/defaultMode: 0440/defaultMode: 0400/' "mode 0400 is its owner's only"
broken $J no-fsgroup '/fsGroup: 1000/d' "needs the pod's fsGroup"
broken $J token-nowhere 's|/var/run/flightdeck/token|/etc/flightdeck/token|' \
	"token-file /etc/flightdeck/token is on no volume"
# shellcheck disable=SC2016 # $(POD_NAME) is the manifest's, expanded by the kubelet
broken $J prom-shared 's/flightdeck-run-$(POD_NAME).prom/flightdeck-run.prom/' \
	"is not a per-pod name ending in .prom"
# shellcheck disable=SC2016
broken $J prom-label 's|value: $(NODE_NAME)/$(POD_NAME)|value: $(NODE_NAME)|' \
	"does not name the pod"
broken $J no-avoid 's/key: flightdeck.io\/unfit/key: flightdeck.io\/fit/' "do not avoid nodes labelled"
P=train-pytorchjob.yaml
broken $P pt-onfailure '0,/restartPolicy: ExitCode/s//restartPolicy: OnFailure/' \
	"Master: restartPolicy OnFailure restarts exit 69"
broken $P pt-75 's/75) exit 203/75) exit 75/' "exit 75 (a node lost) is not mapped"
broken $P pt-misspelt 's/terminationGracePeriodSeconds: 90/terminationGracePeriodSecond: 90/' \
	"Master: Kubernetes 1.26: template.spec: Additional properties are not allowed ('terminationGracePeriodSecond'"
broken $P pt-replica 's/      replicas: 1/      replica: 1/' "fields a ReplicaSpec lacks: \['replica'\]"
N=flightdeck-node.yaml
broken $N ds-misspelt 's/serviceAccountName: flightdeck-node/serviceAccount-Name: flightdeck-node/' \
	"Additional properties are not allowed ('serviceAccount-Name'"
broken $N rbac-more 's/verbs: \[get, patch\]/verbs: [get, patch, delete]/' "grants more than get and patch on nodes"
broken $N rbac-kind 's/^kind: ClusterRoleBinding/kind: ClusterRoleBindin/' "ClusterRoleBindin"
broken $N ds-node 's/fieldPath: spec.nodeName/fieldPath: metadata.name/' "NODE_NAME is not the pod's node"
broken node-exporter.yaml ne-port 's/containerPort: 9100/containerPort: "9100"/' "'9100' is not of type 'integer'"
ok "broken copies are refused: schema (a misspelt, a mistyped, a misplaced field; a field 1.26 requires), grace, 86, /dev/shm, restartPolicy, FailIndex, the token's place and mode, the textfile, the affinity; the PyTorchJob's policy, 75, template and fields; the DaemonSets and RBAC"

# the flightdeck command lines, through the binary: flags and values must parse
n=0
while read -r tag json; do
	[ "$tag" = FLIGHTDECK ] || continue
	n=$((n + 1))
	python3 -c 'import json, sys
a = json.loads(sys.argv[1])
a = a[:a.index("--")] if "--" in a else a
print("\n".join(a[1:]))' "$json" >"$TMP/args"
	set --
	while IFS= read -r a; do set -- "$@" "$a"; done <"$TMP/args"
	"$FLIGHTDECK" "$@" --show-config </dev/null >"$TMP/out" 2>"$TMP/err" ||
		fail "the manifest's 'flightdeck $*' is refused: $(cat "$TMP/err")"
done <"$TMP/shipped.argv"
"$FLIGHTDECK" run --gracee 60 --show-config >/dev/null 2>&1 && fail "a misspelt flag passed --show-config"
ok "the $n flightdeck command lines of the manifests parse (a misspelt flag would not)"

# script_of FILE CONTAINER: the sh -c script of CONTAINER in FILE's first pod template
script_of() {
	"$FD_VENV_PY" -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    t = d["spec"].get("template") or d["spec"]["pytorchReplicaSpecs"]["Master"]["template"]
    s = t["spec"]
    for c in s.get("initContainers", []) + s["containers"]:
        if c["name"] == sys.argv[2]:
            print(c["command"][2])' "$@"
}

# --- the init container's kernel log: kern.log, else messages, else none (skip, not exit 2) ---
script_of "$K8S/train-preflight-init.yaml" preflight >"$TMP/init.sh"
grep -q '/host/log/kern.log /host/log/messages' "$TMP/init.sh" || fail "the init container's script changed: $(cat "$TMP/init.sh")"
mkdir -p "$TMP/bin" "$TMP/log"
# flightdeck as the image has it: the real binary, on this test's fixture node
cat >"$TMP/bin/flightdeck" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$TMP/init.args"
[ "\$1" = check ] || exit 99
shift
exec "$FLIGHTDECK" check --sysfs-root "$FIXTURES/healthy-ndr8/sys" --proc-root "$FIXTURES/healthy-ndr8/proc" \
	--gpubench /nonexistent/flightdeck-gpubench --counter-window 0 --termination-log none --json "\$@"
EOF
chmod +x "$TMP/bin/flightdeck"
init() { # init: the init container's script, /host/log being $TMP/log; RC and $TMP/out
	sed "s|/host/log/|$TMP/log/|g" "$TMP/init.sh" >"$TMP/init.run"
	RC=0
	PATH="$TMP/bin:$PATH" sh "$TMP/init.run" >"$TMP/out" 2>"$TMP/err" || RC=$?
}
cp "$KMSG_DIR/xid-fatal.dmesg" "$TMP/log/messages" # RHEL: messages, no kern.log
init
expect_rc 1
grep -qx "$TMP/log/messages" "$TMP/init.args" ||
	fail "the init container did not scan messages: $(cat "$TMP/init.args")"
expect_finding '.code == "GPU_XID_FATAL"'
cp "$KMSG_DIR/xid-app.dmesg" "$TMP/log/kern.log" # Debian: kern.log first
init
grep -qx "$TMP/log/kern.log" "$TMP/init.args" || fail "kern.log was not preferred: $(cat "$TMP/init.args")"
expect_no_finding '.code == "GPU_XID_FATAL"'
rm "$TMP/log/kern.log" "$TMP/log/messages" # journald only: neither
init
none_rc=$RC
[ "$RC" -le 1 ] || fail "with no log file the init container exits $RC (a usage error): $(cat "$TMP/err")"
grep -qx -- "--kmsg" "$TMP/init.args" && fail "with no log file the init container still names one: $(cat "$TMP/init.args")"
# what the manifest did before: a named file that is absent is a usage error, on a healthy node
run check $(fx healthy-ndr8) --counter-window 0 --kmsg "$TMP/log/kern.log"
expect_rc 2
ok "the init container scans kern.log, else messages (RHEL), else none (journald only: exit $none_rc, no usage error; a named absent file: 2)"

# --- the PyTorchJob's shell around flightdeck run: 75 -> 203, the rest as they are, signals ---
script_of "$K8S/$P" pytorch | sed "s|/ckpt|$TMP/ckpt|g; s|/var/run/flightdeck/token|$TMP/token|" >"$TMP/pt.sh"
mkdir -p "$TMP/ckpt"
head -c 32 /dev/urandom | base64 >"$TMP/token"
# the trainer: a stand-in torchrun that exits $TRAIN_RC, or with TRAIN_WAIT waits for a signal
cat >"$TMP/bin/torchrun" <<'EOF'
#!/bin/sh
[ -n "${TRAIN_WAIT:-}" ] || exit "${TRAIN_RC:-0}"
trap 'echo "$1" >"$TRAIN_WAIT"; exit 0' TERM
: >"$TRAIN_WAIT.started"
while :; do sleep 0.1; done
EOF
chmod +x "$TMP/bin/torchrun"
printf 'preflight = none\njoin-timeout = 2s\nbackoff = 0.2s\nmax-restarts = 0\ntermination-log = none\n' >"$TMP/pt.conf"
# the Master pod's environment (the operator's variables; flightdeck's settings in a config)
unset SLURM_JOB_ID SLURM_NODEID SLURM_NNODES
export FLIGHTDECK_CONFIG="$TMP/pt.conf" RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500
pt() { # pt WORLD_SIZE: the Master's script as its pod runs it; RC
	RC=0
	WORLD_SIZE=$1 sh "$TMP/pt.sh" >"$TMP/out" 2>"$TMP/err" || RC=$?
}
ln -sf "$FLIGHTDECK" "$TMP/bin/flightdeck"
PATH="$TMP/bin:$PATH"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s|--coordinator \"\$MASTER_ADDR\"|--coordinator \"\$MASTER_ADDR:$port\"|" "$TMP/pt.sh"
pt 1
expect_rc 0
pt 2 # the Worker never joins: flightdeck exits 75, the pod 203
expect_rc 203
grep -q 'exit 75\|never joined\|75' "$TMP/err" || fail "flightdeck did not say why it ended: $(cat "$TMP/err")"
TRAIN_WAIT="$TMP/got" WORLD_SIZE=1 sh "$TMP/pt.sh" >"$TMP/out" 2>"$TMP/err" &
ptpid=$!
for _ in $(seq 100); do [ -e "$TMP/got.started" ] && break; sleep 0.1; done
[ -e "$TMP/got.started" ] || { kill "$ptpid"; fail "the trainer never started: $(cat "$TMP/err")"; }
kill -TERM "$ptpid"
RC=0
wait "$ptpid" || RC=$?
[ -e "$TMP/got" ] || fail "SIGTERM to the pod's shell did not reach the trainer (exit $RC): $(cat "$TMP/err")"
no_leftovers "$TMP/bin/torchrun"
ok "the PyTorchJob's shell: exit 0 stays 0, 75 becomes 203 (retryable), SIGTERM reaches the trainer through flightdeck (exit $RC)"

export FLIGHTDECK_CONFIG=/nonexistent/flightdeck.conf
unset RANK MASTER_ADDR MASTER_PORT WORLD_SIZE

# the Indexed Job's identity, as its pods get it: JOB_COMPLETION_INDEX, FLIGHTDECK_NNODES,
# FLIGHTDECK_COORDINATOR (here on loopback and a free port) and the token as a mounted file
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for i in 0 1; do
	(
		env -u SLURM_JOB_ID -u SLURM_NODEID -u SLURM_NNODES JOB_COMPLETION_INDEX=$i \
			FLIGHTDECK_NNODES=2 FLIGHTDECK_COORDINATOR=127.0.0.1:$port \
			"$FLIGHTDECK" run --preflight none --token-file "$TMP/token" --join-timeout 30s \
			-- sh -c "echo pod $i" >"$TMP/pod$i.out" 2>"$TMP/pod$i.err"
		echo $? >"$TMP/pod$i.rc"
	) &
done
wait
for i in 0 1; do
	[ "$(cat "$TMP/pod$i.rc")" -eq 0 ] || fail "pod $i exited $(cat "$TMP/pod$i.rc"): $(cat "$TMP/pod$i.err")"
done
grep -q 'all 2 nodes joined' "$TMP/pod0.err" || fail "pod 0 did not form the group: $(cat "$TMP/pod0.err")"
ok "the Indexed Job's environment forms the group: pod 0 the coordinator, both exit 0"
