from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "storefront.orders"
    label = "orders"

    def ready(self) -> None:
        from storefront.notifications.confirmations import confirmations_source_set
        from storefront.orders.selectors import order_confirmations

        confirmations_source_set(order_confirmations)
