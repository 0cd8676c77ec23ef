"""The realistic catalog (`seed_data --catalog realistic`): titles and descriptions shaped like a
large shop's, with a long-tail vocabulary.

A title is a brand, often a product line, a product type, a model code and a few attributes:
"Velmora Kestrix Wireless Headphones KX-482B, Bluetooth 5.3, Midnight Blue". Brands (per
department) and product lines are made-up words drawn Zipf-like from large pools, so a few are
common and most are rare; model codes follow each brand's own style. Products are drawn one
after another from the seed alone, so the first 100,000 products of a 1,000,000-product
catalog are the 100,000-product catalog of the same seed.
"""

import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from storefront.seeding.drafts import ProductDraft
from storefront.seeding.vocabulary import Lexicon, Zipf, digest


@dataclass(frozen=True)
class Department:
    """A category: its product nouns (each alone or after a qualifier is a product type), the
    attributes its titles carry, and its price range in whole units."""

    name: str
    nouns: tuple[str, ...]
    qualifiers: tuple[str, ...]
    attributes: tuple[str, ...]
    prices: tuple[int, int]


DEPARTMENTS = (
    Department("Computers", ("Laptop", "Desktop PC", "Monitor", "Keyboard", "Mouse", "Webcam",
               "Router", "External SSD", "Docking Station", "Graphics Card", "Printer",
               "Tablet"), ("Gaming", "Wireless", "Ergonomic", "Business", "Portable"),
               ("screen", "storage", "memory", "connectivity", "colour"), (15, 2500)),
    Department("TV & Audio", ("Television", "Soundbar", "Headphones", "Earbuds", "Speaker",
               "Turntable", "Amplifier", "Projector", "Streaming Stick", "Subwoofer"),
               ("Smart", "Noise-Cancelling", "Outdoor", "Hi-Fi", "Waterproof"),
               ("tv", "resolution", "connectivity", "colour"), (20, 3500)),
    Department("Phones", ("Smartphone", "Phone Case", "Charger", "Power Bank",
               "Screen Protector", "Charging Cable", "Car Mount", "Smartwatch",
               "Fitness Tracker"), ("Rugged", "Fast", "Magnetic", "Slim", "Foldable"),
               ("storage", "connectivity", "colour", "pack"), (8, 1600)),
    Department("Kitchen", ("Blender", "Coffee Maker", "Espresso Machine", "Kettle", "Toaster",
               "Air Fryer", "Stand Mixer", "Knife Block", "Frying Pan", "Saucepan",
               "Cutting Board", "Food Processor"), ("Electric", "Stainless", "Non-Stick",
               "Compact", "Professional"), ("capacity", "power", "colour", "material"),
               (10, 900)),
    Department("Home", ("Vacuum Cleaner", "Air Purifier", "Humidifier", "Desk Lamp",
               "Floor Lamp", "Ceiling Fan", "Heater", "Curtains", "Rug", "Throw Pillow",
               "Candle", "Wall Clock", "Mirror"), ("Robot", "Cordless", "Decorative", "Scented",
               "Vintage"), ("dimensions", "colour", "material", "power"), (8, 1200)),
    Department("Furniture", ("Sofa", "Armchair", "Dining Table", "Office Chair", "Bookshelf",
               "Bed Frame", "Mattress", "Wardrobe", "Standing Desk", "Bar Stool", "TV Stand"),
               ("Modular", "Foldable", "Upholstered", "Solid Wood", "Adjustable"),
               ("dimensions", "colour", "material"), (40, 3000)),
    Department("Garden", ("Lawn Mower", "Garden Hose", "Pruning Shears", "Planter", "Grill",
               "Leaf Blower", "Hedge Trimmer", "Patio Umbrella", "Watering Can", "Compost Bin",
               "Bird Feeder"), ("Cordless", "Raised", "Solar", "Self-Propelled", "Expandable"),
               ("dimensions", "capacity", "colour", "voltage"), (8, 1500)),
    Department("Tools", ("Cordless Drill", "Impact Driver", "Circular Saw", "Toolkit",
               "Screwdriver Kit", "Tape Measure", "Workbench", "Ladder", "Multimeter",
               "Socket Wrench", "Glue Gun", "Angle Grinder"), ("Brushless", "Heavy-Duty",
               "Compact", "Precision", "Industrial"), ("voltage", "pack", "dimensions"),
               (6, 800)),
    Department("Sports", ("Running Shoes", "Yoga Mat", "Dumbbells", "Bike Helmet",
               "Water Bottle", "Tennis Racket", "Football", "Treadmill", "Resistance Bands",
               "Jump Rope", "Gym Bag", "Exercise Bike"), ("Adjustable", "Lightweight",
               "Insulated", "Training", "Competition"), ("shoe", "weight", "colour", "capacity"),
               (6, 2000)),
    Department("Outdoor", ("Tent", "Sleeping Bag", "Hiking Backpack", "Camping Stove",
               "Headlamp", "Trekking Poles", "Cooler Box", "Hammock", "Compass",
               "Camping Chair"), ("Ultralight", "Waterproof", "Family", "Rechargeable",
               "Four-Season"), ("capacity", "weight", "colour"), (8, 900)),
    Department("Clothing", ("Jacket", "Hoodie", "T-Shirt", "Jeans", "Sweater", "Dress",
               "Shirt", "Shorts", "Rain Coat", "Socks", "Scarf", "Leggings"), ("Slim-Fit",
               "Oversized", "Thermal", "Organic", "Relaxed"), ("clothing", "colour",
               "material", "pack"), (6, 400)),
    Department("Shoes", ("Sneakers", "Boots", "Sandals", "Loafers", "Slippers", "Hiking Boots",
               "Trainers", "Heels", "Clogs", "Espadrilles"), ("Leather", "Vegan", "Slip-On",
               "Wide-Fit", "Platform"), ("shoe", "colour", "material"), (15, 450)),
    Department("Beauty", ("Hair Dryer", "Face Cream", "Electric Shaver", "Perfume", "Shampoo",
               "Lipstick", "Serum", "Hair Straightener", "Nail Polish", "Body Lotion",
               "Sunscreen"), ("Hydrating", "Travel", "Sensitive", "Vegan", "Intensive"),
               ("volume", "colour", "pack"), (4, 350)),
    Department("Health", ("Electric Toothbrush", "Vitamins", "Blood Pressure Monitor",
               "Thermometer", "Massage Gun", "First Aid Kit", "Bathroom Scale", "Heating Pad",
               "Pill Organizer"), ("Digital", "Smart", "Daily", "Clinical"), ("pack",
               "colour"), (4, 400)),
    Department("Baby", ("Stroller", "Car Seat", "Baby Monitor", "High Chair", "Diaper Bag",
               "Crib", "Baby Bottle", "Play Mat", "Teether", "Baby Carrier"), ("Convertible",
               "Anti-Colic", "Lightweight", "Organic"), ("colour", "pack", "age"), (5, 1100)),
    Department("Toys", ("Building Blocks", "Jigsaw Puzzle", "Board Game", "Drone", "Robot Kit",
               "Plush Toy", "Doll House", "Toy Car", "Train Set", "Kite", "Card Game"),
               ("Educational", "Remote-Control", "Wooden", "Magnetic", "Giant"),
               ("pieces", "age", "colour"), (5, 500)),
    Department("Books", ("Cookbook", "Novel", "Travel Guide", "Notebook", "Comic Collection",
               "Atlas", "Biography", "Colouring Book", "Dictionary", "Planner"), ("Illustrated",
               "Hardcover", "Paperback", "Pocket", "Annotated"), ("pages", "edition"),
               (4, 90)),
    Department("Office", ("Stapler", "Paper Shredder", "Label Maker", "Desk Organizer",
               "Whiteboard", "Copy Paper", "Fountain Pen", "Calculator", "Filing Cabinet",
               "Laminator"), ("Electric", "Heavy-Duty", "Magnetic", "Refillable"), ("pack",
               "colour", "dimensions"), (3, 600)),
    Department("Pet Supplies", ("Dog Bed", "Cat Tree", "Pet Carrier", "Dog Leash", "Aquarium",
               "Litter Box", "Pet Fountain", "Chew Toy", "Bird Cage", "Scratching Post"),
               ("Orthopedic", "Automatic", "Self-Cleaning", "Reflective"), ("dimensions",
               "colour", "capacity"), (4, 500)),
    Department("Grocery", ("Coffee Beans", "Green Tea", "Olive Oil", "Dark Chocolate", "Pasta",
               "Honey", "Granola", "Spice Rack", "Hot Sauce", "Sparkling Water",
               "Maple Syrup"), ("Fair-Trade", "Gluten-Free", "Artisan", "Single-Origin"),
               ("weight", "flavour", "origin", "pack"), (2, 80)),
    Department("Automotive", ("Car Charger", "Dash Cam", "Tyre Inflator", "Jump Starter",
               "Seat Cover", "Car Vacuum", "Roof Box", "Floor Mats", "Wiper Blades"),
               ("Universal", "All-Weather", "Portable", "Heavy-Duty"), ("dimensions",
               "voltage", "colour"), (6, 700)),
    Department("Music", ("Acoustic Guitar", "Electric Guitar", "Digital Piano", "Drum Kit",
               "Ukulele", "Violin", "Microphone", "Audio Interface", "Guitar Strings",
               "Studio Monitors"), ("Beginner", "Studio", "Travel", "Electro-Acoustic"),
               ("colour", "pack"), (5, 2500)),
    Department("Jewellery & Watches", ("Watch", "Necklace", "Bracelet", "Earrings", "Ring",
               "Pendant", "Cufflinks", "Anklet", "Brooch"), ("Sterling Silver", "Gold-Plated",
               "Automatic", "Minimalist"), ("material", "colour"), (10, 5000)),
    Department("Bags & Luggage", ("Suitcase", "Backpack", "Tote Bag", "Wallet", "Duffel Bag",
               "Messenger Bag", "Laptop Sleeve", "Travel Organizer"), ("Carry-On",
               "Anti-Theft", "Expandable", "Recycled"), ("capacity", "colour", "material"),
               (10, 600)),
)  # fmt: skip

