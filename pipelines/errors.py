"""Errors a user can fix. The CLI prints them as one line and exits non-zero, never with a traceback."""


class UserError(Exception):
    """Something the user can fix: a bad file, a missing column, a wrong option.

    The message says what is wrong and how to fix it, in one line.
    """

    exit_code = 2
