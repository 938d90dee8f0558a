#!/usr/bin/env bash
# Build the Python example plugin `welcome` into a WebAssembly component.
#
#   plugins/python/build.sh [OUT.wasm]
#
# Installs the pinned componentize-py (requirements.txt, hash-checked
# wheels from PyPI) into a virtualenv under the target directory
# (${CARGO_TARGET_DIR:-target}/componentize-py-venv) the first time, then
# componentizes welcome/app.py against wit/plugin.wit (world `plugin`).
# OUT defaults to ${CARGO_TARGET_DIR:-target}/plugins/python/welcome.wasm.
# Running it again reinstalls nothing and rebuilds only when app.py, the
# WIT, the pin or this script is newer than OUT. Needs python3 with venv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$target"
target="$(cd "$target" && pwd)"
out="${1:-$target/plugins/python/welcome.wasm}"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

requirements="$here/requirements.txt"
venv="$target/componentize-py-venv"
# The marker names the pin, so a new pin reinstalls; a killed install
# leaves no marker and is redone.
pin="$(sha256sum "$requirements" 2>/dev/null || shasum -a 256 "$requirements")"
marker="$venv/.andon-${pin%% *}"

# One build at a time per target directory (test processes run at once).
exec 9>"$target/componentize-py.lock"
if command -v flock >/dev/null; then
    flock 9
fi

if [[ ! -e "$marker" ]]; then
    rm -rf "$venv"
    if ! log="$("${PYTHON:-python3}" -m venv "$venv" 2>&1)"; then
        printf 'build.sh: cannot create a virtualenv with %s -m venv:\n%s\n' \
            "${PYTHON:-python3}" "$log" >&2
        exit 1
    fi
    if ! log="$("$venv/bin/python" -m pip install --disable-pip-version-check \
        --no-input --require-hashes --only-binary=:all: -r "$requirements" 2>&1)"; then
        printf 'build.sh: cannot install componentize-py from PyPI (pip install -r %s):\n%s\n' \
            "$requirements" "$log" >&2
        exit 1
    fi
    touch "$marker"
fi

sources=("$here/welcome/app.py" "$root/wit/plugin.wit" "$requirements" "$here/build.sh")
stale=0
if [[ ! -e "$out" ]]; then
    stale=1
else
    for source in "${sources[@]}"; do
        if [[ "$source" -nt "$out" ]]; then stale=1; fi
    done
fi

if [[ "$stale" == 1 ]]; then
    # Write next to OUT and rename, so a killed build leaves no torn file.
    tmp="$out.tmp.$$"
    trap 'rm -f "$tmp"' EXIT
    # componentize-py imports the app to snapshot it, which writes
    # __pycache__: build from a copy under the target directory.
    src="$target/plugins/python/welcome-src"
    rm -rf "$src"
    mkdir -p "$src"
    cp "$here/welcome/app.py" "$src/"
    "$venv/bin/componentize-py" --quiet -d "$root/wit" -w plugin \
        componentize app -p "$src" -o "$tmp"
    mv -f "$tmp" "$out"
    echo "built $out"
else
    echo "up to date: $out"
fi
