"""The Leaks view's work: the Scan dialog, removal requests (the Takedown dialog), the notice
editor of a case, the count in the sidebar and the details of the selected found copy."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.core.vault import LeakMatchInfo, ScanOutcome, ShareInfo, TakedownInfo

from ..dialog_slot import DialogSlot
from ..leaks_view import rescan_places
from ..sidebar import Scope
from ..watch_notice import WatchNotifier
from .base import WindowController


class LeaksController(WindowController):
    def __init__(self, window):
        super().__init__(window)
        self.scan_slot = DialogSlot()
        self.takedown_slot = DialogSlot()
        self.notice_slot = DialogSlot()
        page = window.leaks_page
        page.match_selected.connect(self.selection_changed)
        page.request_deletion.connect(lambda match: self.open_takedown(match))
        page.open_request.connect(self._open_request)
        page.cases.write_notice.connect(lambda case: self.open_notice(case))
        page.cases.open_notice.connect(lambda case, notice: self.open_notice(case, notice))
        page.cases.case_selected.connect(self.case_selection_changed)
        window.leaks_model.modelReset.connect(self._leaks_changed)
        self.watch_slot = DialogSlot()
        page.open_watched.connect(self.open_watched)
        self.session.watch.checked.connect(self._watch_checked)
        self.watch_notice = WatchNotifier(self.session, window.watch_banner, self._show_found, parent=window)

    @property
    def fetch_policy(self):
        """HTTP limits (a FetchPolicy) for scans and removal requests; None: the core's defaults.
        Tests set short timeouts for their host on 127.0.0.1."""
        return self.window.leaks_page.fetch_policy

    @fetch_policy.setter
    def fetch_policy(self, policy) -> None:
        self.window.leaks_page.fetch_policy = policy
        self.session.watch.policy = policy

    def close_dialogs(self) -> None:
        # The takedown dialog first: it may sit on top of the scan dialog.
        self.takedown_slot.close_for_lock()
        self.notice_slot.close_for_lock()
        self.scan_slot.close_for_lock()
        self.watch_slot.close_for_lock()

    def open_watched(self):
        """The "Watched places" dialog (one at a time)."""
        if not self.session.is_unlocked:
            return None
        if self.watch_slot.is_open:
            return self.watch_slot.current()
        from ..watch_dialog import WatchDialog

        return self.watch_slot.show(WatchDialog(self.session, parent=self.window))

    def _watch_checked(self, outcome) -> None:
        if self.session.is_unlocked and outcome.new:
            self.window.leaks_page.reload()

    def _show_found(self) -> None:
        if self.session.is_unlocked:
            self.window.sidebar.select_scope(Scope("leaks"))

    def open_scan(self):
        """The "Scan for leaks" dialog (one at a time)."""
        if not self.session.is_unlocked:
            return None
        if self.scan_slot.is_open:
            return self.scan_slot.current()
        from ..scan_dialog import ScanDialog

        window = self.window
        dialog = ScanDialog(self.session, rescan_places(window.leaks_model.matches), photo_lookup=window.photo_info,
                            policy=self.fetch_policy, parent=window)
        dialog.scan_finished.connect(self._scan_done)
        dialog.request_deletion.connect(lambda match, share, dialog=dialog: self.open_takedown(match, share, dialog))
        return self.scan_slot.show(dialog)

    def _scan_done(self, outcome: ScanOutcome) -> None:
        if not self.session.is_unlocked:
            return
        n, k = len(outcome.matches), len(outcome.errors)
        if outcome.scanned == 0 and not n and not outcome.cancelled:
            # "0 copies found" would reassure about places nobody looked at.
            words = "Scan finished: nothing could be checked " + (
                f"({k:,} place{'s' if k != 1 else ''} could not be read)" if k else "(no images in these places)")
        else:
            words = f"Scan {'stopped' if outcome.cancelled else 'finished'}: {n:,} cop{'ies' if n != 1 else 'y'} " \
                    f"of your photos found, {outcome.scanned:,} images checked"
            if k:
                words += f", {k:,} place{'s' if k != 1 else ''} could not be checked"
        self.show_status(words + ".", 15000)
        self.window.leaks_page.reload()

    def open_takedown(self, match: LeakMatchInfo, share: ShareInfo | None = None, parent: QWidget | None = None,
                      request: TakedownInfo | None = None):
        """The "Request deletion…" dialog for one found copy (one at a time)."""
        if not self.session.is_unlocked:
            return None
        if self.takedown_slot.is_open:
            return self.takedown_slot.current()
        from ..takedown_dialog import TakedownDialog

        window = self.window
        if share is None and match.share_id:
            share = window.leaks_page.shares.get(match.share_id)
        dialog = TakedownDialog(self.session, match, share, request=request, policy=self.fetch_policy,
                                parent=parent or window, sensitive=window.sensitive.is_flagged(match.photo_id))
        dialog.changed.connect(lambda _info: window.leaks_page.reload())
        return self.takedown_slot.show(dialog)

    def open_notice(self, case, notice=None):
        """The notice editor of a case (one at a time): a new notice, or a saved one."""
        if not self.session.is_unlocked:
            return None
        if notice is not None and notice.legacy:
            return self._open_legacy(notice)
        if self.notice_slot.is_open:
            return self.notice_slot.current()
        from ..notice_dialog import NoticeDialog

        cases = self.window.leaks_page.cases
        dialog = NoticeDialog(self.session, case, cases.pdq, notice, parent=self.window)
        dialog.changed.connect(lambda _notice: self.window.leaks_page.reload() or cases.reload(recheck_due=False))
        return self.notice_slot.show(dialog)

    def _open_legacy(self, notice):
        """A per-copy request of an earlier version opens where it was made: the Takedown dialog."""
        page = self.window.leaks_page
        match = next((m for m in self.window.leaks_model.matches if m.id in notice.match_ids), None)
        request = next((r for r in page.requests.get(match.id, []) if r.id == notice.id), None) if match else None
        return self.open_takedown(match, request=request) if match is not None else None

    def _open_request(self, request: TakedownInfo) -> None:
        match = self.window.leaks_page.panel.match
        if match is not None and match.id == request.match_id:
            self.open_takedown(match, request=request)

    def _leaks_changed(self, *args) -> None:
        window = self.window
        window.sidebar_model.set_leak_count(window.leaks_model.rowCount())
        if window.showing_leaks:
            window.update_scope_count()

    def selection_changed(self, match: LeakMatchInfo | None) -> None:
        window = self.window
        if not window.showing_leaks:
            return
        info = window.photo_info(match.photo_id) if match is not None and match.photo_id is not None else None
        if match is None:
            window.detail.show_text("Select a found copy to see it beside your photo, and what was done about it.")
        elif info is None:
            window.detail.show_text("The photo was deleted from the vault since; the record of the copy is kept.")
        else:
            window.detail.show_selection([info])
        window.update_actions()

    def case_selection_changed(self, case) -> None:
        """The details panel shows the photos a case is about (the Cases tab's selection)."""
        window = self.window
        if not window.showing_leaks:
            return
        infos = [info for info in (window.photo_info(pid) for pid in (case.photo_ids if case else ()))
                 if info is not None]
        if infos:
            window.detail.show_selection(infos)
        else:
            window.detail.show_text("Select a case to see the photos it is about." if case is None else
                                    "The photos of this case were deleted from the vault; the record is kept.")
