"""What the command line reports to the user as one line (exit status 2)."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; printed as one line, exit status 2."""
