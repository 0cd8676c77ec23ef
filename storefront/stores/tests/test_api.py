import pytest

pytestmark = pytest.mark.django_db


def test_stores_are_listed_publicly_by_id_in_cursor_pages(api_client, catalog_factory):
    stores = [catalog_factory.store(f"Shop {n}") for n in range(3)]

    first = api_client.get("/stores/?page_size=2").json()
    second = api_client.get(first["next"]).json()

    assert [row["id"] for row in first["results"] + second["results"]] == [s.pk for s in stores]
    assert first["results"][0] == {"id": stores[0].pk, "name": "Shop 0", "city": ""}


def test_one_store_publicly(api_client, catalog_factory):
    store = catalog_factory.store("Harbour")
    store.city = "Lyon"
    store.save()

    response = api_client.get(f"/stores/{store.pk}/")

    assert response.status_code == 200
    assert response.json() == {"id": store.pk, "name": "Harbour", "city": "Lyon"}


def test_an_unknown_store_is_404(api_client):
    response = api_client.get("/stores/987654/")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Store 987654 does not exist."
