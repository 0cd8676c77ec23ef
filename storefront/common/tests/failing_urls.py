"""The site's URLs plus two views of the kinds the error-shape tests need and the site lacks: one
that fails, and a plain Django view that allows GET only."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views import View

from config.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


class GetOnly(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")


urlpatterns = [path("broken/", broken), path("get-only/", GetOnly.as_view()), *urlpatterns]
