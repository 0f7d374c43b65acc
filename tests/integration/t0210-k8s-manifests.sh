#!/bin/sh
# scripts/k8s/: the Kubernetes manifests as shipped. yamllint (the repo's .yamllint); a schema
# of the API fields they use, refusing any other (tests/helpers/k8s-validate.py, with
# Debian's python3-jsonschema), and the rules the recipes rely on (podFailurePolicy mapping
# 69/75/86 with restartPolicy Never, a grace period longer than flightdeck's --grace,
# /dev/shm in memory); each proven able to fail on a broken copy. Every flightdeck command
# line in them is given to the real binary (--show-config: the flags and values parse).
# No cluster runs here: what a kubelet would do with them is not tested.
. "$TESTS_DIR/integration/lib.sh"

K8S="$SRC_DIR/scripts/k8s"
VALIDATE="$TESTS_DIR/helpers/k8s-validate.py"
python3 -c 'import jsonschema, yaml' 2>/dev/null || skip "python3-jsonschema or python3-yaml is not installed"

if command -v yamllint >/dev/null 2>&1; then
	yamllint -s -c "$SRC_DIR/.yamllint" "$K8S" >"$TMP/lint" 2>&1 || fail "yamllint: $(cat "$TMP/lint")"
	ok "yamllint: scripts/k8s/ is clean"
else
	echo "skipped: yamllint is not installed (Debian: yamllint)"
fi

python3 "$VALIDATE" "$K8S"/*.yaml >"$TMP/argv" 2>"$TMP/err" || fail "the shipped manifests: $(cat "$TMP/err")"
[ "$(grep -c '^FLIGHTDECK ' "$TMP/argv")" -ge 3 ] || fail "fewer flightdeck command lines than expected: $(cat "$TMP/argv")"
ok "the manifests match the API fields they use and the recipe's rules"

# broken copies: each must be refused, naming what is wrong
broken() { # broken NAME SED-EXPRESSION EXPECTED-WORDS
	sed "$2" "$K8S/train-indexed-job.yaml" >"$TMP/$1.yaml"
	cmp -s "$TMP/$1.yaml" "$K8S/train-indexed-job.yaml" && fail "$1: the edit changed nothing"
	python3 "$VALIDATE" "$TMP/$1.yaml" >/dev/null 2>"$TMP/err" && fail "$1: the broken manifest passed"
	grep -q "$3" "$TMP/err" || fail "$1: the error does not say '$3': $(cat "$TMP/err")"
}
broken misspelt 's/terminationGracePeriodSeconds: 90/terminationGracePeriodSecond: 90/' \
	"Additional properties are not allowed ('terminationGracePeriodSecond'"
broken short-grace 's/terminationGracePeriodSeconds: 90/terminationGracePeriodSeconds: 30/' \
	"is not longer than flightdeck's --grace 60"
broken no-86 's/values: \[86\]/values: [87]/' "does not map exit code 86"
broken shm-disk 's/medium: Memory/medium: ""/' "/dev/shm is not an emptyDir of medium Memory"
broken restart 's/restartPolicy: Never/restartPolicy: OnFailure/' "podFailurePolicy needs restartPolicy Never"
broken failindex 's/action: FailJob # gave up/action: FailIndex # gave up/' "FailIndex needs backoffLimitPerIndex"
ok "broken copies are refused: a misspelt field, a short grace, 86 unmapped, /dev/shm on disk, restartPolicy, FailIndex"

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
	"$FLIGHTDECK" "$@" --show-config >"$TMP/out" 2>"$TMP/err" ||
		fail "the manifest's 'flightdeck $*' is refused: $(cat "$TMP/err")"
done <"$TMP/argv"
"$FLIGHTDECK" run --gracee 60 --show-config >/dev/null 2>&1 && fail "a misspelt flag passed --show-config"
ok "the $n flightdeck command lines of the manifests parse (a misspelt flag would not)"

# the Indexed Job's identity, as its pods get it: JOB_COMPLETION_INDEX, FLIGHTDECK_NNODES,
# FLIGHTDECK_COORDINATOR (here on loopback and a free port) and the token as a mounted file
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
head -c 32 /dev/urandom | base64 >"$TMP/token"
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
