"""EXPLAIN ANALYZE of every query that representative searches run (see docs/search.md).

The search functions build their queries inside PostgreSQL (sql/search.sql), so the plans are
taken by auto_explain, nested statements included, and sent back as notices (superuser only:
LOAD).
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.db.models import Count

from storefront.catalog.models import Product
from storefront.search.selectors import SearchQuery, search_matches, suggestion_ids
from storefront.stores.models import Store


class Command(BaseCommand):
    help = "Run representative searches; print the plan of every query they run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", help="run only the cases whose name contains this text")

    def handle(self, *args: Any, only: str | None = None, **options: Any) -> None:
        notices: list[str] = []
        connection.ensure_connection()
        connection.connection.add_notice_handler(
            lambda notice: notices.append(notice.message_primary)
        )
        for name, search in self._cases().items():
            if only and only not in name:
                continue
            search()  # once for a warm cache, as the documented times are
            with connection.cursor() as cursor:
                cursor.execute("LOAD 'auto_explain'")
                cursor.execute("SET auto_explain.log_min_duration = 0")
                cursor.execute("SET auto_explain.log_analyze = on")
                cursor.execute("SET auto_explain.log_nested_statements = on")
                cursor.execute("SET client_min_messages = log")
            notices.clear()
            search()
            with connection.cursor() as cursor:
                cursor.execute("SET auto_explain.log_min_duration = -1")
                cursor.execute("RESET client_min_messages")
            self.stdout.write(f"### {name} ({len(notices)} statements)\n")
            for plan in notices:
                self.stdout.write(f"\n```\n{plan}\n```\n")

    def _cases(self) -> dict[str, Callable[[], object]]:
        store = Store.objects.order_by("id").values_list("id", flat=True).first()
        # the largest category, whichever catalog is loaded
        electronics = (
            Product.objects.values("category").annotate(n=Count("id")).order_by("-n")
            .values_list("category", flat=True).first()
        )  # fmt: skip
        price: dict[str, Any] = {"min_price": Decimal("100"), "max_price": Decimal("400")}

        def search(**params: Any) -> Callable[[], object]:
            return lambda: search_matches(SearchQuery(**params))

        return {
            "q=pro (relevance)": search(q="pro"),
            "q=pro page 50": search(q="pro", page=50),
            "q=pro facets": search(q="pro", facets=("category", "price")),
            "q=wireless mouse": search(q="wireless mouse"),
            "q=wireles mous (incomplete words)": search(q="wireles mous"),
            "q=cafe (accents folded)": search(q="cafe"),
            "q=lptop (typo)": search(q="lptop"),
            "q=pro category price store in_stock": search(
                q="pro", category_id=electronics, store_id=store, in_stock=True, **price
            ),
            "q=mouse in_stock store": search(q="mouse", store_id=store, in_stock=True),
            "q=wireless ordering=price": search(q="wireless", ordering="price"),
            "q=wireless ordering=title": search(q="wireless", ordering="title"),
            "no q, category, price, ordering=-price": search(
                category_id=electronics, ordering="-price", **price
            ),
            "suggest q=pro": lambda: suggestion_ids("pro"),
        }
