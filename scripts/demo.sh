#!/usr/bin/env bash
# The main job on the embedded default: install, ingest the bundled samples, answer questions with citations.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1
.venv/bin/rag ingest samples
.venv/bin/rag ask "How long does the NR-7 robot run on one charge?"
.venv/bin/rag ask "国内出差住宿费每晚不超过多少钱？"
.venv/bin/rag ask "What is the domestic hotel limit per night?"   # an English question, a Chinese source
