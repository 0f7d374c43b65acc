#!/bin/sh
# scripts/cyclecloud/: flightdeck's Azure CycleCloud project. Its project.ini is an INI file with
# what CycleCloud reads ([project] name, type, version; [blobs] Files), its spec the layout
# CycleCloud runs (specs/default/cluster-init/scripts/NN-*.sh, executable, sh -n clean). Then the
# cluster-init scripts, as the scheduler node and as a compute node, against a directory laid
# out as cyclecloud-slurm 4.x leaves a node (/sched/CLUSTER with slurm.conf, site_specific.conf,
# prolog.d, epilog.d; /etc/slurm linking to them), with a stand-in jetpack answering `jetpack
# config` and `jetpack download`, on a real Slurm (Debian's 22.05) whose slurm.conf is
# cyclecloud-slurm's own form (Prolog=.../prolog.d/*, PrologFlags=alloc, Include
# site_specific.conf) and whose node's Slurm name is not the hostname (slurmd -N, as
# cyclecloud-slurm starts it): slurmctld takes the settings, the node-start check drains an unfit
# node with flightdeck's reason, the Prolog runs from prolog.d beside another one, and a second
# run of every script changes no file. This is no CycleCloud: jetpack, the locker and the node's
# life are stand-ins (docs/operators/cyclecloud.md says what has not been tried).
. "$TESTS_DIR/integration/lib.sh"

P=$SRC_DIR/scripts/cyclecloud/flightdeck
SPEC=$P/specs/default/cluster-init

# ---- the project: ini, layout, scripts ---------------------------------------------------------
python3 - "$P/project.ini" >"$TMP/ini" 2>&1 <<'EOF' || fail "project.ini: $(cat "$TMP/ini")"
import configparser, re, sys
c = configparser.ConfigParser()
with open(sys.argv[1]) as f:
    c.read_file(f)
p = c["project"]
for k in ("name", "type", "version"):
    assert p.get(k), "[project] has no " + k
assert p["name"] == "flightdeck", p["name"]
assert p["type"] in ("application", "scheduler"), p["type"]
assert re.fullmatch(r"\d+\.\d+\.\d+", p["version"]), p["version"]
assert c["blobs"]["Files"].strip() == "flightdeck-bundle.tar.gz", c["blobs"]["Files"]
print(p["version"])
EOF
ok "project.ini parses: [project] name=flightdeck, type, version $(cat "$TMP/ini"); [blobs] the bundle"
grep -q "^version = $(cat "$TMP/ini")\$" "$P/project.ini" || fail "version line"
[ "$(cat "$TMP/ini")" = "$("$FLIGHTDECK" version | sed -n 's/^flightdeck \([0-9.]*\).*/\1/p')" ] ||
	fail "project.ini's version $(cat "$TMP/ini") is not flightdeck's ($("$FLIGHTDECK" version))"
grep -q "flightdeck:default:$(cat "$TMP/ini")" "$SRC_DIR/docs/operators/cyclecloud.md" ||
	fail "docs/operators/cyclecloud.md does not attach flightdeck:default:$(cat "$TMP/ini")"
