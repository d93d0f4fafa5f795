# One image, three process types, for a host with an NVIDIA GPU (CPU-only hosts run it too).
# Build: docker build -t clips .   Then, with the settings in an env file (.env.example):
#   web:        docker run -d --env-file .env -p 8000:8000 -v clips-data:/data clips serve
#   CPU worker: docker run -d --env-file .env -v clips-data:/data clips \
#                   worker --steps download,classify,find_clips,render --concurrency 4
#   GPU worker: docker run -d --gpus all --env-file .env -e WHISPER_DEVICE=cuda -v clips-data:/data clips \
#                   worker --steps transcribe --concurrency 1
# Web and workers share media through Supabase Storage (STORAGE_BACKEND=supabase) or one
# /data volume on one host. WHISPER_DEVICE=auto picks CUDA when a GPU is visible, with the
# compute type the GPU supports (float16 from compute capability 7); the GPU worker sets
# cuda so that a container started without --gpus fails loudly instead of transcribing on
# the CPU. The Whisper and embedding models come from PyPI packages, so nothing is
# downloaded at run time. No HEALTHCHECK here: the workers serve no HTTP; point the web
# service's check at GET /healthz.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/data \
    WHISPER_BATCH_SIZE=16 \
    BIND=0.0.0.0:8000

# No distribution ffmpeg: the code runs the static build that imageio-ffmpeg ships (the same
# binary as in development and tests), and PyAV's wheel carries its own FFmpeg libraries.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.12 python3.12-venv ca-certificates curl tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN python3.12 -m venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH

# The CUDA build of the pinned torch first, so requirements.txt finds it satisfied.
COPY requirements.txt .
RUN pip install --upgrade pip \
 && pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128 \
 && pip install -r requirements.txt

COPY server ./server
COPY supabase ./supabase
COPY scripts/cron.sh ./scripts/cron.sh

# Run as an unprivileged user; /data holds media, work files and (without DATABASE_URL) Postgres.
RUN useradd --create-home --uid 10001 clips && mkdir -p /data && chown clips /data
USER clips
VOLUME ["/data"]
EXPOSE 8000

ENTRYPOINT ["tini", "--", "python", "-m", "server"]
CMD ["serve"]
