#!/bin/sh
# scripts/slurm/ on a real Slurm (Debian's slurm-wlm 22.05: munged, slurmctld and slurmd on
# this machine, one node, started here and stopped after): the Prolog drains an unfit node with
# "flightdeck: CODES SUBJECT" and keeps its job off it; the HealthCheckProgram resumes the node
# once the fault is gone, never resumes (nor re-reasons) a node an admin drained, and changes
# nothing when flightdeck itself fails; the Epilog drains for an Xid logged during the job. A job
# at its time limit and a cancelled one: the trainer gets SIGTERM once (Slurm's own; flightdeck
# adds none) and its save completes within --grace. The sbatch example runs as shipped with the
# demo trainer. Faults come from the fixture seams, through /etc/default/flightdeck-slurm's
# stand-in file. Skipped with the reason when the daemons cannot start.
. "$TESTS_DIR/integration/lib.sh"

D=$TMP/slurm
SD=$D
. "$TESTS_DIR/integration/slurm-lib.sh"
slurm_need
command -v srun >/dev/null 2>&1 || skip "srun is not installed (Debian: slurm-client)"
mkdir -p "$D/jobs"
NODE=$(hostname -s)
trap 'slurm_stop; pkill -9 -f "save-on-term.py $D" 2>/dev/null; rm -rf "$TMP"' EXIT
sfail() {
	slurm_dump
	echo "--- syslog stand-in"; tail -n 15 "$D/fd.log" 2>/dev/null
	fail "$@"
}

# ---- the daemons ---------------------------------------------------------------------------
slurm_munged
for x in prolog epilog healthcheck; do
	printf '#!/bin/sh\nFLIGHTDECK_SLURM_DEFAULTS=%s exec %s\n' "$D/defaults" \
		"$SRC_DIR/scripts/slurm/flightdeck-$x.sh" >"$D/$x"
	chmod +x "$D/$x"
done
{
	slurm_daemon_conf fdtest
	cat <<EOF
KillWait=15
Prolog=$D/prolog
Epilog=$D/epilog
HealthCheckProgram=$D/healthcheck
HealthCheckInterval=0
GresTypes=gpu
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$(slurm_mem) Gres=gpu:8 State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
} >"$D/slurm.conf"
# eight GPUs for the scheduler's books (files standing for /dev/nvidia0-7), so the sbatch
# example's --gpus-per-node=8 is granted as on a GPU node
for g in 0 1 2 3 4 5 6 7; do : >"$D/gpu$g"; done
echo "Name=gpu File=$D/gpu[0-7]" >"$D/gres.conf"

# What the site's /etc/default/flightdeck-slurm would hold, with the fixture seams; fd.conf is
# a link to the config of the moment (fit, unfit, broken); logger's lines go to fd.log.
FX_FIT="sysfs-root = $FIXTURES/healthy-ndr8/sys
proc-root = $FIXTURES/healthy-ndr8/proc
kmsg = $D/kmsg.log
gpubench = /nonexistent/flightdeck-gpubench"
printf '[check]\n%s\n' "$FX_FIT" >"$D/fit.conf"
printf '[check]\nsysfs-root = %s\nproc-root = %s\nkmsg = %s\n' "$FIXTURES/port-down/sys" \
	"$FIXTURES/port-down/proc" "$D/kmsg.log" >"$D/unfit.conf"
printf '[check]\nno-such-threshold = 1\n' >"$D/broken.conf"
cp "$FIXTURES/empty.log" "$D/kmsg.log"
ln -sf "$D/fit.conf" "$D/fd.conf"
mkdir -p "$D/bin"
printf '#!/bin/sh\nwhile [ $# -gt 1 ]; do shift; done\necho "$1" >>%s\n' "$D/fd.log" >"$D/bin/logger"
chmod +x "$D/bin/logger"
cat >"$D/defaults" <<EOF
FLIGHTDECK_BIN=$FLIGHTDECK
FLIGHTDECK_CONFIG=$D/fd.conf
PATH=$D/bin:/usr/bin:/bin:/usr/sbin:/sbin
# this cluster's slurm.conf is not at the default path, and slurmd gives its health check
# no SLURM_CONF (its prolog gets one): scontrol in the scripts must be told
export SLURM_CONF=$D/slurm.conf
export FLIGHTDECK_NVML_LIB=$FAKE_NVML_LIB FAKE_NVML_FIXTURE=$FAKE_NVML_FIXTURE
EOF

