#!/usr/bin/env bash
# Idempotent set-up shared by `make demo`, `make test` and `make bench`:
#   1. the Debian packages the project needs (only those missing),
#   2. a virtual environment in .venv with the project and its dev extras, pinned by constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libzbar0 softhsm2 poppler-utils zbar-tools ssss fonts-dejavu-core tmux zsh)
PY=${PYTHON:-python3}

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then missing+=(python3-venv); fi
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
        echo "setup: these Debian packages are missing: ${missing[*]}" >&2
        echo "setup: install them as root (apt-get install ${missing[*]}) and run make again." >&2
        exit 1
    fi
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=.venv/.keyceremony-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/keyceremony ]; then
    exit 0
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
echo "setup: installing keyceremony and its pinned dependencies into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
echo "$want" > "$stamp"
