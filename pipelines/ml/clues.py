"""人员线索汇聚: one pseudonymised person who appears across channels and ledgers within a window.

Petitions (by channel), talks and inquiries and cases name people by pseudonym (the same person has the same
pseudonym in every ledger). A person seen in `min_sources` distinct sources and `min_records` records within
`window_days` is a person-level clue for analysts, with every record behind it. The tables hold pseudonyms
only; the dashboard shows them to the analyst role and never record-level to leaders (pipelines/board).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines import vocabulary, warehouse


def aggregate(con: duckdb.DuckDBPyConnection, *, window_days: int = 365, min_sources: int = 2,
              min_records: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clues, their records) from the ledger tables on `con`."""
    text = warehouse.sql_file("person_clues.sql")
    for key, value in {"window_days": int(window_days), "min_sources": int(min_sources),
                       "min_records": int(min_records)}.items():
        text = text.replace(f"${key}", str(value))
    for stmt in con.extract_statements(text):
        con.execute(stmt)
    people = con.execute("SELECT * FROM clue_people ORDER BY window_end DESC, clue_id").df()
    records = con.execute("""SELECT clue_id, source_table, record_key, record_date, source, unit_name, summary
                             FROM clue_records ORDER BY clue_id, record_date, record_key""").df()
    if len(people):
        people["message"] = [
            vocabulary.template("learning_text", "clue", days=(e - s).days + 1, n=len(src), records=n,
                                sources="、".join(src),
                                leader=vocabulary.word("learning_text", "clue_leader") if lead else "")
            for s, e, src, n, lead in zip(pd.to_datetime(people.window_start), pd.to_datetime(people.window_end),
                                          people.sources, people.records, people.is_leader)]
    else:
        people["message"] = pd.Series(dtype=object)
    return people, records
