"""The API's index (`GET /`), liveness (the process answers) and readiness (its backing
services answer)."""

import logging

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.common.replicas import replica_states
from storefront.health.checks import CHECKS

logger = logging.getLogger(__name__)


class IndexView(APIView):
    """What a client finds at the root: where the documentation and the probes are."""

    authentication_classes: list = []
    LINKS = {"docs": "swagger-ui", "schema": "schema", "health": "healthz", "ready": "readyz"}

    @extend_schema(
        operation_id="index",
        summary="Where the documentation and the health endpoints are",
        responses=inline_serializer(
            "Index",
            {"name": serializers.CharField(), **{key: serializers.URLField() for key in LINKS}},
        ),
        tags=["health"],
        examples=[
            OpenApiExample(
                "Links",
                value={
                    "name": "Storefront API",
                    "docs": "http://127.0.0.1:8000/api/docs/",
                    "schema": "http://127.0.0.1:8000/api/schema/",
                    "health": "http://127.0.0.1:8000/healthz",
                    "ready": "http://127.0.0.1:8000/readyz",
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        links = {key: request.build_absolute_uri(reverse(name)) for key, name in self.LINKS.items()}
        return Response({"name": "Storefront API", **links})


class LivenessView(APIView):
    authentication_classes: list = []
    pagination_class = None

    @extend_schema(
        responses=inline_serializer("Liveness", {"status": serializers.CharField()}),
        tags=["health"],
        examples=[OpenApiExample("Alive", value={"status": "ok"})],
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadinessView(APIView):
    authentication_classes: list = []

    @extend_schema(
        responses={
            200: inline_serializer(
                "Readiness",
                {
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(),
                    "replicas": serializers.DictField(
                        required=False,
                        help_text="With DATABASE_REPLICA_URLS: each replica's state (`ok`, "
                        "`lagging: 7.2 s`, `down: OperationalError`); a replica not `ok` is "
                        "skipped by reads and does not make the service unready.",
                    ),
                },
            ),
            503: inline_serializer(
                "ReadinessDown",
                {"status": serializers.CharField(), "checks": serializers.DictField()},
            ),
        },
        tags=["health"],
        examples=[
            OpenApiExample(
                "Ready, one replica down",
                value={
                    "status": "ok",
                    "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
                    "replicas": {"replica_1": "ok", "replica_2": "down: OperationalError"},
                },
                status_codes=["200"],
            ),
            OpenApiExample(
                "Ready",
                value={"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}},
                status_codes=["200"],
            ),
            OpenApiExample(
                "Cache down",
                value={
                    "status": "unavailable",
                    "checks": {"database": "ok", "cache": "down: ConnectionError", "broker": "ok"},
                },
                status_codes=["503"],
            ),
        ],
    )
    def get(self, request: Request) -> Response:
        results = {}
        for name, check in CHECKS.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # any failure means "not ready"; say which and why
                logger.warning("readiness check failed", extra={"check": name, "error": str(exc)})
                results[name] = f"down: {exc.__class__.__name__}"
        ready = all(value == "ok" for value in results.values())
        body: dict[str, object] = {"status": "ok" if ready else "unavailable", "checks": results}
        if replicas := replica_states():
            # Reported, never failing readiness: reads go to the primary meanwhile.
            body["replicas"] = replicas
        return Response(body, status=200 if ready else 503)
