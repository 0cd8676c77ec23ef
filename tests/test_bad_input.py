"""Bad input everywhere, sent to a live server with DEBUG off: always a JSON 4xx, never a 5xx
or a stack trace, and nothing written."""

import http.client
import json
import socket
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import requests

JSON = {"Content-Type": "application/json"}
STAFF = "store1-manager"
HUGE = 10**30  # far past any bigint id
DEPTH = 20_000  # far past Python's recursion limit, still a small body (40 KB)

# Everything a bad request could have written.
WRITE_COUNTERS = {
    "orders": "SELECT count(*) FROM orders_order",
    "order lines": "SELECT count(*) FROM orders_orderitem",
    "idempotency keys": "SELECT count(*) FROM orders_idempotencykey",
    "outbox emails": "SELECT count(*) FROM notifications_orderemail",
    "units in stock": "SELECT coalesce(sum(quantity), 0) FROM stores_inventory",
    "inventory rows": "SELECT count(*) FROM stores_inventory",
    "users": "SELECT count(*) FROM auth_user",
    "tokens": "SELECT count(*) FROM authtoken_token",
}


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    expect: tuple[int, ...] = (400,)


def order(**fields) -> bytes:
    return json.dumps({"store": 1, "items": [{"product_id": 1, "quantity": 1}], **fields}).encode()


def line(product_id, quantity) -> bytes:
    return order(items=[{"product_id": product_id, "quantity": quantity}])


# An order that would be placed (store 1 carries product 1's line or rejects it: 201 either way).
ORDER = order()


