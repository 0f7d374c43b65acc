#!/bin/sh
# flightdeck-prolog.sh - Slurm Prolog: `flightdeck check --level quick` before every job on the
# node. Unfit: the node is drained with "flightdeck: CODE[,CODE] SUBJECT" (slurmctld keeps a
# reason already set, so the codes show in `sinfo -R` instead of "Prolog error") and the
# prolog exits 1, so the job does not start here: an sbatch job is requeued held (release it
# with `scontrol release JOBID`), an srun job fails. flightdeck's own failure (exit 2 or 3)
# is logged and, unless FLIGHTDECK_ON_ERROR=drain, the job runs: a broken config must not
# drain the whole cluster.
#
# slurm.conf:  Prolog=/usr/local/share/flightdeck/slurm/flightdeck-prolog.sh
# Settings: flightdeck-slurm.sh (beside this file).
. "$(dirname "$0")/flightdeck-slurm.sh"

# shellcheck disable=SC2086 # the site's extra options, split on spaces
fd_check "" -- --level quick -q ${FLIGHTDECK_PROLOG_ARGS:-}
case "$FD_RC" in
0) exit 0 ;;
1)
	fd_drain "$FD_REASON"
	exit 1
	;;
esac
msg=$(fd_own_error "prolog for job ${SLURM_JOB_ID:-?}")
if [ "${FLIGHTDECK_ON_ERROR:-pass}" = drain ]; then
	fd_drain "flightdeck: error (exit $FD_RC) in the prolog"
	fd_log err "$msg: drained (FLIGHTDECK_ON_ERROR=drain)"
	exit 1
fi
fd_log err "$msg: the job runs unchecked (FLIGHTDECK_ON_ERROR=pass)"
exit 0
