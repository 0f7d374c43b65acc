#!/bin/sh
# flightdeck-healthcheck.sh - Slurm HealthCheckProgram: `flightdeck check --level quick` every
# HealthCheckInterval, within its own deadline (FLIGHTDECK_HEALTH_TIMEOUT, 45 s: slurmd kills
# the program at 60 s, and a killed check would drain nothing). Unfit: the node is drained
# with "flightdeck: CODE[,CODE] SUBJECT" (a node someone else drained keeps their reason).
# Fit: a node drained with a reason flightdeck set is resumed, so a repaired node returns by
# itself; a node drained for any other reason is never resumed. flightdeck's own failure
# (exit 2, 3, or its deadline) is logged and changes nothing: not a verdict on the node.
# Always exits 0 (the verdict is in the node's state).
#
# slurm.conf:  HealthCheckProgram=/usr/local/share/flightdeck/slurm/flightdeck-healthcheck.sh
#              HealthCheckInterval=300
#              HealthCheckNodeState=ANY,CYCLE
# Level standard runs flightdeck-gpubench too: give it a budget inside the deadline, e.g.
# FLIGHTDECK_HEALTH_ARGS="--level standard --gpubench-timeout 30s".
# Settings: flightdeck-slurm.sh (beside this file).
. "$(dirname "$0")/flightdeck-slurm.sh"

# shellcheck disable=SC2086 # the site's extra options, split on spaces
fd_check "${FLIGHTDECK_HEALTH_TIMEOUT:-45}" -- --level quick -q ${FLIGHTDECK_HEALTH_ARGS:-}
case "$FD_RC" in
0) fd_resume_ours ;;
1) fd_drain "$FD_REASON" replace ;; # every area judged: the whole verdict
*) fd_log err "$(fd_own_error "health check"): the node's state is left as it is" ;;
esac
exit 0
