"""The indicator catalogue (data/indicators.yaml): loading, validation, and compiling definitions to SQL.

Every indicator compiles to one DuckDB query that yields, for every period of every grain at once,
(pid, uid, numerator, denominator, sample) — pid/uid being the integer codes of the build's `periods` and
`unit_dim` temp tables: structured definitions for every unit-period (over the grid), `sql` definitions for
the rows the author's query returns (the build fills in the rest per `absent`). Structured definitions whose
aggregates add up month by month (`decompose`) are also compiled into one pass per ledger and date column
(`monthly_query`, `base_query`), which is what the build runs; the per-indicator query stays the reference and
the fallback. When a query fails, `validate_sql` binds each one to report the indicator's id.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines import vocabulary
from pipelines.errors import UserError
from pipelines.settings import DATA_DIR

CATALOGUE_PATH = DATA_DIR / "indicators.yaml"
DICTIONARY_PATH = DATA_DIR / "dictionary.yaml"

TOP_KEYS = {"version", "duties", "dimensions", "evidence_tables", "macros", "indicators"}
MACRO_KEYS = {"params", "body", "doc"}
DIMENSION_KEYS = {"id", "name_zh", "name_en", "weight", "role"}
COMMON_KEYS = {
    "id", "name_zh", "name_en", "dimension", "duty", "unit", "scale", "direction", "weight", "min_sample",
    "missing", "threshold", "rationale", "false_positives", "evidence", "role", "definition_zh", "shrink",
    "history_months",
}
STRUCTURED_KEYS = {"from", "date", "where", "numerator", "denominator", "base", "sample"}
SQL_KEYS = {"sql", "absent"}
REQUIRED = ("id", "name_zh", "name_en", "dimension", "duty", "direction", "rationale", "false_positives")
MISSING_POLICIES = ("impute", "zero", "drop")
SHRINK = ("share", "rate")  # empirical-Bayes shrinkage: binomial share of counts | Poisson count over an exposure
THRESHOLD_RULES = {"fixed": "value", "iqr": "k", "quantile": "q"}
THRESHOLD_KEYS = {"rule", "value", "k", "q", "floor", "ceiling"}
EVIDENCE_KEYS = {"from", "where", "filter"}
OUTPUT_COLUMNS = ("grain", "period", "unit_name", "numerator", "denominator", "sample")


@dataclass(frozen=True)
class Threshold:
    rule: str                       # fixed | iqr | quantile
    levels: tuple[float, ...]       # one parameter per warning grade, mildest first (黄, 橙, 红)
    floor: tuple[float, ...] | None = None    # risky indicators: each level's threshold is never below its floor
    ceiling: tuple[float, ...] | None = None  # protective indicators: … never above its ceiling

    def describe(self, direction: int, level: int) -> str:
        """How the threshold of one grade was set, e.g. 'IQR fence Q3+1.5·IQR (≥ floor 1)'."""
        p = self.levels[level]
        if self.rule == "fixed":
            return f"fixed {'≥' if direction > 0 else '≤'} {p:g}"
        if self.rule == "iqr":
            text = f"IQR fence Q3+{p:g}·IQR" if direction > 0 else f"IQR fence Q1−{p:g}·IQR"
        else:
            text = f"quantile q{p:g}" if direction > 0 else f"quantile q{1 - p:g}"
        if direction > 0 and self.floor is not None:
            text += f", at least {self.floor[level]:g}"
        if direction < 0 and self.ceiling is not None:
            text += f", at most {self.ceiling[level]:g}"
        return text


    def describe_zh(self, direction: int, level: int, unit: str | None = None) -> str:
        """The same as a sentence in the team's words (data/vocabulary.yaml), for messages and pages."""
        bound = self.floor if direction > 0 else self.ceiling
        return vocabulary.threshold_rule(self.rule, direction, self.levels[level],
                                         bound[level] if bound is not None else None, unit)

    def describe_all_zh(self, direction: int, unit: str | None = None) -> str:
        """Every level in one sentence (the catalogue's 预警规则 on pages, exports and reports)."""
        return vocabulary.threshold_rules(self.rule, direction, self.levels,
                                          self.floor if direction > 0 else self.ceiling, unit)


