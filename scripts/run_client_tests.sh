#!/usr/bin/env bash
# Run tests_clients/ in .venv-clients against exports made by the main .venv (see build_client_venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${CLIENT_VENV:-.venv-clients}
[ -x "$VENV/bin/python" ] || { echo "no $VENV: run scripts/build_client_venv.sh first" >&2; exit 2; }
MAIN_PYTHON=${MAIN_PYTHON:-$PWD/.venv/bin/python} "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    --rootdir tests_clients tests_clients "$@"
