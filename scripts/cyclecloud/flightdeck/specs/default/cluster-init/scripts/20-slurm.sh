#!/bin/sh
# 20-slurm.sh - on the scheduler node (slurm.role=scheduler), wires flightdeck's Slurm scripts
# into the Slurm configuration cyclecloud-slurm keeps in /sched/CLUSTER, which every node sees:
#
# * cyclecloud-slurm 4.x sets Prolog=/etc/slurm/prolog.d/* and Epilog=/etc/slurm/epilog.d/*
#   (links to /sched/CLUSTER/prolog.d, epilog.d) with PrologFlags=alloc, and slurmd runs every
#   script there, in reverse lexical order. Setting Prolog= again would drop the ones it puts
#   there itself (IMEX, its health agent), so flightdeck's Prolog and Epilog go in as one more
#   script each: 50-flightdeck-prolog.sh, 50-flightdeck-epilog.sh.
# * The other lines (HealthCheckProgram, its interval and node states, KillWait, RequeueExit)
#   are a fragment, /sched/CLUSTER/flightdeck/flightdeck-slurm.conf. cyclecloud-slurm 4.0.5 and
#   later end slurm.conf with `Include site_specific.conf`, a file it creates once and keeps
#   across upgrades, for the site's own lines: one `Include` of the fragment goes there. Before
#   4.0.5 there is no such file and this script changes no file of cyclecloud-slurm's: it says
#   the line to give the cluster's slurm.additional.config setting (which cyclecloud-slurm
#   appends to slurm.conf), and a cluster with no prolog.d gets Prolog=, Epilog= and
#   PrologFlags=Alloc in the fragment.
# * Slurm has one HealthCheckProgram. cyclecloud-slurm sets it to its health agent's
#   /sched/CLUSTER/health.sh when that is installed: flightdeck.slurm.healthcheck=auto (the
#   default) leaves that one in place, true replaces it, false never sets it.
#
# Each script here is a stub that runs the node's own installed copy, and passes (exit 0) on a
# node without flightdeck: a node array without this project runs its jobs unchecked. Then
# `scontrol reconfigure`, when something changed and slurmctld answers.
set -eu
. "${CYCLECLOUD_SPEC_PATH:-$(dirname "$0")/..}/files/common.sh"

case "$(cc_config flightdeck.slurm.configure auto)" in
auto) [ "$CC_ROLE" = scheduler ] || {
	cc_log "slurm.role=$CC_ROLE: the Slurm configuration is the scheduler node's to write"
	exit 0
} ;;
[Ff]alse) exit 0 ;;
esac
[ -d "$CC_SCHED" ] || cc_die "no $CC_SCHED: list flightdeck's spec after cyclecloud/slurm's, or set flightdeck.slurm.sched_dir"
fd_dir=$CC_SCHED/flightdeck
frag=$fd_dir/flightdeck-slurm.conf
work=$(mktemp -d "${TMPDIR:-/tmp}/flightdeck-cc.XXXXXX")
trap 'rm -rf "$work"' EXIT
changed=0

# put PATH MODE COMMAND...: PATH gets COMMAND's output (cc_write); changed=1 when it changed
put() {
	put_path=$1 put_mode=$2
	shift 2
	"$@" >"$work/new"
	CC_CHANGED=0
	cc_write "$put_path" "$put_mode" <"$work/new"
	[ "$CC_CHANGED" = 0 ] || changed=1
}

# stub NAME: a script that runs the node's flightdeck-NAME.sh
stub() {
	cat <<EOF
#!/bin/sh
# written by flightdeck's CycleCloud project (cluster-init 20-slurm.sh): runs this node's
# flightdeck-$1.sh (docs/operators/slurm.md); a node without flightdeck passes
s=$CC_SLURMDIR/flightdeck-$1.sh
[ -x "\$s" ] || exit 0
FLIGHTDECK_SLURM_DEFAULTS=$CC_DEFAULTS exec "\$s"
EOF
}

