from django.apps import AppConfig


class SeedingConfig(AppConfig):
    """Sample data for development and benchmarks: `manage.py seed_data`."""

    name = "storefront.seeding"
    label = "seeding"
