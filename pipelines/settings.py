"""Where things live: repository data files, the pseudonymisation key, default database."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
# data/ holds the data dictionary, header aliases and the indicator catalogue; overridable for installs.
DATA_DIR = Path(os.environ.get("ZHENGTAI_DATA_DIR", REPO_DIR / "data"))
SQL_DIR = PACKAGE_DIR / "sql"


def key_path(explicit: str | os.PathLike | None = None) -> Path:
    """The pseudonymisation key lives outside the repository: ~/.config/zhengtai/pseudonym.key by default."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("ZHENGTAI_KEY_FILE")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "zhengtai" / "pseudonym.key"
