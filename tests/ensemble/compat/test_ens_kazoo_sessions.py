"""tests/compat/test_kazoo_sessions.py against a 3-member ensemble (see conftest.py)."""

from test_kazoo_sessions import *  # noqa: F401,F403
