import json
import logging
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import cached_property
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from storefront.catalog.selectors import category_get_by_reference
from storefront.common.errors import error_response
from storefront.common.ratelimit import RateLimitedApi, Verdict
from storefront.inventory.selectors import store_quantities
from storefront.search import cache as search_cache
from storefront.search.selectors import ORDERINGS, product_search, product_suggest
from storefront.search.throttling import SuggestRateThrottle
from storefront.stores.selectors import store_exists

logger = logging.getLogger(__name__)

QUERY_MAX_LENGTH = 100
SUGGEST_MIN_LENGTH = 3
# Cached responses, keyed by the query string as sent (_response_key).
SEARCH_RESPONSES = "products-response"
SUGGEST_RESPONSES = "suggest-response"


def strict_query_params(request: Request) -> dict[str, str]:
    """The query as a plain dict: DRF would read `?ordering=` from a QueryDict as "absent",
    while the schema documents every parameter as non-empty; an empty value is a 400."""
    return request.query_params.dict()


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class TrueFalseField(serializers.Field):
    """Exactly "true" or "false" (any case): a typo must not silently disable a filter."""

    default_error_messages = {"invalid": 'Must be "true" or "false".'}

    def to_internal_value(self, data: object) -> bool:
        value = str(data).strip().lower()
        if value not in {"true", "false"}:
            self.fail("invalid")
        return value == "true"

    def to_representation(self, value: bool) -> bool:
        return value


class ProductResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    category = serializers.CharField(source="category.name")
    # required=False: products without the annotation (no store_id) omit the key entirely.
    store_quantity = serializers.IntegerField(
        required=False, help_text="Present only when `store_id` is given."
    )


class ProductSearchPageSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_next = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    fuzzy = serializers.BooleanField(
        help_text="True when nothing matched `q` and these are similar titles (typo tolerance)."
    )
    results = ProductResultSerializer(many=True)


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class SuggestionListSerializer(serializers.Serializer):
    results = SuggestionSerializer(many=True)


def json_text(data: object) -> str:
    """`data` as the text DRF's JSONRenderer writes: compact, non-ASCII as is, and U+2028/U+2029
    escaped so that the output is also valid JavaScript. `data` holds only JSON-native values
    (strings, ints, booleans, None, lists, dicts)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def json_response(request: Request, body: bytes) -> HttpResponse:
    """`body` (UTF-8 of `json_text`) answered without a `Response`'s renderer machinery (a visible
    share of a cache hit's CPU). Content negotiation has already run in `initial()`: any other
    outcome (the browsable API under DEBUG, `; indent=` pretty printing) takes DRF's path."""
    if request.accepted_media_type != JSONRenderer.media_type:
        return Response(json.loads(body))
    return HttpResponse(body, content_type=JSONRenderer.media_type)


class RenderedPage(NamedTuple):
    """A search response as cached: its JSON, less what every request adds, namely the scheme,
    host and path of the `next` and `previous` links (they follow the request) and each result's
    `store_quantity` (read live)."""

    store_id: int | None
    ids: list[int]
    rows: list[str]  # each result's JSON object without `store_quantity` and the closing brace
    page: int
    page_size: int
    has_next: bool
    next_query: str | None  # the links' query strings, as DRF's replace_query_param writes them
    previous_query: str | None
    fuzzy: bool

    def body(self, url: str, quantities: dict[int, int] | None) -> bytes:
        """The response for the request URL `url` (without its query), with `quantities` when
        the page has a store."""
        head = json_text(
            {
                "page": self.page,
                "page_size": self.page_size,
                "has_next": self.has_next,
                "next": self.next_query and f"{url}?{self.next_query}",
                "previous": self.previous_query and f"{url}?{self.previous_query}",
                "fuzzy": self.fuzzy,
            }
        )
        if quantities is None:
            results = [f"{row}}}" for row in self.rows]
        else:
            results = [
                f'{row},"store_quantity":{quantities.get(product_id, 0)}}}'
                for product_id, row in zip(self.ids, self.rows, strict=True)
            ]
        # The results go where the head's closing brace was.
        return f'{head[:-1]},"results":[{",".join(results)}]}}'.encode()


