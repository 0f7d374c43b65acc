#!/bin/sh
# flightdeck-label-node.sh NODE REASON-FILE - labels Kubernetes node NODE from the verdict of
# `flightdeck check --reason-file REASON-FILE`: an empty file (fit) removes the label
# flightdeck.io/unfit and the annotation flightdeck.io/unfit-reason; a reason line
# ("flightdeck: CODE[,CODE] SUBJECT") sets the label to the first code (a label value holds no
# comma) and the annotation to the whole line. The codes in FLIGHTDECK_LABEL_IGNORE (default
# GPU_BUSY: a periodic check sees the GPU memory of the job running there) count as fit. One JSON merge patch of the node, through
# kubectl when it is on PATH (its in-cluster configuration), else through curl against the API
# server with the pod's service-account token and CA.
#
# Environment: FLIGHTDECK_KUBE_API (the API server's URL; default
# https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT), FLIGHTDECK_KUBE_SA (the directory
# of token and ca.crt; default /var/run/secrets/kubernetes.io/serviceaccount),
# FLIGHTDECK_KUBECTL (the kubectl to run; "none": curl even where kubectl is),
# FLIGHTDECK_LABEL_IGNORE (space-separated codes).
# Exit: 0 patched; 1 the API refused or could not be reached; 2 a bad argument.
set -u
ME=flightdeck-label-node
die() { # die CODE MESSAGE: one line on stderr
	echo "$ME: $2" >&2
	exit "$1"
}

[ $# -eq 2 ] || die 2 "usage: $ME NODE REASON-FILE"
node=$1
reason_file=$2
# a node's name is a DNS subdomain: nothing else goes into the URL
printf '%s' "$node" | grep -Eqx '[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?' ||
	die 2 "node name '$node' is not a Kubernetes node name"
{ [ -f "$reason_file" ] && [ -r "$reason_file" ]; } || die 2 "cannot read the reason file $reason_file"

reason=$(head -n 1 "$reason_file" | tr -d '\000-\037\177')
code=
if [ -n "$reason" ]; then
	codes=${reason#flightdeck: }
	[ "$codes" != "$reason" ] || die 2 "$reason_file does not hold a flightdeck reason: '$reason'"
	# the first code not ignored: GPU_BUSY by default, the GPUs of a running job
	for c in $(printf '%s' "${codes%% *}" | tr ',' ' '); do
		case " ${FLIGHTDECK_LABEL_IGNORE-GPU_BUSY} " in
		*" $c "*) ;;
		*)
			code=$c
			break
			;;
		esac
	done
fi
if [ -z "$code" ]; then
	patch='{"metadata":{"labels":{"flightdeck.io/unfit":null},"annotations":{"flightdeck.io/unfit-reason":null}}}'
	what="removed flightdeck.io/unfit from node $node (fit${reason:+, but for: $reason})"
else
	printf '%s' "$code" | grep -Eqx '[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?' ||
		die 2 "reason code '$code' is not a label value"
	json=$(printf '%s' "$reason" | sed 's/\\/\\\\/g; s/"/\\"/g')
	patch='{"metadata":{"labels":{"flightdeck.io/unfit":"'$code'"},"annotations":{"flightdeck.io/unfit-reason":"'$json'"}}}'
	what="labelled node $node flightdeck.io/unfit=$code ($reason)"
fi

kubectl=${FLIGHTDECK_KUBECTL:-$(command -v kubectl || true)}
if [ -n "$kubectl" ] && [ "$kubectl" != none ]; then
	out=$("$kubectl" patch node "$node" --type merge -p "$patch" 2>&1) ||
		die 1 "kubectl patch node $node failed: $(printf '%s' "$out" | head -n 1)"
	echo "$ME: $what"
	exit 0
fi

command -v curl >/dev/null 2>&1 || die 1 "neither kubectl nor curl is installed"
sa=${FLIGHTDECK_KUBE_SA:-/var/run/secrets/kubernetes.io/serviceaccount}
if [ -n "${FLIGHTDECK_KUBE_API:-}" ]; then
	api=$FLIGHTDECK_KUBE_API
elif [ -n "${KUBERNETES_SERVICE_HOST:-}" ]; then
	host=$KUBERNETES_SERVICE_HOST
	case $host in *:*) host="[$host]" ;; esac # an IPv6 address
	api="https://$host:${KUBERNETES_SERVICE_PORT:-443}"
else
	die 1 "no API server: KUBERNETES_SERVICE_HOST is unset (not in a pod?) and so is FLIGHTDECK_KUBE_API"
fi
[ -r "$sa/token" ] || die 1 "cannot read the service-account token $sa/token"
token=$(cat "$sa/token")
ca=
[ -r "$sa/ca.crt" ] && ca="$sa/ca.crt"
body=$(mktemp) || die 1 "cannot make a temporary file"
trap 'rm -f "$body" "$body.err"' EXIT
# the token goes to curl on stdin (a header file), never on a command line others can read
status=$(printf 'Authorization: Bearer %s\n' "$token" |
	curl -sS --max-time 30 ${ca:+--cacert "$ca"} -o "$body" -w '%{http_code}' -X PATCH \
		-H @- -H 'Content-Type: application/merge-patch+json' -H 'Accept: application/json' \
		--data-binary "$patch" "$api/api/v1/nodes/$node" 2>"$body.err") ||
	die 1 "PATCH $api/api/v1/nodes/$node failed: $(head -n 1 "$body.err")"
case $status in
2??) ;;
*)
	# the Status object's message, its escaped quotes kept
	msg=$(sed -n 's/.*"message": *"\(\([^"\\]*\\.\)*[^"\\]*\)".*/\1/p' "$body" |
		sed 's/\\"/"/g' | head -n 1)
	die 1 "PATCH $api/api/v1/nodes/$node: HTTP $status${msg:+: $msg}"
	;;
esac
echo "$ME: $what"
