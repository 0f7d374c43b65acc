# common.sh - what the cluster-init scripts beside ../scripts share (sourced, POSIX sh): the
# cluster's settings through `jetpack config`, the node's paths, and writing a file only when
# its content changes, so that a second run at the next node start changes nothing.
# docs/operators/cyclecloud.md lists the settings and the files.
#
# Every absolute path is under $FD_CC_ROOT (empty: /), so a test can run these scripts against a
# directory of its own; FD_CC_JETPACK names the jetpack to ask (a test's stand-in).

# shellcheck disable=SC2034 # what it sets is for the scripts that source it
FD_CC_ROOT=${FD_CC_ROOT:-}
FD_CC_TAG=${FD_CC_TAG:-flightdeck-cyclecloud}

# cc_log MESSAGE: to stderr (jetpack keeps each script's output in its cluster-init log) and
# syslog
cc_log() {
	echo "$FD_CC_TAG: $*" >&2
	logger -t "$FD_CC_TAG" -p daemon.notice -- "$*" 2>/dev/null || true
}
cc_die() {
	cc_log "error: $*"
	exit 1
}

# cc_config KEY DEFAULT: the cluster's setting KEY (the template's [[[configuration]]] lines),
# DEFAULT when it has none or when there is no jetpack (a node CycleCloud did not start)
cc_config() {
	cc_jp=$(cc_jetpack) || {
		printf '%s\n' "$2"
		return 0
	}
	"$cc_jp" config "$1" "$2"
}

# cc_jetpack: the jetpack command; fails where there is none
cc_jetpack() {
	if [ -n "${FD_CC_JETPACK:-}" ]; then
		echo "$FD_CC_JETPACK"
	elif command -v jetpack >/dev/null 2>&1; then
		echo jetpack
	elif [ -x /opt/cycle/jetpack/bin/jetpack ]; then
		echo /opt/cycle/jetpack/bin/jetpack
	else
		return 1
	fi
}

# cc_bool VALUE: true for the spellings a template uses for true
cc_bool() {
	case "$1" in [Tt]rue | TRUE | 1 | [Yy]es) return 0 ;; esac
	return 1
}

# cc_quote VALUE: VALUE as one single-quoted shell word
cc_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# cc_write PATH MODE < CONTENT: PATH gets CONTENT and MODE, replaced in one rename (a reader on
# another node over NFS sees the old file or the new one, never half of one), and only when
# either differs: an unchanged file, and its directory, keep their inode and times. Sets
# CC_CHANGED=1 when it wrote.
CC_CHANGED=0
cc_write() {
	cc_new=$(mktemp "${TMPDIR:-/tmp}/flightdeck-cc.XXXXXX")
	cat >"$cc_new"
	if [ -f "$1" ] && cmp -s "$cc_new" "$1" && [ "$(stat -c %a "$1")" = "$2" ]; then
		rm -f "$cc_new"
		return 0
	fi
	cc_dir=$(dirname "$1")
	mkdir -p "$cc_dir"
	cc_tmp=$(mktemp "$cc_dir/.flightdeck.XXXXXX")
	cat "$cc_new" >"$cc_tmp"
	rm -f "$cc_new"
	chmod "$2" "$cc_tmp"
	# a file someone else made (site_specific.conf is the slurm user's) keeps its owner
	[ ! -e "$1" ] || chown --reference="$1" "$cc_tmp" 2>/dev/null || true
	mv -f "$cc_tmp" "$1"
	CC_CHANGED=1
	cc_log "wrote $1"
}

# The node: its Slurm role (cyclecloud-slurm's slurm.role: scheduler, execute or login), its
# Slurm node name (cyclecloud-slurm starts slurmd with -N and CycleCloud's node name, which need
# not be the hostname), the prefix flightdeck is installed under and the files it reads there.
CC_ROLE=$(cc_config slurm.role execute)
CC_NODE=$(cc_config flightdeck.slurm.node_name "$(cc_config cyclecloud.node.name "$(hostname -s)")")
CC_PREFIX=$FD_CC_ROOT$(cc_config flightdeck.prefix /opt/flightdeck)
CC_SLURMDIR=$CC_PREFIX/share/flightdeck/slurm
CC_DEFAULTS=$FD_CC_ROOT/etc/default/flightdeck-slurm
# cyclecloud-slurm keeps the cluster's Slurm configuration in /sched/CLUSTER (shared over NFS;
# /etc/slurm/* link to it), CLUSTER being the CycleCloud cluster's name in lower case with
# every character but letters, digits and '-' made a '-'
cc_cluster=$(cc_config cyclecloud.cluster.name cluster | tr '[:upper:]' '[:lower:]' | sed 's/[^a-z0-9-]/-/g')
CC_SCHED=$(cc_config flightdeck.slurm.sched_dir "")
CC_SCHED=$FD_CC_ROOT${CC_SCHED:-/sched/$cc_cluster}