slurm_start
ok "a real Slurm on this machine: munged, slurmctld, slurmd; node $NODE idle"

state() { scontrol show node "$NODE" -o | sed -n 's/.* State=\([^ ]*\).*/\1/p'; }
reason() { scontrol show node "$NODE" -o | sed -n 's/.* Reason=\(.*\) \[[^]]*\]$/\1/p'; }
job() { scontrol show job "$1" -o 2>/dev/null | sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p"; }
# wait_job JOB STATE SECONDS
wait_job() {
	i=0
	until [ "$(job "$1" JobState)" = "$2" ]; do
		i=$((i + 1))
		[ $i -le $(($3 * 5)) ] || sfail "job $1 is $(job "$1" JobState) ($(job "$1" Reason)), not $2, after $3 s"
		sleep 0.2
	done
}
# wait_drained SECONDS WHAT: the node is drained within SECONDS, else WHAT fails the test
wait_drained() {
	i=0
	until state | grep -q DRAIN; do
		i=$((i + 1))
		[ $i -le $(($1 * 5)) ] || sfail "$2 (state $(state))"
		sleep 0.2
	done
}
wait_file() {
	i=0
	until [ -e "$1" ]; do
		i=$((i + 1))
		[ $i -le $(($2 * 5)) ] || sfail "no $1 after $2 s"
		sleep 0.2
	done
}
SAVER="python3 -u $TESTS_DIR/helpers/save-on-term.py"
RUN="$FLIGHTDECK run --preflight none --grace 25"
cd "$D/jobs" || fail "no $D/jobs"

# ---- a job at its time limit (1 min; slurmctld looks every 30 s), while the rest runs: the
# sbatch example's way, the agent under srun and the time limit's warning 45 s before it
# (--signal=USR1@45), which slurmstepd gives every process of the step
tl=$(sbatch --parsable --time=1 --signal=USR1@45 -o "$D/tl.out" --wrap "srun $RUN -- $SAVER $D/tl") ||
	sfail "sbatch failed"
wait_job "$tl" RUNNING 20
wait_file "$D/tl.started" 20
t_tl=$(date +%s)

# ---- scancel of a job whose agent runs under srun, as the sbatch example does ---------------
sc=$(sbatch --parsable -o "$D/sc.out" --wrap "srun $RUN -- $SAVER $D/sc") || sfail "sbatch failed"
wait_file "$D/sc.started" 20
# the time-limit warning's way (--signal=USR1@T): slurmstepd gives SIGUSR1 to every process of
# the step; flightdeck does not pass it on again, and nothing restarts
scancel --signal=USR1 "$sc"
wait_file "$D/sc.usr1" 20
sleep 1
n=$(wc -l <"$D/sc.usr1")
[ "$n" -eq 1 ] || sfail "scancel --signal=USR1: the trainer got SIGUSR1 $n times: $(cat "$D/sc.out")"
grep -q "received SIGUSR1 from slurmstepd .*not passed on again" "$D/sc.out" ||
	sfail "flightdeck does not say Slurm gave SIGUSR1 to the step itself: $(cat "$D/sc.out")"
grep -q "restart" "$D/sc.out" && sfail "SIGUSR1 restarted the job: $(cat "$D/sc.out")"
ok "scancel --signal=USR1: the trainer got SIGUSR1 once, from Slurm; supervision went on"
scancel "$sc"
wait_file "$D/sc.saved" 20
wait_job "$sc" CANCELLED 30
n=$(wc -l <"$D/sc.terms")
[ "$n" -eq 1 ] || sfail "scancel: the trainer got SIGTERM $n times: $(cat "$D/sc.out")"
grep -q "from slurmstepd .*not passed on again" "$D/sc.out" ||
	sfail "flightdeck does not say Slurm signalled the step itself: $(cat "$D/sc.out")"
ok "scancel: the trainer got SIGTERM once, from Slurm; its 4 s save completed"

# ---- torchrun between flightdeck and the trainer, under srun: what the Slurm guide says it
# does. The warning's SIGUSR1 ends torchrun (no handler): flightdeck sees a crash and restarts;
# scancel's SIGTERM reaches the worker twice (slurmstepd's and torchrun's), and its save completes.
TR_VENV_PY=
if (. "$SRC_DIR/scripts/venv.sh" && [ -x "$FD_VENV/bin/torchrun" ] && "$FD_VENV_PY" -c 'import torch') 2>/dev/null; then
	TR_TORCHRUN=$(. "$SRC_DIR/scripts/venv.sh" && echo "$FD_VENV/bin/torchrun")
	TR_VENV_PY=$(. "$SRC_DIR/scripts/venv.sh" && echo "$FD_VENV_PY")
fi
if [ -z "$TR_VENV_PY" ]; then
	echo "skipped: torchrun under Slurm: no torch in the Python environment of scripts/venv.sh (scripts/install-deps.sh makes it)"
else
	tr=$(sbatch --parsable -o "$D/tr.out" --wrap "srun $RUN --backoff 0.5 -- $TR_TORCHRUN --standalone --nproc-per-node 1 $TESTS_DIR/helpers/save-on-term.py $D/tr") ||
		sfail "sbatch failed"
	wait_file "$D/tr.rank0.started" 60
	first=$(cat "$D/tr.rank0.started")
	scancel --signal=USR1 "$tr"
	i=0
	until [ -e "$D/tr.rank0.started" ] && [ "$(cat "$D/tr.rank0.started")" != "$first" ]; do
		i=$((i + 1))
		[ $i -le 300 ] || sfail "torchrun: no relaunch after SIGUSR1 ended torchrun: $(cat "$D/tr.out")"
		sleep 0.2
	done
	grep -q "restart 1 of .*after a crash" "$D/tr.out" ||
		sfail "torchrun: SIGUSR1 did not end as the Slurm guide says (a crash, a restart): $(cat "$D/tr.out")"
	ok "torchrun under Slurm: the --signal warning ends torchrun, flightdeck restarts after a crash (as documented)"
	# the first worker got flightdeck's stop of the tree and saved before the relaunch
	rm -f "$D/tr.rank0.saved"
	n0=$(cat "$D/tr.rank0.terms" 2>/dev/null | wc -l)
	scancel "$tr"
	i=0
	until [ -e "$D/tr.rank0.saved" ]; do
		i=$((i + 1))
		[ $i -le 150 ] || sfail "torchrun: no whole save 30 s after scancel: $(cat "$D/tr.out"; ls -l "$D"/tr.*)"
		sleep 0.2
	done
	wait_job "$tr" CANCELLED 40
	n=$(($(wc -l <"$D/tr.rank0.terms") - n0))
	# two are sent; two that arrive before the worker runs again are one (a pending standard
	# signal is not queued twice), which a loaded machine shows now and then
	[ "$n" -ge 1 ] && [ "$n" -le 2 ] || sfail "torchrun: the worker got SIGTERM $n times, the Slurm guide says 2 (or 1): $(cat "$D/tr.out")"
	grep -q "closing signal SIGTERM" "$D/tr.out" ||
		sfail "torchrun: torchrun passed on no SIGTERM of its own: $(cat "$D/tr.out")"
	ok "torchrun under Slurm: scancel sends the worker two SIGTERMs (slurmstepd's, torchrun's; it saw $n), as documented; its save completed ($(cat "$D/tr.rank0.saved") s)"
fi

# ---- the Prolog: an unfit node is drained with the codes, the job kept off it ---------------
ln -sf "$D/unfit.conf" "$D/fd.conf"
bad=$(sbatch --parsable -o /dev/null --wrap true) || sfail "sbatch failed"
wait_drained 20 "the failing prolog did not drain the node"
r=$(reason)
[ "$r" = "flightdeck: IB_PHYS_DOWN,IB_PORT_DOWN mlx5_3/1" ] ||
	sfail "the drain reason is '$r', not flightdeck's codes"
ok "Prolog, port down: node drained with reason '$r'"
i=0
until [ "$(job "$bad" JobState)" = PENDING ] && job "$bad" Reason | grep -q 'held'; do
	i=$((i + 1))
	[ $i -le 100 ] || sfail "job $bad: $(job "$bad" JobState) ($(job "$bad" Reason)), not requeued held"
	sleep 0.2
done
[ ! -e "$D/bad.ran" ] || sfail "the job ran on the unfit node"
ok "Prolog: the sbatch job did not run; it is requeued held ($(job "$bad" Reason))"
scancel "$bad"

# ---- the Epilog on a node flightdeck drained already: its codes join the Prolog's -----------
echo "[99995.000000] NVRM: Xid (PCI:0000:3b:00): 79, pid=1, name=python, GPU has fallen off the bus." >"$D/kmsg.log"
"$D/epilog" 2>"$TMP/ep.err" || sfail "the epilog exited non-zero: $(cat "$TMP/ep.err")"
r=$(reason)
[ "$r" = "flightdeck: IB_PHYS_DOWN,IB_PORT_DOWN mlx5_3/1; GPU_XID_FATAL 0000:3b:00" ] ||
	sfail "the epilog's reason replaced or lost the prolog's: '$r'"
"$D/epilog" 2>"$TMP/ep.err" || sfail "the epilog exited non-zero: $(cat "$TMP/ep.err")"
[ "$(reason)" = "$r" ] || sfail "a second epilog with the same finding changed the reason: '$(reason)'"
cp "$FIXTURES/empty.log" "$D/kmsg.log"
ok "Epilog after the Prolog: the reason keeps the InfiniBand codes and adds the Xid ('$r')"

# ---- the health check: fault still there, then repaired -------------------------------------
"$D/healthcheck" 2>"$TMP/hc.err" || sfail "the health check exited non-zero: $(cat "$TMP/hc.err")"
state | grep -q DRAIN || sfail "the health check resumed a node that is still unfit"
ln -sf "$D/fit.conf" "$D/fd.conf"
"$D/healthcheck" 2>"$TMP/hc.err" || sfail "the health check exited non-zero: $(cat "$TMP/hc.err")"
state | grep -q DRAIN && sfail "the health check did not resume the repaired node: $(state) ($(reason))"
grep -q "resumed $NODE, fit again (was: flightdeck: IB_PHYS_DOWN" "$D/fd.log" ||
	sfail "the resume was not logged: $(cat "$D/fd.log")"
ok "HealthCheckProgram: the node stays drained while unfit, resumed once repaired ($(state))"

# ---- an admin's drain is theirs ---------------------------------------------------------------
scontrol update nodename="$NODE" state=drain reason="fan replaced, burn-in (admin)"
"$D/healthcheck" 2>/dev/null
[ "$(reason)" = "fan replaced, burn-in (admin)" ] && state | grep -q DRAIN ||
	sfail "fit: the health check touched an admin's drain: $(state) ($(reason))"
ln -sf "$D/unfit.conf" "$D/fd.conf"
"$D/healthcheck" 2>/dev/null
[ "$(reason)" = "fan replaced, burn-in (admin)" ] ||
	sfail "unfit: the health check replaced an admin's reason with '$(reason)'"
grep -q "already drained by someone else (fan replaced" "$D/fd.log" ||
	sfail "the health check did not log why it left the node alone: $(tail -n 3 "$D/fd.log")"
scontrol update nodename="$NODE" state=resume
ok "an admin's drain is never resumed nor re-reasoned by the health check"

# ---- flightdeck's own failure is no verdict ----------------------------------------------------
ln -sf "$D/broken.conf" "$D/fd.conf"
"$D/healthcheck" 2>/dev/null
state | grep -q DRAIN && sfail "a broken config drained the node: $(reason)"
grep -q "health check: flightdeck check refused its configuration (exit 2)" "$D/fd.log" ||
	sfail "the health check did not log flightdeck's own error: $(tail -n 3 "$D/fd.log")"
ok "HealthCheckProgram: flightdeck's own error (exit 2) is logged, the node left as it is"

# ---- the Epilog: an Xid during the job drains; the Xid from before it did not ----------------
ln -sf "$D/fit.conf" "$D/fd.conf"
# the fixture's clock: uptime 100000 s; an Xid 79 26 h before (outside the prolog's 24 h), one during the job
echo "[5000.000000] NVRM: Xid (PCI:0000:3a:00): 79, pid=1, name=python, GPU has fallen off the bus." >"$D/kmsg.log"
# the batch script starts after the Prolog has finished (RUNNING may be said before it has, and
# a Prolog run late under load would see the Xid meant for the Epilog): wait for the script
ep=$(sbatch --parsable -o /dev/null --wrap "touch $D/ep.started; sleep 2") || sfail "sbatch failed"
wait_job "$ep" RUNNING 60 # a loaded slurmd may be marked not responding a while
for _ in $(seq 200); do [ -e "$D/ep.started" ] && break; sleep 0.1; done
[ -e "$D/ep.started" ] || sfail "the epilog test's job never started its script"
echo "[99995.000000] NVRM: Xid (PCI:0000:3b:00): 79, pid=1, name=python, GPU has fallen off the bus." >>"$D/kmsg.log"
wait_job "$ep" COMPLETED 30
wait_drained 10 "the epilog did not drain the node after an Xid during the job"
case "$(reason)" in
"flightdeck: GPU_XID_FATAL 0000:3b:00"*) ;;
*) sfail "the epilog's reason is '$(reason)', not the job's Xid" ;;
esac
ok "Epilog: an Xid 79 during the job drains the node ($(reason)); the older one did not count"
cp "$FIXTURES/empty.log" "$D/kmsg.log"
"$D/healthcheck" 2>/dev/null
state | grep -q DRAIN && sfail "the health check did not resume after the Xid was cleared (reboot)"

