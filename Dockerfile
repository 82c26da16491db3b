# paced: one node. docs/operations.md shows how to run several behind a proxy
# (deploy/compose.yaml).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY paced ./paced
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/paced --create-home paced
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels

USER paced
WORKDIR /var/lib/paced
# Without PACED_DATABASE_URL, an SQLite file (and its generated key) in this volume.
ENV PACED_DATABASE_URL=sqlite:////var/lib/paced/paced.db \
    PACED_LOG_FORMAT=json
VOLUME ["/var/lib/paced"]
EXPOSE 8000
# The process answers; /readyz (the database too) is for load balancers.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# SIGTERM: in-flight requests finish (PACED_SHUTDOWN_TIMEOUT, 20 s), then the process exits.
STOPSIGNAL SIGTERM
CMD ["paced", "serve", "--host", "0.0.0.0", "--port", "8000"]
