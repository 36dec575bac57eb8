# syntax=docker/dockerfile:1
# podsearch indexer: a one-shot job (parse -> segment -> embed over HTTP -> upsert), no torch.
# Build from the repository root:  docker build -f docker/indexer.Dockerfile -t podsearch-index .
# Run:  docker run --rm -v "$PWD/sample:/data:ro" -e PODSEARCH_STORE__BACKEND=qdrant ... \
#         podsearch-index podsearch-index /data/episodes.jsonl
ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/indexer.lock ./requirements/
COPY podsearch ./podsearch
COPY indexer ./indexer
# Every version is the one requirements/indexer.lock pins (`make lock` refreshes it).
RUN pip install --constraint requirements/indexer.lock ".[indexer]" \
    && pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/podsearch podsearch \
    && install -d -o 10001 -g 10001 /app
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER 10001:10001
# A job, not a server: nothing to probe. The manifest is the argument (see docker-compose.yml).
HEALTHCHECK NONE
CMD ["podsearch-index", "--help"]
