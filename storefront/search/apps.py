from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "storefront.search"
    label = "search"

    def ready(self) -> None:
        from storefront.search import signals  # noqa: F401  (connects the receivers)
