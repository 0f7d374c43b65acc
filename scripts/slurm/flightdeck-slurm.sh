# flightdeck-slurm.sh - what the Slurm scripts beside it share (sourced, not run): settings,
# the node's name, logging, one `flightdeck check` with its drain reason, and drain/resume
# that only ever touch a node whose reason flightdeck set ("flightdeck: ..."): a node an admin
# drained keeps its reason and stays drained.
#
# Settings come from the environment or from /etc/default/flightdeck-slurm (a shell file of
# VAR=value lines; $FLIGHTDECK_SLURM_DEFAULTS names another), since slurmd starts these
# scripts with a bare environment and no arguments:
#   FLIGHTDECK_BIN       the flightdeck binary [the one installed beside these scripts, else
#                        flightdeck on PATH]
#   FLIGHTDECK_CONFIG    the thresholds [/etc/flightdeck/flightdeck.conf, when present]
#   FLIGHTDECK_PROLOG_ARGS, FLIGHTDECK_EPILOG_ARGS, FLIGHTDECK_HEALTH_ARGS
#                        more `flightdeck check` options for each script
#   FLIGHTDECK_HEALTH_TIMEOUT  the health check's own deadline, seconds [45]: Slurm kills the
#                        HealthCheckProgram at 60 s
#   SLURM_CONF           slurm.conf for scontrol, where it is not at the default path:
#                        slurmd gives a HealthCheckProgram no SLURM_CONF (a Prolog gets one)
#   FLIGHTDECK_ON_ERROR  what the Prolog does when flightdeck itself fails (exit 2: a bad
#                        config; 3: could not run): pass (log it and let the job run; the
#                        default) or drain (drain with "flightdeck: error ...")

FD_DEFAULTS=${FLIGHTDECK_SLURM_DEFAULTS:-/etc/default/flightdeck-slurm}
# shellcheck disable=SC1090 # the site's file
[ -r "$FD_DEFAULTS" ] && . "$FD_DEFAULTS"
[ -n "${FLIGHTDECK_CONFIG:-}" ] && export FLIGHTDECK_CONFIG
[ -n "${SLURM_CONF:-}" ] && export SLURM_CONF
PATH=${PATH:-/usr/bin:/bin}:/usr/sbin:/sbin:/usr/local/bin
export PATH

fd_here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${FLIGHTDECK_BIN:-}" ]; then
	# installed: $prefix/share/flightdeck/slurm/ beside $prefix/bin/flightdeck
	if [ -x "$fd_here/../../../bin/flightdeck" ]; then
		FLIGHTDECK_BIN=$fd_here/../../../bin/flightdeck
	else
		FLIGHTDECK_BIN=flightdeck
	fi
fi
FD_NODE=${SLURMD_NODENAME:-$(hostname -s)}
FD_TAG=${FD_TAG:-flightdeck-slurm}

# fd_log LEVEL MESSAGE: to syslog (daemon facility) and stderr (slurmd.log keeps a failing
# Prolog's; a health check's and an Epilog's go nowhere else)
fd_log() {
	fd_level=$1
	shift
	logger -t "$FD_TAG" -p "daemon.$fd_level" -- "$*" 2>/dev/null || true
	echo "$FD_TAG: $*" >&2
}

# fd_node_state, fd_node_reason: this node as slurmctld sees it ("IDLE+DRAIN", "flightdeck:
# IB_PORT_DOWN mlx5_3/1"); the reason is the last field of the one-line form, before its
# "[user@time]"
fd_node_line() { scontrol show node "$FD_NODE" -o 2>/dev/null; }
fd_node_state() { fd_node_line | sed -n 's/.* State=\([^ ]*\).*/\1/p'; }
fd_node_reason() { fd_node_line | sed -n 's/.* Reason=\(.*\) \[[^]]*\]$/\1/p'; }
fd_ours() { case "$1" in flightdeck:*) return 0 ;; esac; return 1; }
fd_drained() { case "$(fd_node_state)" in *DRAIN* | *FAIL*) return 0 ;; esac; return 1; }