[ -f "$SPEC/files/common.sh" ] || fail "no specs/default/cluster-init/files/common.sh"
n=0
for s in "$SPEC"/scripts/*; do
	b=$(basename "$s")
	case "$b" in [0-9][0-9]-*.sh) ;; *) fail "cluster-init/scripts/$b: not NN-name.sh (CycleCloud runs .sh files, in lexical order)" ;; esac
	[ -x "$s" ] || fail "$b is not executable"
	head -n 1 "$s" | grep -qx '#!/bin/sh' || fail "$b does not start with #!/bin/sh"
	grep -qx 'set -eu' "$s" || fail "$b has no set -eu"
	sh -n "$s" || fail "$b: sh -n"
	n=$((n + 1))
done
sh -n "$SPEC/files/common.sh" || fail "common.sh: sh -n"
sh -n "$SRC_DIR/scripts/cyclecloud/bundle.sh" || fail "bundle.sh: sh -n"
[ "$n" -eq 4 ] || fail "expected 4 cluster-init scripts, found $n"
ok "layout: specs/default/cluster-init/{scripts,files}, $n scripts NN-*.sh, executable, set -eu, sh -n clean"

# the rest needs root (the daemons; cmake --install writes into the build directory)
SD=$TMP/slurm
R=$TMP/root # the nodes' /
C=$R/sched/fdcc
NODE=fdcc-hpc-1 # CycleCloud's node name, slurmd -N; not this machine's hostname
SD_CONF=$R/etc/slurm/slurm.conf
. "$TESTS_DIR/integration/slurm-lib.sh"
slurm_need

# ---- the bundle, as an operator makes it ------------------------------------------------------
cp -r "$P" "$TMP/project"
sh "$SRC_DIR/scripts/cyclecloud/bundle.sh" "$BUILD_DIR" "$TMP/project" >"$TMP/out" 2>"$TMP/err" ||
	fail "bundle.sh failed"
B=$TMP/project/blobs/flightdeck-bundle.tar.gz
tar -tzf "$B" | grep -qx './bin/flightdeck' && tar -tzf "$B" | grep -qx './share/flightdeck/slurm/flightdeck-prolog.sh' ||
	fail "the bundle lacks bin/flightdeck or share/flightdeck/slurm/: $(tar -tzf "$B" | head)"
ok "bundle.sh: blobs/flightdeck-bundle.tar.gz ($(tar -tzf "$B" | wc -l) entries)"

# ---- a real Slurm laid out as cyclecloud-slurm 4.x leaves it ----------------------------------
mkdir -p "$C/prolog.d" "$C/epilog.d" "$R/etc/slurm" "$SD/bin" "$SD/jp"
{
	slurm_daemon_conf fdcc
	cat <<EOF
KillWait=15
# cyclecloud-slurm 4.x's own lines (its slurm.conf.template), the health agent absent
Prolog=$R/etc/slurm/prolog.d/*
Epilog=$R/etc/slurm/epilog.d/*
PrologFlags=alloc
HealthCheckInterval=0
HealthCheckNodeState=ANY
HealthCheckProgram=""
NodeName=$NODE NodeHostname=$(hostname -s) NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$(slurm_mem) State=UNKNOWN
PartitionName=hpc Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
Include site_specific.conf
EOF
} >"$C/slurm.conf"
echo "# site specific slurm configuration. This is preserved during upgrades" >"$C/site_specific.conf"
# a prolog cyclecloud-slurm puts there itself (IMEX's, 90-): it must still run
printf '#!/bin/sh\necho "$SLURM_JOB_ID" >>%s\n' "$SD/imex.ran" >"$C/prolog.d/90-imex_prolog.sh"
chmod 755 "$C/prolog.d/90-imex_prolog.sh"
for f in slurm.conf site_specific.conf prolog.d epilog.d; do ln -s "$C/$f" "$R/etc/slurm/$f"; done

# the fixture seams (as t0200): fd.conf links to the config of the moment; logger's lines to fd.log
printf '[check]\nsysfs-root = %s\nproc-root = %s\nkmsg = %s\ngpubench = /nonexistent/flightdeck-gpubench\n' \
	"$FIXTURES/healthy-ndr8/sys" "$FIXTURES/healthy-ndr8/proc" "$FIXTURES/empty.log" >"$SD/fit.conf"
printf '[check]\nsysfs-root = %s\nproc-root = %s\nkmsg = %s\n' "$FIXTURES/port-down/sys" \
	"$FIXTURES/port-down/proc" "$FIXTURES/empty.log" >"$SD/unfit.conf"
ln -sf "$SD/fit.conf" "$SD/fd.conf"
printf '#!/bin/sh\nwhile [ $# -gt 1 ]; do shift; done\necho "$1" >>%s\n' "$SD/fd.log" >"$SD/bin/logger"
chmod +x "$SD/bin/logger"

# the stand-in jetpack: `config KEY DEFAULT` answers from $SD/jp/KEY; `download --project P NAME`
# copies the project's blob into the working directory
cat >"$SD/bin/jetpack" <<EOF
#!/bin/sh
case "\$1" in
config) if [ -f "$SD/jp/\$2" ]; then cat "$SD/jp/\$2"; else printf '%s\n' "\$3"; fi ;;
download) [ "\$2" = --project ] && [ "\$3" = flightdeck ] && cp "$TMP/project/blobs/\$4" . ;;
*) exit 1 ;;
esac
EOF
chmod +x "$SD/bin/jetpack"
jp() { printf '%s\n' "$2" >"$SD/jp/$1"; }
jp cyclecloud.cluster.name FDCC
jp cyclecloud.node.name "$NODE"
jp flightdeck.config "$SD/fd.conf"
jp flightdeck.slurm_conf "$SLURM_CONF"
jp flightdeck.defaults_extra "PATH=$SD/bin:/usr/bin:/bin:/usr/sbin:/sbin
export FLIGHTDECK_NVML_LIB=$FAKE_NVML_LIB FAKE_NVML_FIXTURE=$FAKE_NVML_FIXTURE"

slurm_munged
slurm_start -N "$NODE"
ok "a real Slurm in cyclecloud-slurm's layout: node $NODE (slurmd -N; hostname $(hostname -s)) idle"

sfail() { slurm_dump; echo "--- syslog stand-in"; tail -n 15 "$SD/fd.log" 2>/dev/null; fail "$@"; }
state() { scontrol show node "$NODE" -o | sed -n 's/.* State=\([^ ]*\).*/\1/p'; }
reason() { scontrol show node "$NODE" -o | sed -n 's/.* Reason=\(.*\) \[[^]]*\]$/\1/p'; }
# cinit ROLE [SCRIPT]: the cluster-init scripts (or one) as a node of ROLE runs them, from the
# uploaded copy of the project; their output in $TMP/ci.ROLE
cinit() {
	jp slurm.role "$1"
	for s in "$TMP/project/specs/default/cluster-init/scripts/"${2:-*}; do
		FD_CC_ROOT=$R FD_CC_JETPACK=$SD/bin/jetpack PATH=$SD/bin:$PATH "$s" >>"$TMP/ci.$1" 2>&1 ||
			{ CI_RC=$?; return 0; }
	done
	CI_RC=0
}
snapshot() {
	find "$R" -printf '%p %y %m %s %T@ %l\n' | sort
	find "$R" -type f -exec sha256sum {} + | sort
}

