"""One JSON error shape for the whole API: {"error": {"code", "message", "fields"}}."""

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


# The schema of error_body(), so that every documented 4xx says what its body looks like.
ErrorSerializer = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(required=False),
            },
        )
    },
)


def error_response(description: str, *examples: OpenApiExample) -> OpenApiResponse:
    """A documented error status: the error shape, and examples of its body."""
    return OpenApiResponse(ErrorSerializer, description=description, examples=list(examples))


def error_example(
    name: str, code: str, message: str, fields: dict[str, Any] | None = None
) -> OpenApiExample:
    """An example body of error_body(), for the status of the error_response() it is given to."""
    return OpenApiExample(name, value=error_body(code, message, fields), response_only=True)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _first_code(detail: Any) -> str:
    """The machine-readable code of the first error inside a DRF detail structure."""
    if isinstance(detail, dict):
        detail = next(iter(detail.values()), "")
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    if isinstance(detail, dict | list):
        return _first_code(detail)
    return getattr(detail, "code", "invalid")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django logs it and answers with json_server_error
    if isinstance(exc, exceptions.ValidationError):
        detail: object = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = error_body("invalid", "The request is invalid.", fields)
    else:
        detail = getattr(exc, "detail", str(exc))
        # An exception may name what it is about in `fields` (e.g. the stock a 409 lacked).
        response.data = error_body(_first_code(detail), str(detail), getattr(exc, "fields", None))
    return response


# The code and message of an error that no view described: Django's error handlers, and the
# DEBUG pages ErrorShapeMiddleware replaces. Another status gets its HTTP reason phrase.
STATUS_ERRORS = {
    400: ("bad_request", "Bad request."),
    403: ("permission_denied", "Permission denied."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    500: ("server_error", "Internal server error."),
}


def json_error_for_status(status_code: int) -> JsonResponse:
    """The error shape for a bare status."""
    phrase = HTTPStatus(status_code).phrase
    code, message = STATUS_ERRORS.get(
        status_code, (phrase.lower().replace(" ", "_").replace("-", "_"), f"{phrase}.")
    )
    return JsonResponse(error_body(code, message), status=status_code)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_for_status(400)


def json_permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return json_error_for_status(403)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_for_status(404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return json_error_for_status(500)
