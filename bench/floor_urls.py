"""Bench-only URLconf: the application's routes plus the framework floor.

Selected by bench/settings.py, so the floor view runs in the very same gunicorn workers, settings
and middleware stack as the endpoints it is compared with.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as app_urls

FLOOR_BODY = {"status": "ok", "results": [{"id": 1, "title": "Floor"}]}


def floor(request: HttpRequest) -> JsonResponse:
    """Constant JSON: what any request costs before the application does anything."""
    return JsonResponse(FLOOR_BODY)


urlpatterns = [
    path("bench/floor/", floor, name="bench-floor"),
    *app_urls,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
