"""A starting column profile written from an export: the headers that match our fields
filled in, every other header and every unmatched word of a choice column listed, and the
date formats its dates are written in. A person finishes it; `load_profile` checks it.

Only the words of choice columns (route, decision, ...) are ever written out: never a
value of a name, date or free-text column, which are personal data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from dvds.importer.columns import CHOICE_FIELDS, COLUMNS, DATE_FIELDS, REQUIRED
from dvds.importer.digests import Cell
from dvds.importer.export import open_export
from dvds.importer.profile import ColumnProfile
from dvds.importer.reading import fold, parse_date
from dvds.importer.table import Record

# Tried in this order; day-first only, as forces in England and Wales write dates.
CANDIDATE_FORMATS = (
    "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d-%b-%Y", "%d %b %Y", "%d %B %Y", "%d/%m/%y",
    "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
)
MAX_WORD = 40  # longer than a choice word: likely free text, so never written out
MAX_WORDS = 30  # more different words than this: likely not a choice column


def _loose(text: str) -> str:
    return "".join(c for c in text.casefold() if not c.isspace() and c not in "_-")


def toml_string(text: str) -> str:
    escaped = []
    for c in text:
        if c in '"\\':
            escaped.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            escaped.append(f"\\u{ord(c):04x}")
        else:
            escaped.append(c)
    return '"' + "".join(escaped) + '"'


def _parses(text: str, form: str) -> bool:
    try:
        datetime.strptime(text, form)
    except ValueError:
        return False
    return True


def matched_columns(headers: Sequence[str], base: ColumnProfile | None = None) -> dict[str, str]:
    """Our field -> the header that names it: the base profile's header, else the first
    header spelling our field's name (case, spaces, - and _ ignored); "" for a field the
    base profile says the export lacks."""
    matched: dict[str, str] = {}
    for name in COLUMNS:
        if base is not None and name in base.columns:
            wanted = base.header_for(name)
            found = [h for h in headers if wanted and fold(h) == fold(wanted)]
            if not wanted or found:
                matched[name] = found[0] if found else ""
                continue
        found = [h for h in headers if h.strip() and _loose(h) == _loose(name)]
        if found:
            matched[name] = found[0]
    return matched


def write_profile(
    headers: Sequence[str], sample_rows: Iterable[Mapping[str, Cell]], base: ColumnProfile | None = None
) -> str:
    """A starting profile (TOML) for an export with these headers, from its rows (cells by
    header). With `base` (a profile being finished) its headers, words and formats are kept,
    and only what it does not yet cover is listed."""
    profile = base or ColumnProfile()
    reading = profile.reading()
    matched = matched_columns(headers, base)
    read = {name: header for name, header in matched.items() if header}
    words: dict[str, Counter[str]] = {name: Counter() for name in CHOICE_FIELDS if name in read}
    dates: set[str] = set()
    spelling: dict[str, str] = {}
    for row in sample_rows:
        for name, counter in words.items():
            value = row.get(read[name], "")
            if isinstance(value, str) and value.strip() and reading.choice(name, value) is None:
                counter[spelling.setdefault(fold(value), value.strip())] += 1  # one word however it is cased
        for name in DATE_FIELDS & read.keys():
            value = row.get(read[name], "")
            if isinstance(value, str) and value.strip():
                dates.add(value.strip())
    lines = [
        "# A column profile started from the export's header: check it, fill in what is missing.",
        "# [columns]: our field = the export's header. [values.FIELD]: our value = the export's words",
        "# (case and spaces ignored). [dates] formats: how the export writes dates (strptime), tried in order.",
        "",
        "[columns]",
        *(f"{name} = {toml_string(matched[name])}" for name in COLUMNS if name in matched),
    ]
    missing = [name for name in COLUMNS if name not in matched]
    if missing:
        lines += ["# Our fields no header matched: name the export's header for each, or \"\" for a column",
                  "# the export does not have (required fields need a header):"]
        lines += [f"# {name} = \"\"" + ("  # required" if name in REQUIRED else "") for name in missing]
    unmatched = [h for h in headers if h.strip() and h not in read.values()]
    if unmatched:
        lines += ["# Headers of the export that match none of our fields (they are not read):"]
        lines += [f"#   {toml_string(h)}" for h in unmatched]
    for name, counter in words.items():
        lines += ["", f"[values.{name}]"]
        lines += [f"{value} = [{', '.join(toml_string(w) for w in spelled)}]"
                  for value, spelled in reading.words[name].items()]
        lines += _unmatched_words(name, read[name], counter)
    lines += ["", *_date_lines(dates, profile.dates.formats, bool(DATE_FIELDS & read.keys()))]
    return "\n".join(lines) + "\n"


def _unmatched_words(name: str, header: str, counter: Counter[str]) -> list[str]:
    if not counter:
        return []
    if len(counter) > MAX_WORDS or any(len(word) > MAX_WORD for word in counter):
        return [f"# The column {toml_string(header)} holds more than short words; check it is the {name} column."]
    return [f"# Words in the column {toml_string(header)} that match none of ours: add each to the list of the",
            "# value it means (rows with the word in brackets):",
            *(f"#   {toml_string(word)}  ({count})" for word, count in counter.most_common())]


def _date_lines(texts: set[str], formats: list[str] | None, any_date_column: bool) -> list[str]:
    """[dates] reading every date text: the profile's own formats, then the candidates that
    read most of the rest, one at a time."""
    if formats is None and all(not isinstance(parse_date(t), str) for t in texts):
        if not any_date_column:
            return ["# No date column is matched yet: name them, then write the profile again to find their formats."]
        return ["# Every date here is YYYY-MM-DD or DD/MM/YYYY (or an Excel date), read without a [dates] section:",
                "# [dates]", '# formats = ["%Y-%m-%d", "%d/%m/%Y"]']
    chosen = list(formats or [])
    left = {t for t in texts if not any(_parses(t, form) for form in chosen)}
    while left:
        reads = {form: {t for t in left if _parses(t, form)} for form in CANDIDATE_FORMATS if form not in chosen}
        best = max(reads, key=lambda form: len(reads[form]), default=None)
        if best is None or not reads[best]:
            break
        chosen.append(best)
        left -= reads[best]
    lines = ["[dates]", "formats = [" + ", ".join(toml_string(form) for form in chosen) + "]"]
    if left:
        lines.append(f"# {len(left)} different dates match none of these formats: add the format they are written in.")
    return lines


def starting_profile(data: bytes, sheet: str | None = None, base: ColumnProfile | None = None) -> str:
    """A starting profile for this export (CSV or Excel), from its header and rows."""
    table = open_export(data, sheet)
    return write_profile(table.header, (r.cells for r in table.records if isinstance(r, Record)), base)
