# Slim, non-root image running `helpdesk serve`, torch-free at run time. It needs no network at run time:
# the intent model and the ONNX export of the sentence encoder are built in the `export` stage (with torch)
# and copied into the runtime stage, which serves with ONNX Runtime only.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HELPDESK_DATABASE__URL=sqlite:////var/lib/helpdesk/helpdesk.db \
    HELPDESK_PATHS__MODELS_DIR=/app/models \
    HELPDESK_SERVER__HOST=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY intents ./intents
COPY knowledge_base ./knowledge_base
COPY integrations ./integrations
COPY training ./training
COPY data ./data

# --- build stage: torch + sentence-transformers; trains the intent model and exports the encoder to ONNX ---
FROM base AS export

ARG TORCH_VERSION=2.13.0
# Point this at a CPU-only wheel index to keep the stage small (pip's default index serves CUDA builds).
ARG TORCH_INDEX_URL=""

RUN if [ -n "$TORCH_INDEX_URL" ]; then \
        pip install --index-url "$TORCH_INDEX_URL" "torch==${TORCH_VERSION}"; \
    else \
        pip install "torch==${TORCH_VERSION}"; \
    fi \
 && pip install ".[export]" \
 && python -c "from intents.encoder import export_encoder; print(export_encoder('/app/models'))" \
 && HELPDESK_DATABASE__URL=sqlite:////tmp/build.db helpdesk train

# --- runtime stage: no torch, no transformers; ONNX Runtime + tokenizers serve the exported encoder ---
FROM base AS runtime

RUN useradd --system --create-home --home-dir /home/helpdesk --uid 10001 helpdesk \
 && mkdir -p /var/lib/helpdesk && chown helpdesk /var/lib/helpdesk \
 && pip install . \
 && ! python -c "import torch" 2>/dev/null
COPY --from=export --chown=helpdesk /app/models /app/models

USER helpdesk
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz').status==200 else 1)"
CMD ["helpdesk", "serve"]
