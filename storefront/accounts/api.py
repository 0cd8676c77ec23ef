import hashlib
from collections.abc import Mapping
from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import parsers, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from storefront.common.errors import error_example, error_response
from storefront.common.parsers import JSONParser
from storefront.common.proxies import client_address
from storefront.common.ratelimit import (
    RateLimit,
    RateLimitedApi,
    Verdict,
    rate_limit_hit_or_allow,
    rate_limit_release_or_keep,
)


class TokenObtainApi(RateLimitedApi, ObtainAuthToken):
    """DRF's token login, parsed by our JSON parser (deep nesting is a 400) and rate limited
    before any password is hashed (each check costs ~0.4 s of PBKDF2 CPU):

    - per client address (`client_address`), LOGIN_CLIENT_RATE_LIMIT attempts in any
      LOGIN_CLIENT_RATE_WINDOW seconds;
    - per username, LOGIN_FAILURE_LIMIT failed attempts in any LOGIN_FAILURE_WINDOW seconds.
      Each attempt takes a slot before its password is checked and gives it back if the
      password was right: however many run at once, at most the limit are checked, and the
      owner's correct logins never fill it. An attacker who fills it makes the username wait at
      most the window after his last failure (tokens already issued keep working). The username
      is counted as it is authenticated, so no padding or spelling of it has a limit of its own.
    Over a limit: 429 with Retry-After. If Redis cannot count, the login is allowed (logged).
    """

    parser_classes = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
    client_verdict: Verdict | None = None  # this request's count against the client limit

    @extend_schema(
        operation_id="auth_token_obtain",
        tags=["auth"],
        summary="Exchange username and password for an API token",
        description="The same token on every call; send it as `Authorization: Token <key>`.",
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer("AuthToken", {"token": serializers.CharField()}),
            400: error_response(
                "Missing fields or wrong credentials.",
                error_example(
                    "Wrong credentials",
                    "invalid",
                    "The request is invalid.",
                    {"non_field_errors": ["Unable to log in with provided credentials."]},
                ),
            ),
            415: error_response(
                "The body is not `application/json`, `application/x-www-form-urlencoded` or "
                "`multipart/form-data` (spelled so, with no parameter but `charset=utf-8` and "
                "a multipart boundary).",
                error_example(
                    "Another type",
                    "unsupported_media_type",
                    'Unsupported media type "text/plain" in request.',
                ),
            ),
            429: error_response(
                "Too many attempts from this client or for this username; `Retry-After` gives "
                "the seconds to wait.",
                error_example(
                    "Too many attempts",
                    "throttled",
                    "Request was throttled. Expected available in 287 seconds.",
                ),
            ),
        },
        examples=[
            OpenApiExample(
                "Login",
                value={"username": "store1-manager", "password": "store1-dev-password"},
                request_only=True,
            ),
            OpenApiExample(
                "Token",
                value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"},
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        self.client_verdict = rate_limit_hit_or_allow(
            "login",
            f"ratelimit:login:client:{client_address(request)}",
            RateLimit(settings.LOGIN_CLIENT_RATE_LIMIT, settings.LOGIN_CLIENT_RATE_WINDOW),
        )
        if self.client_verdict is not None and not self.client_verdict.allowed:
            raise Throttled(wait=self.client_verdict.reset)
        failure = rate_limit_hit_or_allow("login", self.failures_key, self.failure_rate)
        if failure is not None and not failure.allowed:
            raise Throttled(wait=failure.reset)
        response = super().post(request, *args, **kwargs)  # a failure keeps its slot
        if failure is not None:
            rate_limit_release_or_keep("login", self.failures_key, failure)
        return response

    def announced_limit(self) -> Verdict | None:
        return self.client_verdict

    @cached_property
    def failures_key(self) -> str:
        """The username as the serializer passes it to authenticate (stripped of any unicode
        whitespace), NFKC-normalized as Django stores usernames and case-folded: every spelling
        that could be, or look like, one username shares its limit."""
        data = self.request.data if isinstance(self.request.data, Mapping) else {}
        field = self.get_serializer().fields["username"]
        try:
            username = field.run_validation(field.get_value(data))
        except ValidationError:
            username = ""  # refused before any password is checked
        normalized = get_user_model().normalize_username(username).casefold()
        digest = hashlib.sha256(normalized.encode()).hexdigest()
        return f"ratelimit:login:failures:{digest}"

    @property
    def failure_rate(self) -> RateLimit:
        return RateLimit(settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW)
