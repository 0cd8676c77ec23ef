from django.urls import path

from storefront.catalog.api import (
    CategoryCreateApi,
    CategoryListApi,
    ProductArchiveApi,
    ProductCreateApi,
    ProductDetailApi,
    ProductUpdateApi,
)
from storefront.common.routing import by_method

urlpatterns = [
    path("products/", ProductCreateApi.as_view(), name="product-create"),
    path(
        "products/<int:product_id>/",
        by_method(ProductDetailApi, ProductUpdateApi, ProductArchiveApi),
        name="product-detail",
    ),
    path("categories/", by_method(CategoryListApi, CategoryCreateApi), name="category-list"),
]
