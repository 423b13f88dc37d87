# syntax=docker/dockerfile:1.7
# mailroute, CPU image: poller, CPU workers (all-MiniLM-L6-v2 embedding backend), admin, migrations.
# The GPU worker (vLLM + Qwen3-Reranker-4B) has its own image: Dockerfile.gpu.
#
#   docker build -t mailroute:latest .
#   docker run --rm mailroute:latest mailroute --help

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtual environment with torch's CPU build and mailroute installed from a wheel ---------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Every dependency from the hash-pinned lock (the one `make install` uses). Its torch is the CPU build
# torch==2.13.0+cpu, which lies on the CPU index: no gigabytes of CUDA wheels.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps --extra-index-url https://download.pytorch.org/whl/cpu \
      -r requirements.lock
COPY pyproject.toml README.md ./
COPY worker ./worker
COPY connectors ./connectors
COPY rules ./rules
COPY admin ./admin
COPY migrations ./migrations
RUN pip wheel --no-deps --wheel-dir /tmp/wheels . \
 && pip install --no-deps /tmp/wheels/mailroute-*.whl \
 && pip check \
 && python -c "import torch; assert torch.__version__.startswith('2.13.0') and not torch.cuda.is_available()"

# --- runtime: the venv only, a non-root user, no compilers, no source tree ------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="mailroute" \
      org.opencontainers.image.description="Event-driven mail routing worker (CPU image)" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 mailroute \
 && useradd --system --uid 10001 --gid mailroute --home-dir /home/mailroute --create-home mailroute \
 && mkdir -p /etc/mailroute /var/lib/mailroute \
 && chown mailroute:mailroute /var/lib/mailroute
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HOME=/home/mailroute/.cache/huggingface \
    HF_HUB_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    MAILROUTE_LOG_JSON=true
WORKDIR /app
USER mailroute
# Every service of docker-compose.yml overrides this with its own `mailroute …` or `celery …` command.
CMD ["mailroute", "--help"]
