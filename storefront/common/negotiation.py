"""Content negotiation with a shortcut for what nearly every API client asks for.

DRF's negotiation parses the Accept header into media types and ranks them for every request;
on an order that was about 5% of the CPU. When the client accepts anything or plain JSON, names
no format, and the view's first renderer renders plain JSON, DRF's answer is known beforehand:
that renderer, with its media type. Every other request is negotiated by DRF as before.
"""

from urllib.parse import unquote

from django.http import HttpRequest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.settings import api_settings

# Accept headers for which DRF picks a plain-JSON first renderer as it is (no header is */*);
# anything else, even JSON with parameters (`; indent=4`), is left to DRF.
PLAIN_JSON_ACCEPTS = frozenset({"*/*", "application/json"})


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