REJECTED = [
    # Bodies: size, type, syntax, shape.
    Case("oversized body", "POST", "/orders/", order(email="a" * 1_100_000), JSON),
    Case("text/plain", "POST", "/orders/", order(), {"Content-Type": "text/plain"}, expect=(415,)),
    Case(
        "form encoded",
        "POST",
        "/orders/",
        b"store=1&items=1",
        {"Content-Type": "application/x-www-form-urlencoded"},
        expect=(415,),
    ),
    Case(
        "multipart",
        "POST",
        "/orders/",
        b"--x\r\nContent-Disposition: form-data; name=store\r\n\r\n1\r\n--x--\r\n",
        {"Content-Type": "multipart/form-data; boundary=x"},
        expect=(415,),
    ),
    Case("xml", "POST", "/orders/", b"<o/>", {"Content-Type": "application/xml"}, expect=(415,)),
    # Only application/json, as spelled, with no parameter but charset=utf-8, is read as JSON.
    *(
        Case(
            f"content type {kind}", "POST", "/orders/", ORDER, {"Content-Type": kind}, expect=(415,)
        )
        for kind in ("application/json; charset=bogus", "Application/JSON", "*/*", "application/*")
    ),
    Case("no content type", "POST", "/orders/", order(), {"Content-Type": ""}, expect=(400, 415)),
    Case("not json", "POST", "/orders/", b"store: 1", JSON),
    Case("truncated json", "POST", "/orders/", b'{"store": 1, "items": [', JSON),
    Case("empty body", "POST", "/orders/", b"", JSON),
    Case("invalid utf-8", "POST", "/orders/", b'{"store": "\xff\xfe"}', JSON),
    Case("utf-16 body", "POST", "/orders/", order().decode().encode("utf-16"), JSON),
    Case("deeply nested array", "POST", "/orders/", b"[" * DEPTH + b"]" * DEPTH, JSON),
    Case(
        "deeply nested items",
        "POST",
        "/orders/",
        b'{"store": 1, "items": ' + b'{"a":' * DEPTH + b"1" + b"}" * DEPTH + b"}",
        JSON,
    ),
    Case("json null", "POST", "/orders/", b"null", JSON),
    Case("json list", "POST", "/orders/", b"[1, 2]", JSON),
    Case("json string", "POST", "/orders/", b'"order"', JSON),
    Case("NaN store", "POST", "/orders/", b'{"store": NaN, "items": []}', JSON),
    Case(
        "Infinity quantity", "POST", "/orders/", line(1, 1).replace(b": 1}", b": Infinity}"), JSON
    ),
    Case("10k digit store", "POST", "/orders/", b'{"store": ' + b"9" * 10_000 + b"}", JSON),
    # Fields: types, ranges, unknown ids.
    Case("store as string", "POST", "/orders/", order(store="1"), JSON),
    Case("store as bool", "POST", "/orders/", order(store=True), JSON),
    Case("store as float", "POST", "/orders/", order(store=1.5), JSON),
    Case("negative store", "POST", "/orders/", order(store=-1), JSON),
    Case("zero store", "POST", "/orders/", order(store=0), JSON),
    Case("huge store", "POST", "/orders/", order(store=HUGE), JSON),
    Case("unknown store", "POST", "/orders/", order(store=2**31), JSON, expect=(404,)),
    Case("items missing", "POST", "/orders/", b'{"store": 1}', JSON),
    Case("items empty", "POST", "/orders/", order(items=[]), JSON),
    Case("items object", "POST", "/orders/", order(items={"product_id": 1}), JSON),
    Case("items of strings", "POST", "/orders/", order(items=["1"]), JSON),
    Case(
        "too many lines",
        "POST",
        "/orders/",
        order(items=[{"product_id": i, "quantity": 1} for i in range(1, 1002)]),
        JSON,
    ),
    Case("zero quantity", "POST", "/orders/", line(1, 0), JSON),
    Case("negative quantity", "POST", "/orders/", line(1, -3), JSON),
    Case("huge quantity", "POST", "/orders/", line(1, HUGE), JSON),
    Case("negative product", "POST", "/orders/", line(-1, 1), JSON),
    Case("huge product", "POST", "/orders/", line(HUGE, 1), JSON),
    Case("unknown product", "POST", "/orders/", line(2**31, 1), JSON),
    Case("null byte in email", "POST", "/orders/", order(email="a\x00@example.com"), JSON),
    Case("long email", "POST", "/orders/", order(email="a" * 5000 + "@example.com"), JSON),
    Case(
        "unicode field names", "POST", "/orders/", b'{"st\xc3\xb6re": 1, "\xe2\x80\xae": []}', JSON
    ),
    Case(
        "long idempotency key", "POST", "/orders/", order(), {**JSON, "Idempotency-Key": "k" * 300}
    ),
    Case(
        "non-ascii idempotency key",
        "POST",
        "/orders/",
        order(),
        {**JSON, "Idempotency-Key": "cl\xe9"},
    ),
    Case("empty idempotency key", "POST", "/orders/", order(), {**JSON, "Idempotency-Key": ""}),
    # Ids in paths.
    Case("negative order id", "POST", "/orders/-1/cancel/", user=STAFF, expect=(404,)),
    Case("text order id", "POST", "/orders/abc/cancel/", user=STAFF, expect=(404,)),
    Case("huge order id cancel", "POST", f"/orders/{HUGE}/cancel/", user=STAFF, expect=(404,)),
    Case("huge order id", "GET", f"/orders/{HUGE}/", user=STAFF, expect=(404,)),
    Case("negative store inventory", "GET", "/stores/-1/inventory/", expect=(404,)),
    Case("zero store inventory", "GET", "/stores/0/inventory/", expect=(404,)),
    Case("huge store inventory", "GET", f"/stores/{HUGE}/inventory/", expect=(404,)),
    Case("huge store orders", "GET", f"/stores/{HUGE}/orders/", user=STAFF, expect=(403, 404)),
    # Pages.
    Case("garbage inventory cursor", "GET", "/stores/1/inventory/?cursor=bz1hYmM%3D"),
    Case("negative inventory page size", "GET", "/stores/1/inventory/?page_size=-1"),
    Case("text inventory page size", "GET", "/stores/1/inventory/?page_size=abc"),
    Case("garbage orders cursor", "GET", f"/stores/1/orders/?cursor={HUGE}", user=STAFF),
    Case("NUL in inventory cursor", "GET", "/stores/1/inventory/?cursor=cD0A"),  # p=\0
    Case("superscript inventory page size", "GET", "/stores/1/inventory/?page_size=%C2%B2"),
    Case("superscript orders page size", "GET", "/stores/1/orders/?page_size=%C2%B2", user=STAFF),
    *(
        Case(f"orders cursor {text}", "GET", f"/stores/1/orders/?cursor={cursor}", user=STAFF)
        for text, cursor in [
            ("p=notadate", "cD1ub3RhZGF0ZQ%3D%3D"),
            ("p=2026-13-45", "cD0yMDI2LTEzLTQ1"),
            ("p=", "cD0%3D"),
            ("r=1&p=abc", "cj0xJnA9YWJj"),
            ("o=5&p=x", "bz01JnA9eA%3D%3D"),
        ]
    ),
    Case("huge search page", "GET", f"/api/search/products/?page={HUGE}"),
    Case("negative search page", "GET", "/api/search/products/?page=-1"),
    # Search parameters.
    Case("null byte in q", "GET", "/api/search/products/?q=pro%00duct"),
    Case("long q", "GET", "/api/search/products/?q=" + "x" * 2000),
    Case("text min_price", "GET", "/api/search/products/?min_price=cheap"),
    Case("NaN min_price", "GET", "/api/search/products/?min_price=NaN"),
    Case("huge min_price", "GET", "/api/search/products/?min_price=1e400"),
    Case("negative min_price", "GET", "/api/search/products/?min_price=-1"),
    Case("min above max", "GET", "/api/search/products/?min_price=10&max_price=1"),
    Case("negative store_id", "GET", "/api/search/products/?store_id=-1"),
    Case("huge store_id", "GET", f"/api/search/products/?store_id={HUGE}"),
    Case("null byte in category", "GET", "/api/search/products/?category=%00"),
    Case("huge category id", "GET", f"/api/search/products/?category={HUGE}"),
    Case("in_stock typo", "GET", "/api/search/products/?in_stock=yes"),
    Case("unknown ordering", "GET", "/api/search/products/?ordering=price;drop"),
    # Suggest (a fresh user's own rate limit; 429 is still a clean JSON 4xx).
    Case("suggest short q", "GET", "/api/search/suggest/?q=ab", user="shopper", expect=(400, 429)),
    Case("suggest no q", "GET", "/api/search/suggest/", user="shopper", expect=(400, 429)),
    Case(
        "suggest null bytes",
        "GET",
        "/api/search/suggest/?q=%00%00%00",
        user="shopper",
        expect=(400, 429),
    ),
    Case(
        "suggest long q",
        "GET",
        "/api/search/suggest/?q=" + "y" * 2000,
        user="shopper",
        expect=(400, 429),
    ),
    # Methods, paths, login.
    Case("DELETE orders", "DELETE", "/orders/", expect=(405,)),
    Case("PUT search", "PUT", "/api/search/products/", b"{}", JSON, expect=(405,)),
    Case("unknown path", "GET", "/nothing/here/", expect=(404,)),
    Case("login nested", "POST", "/api/auth/token/", b"[" * DEPTH, JSON),
    Case(
        "login wrong password",
        "POST",
        "/api/auth/token/",
        b'{"username": "store1-manager", "password": "nope"}',
        JSON,
    ),
    Case(
        "login null bytes",
        "POST",
        "/api/auth/token/",
        b'{"username": "\\u0000", "password": "\\u0000"}',
        JSON,
    ),
]

