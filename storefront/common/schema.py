"""The OpenAPI schema's view of authentication (settings: DEFAULT_SCHEMA_CLASS)."""

from drf_spectacular import openapi
from rest_framework.permissions import AllowAny


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, with security stated as the API works.

    An operation that anonymous clients may call needs no credentials, so it lists none (no
    padlock in Swagger UI), the token login included; one that needs a user lists token auth
    (SPECTACULAR_SETTINGS' AUTHENTICATION_WHITELIST). An operation where a token changes the
    answer without being required says so itself: extend_schema(auth=[...]).
    """

    def get_auth(self) -> list[dict[str, list[str]]]:
        auths = super().get_auth()
        needs_user = any(not isinstance(p, AllowAny) for p in self.view.get_permissions())
        return [auth for auth in auths if auth] if needs_user else []
