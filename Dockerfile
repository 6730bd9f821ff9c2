# The image of every application process in compose.yaml (web, worker, beat, runintegrations, migrate).
# Laid out as the systemd units expect an installation: the checkout at /opt/tb, its venv in /opt/tb/.venv.

# Stage 1: the venv. A compiler and OpenSSL's headers for the dependencies published as source only;
# they stay out of the final image.
FROM python:3.11-slim-bookworm AS venv
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tb
COPY requirements.txt ./
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -r requirements.txt

# Stage 2: the application.
FROM python:3.11-slim-bookworm
# git: the converters library is cloned (CONVERTERS_LIBRARY_REPO_URL)
RUN apt-get update && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/tb --create-home tb
WORKDIR /opt/tb
COPY --from=venv /opt/tb/.venv /opt/tb/.venv
COPY . .

ENV PATH=/opt/tb/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/var/lib/tb
USER tb
EXPOSE 8080
CMD ["uvicorn", "tbproject.asgi:application", "--host", "0.0.0.0", "--port", "8080", "--loop", "uvloop", "--http", "httptools", "--ws", "websockets", "--no-access-log"]
