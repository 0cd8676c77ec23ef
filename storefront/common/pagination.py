from typing import Any, cast

from django.conf import settings
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from storefront.common.errors import error_example, error_response


class KeysetPagination(pagination.CursorPagination):
    """`?cursor=...&page_size=M`: each page continues from the last row of the one before
    (``WHERE key > last ORDER BY key LIMIT M``), so the deepest page reads what the first reads.

    DRF's CursorPagination, with two changes that keep the API's conventions: `page_size` is
    part of every response, and an invalid cursor or page size is a 400 naming the parameter
    (DRF answers 404 for a bad cursor and silently uses the default for a bad page size).
    Subclasses set `ordering`, which must end on a unique column and match an index.
    """

    page_size_query_param = "page_size"
    # REST_FRAMEWORK's PAGE_SIZE, which settings always set (DRF allows None in general).
    page_size: int = cast(int, api_settings.PAGE_SIZE)

    # Read at request time so tests can override the setting. DRF only reads it: a property
    # will do, where the stubs declare a writable attribute.
    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: ["A positive integer is required."]})
        return min(int(raw), self.max_page_size)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        try:
            return super().decode_cursor(request)
        except NotFound:
            invalid = {self.cursor_query_param: [self.invalid_cursor_message]}
            raise ValidationError(invalid) from None

    def get_paginated_response(self, data: list[dict[str, Any]]) -> Response:
        return Response(
            {
                "page_size": self.page_size,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["page_size", *response.get("required", [])]
        response["properties"] = {
            "page_size": {"type": "integer", "example": 20},
            **response["properties"],
        }
        return response


# The documented 400 of an endpoint paged by KeysetPagination.
KEYSET_PAGING_ERROR = error_response(
    "Invalid `cursor` or `page_size`.",
    error_example(
        "Bad page size",
        "invalid",
        "The request is invalid.",
        {"page_size": ["A positive integer is required."]},
    ),
)