# ---- the sbatch example, as shipped, on the demo trainer ------------------------------------
# the installed copy (cmake --install into a prefix of its own), found binary and all: no
# FLIGHTDECK= given
cmake --install "$BUILD_DIR" --prefix "$D/prefix" >"$D/install.log" 2>&1 ||
	sfail "cmake --install failed: $(tail -n 5 "$D/install.log")"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	SB=$D/prefix/share/flightdeck/slurm/flightdeck-train.sbatch
	[ -x "$SB" ] || sfail "the installed sbatch example is not executable"
	ex=$(TRAIN="$SRC_DIR/scripts/demo/train.py" TRAIN_ARGS="--steps 12 --out $D/ex.sha" \
		CKPT_DIR="$D/ckpt" GPUS_PER_NODE=2 PYTHON=/usr/bin/python3 \
		FLIGHTDECK_ARGS="--stall-timeout 5m" \
		FLIGHTDECK_CONFIG="$D/fit.conf" FLIGHTDECK_NVML_LIB=$FAKE_NVML_LIB \
		sbatch --parsable --nodes=1 "$SB") ||
		sfail "sbatch of the example failed"
	i=0
	while :; do
		st=$(job "$ex" JobState)
		case "$st" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL) break ;; esac
		i=$((i + 1))
		[ $i -le 450 ] || sfail "the example job is still $st after 90 s: $(tail -n 20 "$D/jobs/train-$ex.out")"
		sleep 0.2
	done
	[ "$st" = COMPLETED ] && [ -s "$D/ex.sha" ] ||
		sfail "the example job ended $st ($(job "$ex" ExitCode)): $(tail -n 20 "$D/jobs/train-$ex.out")"
	grep -q "launch 1: 2 ranks" "$D/jobs/train-$ex.out" ||
		sfail "the example did not start 2 ranks itself: $(tail -n 20 "$D/jobs/train-$ex.out")"
	[ -s "/tmp/flightdeck-$ex.0.jsonl" ] || sfail "no events file /tmp/flightdeck-$ex.0.jsonl"
	rm -f "/tmp/flightdeck-$ex.0.jsonl"
	ok "the installed sbatch example ran the demo trainer to the end (2 ranks started by flightdeck, its own binary found)"
