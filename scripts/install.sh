#!/usr/bin/env bash
# Install aikg (editable, from this checkout) into the current Python environment with the
# PyTorch build that fits this machine:
#   - an NVIDIA GPU (nvidia-smi lists one): pip's default build, with CUDA (several GB);
#   - no NVIDIA GPU: the CPU build from download.pytorch.org (a few hundred MB), so a
#     CPU-only machine does not download the CUDA libraries it cannot use;
#   - torch already importable: kept as it is.
# Usage: scripts/install.sh [--dry-run] [TARGET]   (TARGET: '.' default, or '.[test]')
# $PYTHON picks the interpreter (default: python3); --dry-run prints the pip commands only.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
run=()
if [[ "${1:-}" == "--dry-run" ]]; then
    run=(echo)
    shift
fi
target="${1:-.}"
cpu_index="https://download.pytorch.org/whl/cpu"
if "$python" -c "import torch" 2>/dev/null; then
    echo "install.sh: torch $("$python" -c 'import torch; print(torch.__version__)') is installed: kept"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    echo "install.sh: an NVIDIA GPU is present: PyTorch with CUDA (several GB)"
    "${run[@]}" "$python" -m pip install torch
else
    echo "install.sh: no NVIDIA GPU: the CPU build of PyTorch from $cpu_index" \
        "(a few hundred MB, not the multi-GB CUDA build); Triton runs in its interpreter"
    "${run[@]}" "$python" -m pip install torch --index-url "$cpu_index"
fi
"${run[@]}" "$python" -m pip install -e "$target"
