"""Recognising a ledger from its headers: which kind it is and which column each header holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.dictionary import Dictionary, Kind, header_scale, normalise_header
from pipelines.errors import UserError
from pipelines.ingest.normalise import Mapping


def parse_maps(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """--map 表头=column pairs → {normalised header: column}."""
    out: dict[str, str] = {}
    for pair in pairs:
        header, sep, column = pair.partition("=")
        if not sep or not header.strip() or not column.strip():
            raise UserError(f"--map '{pair}' should look like 表头=column, e.g. --map 来件时间=received_date")
        out[normalise_header(header)] = column.strip()
    return out


def parse_sets(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """--set 列=值 pairs → {normalised header or column name: value}."""
    out: dict[str, str] = {}
    for pair in pairs:
        header, sep, value = pair.partition("=")
        if not sep or not header.strip() or not value.strip():
            raise UserError(f"--set '{pair}' should look like 列=值, e.g. --set 来源渠道=网络举报")
        out[normalise_header(header)] = value.strip()
    return out


@dataclass(frozen=True)
class Recognised:
    kind: Kind
    mappings: list[Mapping]
    ignored: list[str]  # headers that map to no column (kept only in rejected rows' raw JSON)
    constants: dict[str, str] = field(default_factory=dict)  # column name → value given with --set (file lacks it)
    duplicates: list[tuple[Mapping, int, str]] = field(default_factory=list)  # (first mapping, other index, its header)


def known_header_test(dictionary: Dictionary, maps: dict[str, str]):
    """A predicate: does this header text name a column of any kind? Used to find the header row."""
    known = set(maps)
    for kind in dictionary.kinds.values():
        known.update(kind.header_map())
    return lambda text: normalise_header(text) in known


def map_headers(kind: Kind, headers: list[str], maps: dict[str, str], sets: dict[str, str] | None = None) -> Recognised:
    hm = kind.header_map()
    names = {c.name for c in kind.columns}
    mappings: list[Mapping] = []
    seen: set[str] = set()
    ignored: list[str] = []
    duplicates: list[tuple[Mapping, int, str]] = []
    for i, header in enumerate(headers):
        norm = normalise_header(header)
        # A merged header arrives as 整改情况/整改状态: the sub-header decides.
        col = maps.get(norm) or hm.get(norm) or hm.get(normalise_header(header.rsplit("/", 1)[-1]))
        if col in names and col not in seen:
            seen.add(col)
            mappings.append(Mapping(kind.column(col), i, header, header_scale(header)))
        elif col in names:
            first = next(m for m in mappings if m.column.name == col)
            duplicates.append((first, i, header))  # two headers for one column: compared when the data is read
        elif header:
            ignored.append(header)
    unit = kind.unit_column
    if unit is not None and unit.name not in seen:
        # A header that names the unit inside a longer phrase (被反映人所在单位（部门）, 问题涉及的单位名称):
        # the first unrecognised header that speaks of a 单位 holds it.
        for i, header in enumerate(headers):
            norm = normalise_header(header)
            if header in ignored and "单位" in norm and not any(w in norm for w in ("类别", "类型", "性质", "编号", "电话")):
                seen.add(unit.name)
                mappings.append(Mapping(unit, i, header, 1.0))
                ignored.remove(header)
                break
    constants: dict[str, str] = {}
    for key, value in (sets or {}).items():
        col = hm.get(key) or (key if key in names else None)
        if col and col not in seen:  # a constant only for a column the file lacks
            seen.add(col)
            constants[col] = value
            mappings.append(Mapping(kind.column(col), len(headers) + len(constants) - 1, kind.column(col).zh, 1.0))
    return Recognised(kind, mappings, ignored, constants, duplicates)


def recognise(dictionary: Dictionary, headers: list[str], maps: dict[str, str], label: str, kind_name: str | None = None,
              sets: dict[str, str] | None = None) -> Recognised:
    """The kind whose required columns are all present and which matches most headers; a clear error otherwise."""
    bad_targets = {c for c in maps.values() if all(c not in {x.name for x in k.columns} for k in dictionary.kinds.values())}
    if bad_targets:
        raise UserError(f"--map names unknown column(s) {', '.join(sorted(bad_targets))}; see data/DICTIONARY.md for column names")
    known_set = {h for k in dictionary.kinds.values() for h in k.header_map()} | {c.name for k in dictionary.kinds.values() for c in k.columns}
    bad_sets = [h for h in (sets or {}) if h not in known_set]
    if bad_sets:
        raise UserError(f"--set names unknown column(s) {', '.join(bad_sets)}; use a header or column name from data/DICTIONARY.md")
    kinds = [dictionary.kind(kind_name)] if kind_name else list(dictionary.kinds.values())
    scored = []
    for kind in kinds:
        rec = map_headers(kind, headers, maps, sets)
        present = {m.column.name for m in rec.mappings}
        missing = [c for c in kind.required if c.name not in present]
        scored.append((len(missing) == 0, len(rec.mappings) - 2 * len(missing), rec, missing))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    complete, _score, rec, missing = scored[0]
    if complete:
        if not kind_name and len(scored) > 1 and scored[1][0] and scored[1][1] == scored[0][1]:
            raise UserError(
                f"{label}: headers fit both {rec.kind.name} and {scored[1][2].kind.name}; say which with --kind"
            )
        return rec
    need = "、".join(f"{c.zh}（{c.name}）" for c in missing)
    guess = "" if kind_name else f" (looks most like {rec.kind.zh} / {rec.kind.name})"
    raise UserError(f"{label}: missing required column(s) {need}{guess}; " + _how_to_fix(rec, missing))


def _how_to_fix(rec: Recognised, missing) -> str:
    """The file's header most like each missing column, and the --map (or --set) that fixes it."""
    from rapidfuzz import fuzz, process

    unmapped = [h for h in rec.ignored if h]
    fixes, closest = [], []
    for col in missing:
        names = [col.zh, *rec.kind.aliases.get(col.name, ())]
        best = None
        for h in unmapped:
            got = process.extractOne(normalise_header(h), [normalise_header(n) for n in names], scorer=fuzz.partial_ratio)
            if got and got[1] >= 50 and (best is None or got[1] > best[1]):
                best = (h, got[1])
        if best:
            closest.append(f"“{best[0]}”")
            fixes.append(f"--map {best[0]}={col.name}")
        elif col.type in ("enum", "bool", "text"):
            fixes.append(f"--set {col.zh}=值 (the same value for every row)")
        else:
            fixes.append(f"--map 表头={col.name}")
    where = f"the file's closest header: {'、'.join(closest)}; " if closest else ""
    return f"{where}fix with {' '.join(fixes)}, or add the header to data/header_aliases.yaml"
