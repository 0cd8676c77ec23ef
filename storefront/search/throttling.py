"""The autocomplete rate limit: SUGGEST_RATE_LIMIT requests in any SUGGEST_RATE_WINDOW seconds.

Counted exactly by storefront.common.ratelimit (a sliding log in one Redis script). A failing
counter never blocks autocomplete: the request is allowed and the failure logged.
"""

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from storefront.common.proxies import client_address
from storefront.common.ratelimit import RateLimit, Verdict, rate_limit_hit_or_allow


class SuggestRateThrottle(BaseThrottle):
    """Per user, or per client address (`client_address`) when anonymous. One instance per
    request: `verdict` is its count's outcome, for the RateLimit headers (None when the counter
    failed)."""

    def __init__(self) -> None:
        self.verdict: Verdict | None = None

    def wait(self) -> int | None:
        return self.verdict.reset if self.verdict is not None else None

    def allow_request(self, request: Request, view: object) -> bool:
        rate = RateLimit(limit=settings.SUGGEST_RATE_LIMIT, window=settings.SUGGEST_RATE_WINDOW)
        key = f"ratelimit:suggest:{self.client_ident(request)}"
        self.verdict = rate_limit_hit_or_allow("suggest", key, rate)
        return self.verdict is None or self.verdict.allowed

    @staticmethod
    def client_ident(request: Request) -> str:
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return f"ip:{client_address(request)}"
