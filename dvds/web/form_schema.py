"""Forms generated from a pydantic model, through its JSON Schema: each task's submission,
and the new application.

Each property becomes one form field; a list of objects (research checks) becomes
repeated rows named `checks.0.system`, `checks.1.system`, ... with a button that adds a
row (no script needed); an object (an application's subject) becomes a group of fields
named `subject.name`, `subject.aliases`, ..., left out when optional and left blank.
`parse` turns the posted form back into the submission's plain data, leaving out what
was left blank so the model's defaults and "Field required" messages apply;
`field_errors` puts the model's validation messages beside their fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

ROWS_SUFFIX = "__rows"
LONG_TEXT = 2000  # longer strings get a textarea


@dataclass
class FormField:
    name: str
    label: str
    kind: str  # text, textarea, select, yesno, checkbox, number, date, datetime, lines, rows, group
    required: bool
    description: str | None = None
    options: list[str] = field(default_factory=list)
    default: Any = None
    step: str | None = None
    subfields: list[FormField] = field(default_factory=list)


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        return {**defs[prop["$ref"].split("/")[-1]], **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _field(name: str, prop: dict[str, Any], required: bool, defs: dict[str, Any]) -> FormField | None:
    prop = _resolve(prop, defs)
    if "anyOf" in prop:  # `X | None`: the X, optional
        inner = [_resolve(p, defs) for p in prop["anyOf"] if p.get("type") != "null"]
        prop = {**inner[0], **{k: v for k, v in prop.items() if k != "anyOf"}}
    made = FormField(name=name, label=_label(name), kind="text", required=required,
                     description=prop.get("description"), default=prop.get("default"))
    kind = prop.get("type")
    if "const" in prop:
        if "default" in prop:
            return None  # fixed by the model (e.g. nothing given in writing): nothing to ask
        made.kind = "checkbox"  # must be ticked (e.g. delivered in person)
    elif "enum" in prop:
        made.kind, made.options = "select", [str(v) for v in prop["enum"]]
    elif kind == "boolean":
        # A yes/no the model insists on is asked explicitly, not inferred from an unticked box.
        made.kind = "checkbox" if "default" in prop else "yesno"
    elif kind in ("integer", "number"):
        made.kind, made.step = "number", "1" if kind == "integer" else "any"
    elif kind == "object" and "properties" in prop:
        made.kind = "group"
        needed = set(prop.get("required", []))
        made.subfields = [f for sub, p in prop["properties"].items()
                          if (f := _field(sub, p, sub in needed, defs)) is not None]
    elif kind == "array":
        items = _resolve(prop["items"], defs)
        if items.get("type") == "object":
            made.kind = "rows"
            needed = set(items.get("required", []))
            made.subfields = [f for sub, p in items["properties"].items()
                              if (f := _field(sub, p, sub in needed, defs)) is not None]
        else:
            made.kind = "lines"
    elif prop.get("format") == "date":
        made.kind = "date"
    elif prop.get("format") == "date-time":
        made.kind = "datetime"
    elif prop.get("maxLength", 0) > LONG_TEXT:
        made.kind = "textarea"
    return made


def form_fields(model: type[BaseModel]) -> list[FormField]:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    needed = set(schema.get("required", []))
    return [f for name, prop in schema["properties"].items() if (f := _field(name, prop, name in needed, defs))]


def _scalar(spec: FormField, raw: str, zone: ZoneInfo) -> Any:
    if spec.kind == "datetime":
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return raw  # the model says what is wrong with it
        # A browser's datetime-local has no zone: staff mean UK local time.
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    if spec.kind == "yesno":
        return {"yes": True, "no": False}.get(raw, raw)
    return raw  # pydantic converts text to numbers and dates, with its own messages


def _value(spec: FormField, form: dict[str, str], prefix: str, zone: ZoneInfo) -> tuple[bool, Any]:
    """(given, value) for one field: blank fields are not given."""
    key = prefix + spec.name
    if spec.kind == "checkbox":
        return True, key in form
    if spec.kind == "lines":
        lines = [line.strip() for line in form.get(key, "").splitlines() if line.strip()]
        return bool(lines), lines
    raw = form.get(key, "").strip()
    return (raw != ""), _scalar(spec, raw, zone)


def row_count(spec: FormField, form: dict[str, str], key: str | None = None) -> int:
    """How many rows the form shows of a list of rows (`key`: its full name inside a group)."""
    try:
        return max(1, min(200, int(form.get((key or spec.name) + "." + ROWS_SUFFIX, "1"))))
    except ValueError:
        return 1


def parse(fields: list[FormField], form: dict[str, str], timezone: str) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The submission's plain data, and for each list of rows which form row each kept row was
    (blank rows are dropped, so error positions must be mapped back)."""
    kept_rows: dict[str, list[int]] = {}
    return _collect(fields, form, "", ZoneInfo(timezone), kept_rows), kept_rows


