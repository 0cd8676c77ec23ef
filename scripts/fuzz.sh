#!/usr/bin/env bash
# Longer fuzzing campaign than CI's: `make fuzz`. Runs tests/test_api_fuzz.py (schemathesis over
# the OpenAPI schema, and hypothesis' cursors and page sizes on every cursor-paged listing), whose
# fixtures create and seed a dedicated PostgreSQL database (<DATABASE_URL's name>_live_*), start
# a private redis-server and gunicorn (DEBUG off), and always stop and drop them again.
#
#   FUZZ_MAX_EXAMPLES  examples per operation and phase, and paging examples (default 300;
#                      CI uses 25)
#   FUZZ_SEED          a fixed seed to replay a run, or "random" (default)
#   FUZZ_ARGS          extra `schemathesis run` options, e.g. "--max-time 900" or
#                      "--report junit,har --report-dir var/fuzz"
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL server (make fuzz starts one unless set)}"

export FUZZ_MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-300}
export FUZZ_SEED=${FUZZ_SEED:-random}
export FUZZ_ARGS=${FUZZ_ARGS:-}
exec "${PYTHON:-.venv/bin/python}" -m pytest tests/test_api_fuzz.py -s -q -p no:cacheprovider "$@"