COLOURS = (
    "Black", "White", "Silver", "Graphite", "Navy", "Red", "Sage Green", "Midnight Blue",
    "Rose Gold", "Charcoal", "Ivory", "Sand", "Olive", "Teal", "Coral", "Burgundy", "Mustard",
    "Lavender", "Blush Pink", "Forest Green", "Sky Blue", "Slate", "Taupe", "Cream", "Copper",
    "Bronze", "Gold", "Champagne", "Mint", "Turquoise", "Plum", "Terracotta", "Ochre", "Stone",
    "Oat", "Espresso", "Walnut", "Chalk", "Denim", "Khaki", "Crimson", "Cobalt", "Emerald",
    "Amber", "Pearl", "Onyx", "Frost", "Storm Grey", "Moss", "Peach",
)  # fmt: skip
MATERIALS = (
    "Stainless Steel", "Bamboo", "Oak", "Walnut", "Leather", "Linen", "Ceramic", "Cast Iron",
    "Aluminium", "Glass", "Recycled Plastic", "Merino Wool", "Organic Cotton", "Silicone",
    "Marble", "Carbon Fibre", "Titanium", "Velvet", "Rattan", "Teak", "Cork", "Suede", "Nylon",
    "Canvas",
)  # fmt: skip
FLAVOURS = (
    "Vanilla", "Hazelnut", "Caramel", "Peppermint", "Lemon", "Chili", "Sea Salt", "Cinnamon",
    "Raspberry", "Matcha", "Ginger", "Coconut", "Blood Orange", "Black Cherry", "Smoked Paprika",
)  # fmt: skip
# The most common product lines; rarer ones are made up (Lexicon).
LINES = (
    "Pro", "Max", "Ultra", "Air", "Plus", "Lite", "Mini", "Neo", "Prime", "Edge", "One", "Go",
    "Classic", "Elite", "Sport", "Studio", "Flex", "Eco", "Core", "Nova", "Select", "Signature",
)  # fmt: skip
# Product lines named with accented words (sellers drop the accent now and then).
ACCENTED_LINES = (
    "Café", "Crème", "Brûlée", "Crêpe", "Rosé", "Pâtisserie", "Jalapeño", "Piñata", "Señor",
    "Müller", "Ångström", "Château", "Façade", "Smörgås", "Kräuter", "Über", "Naïve", "Soirée",
    "Entrée", "Fjäll", "Björk", "Zoë", "Lúcia", "Garçon",
)  # fmt: skip
FEATURES = (
    "a long-lasting battery", "a quiet motor", "a brushed metal finish", "fast charging",
    "an easy-clean surface", "a soft-touch grip", "a compact footprint", "a removable tray",
    "a stay-cool handle", "adjustable settings", "an automatic shut-off", "a magnetic lid",
    "reinforced seams", "breathable mesh", "a non-slip base", "dishwasher-safe parts",
    "a backlit display", "three speed levels", "a touch control panel", "a water-repellent coating",
)  # fmt: skip
USES = (
    "everyday use", "small kitchens", "busy families", "travel", "the office", "weekend trips",
    "home workouts", "gifting", "studio work", "outdoor adventures", "students", "beginners",
    "quick breakfasts", "long commutes", "cosy evenings", "professionals",
)  # fmt: skip
CLOSINGS = (
    "Built to last and easy to maintain.",
    "Simple to set up, with no tools needed.",
    "Tested for durability in our own workshop.",
    "Shipped in plastic-free, recyclable packaging.",
    "Backed by a two-year warranty and friendly support.",
    "Spare parts are available for ten years.",
    "Free returns within thirty days of delivery.",
)
ACCESSORIES = ("storage pouch", "cable", "cleaning cloth", "wall mount", "spare part", "gift box")
PRICE_ENDINGS = (Decimal("0.99"), Decimal("0.49"), Decimal("0.00"), Decimal("0.95"))

