from django.contrib import admin

from storefront.catalog.models import Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "price", "category", "created_at", "archived_at"]
    list_filter = ["category"]
    search_fields = ["title"]
    list_select_related = ["category"]
    show_full_result_count = False  # COUNT(*) over a million rows on every page is wasted work
