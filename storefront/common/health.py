"""Liveness (the process answers) and readiness (its backing services answer)."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.celery_app import app as celery_app

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    # Django's cache backends swallow nothing here: a down Redis raises ConnectionError.
    probe = f"readyz:{uuid.uuid4().hex}"
    cache.set(probe, "1", timeout=5)
    if cache.get(probe) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(probe)


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


class LivenessView(APIView):
    authentication_classes: list = []
    pagination_class = None

    @extend_schema(
        responses=inline_serializer("Liveness", {"status": serializers.CharField()}),
        tags=["health"],
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadinessView(APIView):
    authentication_classes: list = []

    @extend_schema(
        responses={
            200: inline_serializer(
                "Readiness", {"status": serializers.CharField(), "checks": serializers.DictField()}
            ),
            503: inline_serializer(
                "ReadinessDown",
                {"status": serializers.CharField(), "checks": serializers.DictField()},
            ),
        },
        tags=["health"],
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
        return Response(
            {"status": "ok" if ready else "unavailable", "checks": results},
            status=200 if ready else 503,
        )
