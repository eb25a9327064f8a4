# orch in a container: `docker build -t orch .` then, for example,
#   docker run --rm -v orch-data:/data -v "$PWD/policies:/policies:ro" \
#     -e ICA_API_KEY_FILE=/run/secrets/ica_api_key -v "$HOME/.ica_key:/run/secrets/ica_api_key:ro" \
#     orch watch -p /policies/mgi.yaml --once
# State (ledger) and logs live in /data (a volume); credentials come from mounted files or the environment.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# pinned runtime dependencies first (a layer that changes only when the lock does)
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY pyproject.toml README.md ./
COPY orch ./orch
COPY policies /policies
RUN pip install --no-cache-dir --no-deps . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin orch \
    && mkdir -p /data \
    && chown orch:orch /data

USER 10001
WORKDIR /data
VOLUME ["/data"]
ENV ORCH_STATE=/data/state.db \
    ORCH_LOG_FILE=/data/orchestrator.log

ENTRYPOINT ["orch"]
CMD ["--help"]
