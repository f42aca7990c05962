# Flowport container image: `docker build -t flowport .` then
# `docker run -p 8000:8000 --env-file flowport.env flowport`, the file setting FLOWPORT_SECRET_KEY and
# FLOWPORT_SECRETS_KEY (README.md shows how to make them); production refuses to start without them.
# Never bake keys into the image with ENV.
# tests/test_docker_recipe.py replays this recipe (wheel, clean install, ENV, CMD, HEALTHCHECK)
# without Docker, so keep the ENV, COPY, HEALTHCHECK and CMD lines simple and literal.

# Front-end assets come from npm (pinned in package-lock.json), never from a CDN.
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

# Build the wheel; it carries templates, static files, the vendored htmx, the migrations and the first-party plugins.
FROM python:3.11-slim AS builder
WORKDIR /src
RUN pip install --no-cache-dir --disable-pip-version-check build==1.6.1
COPY pyproject.toml README.md ./
COPY migrations ./migrations
COPY portal ./portal
COPY plugins ./plugins
COPY --from=assets /src/node_modules/htmx.org/dist/htmx.min.js ./portal/web/static/vendor/htmx.min.js
COPY --from=assets /src/node_modules/swagger-ui-dist/swagger-ui-bundle.js /src/node_modules/swagger-ui-dist/swagger-ui.css ./portal/web/static/vendor/swagger-ui/
RUN python -m build --wheel --outdir /wheels

# The runtime image: the wheel, the demo catalog, and nothing else.
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/flowport flowport \
    && mkdir -p /data && chown flowport:flowport /data
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY catalog /app/catalog
COPY templates /app/templates
WORKDIR /app

# Demo organisation on by default; set both paths to "" to start with an empty catalog.
ENV FLOWPORT_ENV=production
ENV FLOWPORT_HOST=0.0.0.0
ENV FLOWPORT_PORT=8000
ENV FLOWPORT_DATA_DIR=/data
ENV FLOWPORT_CATALOG_PATHS=/app/catalog
ENV FLOWPORT_TEMPLATE_PATHS=/app/templates
ENV FLOWPORT_LOG_FORMAT=json

USER flowport
VOLUME ["/data"]
EXPOSE 8000
# Slim images have no curl; the Python standard library is enough for a liveness probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('FLOWPORT_PORT', '8000') + '/healthz', timeout=4)"]
# `serve` runs the migrations before it starts listening.
CMD ["flowport", "serve", "--host", "0.0.0.0"]
