# venv.sh - sourced: where flightdeck's Python environment lives (FD_VENV). One environment, made
# by scripts/install-deps.sh from scripts/requirements.txt, shared by the demo, the tests and
# bench/. It is outside the checkout, so a fresh clone finds it installed; remove it with
# rm -rf "$FD_VENV". FLIGHTDECK_VENV overrides the place.
FD_VENV=${FLIGHTDECK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/flightdeck/venv}
FD_VENV_PY=$FD_VENV/bin/python3
