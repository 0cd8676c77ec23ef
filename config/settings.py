"""Settings for every environment, read from the process environment.

PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``) are required in every mode; ``make run``
sets both when it starts its embedded servers (scripts/dev.py).
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

from storefront.common.proxies import trusted_networks

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("STOREFRONT_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def kombu_redis_url(redis_url: str) -> str:
    """The broker URL of the Redis that `redis_url` names: kombu has no `unix://` transport and
    calls redis-py's `unix:///path?db=N` `redis+socket:///path?virtual_host=N`."""
    parts = urlsplit(redis_url)
    if parts.scheme != "unix":
        return redis_url
    db = parse_qs(parts.query).get("db", ["0"])[0]
    return f"redis+socket://{parts.path}?virtual_host={db}"


def env_required(name: str, example: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set, e.g. {name}={example}. `make run` sets it itself: it starts an "
            "embedded PostgreSQL and Redis with their data under var/."
        )
    return value


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-insecure-key"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
# What a browser client may send beyond the CORS defaults, and the response headers it may read.
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "x-request-id")
CORS_EXPOSE_HEADERS = [
    "Retry-After",
    "Idempotent-Replayed",
    "X-Request-ID",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "storefront.common",
    "storefront.catalog",
    "storefront.stores",
    "storefront.inventory",
    "storefront.orders",
    "storefront.notifications",
    "storefront.search",
    "storefront.accounts",
    "storefront.health",
    "storefront.seeding",
]

MIDDLEWARE = [
    "storefront.common.middleware.RequestLogMiddleware",
    "storefront.common.middleware.ErrorShapeMiddleware",
    "storefront.common.metrics.MetricsMiddleware",
    "storefront.common.middleware.RequestBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# --- Database -------------------------------------------------------------------------------
def database_config(url: str) -> dict[str, Any]:
    """Django's settings for one PostgreSQL server that `url` names (the primary or a replica)."""
    config = dj_database_url.parse(
        url,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # Off: the check is a `SELECT 1` round trip before every request's first query. A
        # connection the server dropped then fails one request with the 503 JSON of
        # common.middleware, and Django discards it (tests/test_fault_postgres.py).
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", False),
    )
    options = config.setdefault("OPTIONS", {})
    # Behind a transaction-pooling pgbouncer (or any pooler that hands a server connection to
    # a client for one transaction only) nothing may outlive a transaction on the server
    # connection: no prepared statements, no cursor held open across transactions, no startup
    # parameter pgbouncer does not know (docs/operations.md, "Connection pooling").
    transaction_pooling = env_bool("DB_TRANSACTION_POOLING", False)
    if transaction_pooling:
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        # No parallel workers per query: a request's queries are short LIMIT walks that stop
        # after a page, and on a 2-core server already busy with concurrent requests a Gather's
        # worker start-up is pure cost (a search tier: 57 ms with 2 workers, 14 ms without;
        # docs/search.md). Through a pooler, set it on the database or role instead.
        options["options"] = (
            f"-c max_parallel_workers_per_gather={env_int('DB_MAX_PARALLEL_WORKERS_PER_GATHER', 0)}"
        )
    # Server-side binding lets psycopg prepare a statement after `prepare_threshold` runs on a
    # persistent connection (Django's default client-side binding never prepares): the cached
    # search hit's live-stock query is then planned once per connection, not once per request.
    if env_bool("DB_SERVER_SIDE_BINDING", not transaction_pooling):
        options.update(
            server_side_binding=True, prepare_threshold=env_int("DB_PREPARE_THRESHOLD", 5)
        )
    # Django's psycopg pool, one per process: at most DB_POOL_MAX_SIZE connections per gunicorn
    # worker, whatever its thread count, lent for one request at a time; opened as load needs
    # them, closed down to DB_POOL_MIN_SIZE after 10 idle minutes (a small default: Celery's
    # fixup closes the pool around every task, so each task opens DB_POOL_MIN_SIZE). A request
    # that waits longer than DB_POOL_TIMEOUT for one gets the 503 JSON (PoolTimeout is an
    # OperationalError). Django refuses persistent connections beside a pool.
    pool_max_size = env_int("DB_POOL_MAX_SIZE", 0)
    if pool_max_size > 0:
        config["CONN_MAX_AGE"] = 0
        options["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 1),
            "max_size": pool_max_size,
            "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "5")),
        }
    return dict(config)


DATABASE_URL = env_required("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/storefront")
DATABASES = {"default": database_config(DATABASE_URL)}
# Read replicas (streaming standbys of the primary), comma-separated: lag-tolerant reads go there
# (storefront.common.replicas says which), each skipped while down or lagging further behind
# than DATABASE_REPLICA_MAX_LAG_SECONDS.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
DATABASE_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("DATABASE_REPLICA_MAX_LAG_SECONDS", "5"))
for number, replica_url in enumerate(DATABASE_REPLICA_URLS, start=1):
    replica = database_config(replica_url)
    # A replica that does not answer is skipped; a short connect timeout bounds what finding
    # that out costs a request.
    replica["OPTIONS"].setdefault("connect_timeout", 2)
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{number}"] = replica
# The aliases lag-tolerant reads may use (storefront.common.replicas).
DATABASE_REPLICAS = [alias for alias in DATABASES if alias.startswith("replica_")]
DATABASE_ROUTERS = ["storefront.common.replicas.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (search results, rate limits) -----------------------------------------------------
REDIS_URL = env_required("REDIS_URL", "redis://127.0.0.1:6379/0")
# Short timeouts: a Redis outage must degrade search to uncached, not hang requests.
REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "0.5"))
CACHES = {
    "default": {
        # django-redis: one client per server (Django's builds one per call), and its raw
        # client public (get_redis_connection) for the rate limit's script.
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "storefront"),
        "OPTIONS": {
            "CLIENT_CLASS": "storefront.common.metrics.TimedRedisClient",
            "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
        },
    }
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", kombu_redis_url(REDIS_URL))
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, str | int | float | bool] = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    # Publishing (e.g. an order's on-commit email task) makes one quick reconnect attempt and
    # then gives up instead of retrying for seconds inside the request: the outbox keeps what
    # could not be published. Measured: ~0.1 s with the broker down, not 6 s.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    # No copy of delivered messages in Redis (its "unacked" hash). With one, Celery 5.7 dies
    # for good when the broker drops while it holds any message (a send task waiting out its
    # batch window, a task running): restoring it on the closed connection raises an
    # AttributeError that ends the worker (docs/reliability.md). Without, a message held by a
    # worker that dies is gone, and the outbox drain sends its emails instead; a pool child
    # that dies still has its task requeued while the broker is up.
    "ack_emulation": False,
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Task logs go through LOGGING below (one JSON line each) instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# What a task prints (Django's console email backend, if chosen) is output, not a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"

