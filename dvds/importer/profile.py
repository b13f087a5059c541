"""A column profile: how a force's export names our fields, writes our words and its dates.

    [columns]                      # our field = the export's header
    case_ref = "Reference"
    received_on = "Date received"
    notes = ""                     # the export has no such column (optional fields only)
    [values.decision]              # our value = the export's words (case and spaces ignored)
    disclosed = ["Disclosed", "Disclosure made"]
    declined = ["Not disclosed", "NFA"]
    [dates]
    formats = ["%d/%m/%Y", "%Y-%m-%d", "%d-%b-%Y"]

Every field and value not named keeps today's name and word; without `[dates]` a date is
ISO or UK day-first, as today. A profile is checked as a whole when loaded, and against the
file's header before any row is read; each problem names the key and the rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dvds.importer.columns import CHOICE_FIELDS, CHOICES, COLUMNS, REQUIRED
from dvds.importer.errors import ProfileError
from dvds.importer.reading import Reading, fold, today_words

_SECTIONS = "columns, values, dates"
_PROBE_DAYS = (date(2016, 4, 21), date(1987, 11, 3))  # day > 12, so a format must tell day from month


def reads_back(form: str) -> bool:
    """Whether a strptime format reads a whole date: a day, a month and a year."""
    try:
        return all(datetime.strptime(day.strftime(form), form).date() == day for day in _PROBE_DAYS)
    except ValueError:
        return False


def _header(name: str) -> str:
    return repr(name[:40])


class DateFormats(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    formats: list[str] | None = None


class ColumnProfile(BaseModel):
    """Our field -> the export's header; our value -> the export's words; its date formats."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    dates: DateFormats = Field(default_factory=DateFormats)

    def header_for(self, name: str) -> str:
        """The export's header for our field ("" when the export has no such column)."""
        return self.columns.get(name, name).strip()

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = [*self._column_problems(), *self._value_problems(), *self._date_problems()]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _column_problems(self) -> list[str]:
        problems = []
        for name, header in self.columns.items():
            if name not in COLUMNS:
                problems.append(f"columns.{name}: not one of our fields ({', '.join(COLUMNS)})")
            elif not header.strip() and name in REQUIRED:
                problems.append(f"columns.{name}: a required field; it needs the export's header")
        by_header: dict[str, list[str]] = {}
        for name in COLUMNS:
            if header := self.header_for(name):
                by_header.setdefault(fold(header), []).append(name)
        for names in by_header.values():
            if len(names) > 1:
                keys = " and ".join(f"columns.{n}" for n in names)
                problems.append(f"{keys}: two fields on one header ({_header(self.header_for(names[0]))}); "
                                "each field needs its own")
        return problems

    def _value_problems(self) -> list[str]:
        problems = []
        for name, table in self.values.items():
            if name not in CHOICES:
                problems.append(f"values.{name}: not a field with a choice of words ({' | '.join(CHOICE_FIELDS)})")
                continue
            ours = list(CHOICES[name])
            for value, words in table.items():
                if value not in ours:
                    problems.append(f"values.{name}.{value}: not a value of {name} ({' | '.join(ours)})")
                elif not words or not all(w.strip() for w in words):
                    problems.append(f"values.{name}.{value}: must list at least one word, none of them blank")
            meaning: dict[str, set[str]] = {}
            for value, spelled in self._words(name).items():
                for word in spelled:
                    meaning.setdefault(fold(word), set()).add(value)
            for word, values in meaning.items():
                if len(values) > 1:
                    both = " and ".join(sorted(values))
                    problems.append(f"values.{name}: the word {word!r} means both {both}; a word means one value "
                                    "(a value not listed keeps its own name as its word)")
        return problems

    def _date_problems(self) -> list[str]:
        formats = self.dates.formats
        if formats is None:
            return []
        if not formats:
            return ["dates.formats: must list at least one format, like \"%d/%m/%Y\""]
        return [
            f"dates.formats[{index}]: {form!r} does not read a day, a month and a year (strptime, like \"%d/%m/%Y\")"
            for index, form in enumerate(formats)
            if not reads_back(form)
        ]

    def _words(self, name: str) -> dict[str, tuple[str, ...]]:
        given = {v: tuple(w.strip() for w in words) for v, words in self.values.get(name, {}).items()}
        return {value: given.get(value, default) for value, default in today_words(name).items()}

    def reading(self) -> Reading:
        formats = self.dates.formats
        return Reading(
            words={name: self._words(name) for name in CHOICE_FIELDS},
            date_formats=tuple(formats) if formats else None,
        )

    def columns_in(self, header: Sequence[str]) -> dict[str, str | None]:
        """Our field -> the file's header as written (None for a column the export lacks).
        Refuses a profile that does not fit the header, before any row is read."""
        found: dict[str, list[str]] = {}
        for written in header:
            found.setdefault(fold(written), []).append(written)
        columns: dict[str, str | None] = {}
        problems = []
        for name in COLUMNS:
            wanted = self.header_for(name)
            if not wanted:
                columns[name] = None
                continue
            matches = found.get(fold(wanted), [])
            if len(matches) == 1:
                columns[name] = matches[0]
            elif matches:
                problems.append(f"columns.{name}: the file has {len(matches)} headers {_header(wanted)}")
            elif name in self.columns:
                problems.append(f"columns.{name}: the file has no header {_header(wanted)}")
            else:
                lacks = "" if name in REQUIRED else ', or "" if the export has no such column'
                problems.append(f"columns.{name}: not in the profile and the file has no header {_header(name)}; "
                                f"name the export's header for it{lacks}")
        if problems:
            raise ProfileError("; ".join(problems))
        return columns


def load_profile(text: str) -> ColumnProfile:
    """A profile from its TOML text, or ProfileError naming each key and rule."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(f"profile: not valid TOML ({err})") from None
    try:
        return ColumnProfile.model_validate(data)
    except ValidationError as err:
        raise ProfileError(_summary(err)) from None


def read_profile(path: Path) -> ColumnProfile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ProfileError(f"profile: {path} is not a readable UTF-8 file") from None
    return load_profile(text)


def _summary(err: ValidationError) -> str:
    problems = []
    for error in err.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        if error["type"] == "value_error":
            problems.append(str(error["ctx"]["error"]))
        elif error["type"] == "extra_forbidden":
            problems.append(f"{where}: not a key of a column profile (sections: {_SECTIONS}; [dates] has formats)")
        else:
            problems.append(f"{where}: {error['msg'][0].lower()}{error['msg'][1:]}")
    return "; ".join(problems)
