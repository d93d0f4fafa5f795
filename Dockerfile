# One image, three process types (web, CPU worker, GPU worker), for a host with an NVIDIA GPU;
# CPU-only hosts run it too. docker-compose.yml runs it on one machine; the README's
# "Deploying on Supabase" runs it with `docker run`. Build: docker build -t clips .
#
# CUDA: CTranslate2 4.8.5 (faster-whisper) is built for CUDA 12 and loads cuBLAS 12 and
# cuDNN 9 from the system (its wheel's classifier: "CUDA :: 12 :: 12.4"; the library asks
# for libcublas.so.12), so the base image is CUDA 12.8 with cuDNN 9. torch must agree: PyPI's
# Linux torch 2.13.0 is the CUDA 13 build (it requires cuda-toolkit 13.0.3 and
# nvidia-cudnn-cu13), so the image takes the same version from PyTorch's cu128 index instead.
# A build check below refuses a torch built for another CUDA major.
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cpu -t clips .
# gives an image about 3 GB smaller whose torch runs on the CPU only; faster-whisper still uses
# the GPU (only WHISPER_ENGINE=openai-whisper needs torch on the GPU).
#
# Listen address: PORT (8000 here; platforms that set PORT override it) on 0.0.0.0, since
# BIND is unset. The Whisper and embedding models come from PyPI packages: nothing is
# downloaded at run time. No HEALTHCHECK here, because the workers serve no HTTP; point the
# web service's check at GET /healthz (docker-compose.yml does).
ARG BASE_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
FROM ghcr.io/astral-sh/uv:0.13.8 AS uv

FROM ${BASE_IMAGE}
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PYTHON_INSTALL_DIR=/opt/python \
    DATA_DIR=/data \
    PORT=8000 \
    WHISPER_BATCH_SIZE=16

# No distribution ffmpeg: the code runs the static build that imageio-ffmpeg ships (the same
# binary as in development and tests), and PyAV's wheel carries its own FFmpeg libraries.
# curl is for scripts/cron.sh and the web healthcheck. The captions' font has no CJK glyphs:
# libass falls back through fontconfig to WenQuanYi Zen Hei (Chinese, Japanese, Korean).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tini fonts-wqy-zenhei \
 && rm -rf /var/lib/apt/lists/*

# The Python in .python-version (the one development and CI run), as a standalone build.
COPY --from=uv /uv /usr/local/bin/uv
WORKDIR /app
COPY .python-version pyproject.toml README.md requirements.txt requirements-dev.txt requirements.lock ./
RUN uv python install "$(cat .python-version)" \
 && uv venv --seed --python "$(cat .python-version)" /app/.venv
ENV PATH=/app/.venv/bin:$PATH

# torch first, with the CUDA 12 libraries it needs, from PyTorch's index (the one package
# the lock leaves out); then the runtime lock, every package hash-checked, from PyPI.
RUN pip install --index-url "$TORCH_INDEX" "$(grep -oE '^torch==[^[:space:]#]+' requirements.txt)" \
 && python -c "import torch, sys; cuda = torch.version.cuda; \
sys.exit(0 if cuda is None or cuda.startswith('12.') else f'torch is built for CUDA {cuda}; CTranslate2 needs 12')" \
 && pip install --index-url https://pypi.org/simple --require-hashes --no-deps -r requirements.lock

COPY server ./server
COPY supabase ./supabase
COPY scripts/cron.sh ./scripts/cron.sh
# The package itself, in place (it reads its migrations from /app/supabase): the `clips` command.
RUN pip install --no-deps --no-build-isolation --editable . && clips --help > /dev/null

# Run as an unprivileged user; /data holds media, work files and (without DATABASE_URL) Postgres.
RUN useradd --create-home --uid 10001 clips && mkdir -p /data && chown clips /data
USER clips
VOLUME ["/data"]
EXPOSE 8000

ENTRYPOINT ["tini", "--", "clips"]
CMD ["serve"]
