from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`, page size capped so nobody can ask for the whole table."""

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:  # read at request time so tests can override the setting
        return settings.MAX_PAGE_SIZE


class KeysFirstPaginator(Paginator):
    """Finds the page's keys first, then reads only that page's rows.

    ``ORDER BY ... OFFSET n`` on a queryset with joins makes the database join (or sort) every
    row before the page. Paging the bare ``key`` column instead lets an index that covers the
    filter and the ordering answer with an index-only scan; the joins then run for one page.
    ``key`` must identify a row within the queryset (the primary key, or a column unique under
    the queryset's filter).
    """

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
        return self._get_page(self.object_list.filter(**{f"{self.key}__in": keys}), number, self)


class KeysFirstPageNumberPagination(PageNumberPagination):
    """PageNumberPagination whose pages are read keys first (see KeysFirstPaginator)."""

    page_key = "pk"

    def django_paginator_class(self, queryset: QuerySet, page_size: int) -> KeysFirstPaginator:
        return KeysFirstPaginator(queryset, page_size, key=self.page_key)
