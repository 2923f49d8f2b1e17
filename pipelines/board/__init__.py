"""Everything the dashboard pages show, computed here: pages only lay it out.

`Board` opens the published snapshot read-only and reopens it when a rebuild swaps the file; every
query is scoped to the user's teams (see pipelines/sql/board/board.sql). Modules: overview, portrait,
alerts (warnings list), method (catalogue, what-if weights, sensitivity), quality, export.
"""

from pipelines.board.snapshot import Board  # noqa: F401