class ProductSearchApi(APIView):
    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True, max_length=QUERY_MAX_LENGTH)
        min_price = serializers.DecimalField(
            required=False, max_digits=10, decimal_places=2, min_value=0
        )
        max_price = serializers.DecimalField(
            required=False, max_digits=10, decimal_places=2, min_value=0
        )
        category = serializers.CharField(
            required=False,
            source="category_id",
            max_length=100,
            help_text="Category name (case-insensitive) or id.",
        )
        store_id = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="Adds each product's quantity in this store as `store_quantity`.",
        )
        in_stock = TrueFalseField(
            required=False,
            help_text="true: only products with stock in `store_id` (or in any store).",
        )
        ordering = serializers.ChoiceField(
            required=False,
            choices=ORDERINGS,
            help_text="Default: relevance when `q` is given, otherwise title.",
        )
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(
            required=False, min_value=1, help_text="Capped at MAX_PAGE_SIZE."
        )

        def validate_category(self, value: str) -> int:
            category = category_get_by_reference(reference=value)
            if category is None:
                raise serializers.ValidationError("Unknown category.")
            return category.pk

        def validate_store_id(self, value: int) -> int:
            if not store_exists(store_id=value):
                raise serializers.ValidationError("Unknown store.")
            return value

        def validate_page(self, value: int) -> int:
            # Deep OFFSETs cost as much as reading every row before them; refine the query.
            if value > settings.SEARCH_MAX_PAGE:
                raise serializers.ValidationError(
                    f"Ensure this value is less than or equal to {settings.SEARCH_MAX_PAGE}."
                )
            return value

        def validate_page_size(self, value: int) -> int:
            return min(value, settings.MAX_PAGE_SIZE)

        def validate(self, attrs: dict) -> dict:
            low, high = attrs.get("min_price"), attrs.get("max_price")
            if low is not None and high is not None and low > high:
                raise serializers.ValidationError(
                    {"min_price": ["Must not be greater than max_price."]}
                )
            return attrs

    @extend_schema(
        operation_id="search_products",
        summary="Search products",
        description=(
            "Case-insensitive substring search over titles and descriptions, ranked exact title > "
            "title prefix > word prefix > other title match > description match, then title. "
            "Filters combine. Pages carry `has_next` instead of a total count. `store_quantity` "
            "is present only when `store_id` is given, and always read live (never cached)."
        ),
        tags=["search"],
        parameters=[InputSerializer],
        responses={
            200: ProductSearchPageSerializer,
            400: error_response("Invalid parameters."),
        },
        examples=[
            OpenApiExample(
                "Search with store stock",
                response_only=True,
                value={
                    "page": 1,
                    "page_size": 20,
                    "has_next": True,
                    "next": "http://api.example/api/search/products/?q=pro&store_id=1&page=2",
                    "previous": None,
                    "fuzzy": False,
                    "results": [
                        {
                            "id": 42,
                            "title": "Pro Wireless Mouse",
                            "price": "29.99",
                            "category": "Electronics",
                            "store_quantity": 7,
                        }
                    ],
                },
            ),
            OpenApiExample(
                "Unknown store",
                status_codes=["400"],
                response_only=True,
                value={
                    "error": {
                        "code": "invalid",
                        "message": "The request is invalid.",
                        "fields": {"store_id": ["Unknown store."]},
                    }
                },
            ),
        ],
    )
    def get(self, request: Request) -> HttpResponse:
        cached = _response_lookup(request)
        body = _cached_response(request, cached) or self.search(request, cached)
        return json_response(request, body)

    def search(self, request: Request, cached: search_cache.Lookup | None) -> bytes:
        """Validates and runs the search; caches its response, less its stock, under `cached`."""
        params = self.InputSerializer(data=strict_query_params(request))
        params.is_valid(raise_exception=True)
        found = product_search(**params.validated_data)
        rows = ProductResultSerializer(found.results, many=True).data
        store_id = params.validated_data.get("store_id")
        url = request.build_absolute_uri()
        page = RenderedPage(
            store_id=store_id,
            ids=[row["id"] for row in rows],
            rows=[json_text(_without_stock(row))[:-1] for row in rows],
            page=found.page,
            page_size=found.page_size,
            has_next=found.has_next,
            next_query=_link_query(url, found.page + 1) if found.has_next else None,
            previous_query=_link_query(url, found.page - 1) if found.page > 1 else None,
            fuzzy=found.fuzzy,
        )
        in_stock = params.validated_data.get("in_stock", False)
        if cached is not None and search_cache.cacheable(in_stock=in_stock):
            search_cache.remember(cached, page)
        quantities = None
        if store_id is not None:
            quantities = {row["id"]: row["store_quantity"] for row in rows}
        return page.body(_without_query(url), quantities)


def _response_key(namespace: str, request: HttpRequest) -> str:
    """Cached responses are keyed by the query string as sent, as an HTTP cache keys them.

    A hit then needs no parsing, and the query part of a search's links is cached with it. A
    response is stored only for a query that passed validation, so a hit also skips validation
    (and for a search its category and store queries); a query spelt differently is stored
    once per spelling, its results still cached by the validated parameters (selectors).
    """
    return search_cache.text_key(namespace, request.META.get("QUERY_STRING", ""))


