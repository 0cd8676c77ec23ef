"""EXPLAIN ANALYZE of the queries behind representative searches (see docs/search.md)."""

from decimal import Decimal

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import QuerySet

from storefront.catalog.selectors import category_get_by_reference
from storefront.search.selectors import product_rows, product_search_queryset, suggestion_queries
from storefront.stores.models import Store

PAGE = 21  # page_size + 1: what a search page fetches


def page_ids(offset: int = 0, **search) -> QuerySet:
    return product_search_queryset(**search).values_list("id", flat=True)[offset : offset + PAGE]


class Command(BaseCommand):
    help = "Print EXPLAIN (ANALYZE, BUFFERS) for the search and suggest queries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", help="run only the cases whose name contains this text")

    def handle(self, *args, only: str | None = None, **options) -> None:
        for name, queryset in self._cases().items():
            if only and only not in name:
                continue
            plan = queryset.explain(analyze=True, buffers=True)
            self.stdout.write(f"### {name}\n\n```\n{plan}\n```\n")

    def _cases(self) -> dict[str, QuerySet]:
        store = Store.objects.order_by("id").values_list("id", flat=True).first()
        category = category_get_by_reference(reference="Electronics")
        electronics = category.pk if category else None
        pro_starting, pro_containing = suggestion_queries(q="pro")
        k12_starting, k12_containing = suggestion_queries(q="k12")
        return {
            "q=pro (relevance)": page_ids(q="pro"),
            "q=pro page 50 (relevance)": page_ids(980, q="pro"),
            "q=laptop k12 (rare)": page_ids(q="laptop k12"),
            "q=acme (description only)": page_ids(q="acme"),
            "q=wireless ordering=price": page_ids(q="wireless", ordering="price"),
            "no q (title)": page_ids(),
            "no q ordering=newest": page_ids(ordering="newest"),
            "price 100..120 ordering=price": page_ids(
                min_price=Decimal(100), max_price=Decimal(120), ordering="price"
            ),
            "category ordering=-price": page_ids(category_id=electronics, ordering="-price"),
            "category (title)": page_ids(category_id=electronics),
            "in_stock store (title)": page_ids(in_stock=True, store_id=store),
            "in_stock any store (title)": page_ids(in_stock=True),
            "q=pro in_stock store": page_ids(q="pro", in_stock=True, store_id=store),
            "fuzzy q=lptop": page_ids(q="lptop", similar=True),
            "live rows with store_quantity": product_rows(
                ids=list(page_ids(q="pro")[:20]), store_id=store
            ),
            "suggest q=pro starting": pro_starting[:10],
            "suggest q=pro containing": pro_containing[:10],
            "suggest q=k12 starting": k12_starting[:10],
            "suggest q=k12 containing": k12_containing[:10],
        }
