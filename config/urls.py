from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from storefront.accounts.api import TokenObtainApi
from storefront.health.api import IndexView, LivenessView, ReadinessView
from storefront.health.metrics import metrics_view

urlpatterns = [
    path("", IndexView.as_view(), name="index"),
    path("healthz", LivenessView.as_view(), name="healthz"),
    path("readyz", ReadinessView.as_view(), name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/auth/token/", TokenObtainApi.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/search/", include("storefront.search.urls")),
    path("api/catalog/", include("storefront.catalog.urls")),
    path("stores/", include("storefront.stores.urls")),
    path("stores/", include("storefront.inventory.urls")),
    path("", include("storefront.orders.urls")),
]

handler400 = "storefront.common.errors.json_bad_request"
handler403 = "storefront.common.errors.json_permission_denied"
handler404 = "storefront.common.errors.json_not_found"
handler500 = "storefront.common.errors.json_server_error"
