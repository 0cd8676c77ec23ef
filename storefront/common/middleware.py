import logging
import time
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from storefront.common.errors import error_body

logger = logging.getLogger("storefront.request")


class RequestLogMiddleware:
    """Logs one line per request and turns a lost database into a clean 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
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
        return response

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
