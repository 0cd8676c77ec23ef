from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import parsers, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from storefront.common.errors import error_example, error_response
from storefront.common.parsers import JSONParser


class TokenObtainApi(ObtainAuthToken):
    """DRF's token login, parsed by our JSON parser (deep nesting is a 400) and fully documented."""

    parser_classes = [JSONParser, parsers.FormParser, parsers.MultiPartParser]

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
        },
        examples=[
            OpenApiExample(
                "Login",
                value={"username": "store1-manager", "password": "a-long-password"},
                request_only=True,
            ),
            OpenApiExample(
                "Token",
                value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"},
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)
