# syntax=docker/dockerfile:1
# Recap: one image for the API, the CPU worker and the migrations Job (the GPU worker adds a CUDA
# torch on top: see docs/operations.md, "Images").
#
#   docker build -t recap:0.1.0 .
#   docker run --rm -e DATABASE_URL=... -e REDIS_URL=... recap:0.1.0 recap serve --host 0.0.0.0
#
# Stage 1 builds the console and a wheelhouse; stage 2 is python:slim with the wheels, ffmpeg's
# runtime libraries come inside PyAV's wheel, and the process runs as an unprivileged user.

ARG PYTHON_VERSION=3.11

FROM node:22-bookworm-slim AS console
WORKDIR /src/web
COPY web/package.json web/package-lock.json* ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
COPY schema.graphql /src/schema.graphql
RUN npm run build

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m pip install --upgrade pip wheel
# torch is pinned and built into the wheelhouse first; TORCH_INDEX may name a CPU-only index for a slimmer image.
ARG TORCH_INDEX=""
RUN pip wheel --wheel-dir /wheels "torch==2.13.0" ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
COPY pyproject.toml README.md ./
COPY app/ app/
COPY runners/ runners/
COPY media/ media/
COPY colab/ colab/
COPY --from=console /src/app/web/dist/ app/web/dist/
RUN pip wheel --wheel-dir /wheels --find-links /wheels ".[tts]"

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    RECAP_ENV=production RECAP_DATA_DIR=/var/lib/recap RECAP_OBSERVABILITY__LOG_FORMAT=json
RUN groupadd --system --gid 10001 recap \
 && useradd --system --uid 10001 --gid recap --home-dir /var/lib/recap --create-home --shell /usr/sbin/nologin recap
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels "recap[tts]" && rm -rf /wheels
USER 10001:10001
WORKDIR /var/lib/recap
EXPOSE 8000 9101
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["recap", "serve", "--host", "0.0.0.0", "--port", "8000"]
