from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Login: API tokens for username and password (`POST /api/auth/token/`)."""

    name = "storefront.accounts"
    label = "accounts"
