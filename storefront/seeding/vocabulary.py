"""Building blocks of the realistic catalog's long-tail vocabulary: words made of syllables and
skewed draws, so that no long word list ships with the code.

A `Lexicon` names a word by its rank: the same seed always spells rank 7 the same way, and a
`Zipf` draw picks ranks so that a few words are common and most are rare, as in real catalogs.
"""

import hashlib
import math
import random
from dataclasses import dataclass, field

ONSETS = (
    "b", "br", "c", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "kr", "l", "m", "n", "p",
    "pr", "r", "s", "sk", "st", "t", "tr", "v", "w", "z", "l", "m", "n", "r", "s", "t", "v",
)  # fmt: skip
VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "y")
# Only a word's last syllable may close with a consonant: "Velmorax", "Kestrin".
CODAS = ("", "", "", "", "n", "r", "l", "s", "x", "m", "nd", "k", "st", "ck")
# One letter of an accented word is replaced by its accented form ("Velmora" -> "Velmöra").
ACCENTED_LETTERS = {"e": "é", "a": "å", "o": "ö", "u": "ü", "n": "ñ", "c": "ç", "i": "ï"}


def digest(*parts: object) -> int:
    """A stable 64-bit number for the parts (Python's hash() differs between processes)."""
    text = ":".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def accented(word: str, choice: int) -> str:
    """The word with one of its accentable letters accented (the `choice`-th, cyclically)."""
    spots = [i for i, letter in enumerate(word) if letter.lower() in ACCENTED_LETTERS]
    if not spots:
        return word
    at = spots[choice % len(spots)]
    letter = ACCENTED_LETTERS[word[at].lower()]
    return word[:at] + (letter.upper() if word[at].isupper() else letter) + word[at + 1 :]


@dataclass
class Lexicon:
    """Pronounceable made-up words by rank, `fixed` words first (rank 1 is fixed[0]).

    `accented_share` of the made-up words carry an accent, as brand and product-line names of
    a European catalog do.
    """

    name: str
    seed: int
    fixed: tuple[str, ...] = ()
    syllables: tuple[int, int] = (2, 3)
    accented_share: float = 0.0
    _words: dict[int, str] = field(default_factory=dict, repr=False)

    def word(self, rank: int) -> str:
        if rank <= len(self.fixed):
            return self.fixed[rank - 1]
        known = self._words.get(rank)
        if known is None:
            known = self._words[rank] = self._spell(rank)
        return known

    def _spell(self, rank: int) -> str:
        number = digest(self.name, self.seed, rank)
        low, high = self.syllables
        count, number = low + number % (high - low + 1), number // (high - low + 1)
        letters = []
        for _ in range(count):
            for part in (ONSETS, VOWELS):
                letters.append(part[number % len(part)])
                number //= len(part)
        letters.append(CODAS[number % len(CODAS)])
        number //= len(CODAS)
        word = "".join(letters).capitalize()
        if (number % 10_000) / 10_000 < self.accented_share:
            word = accented(word, number // 10_000)
        return word


@dataclass(frozen=True)
class Zipf:
    """Ranks 1..size drawn with P(rank) proportional to 1 / (rank + offset) (Zipf-Mandelbrot
    with exponent 1): the offset flattens the head, so the most common rank stays rare enough.

    Drawn by inverting the continuous distribution: one random number per draw, no table.
    """

    size: int
    offset: float = 0.0

    def draw(self, rng: random.Random) -> int:
        low = math.log(1 + self.offset)
        span = math.log(self.size + 1 + self.offset) - low
        return min(self.size, int(math.exp(low + rng.random() * span) - self.offset))

    def share_of_first(self) -> float:
        """The probability of rank 1 (the most common), for sizing the offset."""
        low = math.log(1 + self.offset)
        return (math.log(2 + self.offset) - low) / (math.log(self.size + 1 + self.offset) - low)
