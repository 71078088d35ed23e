"""Work-arounds for bugs in the Qt binding, each detected at run time, never assumed.

PySide6 6.12.0 on Python 3.11 drops references to the `True` and `None` singletons:

- every `SignalInstance.emit()` called from Python loses one reference to `True`;
- every Python `QAbstractItemModel.data()` override returning `None` (the ordinary "nothing for
  this role" answer) loses one reference to `None`.

`True` starts with a few hundred references, so after a few hundred signals the interpreter
aborts ("bool_dealloc: deallocating True or False"). Python >= 3.12 makes these objects immortal,
and PySide6 6.11 has neither leak. Where a probe finds a leak, `guard_singletons()` raises the
reference counts of True, False and None by 2**40 once: at thousands of lost references a second
that lasts for millennia, and an object that is never freed anyway cannot be harmed by it.
The real fix is a binding without the bug (pyproject: PySide6-Essentials != 6.12.0).
"""

from __future__ import annotations

import ctypes
import logging
import platform
import sys

log = logging.getLogger(__name__)

_BUMP = 1 << 40
_done = False
leaks: dict[str, int] = {}


def _probe() -> dict[str, int]:
    from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt, Signal

    class _Emitter(QObject):
        ping = Signal()

    class _Model(QAbstractListModel):
        def rowCount(self, parent=QModelIndex()):  # noqa: N802, B008
            return 1

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            return None

    calls = 16
    emitter = _Emitter()
    before = sys.getrefcount(True)
    for _ in range(calls):
        emitter.ping.emit()
    emit_leak = before - sys.getrefcount(True)
    model = _Model()
    index = model.index(0, 0)
    before = sys.getrefcount(None)
    for _ in range(calls):
        index.data(Qt.ItemDataRole.FontRole)
    data_leak = before - sys.getrefcount(None)
    return {"emit_true": max(0, emit_leak), "data_none": max(0, data_leak)}


def guard_singletons() -> None:
    global _done
    if _done:
        return
    _done = True
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return
    leaks.update(_probe())
    if not any(leaks.values()):
        return
    from PySide6 import __version__ as pyside_version

    log.warning("PySide6 %s drops references to True/None on Python %s (%s); compensating. "
                "Install another PySide6 release to be rid of this.", pyside_version,
                platform.python_version(), leaks)
    for obj in (True, False, None):
        # ob_refcnt is the first field of every object in CPython < 3.12 release builds.
        ctypes.c_ssize_t.from_address(id(obj)).value += _BUMP


guard_singletons()
