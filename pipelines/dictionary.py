"""The data dictionary (data/dictionary.yaml) and header aliases (data/header_aliases.yaml), as objects.

Everything that knows what a ledger column means reads it from here: header recognition, kind
detection, validation, the schema consistency test and the rendered DICTIONARY.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.errors import UserError
from pipelines.settings import DATA_DIR

TYPES = {
    "text", "code", "date", "int", "number", "amount", "bool", "enum", "unit",
    "person", "id_number", "phone", "freetext", "period", "list",
}
PII_TYPES = {"person", "id_number", "phone"}
SQL_TYPES = {"date": "DATE", "int": "INTEGER", "number": "DOUBLE", "amount": "DOUBLE", "bool": "BOOLEAN", "list": "VARCHAR[]"}

# A bracketed unit or note after a header: 涉及金额（万元）, 金额(元), 受理日期（年月日）.
_BRACKETED = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]")
_SPACES = re.compile(r"\s+")


def normalise_header(text: object) -> str:
    """Header text as compared: full-width folded, spaces and line breaks removed, bracketed notes dropped."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = _SPACES.sub("", s)
    s = _BRACKETED.sub("", s)
    return s.strip("*＊:：")


def header_scale(text: object) -> float:
    """10,000 when a header declares its amounts in 万元, else 1."""
    return 10000.0 if text is not None and "万元" in unicodedata.normalize("NFKC", str(text)) else 1.0


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    type: str
    required: bool = False
    values: tuple[str, ...] = ()
    value_aliases: tuple[tuple[str, str], ...] = ()
    doc: str = ""
    rejects: bool = False      # a missing or unreadable value rejects the row; otherwise it is flagged
    mask: str = "names"        # text columns: "names" (names and numbers masked) or "numbers" (organisation names)
    sets: tuple[tuple[str, str, str], ...] = ()  # (written value, other column, value there): 享乐主义 → fourwinds
    negative: bool = False     # amounts and numbers: negative values are allowed

    @property
    def sql_type(self) -> str:
        return SQL_TYPES.get(self.type, "VARCHAR")

    @property
    def is_pii(self) -> bool:
        return self.type in PII_TYPES


@dataclass(frozen=True)
class Check:
    """A cross-field rule; `sql` is a boolean expression over the typed columns that must not be false."""

    sql: str
    columns: tuple[str, ...]
    message: str
    rejects: bool = True  # an impossible order of dates rejects the row; other failures are flagged


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str
    doc: str
    natural_key: tuple[str, ...]
    columns: tuple[Column, ...]
    checks: tuple[Check, ...] = ()
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def unit_column(self) -> Column | None:
        return next((c for c in self.columns if c.type == "unit"), None)

    def header_map(self) -> dict[str, str]:
        """Normalised header text → column name, from the standard headers and the aliases."""
        out: dict[str, str] = {}
        for col in self.columns:
            for text in (col.zh, *self.aliases.get(col.name, ())):  # English names only where listed as aliases
                out.setdefault(normalise_header(text), col.name)
        return out


@dataclass(frozen=True)
class Dictionary:
    version: int
    kinds: dict[str, Kind]

    def kind(self, name: str) -> Kind:
        try:
            return self.kinds[name]
        except KeyError:
            raise UserError(f"unknown ledger kind '{name}': use one of {', '.join(self.kinds)}") from None


def _load_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            # libyaml's loader when present: the pure-Python one takes most of a second on these files
            return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except FileNotFoundError:
        raise UserError(f"{path} is missing: restore it from the repository") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None


def _value_aliases(spec, kname: str, cname: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, str], ...]]:
    """value_aliases.yaml entries of one column: written → canonical, and written → (other column, value)
    for the labels that also say something about another column (享乐主义 as a category → 四风类型)."""
    plain, sets = [], []
    for written, target in (spec or {}).items():
        if isinstance(target, dict):
            for col, val in target.items():
                if col == cname:
                    plain.append((str(written), str(val)))
                else:
                    sets.append((str(written), str(col), str(val)))
        else:
            plain.append((str(written), str(target)))
    return tuple(plain), tuple(sets)


@lru_cache(maxsize=4)
def load(data_dir: Path = DATA_DIR) -> Dictionary:
    raw = _load_yaml(data_dir / "dictionary.yaml")
    aliases = _load_yaml(data_dir / "header_aliases.yaml")
    values_spec = _load_yaml(data_dir / "value_aliases.yaml")
    kinds: dict[str, Kind] = {}
    for kname, spec in raw["kinds"].items():
        columns = []
        for c in spec["columns"]:
            unknown = set(c) - {"name", "zh", "type", "required", "values", "doc", "reject", "mask", "negative"}
            if unknown or c.get("type") not in TYPES:
                raise UserError(f"dictionary.yaml: column {kname}.{c.get('name')} has a bad type or keys {sorted(unknown)}")
            required = bool(c.get("required", False))
            # Keep the record, flag the field: only what makes a row no record rejects it — its key, its
            # unit, a required date or measure. Everything else unreadable is stored as unknown with a note.
            default_reject = (c["name"] in spec["natural_key"] or c["type"] == "unit"
                              or (required and c["type"] in ("date", "int", "number")))
            plain, sets = _value_aliases(values_spec.get(kname, {}).get(c["name"]), kname, c["name"])
            columns.append(Column(
                name=c["name"], zh=c["zh"], type=c["type"], required=required,
                values=tuple(str(v) for v in c.get("values", ())),
                value_aliases=plain, sets=sets, doc=c.get("doc", ""),
                rejects=bool(c.get("reject", default_reject)), mask=str(c.get("mask", "names")),
                negative=bool(c.get("negative", False)),
            ))
        checks = tuple(
            Check(sql=ch["sql"], columns=tuple(ch["columns"]), message=ch["message"], rejects=ch.get("on_fail", "reject") == "reject")
            for ch in spec.get("checks", ())
        )
        kind_aliases = {col: tuple(str(a) for a in (lst or ())) for col, lst in (aliases.get(kname) or {}).items()}
        names = {c.name for c in columns}
        stray = set(kind_aliases) - names
        if stray:
            raise UserError(f"header_aliases.yaml: {kname} has aliases for unknown columns {sorted(stray)}")
        kinds[kname] = Kind(kname, spec["zh"], spec.get("doc", ""), tuple(spec["natural_key"]), tuple(columns), checks, kind_aliases)
    return Dictionary(int(raw.get("version", 1)), kinds)


