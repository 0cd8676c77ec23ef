"""The benchmark's settings: production's, with the URLconf that adds the framework floor
(bench/floor_urls.py). bench/run.py selects them with DJANGO_SETTINGS_MODULE."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
