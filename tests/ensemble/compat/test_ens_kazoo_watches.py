"""tests/compat/test_kazoo_watches.py against a 3-member ensemble (see conftest.py)."""

from test_kazoo_watches import *  # noqa: F401,F403
