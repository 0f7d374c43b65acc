#!/bin/sh
# scripts/k8s/flightdeck-label-node.sh against a fake API server over real TLS
# (tests/helpers/fake-kube-api.py, a certificate made here with openssl): the verdicts of the
# real `flightdeck check --reason-file` on fixture nodes become one JSON merge patch of the
# node, with the service account's bearer token and the content type
# application/merge-patch+json, through curl and, where kubectl is installed, through the real
# kubectl. Unfit: the label flightdeck.io/unfit=CODE; fit (or GPU_BUSY only): the label removed
# (null). A refused token, an unknown node, RBAC's 403, an unreachable server, a certificate
# not signed by the CA, and bad arguments: one line on stderr and a non-zero exit.
. "$TESTS_DIR/integration/lib.sh"

LABEL="$SRC_DIR/scripts/k8s/flightdeck-label-node.sh"
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed (Debian: openssl)"
command -v curl >/dev/null 2>&1 || skip "curl is not installed (Debian: curl)"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

S="$TMP/srv"
mkdir -p "$S" "$TMP/sa" "$TMP/other"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$S/tls.key" -out "$S/tls.crt" -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || fail "openssl could not make a certificate"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/other/k" -out "$TMP/other/ca.crt" -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || fail "openssl could not make a second certificate"
cp "$S/tls.crt" "$TMP/sa/ca.crt"
TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s' "$TOKEN" >"$TMP/sa/token"
python3 "$TESTS_DIR/helpers/fake-kube-api.py" "$S" "$TOKEN" gpu-node-1 >"$TMP/srv.log" 2>&1 &
PID=$!
for _ in $(seq 50); do [ -s "$S/port" ] && break; sleep 0.1; done
[ -s "$S/port" ] || fail "the fake API server did not start: $(cat "$TMP/srv.log")"
API="https://127.0.0.1:$(cat "$S/port")"

# label ARGS...: the script through curl, as in a pod: RC, $TMP/out, $TMP/err
label() {
	RC=0
	FLIGHTDECK_KUBECTL=none FLIGHTDECK_KUBE_API="$API" FLIGHTDECK_KUBE_SA="$TMP/sa" \
		sh "$LABEL" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
}
last() { tail -n 1 "$S/requests.jsonl"; }
node_now() { # the fake server's node as a GET returns it
	curl -sf --cacert "$S/tls.crt" -H "Authorization: Bearer $TOKEN" "$API/api/v1/nodes/gpu-node-1"
}
one_line_error() { # one_line_error CODE WORDS
	[ "$RC" -eq "$1" ] || fail "expected exit $1, got $RC: $(cat "$TMP/err")"
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "expected one line on stderr: $(cat "$TMP/err")"
	grep -q -- "$2" "$TMP/err" || fail "stderr does not say '$2': $(cat "$TMP/err")"
}

# the real check's verdicts, as the DaemonSet gets them
"$FLIGHTDECK" check $(fx port-down) --counter-window 0 --node gpu-node-1 -q --reason-file "$TMP/unfit" >/dev/null 2>&1
"$FLIGHTDECK" check $(fx healthy-ndr8) --counter-window 0 --node gpu-node-1 -q --reason-file "$TMP/fit" >/dev/null 2>&1
grep -q '^flightdeck: IB_' "$TMP/unfit" || fail "check wrote no reason for the port-down node: $(cat "$TMP/unfit")"
[ ! -s "$TMP/fit" ] || fail "check wrote a reason for the healthy node: $(cat "$TMP/fit")"
code=$(sed 's/^flightdeck: //; s/[, ].*//' "$TMP/unfit")

label gpu-node-1 "$TMP/unfit"
[ "$RC" -eq 0 ] || fail "labelling an unfit node exited $RC: $(cat "$TMP/err")"
last | jq -e --arg t "Bearer $TOKEN" '.method == "PATCH" and .path == "/api/v1/nodes/gpu-node-1"
	and .authorization == $t and .content_type == "application/merge-patch+json"' >/dev/null ||
	fail "the request was not a merge patch of the node with the token: $(last)"
last | jq -r .body | jq -e --arg c "$code" --arg r "$(cat "$TMP/unfit")" \
	'.metadata.labels["flightdeck.io/unfit"] == $c and .metadata.annotations["flightdeck.io/unfit-reason"] == $r' >/dev/null ||
	fail "the patch does not label $code with the reason: $(last)"
node_now | jq -e --arg c "$code" '.metadata.labels["flightdeck.io/unfit"] == $c and .metadata.labels["kubernetes.io/hostname"] == "gpu-node-1"' >/dev/null ||
	fail "the node is not labelled (or lost its other labels): $(node_now)"
grep -q "flightdeck.io/unfit=$code" "$TMP/out" || fail "the script did not say what it did: $(cat "$TMP/out")"
ok "unfit: the node is labelled flightdeck.io/unfit=$code (a merge patch with the bearer token, over TLS)"

label gpu-node-1 "$TMP/fit"
[ "$RC" -eq 0 ] || fail "unlabelling a fit node exited $RC: $(cat "$TMP/err")"
last | jq -r .body | jq -e '.metadata.labels | has("flightdeck.io/unfit") and .["flightdeck.io/unfit"] == null' >/dev/null ||
	fail "the patch does not remove the label with null: $(last)"
