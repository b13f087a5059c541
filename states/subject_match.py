"""Which name and date-of-birth pairs identify a subject, normalised so that one person
recorded twice produces the same pairs.

Pure: the keyed hash that turns each pair into a blind index key lives outside states/
(dvds/subject_index.py), because it needs the secret key.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from states.models import Subject

# A KeywordList search attribute holds at most a few KB. Real subjects have a handful
# of aliases and dates; the cap only stops one pathological record from failing the start.
MAX_PAIRS = 48


def normalised_name(name: str) -> str:
    """Case, accents, punctuation and spacing removed; word order ignored, because police
    systems often record the surname first ("Placeholder, Sam")."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(
        ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch)
    ).casefold()
    return " ".join(sorted(letters.split()))


def subject_pairs(subject: Subject) -> list[str]:
    """One "name|date" string per name (the name and each alias) and date of birth (the
    date and each alternative), in a fixed order, without repeats. A subject without a
    date of birth gives "name|" pairs, which match only other undated records."""
    names = [normalised_name(n) for n in [subject.name, *subject.aliases]]
    known = [d for d in [subject.date_of_birth, *subject.alternative_dates_of_birth] if d is not None]
    dates: list[date | None] = list(known) or [None]
    pairs: list[str] = []
    for name in names:
        if not name:
            continue
        for born in dates:
            pair = f"{name}|{born.isoformat() if born else ''}"
            if pair not in pairs:
                pairs.append(pair)
    return pairs[:MAX_PAIRS]
