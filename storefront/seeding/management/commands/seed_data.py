from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from storefront.seeding.services import (
    CATALOG_KINDS,
    DEV_ADMIN_PASSWORD,
    DEV_ADMIN_USERNAME,
    DEV_STAFF_PASSWORD,
    STAFF_USERNAME,
    SeedPlan,
    catalog_is_empty,
    catalog_reset,
    catalog_seed,
    dev_accounts_ensure,
    staff_token,
)


class Command(BaseCommand):
    help = (
        "Fill sample stores, categories, products and inventory. Deterministic for a given "
        "--seed; does nothing if products already exist unless --reset is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=20)
        parser.add_argument("--products", type=int, default=1_200)
        parser.add_argument("--inventory-per-store", type=int, default=400)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--catalog",
            choices=CATALOG_KINDS,
            default="simple",
            help="simple: 10 categories, ~90 title words (the README's examples); realistic: "
            "24 departments, brands, product lines, model codes, attributes, accented names, "
            "a long-tail vocabulary and 20-60 word descriptions",
        )
        parser.add_argument(
            "--reset", action="store_true", help="delete all stores, products, orders first"
        )
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="where the API runs, for the example printed with the staff token",
        )
        parser.add_argument(
            "--dev-accounts",
            action="store_true",
            help=(
                f"development only (DEBUG on; `make run` passes it): also ensure the superuser "
                f"{DEV_ADMIN_USERNAME} and {STAFF_USERNAME} with their known passwords, even when "
                "data exists"
            ),
        )

    def handle(self, *args, **options) -> None:
        if options["dev_accounts"] and not settings.DEBUG:
            raise CommandError(
                "--dev-accounts sets passwords everyone knows: development only (DEBUG=true)."
            )
        self._seed(options)
        if options["dev_accounts"]:
            self._write_dev_accounts(dev_accounts_ensure(), options["base_url"])
        elif token := staff_token():
            self._write_staff_token(token, options["base_url"])

    def _seed(self, options: dict) -> None:
        if options["reset"]:
            catalog_reset()
            self.stdout.write("Deleted existing stores, products, inventory and orders.")
        elif not catalog_is_empty():
            self.stdout.write("Products already exist; nothing to do (use --reset to reseed).")
            return

        plan = SeedPlan(
            stores=options["stores"],
            products=options["products"],
            inventory_per_store=options["inventory_per_store"],
            seed=options["seed"],
            catalog=options["catalog"],
        )
        with tqdm(
            total=plan.total_rows, unit="rows", desc="seeding", disable=options["no_progress"]
        ) as bar:
            result = catalog_seed(plan=plan, progress=bar.update)

        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.stores} stores, {result.products} products, "
                f"{result.inventory_rows} inventory rows."
            )
        )

    def _write_staff_token(self, token: str, base_url: str) -> None:
        self.stdout.write(
            f"Staff user of store 1: {STAFF_USERNAME}\n"
            f"API token: {token}\n{self._orders_example(token, base_url)}"
        )

    def _write_dev_accounts(self, token: str, base_url: str) -> None:
        admin = f"{DEV_ADMIN_USERNAME} / {DEV_ADMIN_PASSWORD}"
        self.stdout.write(
            "Development accounts (make run only; production seeds no passwords):\n"
            f"  admin          {admin:<33} {base_url}/admin/\n"
            f"  store 1 staff  {STAFF_USERNAME} / {DEV_STAFF_PASSWORD}\n"
            f"API token of {STAFF_USERNAME}: {token}\n{self._orders_example(token, base_url)}"
        )

    @staticmethod
    def _orders_example(token: str, base_url: str) -> str:
        """Two staff calls to try: store 1's orders, and a restock of product 589 there."""
        restock = '{"product_id": 589, "delta": 25, "reason": "restock"}'
        return (
            f'  curl -H "Authorization: Token {token}" {base_url}/stores/1/orders/\n'
            f'  curl -H "Authorization: Token {token}" -H "Content-Type: application/json" '
            f"-d '{restock}' {base_url}/stores/1/inventory/adjustments/"
        )
