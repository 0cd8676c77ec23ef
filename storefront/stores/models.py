from django.conf import settings
from django.db import models


class Store(models.Model):
    name = models.CharField(max_length=100, unique=True)
    city = models.CharField(max_length=100, blank=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="staffed_stores", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