# ---- first node start: the scheduler, then a compute node -------------------------------------
cinit scheduler
[ "$CI_RC" -eq 0 ] || sfail "the scheduler's cluster-init failed ($CI_RC): $(cat "$TMP/ci.scheduler")"
grep -q "scontrol reconfigure: slurmctld has flightdeck's settings" "$TMP/ci.scheduler" ||
	sfail "no reconfigure after the first run: $(cat "$TMP/ci.scheduler")"
cinit execute
[ "$CI_RC" -eq 0 ] || sfail "the compute node's cluster-init failed ($CI_RC): $(cat "$TMP/ci.execute")"
[ -x "$R/opt/flightdeck/bin/flightdeck" ] || sfail "00-install.sh did not install the bundle under /opt/flightdeck"
grep -q "$NODE is fit" "$TMP/ci.execute" || sfail "the node-start check did not pass a fit node: $(cat "$TMP/ci.execute")"
[ "$(grep -cxF "Include $C/flightdeck/flightdeck-slurm.conf" "$C/site_specific.conf")" -eq 1 ] ||
	sfail "site_specific.conf does not include the fragment once: $(cat "$C/site_specific.conf")"
ok "cluster-init as the scheduler, then as $NODE: installed, configured, included from site_specific.conf"

scontrol show config >"$TMP/config" 2>&1 || sfail "scontrol show config failed"
for kv in "Prolog *= $R/etc/slurm/prolog.d/\\*" "Epilog *= $R/etc/slurm/epilog.d/\\*" \
	"HealthCheckProgram *= $C/flightdeck/healthcheck.sh" "HealthCheckInterval *= 300 sec" \
	"HealthCheckNodeState *= CYCLE,ANY" "KillWait *= 90 sec" "RequeueExit *= 75" "PrologFlags *= Alloc"; do
	grep -q "^$kv\$" "$TMP/config" || sfail "slurmctld's configuration lacks '$kv': $(grep -E 'Prolog|Epilog|HealthCheck|KillWait|RequeueExit' "$TMP/config")"