@dataclass(frozen=True)
class Evidence:
    table: str
    where: str                      # condition over the table's row, period_start and period_end


@dataclass(frozen=True)
class Indicator:
    id: str
    code: int
    name_zh: str
    name_en: str
    dimension: str
    duty: str
    unit: str
    scale: float
    direction: int
    weight: float
    min_sample: int
    missing: str
    threshold: Threshold | None
    rationale: str
    false_positives: str
    context: bool                   # shown, not scored
    form: str                       # structured | sql
    definition: str                 # the catalogue's own text of the definition (for the results table)
    query: str                      # compiled: pid, uid, numerator, denominator, sample for all grains
    evidence: tuple[Evidence, ...]
    spec: dict | None = None        # structured form: from, date, where, numerator, denominator, base
    absent: str = "missing"         # sql form: rows the query leaves out are missing | zero
    definition_zh: str = ""         # the definition in words, what the pages show as 口径
    shrink: str | None = None       # share | rate: small numbers are shrunk towards the county (indicators.shrink)
    history_months: int = 0         # months of ledgers before the period's end its value needs to be comparable


@dataclass(frozen=True)
class Macro:
    """A shared SQL expression (the catalogue's `macros`), created as a DuckDB TEMP MACRO on every connection
    of a build, so one rule (e.g. how far unverified reports count) is written once and called by name."""
    name: str
    params: tuple[str, ...]
    body: str
    doc: str = ""

    @property
    def ddl(self) -> str:
        return f"CREATE OR REPLACE TEMP MACRO {self.name}({', '.join(self.params)}) AS ({self.body})"


@dataclass(frozen=True)
class Dimension:
    id: str
    name_zh: str
    name_en: str
    weight: float
    context: bool


