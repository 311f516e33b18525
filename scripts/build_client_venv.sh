#!/usr/bin/env bash
# Build .venv-clients: the real image-trainer clients of `reportlab-nlp export` (torchxrayvision,
# LibAUC) with the torch/torchvision pair they need. They stay out of the main .venv, whose CPU
# torch is pinned for the transformer labeler and has no matching torchvision.
#
#   bash scripts/build_client_venv.sh            # builds (or refreshes) .venv-clients
#   bash scripts/run_client_tests.sh             # exports with .venv, loads with .venv-clients
#   CLIENT_VENV=/some/where bash scripts/...     # another place (CI builds it in its work folder)
#
# Why torch 2.14.1 with its CUDA libraries: PyPI's torchvision wheels are CUDA builds whose _C
# extension needs libc10_cuda/libcudart, and torchvision 0.28/0.29 fail at import (registering
# fake kernels for torchvision::nms) when it cannot load, so the main venv's CPU torch 2.13.0 with
# torchvision 0.28.0 or 0.29.1 does not import (tried; CPU torchvision wheels are not on PyPI).
# LibAUC is installed with --no-deps: it declares torch-geometric, ogb, transformers, medmnist,
# omegaconf, opencv-python, which its CheXpert dataset never imports; what `libauc.datasets`
# imports is listed here. pandas stays below 3: LibAUC imputes with chained inplace replace, a
# no-op under pandas 3. Cost: docs/export.md ("Real clients").
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${CLIENT_VENV:-.venv-clients}
start=$(date +%s)
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "torch==2.14.1" "torchvision==0.29.1" "torchxrayvision>=1.2" \
    "pandas>=2.0,<3" "opencv-python-headless>=4.8" "pillow>=10" "pytest>=8" \
    "scikit-learn>=1.3" "scipy>=1.10" "tqdm>=4" "webdataset>=0.2" "pyyaml>=6"
"$VENV/bin/pip" install -q --no-deps "libauc==2.0.1"
"$VENV/bin/python" -c "import torchxrayvision, libauc.datasets"
echo "built $VENV in $(( $(date +%s) - start )) s ($(du -sh "$VENV" | cut -f1))"
