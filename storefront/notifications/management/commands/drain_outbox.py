from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from storefront.notifications.services import order_emails_drain


class Command(BaseCommand):
    help = (
        "Send PENDING order confirmation emails now, in this process (no broker needed). "
        "The worker's beat schedule does the same every 30 seconds."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            default=settings.ORDER_EMAIL_DRAIN_AFTER_SECONDS,
            help="Only rows untouched for this many seconds (default %(default)s).",
        )
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, older_than: float, limit: int, **options) -> None:
        tried = order_emails_drain(older_than=timedelta(seconds=older_than), limit=limit)
        self.stdout.write(f"Tried {tried} pending order email(s).")
