"""tests/compat/test_kazoo_acl.py against a 3-member ensemble (see conftest.py)."""

from test_kazoo_acl import *  # noqa: F401,F403
