"""The search and suggest endpoints: validate, call the service, render through DRF."""

from typing import Any

from django.conf import settings
from django.utils.functional import cached_property
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from storefront.catalog.selectors import category_get_by_reference
from storefront.common.errors import error_response
from storefront.common.ratelimit import RateLimitedApi, Verdict
from storefront.common.replicas import lag_tolerant
from storefront.search.selectors import COUNT_EXACT_UP_TO, FACETS, ORDERINGS, SearchQuery
from storefront.search.services import search_page, suggestions
from storefront.search.throttling import SuggestRateThrottle

QUERY_MAX_LENGTH = 100
BIGINT_MAX = 2**63 - 1
SUGGEST_MIN_LENGTH = 3

# The relevance tiers as sql/search.sql (search_tier_sql) defines them and docs/search.md
# tabulates them.
RELEVANCE = (
    "A product matches when every word of `q` starts a word of its title or description (a word "
    "of one or two characters is a whole word), accents, case and punctuation ignored. Ranked in "
    "tiers: (1) the title starts with the words in the order typed; (2) a later title word does; "
    "(3) every word is in the title; (4) the other matches (a word only in the description). "
    "Within a tier, and for `ordering=title`, title order: the normalized title, then the id."
)


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


@extend_schema_field({"type": "string", "example": "category,price"})
class FacetListField(serializers.Field):
    """A comma-separated list of facet names."""

    default_error_messages = {"invalid": f"Comma-separated names among: {', '.join(FACETS)}."}

    def to_internal_value(self, data: object) -> tuple[str, ...]:
        names = [name.strip() for name in str(data).split(",")]
        if not set(names) <= set(FACETS):
            self.fail("invalid")
        return tuple(name for name in FACETS if name in names)

    def to_representation(self, value: tuple[str, ...]) -> str:
        return ",".join(value)


class ProductResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    category = serializers.CharField()
    # required=False: rows without the key (no store_id) omit it entirely.
    store_quantity = serializers.IntegerField(
        required=False, help_text="Present only when `store_id` is given; read live."
    )


class CategoryFacetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField()


# "from" is a keyword: the fields are declared by name.
PriceBucketSerializer = type(
    "PriceBucketSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DecimalField(max_digits=14, decimal_places=2),
        "to": serializers.DecimalField(
            max_digits=14, decimal_places=2, help_text="Exclusive upper bound."
        ),
        "count": serializers.IntegerField(),
    },
)


class PriceFacetSerializer(serializers.Serializer):
    min = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    max = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    buckets = PriceBucketSerializer(
        many=True,
        help_text="Equal widths: the smallest of 1, 2 or 5 times a power of ten (at least 1) "
        "that covers min..max in at most 10 buckets.",
    )


class FacetsSerializer(serializers.Serializer):
    category = CategoryFacetSerializer(
        many=True,
        required=False,
        help_text="Counted with every filter but `category` (disjunctive), by descending count.",
    )
    price = PriceFacetSerializer(required=False)


class ProductSearchPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text=f"Matches: exact up to {COUNT_EXACT_UP_TO:,}, estimated above (within 10%)."
    )
    count_exact = serializers.BooleanField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_next = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    fuzzy = serializers.BooleanField(
        help_text="True when nothing matched `q`; the results then match its words corrected to "
        "the most similar catalog words (typo tolerance)."
    )
    facets = FacetsSerializer(required=False, help_text="Present when `facets` is given.")
    facets_exact = serializers.BooleanField(
        required=False, help_text="Present with `facets`: false when they were estimated."
    )
    results = ProductResultSerializer(many=True)


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class SuggestionListSerializer(serializers.Serializer):
    results = SuggestionSerializer(many=True)


# One instance each, built once: to_representation keeps nothing between calls, and building a
# serializer deep-copies every declared field (nested ones included) on each request.
SEARCH_PAGE = ProductSearchPageSerializer()
SUGGESTION_LIST = SuggestionListSerializer()


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
            max_value=BIGINT_MAX,
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
        facets = FacetListField(
            required=False, help_text="`category`, `price` or both, comma-separated."
        )

        def validate_category(self, value: str) -> int:
            category = category_get_by_reference(reference=value)
            if category is None:
                raise serializers.ValidationError("Unknown category.")
            return category.pk

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
            "A product matches when every word of `q` is in its title or description; accents, "
            f"case and punctuation are ignored (`cafe` finds `Café`). {RELEVANCE} Filters "
            "combine. `count` is exact up to 10,000 matches (`count_exact`), estimated above. "
            "`store_quantity` is present only when `store_id` is given, and always read live "
            "(never cached); `in_stock` is exact at commit."
        ),
        tags=["search"],
        parameters=[InputSerializer],
        responses={
            200: ProductSearchPageSerializer,
            400: error_response("Invalid parameters."),
        },
        examples=[
            OpenApiExample(
                "Search with store stock and facets",
                response_only=True,
                value={
                    "count": 1234,
                    "count_exact": True,
                    "page": 1,
                    "page_size": 20,
                    "has_next": True,
                    "next": "http://api.example/api/search/products/?q=pro&store_id=1&page=2",
                    "previous": None,
                    "fuzzy": False,
                    "facets": {
                        "category": [{"id": 3, "name": "Electronics", "count": 1234}],
                        "price": {
                            "min": "1.00",
                            "max": "999.00",
                            "buckets": [{"from": "0.00", "to": "100.00", "count": 120}],
                        },
                    },
                    "facets_exact": True,
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
    @lag_tolerant
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=strict_query_params(request))
        params.is_valid(raise_exception=True)
        found = search_page(SearchQuery(**params.validated_data))
        if not found.store_exists and found.query.store_id is not None:
            # Checked by the query that reads the page's stock, not by one of its own.
            raise serializers.ValidationError({"store_id": ["Unknown store."]})
        url = request.build_absolute_uri()
        page = found.query.page
        body: dict[str, Any] = {
            "count": found.matches.count,
            "count_exact": found.matches.count_exact,
            "page": page,
            "page_size": found.query.page_size,
            "has_next": found.has_next,
            "next": replace_query_param(url, "page", page + 1) if found.has_next else None,
            "previous": replace_query_param(url, "page", page - 1) if page > 1 else None,
            "fuzzy": found.matches.fuzzy,
            "results": found.rows,
        }
        if found.query.facets:
            body["facets"] = found.matches.facets
            body["facets_exact"] = found.matches.facets_exact
        return Response(SEARCH_PAGE.to_representation(body))


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
            "Up to 10 titles: those starting with `q` first, then those containing it, each "
            "group in title order; accents, case and punctuation ignored, each title once. Rate "
            "limited per user, or per client IP when anonymous (SUGGEST_RATE_LIMIT per "
            "SUGGEST_RATE_WINDOW seconds)."
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
    @lag_tolerant
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=strict_query_params(request))
        params.is_valid(raise_exception=True)
        rows = suggestions(params.validated_data["q"])
        return Response(SUGGESTION_LIST.to_representation({"results": rows}))

    def get_throttles(self) -> list[BaseThrottle]:
        return [self.throttle]

    def announced_limit(self) -> Verdict | None:
        return self.throttle.verdict

    @cached_property
    def throttle(self) -> SuggestRateThrottle:
        """This request's rate limit (one per request: it keeps the verdict for the headers)."""
        return SuggestRateThrottle()
