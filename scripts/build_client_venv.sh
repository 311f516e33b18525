#!/usr/bin/env bash
# Build .venv-clients: the real image-trainer clients of `reportlab-nlp export` (torchxrayvision,
# LibAUC) with the torch/torchvision pair they need. They stay out of the main .venv, whose CPU
# torch is pinned for the transformer labeler and has no matching torchvision.
#
#   bash scripts/build_client_venv.sh            # builds (or refreshes) .venv-clients
#   bash scripts/run_client_tests.sh             # exports with .venv, loads with .venv-clients
#
# pandas stays below 3: LibAUC imputes with chained inplace replace, a no-op under pandas 3.
# The download is large (torch + torchvision, ~5.8 GB with their CUDA libraries): see
# docs/export.md for the measured build time.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${CLIENT_VENV:-.venv-clients}
start=$(date +%s)
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "torch==2.14.1" "torchvision==0.29.1" "torchxrayvision>=1.2" "libauc==2.0.1" \
    "pandas>=2.0,<3" "opencv-python-headless>=4.8" "pillow>=10" "pytest>=8"
echo "built $VENV in $(( $(date +%s) - start )) s"
