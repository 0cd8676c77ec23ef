"""Content negotiation: a shortcut for what nearly every API client accepts, and strict
request content types.

Renderers: DRF's negotiation parses the Accept header into media types and ranks them for every
request; on an order that was about 5% of the CPU. When the client accepts anything or plain
JSON, names no format, and the view's first renderer renders plain JSON, DRF's answer is known
beforehand: that renderer, with its media type. Every other request is negotiated by DRF.

Parsers: DRF parses a body whose Content-Type merely matches a parser's media type, so
`*/*`, `application/*`, `Application/JSON` and any charset were read as JSON and placed
orders. A body is parsed only when its Content-Type is a parser's media type as spelled, with
no parameter but a UTF-8 charset (and a multipart body's boundary); anything else is a 415.
"""

from collections.abc import Iterable
from urllib.parse import unquote

from django.http import HttpRequest
from django.utils.http import parse_header_parameters
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings

# Accept headers for which DRF picks a plain-JSON first renderer as it is (no header is */*);
# anything else, even JSON with parameters (`; indent=4`), is left to DRF.
PLAIN_JSON_ACCEPTS = frozenset({"*/*", "application/json"})
# DRF's own bound (max_media_type_length) on a Content-Type it will look at.
MAX_CONTENT_TYPE_LENGTH = 256
# The parameters a request's Content-Type may carry besides `charset=utf-8`, by media type.
CONTENT_TYPE_PARAMETERS = {"multipart/form-data": frozenset({"boundary"})}


def accepts_plain_json(request: HttpRequest) -> bool:
    """The client takes the first renderer's plain JSON as DRF would give it."""
    return request.META.get("HTTP_ACCEPT", "*/*") in PLAIN_JSON_ACCEPTS and not _may_name_a_format(
        request
    )


def _may_name_a_format(request: HttpRequest) -> bool:
    # `?format=` overrides the negotiation. Searching the decoded query string for the name
    # also catches an encoded spelling of it, without parsing the query string.
    name = api_settings.URL_FORMAT_OVERRIDE
    return bool(name) and name in unquote(request.META.get("QUERY_STRING", ""))


class ContentNegotiation(DefaultContentNegotiation):
    # The stubs allow any Iterable; DRF passes the view's list (APIView.get_renderers()).
    def select_renderer(  # type: ignore[override]
        self, request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        if (
            not format_suffix
            and renderers
            and renderers[0].media_type == JSONRenderer.media_type
            and accepts_plain_json(request)
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        content_type = request.content_type
        if len(content_type) > MAX_CONTENT_TYPE_LENGTH:
            return None
        try:
            _, parameters = parse_header_parameters(content_type)
        except ValueError:  # an RFC 2231 parameter in an unknown encoding
            return None
        media_type = content_type.partition(";")[0].strip()  # as spelled: not lowercased
        if parameters.pop("charset", "utf-8").lower() != "utf-8":
            return None
        for parser in parsers:
            if media_type == parser.media_type and parameters.keys() <= (
                CONTENT_TYPE_PARAMETERS.get(media_type, frozenset())
            ):
                return parser
        return None
