"""The negotiation shortcut answers exactly as DRF's own negotiation."""

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer, TemplateHTMLRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from storefront.common.negotiation import ContentNegotiation

RENDERER_LISTS = {
    "json": [JSONRenderer()],
    "json, browsable": [JSONRenderer(), BrowsableAPIRenderer()],
    "browsable, json": [BrowsableAPIRenderer(), JSONRenderer()],
    "html": [TemplateHTMLRenderer()],
}
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/*",
]
QUERIES = ["", "q=pro", "format=json", "format=api", "q=%66ormat"]


def negotiated(negotiation, *, renderers, accept, query, suffix=None):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/x/?{query}", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except Exception as error:  # NotAcceptable, Http404 for an unknown format
        return type(error).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", RENDERER_LISTS)
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", QUERIES)
def test_same_choice_as_drfs_negotiation(renderers, accept, query):
    options = {"renderers": RENDERER_LISTS[renderers], "accept": accept, "query": query}
    ours = negotiated(ContentNegotiation(), **options)
    assert ours == negotiated(DefaultContentNegotiation(), **options)


def test_a_format_suffix_is_negotiated_by_drf():
    options = {"renderers": RENDERER_LISTS["json, browsable"], "accept": None, "query": ""}
    ours = negotiated(ContentNegotiation(), suffix="api", **options)
    assert ours == negotiated(DefaultContentNegotiation(), suffix="api", **options)
    assert ours[0] == "BrowsableAPIRenderer"


def test_the_api_uses_it():
    # api_settings imports the dotted path; the stubs type the setting as that str.
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is ContentNegotiation  # type: ignore[comparison-overlap]
