"""The replica rule in one process, on tests/settings.py's replica aliases: `replica_test` on
the test database itself (it answers, with the data the test committed) and `replica_down` on a
port nobody listens on. tests/test_replicas.py runs it against a real streaming standby."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from storefront.common.replicas import lag_tolerant, read_connection, replica_states

# Committed data (a replica's connection is another connection), each alias allowed.
pytestmark = pytest.mark.django_db(
    transaction=True, databases=[DEFAULT_DB_ALIAS, "replica_test", "replica_down"]
)


@pytest.fixture
def replicas(settings):
    """Sets which aliases are the replicas, and checks them now (the process remembers each
    replica's state for a second: another test's would linger)."""

    def use(*aliases: str) -> None:
        settings.DATABASE_REPLICAS = list(aliases)
        replica_states()

    yield use
    for alias in ("replica_test", "replica_down"):
        connections[alias].close()


class Reader:
    @lag_tolerant
    def get(self) -> str:
        return read_connection().alias


def test_lag_tolerant_reads_go_to_the_replica_and_stock_to_the_primary(
    replicas, api_client, catalog_factory
):
    replica = "replica_test"
    replicas(replica)
    store = catalog_factory.store()
    product = catalog_factory.product(title="Replica Lamp")
    catalog_factory.stock(store, product, 7)

    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        CaptureQueriesContext(connection) as on_primary,
    ):
        listing = api_client.get(f"/stores/{store.pk}/inventory/")
        stores = api_client.get("/stores/")

    assert listing.status_code == stores.status_code == 200
    assert [(row["product_id"], row["quantity"]) for row in listing.json()["results"]] == [
        (product.pk, 7)
    ]
    replica_sql = " ".join(query["sql"] for query in on_replica.captured_queries)
    primary_sql = " ".join(query["sql"] for query in on_primary.captured_queries)
    assert '"stores_inventory"' in replica_sql and '"stores_store"' in replica_sql
    # The page's quantities, by product id, on the primary; nothing else of these reads.
    assert "LEFT JOIN stores_inventory i" in primary_sql
    assert len(on_primary.captured_queries) == 1
    assert Reader().get() == replica


def test_inside_a_transaction_reads_stay_on_the_primary(replicas):
    replicas("replica_test")
    with transaction.atomic():
        assert Reader().get() == DEFAULT_DB_ALIAS


def test_a_replica_lagging_too_far_is_skipped_and_reported(replicas, api_client, settings):
    replica = "replica_test"
    replicas(replica)
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = -1  # any lag, even none, is too much

    ready = api_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["replicas"][replica] == "lagging: 0.0 s"
    assert Reader().get() == DEFAULT_DB_ALIAS


def test_a_replica_that_refuses_connections_is_skipped(replicas, api_client):
    replica = "replica_down"
    replicas(replica)

    assert Reader().get() == DEFAULT_DB_ALIAS
    assert api_client.get("/stores/").status_code == 200
    ready = api_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["replicas"][replica] == "down: OperationalError"


def test_a_query_failing_on_the_replica_runs_the_request_again_on_the_primary(
    replicas, api_client, catalog_factory
):
    """The replica's server ends this thread's connection between two requests: the next
    request fails on it, answers from the primary, and the replica stays in use."""
    replica = "replica_test"
    replicas(replica)
    catalog_factory.store()
    assert api_client.get("/stores/").status_code == 200
    backend = connections[replica].connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])

    with CaptureQueriesContext(connection) as on_primary:
        stores = api_client.get("/stores/")

    assert stores.status_code == 200 and len(stores.json()["results"]) == 1
    assert any('"stores_store"' in query["sql"] for query in on_primary.captured_queries)
    assert Reader().get() == replica  # a new connection found it up


def test_an_in_stock_search_matches_on_the_replica_and_checks_its_page_on_the_primary(
    replicas, api_client, catalog_factory
):
    """(tests/test_replicas.py shows the check dropping a product the replica still thinks in
    stock.)"""
    replicas("replica_test")
    store = catalog_factory.store()
    stocked = catalog_factory.product(title="Replica Kettle")
    catalog_factory.stock(store, stocked, 3)
    catalog_factory.stock(store, catalog_factory.product(title="Replica Kettle Mini"), 0)

    with (
        CaptureQueriesContext(connections["replica_test"]) as on_replica,
        CaptureQueriesContext(connection) as on_primary,
    ):
        anywhere = api_client.get("/api/search/products/?q=replica+kettle&in_stock=true")
        in_store = api_client.get(
            f"/api/search/products/?q=replica+kettle&in_stock=true&store_id={store.pk}"
        )

    for found in (anywhere, in_store):
        assert [row["id"] for row in found.json()["results"]] == [stocked.pk]
    assert sum("search_products(" in q["sql"] for q in on_replica.captured_queries) == 2
    primary_sql = [query["sql"] for query in on_primary.captured_queries]
    assert not any("search_products(" in sql for sql in primary_sql)
    # Rows and stock of both pages; the store-less page's stock anywhere, by product id.
    assert sum("search_rows(" in sql for sql in primary_sql) == 2
    assert sum('"stores_inventory"."quantity" > 0' in sql for sql in primary_sql) == 1
