#!/usr/bin/env bash
# install-deps.sh - installs, from Debian's packages and PyPI, what building and testing
# flightdeck needs. Safe to run twice: it installs only what is missing, and runs apt-get update only
# when something is; it waits up to 10 minutes for another apt-get holding the lock.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config # the build
	libcjson-dev			 # JSON reports (required)
	libibverbs-dev rdma-core ibverbs-utils infiniband-diags # the verbs probe (optional)
	perftest			 # ib_write_bw: t0024 runs the real one up to "no device"
	jq				 # integration tests read the JSON reports
	clang-format			 # the format check in the test command
	clang libclang-rt-14-dev	 # tests/fuzz/run.sh: libFuzzer, ASan and UBSan runtimes
	bsdutils			 # script(1): the terminal-colour test
	procps				 # pgrep: the run tests prove nothing is left behind
	python3-venv			 # the Python environment of scripts/venv.sh (PyPI)
	python3-torch			 # Debian's torch 1.13 and /usr/bin/torchrun: t0111, t0200 (the
					 # demo and the other torch tests use torch 2.x from the venv)
	openmpi-bin libopenmpi-dev	 # a real mpirun (t0106); the headers too: CMake's FindMPI
					 # fails the configure on mpicc without them
	prometheus prometheus-node-exporter # promtool and a real node_exporter (t0191), which
					 # starts its own on a free port: the packages' services
					 # (where systemd starts them) are not used
	curl				 # t0191 scrapes that node_exporter; t0212 PATCHes a fake API server
	openssl				 # t0212: the fake API server's certificate
	yamllint			 # the Kubernetes manifests' lint (t0210; their schemas are PyPI's)
	slurmctld slurmd slurm-client munge # a real Slurm on localhost for the Slurm scripts
					 # (t0200 starts its own daemons; the packages' services,
					 # where systemd would start them, are not used)
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
		SUDO=sudo
	fi
	echo "install-deps: installing ${missing[*]}"
	$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Python environment (scripts/venv.sh) from PyPI: made once, and again only when
# scripts/requirements.txt or requirements-nodeps.txt changes (their hash is kept beside it).
# Debian's python3, so the environment does not depend on whichever python3 is first on PATH.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/venv.sh"
want=$(cat "$here/requirements.txt" "$here/requirements-nodeps.txt" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$FD_VENV/.flightdeck-requirements" 2>/dev/null)" != "$want" ]; then
	echo "install-deps: installing scripts/requirements.txt into $FD_VENV"
	[ -x "$FD_VENV_PY" ] || /usr/bin/python3 -m venv "$FD_VENV"
	"$FD_VENV_PY" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
	"$FD_VENV_PY" -m pip install -q --disable-pip-version-check --no-deps \
		-r "$here/requirements-nodeps.txt"
	echo "$want" >"$FD_VENV/.flightdeck-requirements"
fi
