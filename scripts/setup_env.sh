#!/usr/bin/env bash
# Create (or repair) the project's virtual environment in .venv and install the package.
#   bash scripts/setup_env.sh             # runtime dependencies only
#   bash scripts/setup_env.sh --examples  # plus what examples/ needs (optax, scikit-learn, ...)
#   bash scripts/setup_env.sh --dev       # plus test, type-checking and PyTorch-parity tools
#                                         # (includes the examples' dependencies: CI runs them)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! .venv/bin/python -c "import sys; assert sys.version_info >= (3, 11)" 2>/dev/null; then
    rm -rf .venv
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)

case "${1:-}" in
    --dev)
        # The CPU build of PyTorch is served locally; installing it by exact version first
        # keeps pip from resolving a CUDA build when the extra is installed.
        "${PIP[@]}" "torch==2.13.0"
        "${PIP[@]}" -e ".[dev,torch]"
        ;;
    --examples)
        "${PIP[@]}" -e ".[examples]"
        ;;
    "")
        "${PIP[@]}" -e .
        ;;
    *)
        echo "usage: bash scripts/setup_env.sh [--examples | --dev]" >&2
        exit 2
        ;;
esac
# The editable install exposes the runtime sources, which checkers cannot see through
# (generated Module __init__s, transformations); the stub-only distribution built from
# stubs/ gives it the wheel's types (PEP 561). Reinstalled on every run: it is a copy.
"${PIP[@]}" --force-reinstall --no-deps ./stubs
