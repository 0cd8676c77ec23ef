from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "storefront.stores"
    label = "stores"