done
for s in "$C/prolog.d/50-flightdeck-prolog.sh" "$C/epilog.d/50-flightdeck-epilog.sh" "$C/flightdeck/healthcheck.sh"; do
	[ -x "$s" ] || sfail "no executable $s"
done
ok "slurmctld took the fragment: HealthCheckProgram, 300 s, ANY,CYCLE, KillWait 90, RequeueExit 75; cyclecloud-slurm's Prolog/Epilog globs kept"

# ---- idempotent: every script again, for both roles, changes nothing --------------------------
snapshot >"$TMP/snap1"
: >"$TMP/ci.scheduler"
cinit scheduler
[ "$CI_RC" -eq 0 ] || sfail "second run, scheduler: $(cat "$TMP/ci.scheduler")"
cinit execute
[ "$CI_RC" -eq 0 ] || sfail "second run, $NODE: $(cat "$TMP/ci.execute")"
snapshot >"$TMP/snap2"
cmp -s "$TMP/snap1" "$TMP/snap2" || sfail "a second run changed files: $(diff "$TMP/snap1" "$TMP/snap2" | head -n 20)"
grep -q "wrote\|reconfigure" "$TMP/ci.scheduler" && sfail "the second run wrote or reconfigured: $(cat "$TMP/ci.scheduler")"
ok "a second run of every script changes no file (names, modes, sizes, times, checksums) and does not reconfigure"

# ---- the node-start check on an unfit node ------------------------------------------------------
ln -sf "$SD/unfit.conf" "$SD/fd.conf"
: >"$TMP/ci.execute"
cinit execute 30-node-check.sh
[ "$CI_RC" -eq 0 ] || sfail "the node-start check failed on a node it drained: $(cat "$TMP/ci.execute")"
r=$(reason)
state | grep -q DRAIN && [ "$r" = "flightdeck: IB_PHYS_DOWN,IB_PORT_DOWN mlx5_3/1" ] ||
	sfail "the node-start check left $NODE $(state) ($r): $(cat "$TMP/ci.execute")"
cinit execute 30-node-check.sh
[ "$(reason)" = "$r" ] || sfail "a second node-start check changed the reason to '$(reason)'"
ok "node start, port down: $NODE drained with '$r'; again, the same reason"
jp flightdeck.node_check.on_unfit fail
cinit execute 30-node-check.sh
[ "$CI_RC" -ne 0 ] || sfail "on_unfit=fail: the node-start check passed an unfit node"
grep -q "is unfit: flightdeck: IB_PHYS_DOWN" "$TMP/ci.execute" || sfail "on_unfit=fail: no reason given: $(tail -n 3 "$TMP/ci.execute")"
rm -f "$SD/jp/flightdeck.node_check.on_unfit"
ok "node_check.on_unfit=fail: the script fails (CycleCloud's software installation failure), with the codes"
ln -sf "$SD/fit.conf" "$SD/fd.conf"
cinit execute 30-node-check.sh
state | grep -q DRAIN && sfail "a fit node-start check did not resume flightdeck's drain: $(state) ($(reason))"
scontrol update nodename="$NODE" state=drain reason="bad DIMM (admin)"
cinit execute 30-node-check.sh
[ "$(reason)" = "bad DIMM (admin)" ] || sfail "the node-start check touched an admin's drain: $(reason)"
scontrol update nodename="$NODE" state=resume
ok "node start, fit: flightdeck's drain resumed; an admin's left as it is"

