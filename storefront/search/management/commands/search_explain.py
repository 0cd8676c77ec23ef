"""EXPLAIN ANALYZE of every query that representative searches run (see docs/search.md)."""

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storefront.catalog.selectors import category_get_by_reference
from storefront.search.selectors import product_search, product_suggest
from storefront.stores.models import Store


class Command(BaseCommand):
    help = "Run representative searches; print each of their queries with EXPLAIN ANALYZE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", help="run only the cases whose name contains this text")

    def handle(self, *args: Any, only: str | None = None, **options: Any) -> None:
        for name, search in self._cases().items():
            if only and only not in name:
                continue
            search()  # once for a warm cache, as the documented times are
            with CaptureQueriesContext(connection) as queries:
                search()
            self.stdout.write(f"### {name} ({len(queries)} queries)\n")
            for query in queries.captured_queries:
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                self.stdout.write(f"\n```\n{plan}\n```\n")

    def _cases(self) -> dict[str, Any]:
        store = Store.objects.order_by("id").values_list("id", flat=True).first()
        category = category_get_by_reference(reference="Electronics")
        electronics = category.pk if category else None
        price: dict[str, Any] = {"min_price": Decimal("100"), "max_price": Decimal("400")}
        return {
            "q=pro (relevance)": lambda: product_search(q="pro"),
            "q=pro page 50": lambda: product_search(q="pro", page=50),
            "q=wireless mouse": lambda: product_search(q="wireless mouse"),
            "q=mouse wireless (other order)": lambda: product_search(q="mouse wireless"),
            "q=wireles mous (incomplete words)": lambda: product_search(q="wireles mous"),
            "q=hone (inside words)": lambda: product_search(q="hone"),
            "q=acme (descriptions)": lambda: product_search(q="acme"),
            "q=lptop (typo)": lambda: product_search(q="lptop"),
            "q=pro category price store in_stock": lambda: product_search(
                q="pro", category_id=electronics, store_id=store, in_stock=True, **price
            ),
            "q=mouse in_stock store": lambda: product_search(
                q="mouse", store_id=store, in_stock=True
            ),
            "q=wireless ordering=price": lambda: product_search(q="wireless", ordering="price"),
            "q=wireless ordering=title": lambda: product_search(q="wireless", ordering="title"),
            "no q, category, price, ordering=-price": lambda: product_search(
                category_id=electronics, ordering="-price", **price
            ),
            "no q, in_stock store": lambda: product_search(store_id=store, in_stock=True),
            "suggest q=pro": lambda: product_suggest(q="pro"),
        }
