"""tests/compat/test_kazoo_multi.py against a 3-member ensemble (see conftest.py)."""

from test_kazoo_multi import *  # noqa: F401,F403
