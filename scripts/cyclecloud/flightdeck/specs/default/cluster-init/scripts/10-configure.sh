#!/bin/sh
# 10-configure.sh - the settings file of flightdeck's Slurm scripts, /etc/default/flightdeck-slurm
# (slurmd starts them with a bare environment; docs/operators/slurm.md), written from the
# cluster's flightdeck.* settings at every node start, and the thresholds file: the project's
# files/flightdeck.conf, when it ships one, becomes /etc/flightdeck/flightdeck.conf.
set -eu
. "${CYCLECLOUD_SPEC_PATH:-$(dirname "$0")/..}/files/common.sh"
spec=${CYCLECLOUD_SPEC_PATH:-$(dirname "$0")/..}

# flightdeck.config: a thresholds file elsewhere (a shared filesystem); a path on the node
config=$(cc_config flightdeck.config "")
if [ -f "$spec/files/flightdeck.conf" ]; then
	cc_write "$FD_CC_ROOT/etc/flightdeck/flightdeck.conf" 644 <"$spec/files/flightdeck.conf"
	config=${config:-$FD_CC_ROOT/etc/flightdeck/flightdeck.conf}
fi

# line VAR SETTING: VAR=value for a setting the cluster gives, nothing for one it does not
line() {
	v=$(cc_config "$2" "")
	[ -z "$v" ] || echo "$1=$(cc_quote "$v")"
}
{
	echo "# written by flightdeck's CycleCloud project (cluster-init 10-configure.sh) at each node"
	echo "# start, from the cluster's flightdeck.* settings: change those, not this file"
	echo "FLIGHTDECK_BIN=$(cc_quote "$CC_PREFIX/bin/flightdeck")"
	[ -z "$config" ] || echo "FLIGHTDECK_CONFIG=$(cc_quote "$config")"
	line FLIGHTDECK_PROLOG_ARGS flightdeck.prolog_args
	line FLIGHTDECK_EPILOG_ARGS flightdeck.epilog_args
	line FLIGHTDECK_HEALTH_ARGS flightdeck.health_args
	line FLIGHTDECK_HEALTH_TIMEOUT flightdeck.health_timeout
	line FLIGHTDECK_ON_ERROR flightdeck.on_error
	line SLURM_CONF flightdeck.slurm_conf
	# the node's Slurm name for scontrol, where slurmd does not say it (SLURMD_NODENAME)
	echo "SLURMD_NODENAME=\${SLURMD_NODENAME:-$(cc_quote "$CC_NODE")}"
	extra=$(cc_config flightdeck.defaults_extra "")
	[ -z "$extra" ] || printf '%s\n' "# flightdeck.defaults_extra" "$extra"
} | cc_write "$CC_DEFAULTS" 644
