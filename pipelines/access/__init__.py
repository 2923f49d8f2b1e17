"""Who may see what on the dashboard: local users with argon2 hashes, roles, team scoping, lockout, audit.

The user store is a small SQLite file kept apart from the warehouse: the dashboard opens the warehouse
read-only and the published snapshot is swapped on every rebuild, while users, failed logins and the
audit trail must be written and must survive rebuilds.
"""

from pipelines.access.store import (  # noqa: F401
    ROLES,
    AccessDenied,
    LoginLocked,
    LoginRejected,
    Scope,
    User,
    UserStore,
    default_users_path,
)
