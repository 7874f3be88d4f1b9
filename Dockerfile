# Campus in production: web (gunicorn), worker and beat all run this image (see compose.yaml).
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/venv/bin:$PATH \
    CAMPUS_ENV=production \
    FLASK_APP=wsgi \
    INSTANCE_PATH=/var/lib/campus \
    PROMETHEUS_MULTIPROC_DIR=/run/campus-metrics

RUN groupadd --system --gid 10001 campus \
 && useradd --system --uid 10001 --gid campus --home-dir /app --shell /usr/sbin/nologin campus \
 && mkdir -p /var/lib/campus /run/campus-metrics \
 && chown campus:campus /var/lib/campus /run/campus-metrics

WORKDIR /app
# The pinned requirements first, so a code change reuses the installed layer.
COPY requirements.txt pyproject.toml ./
COPY platform/ platform/
RUN python -m venv /venv && /venv/bin/pip install -r requirements.txt
COPY config.py wsgi.py ./
COPY migrations/ migrations/
COPY templates/ templates/
COPY workers/ workers/

USER campus
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': 'localhost'}), timeout=4)"]
# SIGTERM: gunicorn stops accepting, lets running requests finish for up to 30 s, then exits.
# No gunicorn access log: the app logs each request as JSON with its id (LOG_REQUESTS).
# Gunicorn trusts X-Forwarded-Proto from 127.0.0.1 unless told otherwise; the app's PROXY_FIX_*
# settings alone say which forwarded headers count (a proxy on the same host passing a client's
# own header through would otherwise make any request look like HTTPS).
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", \
     "--graceful-timeout", "30", "--forwarded-allow-ips", "", "wsgi:app"]
