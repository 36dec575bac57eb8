# syntax=docker/dockerfile:1
# podsearch search API: FastAPI + the core, no model and no torch (`.[api]` only).
# Build from the repository root:  docker build -f docker/search_api.Dockerfile -t podsearch-api .
# Pin the base by digest too with --build-arg PYTHON_IMAGE=python:3.11.15-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/api.lock ./requirements/
COPY podsearch ./podsearch
COPY search_api ./search_api
# Non-editable, so the runtime stage needs the venv only; the installer itself stays behind.
# Every version is the one requirements/api.lock pins (`make lock` refreshes it).
RUN pip install --constraint requirements/api.lock ".[api]" \
    && pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/podsearch podsearch \
    && install -d -o 10001 -g 10001 /app
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PODSEARCH_API__HOST=0.0.0.0 \
    PODSEARCH_API__PORT=8000
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# No curl in slim images: the probe is the venv's own Python.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["podsearch-api"]
