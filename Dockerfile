# Two stages: the first installs the runtime dependencies (pyproject's [project.dependencies],
# no extras: no test, benchmark or embedded-server package) into a virtualenv; the second is a
# clean slim image with that virtualenv and the source, run as a non-root user.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
WORKDIR /src
# Dependencies first, so code changes do not reinstall them. The project itself is not kept
# in the virtualenv: it runs from /app (PYTHONPATH), with its SQL files and templates.
COPY pyproject.toml README.md ./
COPY config/__init__.py config/
COPY storefront/__init__.py storefront/
RUN /opt/venv/bin/pip install . \
    && /opt/venv/bin/pip uninstall --yes storefront


FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PATH=/opt/venv/bin:$PATH

RUN useradd --create-home --uid 10001 storefront
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . .
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgres://collectstatic-only/none \
       REDIS_URL=redis://collectstatic-only python manage.py collectstatic --no-input \
    && chown -R storefront /app
USER storefront

EXPOSE 8000
# Every gunicorn setting (workers, threads, port; PORT and WEB_CONCURRENCY) is in gunicorn.conf.py.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "config.wsgi:application"]
