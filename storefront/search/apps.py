from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "storefront.search"
    label = "search"
