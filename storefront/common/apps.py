from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "storefront.common"
    label = "common"
