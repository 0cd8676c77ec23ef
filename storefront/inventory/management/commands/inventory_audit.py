from django.core.management.base import BaseCommand, CommandError

from storefront.inventory.selectors import ledger_drift


class Command(BaseCommand):
    help = (
        "Check the stock ledger: for every (store, product), the sum of its movements' deltas "
        "(and its newest movement's quantity_after) must equal its stock. Prints the rows that "
        "drift and exits with status 1 when any does."
    )

    def handle(self, *args, **options) -> None:
        drifts = ledger_drift()
        if not drifts:
            self.stdout.write(self.style.SUCCESS("Ledger OK: every stock row adds up."))
            return
        self.stdout.write("store_id\tproduct_id\tquantity\tledger_total\tlast_quantity_after")
        for drift in drifts:
            last = "-" if drift.last_quantity_after is None else drift.last_quantity_after
            self.stdout.write(
                f"{drift.store_id}\t{drift.product_id}\t{drift.quantity}\t"
                f"{drift.ledger_total}\t{last}"
            )
        raise CommandError(f"{len(drifts)} stock row(s) drift from their ledger.")