else
	echo "skipped: the sbatch example needs torch (Debian: python3-torch)"
fi

# ---- slurmd itself runs the health check (its own environment, its interval), while the ----
# ---- time-limited job still runs -----------------------------------------------------------
state | grep -q DRAIN && sfail "the node is drained before slurmd's health check: $(reason)"
ln -sf "$D/unfit.conf" "$D/fd.conf"
sed -i 's/^HealthCheckInterval=0$/HealthCheckInterval=2/' "$D/slurm.conf"
scontrol reconfigure || sfail "scontrol reconfigure failed"
wait_drained 30 "slurmd's own run of the health check did not drain the unfit node"
case "$(reason)" in flightdeck:*) ;; *) sfail "slurmd's health check drained with '$(reason)'" ;; esac
ln -sf "$D/fit.conf" "$D/fd.conf"
i=0
while state | grep -q DRAIN; do
	i=$((i + 1))
	[ $i -le 150 ] || sfail "slurmd's own run of the health check did not resume the repaired node"
	sleep 0.2
done
sed -i 's/^HealthCheckInterval=2$/HealthCheckInterval=0/' "$D/slurm.conf"
scontrol reconfigure
ok "slurmd runs the health check itself (HealthCheckInterval=2): drained while unfit, resumed once repaired"

