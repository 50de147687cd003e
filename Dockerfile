# The cdss image: the CLI (graph-init in docker-compose.yml) and the API under gunicorn.
#   docker build -t cdss:local .
#   docker run --rm -p 8000:8000 -v cdss-data:/data/cdss cdss:local

# --- build: a virtual environment with every dependency -------------------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Compilers only for dependencies without a wheel for this platform (nmslib on arm64);
# they stay in this stage.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# The CPU build of torch first, from its own index: the open torch requirement in
# pyproject.toml would otherwise pull the CUDA build (several GB) from PyPI.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Then the project, whose torch requirement the CPU build already satisfies.
WORKDIR /src
COPY . .
RUN pip install . \
    && python -c "import torch; assert not torch.version.cuda, 'the CUDA build of torch was installed'"

# --- runtime ------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CDSS_DATA_DIR=/data/cdss \
    CDSS_BIND=0.0.0.0:8000

# A user without privileges; the data folder is created here so that a new named volume
# mounted on it starts out owned by that user.
RUN groupadd --system --gid 10001 cdss \
    && useradd --system --uid 10001 --gid cdss --create-home --home-dir /home/cdss cdss \
    && mkdir -p /data/cdss \
    && chown cdss:cdss /data/cdss

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY gunicorn.conf.py ./

USER cdss
VOLUME ["/data/cdss"]
EXPOSE 8000

# gunicorn binds CDSS_BIND (0.0.0.0:8000 in the image; loopback elsewhere) and starts CDSS_WORKERS workers; see gunicorn.conf.py.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--worker-tmp-dir", "/dev/shm", "api.wsgi:app"]