def _collect(fields: list[FormField], form: dict[str, str], prefix: str, zone: ZoneInfo,
             kept_rows: dict[str, list[int]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in fields:
        key = prefix + spec.name
        if spec.kind == "group":
            inner = _collect(spec.subfields, form, key + ".", zone, kept_rows)
            if spec.required or any(v not in (False, [], {}) for v in inner.values()):
                data[spec.name] = inner  # an optional group left blank is not given
            continue
        if spec.kind == "rows":
            rows, kept = [], []
            for index in range(row_count(spec, form, key)):
                row_prefix = f"{key}.{index}."
                values = {sub.name: _value(sub, form, row_prefix, zone) for sub in spec.subfields}
                filled = [v for was_given, v in values.values() if was_given and v is not False]
                if filled:  # a row left entirely blank is not a row
                    rows.append({name: value for name, (was_given, value) in values.items() if was_given})
                    kept.append(index)
            data[spec.name], kept_rows[key] = rows, kept
            continue
        was_given, value = _value(spec, form, prefix, zone)
        if was_given:
            data[spec.name] = value
    return data


def field_errors(
    err: ValidationError, fields: list[FormField], kept_rows: dict[str, list[int]]
) -> tuple[dict[str, list[str]], list[str]]:
    """Messages by form field name, and the ones that belong to no single field.
    Values are never included (the models hide input in errors)."""
    names = {f.name for f in fields}
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for error in err.errors(include_input=False, include_url=False):
        loc = list(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        for at in range(1, len(loc)):  # a kept row's position back to its row on the form
            rows, position = kept_rows.get(".".join(str(p) for p in loc[:at])), loc[at]
            if rows is not None and isinstance(position, int) and position < len(rows):
                loc[at] = rows[position]
        if loc:
            by_field.setdefault(".".join(str(p) for p in loc), []).append(message)
            continue
        # A rule across fields says which fields it is about: "a and b: why".
        about, _, why = message.partition(": ")
        named = [n.strip() for n in about.replace(" and ", ", ").split(",")]
        if why and all(n in names for n in named):
            for n in named:
                by_field.setdefault(n, []).append(why)
            general.append(message)
        else:
            general.append(message)
    return by_field, general


def initial_values(fields: list[FormField]) -> dict[str, str]:
    """A fresh form: the model's defaults, one blank row for each list of rows."""
    return _initial(fields, "")


def _initial(fields: list[FormField], prefix: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for spec in fields:
        key = prefix + spec.name
        if spec.kind == "group":
            values.update(_initial(spec.subfields, key + "."))
        elif spec.kind == "rows":
            values[f"{key}.{ROWS_SUFFIX}"] = "1"
        elif spec.kind == "checkbox" and spec.default is True:
            values[key] = "on"
        elif spec.default not in (None, False, [], True):
            values[key] = str(spec.default)
    return values


def field_keys(fields: list[FormField], values: dict[str, str], prefix: str = "") -> set[str]:
    """Every name the form shows a message beside (groups, rows and their cells)."""
    shown = set()
    for spec in fields:
        key = prefix + spec.name
        shown.add(key)
        if spec.kind == "group":
            shown |= field_keys(spec.subfields, values, key + ".")
        elif spec.kind == "rows":
            for index in range(row_count(spec, values, key)):
                shown.add(f"{key}.{index}")
                shown |= {f"{key}.{index}.{sub.name}" for sub in spec.subfields}
    return shown
