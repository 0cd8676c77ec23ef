from django.urls import path

from storefront.search.api import ProductSearchApi, ProductSuggestApi

urlpatterns = [
    path("products/", ProductSearchApi.as_view(), name="search-products"),
    path("suggest/", ProductSuggestApi.as_view(), name="search-suggest"),
]
