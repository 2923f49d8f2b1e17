"""Hostile ledger text for the rendering tests: unit names that try Markdown, HTML, autolinks, shortcodes and
Plotly's HTML subset, pointed at a local catcher so a test can tell whether a browser fetched anything."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import duckdb


def hostile_names(port: int) -> list[str]:
    """One name per trick; `port` is the local catcher's."""
    base = f"http://127.0.0.1:{port}"
    return [
        f"县统计分局![b]({base}/md.png)[点此核实]({base}/phish)",
        f'县审计分局<img src="{base}/html.png"><a href="{base}/a">链接</a>',
        f"县林业分局 www.example.invalid :red[红字] $x^2$ :smile: -> {base}/auto",
        "县档案分局 **粗** _斜_ `码` # 标题 :material/home: :streamlit: &amp;",
    ]


def rename_unit(db: Path, old: str, new: str) -> None:
    """Rename a unit everywhere in a warehouse, as if its ledgers had always called it `new`: every text
    column of every table (names, messages, summaries, JSON) has `old` replaced."""
    con = duckdb.connect(str(db))
    try:
        cols = con.execute(
            """SELECT table_name, column_name, data_type FROM duckdb_columns()
               WHERE database_name = current_database() AND schema_name = 'main'
                 AND (data_type = 'VARCHAR' OR data_type = 'JSON' OR data_type = 'VARCHAR[]')""").fetchall()
        con.execute("BEGIN")
        for table, column, dtype in cols:
            col = f'"{column}"'
            if dtype == "VARCHAR[]":
                expr = f"list_transform({col}, lambda x: replace(x, $old, $new))"
                where = f"list_contains({col}, $old)"
            elif dtype == "JSON":
                expr, where = f"replace({col}::VARCHAR, $old, $new)::JSON", f"contains({col}::VARCHAR, $old)"
            else:
                expr, where = f"replace({col}, $old, $new)", f"contains({col}, $old)"
            con.execute(f'UPDATE "{table}" SET {col} = {expr} WHERE {where}', {"old": old, "new": new})
        con.execute("COMMIT")
    finally:
        con.close()


class Catcher:
    """A local HTTP server recording every request made to it (the hostile names point here)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the standard library's name)
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Catcher":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
