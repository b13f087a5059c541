"""How an export writes its choices and dates: today's words and forms unless a column
profile says otherwise. Pure: a Reading is built once per import and consulted per cell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from dvds.importer.columns import CHOICE_FIELDS, CHOICES

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def fold(text: str) -> str:
    """A word or header as compared: case and spaces ignored."""
    return "".join(text.split()).casefold()


def today_words(field_name: str) -> dict[str, tuple[str, ...]]:
    """Our own words for a choice field: each value is written as itself."""
    return {value: (value,) for value in CHOICES[field_name]}


@dataclass(frozen=True)
class Reading:
    """The export's words for each choice field (our value -> its words) and its date
    formats (strptime; None for today's rule, ISO or UK day-first)."""

    words: Mapping[str, Mapping[str, tuple[str, ...]]] = field(
        default_factory=lambda: {name: today_words(name) for name in CHOICE_FIELDS}
    )
    date_formats: tuple[str, ...] | None = None

    @cached_property
    def _lookup(self) -> dict[str, dict[str, str]]:
        return {
            name: {fold(word): value for value, spelled in values.items() for word in spelled}
            for name, values in self.words.items()
        }

    def choice(self, field_name: str, text: str) -> str | None:
        """Our value for the export's word, or None when the word is not one of this field's."""
        return self._lookup[field_name].get(fold(text))

    def choice_rule(self, field_name: str) -> str:
        spelled = [word for words in self.words[field_name].values() for word in words]
        return "must be one of " + " | ".join(spelled)

    def day(self, text: str) -> date | str:
        """The date the text writes, or the rule it breaks."""
        if self.date_formats is None:
            return parse_date(text)
        unreal = False
        for form in self.date_formats:
            try:
                return datetime.strptime(text, form).date()
            except ValueError as err:
                # strptime says "time data ... does not match" or "unconverted data remains" for a
                # text of another shape; anything else is a date of the right shape that does not exist.
                unreal = unreal or not str(err).startswith(("time data", "unconverted data"))
        if unreal:
            return "not a real date"
        return "not a date; use " + " or ".join(self.date_formats)


def parse_date(text: str) -> date | str:
    """An ISO (2016-04-01) or UK day-first (01/04/2016) date, or the rule it breaks."""
    if match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _UK.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        return "not a date; use YYYY-MM-DD or DD/MM/YYYY"
    try:
        return date(year, month, day)
    except ValueError:
        return "not a real date"