def render_markdown(data_dir: Path = DATA_DIR) -> str:
    """The data dictionary as Markdown: every ledger, column, Chinese header, aliases, type and allowed values."""
    d = load(data_dir)
    lines = [
        "# zhengtai data dictionary (数据字典)",
        "",
        "Generated by `zhengtai dictionary` from data/dictionary.yaml, data/header_aliases.yaml and data/value_aliases.yaml;",
        "edit those, not this file.",
        "Types: person / id_number / phone are pseudonymised on ingest (keyed hash); text and freetext are masked for names",
        "and numbers (data/privacy.yaml) and otherwise stored as written; amount is stored in 元 (万元 headers or cells are",
        "scaled by 10,000); a date may be month-only (2024年3月), stored as the month's first day with date_precision.",
        "Required: the file must have the column (or `--set 列=值`). Rejects: a missing or unreadable value rejects the row;",
        "elsewhere the record is kept, the field stored as unknown and a note written to data_quality_notes.",
        "Every ledger table also carries source_file, source_sheet, source_row, run_id, row_hash, date_precision and loaded_at.",
        "",
    ]
    for kind in d.kinds.values():
        lines += [f"## {kind.zh} — `{kind.name}`", "", kind.doc, "", f"Natural key: {', '.join(kind.natural_key)}.", ""]
        lines += ["| column | 表头 | aliases (别名) | type | required | rejects | allowed values | meaning |", "|---|---|---|---|---|---|---|---|"]
        for c in kind.columns:
            aliases = "、".join(kind.aliases.get(c.name, ()))
            values = "、".join(c.values)
            if c.value_aliases or c.sets:
                values += "<br>(" + "，".join([f"{a}→{b}" for a, b in c.value_aliases] + [f"{a}→{o}={b}" for a, o, b in c.sets]) + ")"
            lines.append(f"| `{c.name}` | {c.zh} | {aliases} | {c.type} | {'yes' if c.required else ''} | {'yes' if c.rejects else ''} "
                         f"| {values} | {c.doc} |")
        if kind.checks:
            lines += ["", "Checks: " + "; ".join(f"`{ch.sql}` ({ch.message}{'' if ch.rejects else '; flagged, not rejected'})"
                                                  for ch in kind.checks)]
        lines.append("")
    return "\n".join(lines)


_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", re.S)
_COLUMN = re.compile(r"^\s+(\w+)\s+([A-Z]+(?:\[\])?)[^-\n]*(?:--\s*(.*))?$")


def sql_tables(sql: str) -> dict[str, list[tuple[str, str, str]]]:
    """Tables declared in a schema file: name → [(column, type, trailing comment)]."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for name, body in _TABLE.findall(sql):
        cols = []
        for line in body.splitlines():
            m = _COLUMN.match(line)
            if m and m.group(1).upper() not in ("PRIMARY", "UNIQUE", "CHECK"):
                cols.append((m.group(1), m.group(2), (m.group(3) or "").strip()))
        out[name] = cols
    return out


def render_results_markdown() -> str:
    """The results and bookkeeping tables, from the comments in pipelines/sql/*.sql."""
    from pipelines.settings import SQL_DIR

    lines = ["# Results and bookkeeping tables", "",
             "From the comments in pipelines/sql/schema.sql, results.sql and learning.sql (the build's outputs, stamped with build_id).", ""]
    common = {
        "build_id": "the build that produced the row (build_runs)", "grain": "month | quarter | half | year | rolling12",
        "period": "period key: 2024-03, 2024Q1, 2024H1, 2024, R12-2024-03", "unit_name": "unit (units.unit_name)",
        "indicator_id": "indicator (data/indicators.yaml)", "level": "'index' or a dimension id", "run_id": "ingest run (ingest_runs)",
        "kind": "ledger kind (data/dictionary.yaml)", "path": "file as given", "sha256": "SHA-256 of the file's bytes",
        "sheet": "Excel sheet", "rows_unchanged": "existing keys with identical content", "rows_rejected": "rows sent to rejected_rows",
        "started_at": "start of the file's run", "finished_at": "end of the file's run", "message": "notes: unrecognised columns, fuzzy matches",
    }
    ledger = set(load().kinds)
    for fname in ("schema.sql", "results.sql", "learning.sql"):
        for table, cols in sql_tables((SQL_DIR / fname).read_text(encoding="utf-8")).items():
            if table in ledger:
                continue
            lines += [f"## `{table}`", "", "| column | type | meaning |", "|---|---|---|"]
            for c, t, doc in cols:
                meaning = (doc or common.get(c, "")).replace("|", "\\|")  # a bare | would split the Markdown cell
                lines.append(f"| `{c}` | {t} | {meaning} |")
            lines.append("")
    return "\n".join(lines)
