# slurm-lib.sh - a real Slurm on this machine for a test (sourced after lib.sh, POSIX sh):
# munged, slurmctld and slurmd started from $SD (a directory of the test's own; slurm.conf is
# $SD_CONF where the test names one, else $SD/slurm.conf), on ports of their own (a test beside
# it under ctest -j has its own), stopped on exit with every step daemon of the test's jobs.
# Skips when the daemons are not installed or do not start. t0200 and t0214 use it.
#
#   SD=$TMP/slurm; . "$TESTS_DIR/integration/slurm-lib.sh"
#   slurm_need; slurm_munged; { slurm_daemon_conf CLUSTER; echo "NodeName=..."; } >"$SLURM_CONF"
#   slurm_start [SLURMD-OPTIONS...]; ...; slurm_stop

: "${SD:?SD must name the Slurm directory of the test}"
mkdir -p "$SD/state" "$SD/spool"
chmod 700 "$SD"
# slurm.conf: $SD_CONF where the test says, else $SD/slurm.conf (never one of the environment)
export SLURM_CONF="${SD_CONF:-$SD/slurm.conf}"

slurm_need() {
	[ "$(id -u)" -eq 0 ] || skip "not root: slurmd and munged run as root here"
	for b in munged slurmctld slurmd sbatch scontrol sinfo; do
		command -v "$b" >/dev/null 2>&1 || skip "$b is not installed (Debian: slurmctld slurmd slurm-client munge)"
	done
}

# our_stepds: the test's slurmstepds (their working directory is under $SD, the spool)
our_stepds() {
	for p in $(pgrep -x slurmstepd); do
		case "$(readlink "/proc/$p/cwd" 2>/dev/null)" in "$SD"/*) echo "$p" ;; esac
	done
}
slurm_stop() {
	# a step daemon still reporting its job's end waits for slurmd forever once it is gone
	i=0
	while [ -n "$(our_stepds)" ] && [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.2
	done
	for p in $(our_stepds); do kill -9 "$p" 2>/dev/null; done
	[ -e "$SD/slurmctld.pid" ] && scontrol shutdown >/dev/null 2>&1
	for f in slurmctld slurmd munged; do
		p=$(cat "$SD/$f.pid" 2>/dev/null) && kill "$p" 2>/dev/null
	done
	sleep 0.5
	for f in slurmctld slurmd munged; do
		p=$(cat "$SD/$f.pid" 2>/dev/null) && kill -9 "$p" 2>/dev/null
	done
	for p in $(our_stepds); do kill -9 "$p" 2>/dev/null; done
	return 0
}
trap 'slurm_stop; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP

slurm_munged() {
	head -c 1024 /dev/urandom >"$SD/munge.key"
	chmod 400 "$SD/munge.key"
	munged -f --key-file="$SD/munge.key" --socket="$SD/munge.sock" --log-file="$SD/munged.log" \
		--pid-file="$SD/munged.pid" --seed-file="$SD/munged.seed" 2>"$TMP/err" ||
		skip "munged does not start: $(cat "$TMP/err")"
}

slurm_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# slurm_mem: half this machine's memory, in MB, for a node's RealMemory
slurm_mem() { awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo; }

# slurm_daemon_conf CLUSTER: the slurm.conf lines of the daemons themselves, the controller on
# this machine; the test adds its nodes, partitions and scripts
slurm_daemon_conf() {
	cat <<EOF
ClusterName=$1
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$(slurm_port)
SlurmdPort=$(slurm_port)
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$SD/state
SlurmdSpoolDir=$SD/spool
SlurmctldPidFile=$SD/slurmctld.pid
SlurmdPidFile=$SD/slurmd.pid
SlurmctldLogFile=$SD/slurmctld.log
SlurmdLogFile=$SD/slurmd.log
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SD/munge.sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
MinJobAge=600
EOF
}

# slurm_start [SLURMD-OPTIONS...]: slurmctld and slurmd on $SLURM_CONF; waits for a node idle
slurm_start() {
	slurmctld -c -f "$SLURM_CONF" 2>"$TMP/err" || skip "slurmctld does not start: $(cat "$TMP/err")"
	slurmd -f "$SLURM_CONF" "$@" 2>"$TMP/err" || skip "slurmd does not start: $(cat "$TMP/err")"
	i=0
	until sinfo -h -N -o '%T' 2>/dev/null | grep -q '^idle'; do
		i=$((i + 1))
		[ $i -le 100 ] || skip "the node never came up idle: $(sinfo -h -N -o '%T %E' 2>&1; tail -n 5 "$SD/slurmd.log")"
		sleep 0.2
	done
}

# slurm_dump: what a failure shows
slurm_dump() {
	echo "--- sinfo"; sinfo -N -o '%N %T %E' 2>&1
	echo "--- squeue"; squeue -o '%i %T %r' 2>&1
	echo "--- slurmctld.log"; tail -n 15 "$SD/slurmctld.log"
	echo "--- slurmd.log"; tail -n 25 "$SD/slurmd.log"
}