def _response_lookup(request: HttpRequest) -> search_cache.Lookup | None:
    """The cached search response to this request, or None when the cache is down."""
    key = _response_key(SEARCH_RESPONSES, request)
    recent = search_cache.recent_responses.get(key)
    if recent is not None:
        return recent
    try:
        found = search_cache.lookup(key)
    except Exception:
        logger.warning("search cache unavailable; answering uncached", exc_info=True)
        return None
    search_cache.recent_responses.keep(found)
    return found


def _cached_response(request: HttpRequest, cached: search_cache.Lookup | None) -> bytes | None:
    """The cached response with today's `store_quantity`, read in one query that also confirms
    the store still exists (None when it was deleted: a fresh search then reports it)."""
    page: RenderedPage | None = cached.value if cached else None
    if page is None:
        return None
    quantities = None
    if page.store_id is not None:
        quantities = store_quantities(store_id=page.store_id, product_ids=page.ids)
        if quantities is None:
            return None
    return page.body(_without_query(request.build_absolute_uri()), quantities)


def _link_query(url: str, page: int) -> str:
    return urlsplit(replace_query_param(url, "page", page)).query


def _without_query(url: str) -> str:
    # build_absolute_uri() escapes a "?" in the path, so the first one starts the query.
    return url.partition("?")[0]


def _without_stock(row: dict) -> dict:
    return {key: value for key, value in row.items() if key != "store_quantity"}


class ProductSuggestApi(RateLimitedApi):
    class InputSerializer(serializers.Serializer):
        _too_short = f"Type at least {SUGGEST_MIN_LENGTH} characters to get suggestions."

        q = serializers.CharField(
            min_length=SUGGEST_MIN_LENGTH,
            max_length=QUERY_MAX_LENGTH,
            error_messages={"required": _too_short, "blank": _too_short, "min_length": _too_short},
        )

    @extend_schema(
        operation_id="search_suggest",
        summary="Autocomplete product titles",
        description=(
            "Up to 10 distinct titles: those starting with `q` first, then those containing it, "
            "each group alphabetical (case-insensitive). Rate limited per user, or per client IP "
            "when anonymous (SUGGEST_RATE_LIMIT per SUGGEST_RATE_WINDOW seconds)."
        ),
        tags=["search"],
        parameters=[InputSerializer],
        responses={
            200: SuggestionListSerializer,
            400: error_response("`q` missing or too short."),
            429: error_response(
                "Rate limit exceeded; the `Retry-After` header gives the seconds "
                "until the window resets."
            ),
        },
        examples=[
            OpenApiExample(
                "Suggestions for pro",
                response_only=True,
                value={
                    "results": [
                        {"id": 12, "title": "Pro Laptop K120"},
                        {"id": 7, "title": "Professional Mouse A17"},
                        {"id": 31, "title": "Ultra Screen Protector B40"},
                    ]
                },
            ),
            OpenApiExample(
                "Query too short",
                status_codes=["400"],
                response_only=True,
                value={
                    "error": {
                        "code": "invalid",
                        "message": "The request is invalid.",
                        "fields": {"q": ["Type at least 3 characters to get suggestions."]},
                    }
                },
            ),
            OpenApiExample(
                "Too many requests",
                status_codes=["429"],
                response_only=True,
                value={
                    "error": {
                        "code": "throttled",
                        "message": "Request was throttled. Expected available in 41 seconds.",
                    }
                },
            ),
        ],
    )
    def get(self, request: Request) -> HttpResponse:
        cached = self.cached
        if cached.value is not None:
            return json_response(request, cached.value)
        params = self.InputSerializer(data=strict_query_params(request))
        params.is_valid(raise_exception=True)
        # Cached suggestions are already the response's plain {"id", "title"} rows.
        suggestions = product_suggest(q=params.validated_data["q"])
        body = json_text({"results": suggestions}).encode()
        search_cache.remember(cached, body)
        return json_response(request, body)

    def get_throttles(self) -> list[BaseThrottle]:
        return [self.throttle]

    def announced_limit(self) -> Verdict | None:
        return self.throttle.verdict

    @cached_property
    def throttle(self) -> SuggestRateThrottle:
        """This request's rate limit, whose Redis round trip also reads the cached response."""
        return SuggestRateThrottle(also_get=search_cache.lookup_keys(self.response_key))

    @cached_property
    def response_key(self) -> str:
        return _response_key(SUGGEST_RESPONSES, self.request)

    @property
    def cached(self) -> search_cache.Lookup:
        """This request's cached response, as the rate limit's round trip read it."""
        return search_cache.lookup_in(self.response_key, self.throttle.entries)
