"""Answering a request before DRF's request handling, when that handling would change nothing.

DRF wraps every request in a `Request`, negotiates the content type, runs the authenticators and
the permission and throttle checks, and finalizes the response: on a cached search or suggestion
that was about a third of the CPU, and for an anonymous GET answered in plain JSON by a view
open to anyone, none of it shows in the response. `EarlyAnswerMixin` lets such a view answer
those requests first, from its cache, and hands every other request to DRF unchanged.
"""

import functools

from django.http import HttpRequest, HttpResponse
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from storefront.common.negotiation import accepts_plain_json


class EarlyAnswerMixin:
    """For an APIView (listed before it) that can answer some requests from a cache.

    `early_body()` is asked first, for GET requests that DRF would handle as anonymous and
    answer with JSONRenderer, on a view that lets anyone in (`_drf_changes_nothing`). Its bytes
    are sent as DRF would send them; None hands the request to DRF, as is every other request.
    Throttles in `throttle_classes` would be skipped, so a view with any never answers early; a
    rate-limited view counts the request in `early_body` and hands DRF that same throttle from
    `get_throttles` (search.api.ProductSuggestApi).
    """

    def early_body(self, request: HttpRequest) -> bytes | None:
        raise NotImplementedError

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if _drf_changes_nothing(self, request):
            body = self.early_body(request)
            if body is not None:
                response = HttpResponse(body, content_type=JSONRenderer.media_type)
                # What APIView.finalize_response adds: Allow, and Vary with several renderers.
                for name, value in self.default_response_headers.items():
                    response[name] = value
                return response
        return super().dispatch(request, *args, **kwargs)


def _drf_changes_nothing(view: APIView, request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and _anonymous_to_drf(request)
        and accepts_plain_json(request)
        and _lets_anonymous_json_in(type(view))
    )


def _anonymous_to_drf(request: HttpRequest) -> bool:
    """Nobody for DRF's authenticators: no user forced by its test client (read the same way
    by `rest_framework.request.Request`), no token header, and no session user, read as
    SessionAuthentication reads it (so the response varies by Cookie all the same)."""
    return (
        getattr(request, "_force_auth_user", None) is None
        and getattr(request, "_force_auth_token", None) is None
        and "HTTP_AUTHORIZATION" not in request.META
        and not request.user.is_authenticated
    )


@functools.cache
def _lets_anonymous_json_in(view_class: type[APIView]) -> bool:
    """The view's own settings: the project's authenticators, which find nobody in a request
    without credentials; only AllowAny; no declared throttles; JSON as the renderer DRF picks
    for */*."""
    return (
        set(view_class.authentication_classes) <= {TokenAuthentication, SessionAuthentication}
        and all(permission is AllowAny for permission in view_class.permission_classes)
        and not view_class.throttle_classes
        and view_class.renderer_classes[0] is JSONRenderer
    )
