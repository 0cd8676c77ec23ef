"""The search app's own copy of the catalog, kept in sync by database triggers
(sql/search_index.sql).

Why triggers on the catalog's tables rather than signals: products are written by paths that
run no model signals (``seed_data``'s COPY, ``QuerySet.update()``, raw SQL in tooling and
tests), and a search that misses a product, or finds a deleted one, would be wrong at once
rather than slow. Nothing in Python writes these tables.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class SearchDocument(models.Model):
    """One product as search reads it: its normalized title (search_normalize: accents removed,
    upper case, punctuation a space), the words of its title and description (search_lexemes),
    and the columns it is filtered and ordered by."""

    product = models.OneToOneField(
        "catalog.Product",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the triggers delete a product's document with it
        db_constraint=False,
        related_name="+",
    )
    title_key = models.TextField(db_collation="C")  # title order, suggestions, relevance tiers
    words = SearchVectorField()  # title and description words: what a query word matches
    price = models.DecimalField(max_digits=10, decimal_places=2)
    category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # search_document_category_idx starts with it
        related_name="+",
    )
    created_at = models.DateTimeField()

    class Meta:
        db_table = "search_document"
        indexes = [
            # fastupdate off: no pending list for every search to scan after a write
            GinIndex(fields=["words"], name="search_document_words_idx", fastupdate=False),
            GinIndex(
                OpClass("title_key", name="gin_trgm_ops"), name="search_document_title_trgm_idx"
            ),
            # price and category too: a relevance tier walked in title order is index-only
            models.Index(
                fields=["title_key", "product"],
                include=["price", "category"],
                name="search_document_title_idx",
            ),
            models.Index(
                fields=["category", "title_key", "product"], name="search_document_category_idx"
            ),
            models.Index(fields=["price", "product"], name="search_document_price_idx"),
            models.Index(fields=["-created_at", "-product"], name="search_document_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.title_key}"


class SearchWord(models.Model):
    """Every normalized word of the catalog's titles and descriptions: what a misspelt query
    word is corrected to (trigram similarity over the vocabulary instead of every product).
    Words are added, never removed: a word no product uses any more corrects to no match."""

    word = models.CharField(max_length=200, primary_key=True, db_collation="C")

    class Meta:
        db_table = "search_word"
        indexes = [
            GinIndex(OpClass("word", name="gin_trgm_ops"), name="search_word_trgm_idx"),
        ]

    def __str__(self) -> str:
        return self.word


class CatalogVersion(models.Model):
    """One row, moved by the triggers on every catalog write that can change a search answer
    (search_catalog_changed). Cached answers carry the version they were computed at and are
    served only while it is current."""

    id = models.SmallIntegerField(primary_key=True)
    version = models.BigIntegerField()

    class Meta:
        db_table = "search_catalog"

    def __str__(self) -> str:
        return str(self.version)