# --- Email ----------------------------------------------------------------------------------
# By default each email is one log line, its subject, recipient and order id as fields.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "storefront.common.mail.LogEmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# Seconds an SMTP connect, read or write may take. Django's default waits forever, and a batch
# keeps its outbox rows locked while it sends: a mail server that hangs must fail the attempt
# (recorded, retried by the drain) instead of holding the batch.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "emails"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "orders@storefront.local")

# --- REST framework and OpenAPI -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": (
        ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"]
        if DEBUG
        else ["rest_framework.renderers.JSONRenderer"]
    ),
    "DEFAULT_PARSER_CLASSES": ["storefront.common.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "storefront.common.negotiation.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "storefront.common.schema.AutoSchema",
    "EXCEPTION_HANDLER": "storefront.common.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "storefront.common.pagination.KeysetPagination",
    "PAGE_SIZE": 20,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
MAX_PAGE_SIZE = env_int("MAX_PAGE_SIZE", 100)
# 1 MiB: a bulk stock sync of 10,000 lines is ~450 KB of JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "Storefront API",
    "DESCRIPTION": "Multi-store catalog, search, atomic orders and per-store inventory.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # API clients authenticate with tokens; session cookies serve the admin and browsable API.
    "AUTHENTICATION_WHITELIST": ["rest_framework.authentication.TokenAuthentication"],
    # Each operation of a URL served by several views, documented from its own view.
    "PREPROCESSING_HOOKS": ["storefront.common.routing.endpoints_by_method"],
}

# --- Domain limits --------------------------------------------------------------------------
ORDER_MAX_LINES = env_int("ORDER_MAX_LINES", 100)
ORDER_MAX_QUANTITY = env_int("ORDER_MAX_QUANTITY", 1_000_000)
# How long a retry with the same Idempotency-Key returns the first order; older keys are purged
# hourly, and a retry after that places a new order.
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
SEARCH_CACHE_TTL = env_int("SEARCH_CACHE_TTL", 60)
# Deepest page of search results (OFFSET cost grows with it); narrow the query instead.
SEARCH_MAX_PAGE = env_int("SEARCH_MAX_PAGE", 500)
SUGGEST_RATE_LIMIT = env_int("SUGGEST_RATE_LIMIT", 20)
SUGGEST_RATE_WINDOW = env_int("SUGGEST_RATE_WINDOW", 60)
# Token login: attempts per client IP, and failed attempts per username, in any window (seconds).
LOGIN_CLIENT_RATE_LIMIT = env_int("LOGIN_CLIENT_RATE_LIMIT", 10)
LOGIN_CLIENT_RATE_WINDOW = env_int("LOGIN_CLIENT_RATE_WINDOW", 60)
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 300)
# Confirmation emails: the outbox drain picks up PENDING rows untouched for this long.
ORDER_EMAIL_DRAIN_AFTER_SECONDS = env_int("ORDER_EMAIL_DRAIN_AFTER_SECONDS", 30)
ORDER_EMAIL_MAX_ATTEMPTS = env_int("ORDER_EMAIL_MAX_ATTEMPTS", 10)
# The send task starts this long after the order that asked for it, so that the orders of the
# next moment share its batch (one task, one transaction per 100 emails) instead of one each.
ORDER_EMAIL_BATCH_WINDOW_MS = env_int("ORDER_EMAIL_BATCH_WINDOW_MS", 1000)

# --- Metrics ------------------------------------------------------------------------------
# GET /metrics (Prometheus text) answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it
# is a 404. gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR for gunicorn's workers.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# --- Static files, i18n ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Security (production) ------------------------------------------------------------------
# The proxy must overwrite X-Forwarded-Proto: Django reads it from any peer.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The load balancers' networks: only through them does the forwarded header name the client
# (storefront.common.proxies.client_address, which every per-client limit counts).
TRUSTED_PROXIES = trusted_networks(os.environ.get("TRUSTED_PROXIES", ""))
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
# Load balancers probe health over plain HTTP inside the network; a redirect would fail them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Logging: one line per event, JSON, to stdout -------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "storefront.common.logging.JsonFormatter"}},
    "filters": {
        "request_id": {"()": "storefront.common.request_id.RequestIdFilter"},
        "client_errors": {"()": "storefront.common.logging.ClientErrorFilter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "client_errors"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Our request middleware logs every request once; Django's own line would repeat it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

TEST_RUNNER = "storefront.common.test_runner.PytestTestRunner"
