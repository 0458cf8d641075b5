#!/usr/bin/env bash
# The supported-versions matrix: the fast part of the test suite (everything outside
# tests/nn and the example scripts' tests, not marked slow) in a fresh virtual environment per row, so that every
# range pyproject.toml declares is tested at both ends. .ci/run runs it after the full
# suite; run one row by name: `bash scripts/matrix.sh oldest`.
#
#   oldest   Python 3.11, every runtime dependency at the floor pyproject.toml declares
#            (read from pyproject.toml, so the claim and the test cannot drift apart)
#   py312    Python 3.12, the newest releases
#   py313    Python 3.13, the newest releases
#
# The main interpreter with the newest releases is the full suite in .ci/run itself.
#
# `--install` only builds the environments and `--test` only runs the tests in them, so
# .ci/run can download and install while the main suite runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${MATRIX_DIR:-/tmp/eqxt-matrix}
mkdir -p "$WORK"

find_python() {  # find_python 3.12: an interpreter of that minor version, or fail
    local minor=$1 candidate
    for candidate in "python$minor" \
        "$(pyenv root 2>/dev/null)"/versions/"$minor"*/bin/"python$minor" \
        /usr/bin/"python$minor" /usr/local/bin/"python$minor"; do
        if "$candidate" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$minor'.split('.')))" \
            2>/dev/null; then
            command -v "$candidate" || echo "$candidate"
            return 0
        fi
    done
    echo "matrix: no Python $minor interpreter found" >&2
    return 1
}

floor_pins() {  # the runtime dependencies pinned to the floors pyproject.toml declares
    "$1" - <<'PY'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
for dep in deps:
    name, floor = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([^,;\s]+).*", dep).groups()
    print(f"{name}=={floor}")
PY
}

install_row() {  # install_row NAME PYTHON_MINOR PINS_MODE
    local name=$1 minor=$2 pins=$3 python venv
    python=$(find_python "$minor")
    venv="$WORK/$name"
    echo "=== matrix $name: installing into $venv ($("$python" --version))"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    local pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
    if [[ $pins == floor ]]; then
        # shellcheck disable=SC2046
        "${pip[@]}" $(floor_pins "$venv/bin/python") -e ".[test]"
    else
        "${pip[@]}" -e ".[test]"
    fi
}

test_row() {  # test_row NAME
    local venv="$WORK/$1"
    echo "=== matrix $1"
    "$venv/bin/python" -c "import sys
from importlib.metadata import version
names = ('jax', 'jaxlib', 'jaxtyping', 'beartype', 'typeguard', 'numpy')
print('    python', sys.version.split()[0], *(f'{n} {version(n)}' for n in names))"
    (cd "$ROOT" && "$venv/bin/python" -m pytest -n 2 -q -p no:cacheprovider \
        --ignore=tests/nn --ignore=tests/test_examples.py -m "not slow")
}

PHASES=(install test)
case ${1:-} in
    --install) PHASES=(install); shift ;;
    --test) PHASES=(test); shift ;;
esac
ROWS=("$@")
[[ $# -gt 0 ]] || ROWS=(oldest py312 py313)
for phase in "${PHASES[@]}"; do
    for row in "${ROWS[@]}"; do
        case $phase:$row in
            install:oldest) install_row oldest 3.11 floor ;;
            install:py312) install_row py312 3.12 newest ;;
            install:py313) install_row py313 3.13 newest ;;
            test:oldest | test:py312 | test:py313) test_row "$row" ;;
            *) echo "matrix: unknown row $row (oldest, py312, py313)" >&2; exit 2 ;;
        esac
    done
done
