#!/bin/sh
# 30-node-check.sh - on a compute node (slurm.role=execute), `flightdeck check --level quick`
# (plus flightdeck.node_check.args) once at node start, so that a bad VM takes no job: unfit,
# the node is drained with "flightdeck: CODE[,CODE] SUBJECT", the reason the Slurm scripts give
# (docs/operators/slurm.md); fit, a drain flightdeck set before (the VM's last life) is resumed.
# CycleCloud's own hooks do not fit this: its Node Health Checks run only the checks built
# into the AzureHPC images, and its HealthCheck (scripts in $JETPACK_HOME/config/healthcheck.d,
# every 10 minutes) can only terminate the VM, and need not run before the node takes jobs.
#
# flightdeck.node_check=false skips it. flightdeck.node_check.on_unfit=fail also fails this
# script, so that CycleCloud marks the node's software installation failed (not tried on a real
# CycleCloud: what it does then, see docs/operators/cyclecloud.md); drain (the default) fails it
# only when the node could not be drained. flightdeck's own failure (exit 2: its config; 3: it
# could not run) is logged and fails nothing: it is not a verdict on the node.
set -eu
. "${CYCLECLOUD_SPEC_PATH:-$(dirname "$0")/..}/files/common.sh"

[ "$CC_ROLE" = execute ] || exit 0
cc_bool "$(cc_config flightdeck.node_check true)" || {
	cc_log "flightdeck.node_check=false: no check at node start"
	exit 0
}
on_unfit=$(cc_config flightdeck.node_check.on_unfit drain)
case "$on_unfit" in drain | fail) ;; *) cc_die "flightdeck.node_check.on_unfit is drain or fail, not '$on_unfit'" ;; esac
lib=$CC_SLURMDIR/flightdeck-slurm.sh
[ -r "$lib" ] || cc_die "no $lib: flightdeck is not installed (00-install.sh)"

# the Slurm scripts' own part: the settings file, fd_check, fd_drain, fd_resume_ours
# shellcheck disable=SC2034 # read by the sourced file
FLIGHTDECK_SLURM_DEFAULTS=$CC_DEFAULTS SLURMD_NODENAME=$CC_NODE FD_TAG=$FD_CC_TAG
# shellcheck disable=SC1090 # the installed copy
. "$lib"

args=$(cc_config flightdeck.node_check.args "")
# shellcheck disable=SC2086 # the site's extra options, split on spaces
fd_check "" -- --level quick -q $args
case "$FD_RC" in
0)
	cc_log "$FD_NODE is fit"
	fd_resume_ours
	;;
1)
	# every area judged: the whole verdict, as the health check's
	if ! fd_drain "$FD_REASON" replace; then
		cc_die "$FD_NODE is unfit ($FD_REASON) and could not be drained"
	fi
	[ "$on_unfit" = drain ] || cc_die "$FD_NODE is unfit: $FD_REASON (flightdeck.node_check.on_unfit=fail)"
	;;
*) cc_log "$(fd_own_error "node-start check"): the node's state is left as it is" ;;
esac
