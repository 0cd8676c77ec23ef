import logging
import time
from collections.abc import Callable

from django.core.exceptions import DisallowedHost
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import is_valid_path
from rest_framework.response import Response

from storefront.common import request_id
from storefront.common.errors import error_body, json_error_for_status

logger = logging.getLogger("storefront.request")
# Django's own logger for refused hosts (its documentation names it), so that filters and alerts
# set up for it keep working.
disallowed_host_logger = logging.getLogger("django.security.DisallowedHost")
# Enough of a refused Host header to recognise it, not an echo of whatever was sent.
HOST_SHOWN_CHARS = 100


class RequestLogMiddleware:
    """Logs one line per request and turns a lost database into a clean 503.

    Outermost, it also gives the request its id (storefront.common.request_id): the client's
    `X-Request-ID` or a new one, on every log line of the request and on its response.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        this_request = request_id.from_header(request.headers.get(request_id.HEADER))
        token = request_id.activate(this_request)
        try:
            response = self.get_response(request)
            response[request_id.HEADER] = this_request
            self.log(request, response, started)
        finally:
            request_id.deactivate(token)
        return response

    @staticmethod
    def log(request: HttpRequest, response: HttpResponse, started: float) -> None:
        user = getattr(request, "user", None)
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError):
            logger.error("database unavailable", exc_info=exception, extra={"path": request.path})
            response = JsonResponse(
                error_body("service_unavailable", "The database is unavailable; retry shortly."),
                status=503,
            )
            response["Retry-After"] = "1"
            return response
        return None


class ErrorShapeMiddleware:
    """Every error answers the JSON error shape, DEBUG included; HTML only for the admin and for
    DRF's browsable and docs pages.

    With DEBUG on, Django answers an unknown URL and an unhandled exception with its HTML debug
    pages instead of config.urls' JSON handlers (the exception is still logged by
    django.request). Any error response (status 400 and up) whose body is not JSON is replaced
    here by the shape, keeping its status and headers, unless the admin answered it or DRF
    rendered it (DRF's views write the shape themselves, or the browsable page a browser asked
    for).

    A Host that ALLOWED_HOSTS does not list is refused first, with a 400 that names the setting,
    rather than the generic one (or, with DEBUG on, the HTML page) Django would answer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.get_host()
        except DisallowedHost:
            return self.disallowed_host(request)
        response = self.get_response(request)
        if (
            response.status_code < 400
            or "json" in response.get("Content-Type", "")
            or isinstance(response, Response)
            or (request.resolver_match is not None and "admin" in request.resolver_match.namespaces)
        ):
            return response
        shaped = json_error_for_status(response.status_code)
        for header, value in response.items():
            if header.lower() not in {"content-type", "content-length"}:
                shaped[header] = value
        return shaped

    @staticmethod
    def disallowed_host(request: HttpRequest) -> JsonResponse:
        host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
        host = host[:HOST_SHOWN_CHARS]
        disallowed_host_logger.warning("host not in ALLOWED_HOSTS", extra={"host": host})
        return JsonResponse(
            error_body("disallowed_host", f"Host {host!r} is not in this server's ALLOWED_HOSTS."),
            status=400,
        )


class RequestBodyMiddleware:
    """Three ways a request body used to be lost or mistaken, made explicit.

    - A write to a path without its trailing slash (`POST /orders`) is served as the path with
      it, instead of Django's slash-appending redirect, which clients follow with a GET and
      without the body.
    - A chunked body (no Content-Length) is refused with a JSON 411: Django's WSGI request reads
      only Content-Length bytes, so it would otherwise be read as empty.
    - A body shorter than its Content-Length (the client half-closed the connection early) is
      refused with a JSON 400 before anything parses it: what arrived may be valid JSON and
      still not what was sent. The body is read here, as a parser would read it (at most
      DATA_UPLOAD_MAX_MEMORY_SIZE; Django refuses a longer one with a 400).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not (
            request.META.get("CONTENT_LENGTH")
        ):
            return JsonResponse(
                error_body("length_required", "Send the body with a Content-Length header."),
                status=411,
            )
        declared = request.META.get("CONTENT_LENGTH")
        # More digits than any body has would also overflow int() (4 300 at most).
        if declared and not (declared.isascii() and declared.isdigit() and len(declared) < 20):
            return JsonResponse(
                error_body("bad_request", "Content-Length must be a number of bytes."), status=400
            )
        if declared and len(request.body) < int(declared):
            return JsonResponse(
                error_body(
                    "incomplete_body", "The body is shorter than its Content-Length; resend it."
                ),
                status=400,
            )
        if request.method not in {"GET", "HEAD", "OPTIONS"} and not request.path_info.endswith("/"):
            with_slash = f"{request.path_info}/"
            if not is_valid_path(request.path_info) and is_valid_path(with_slash):
                request.path_info = with_slash
        return self.get_response(request)
