"""One URL, several operations, each its own APIView (the project's one view per operation).

Django routes by path only, so `by_method(ReadApi, UpdateApi, ...)` is the URL's view and hands
each request to the view that implements its method, with that view's own authentication,
permissions and serializers. drf-spectacular documents each operation from its own view through
the `endpoints_by_method` preprocessing hook (SPECTACULAR_SETTINGS).
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from rest_framework.views import APIView

from storefront.common.errors import error_body

Endpoint = tuple[str, str, str, Callable[..., Any]]


def by_method(*views: type[APIView]) -> "MethodRoutes":
    """The view of a URL whose operations are `views`, one HTTP method each (HEAD with GET)."""
    return MethodRoutes(*views)


class MethodRoutes:
    # The routed views are DRF's, which do their own CSRF handling (exempt, or the session's).
    csrf_exempt = True
    initkwargs: dict[str, Any] = {}

    def __init__(self, *views: type[APIView]) -> None:
        self.routes: dict[str, Callable[..., HttpResponseBase]] = {}
        for view in views:
            callback = view.as_view()
            for method in view.http_method_names:
                if method not in {"head", "options"} and hasattr(view, method):
                    assert method.upper() not in self.routes, f"two views serve {method}"
                    self.routes[method.upper()] = callback
        if "GET" in self.routes:
            self.routes["HEAD"] = self.routes["GET"]
        # OPTIONS describes the URL (DRF's metadata); the first view answers it.
        self.routes["OPTIONS"] = views[0].as_view()
        self.allow = ", ".join(self.routes)
        # drf-spectacular only enumerates URLs whose view has a DRF class; the hook then
        # replaces this one by the view of each method.
        self.cls = views[0]

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        callback = self.routes.get(request.method or "")
        response: HttpResponseBase
        if callback is None:
            message = f'Method "{request.method}" not allowed.'
            response = JsonResponse(error_body("method_not_allowed", message), status=405)
        else:
            response = callback(request, *args, **kwargs)
        # Each view's Allow would name its own methods only: the URL allows them all.
        response["Allow"] = self.allow
        return response


def endpoints_by_method(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    """drf-spectacular preprocessing hook: every operation of a by_method() URL, documented
    from the view that serves it."""
    documented: list[Endpoint] = []
    for path, path_regex, method, callback in endpoints:
        if isinstance(callback, MethodRoutes):
            documented.extend(
                (path, path_regex, routed, view)
                for routed, view in callback.routes.items()
                if routed not in {"HEAD", "OPTIONS"}
            )
        else:
            documented.append((path, path_regex, method, callback))
    return documented