BRANDS_PER_DEPARTMENT = 1_000
PRODUCT_LINES = 60_000
MODELS_PER_BRAND = 12
ATTRIBUTE_SHARE = 0.25  # each of a department's attributes is in this share of its titles
LINE_SHARE = 0.75  # titles naming a product line
ACCENTED_LINE_SHARE = 0.012
QUALIFIED_SHARE = 0.35  # product types with a qualifier ("Wireless Mouse")


def without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _one_of(values: str) -> Callable[[random.Random], str]:
    """One of the "|"-separated values."""
    choices = values.split("|")
    return lambda rng: rng.choice(choices)


def _numbered(template: str, numbers: Sequence[object]) -> Callable[[random.Random], str]:
    """A number in one of the "|"-separated templates: "{}-inch|{} in"."""
    templates = template.split("|")
    return lambda rng: rng.choice(templates).format(rng.choice(numbers))


# Each kind of attribute, spelled several ways as sellers do ('65-inch', '65"', '65 Inch').
ATTRIBUTES: dict[str, Callable[[random.Random], str]] = {
    "screen": _numbered('{}-inch|{}"|{} in', (11, 13, 14, 15, 16, 17, 24, 27, 32, 34, 49)),
    "tv": _numbered('{}-inch|{}"|{} Inch', (32, 40, 43, 50, 55, 65, 75, 77, 85, 98)),
    "resolution": _one_of("4K|8K|Full HD|1080p|1440p|4K UHD|QHD|OLED"),
    "connectivity": _one_of(
        "USB-C|Bluetooth 5.3|Wi-Fi 6|Wi-Fi 6E|HDMI 2.1|Thunderbolt 4|NFC|5G|Lightning|USB-A"
    ),
    "storage": _one_of("64GB|128GB|256GB|512GB|1TB|2TB|4TB"),
    "memory": _numbered("{}GB RAM", (8, 12, 16, 24, 32, 64)),
    "capacity": _one_of("500 ml|750ml|1L|1.2L|1.5 Litre|1.7L|2 Litre|3.5L|6L|20L|45 Liters"),
    "volume": _numbered("{} ml|{}ml", (15, 30, 50, 75, 100, 150, 200, 250, 400, 500)),
    "power": _numbered("{}W", range(300, 2600, 100)),
    "voltage": _numbered("{}V", (12, 18, 20, 24, 36, 40, 54, 80)),
    "dimensions": _numbered(
        '{} cm|{}cm|{} mm|{}mm|{}"', [f"{a}x{b}" for a in range(20, 250, 10) for b in (30, 60, 90)]
    ),
    "clothing": _one_of("XS|Small|Medium|Large|XL|XXL|3XL|Size 8|Size 12"),
    "shoe": _numbered("EU {}|UK {}|US {}", range(3, 48)),
    "pack": _numbered(
        "Pack of {}|{}-Pack|{} Count|{} pcs|{}x|Multipack {}|{} Units",
        (2, 3, 4, 5, 6, 8, 10, 12, 24, 36, 48, 100),
    ),
    "material": lambda rng: rng.choice(MATERIALS),
    "weight": _numbered("{}g|{} kg|{} lb", (1, 2, 5, 10, 20, 25, 100, 125, 200, 250, 400, 500)),
    "pieces": _numbered("{} Pieces", (100, 250, 300, 500, 750, 1000, 1500, 2000, 3000)),
    "age": _numbered("Ages {}+", range(1, 15)),
    "pages": _numbered("{} Pages", range(60, 810, 10)),
    "edition": _one_of(
        "2nd Edition|3rd Edition|Revised Edition|Deluxe Edition|Large Print|Anniversary Edition"
    ),
    "flavour": lambda rng: rng.choice(FLAVOURS),
}