# ---- the Prolog from prolog.d, at allocation, beside cyclecloud-slurm's own --------------------
ln -sf "$SD/unfit.conf" "$SD/fd.conf"
job=$(sbatch --parsable -o /dev/null --wrap "touch $SD/job.ran") || sfail "sbatch failed"
i=0
until state | grep -q DRAIN; do
	i=$((i + 1))
	[ $i -le 100 ] || sfail "the Prolog from prolog.d did not drain the node (state $(state))"
	sleep 0.2
done
[ "$(reason)" = "flightdeck: IB_PHYS_DOWN,IB_PORT_DOWN mlx5_3/1" ] || sfail "the Prolog's reason: '$(reason)'"
grep -qx "$job" "$SD/imex.ran" 2>/dev/null || sfail "cyclecloud-slurm's own prolog.d script did not run for job $job"
job_st() { scontrol show job "$job" -o 2>/dev/null | sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p"; }
i=0
until [ "$(job_st JobState)" = PENDING ] && job_st Reason | grep -q held; do
	i=$((i + 1))
	[ $i -le 100 ] || sfail "job $job: $(job_st JobState) ($(job_st Reason)), not requeued held"
	sleep 0.2
done
[ ! -e "$SD/job.ran" ] || sfail "the job ran on the unfit node"
scancel "$job"
ok "Prolog=prolog.d/* (PrologFlags=alloc): 50-flightdeck-prolog.sh drained with '$(reason)', the job requeued held; 90-imex_prolog.sh ran too"

# ---- cyclecloud-slurm before 4.0.5: no site_specific.conf, no prolog.d ---------------------------
R2=$TMP/root-3x
mkdir -p "$R2/sched/fdcc"
jp slurm.role scheduler
FD_CC_ROOT=$R2 FD_CC_JETPACK=$SD/bin/jetpack PATH=$SD/bin:$PATH \
	"$TMP/project/specs/default/cluster-init/scripts/20-slurm.sh" >"$TMP/ci.3x" 2>&1 ||
	sfail "20-slurm.sh without prolog.d/site_specific.conf failed: $(cat "$TMP/ci.3x")"
F2=$R2/sched/fdcc/flightdeck/flightdeck-slurm.conf
grep -q "slurm.additional.config: Include $F2\$" "$TMP/ci.3x" || sfail "no slurm.additional.config line said: $(cat "$TMP/ci.3x")"
[ "$(find "$R2/sched/fdcc" -maxdepth 1 -type f | wc -l)" -eq 0 ] || sfail "it wrote beside cyclecloud-slurm's files: $(ls "$R2/sched/fdcc")"
echo "Include $F2" >>"$C/slurm.conf"
scontrol reconfigure || sfail "slurmctld refused the full fragment: $(tail -n 5 "$SD/slurmctld.log")"
scontrol show config >"$TMP/config" 2>&1
grep -q "^Prolog *= $R2/sched/fdcc/flightdeck/prolog.sh\$" "$TMP/config" && grep -q "^PrologFlags *= Alloc\$" "$TMP/config" ||
	sfail "the full fragment's Prolog/PrologFlags did not reach slurmctld: $(grep -E '^Prolog|^Epilog' "$TMP/config")"
ok "before cyclecloud-slurm 4.0.5: no file of its changed, the slurm.additional.config line said; that fragment (Prolog, Epilog, PrologFlags=Alloc) taken by slurmctld"

slurm_stop
[ -z "$(our_stepds)" ] || fail "slurmstepd processes of the test's jobs outlived the daemons: $(our_stepds)"
