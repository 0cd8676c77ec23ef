import unicodedata
from base64 import b64decode
from datetime import datetime
from typing import Any, cast
from urllib.parse import parse_qs

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, QuerySet
from django.utils import timezone
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from storefront.common.errors import error_example, error_response

# What DRF's encode_cursor writes: offset, reverse, position.
CURSOR_KEYS = frozenset({"o", "r", "p"})


class KeysetPagination(pagination.CursorPagination):
    """`?cursor=...&page_size=M`: each page continues from the last row of the one before
    (``WHERE key > last ORDER BY key LIMIT M``), so the deepest page reads what the first reads.

    DRF's CursorPagination, with changes that keep the API's conventions: `page_size` is part
    of every response, and a cursor or page size is checked in full before any query, an
    invalid one being a 400 naming the parameter (DRF answers 404 for some bad cursors, lets
    others reach the database as a 500, and silently uses the default for a bad page size).
    Subclasses set `ordering`, which must end on a unique column and match an index, and whose
    first column is a field of the model (it types the cursor's position).
    """

    page_size_query_param = "page_size"
    # REST_FRAMEWORK's PAGE_SIZE, which settings always set (DRF allows None in general).
    page_size: int = cast(int, api_settings.PAGE_SIZE)
    ordering: tuple[str, ...]
    # The model field of the first ordering column, set for each request by paginate_queryset.
    position_field: Field

    # Read at request time so tests can override the setting. DRF only reads it: a property
    # will do, where the stubs declare a writable attribute.
    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.MAX_PAGE_SIZE

    # Pages querysets only: the first ordering column's model field types the position.
    def paginate_queryset(  # type: ignore[override]
        self, queryset: QuerySet, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self.position_field = queryset.model._meta.get_field(self.ordering[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        significant = raw.lstrip("0")
        # str.isdigit() alone takes "²" and other digits, which int() then refuses or reads.
        if not (raw.isascii() and raw.isdigit() and significant):
            raise ValidationError({self.page_size_query_param: ["A positive integer is required."]})
        # More digits than the maximum is over it: capped without int(), which refuses strings
        # of more than 4 300 digits.
        if len(significant) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(significant), self.max_page_size)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            return self._parse_cursor(encoded)
        except (ValueError, DjangoValidationError):
            invalid = {self.cursor_query_param: [self.invalid_cursor_message]}
            raise ValidationError(invalid) from None

    def _parse_cursor(self, encoded: str) -> pagination.Cursor:
        """The cursor as DRF's encode_cursor writes it, or ValueError: strict base64 of a query
        string with each of `o` (offset, ASCII digits), `r` (reverse, 0 or 1) and `p` (the
        position, a value of `position_field`) at most once, and at least one of them."""
        text = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
        tokens = parse_qs(text, keep_blank_values=True, strict_parsing=True, errors="strict")
        if not tokens or not tokens.keys() <= CURSOR_KEYS:
            raise ValueError(text)
        values = {key: value for key, (value,) in tokens.items()}  # ValueError if repeated
        offset, reverse = values.get("o", "0"), values.get("r", "0")
        if not (offset.isascii() and offset.isdigit()) or reverse not in {"0", "1"}:
            raise ValueError(text)
        position = values.get("p")
        if position is not None:
            self._check_position(position)
        return pagination.Cursor(
            offset=min(int(offset), self.offset_cutoff),
            reverse=reverse == "1",
            position=position,  # type: ignore[arg-type]  # the stubs say int; DRF writes str
        )

    def _check_position(self, position: str) -> None:
        """ValueError or Django's ValidationError unless `position` is a value of the first
        ordering column, as the cursors the API writes hold it."""
        if any(unicodedata.category(char) == "Cc" for char in position):
            raise ValueError("control character")  # PostgreSQL text cannot even hold NUL
        value = self.position_field.to_python(position)
        # The API writes aware timestamps; a naive one would be compared in a guessed zone.
        if isinstance(value, datetime) and timezone.is_naive(value):
            raise ValueError("no UTC offset")

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
