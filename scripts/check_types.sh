#!/usr/bin/env bash
# Every static check of the project, in one script (run by .ci/run):
#   1. mypy --strict over the runtime package (equinox_typed/);
#   2. mypy --strict over the stubs and the user-style checks in typecheck/ (the stubs
#      shadow the runtime through MYPYPATH=stubs);
#   3. pyright strict over equinox_typed/, stubs/ and typecheck/ (pyproject [tool.pyright]);
#   4. stubtest: the stubs agree with the runtime (allowlist: typecheck/stubtest_allowlist.txt);
#   5. the wheel: build it, check it ships the .pyi stubs and py.typed, install it into a
#      fresh venv outside the checkout and type-check typecheck/ against that copy.
# Usage: bash scripts/check_types.sh [--no-wheel]
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python}
failed=()

step() {  # step NAME CMD...: run, remember failures, keep going so all problems show
    local name=$1
    shift
    echo "=== $name"
    if "$@"; then echo "--- $name: ok"; else echo "--- $name: FAILED"; failed+=("$name"); fi
}

step "mypy runtime" "$PY" -m mypy equinox_typed
step "mypy stubs+typecheck" env MYPYPATH=stubs "$PY" -m mypy stubs typecheck
step "pyright" pyright equinox_typed stubs typecheck
step "stubtest" env MYPYPATH=stubs "$PY" -m mypy.stubtest equinox_typed \
    --allowlist typecheck/stubtest_allowlist.txt

check_wheel() {
    local work
    work=$(mktemp -d /tmp/eqxt-wheel.XXXXXX)
    "$PY" -m build --wheel --outdir "$work/dist" "$ROOT" >"$work/build.log" 2>&1 ||
        { tail -30 "$work/build.log"; return 1; }
    local wheel
    wheel=$(ls "$work"/dist/*.whl)
    "$PY" - "$wheel" <<'EOF' || return 1
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = {"equinox_typed/py.typed", "equinox_typed/__init__.pyi", "equinox_typed/nn/__init__.pyi",
        "equinox_typed/_stub_only.pyi", "equinox_typed/__init__.py"}
missing = need - names
print("wheel files:", len(names), "missing:", sorted(missing) or "none")
sys.exit(1 if missing else 0)
EOF
    # A fresh venv whose only equinox_typed is the wheel's. Its dependencies (jax, ...)
    # come from the current environment through a .pth line appended after the venv's
    # own site-packages, so the wheel's copy is found first.
    "$PY" -m venv "$work/venv" || return 1
    local site deps
    site=$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    deps=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    echo "$deps" >"$site/_eqxt_deps.pth"
    "$work/venv/bin/python" -m pip install --quiet --no-deps --disable-pip-version-check \
        "$wheel" || return 1
    (
        cd "$work" || exit 1
        "$work/venv/bin/python" -c "
import equinox_typed, pathlib, sys
p = pathlib.Path(equinox_typed.__file__).parent
assert str(p).startswith('$work/venv'), f'not the wheel copy: {p}'
assert (p / '__init__.pyi').exists() and (p / 'py.typed').exists()
print('installed copy:', p)" || exit 1
        cp -r "$ROOT/typecheck" "$work/typecheck"
        printf '[mypy]\nstrict = True\npython_version = 3.11\nwarn_unused_ignores = True\n' >mypy.ini
        printf '{"typeCheckingMode": "strict", "pythonVersion": "3.11", "include": ["typecheck"],
 "reportUnnecessaryTypeIgnoreComment": "error"}\n' >pyrightconfig.json
        "$work/venv/bin/python" -m mypy --config-file mypy.ini typecheck || exit 1
        pyright --pythonpath "$work/venv/bin/python" typecheck || exit 1
    ) || return 1
    rm -rf "$work"
}

if [[ "${1:-}" != "--no-wheel" ]]; then
    step "wheel: build, install, type-check against it" check_wheel
fi

if ((${#failed[@]})); then
    echo "static checks FAILED: ${failed[*]}"
    exit 1
fi
echo "static checks: all passed"