# ---- the time limit: the whole grace, the save completes ---------------------------------------
wait_file "$D/tl.saved" 120
wait_job "$tl" TIMEOUT 30
# Slurm itself sends the step's ranks SIGTERM twice at the time limit under srun: slurmstepd's
# own, and srun's forward of the one the batch step got; flightdeck passes on neither
n=$(wc -l <"$D/tl.terms")
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || sfail "time limit: the trainer got SIGTERM $n times: $(cat "$D/tl.out")"
grep -q "received SIGTERM from slurmstepd .*not passed on again" "$D/tl.out" ||
	sfail "time limit: flightdeck does not say Slurm signalled the step itself: $(cat "$D/tl.out")"
grep "SIGTERM" "$D/tl.out" | grep -v -q "not passed on again\|the same request" &&
	sfail "time limit: flightdeck passed a SIGTERM on: $(cat "$D/tl.out")"
n=$(cat "$D/tl.usr1" 2>/dev/null | wc -l)
[ "$n" -eq 1 ] || sfail "time limit: the trainer got the --signal=USR1@45 warning $n times: $(cat "$D/tl.out")"
grep -q "received SIGUSR1 from slurmstepd .*not passed on again" "$D/tl.out" ||
	sfail "time limit: flightdeck does not say Slurm gave the warning to the step itself: $(cat "$D/tl.out")"
