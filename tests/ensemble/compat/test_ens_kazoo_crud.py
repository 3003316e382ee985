"""tests/compat/test_kazoo_crud.py against a 3-member ensemble (see conftest.py)."""

from test_kazoo_crud import *  # noqa: F401,F403