# fd_merge_reason OLD NEW: one flightdeck reason holding both, OLD's first: "flightdeck: CODES
# SUBJECT[; CODES SUBJECT]...". NEW's codes that OLD has already are not repeated; the rest
# come with NEW's subject. Cut to 250 bytes at a group's end (Slurm keeps the reason whole).
fd_merge_reason() {
	printf '%s\n%s\n' "${1#flightdeck: }" "${2#flightdeck: }" | awk '
	NR == 1 { n = split($0, g, "; "); for (i = 1; i <= n; i++) { split(g[i], w, " "); m = split(w[1], c, ","); for (j = 1; j <= m; j++) have[c[j]] = 1 } out = $0 }
	NR == 2 {
		sp = index($0, " "); codes = sp ? substr($0, 1, sp - 1) : $0; subj = sp ? substr($0, sp) : ""
		m = split(codes, c, ","); add = ""
		for (j = 1; j <= m; j++) if (!(c[j] in have)) { add = add (add == "" ? "" : ",") c[j]; have[c[j]] = 1 }
		if (add != "" && length("flightdeck: " out "; " add subj) <= 250) out = out "; " add subj
		else if (add != "" && out == "") out = add subj
	}
	END { print "flightdeck: " out }'
}

# fd_drain REASON [replace]: drain this node, unless someone else already did (their reason
# stays). A reason flightdeck set already is kept and REASON's new codes are added to it (the
# Epilog's GPU finding must not erase the Prolog's InfiniBand one); with replace, REASON is
# the whole verdict (the health check judges every area).
fd_drain() {
	fd_was=$(fd_node_reason)
	if fd_drained && [ -n "$fd_was" ] && ! fd_ours "$fd_was"; then
		fd_log warning "$FD_NODE is already drained by someone else ($fd_was): left as it is; flightdeck found: $1"
		return 0
	fi
	fd_new=$1
	if [ "${2:-}" != replace ] && fd_drained && fd_ours "$fd_was"; then
		fd_new=$(fd_merge_reason "$fd_was" "$1")
		[ "$fd_new" = "$fd_was" ] && {
			fd_log notice "$FD_NODE is drained already for $fd_was: $1 adds nothing"
			return 0
		}
	fi
	set -- "$fd_new"
	if scontrol update nodename="$FD_NODE" state=drain reason="$1"; then
		fd_log err "drained $FD_NODE: $1"
	else
		fd_log err "could not drain $FD_NODE (scontrol update failed): $1"
		return 1
	fi
}

# fd_resume_ours: resume this node only when it is drained with a reason flightdeck set
fd_resume_ours() {
	fd_was=$(fd_node_reason)
	fd_drained && fd_ours "$fd_was" || return 0
	if scontrol update nodename="$FD_NODE" state=resume; then
		fd_log notice "resumed $FD_NODE, fit again (was: $fd_was)"
	else
		fd_log err "could not resume $FD_NODE (scontrol update failed)"
	fi
}

# fd_check [TIMEOUT] -- CHECK-ARGS...: runs flightdeck check (under `timeout` when TIMEOUT is
# given), its table logged line by line; sets FD_RC (its exit status) and FD_REASON (the
# drain reason when unfit, "" otherwise)
fd_check() {
	fd_tmo=$1
	shift 2
	fd_out=$(mktemp) && fd_rsn=$(mktemp) || {
		FD_RC=3 FD_REASON=
		fd_log err "cannot make a temporary file"
		return 0
	}
	set -- "$FLIGHTDECK_BIN" check --node "$FD_NODE" --reason-file "$fd_rsn" "$@"
	[ -n "$fd_tmo" ] && set -- timeout -k 5 "$fd_tmo" "$@"
	FD_RC=0
	"$@" >"$fd_out" 2>&1 </dev/null || FD_RC=$?
	FD_REASON=$(head -n 1 "$fd_rsn")
	while IFS= read -r fd_line; do
		logger -t "$FD_TAG" -p daemon.info -- "$fd_line" 2>/dev/null || true
	done <"$fd_out"
	[ "$FD_RC" -le 1 ] || cat "$fd_out" >&2
	rm -f "$fd_out" "$fd_rsn"
}

# fd_own_error WHAT: a sentence for flightdeck's own failure (not a verdict on the node)
fd_own_error() {
	case "$FD_RC" in
	2) echo "$1: flightdeck check refused its configuration (exit 2)" ;;
	124 | 137) echo "$1: flightdeck check did not finish within ${FLIGHTDECK_HEALTH_TIMEOUT:-45} s (exit $FD_RC)" ;;
	*) echo "$1: flightdeck check could not run (exit $FD_RC)" ;;
	esac
}
