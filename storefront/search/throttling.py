"""The autocomplete rate limit: SUGGEST_RATE_LIMIT requests in any SUGGEST_RATE_WINDOW seconds.

Counted exactly by storefront.common.ratelimit (a sliding log in one Redis script), whose round
trip also reads the cached response the request may be answered with. A failing counter never
blocks autocomplete: the request is allowed and the failure logged.
"""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from storefront.common.ratelimit import RateLimit, Verdict, client_address, rate_limit_hit_or_allow


class SuggestRateThrottle(BaseThrottle):
    """Per user, or per client IP when anonymous.

    One instance per request, whose count also reads the cache entries `also_get` in the same
    round trip (`entries`; empty when the counter failed). `verdict` is the count's outcome, for
    the RateLimit headers (None when the counter failed).
    """

    def __init__(self, also_get: Sequence[str] = ()) -> None:
        self.also_get = also_get
        self.verdict: Verdict | None = None

    @property
    def entries(self) -> dict[str, Any]:
        return self.verdict.entries if self.verdict is not None else {}

    def wait(self) -> int | None:
        return self.verdict.reset if self.verdict is not None else None

    def allow_request(self, request: Request, view: object) -> bool:
        rate = RateLimit(limit=settings.SUGGEST_RATE_LIMIT, window=settings.SUGGEST_RATE_WINDOW)
        key = f"ratelimit:suggest:{self.client_ident(request)}"
        self.verdict = rate_limit_hit_or_allow("suggest", key, rate, also_get=self.also_get)
        return self.verdict is None or self.verdict.allowed

    @staticmethod
    def client_ident(request: Request) -> str:
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return f"ip:{client_address(request)}"
