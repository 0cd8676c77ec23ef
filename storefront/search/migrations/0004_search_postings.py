"""Search postings: one row per (word, product) of the documents, with every column a filter,
a facet or an order reads in the index, so matching, counting, facets and the sorting of up to
10,000 matches read index entries instead of a document per match. Built from today's documents (a million products: a few minutes), the
index after the rows. Forward only.

Not atomic: VACUUM, which gives the new table the visibility map index-only reads need (this
project's PostgreSQL may run without autovacuum), cannot run in a transaction.
"""

from django.db import migrations

from storefront.common.sql import run_sql_file


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("search", "0003_search_documents")]

    operations = [
        migrations.RunSQL(
            [
                "CREATE TABLE search_posting ("
                ' word text COLLATE "C" NOT NULL, product_id bigint NOT NULL,'
                " price numeric(10, 2) NOT NULL, category_id bigint NOT NULL,"
                ' title_key text COLLATE "C" NOT NULL, created_at timestamptz NOT NULL)',
                "INSERT INTO search_posting"
                " (word, product_id, price, category_id, title_key, created_at)"
                " SELECT DISTINCT word, d.product_id, d.price, d.category_id, d.title_key,"
                " d.created_at"
                " FROM search_document d"
                " CROSS JOIN LATERAL unnest(string_to_array(d.text_key, ' ')) AS word"
                " WHERE word <> ''"
                # in index order: an index-only read checks the visibility map page of each
                # row's heap page, and a word's rows scattered over the heap switch pages often
                " ORDER BY word, d.product_id",
                "ALTER TABLE search_posting ADD CONSTRAINT search_posting_pkey"
                " PRIMARY KEY (word, product_id)"
                " INCLUDE (price, category_id, title_key, created_at)",
                # how many products a word has decides how the words' streams are joined: the
                # planner needs more than the default 100 most common words to know
                "ALTER TABLE search_posting ALTER COLUMN word SET STATISTICS 10000",
                # counting and facets by the page sample, replaced by search_counted's stream
                "DROP FUNCTION search_counted(text, integer)",
                "DROP FUNCTION search_count(text, integer)",
                "DROP FUNCTION search_estimate(text)",
                "DROP FUNCTION search_facets(text, bigint, boolean, boolean, boolean)",
                "DROP FUNCTION search_title_walk(text, integer)",  # now search_ordered_walk
                "DROP FUNCTION search_ordered_ids(text, text, integer, integer)",  # gains `ids`
            ]
        ),
        run_sql_file("search", "search_index.sql", reverse_sql=None),
        run_sql_file("search", "search.sql", reverse_sql=None),
        migrations.RunSQL(["VACUUM (ANALYZE) search_posting"]),
    ]