node_now | jq -e '.metadata.labels | has("flightdeck.io/unfit") | not' >/dev/null || fail "the label is still there: $(node_now)"
node_now | jq -e '.metadata.annotations | has("flightdeck.io/unfit-reason") | not' >/dev/null || fail "the reason is still there: $(node_now)"
echo 'flightdeck: GPU_BUSY 0000:18:00.0' >"$TMP/busy"
label gpu-node-1 "$TMP/unfit"
label gpu-node-1 "$TMP/busy"
node_now | jq -e '.metadata.labels | has("flightdeck.io/unfit") | not' >/dev/null ||
	fail "GPU_BUSY alone (a running job's memory) kept the label: $(node_now)"
ok "fit, or GPU_BUSY alone: the label and the reason are removed (null in the merge patch)"

# errors: each one line on stderr, non-zero
printf 'wrong' >"$TMP/other/token"
RC=0
FLIGHTDECK_KUBECTL=none FLIGHTDECK_KUBE_API="$API" FLIGHTDECK_KUBE_SA="$TMP/other" sh "$LABEL" gpu-node-1 "$TMP/fit" >"$TMP/out" 2>"$TMP/err" || RC=$?
one_line_error 1 "certificate"
cp "$S/tls.crt" "$TMP/other/ca.crt"
RC=0
FLIGHTDECK_KUBECTL=none FLIGHTDECK_KUBE_API="$API" FLIGHTDECK_KUBE_SA="$TMP/other" sh "$LABEL" gpu-node-1 "$TMP/fit" >"$TMP/out" 2>"$TMP/err" || RC=$?
one_line_error 1 "HTTP 401: Unauthorized"
label gpu-node-9 "$TMP/unfit"
one_line_error 1 'HTTP 404: nodes "gpu-node-9" not found'
label forbidden "$TMP/unfit"
one_line_error 1 'HTTP 403: nodes "forbidden" is forbidden'
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RC=0
FLIGHTDECK_KUBECTL=none FLIGHTDECK_KUBE_API="https://127.0.0.1:$port" FLIGHTDECK_KUBE_SA="$TMP/sa" sh "$LABEL" gpu-node-1 "$TMP/fit" >"$TMP/out" 2>"$TMP/err" || RC=$?
one_line_error 1 "failed: curl: (7)"
RC=0
env -u KUBERNETES_SERVICE_HOST FLIGHTDECK_KUBECTL=none FLIGHTDECK_KUBE_SA="$TMP/sa" sh "$LABEL" gpu-node-1 "$TMP/fit" >"$TMP/out" 2>"$TMP/err" || RC=$?
one_line_error 1 "KUBERNETES_SERVICE_HOST is unset"
label gpu-node-1
one_line_error 2 "usage: flightdeck-label-node NODE REASON-FILE"
label 'gpu-node-1/../x' "$TMP/fit"
one_line_error 2 "is not a Kubernetes node name"
label gpu-node-1 "$TMP/nonexistent"
one_line_error 2 "cannot read the reason file"
echo 'the node is on fire' >"$TMP/garbage"
label gpu-node-1 "$TMP/garbage"
one_line_error 2 "does not hold a flightdeck reason"
ok "errors, one line each, exit 1: a certificate not of the CA, a refused token (401), an unknown node (404), RBAC (403), no server, not in a pod; exit 2: usage, a bad node name, no reason file, a foreign reason"

# the same through the real kubectl, with a kubeconfig naming the server, the CA and the token
if command -v kubectl >/dev/null 2>&1; then
	cat >"$TMP/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "$API", certificate-authority: "$S/tls.crt"}}]
users: [{name: sa, user: {token: "$TOKEN"}}]
contexts: [{name: fake, context: {cluster: fake, user: sa}}]
current-context: fake
EOF
	klabel() {
		RC=0
		KUBECONFIG="$TMP/kubeconfig" FLIGHTDECK_KUBECTL="$(command -v kubectl)" \
			sh "$LABEL" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
	}
	klabel gpu-node-1 "$TMP/unfit"
	[ "$RC" -eq 0 ] || fail "kubectl: labelling exited $RC: $(cat "$TMP/err")"
	grep '"PATCH"' "$S/requests.jsonl" | tail -n 1 | jq -e --arg t "Bearer $TOKEN" \
		'.authorization == $t and .content_type == "application/merge-patch+json"' >/dev/null ||
		fail "kubectl's request was not a merge patch with the token: $(last)"
	node_now | jq -e --arg c "$code" '.metadata.labels["flightdeck.io/unfit"] == $c' >/dev/null ||
		fail "kubectl: the node is not labelled: $(node_now)"
	klabel gpu-node-1 "$TMP/fit"
	node_now | jq -e '.metadata.labels | has("flightdeck.io/unfit") | not' >/dev/null ||
		fail "kubectl: the label is still there: $(node_now)"
	klabel gpu-node-9 "$TMP/fit"
	one_line_error 1 'kubectl patch node gpu-node-9 failed: .*not found'
	ok "through the real kubectl: labelled, removed; an unknown node is one line, exit 1"
else
	echo "skipped: kubectl is not installed (the curl path passed)"
fi