grep -q "restart [0-9]* of" "$D/tl.out" && sfail "time limit: the warning restarted the job: $(cat "$D/tl.out")"
ok "time limit after $(($(date +%s) - t_tl)) s: the trainer got the USR1@45 warning once, from Slurm, nothing restarted; then SIGTERM ($n from Slurm, none from flightdeck), its save completed ($(cat "$D/tl.saved") s)"

# ---- the installed slurm.conf fragment, included with one line: the real slurmctld takes it --
FRAG=$D/prefix/share/flightdeck/slurm/flightdeck-slurm.conf
[ -s "$FRAG" ] || sfail "cmake --install did not install flightdeck-slurm.conf"
grep -q "^Prolog=$D/prefix/share/flightdeck/slurm/flightdeck-prolog.sh\$" "$FRAG" ||
	sfail "the installed fragment does not name the installed Prolog: $(grep Prolog= "$FRAG")"
sed -i '/^Prolog=/d; /^Epilog=/d; /^HealthCheckProgram=/d; /^HealthCheckInterval=/d; /^KillWait=/d' "$D/slurm.conf"
echo "Include $FRAG" >>"$D/slurm.conf"
scontrol reconfigure || sfail "slurmctld refused the slurm.conf that includes the fragment: $(tail -n 5 "$D/slurmctld.log")"
scontrol show config >"$D/config" 2>&1 || sfail "scontrol show config failed"
for kv in "Prolog *= $D/prefix/share/flightdeck/slurm/flightdeck-prolog.sh" \
	"Epilog *= $D/prefix/share/flightdeck/slurm/flightdeck-epilog.sh" \
	"HealthCheckProgram *= $D/prefix/share/flightdeck/slurm/flightdeck-healthcheck.sh" \
	"HealthCheckInterval *= 300 sec" "HealthCheckNodeState *= CYCLE,ANY" "KillWait *= 90 sec" \
	"RequeueExit *= 75"; do
	grep -q "^$kv\$" "$D/config" || sfail "slurmctld's configuration lacks '$kv': $(grep -E 'Prolog|Epilog|HealthCheck|KillWait|RequeueExit' "$D/config")"
done
ok "one Include line of the installed fragment gives slurmctld the Prolog, Epilog, health check, KillWait and RequeueExit"

slurm_stop
[ -z "$(our_stepds)" ] || fail "slurmstepd processes of the test's jobs outlived the daemons: $(our_stepds)"
ok "the daemons and every job's step daemon are gone"
