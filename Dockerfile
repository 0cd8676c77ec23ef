FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
COPY config/__init__.py config/
COPY storefront/__init__.py storefront/
RUN pip install ".[dev]"

COPY . .
RUN pip install --no-deps -e . \
    && SECRET_KEY=collectstatic-only DATABASE_URL=postgres://collectstatic-only/none \
       REDIS_URL=redis://collectstatic-only python manage.py collectstatic --no-input \
    && useradd --create-home storefront \
    && chown -R storefront /app
USER storefront

EXPOSE 8000
# gthread workers overlap database waits; long search URLs (percent-encoded unicode) need the
# maximum request line, else gunicorn itself answers an HTML 414. --reuse-port gives each worker
# its own listening socket, among which the kernel spreads connections evenly: on one shared
# socket a worker could accept every keep-alive connection of a burst while the other idled
# (bench/README.md, "Connections spread over the workers").
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", \
     "--worker-class", "gthread", "--threads", "8", "--limit-request-line", "8190", \
     "--reuse-port"]