hc=$(cc_config flightdeck.slurm.healthcheck auto)
if [ "$hc" = auto ] && [ -x "$CC_SCHED/health.sh" ]; then
	cc_log "cyclecloud-slurm's health agent is the HealthCheckProgram ($CC_SCHED/health.sh): kept (flightdeck.slurm.healthcheck=true replaces it)"
	hc=false
fi
case "$hc" in auto) hc=true ;; *) cc_bool "$hc" && hc=true || hc=false ;; esac

if [ -d "$CC_SCHED/prolog.d" ] && [ -d "$CC_SCHED/epilog.d" ]; then
	put "$CC_SCHED/prolog.d/50-flightdeck-prolog.sh" 755 stub prolog
	put "$CC_SCHED/epilog.d/50-flightdeck-epilog.sh" 755 stub epilog
	full=false
else
	put "$fd_dir/prolog.sh" 755 stub prolog
	put "$fd_dir/epilog.sh" 755 stub epilog
	full=true
fi
[ "$hc" = false ] || put "$fd_dir/healthcheck.sh" 755 stub healthcheck

interval=$(cc_config flightdeck.slurm.health_interval 300)
fragment() {
	echo "# flightdeck's part of slurm.conf, written by its CycleCloud project (cluster-init"
	echo "# 20-slurm.sh) at each start of the scheduler node: docs/operators/cyclecloud.md"
	if [ "$full" = true ]; then
		echo "# no prolog.d here (cyclecloud-slurm before 4.0): the Prolog and Epilog themselves, the"
		echo "# Prolog run at the job's allocation on every node of it"
		echo "Prolog=$fd_dir/prolog.sh"
		echo "Epilog=$fd_dir/epilog.sh"
		echo "PrologFlags=Alloc"
	else
		echo "# the Prolog and Epilog: $CC_SCHED/prolog.d/50-flightdeck-prolog.sh and"
		echo "# epilog.d/50-flightdeck-epilog.sh, run by cyclecloud-slurm's Prolog=, Epilog= globs"
	fi
	if [ "$hc" = true ]; then
		echo "# flightdeck check --level quick every $interval s, and at slurmd's start before it"
		echo "# registers: drains an unfit node, resumes one flightdeck drained once it is fit again"
		echo "HealthCheckProgram=$fd_dir/healthcheck.sh"
		echo "HealthCheckInterval=$interval"
		echo "HealthCheckNodeState=ANY,CYCLE"
	fi
	echo "# longer than the jobs' flightdeck run --grace (60 s in flightdeck-train.sbatch)"
	echo "KillWait=90"
	echo "# flightdeck run exits 75 when a node of the job was lost: requeued"
	echo "RequeueExit=75"
}
put "$frag" 644 fragment

site=$CC_SCHED/site_specific.conf
include="Include $frag"
if [ -f "$site" ]; then
	if ! grep -qxF "$include" "$site"; then
		{
			cat "$site"
			# a file that does not end in a newline must not swallow the line
			[ -z "$(tail -c 1 "$site")" ] || echo
			echo "# flightdeck (its CycleCloud project, cluster-init 20-slurm.sh)"
			echo "$include"
		} >"$work/site"
		cc_write "$site" "$(stat -c %a "$site")" <"$work/site"
		changed=1
	fi
else
	cc_log "no $site (cyclecloud-slurm before 4.0.5): give the cluster this line in slurm.additional.config: $include"
fi

[ "$changed" = 1 ] || exit 0
if ! cc_bool "$(cc_config flightdeck.slurm.reconfigure true)"; then
	cc_log "changed; flightdeck.slurm.reconfigure=false: slurmctld reads it at its next start or reconfigure"
elif scontrol ping >/dev/null 2>&1; then
	scontrol reconfigure || cc_die "scontrol reconfigure failed: see slurmctld's log"
	cc_log "scontrol reconfigure: slurmctld has flightdeck's settings"
else
	cc_log "slurmctld does not answer yet: it reads the settings when it starts"
fi
