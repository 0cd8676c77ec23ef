#!/usr/bin/env bash
# Development server: migrate, seed on first run, then the API and a Celery worker together.
# Embedded (SQLite, database cache, filesystem broker) unless DATABASE_URL/REDIS_URL are set.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
PORT=${PORT:-8000}
export DEBUG=${DEBUG:-true}

$PYTHON manage.py migrate --no-input
$PYTHON manage.py createcachetable
$PYTHON manage.py seed_data --no-progress

"$(dirname "$PYTHON")/celery" -A config worker --beat --loglevel=INFO --concurrency=2 &
worker_pid=$!
trap 'kill $worker_pid 2>/dev/null; wait $worker_pid 2>/dev/null' EXIT INT TERM

echo "API on http://127.0.0.1:$PORT  (docs: http://127.0.0.1:$PORT/api/docs/)"
$PYTHON manage.py runserver "127.0.0.1:$PORT" --noreload
