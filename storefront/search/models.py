"""The search app's own index of the catalog, kept in sync by database triggers
(sql/search_index.sql).

Why triggers on the catalog's table rather than signals: products are written by paths that run
no model signals (``seed_data``'s COPY, ``QuerySet.update()``, raw SQL in tooling and tests), and
a search that misses a product, or finds a deleted one, would be wrong at once rather than slow.
The same reasoning made the inventory listing's title key a trigger (stores migration 0003).
Nothing in Python writes these tables.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models


class TermSource(models.IntegerChoices):
    """Where a term starts, in ranking order: retrieval reads one source after the other."""

    TITLE_START = 1, "the whole title"
    TITLE_WORD = 2, "the title from its second or a later word"
    # Not a relevance tier: the rows that list each word's products in title order.
    WORD_THEN_TITLE = 3, "a word of the title, WORD_SEPARATOR, the whole title"


# Sorts after every character of a normalized word (letters, digits), so that the terms of one
# word form one range: "MOUSE|" .. and no other word's terms fall inside it.
WORD_SEPARATOR = "|"


class SearchTerm(models.Model):
    """The normalized title of a product read from one of its words to the end.

    "Pro Wireless Mouse K12" gives ``PRO WIRELESS MOUSE K12`` (TITLE_START), ``WIRELESS MOUSE
    K12``, ``MOUSE K12`` and ``K12`` (TITLE_WORD), and ``PRO|PRO WIRELESS MOUSE K12``,
    ``WIRELESS|PRO WIRELESS MOUSE K12`` ... (WORD_THEN_TITLE: a word's products in title order,
    for ``ordering=title``). A query's phrase that starts a word of a
    title is then a prefix of one of its terms: one B-tree range (``term LIKE 'MOUSE K%'``,
    collation "C"), whose entries come out in result order, so the first page stops after a
    page of rows however many products match. Price and category are copied so that the
    filters are checked on the index alone.
    """

    pk = models.CompositePrimaryKey("product_id", "source", "term")
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.DO_NOTHING,  # the triggers delete a product's terms with it
        db_constraint=False,
        db_index=False,  # the primary key starts with it
        related_name="+",
    )
    source = models.SmallIntegerField(choices=TermSource.choices)
    term = models.CharField(max_length=200, db_collation="C")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # only ever a filter within a term's range
        related_name="+",
    )

    class Meta:
        db_table = "search_term"
        indexes = [
            models.Index(
                fields=["source", "term", "product"],
                include=["price", "category"],
                name="search_term_range_idx",
            ),
            # The same ranges within one category: a category filter no longer walks the
            # other nine tenths of a broad term's range (the planner picks it when given).
            models.Index(
                fields=["category", "source", "term", "product"],
                include=["price"],
                name="search_term_category_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.term}"


class SearchWord(models.Model):
    """Every normalized word of the catalog's titles and descriptions, and where it occurs.

    What a misspelt query word is corrected to (trigram similarity over a few thousand words
    instead of a million titles), and what tells a search whether a word can match anywhere
    but at the start of a title word: only then are the substring tiers read. Words are added,
    never removed: a word no product uses any more only makes a search read a tier that
    turns out empty.
    """

    word = models.CharField(max_length=200, primary_key=True, db_collation="C")
    in_title = models.BooleanField(default=False)
    in_description = models.BooleanField(default=False)

    class Meta:
        db_table = "search_word"
        indexes = [
            GinIndex(OpClass("word", name="gin_trgm_ops"), name="search_word_trgm_idx"),
        ]

    def __str__(self) -> str:
        return self.word
