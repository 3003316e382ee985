"""Makes zkrs's errors catchable as kazoo's, for code moving from kazoo.

After ``zkrs.kazoo_compat.install()``, every zkrs error class also derives
from kazoo's class of the same name (``zkrs.NoNodeError`` is a
``kazoo.exceptions.NoNodeError``, and so a ``ZookeeperError`` and a
``KazooException``; the base ``zkrs.ZkError`` itself is not one: Python
cannot change an exception base class's layout),
so ``except kazoo.exceptions.NoNodeError:`` written for ``KazooClient``
catches what ``zkrs.Client`` raises. zkrs's own names keep working. Needs
kazoo installed; changes nothing else.
"""

import zkrs

__all__ = ["install"]


def install() -> None:
    """Adds kazoo's namesakes to the bases of zkrs's error classes (once)."""
    import kazoo.exceptions as kx  # type: ignore[import-untyped]

    if issubclass(zkrs.NoNodeError, kx.NoNodeError):
        return
    ours = [getattr(zkrs, n) for n in zkrs.__all__]
    errors = [c for c in ours if isinstance(c, type) and issubclass(c, zkrs.ZkError)]
    # Parents before children, so each MRO is built on its parent's.
    for cls in sorted(set(errors), key=lambda c: len(c.__mro__)):
        theirs = getattr(kx, cls.__name__, None)
        if cls is zkrs.ZkError or not isinstance(theirs, type):
            continue
        if not issubclass(cls, theirs):
            cls.__bases__ = cls.__bases__ + (theirs,)
