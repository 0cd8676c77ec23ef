from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`, page size capped so nobody can ask for the whole table."""

    page_size_query_param = "page_size"

    # Read at request time so tests can override the setting. DRF only reads it: a property
    # will do, where the stubs declare a writable attribute.
    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.MAX_PAGE_SIZE


class KeysFirstPaginator(Paginator):
    """Finds the page's keys first, then reads only that page's rows.

    ``ORDER BY ... OFFSET n`` on a queryset with joins makes the database join (or sort) every
    row before the page. Paging the bare ``key`` column instead lets an index that covers the
    filter and the ordering answer with an index-only scan; the joins then run for one page.
    ``key`` must identify a row within the queryset (the primary key, or a column unique under
    the queryset's filter).
    """

    object_list: QuerySet

    def __init__(self, object_list: QuerySet, per_page: int, *, key: str = "pk") -> None:
        super().__init__(object_list, per_page)
        self.key = key

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self.object_list.values(self.key)[bottom:top]
        # _get_page() is Paginator's hook for the Page class (page() calls it); not in the stubs.
        return self._get_page(self.object_list.filter(**{f"{self.key}__in": keys}), number, self)  # type: ignore[attr-defined]


class KeysFirstPageNumberPagination(PageNumberPagination):
    """PageNumberPagination whose pages are read keys first (see KeysFirstPaginator)."""

    page_key = "pk"

    # DRF only calls it, as django_paginator_class(queryset, page_size); the stubs want a class.
    def django_paginator_class(  # type: ignore[override]
        self, queryset: QuerySet, page_size: int
    ) -> KeysFirstPaginator:
        return KeysFirstPaginator(queryset, page_size, key=self.page_key)