TOLERATED = [
    # Odd but harmless text is searched for, not rejected.
    "/api/search/products/?q=%F0%9F%9B%92%F0%9F%98%80",  # emoji
    "/api/search/products/?q=%E2%80%AEoverride%E2%80%AC",  # bidi controls
    "/api/search/products/?q=e%CC%81%CC%81%CC%81",  # combining marks
    "/api/search/products/?q=%25_%5C",  # LIKE wildcards and backslash
    "/api/search/products/?q=%27%3B%20DROP%20TABLE%20catalog_product%3B--",
    "/api/search/products/?q=%FF%FE",  # not UTF-8 at all
    f"/api/search/products/?page_size={HUGE}",  # capped at MAX_PAGE_SIZE
    f"/stores/1/inventory/?page_size={HUGE}",
]


def _send(live, method, path, body=None, headers=None, user=None) -> requests.Response:
    headers = dict(headers or {})
    if user:
        headers.update(live.auth(user))
    return requests.request(method, live.url + path, data=body, headers=headers, timeout=30)


def _writes(live) -> dict[str, int]:
    return {name: live.database.scalar(sql) for name, sql in WRITE_COUNTERS.items()}


def _assert_clean(response: requests.Response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return response.json()


@pytest.mark.parametrize("case", REJECTED, ids=[case.id for case in REJECTED])
def test_bad_input_is_a_json_4xx_and_writes_nothing(live, case):
    before = _writes(live)
    response = _send(live, case.method, case.path, case.body, case.headers, case.user)
    assert response.status_code in case.expect, response.text[:300]
    body = _assert_clean(response)
    assert body["error"]["code"]
    assert _writes(live) == before


@pytest.mark.parametrize("path", TOLERATED)
def test_odd_but_harmless_input_is_answered(live, path):
    before = _writes(live)
    response = _send(live, "GET", path)
    assert response.status_code == 200, response.text[:300]
    assert "error" not in _assert_clean(response)
    assert _writes(live) == before


def test_a_chunked_body_is_refused_with_411_not_read_as_empty(live):
    before = _writes(live)
    response = requests.post(
        live.url + "/orders/", data=iter([order()]), headers=JSON, timeout=30
    )  # a generator body: requests sends it chunked, without Content-Length
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 411, response.text[:300]
    assert _assert_clean(response)["error"]["code"] == "length_required"
    assert _writes(live) == before


def test_a_body_shorter_than_its_content_length_is_a_400_not_parsed(live):
    # The client announces more than it sends, then half-closes: what arrived is valid JSON.
    before = _writes(live)
    body = order()
    address = urlsplit(live.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as client:
        client.sendall(
            b"POST /orders/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body) + 10}\r\n\r\n".encode()
            + body
        )
        client.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(client)
        response.begin()
        answer = response.read()
    assert response.status == 400, answer[:300]
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(answer)["error"]["code"] == "incomplete_body"
    assert _writes(live) == before


def test_a_client_error_is_logged_without_a_traceback(live):
    request_id = uuid.uuid4().hex
    response = _send(
        live,
        "POST",
        "/orders/",
        order(email="a" * 1_100_000),
        {**JSON, "X-Request-ID": request_id},
    )
    assert response.status_code == 400
    logged = [
        json.loads(line)
        for line in live.server.log.read_text().splitlines()
        if request_id in line and line.startswith("{")
    ]
    assert logged, "the oversized body was logged"  # at WARNING, which the server logs
    assert {record["level"] for record in logged} == {"WARNING"}
    assert not any("exc" in record for record in logged)
