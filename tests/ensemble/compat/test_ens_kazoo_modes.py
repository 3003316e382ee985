"""tests/compat/test_kazoo_modes.py against a 3-member ensemble (see conftest.py)."""

from test_kazoo_modes import *  # noqa: F401,F403
