"""Reading the confirmation-email outbox."""

from django.db.models import Count

from storefront.notifications.models import OrderEmail


def email_counts_by_status() -> dict[str, int]:
    """How many outbox rows are in each status, every status named (0 when none)."""
    counts = dict.fromkeys(OrderEmail.Status.values, 0)
    counts.update(OrderEmail.objects.values_list("status").annotate(n=Count("id")).order_by())
    return counts