@dataclass
class Catalogue:
    version: str
    sha256: str
    path: Path
    duties: dict[str, dict]
    dimensions: list[Dimension]
    indicators: list[Indicator]
    evidence_tables: dict[str, dict]
    natural_keys: dict[str, list[str]] = field(default_factory=dict)
    macros: dict[str, "Macro"] = field(default_factory=dict)

    @property
    def scored(self) -> list[Indicator]:
        return [i for i in self.indicators if not i.context]

    @property
    def scored_dimensions(self) -> list[Dimension]:
        used = {i.dimension for i in self.scored}
        return [d for d in self.dimensions if not d.context and d.id in used]

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def dimension(self, dimension_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dimension_id:
                return dim
        raise KeyError(dimension_id)


def _fail(where: str, message: str) -> UserError:
    return UserError(f"indicator catalogue: {where}: {message}")


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 20x faster on the data dictionary


def _yaml(text: str | bytes):
    return yaml.load(text, Loader=_Loader)


def _natural_keys(dictionary_path: Path) -> dict[str, list[str]]:
    data = _yaml(dictionary_path.read_text(encoding="utf-8"))
    return {kind: spec["natural_key"] for kind, spec in data["kinds"].items()}


def _threshold(ind_id: str, raw: Any, direction: int) -> Threshold | None:
    if raw is None:
        return None
    where = f"indicator {ind_id}"
    if not isinstance(raw, dict):
        raise _fail(where, "threshold must be a mapping like {rule: iqr, k: [1.5, 3, 6]}")
    unknown = set(raw) - THRESHOLD_KEYS
    if unknown:
        raise _fail(where, f"unknown threshold key(s) {sorted(unknown)}; allowed: {sorted(THRESHOLD_KEYS)}")
    rule = raw.get("rule")
    if rule not in THRESHOLD_RULES:
        raise _fail(where, f"threshold rule {rule!r} unknown; use one of {sorted(THRESHOLD_RULES)}")
    param = THRESHOLD_RULES[rule]
    if param not in raw:
        raise _fail(where, f"threshold rule {rule} needs `{param}`")
    levels = raw[param]
    levels = tuple(float(x) for x in (levels if isinstance(levels, list) else [levels]))
    if not 1 <= len(levels) <= 3:
        raise _fail(where, f"threshold `{param}` takes one to three levels (黄, 橙, 红)")
    if rule == "quantile" and not all(0 < q < 1 for q in levels):
        raise _fail(where, "threshold quantiles must lie between 0 and 1")
    # Each grade must be harder to reach than the one before.
    harder = levels if rule != "fixed" or direction > 0 else tuple(-x for x in levels)
    if list(harder) != sorted(harder):
        raise _fail(where, f"threshold levels {list(levels)} must get stricter from 黄 to 红")
    if "floor" in raw and direction < 0 or "ceiling" in raw and direction > 0:
        raise _fail(where, "use `floor` with risky indicators (direction 1) and `ceiling` with protective ones")
    bounds = {}
    for key, stricter in (("floor", 1), ("ceiling", -1)):
        if key not in raw:
            continue
        v = raw[key]
        # One number bounds every level; a list gives each level its own (one per level, mildest first).
        v = tuple(float(x) for x in v) if isinstance(v, list) else (float(v),) * len(levels)
        if len(v) != len(levels):
            raise _fail(where, f"threshold `{key}` lists {len(v)} values for {len(levels)} levels")
        if list(v) != sorted(v, key=lambda x: stricter * x):
            raise _fail(where, f"threshold `{key}` {list(v)} must get stricter from 黄 to 红")
        bounds[key] = v
    return Threshold(rule, levels, bounds.get("floor"), bounds.get("ceiling"))


def _compile_structured(raw: dict) -> str:
    where = raw.get("where") or "TRUE"
    den_agg = raw.get("denominator") or "NULL"
    # Aggregate by integer period code and unit name, then join the (small) aggregate to the grid on integers.
    inner = (
        f"SELECT pm.pid, r.unit_name, ({raw['numerator']}) AS numerator, "
        f"({den_agg}) AS denominator, ({raw.get('sample') or 'count(*)'}) AS n\n"
        f"    FROM {raw['from']} AS r\n"
        f"    JOIN period_months AS pm ON pm.month = date_trunc('month', r.{raw['date']})::DATE\n"
        f"    WHERE ({where})\n"
        f"    GROUP BY pm.pid, r.unit_name"
    )
    denominator = f"({raw['base']})" if "base" in raw else "coalesce(a.denominator, 0)"
    return (
        "SELECT g.pid, g.uid, coalesce(a.numerator, 0)::DOUBLE AS numerator,\n"
        f"       ({denominator})::DOUBLE AS denominator, coalesce(a.n, 0)::INTEGER AS sample\n"
        "FROM grid AS g LEFT JOIN (\n"
        f"    SELECT ud.uid, agg.* FROM (\n    {inner}\n    ) AS agg JOIN unit_dim AS ud ON ud.unit_name = agg.unit_name\n"
        ") AS a ON a.pid = g.pid AND a.uid = g.uid"
    )


def _compile_sql(raw: dict) -> str:
    """The author's query keyed by the build's integer codes: only the rows it returns (the build fills the
    rows it leaves out: NULL when `absent: missing`, numerator 0 / denominator 1 / sample 0 when `absent: zero`,
    which also replace NULLs in the rows it returns)."""
    body = raw["sql"].strip().rstrip(";")
    return (
        "SELECT p.pid, u.uid, s.numerator::DOUBLE AS numerator, s.denominator::DOUBLE AS denominator,\n"
        "       s.sample::INTEGER AS sample\n"
        f"FROM (\n{body}\n) AS s\n"
        "JOIN periods AS p ON p.grain = s.grain AND p.period = s.period\n"
        "JOIN unit_dim AS u ON u.unit_name = s.unit_name"
    )


def monthly_query(table: str, date: str,
                  parts: list[tuple[int, str, tuple, tuple | None, tuple | None]]) -> str:
    """One pass over a ledger for every structured indicator defined on it with decomposable aggregates:
    rows are aggregated per unit and month once (each indicator's `where` as a FILTER), then the months are
    summed into every period they belong to. parts: (code, where, (func, arg) numerator, (func, arg) or None
    denominator, (func, arg) or None sample (None: the row count)). Yields pid, uid and, per code c, n_c
    (sample), x_c (numerator), y_c (denominator)."""
    cols, aggs, sums = [], [], []
    for code, where, num, den, smp in parts:
        cols.append(f"coalesce(({where or 'TRUE'})::BOOLEAN, false) AS w{code}")  # NULL: the row is left out
        for name, agg in (("n", smp or ("count", None)), ("x", num), ("y", den)):
            if agg is None:
                continue
            func, arg = agg
            if arg is None:  # count(*)
                aggs.append(f"count(*) FILTER (WHERE w{code}) AS {name}{code}")
            else:
                cols.append(f"({arg}) AS {name}a{code}")
                aggs.append(f"{func}({name}a{code}) FILTER (WHERE w{code}) AS {name}{code}")
        sums += [f"sum(m.n{code})::DOUBLE AS n_{code}", f"sum(m.x{code})::DOUBLE AS x_{code}"]
        if den is not None:
            sums.append(f"sum(m.y{code})::DOUBLE AS y_{code}")
    nl = ",\n           "
    return (
        f"WITH r AS (\n"
        f"    SELECT r.unit_name, date_trunc('month', r.{date})::DATE AS month,\n"
        f"           {nl.join(cols)}\n"
        f"    FROM {table} AS r\n"
        f"), m AS (\n"
        f"    SELECT unit_name, month,\n           {nl.join(aggs)}\n"
        f"    FROM r WHERE month IS NOT NULL GROUP BY unit_name, month\n"
        f")\n"
        f"SELECT pm.pid, u.uid,\n       {nl.join(sums)}\n"
        f"FROM m JOIN unit_dim AS u ON u.unit_name = m.unit_name JOIN period_months AS pm ON pm.month = m.month\n"
        f"GROUP BY pm.pid, u.uid"
    )


def base_query(bases: list[tuple[int, str]]) -> str:
    """The `base` denominators of structured indicators over the unit × period grid, one column b_<code> each."""
    cols = ", ".join(f"({base})::DOUBLE AS b_{code}" for code, base in bases)
    return f"SELECT g.pid, g.uid, {cols} FROM grid AS g"


def _evidence(ind_id: str, raw: dict, tables: set[str]) -> tuple[Evidence, ...]:
    where = f"indicator {ind_id}"
    spec = raw.get("evidence")
    specs = spec if isinstance(spec, list) else [spec or {}]
    out = []
    for item in specs:
        if not isinstance(item, dict):
            raise _fail(where, "evidence must be a mapping (from, where | filter) or a list of them")
        unknown = set(item) - EVIDENCE_KEYS
        if unknown:
            raise _fail(where, f"unknown evidence key(s) {sorted(unknown)}; allowed: {sorted(EVIDENCE_KEYS)}")
        if "where" in item:
            table, cond = item.get("from"), item["where"]
            if table is None:
                raise _fail(where, "evidence with `where` needs `from` (the ledger table)")
        elif "from" in raw:  # default: the definition's own rows in the period, optionally narrowed
            table = item.get("from", raw["from"])
            date = raw["date"]
            cond = f"{date} >= period_start AND {date} < period_end AND ({raw.get('where') or 'TRUE'})"
        else:
            raise _fail(where, "an indicator defined by `sql` must say which rows are its evidence "
                               "(evidence: {from: TABLE, where: CONDITION})")
        if "filter" in item:
            cond = f"({cond}) AND ({item['filter']})"
        if table not in tables:
            raise _fail(where, f"evidence table {table!r} is not a ledger table; use one of {sorted(tables)}")
        out.append(Evidence(table, str(cond)))
    return tuple(out)


def load(path: str | Path | None = None, *, dictionary: str | Path | None = None) -> Catalogue:
    """Read and check the catalogue's structure (SQL is checked by `validate_sql`)."""
    path = Path(path) if path else CATALOGUE_PATH
    if not path.exists():
        raise UserError(f"indicator catalogue {path} not found")
    blob = path.read_bytes()
    try:
        data = _yaml(blob)
    except yaml.YAMLError as exc:
        raise UserError(f"indicator catalogue {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise _fail(str(path), "expected a mapping with version, duties, dimensions and indicators")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail(str(path), f"unknown top-level key(s) {sorted(unknown)}; allowed: {sorted(TOP_KEYS)}")
    for key in ("version", "duties", "dimensions", "indicators"):
        if key not in data:
            raise _fail(str(path), f"missing `{key}`")
    natural_keys = _natural_keys(Path(dictionary) if dictionary else DICTIONARY_PATH)
    tables = set(natural_keys)
    duties = data["duties"]

    dimensions = []
    for raw in data["dimensions"]:
        unknown = set(raw) - DIMENSION_KEYS
        if unknown:
            raise _fail(f"dimension {raw.get('id')}", f"unknown key(s) {sorted(unknown)}")
        dimensions.append(Dimension(raw["id"], raw["name_zh"], raw["name_en"], float(raw.get("weight", 1.0)),
                                    raw.get("role") == "context"))
    dim_ids = {d.id for d in dimensions}
    context_dims = {d.id for d in dimensions if d.context}

    macros = _macros(data.get("macros") or {})
    evidence_tables = data.get("evidence_tables") or {}
    for table in evidence_tables:
        if table not in tables:
            raise _fail(f"evidence_tables.{table}", f"not a ledger table; use one of {sorted(tables)}")

    indicators: list[Indicator] = []
    seen: set[str] = set()
    for code, raw in enumerate(data["indicators"]):
        ind_id = raw.get("id") if isinstance(raw, dict) else None
        where = f"indicator {ind_id or '#' + str(code + 1)}"
        if not isinstance(raw, dict) or not ind_id:
            raise _fail(where, "each indicator needs an `id`")
        if ind_id in seen:
            raise _fail(where, "duplicate id")
        seen.add(ind_id)
        form_keys = STRUCTURED_KEYS if "sql" not in raw else SQL_KEYS
        unknown = set(raw) - COMMON_KEYS - form_keys
        if unknown:
            hint = " (a `sql` definition cannot be mixed with from/date/numerator)" if "sql" in raw else ""
            raise _fail(where, f"unknown key(s) {sorted(unknown)}{hint}; allowed: "
                               f"{sorted(COMMON_KEYS | STRUCTURED_KEYS | SQL_KEYS)}")
        for key in REQUIRED:
            if raw.get(key) in (None, ""):
                raise _fail(where, f"missing `{key}`")
        if "sql" not in raw:
            for key in ("from", "date", "numerator"):
                if key not in raw:
                    raise _fail(where, f"missing `{key}` (or give the whole definition as `sql`)")
            if ("denominator" in raw) == ("base" in raw):
                raise _fail(where, "give exactly one of `denominator` (over the rows) or `base` (over the unit)")
            if raw["from"] not in tables:
                raise _fail(where, f"`from: {raw['from']}` is not a ledger table; use one of {sorted(tables)}")
            query, definition = _compile_structured(raw), {k: raw[k] for k in raw if k in STRUCTURED_KEYS}
        else:
            if raw.get("absent", "missing") not in ("missing", "zero"):
                raise _fail(where, "`absent` is missing or zero")
            query, definition = _compile_sql(raw), raw["sql"].strip()
        if raw["dimension"] not in dim_ids:
            raise _fail(where, f"dimension {raw['dimension']!r} unknown; use one of {sorted(dim_ids)}")
        if raw["duty"] not in duties:
            raise _fail(where, f"duty {raw['duty']!r} is not a work-plan duty; use one of {list(duties)}")
        direction = raw["direction"]
        if direction not in (1, -1):
            raise _fail(where, "direction is 1 (higher = riskier) or -1 (protective)")
        missing = raw.get("missing", "impute")
        if missing not in MISSING_POLICIES:
            raise _fail(where, f"missing policy {missing!r} unknown; use one of {list(MISSING_POLICIES)}")
        context = raw.get("role") == "context" or raw["dimension"] in context_dims
        shrink = raw.get("shrink")
        if shrink is not None and shrink not in SHRINK:
            raise _fail(where, f"shrink {shrink!r} unknown; use share (a share of counts) or rate (counts over an "
                               "exposure such as staff × years)")
        history = raw.get("history_months", 0)
        if not isinstance(history, int) or history < 0:
            raise _fail(where, "history_months is a whole number of months >= 0")
        weight = float(raw.get("weight", 1.0))
        if weight < 0 or (weight == 0 and not context):
            raise _fail(where, "weight must be positive (context indicators may have 0)")
        indicators.append(Indicator(
            id=ind_id, code=code, name_zh=raw["name_zh"], name_en=raw["name_en"], dimension=raw["dimension"],
            duty=raw["duty"], unit=str(raw.get("unit", "")), scale=float(raw.get("scale", 1.0)),
            direction=int(direction), weight=weight, min_sample=int(raw.get("min_sample", 0)), missing=missing,
            threshold=_threshold(ind_id, raw.get("threshold"), direction), rationale=raw["rationale"],
            false_positives=raw["false_positives"], context=context, form="sql" if "sql" in raw else "structured",
            definition=_with_macros(definition if isinstance(definition, str) else yaml.safe_dump(
                definition, allow_unicode=True, sort_keys=False).strip(), macros),
            query=query, evidence=_evidence(ind_id, raw, tables),
            spec={k: raw[k] for k in STRUCTURED_KEYS if k in raw} if "sql" not in raw else None,
            absent=raw.get("absent", "missing"), definition_zh=str(raw.get("definition_zh") or ""),
            shrink=shrink, history_months=history,
        ))
    if not any(not i.context for i in indicators):
        raise _fail(str(path), "no scored indicators")
    return Catalogue(
        version=str(data["version"]), sha256=hashlib.sha256(blob).hexdigest(), path=path, duties=duties,
        dimensions=dimensions, indicators=indicators, evidence_tables=evidence_tables, natural_keys=natural_keys,
        macros=macros,
    )


def _with_macros(definition: str, macros: dict[str, Macro]) -> str:
    """The definition as stored and shown, followed by the body of every macro it calls, so a reader of
    the results (or the 方法与权重 page) sees the whole rule without the catalogue file."""
    used = [m for m in macros.values() if re.search(rf"\b{m.name}\s*\(", definition)]
    return "\n".join([definition] + [f"# {m.name}({', '.join(m.params)}) = {' '.join(m.body.split())}" for m in used])


def _macros(raw: Any) -> dict[str, Macro]:
    if not isinstance(raw, dict):
        raise _fail("macros", "expected a mapping of name → {params, body, doc}")
    out = {}
    for name, spec in raw.items():
        where = f"macro {name}"
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(name)):
            raise _fail(where, "a macro name is lower-case letters, digits and underscores")
        if not isinstance(spec, dict) or not spec.get("body"):
            raise _fail(where, "needs a `body` (a DuckDB expression)")
        unknown = set(spec) - MACRO_KEYS
        if unknown:
            raise _fail(where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(MACRO_KEYS)}")
        params = spec.get("params") or []
        if not isinstance(params, list) or not all(re.fullmatch(r"[a-z_][a-z0-9_]*", str(p)) for p in params):
            raise _fail(where, "`params` is a list of lower-case names")
        out[str(name)] = Macro(str(name), tuple(str(p) for p in params), str(spec["body"]).strip(),
                               str(spec.get("doc", "")).strip())
    return out


def create_macros(con: duckdb.DuckDBPyConnection, cat: Catalogue) -> None:
    """The catalogue's macros on this connection (temp objects belong to one connection)."""
    for m in cat.macros.values():
        try:
            con.execute(m.ddl)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise UserError(f"indicator catalogue: macro {m.name} does not run: {first}") from None


_AGGREGATE = re.compile(r"^\s*(count|count_if|sum)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def decompose(expr: str) -> tuple[str, str | None] | None:
    """`count(*)`, `count(x)`, `count_if(x)` or `sum(x)` as (function, argument; None for *): aggregates whose
    value over a period is the sum of their monthly values, so months can be aggregated once and rolled up
    into every period. Anything else (other functions, DISTINCT, arithmetic around the call) gives None."""
    m = _AGGREGATE.match(expr)
    if not m:
        return None
    func, arg = m.group(1).lower(), m.group(2).strip()
    depth, quoted = 0, False
    for ch in arg:  # the call's own parentheses must enclose the whole argument: count(a) + sum(b) is not one
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                return None
    if depth or quoted or not arg or re.match(r"(?i)(distinct|all)\b", arg):
        return None
    if arg == "*":
        return (func, None) if func == "count" else None
    return func, arg


def evidence_query(cat: Catalogue, ind: Indicator, ev: Evidence, limit: int) -> str:
    """Rows of `ev.table` behind the flagged values of `ind` (temp table `flagged`: warning_id, ind, unit_name,
    period_start, period_end, years): the reference form, bound one by one to name a broken indicator."""
    return _evidence_sql(cat, ev.table, [(ind.code, ev.where)], limit)


def evidence_queries(cat: Catalogue, limit: int) -> list[str]:
    """The evidence of every warning, one query per ledger table rather than per indicator: each indicator's
    condition applies to its own flagged rows (CASE on the indicator), so a ledger is joined to the warnings
    once and a warning keeps its `limit` most recent records, as with one query per indicator. An indicator
    naming the same table twice gets a second query for its second condition."""
    groups: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for ind in cat.indicators:
        if not ind.threshold:
            continue
        seen: dict[str, int] = {}
        for ev in ind.evidence:
            k = seen.get(ev.table, 0)
            seen[ev.table] = k + 1
            groups.setdefault((ev.table, k), []).append((ind.code, ev.where))
    return [_evidence_sql(cat, table, conds, limit) for (table, _), conds in groups.items()]


def _evidence_sql(cat: Catalogue, table: str, conds: list[tuple[int, str]], limit: int) -> str:
    keys = ", ".join(f"CAST(r.{k} AS VARCHAR)" for k in cat.natural_keys[table])
    spec = cat.evidence_tables.get(table, {})
    date = spec.get("date")
    summary = spec.get("summary", "NULL")
    if len(conds) == 1:
        where = conds[0][1]
    else:
        where = "CASE r.ind " + " ".join(f"WHEN {code} THEN ({cond})" for code, cond in conds) + " END"
    return (
        f"SELECT r.warning_id, '{table}' AS source_table, concat_ws('|', {keys}) AS record_key,\n"
        f"       {('r.' + date) if date else 'NULL'}::DATE AS record_date, ({summary})::VARCHAR AS summary\n"
        "FROM (\n"
        "    SELECT t.*, w.warning_id, w.ind, w.period_start, w.period_end, w.years\n"
        f"    FROM flagged AS w JOIN {table} AS t ON t.unit_name = w.unit_name\n"
        f"    WHERE w.ind IN ({', '.join(str(code) for code, _ in conds)})\n"
        ") AS r\n"
        f"WHERE {where}\n"
        f"QUALIFY row_number() OVER (PARTITION BY r.warning_id ORDER BY record_date DESC NULLS LAST, record_key)"
        f" <= {int(limit)}"
    )


def evidence_count_query(cat: Catalogue) -> str | None:
    """How many distinct ledger records stand behind every flagged value (temp table `flagged`: pid, uid, ind,
    unit_name, period_start, period_end, years), and behind each unit-period's flags per dimension and in all:
    (pid, uid, ind, dimension, records) with NULL ind for the dimension totals and NULL dimension for the unit's
    total. The same conditions as the evidence rows (evidence_queries), without their limit."""
    groups: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for ind in cat.indicators:
        if not ind.threshold:
            continue
        seen: dict[str, int] = {}
        for ev in ind.evidence:
            k = seen.get(ev.table, 0)
            seen[ev.table] = k + 1
            groups.setdefault((ev.table, k), []).append((ind.code, ev.where))
    if not groups:
        return None
    parts = []
    for (table, _), conds in groups.items():
        keys = ", ".join(f"CAST(r.{k} AS VARCHAR)" for k in cat.natural_keys[table])
        where = conds[0][1] if len(conds) == 1 else \
            "CASE r.ind " + " ".join(f"WHEN {code} THEN ({cond})" for code, cond in conds) + " END"
        parts.append(
            f"SELECT r.pid, r.uid, r.ind, '{table}|' || concat_ws('|', {keys}) AS record\n"
            "FROM (\n"
            "    SELECT t.*, w.pid, w.uid, w.ind, w.period_start, w.period_end, w.years\n"
            f"    FROM flagged AS w JOIN {table} AS t ON t.unit_name = w.unit_name\n"
            f"    WHERE w.ind IN ({', '.join(str(code) for code, _ in conds)})\n"
            ") AS r\n"
            f"WHERE {where}")
    return ("WITH rows AS (\n" + "\nUNION ALL\n".join(parts) + "\n)\n"
            "SELECT r.pid, r.uid, r.ind, d.dimension, count(DISTINCT r.record)::INTEGER AS records\n"
            "FROM rows AS r JOIN ind_dim AS d USING (ind)\n"
            "GROUP BY GROUPING SETS ((r.pid, r.uid, r.ind, d.dimension), (r.pid, r.uid, d.dimension), (r.pid, r.uid))")


def _bind(con: duckdb.DuckDBPyConnection, ind_id: str, what: str, query: str) -> list[str]:
    try:
        return [row[0] for row in con.execute(f"DESCRIBE {query}").fetchall()]
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"indicator catalogue: indicator {ind_id}: {what} does not run: {first}") from None


def validate_sql(cat: Catalogue, con: duckdb.DuckDBPyConnection) -> None:
    """Bind every definition and evidence query; `con` must hold the build's temp tables (periods.sql)."""
    create_macros(con, cat)
    con.execute("""CREATE OR REPLACE TEMP TABLE flagged (warning_id VARCHAR, pid INTEGER, uid INTEGER, ind INTEGER,
                   unit_name VARCHAR, period_start DATE, period_end DATE, years DOUBLE)""")
    for ind in cat.indicators:
        if ind.form == "sql":  # the author's query must name its output columns
            columns = _bind(con, ind.id, "definition", ind.definition.rstrip(";"))
            missing = [c for c in OUTPUT_COLUMNS if c not in columns]
            if missing:
                raise UserError(
                    f"indicator catalogue: indicator {ind.id}: its sql must return {', '.join(OUTPUT_COLUMNS)}; "
                    f"missing {', '.join(missing)}"
                )
        columns = _bind(con, ind.id, "definition", ind.query)
        if ind.spec and ind.spec.get("base"):
            _bind(con, ind.id, "definition (base)", base_query([(ind.code, ind.spec["base"])]))
        if columns != ["pid", "uid", "numerator", "denominator", "sample"]:  # pragma: no cover - compiled shape
            raise UserError(f"indicator catalogue: indicator {ind.id}: definition yields {columns}")
        for ev in ind.evidence:
            _bind(con, ind.id, f"evidence ({ev.table})", evidence_query(cat, ind, ev, 1))
