from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Liveness and readiness probes: /healthz and /readyz."""

    name = "storefront.health"
    label = "health"
