#!/bin/sh
# flightdeck-epilog.sh - Slurm Epilog: after every job, the GPUs again: processes still holding
# GPU memory after the job's own are gone (GPU_BUSY: a stuck CUDA context the next job would
# meet) and fatal Xids logged since the job started (the Xid window is the job's age, so an
# Xid the node had before it warns instead). Unfit: the node is drained with "flightdeck:
# CODE[,CODE] SUBJECT" and the epilog exits 0 (the node is drained already; a failing Epilog
# would only replace the reason with "Epilog error"). flightdeck's own failure is logged.
#
# slurm.conf:  Epilog=/usr/local/share/flightdeck/slurm/flightdeck-epilog.sh
# Settings: flightdeck-slurm.sh (beside this file).
. "$(dirname "$0")/flightdeck-slurm.sh"

# the job's start: Slurm 23.02+ gives it; older ones through scontrol; else a day
start=${SLURM_JOB_START_TIME:-}
if [ -z "$start" ] && [ -n "${SLURM_JOB_ID:-}" ]; then
	t=$(scontrol show job "$SLURM_JOB_ID" -o 2>/dev/null | sed -n 's/.* StartTime=\([^ ]*\).*/\1/p')
	[ -n "$t" ] && start=$(date -d "$t" +%s 2>/dev/null)
fi
now=$(date +%s)
case "$start" in
'' | *[!0-9]*) window=24h ;;
*) window=$((now - start + 60))s ;; # a minute of slack for the clock and the log
esac

# shellcheck disable=SC2086 # the site's extra options, split on spaces
fd_check "" -- --level quick --only gpu --xid-window "$window" -q ${FLIGHTDECK_EPILOG_ARGS:-}
case "$FD_RC" in
0) ;;
1) fd_drain "$FD_REASON" ;;
*) fd_log err "$(fd_own_error "epilog for job ${SLURM_JOB_ID:-?}"): the node was not judged" ;;
esac
exit 0