class RealisticCatalog:
    """Draws products from one random generator (the seed's): the same seed, the same catalog."""

    categories = tuple(department.name for department in DEPARTMENTS)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        vocabulary_seed = rng.getrandbits(64)
        self.brands = Lexicon("brand", vocabulary_seed, accented_share=0.03)
        self.lines = Lexicon("line", vocabulary_seed, fixed=LINES, accented_share=0.02)
        self.places = Lexicon("place", vocabulary_seed, syllables=(2, 3))
        self.brand_rank = Zipf(BRANDS_PER_DEPARTMENT, offset=10)
        self.line_rank = Zipf(PRODUCT_LINES, offset=10)
        self.model_rank = Zipf(MODELS_PER_BRAND, offset=1)
        self.department_rank = Zipf(len(DEPARTMENTS), offset=10)
        self.colour_rank = Zipf(len(COLOURS), offset=4)
        self.place_rank = Zipf(5_000, offset=5)
        self.noun_ranks = [Zipf(len(d.nouns), offset=2) for d in DEPARTMENTS]

    def products(self, count: int) -> Iterator[ProductDraft]:
        for _ in range(count):
            yield self.product()

    def product(self) -> ProductDraft:
        rng = self.rng
        index = self.department_rank.draw(rng) - 1
        department = DEPARTMENTS[index]
        noun = department.nouns[self.noun_ranks[index].draw(rng) - 1]
        qualifier = rng.choice(department.qualifiers) if rng.random() < QUALIFIED_SHARE else ""
        product_type = f"{qualifier} {noun}" if qualifier else noun
        # Each department its own brands: a brand of rugs rarely makes laptops.
        brand = self.brands.word(index * BRANDS_PER_DEPARTMENT + self.brand_rank.draw(rng))
        line = self._line() if rng.random() < LINE_SHARE else ""
        model = self._model_code(brand)
        attributes = [
            self._attribute(kind)
            for kind in department.attributes
            if rng.random() < ATTRIBUTE_SHARE
        ]
        # Each brand orders its titles its own way.
        head = (
            (brand, line, product_type, model),
            (brand, product_type, line, model),
            (brand, line, model, product_type),
        )[digest(brand) % 3]
        return ProductDraft(
            title=", ".join([" ".join(word for word in head if word), *attributes]),
            description=self._description(
                name=" ".join(word for word in (brand, line) if word), brand=brand, noun=noun,
                product_type=product_type, attributes=attributes,
            ),
            price=self._price(department, product_type),
            category=department.name,
        )  # fmt: skip

    def _line(self) -> str:
        if self.rng.random() < ACCENTED_LINE_SHARE:
            word = self.rng.choice(ACCENTED_LINES)
            return without_accents(word) if self.rng.random() < 0.25 else word
        return self.lines.word(self.line_rank.draw(self.rng))

    def _model_code(self, brand: str) -> str:
        """Each brand names its models its own way: "KX4820", "KX-482B", "X5" or "52DX"."""
        style = digest(brand, "style")
        model = digest(brand, self.model_rank.draw(self.rng))
        letters = 1 + (style >> 4) % 2
        prefix = "".join(chr(65 + (style >> shift) % 26) for shift in (8, 16)[:letters])
        match style % 4:
            case 0:
                return f"{prefix}{model % 9_000 + 100}"
            case 1:
                return f"{prefix}-{model % 900 + 100}{chr(65 + model % 26)}"
            case 2:
                return f"{prefix[0]}{model % 20 + 1}"
            case _:
                return f"{model % 90 + 10}{prefix}"

    def _attribute(self, kind: str) -> str:
        if kind == "colour":
            return COLOURS[self.colour_rank.draw(self.rng) - 1]
        if kind == "origin":
            return f"{self.places.word(self.place_rank.draw(self.rng))} Estate"
        return ATTRIBUTES[kind](self.rng)

    def _price(self, department: Department, product_type: str) -> Decimal:
        """Around a typical price of the product type (log-uniform in the department's range)."""
        low, high = department.prices
        typical = low * (high / low) ** ((digest(product_type) % 1000) / 1000)
        whole = max(1, int(typical * (0.6 + 0.9 * self.rng.random())))
        return whole + self.rng.choice(PRICE_ENDINGS)

    def _description(
        self, *, name: str, brand: str, noun: str, product_type: str, attributes: list[str]
    ) -> str:
        """20 to 60 words: an opening, then sentences in a random order, each only if the text
        stays within 60 words, until a length drawn from 20-60 is reached (all of them together
        always pass 60)."""
        rng = self.rng
        sentences: list[Callable[[], str]] = [
            lambda: (
                f"Made of {rng.choice(MATERIALS).lower()}, finished in "
                f"{COLOURS[self.colour_rank.draw(rng) - 1].lower()}."
            ),
            lambda: f"Ideal for {rng.choice(USES)} and {rng.choice(USES)}.",
            lambda: (
                f"In the box: the {noun.lower()}, a {rng.choice(ACCESSORIES)} and a quick "
                "start guide."
            ),
            lambda: rng.choice(CLOSINGS),
            lambda: (
                f"Designed in {self.places.word(self.place_rank.draw(rng))} by the {brand} team."
            ),
            lambda: "Every one is checked by hand before it ships.",
            lambda: f"Rated {rng.randint(35, 50) / 10} out of 5 by {rng.randint(3, 4000)} buyers.",
            lambda: (
                f"Specifications: {', '.join(attributes)}."
                if attributes
                else "Available in several sizes and colours."
            ),
        ]
        rng.shuffle(sentences)
        opening = (
            f"Meet the {name} {product_type.lower()}, with {rng.choice(FEATURES)} and "
            f"{rng.choice(FEATURES)}."
        )
        target = rng.randint(20, 60)
        text, words = [opening], len(opening.split())
        for sentence in sentences:
            if words >= target:
                break
            candidate = sentence()
            length = len(candidate.split())
            if words + length <= 60:
                text.append(candidate)
                words += length
        return " ".join(text)
