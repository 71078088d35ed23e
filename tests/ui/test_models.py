"""Every Qt model under qtmodeltester, plus the gallery's own behaviour."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from app.core.vault import PhotoInfo
from app.ui.photo_model import PhotoFilterProxy, PhotoListModel, Roles
from app.ui.sidebar import Scope, SidebarModel
from app.ui.thumbnails import PixmapCache


def info(n: int, taken: datetime, name: str | None = None, imported: datetime | None = None) -> PhotoInfo:
    return PhotoInfo(n, name or f"IMG_{n:04d}.jpg", f"sha{n}", f"uid{n}", "image/jpeg", 1000 + n, 640, 480,
                     taken, "exif", imported or datetime(2024, 1, 1))


def photos(count: int) -> list[PhotoInfo]:
    base = datetime(2020, 1, 1)
    return [info(n, base + timedelta(days=n * 11)) for n in range(1, count + 1)]


def test_photo_model_passes_qtmodeltester(qtmodeltester):
    model = PhotoListModel()
    model.set_photos(photos(30))
    qtmodeltester.check(model)
    model.add_photos([info(100, datetime(2021, 6, 1)), info(101, datetime(2030, 1, 1))])
    model.remove_ids([3, 4, 5, 20])
    qtmodeltester.check(model)


def test_proxy_passes_qtmodeltester(qtmodeltester):
    model = PhotoListModel()
    model.set_photos(photos(40))
    proxy = PhotoFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.set_text("img_001")
    qtmodeltester.check(proxy)
    proxy.set_scope(after=datetime(2020, 3, 1), before=datetime(2020, 6, 1))
    qtmodeltester.check(proxy)


def test_sidebar_model_passes_qtmodeltester(qtmodeltester):
    model = SidebarModel()
    qtmodeltester.check(model)
    model.update_from(photos(60))
    qtmodeltester.check(model)
    model.update_from(photos(5))
    qtmodeltester.check(model)


def test_model_keeps_newest_first_when_photos_arrive():
    model = PhotoListModel()
    model.set_photos(photos(5))
    model.add_photos([info(50, datetime(2019, 1, 1)), info(51, datetime(2035, 1, 1))])
    taken = [model.photo_at(r).taken_at for r in range(model.rowCount())]
    assert taken == sorted(taken, reverse=True)
    assert model.row_of(51) == 0 and model.row_of(50) == model.rowCount() - 1
    assert model.add_photos([info(51, datetime(2035, 1, 1))]) == 0  # no duplicates


def test_proxy_filters_by_name_scope_and_recent():
    model = PhotoListModel()
    now = datetime.now()
    model.set_photos([info(1, datetime(2021, 5, 3), "beach.jpg", now - timedelta(days=30)),
                      info(2, datetime(2021, 7, 3), "Beach party.jpg", now),
                      info(3, datetime(2022, 1, 1), "cat.jpg", now)])
    proxy = PhotoFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_text("BEACH")
    assert sorted(proxy.photo_ids()) == [1, 2]
    proxy.set_text("")
    after, before = Scope("month", 2021, 7).date_range()
    proxy.set_scope(after=after, before=before)
    assert proxy.photo_ids() == [2]
    proxy.set_scope(imported_after=now - timedelta(days=7))
    assert sorted(proxy.photo_ids()) == [2, 3]


def test_sidebar_dates_and_counts():
    model = SidebarModel()
    model.update_from(photos(60))
    index = model.index_of_scope(Scope("year", 2020))
    assert index.isValid()
    assert "2020" in index.data()
    assert model.index_of_scope(Scope("month", 2020, 1)).isValid()
    # every feature's entry is there and usable: People, Sensitive, Shared, Leaks, the categories
    for scope in (Scope("people"), Scope("sensitive"), Scope("shared"), Scope("leaks"), Scope("tag", tag="animals")):
        entry = model.index_of_scope(scope)
        assert entry.isValid(), scope
        assert model.flags(entry) & Qt.ItemFlag.ItemIsEnabled, scope


def test_pixmap_cache_is_bounded_lru(qapp):
    cache = PixmapCache(budget_bytes=100 * 100 * 4 * 3)
    for n in range(5):
        pixmap = QPixmap(100, 100)
        cache.put(n, pixmap)
        if n == 2:
            cache.get(0)  # touch: 0 becomes most recent
    assert len(cache) == 3
    assert 0 in cache and 4 in cache and 1 not in cache
    cache.clear()
    assert len(cache) == 0 and cache.bytes_used == 0


def test_roles_give_ids_and_infos():
    model = PhotoListModel()
    model.set_photos(photos(3))
    index = model.index(0, 0)
    assert index.data(Roles.PhotoId) == 3
    assert isinstance(index.data(Roles.Info), PhotoInfo)
