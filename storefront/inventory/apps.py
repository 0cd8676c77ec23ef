from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "storefront.inventory"
    label = "inventory"
