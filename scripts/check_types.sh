#!/usr/bin/env bash
# Every static check of the project, in one script (run by .ci/run):
#   1. mypy --strict over the runtime package (equinox_typed/);
#   2. mypy --strict over the stubs and the user-style checks in typecheck/ (the stubs
#      shadow the runtime through MYPYPATH=stubs);
#   3. pyright strict over equinox_typed/, stubs/ and typecheck/ (pyproject [tool.pyright]);
#   4. stubtest: the stubs agree with the runtime (allowlist: typecheck/stubtest_allowlist.txt);
#      scripts/check_stub_fields.py checks the nn field types, which stubtest cannot see
#      (instance attributes), against the fields of constructed layers;
#      scripts/stub_docstrings.py checks that the stubs' docstrings (shown on hover) are
#      the run-time ones (`--write` regenerates them);
#   5. the two ways of installing, each into a fresh venv outside the checkout, with
#      typecheck/ type-checked against that install by both checkers:
#      (a) the wheel (built here; it must ship the .pyi stubs and py.typed);
#      (b) an editable install plus the stub-only distribution built from stubs/.
# Usage: bash scripts/check_types.sh [--no-wheel]   (--no-wheel skips step 5)
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

# The stub-only distribution (stubs/pyproject.toml) versions along with the runtime.
check_stub_dist_version() {
    "$PY" -c '
import sys, tomllib
main = tomllib.load(open("pyproject.toml", "rb"))["project"]["version"]
stubs = tomllib.load(open("stubs/pyproject.toml", "rb"))["project"]["version"]
print(f"equinox_typed {main}, equinox_typed-stubs {stubs}")
sys.exit(0 if main == stubs else 1)'
}

step "mypy runtime" "$PY" -m mypy equinox_typed
step "mypy stubs+typecheck" env MYPYPATH=stubs "$PY" -m mypy stubs typecheck
step "pyright" pyright equinox_typed stubs typecheck
step "stubtest" env MYPYPATH=stubs "$PY" -m mypy.stubtest equinox_typed \
    --allowlist typecheck/stubtest_allowlist.txt
step "stub field types" "$PY" -W ignore::UserWarning scripts/check_stub_fields.py
step "stub docstrings = run-time docstrings" "$PY" -W ignore::UserWarning scripts/stub_docstrings.py
step "stub distribution version" check_stub_dist_version

# A fresh venv outside the checkout, into which a test installs equinox_typed as a user
# would. Its dependencies (jax, ...) come from the current environment: a .pth line adds
# a folder of links to everything in the current site-packages EXCEPT equinox_typed's own
# install (its editable finder, its stub distribution), which would otherwise decide what
# the checkers see. pip runs from the current environment (`pip --python`).
fresh_venv() {  # fresh_venv DIR
    "$PY" -m venv --without-pip "$1/venv" || return 1
    local site deps entry
    site=$("$1/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    deps=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    mkdir "$1/deps" || return 1
    for entry in "$deps"/*; do
        case ${entry##*/} in
        equinox_typed* | _editable_impl_equinox_typed* | __editable__*equinox_typed*) ;;
        *) ln -s "$entry" "$1/deps/" ;;
        esac
    done
    echo "$1/deps" >"$site/_eqxt_deps.pth"
}

venv_pip() {  # venv_pip DIR ARGS...: pip install ARGS into DIR's venv
    local dir=$1
    shift
    "$PY" -m pip --python "$dir/venv/bin/python" install --quiet --no-deps \
        --no-build-isolation --disable-pip-version-check "$@"
}

installed_at() {  # installed_at DIR EXPECTED_PREFIX: where DIR's venv imports equinox_typed from
    (cd "$1" && "$1/venv/bin/python" -c "
import equinox_typed, pathlib, sys
p = pathlib.Path(equinox_typed.__file__).parent
print('runtime imported from:', p)
sys.exit(0 if str(p).startswith('$2') else 1)")
}

typecheck_from() {  # typecheck_from DIR: both checkers on a copy of typecheck/ in DIR
    (
        cd "$1" || exit 1
        cp -r "$ROOT/typecheck" "$1/typecheck"
        printf '[mypy]\nstrict = True\npython_version = 3.11\nwarn_unused_ignores = True\nplugins = equinox_typed.mypy_plugin\n[mypy-optax.*]\nfollow_untyped_imports = True\n' >mypy.ini
        printf '{"typeCheckingMode": "strict", "pythonVersion": "3.11", "include": ["typecheck"],
 "reportUnnecessaryTypeIgnoreComment": "error"}\n' >pyrightconfig.json
        "$1/venv/bin/python" -m mypy --config-file mypy.ini typecheck || exit 1
        pyright --pythonpath "$1/venv/bin/python" typecheck || exit 1
    )
}

# (a) The wheel, which ships the stubs inline beside the runtime modules.
check_wheel() {
    local work wheel
    work=$(mktemp -d /tmp/eqxt-wheel.XXXXXX)
    "$PY" -m build --no-isolation --wheel --outdir "$work/dist" "$ROOT" >"$work/build.log" 2>&1 ||
        { tail -30 "$work/build.log"; return 1; }
    wheel=$(ls "$work"/dist/*.whl)
    "$PY" -c '
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = {"equinox_typed/py.typed", "equinox_typed/__init__.pyi", "equinox_typed/nn/__init__.pyi",
        "equinox_typed/debug/__init__.pyi", "equinox_typed/_stub_only.pyi", "equinox_typed/__init__.py"}
missing = need - names
print("wheel files:", len(names), "missing:", sorted(missing) or "none")
sys.exit(1 if missing else 0)' "$wheel" || return 1
    fresh_venv "$work" && venv_pip "$work" "$wheel" || return 1
    installed_at "$work" "$work/venv" && typecheck_from "$work" || return 1
    rm -rf "$work"
}

# (b) An editable install with the stub-only distribution beside it (`pip install -e .
# ./stubs`, as scripts/setup_env.sh does): runtime from this checkout, types from stubs/.
check_editable() {
    local work
    work=$(mktemp -d /tmp/eqxt-editable.XXXXXX)
    fresh_venv "$work" && venv_pip "$work" -e "$ROOT" "$ROOT/stubs" || return 1
    installed_at "$work" "$ROOT/equinox_typed" && typecheck_from "$work" || return 1
    rm -rf "$work"
}

if [[ "${1:-}" != "--no-wheel" ]]; then
    step "wheel: build, install, type-check against it" check_wheel
    step "editable install + equinox_typed-stubs: type-check against it" check_editable
fi

if ((${#failed[@]})); then
    echo "static checks FAILED: ${failed[*]}"
    exit 1
fi
echo "static checks: all passed"
