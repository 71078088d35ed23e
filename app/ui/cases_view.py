"""The "Cases" tab of the Leaks view: every found copy on one site handled together.

The table lists the cases as the core orders them (overdue first, then open, drafted, waiting,
removed) with their due dates and next step; the panel below shows the selected case: its
addresses, the notices sent (what, to whom, when, due when), the replies recorded, and the
actions. Cases whose notice fell due are re-checked when the tab loads (`RecheckCasesJob`).
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.leaks.cases import CaseInfo, CaseNoticeInfo
from app.core.leaks.enums import CaseStatus, MatchStatus, NoticeAudience, ReplyOutcome
from app.core.leaks.notices import LAWS
from app.workers.base import CallJob
from app.workers.case_jobs import CaseList, RecheckCasesJob, ReportRequest, case_list, write_case_report

from .errors import describe
from .match_panel import FittedList
from .shares_view import short_date

CASE_WORDS = {
    CaseStatus.OVERDUE: "Overdue",
    CaseStatus.OPEN: "Nothing sent yet",
    CaseStatus.DRAFTED: "Notice drafted",
    CaseStatus.WAITING: "Waiting for the site",
    CaseStatus.REMOVED: "Removed",
}
CASE_COLORS = {CaseStatus.OVERDUE: "#b42318", CaseStatus.OPEN: "#8a4b0f", CaseStatus.DRAFTED: "#8a4b0f",
               CaseStatus.WAITING: "#4456b8", CaseStatus.REMOVED: "#1e7a46"}
ADDRESS_WORDS = {MatchStatus.FOUND: "found", MatchStatus.DRAFTED: "in a draft", MatchStatus.SENT: "asked",
                 MatchStatus.REMOVED: "removed"}
REPLY_WORDS = {ReplyOutcome.REMOVED: "They say it is removed", ReplyOutcome.REFUSED: "They refused",
               ReplyOutcome.MORE_INFO: "They ask for more information", ReplyOutcome.OTHER: "Other answer"}
AUDIENCE_WORDS = {NoticeAudience.SITE: "the site", NoticeAudience.PROVIDER: "the hosting provider",
                  NoticeAudience.SEARCH: "a search engine"}
_STYLE = ("QFrame#casePanel { background: #ffffff; border: 1px solid #dfe3e8; border-radius: 8px; }"
          "QLabel#caseHeadline { font-weight: 600; } QLabel#caseNextStep { font-weight: 600; }")


def due_words(case: CaseInfo) -> str:
    if case.due_at is None:
        return "—"
    return f"{short_date(case.due_at)}, {case.due_at:%H:%M}"


def notice_line(notice: CaseNoticeInfo) -> str:
    kind = LAWS[notice.kind].label.split(" (")[0] if notice.kind in LAWS else "Removal request (per copy)"
    to = f" to {notice.to}" if notice.to else ""
    if notice.sent_at is None:
        return f"{kind}{to}: drafted {short_date(notice.created_at)}" + (
            f" — missing: {'; '.join(notice.missing)}" if notice.missing else "")
    due = f", due {short_date(notice.due_at)} {notice.due_at:%H:%M}" if notice.due_at else ""
    return f"{kind}{to}, for {AUDIENCE_WORDS.get(notice.audience, notice.audience)}: sent " \
           f"{short_date(notice.sent_at)} {notice.sent_at:%H:%M}{due}"


class CaseColumn(IntEnum):
    Status = 0
    Site = 1
    Addresses = 2
    Due = 3
    Next = 4


HEADERS = {CaseColumn.Status: "Status", CaseColumn.Site: "Site", CaseColumn.Addresses: "Copies",
           CaseColumn.Due: "Due", CaseColumn.Next: "Next step"}
CaseRole = Qt.ItemDataRole.UserRole + 1


class CasesModel(QAbstractTableModel):
    """The cases in the core's order (the most urgent first); not re-sorted by the view."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.cases: list[CaseInfo] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.cases)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(CaseColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(CaseColumn):
            return HEADERS[CaseColumn(section)]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.cases):
            return None
        case, column = self.cases[index.row()], CaseColumn(index.column())
        if role == CaseRole:
            return case
        if role == Qt.ItemDataRole.ForegroundRole and column in (CaseColumn.Status, CaseColumn.Due):
            return QColor(CASE_COLORS.get(CaseStatus(case.status), "#1d2733"))
        if role == Qt.ItemDataRole.ToolTipRole and column == CaseColumn.Next:
            return case.next_step_words
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == CaseColumn.Status:
            return CASE_WORDS.get(CaseStatus(case.status), case.status)
        if column == CaseColumn.Site:
            return case.host
        if column == CaseColumn.Addresses:
            left = sum(a.status != MatchStatus.REMOVED for a in case.addresses)
            return f"{left} of {len(case.addresses)} still up" if left != len(case.addresses) else str(left)
        if column == CaseColumn.Due:
            return due_words(case)
        return case.next_step_words

    def set_cases(self, cases: list[CaseInfo]) -> None:
        self.beginResetModel()
        self.cases = list(cases)
        self.endResetModel()

    def row_of(self, case_id: int) -> int | None:
        return next((row for row, case in enumerate(self.cases) if case.id == case_id), None)


class ReplyDialog(QDialog):
    """Record what a site or provider answered."""

    def __init__(self, case: CaseInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("replyDialog")
        self.setWindowTitle(f"Answer from {case.host}")
        form = QFormLayout(self)
        self.outcome = QComboBox()
        self.outcome.setObjectName("replyOutcome")
        for outcome, words in REPLY_WORDS.items():
            self.outcome.addItem(words, str(outcome))
        self.text = QPlainTextEdit()
        self.text.setObjectName("replyText")
        self.text.setPlaceholderText("What they said, in short (kept in your vault)")
        self.text.setMaximumHeight(110)
        form.addRow("Their answer", self.outcome)
        form.addRow("In short", self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class CasePanel(QFrame):
    """The selected case: what was found, sent and answered, and what is due next."""

    write_notice = Signal(object)  # CaseInfo
    record_reply = Signal(object)  # CaseInfo
    check_again = Signal(object)  # CaseInfo
    find_provider = Signal(object)  # CaseInfo
    open_notice = Signal(object, object)  # CaseInfo, CaseNoticeInfo
    make_report = Signal(object)  # CaseInfo

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("casePanel")
        self.setStyleSheet(_STYLE)
        self.case: CaseInfo | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        self.headline = QLabel()
        self.headline.setObjectName("caseHeadline")
        self.next_step = QLabel()
        self.next_step.setObjectName("caseNextStep")
        self.next_step.setWordWrap(True)
        self.provider = QLabel()
        self.provider.setObjectName("caseProvider")
        self.provider.setWordWrap(True)
        self.provider.setProperty("muted", True)
        self.provider.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget in (self.headline, self.next_step, self.provider):
            layout.addWidget(widget)
        lists = QHBoxLayout()
        self.addresses = self._list(lists, "Addresses on this site", "caseAddresses")
        self.notices = self._list(lists, "Notices", "caseNotices")
        self.notices.itemActivated.connect(lambda item: self.case and self.open_notice.emit(
            self.case, item.data(Qt.ItemDataRole.UserRole)))
        self.replies = self._list(lists, "Answers", "caseReplies")
        layout.addLayout(lists, 1)
        buttons = QHBoxLayout()
        self.notice_button = self._button(buttons, "Write notice…", "caseWriteNotice", self.write_notice)
        self.notice_button.setProperty("primary", True)
        self.reply_button = self._button(buttons, "Record an answer…", "caseRecordReply", self.record_reply)
        self.check_button = self._button(buttons, "Check again", "caseCheckAgain", self.check_again)
        self.provider_button = self._button(buttons, "Find the hosting provider", "caseFindProvider",
                                            self.find_provider)
        self.provider_button.setToolTip("Ask the internet registries (RDAP) who hosts this site and where to "
                                        "report abuse to them; the site itself is not contacted")
        self.report_button = self._button(buttons, "Evidence report…", "caseReport", self.make_report)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status = QLabel()
        self.status.setObjectName("caseStatus")
        self.status.setWordWrap(True)
        self.status.setProperty("muted", True)
        layout.addWidget(self.status)
        self.show_case(None)

    def _list(self, row: QHBoxLayout, title: str, name: str) -> FittedList:
        column = QVBoxLayout()
        label = QLabel(title)
        label.setObjectName("caseHeadline")
        items = FittedList(180)
        items.setObjectName(name)
        column.addWidget(label)
        column.addWidget(items)
        column.addStretch(1)
        row.addLayout(column, 1)
        return items

    def _button(self, row: QHBoxLayout, text: str, name: str, signal) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(lambda: self.case and signal.emit(self.case))
        row.addWidget(button)
        return button

    def show_case(self, case: CaseInfo | None) -> None:
        from PySide6.QtWidgets import QListWidgetItem

        self.case = case
        for items in (self.addresses, self.notices, self.replies):
            items.clear()
        if case is None:
            self.headline.setText("Select a case to see what was found, sent and answered.")
            self.next_step.setText("")
            self.provider.setText("")
        else:
            due = f" — due {due_words(case)}" if case.due_at else ""
            self.headline.setText(f"{case.host}: {CASE_WORDS.get(CaseStatus(case.status), case.status)}{due}")
            self.next_step.setText(f"Next: {case.next_step_words}")
            self.next_step.setStyleSheet(f"color: {CASE_COLORS.get(CaseStatus(case.status), '#1d2733')};")
            provider = case.provider or {}
            self.provider.setText(
                f"Hosted by {provider.get('organisation') or provider.get('network') or 'an unnamed provider'} "
                f"({provider.get('address')}); abuse contact: {', '.join(provider.get('abuse_emails') or []) or 'none listed'}"
                if provider else "")
            for address in case.addresses:
                item = QListWidgetItem(f"{address.url} — {ADDRESS_WORDS.get(address.status, address.status)}")
                item.setToolTip(address.url + (f"\non the page {address.found_on}" if address.found_on else ""))
                self.addresses.addItem(item)
            for notice in case.notices:
                item = QListWidgetItem(notice_line(notice))
                item.setData(Qt.ItemDataRole.UserRole, notice)
                self.notices.addItem(item)
            for reply in case.replies:
                self.replies.addItem(f"{short_date(reply.received_at)}: {REPLY_WORDS.get(reply.outcome, reply.outcome)}"
                                     + (f" — {reply.text}" if reply.text else ""))
        for items in (self.addresses, self.notices, self.replies):
            if case is not None and not items.count():
                none = QListWidgetItem("None yet.")
                none.setFlags(Qt.ItemFlag.NoItemFlags)
                items.addItem(none)
            items.fit()
        self.set_enabled(True)

    def set_enabled(self, enabled: bool) -> None:
        has = self.case is not None
        live = has and self.case.status != CaseStatus.REMOVED
        self.notice_button.setEnabled(enabled and live)
        self.reply_button.setEnabled(enabled and has and bool(self.case.notices))
        self.check_button.setEnabled(enabled and has)
        self.provider_button.setEnabled(enabled and live)
        self.report_button.setEnabled(enabled and has)


class CasesPage(QWidget):
    """The cases table over the selected case. Loads with `reload`; runs re-checks, provider
    look-ups and replies itself; "Write notice…" goes to the controller (the notice editor)."""

    loaded = Signal(int)  # cases listed (tests wait on it)
    case_selected = Signal(object)  # CaseInfo or None
    write_notice = Signal(object)  # CaseInfo
    open_notice = Signal(object, object)  # CaseInfo, CaseNoticeInfo
    checked = Signal(str)

    EMPTY = "No cases yet: copies found on websites group here, one case per site."

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("casesPage")
        self.session = None
        self.fetch_policy = None
        self.pdq: dict[int, str] = {}
        self._busy = False
        self.model = CasesModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        self.table = QTableView()
        self.table.setObjectName("casesTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in ((CaseColumn.Status, 150), (CaseColumn.Site, 170), (CaseColumn.Addresses, 110),
                              (CaseColumn.Due, 130)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(CaseColumn.Next, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(110)
        self.panel = CasePanel()
        splitter.addWidget(self.table)
        splitter.addWidget(self.panel)
        splitter.setSizes([200, 380])
        layout.addWidget(splitter)
        self.empty = QLabel(self.EMPTY)
        self.empty.setObjectName("casesEmpty")
        self.empty.setProperty("muted", True)
        layout.addWidget(self.empty)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.panel.write_notice.connect(self.write_notice)
        self.panel.open_notice.connect(self.open_notice)
        self.panel.check_again.connect(lambda case: self.recheck([case.id]))
        self.panel.find_provider.connect(self.find_provider)
        self.panel.record_reply.connect(self.ask_reply)
        self.panel.make_report.connect(self.ask_report)

    def attach(self, session) -> None:
        self.session = session

    @property
    def _ready(self) -> bool:
        return self.session is not None and self.session.is_unlocked

    def reload(self, recheck_due: bool = True) -> CallJob | None:
        if not self._ready:
            return None
        job = CallJob(self.session.vault, case_list, self.session.vault)
        job.signals.finished.connect(lambda result: self._listed(result, recheck_due))
        job.signals.failed.connect(self._failed)
        self.session.jobs.start(job, priority=1)
        return job

    def _listed(self, result: CaseList, recheck_due: bool) -> None:
        if not self._ready:
            return
        selected = self.panel.case.id if self.panel.case is not None else None
        self.pdq = dict(result.pdq)
        self.model.set_cases(result.cases)
        self.empty.setVisible(not result.cases)
        row = self.model.row_of(selected) if selected is not None else None
        if row is None and result.cases:
            row = 0  # the most urgent case
        if row is not None:
            self.table.selectRow(row)
        self._selection_changed()
        self.loaded.emit(len(result.cases))
        if recheck_due and result.due:
            # The law's deadline passed: look at the addresses again before suggesting escalation.
            self.recheck(result.due)

    def clear(self) -> None:
        self.model.set_cases([])
        self.pdq = {}
        self.panel.show_case(None)

    def selected_case(self) -> CaseInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(CaseRole) if rows else None

    def select_case(self, case_id: int) -> bool:
        row = self.model.row_of(case_id)
        if row is not None:
            self.table.selectRow(row)
        return row is not None

    def _selection_changed(self, *args) -> None:
        self.panel.show_case(self.selected_case())
        self.panel.set_enabled(not self._busy)
        self.case_selected.emit(self.selected_case())

    def _failed(self, exc: BaseException) -> None:
        message = describe(exc)
        self._done(f"{message.title}: {message.text}")

    def _done(self, words: str) -> None:
        self._busy = False
        self.panel.status.setText(words)
        self.panel.set_enabled(True)
        self.checked.emit(words)

    def _start(self, job, words: str) -> None:
        self._busy = True
        self.panel.set_enabled(False)
        self.panel.status.setText(words)
        job.signals.failed.connect(self._failed)
        self.session.jobs.start(job)

    def recheck(self, case_ids: list[int]) -> RecheckCasesJob | None:
        if not self._ready or self._busy or not case_ids:
            return None
        job = RecheckCasesJob(self.session.vault, case_ids, self.fetch_policy)
        job.signals.finished.connect(self._rechecked)
        self._start(job, "Looking at the addresses again…")
        return job

    def _rechecked(self, cases: list[CaseInfo]) -> None:
        gone = sum(a.status == MatchStatus.REMOVED for case in cases for a in case.addresses)
        total = sum(len(case.addresses) for case in cases)
        self._done(f"Checked: {gone} of {total} address{'es' if total != 1 else ''} removed.")
        self.reload(recheck_due=False)

    def find_provider(self, case: CaseInfo) -> CallJob | None:
        if not self._ready or self._busy:
            return None
        job = CallJob(self.session.vault, self.session.vault.lookup_provider, case.id, lane="vault-write")
        job.signals.finished.connect(lambda found: (self._done(
            f"{found.host} is hosted by {found.organisation or found.network or 'an unnamed provider'}."),
            self.reload(recheck_due=False)))
        self._start(job, f"Asking the registries who hosts {case.host}…")
        return job

    def ask_reply(self, case: CaseInfo) -> None:
        dialog = ReplyDialog(case, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.save_reply(case, str(dialog.outcome.currentData()), dialog.text.toPlainText().strip())

    def save_reply(self, case: CaseInfo, outcome: str, text: str) -> CallJob | None:
        if not self._ready:
            return None
        job = CallJob(self.session.vault, self.session.vault.record_reply, case.id, outcome, text,
                      lane="vault-write")
        job.signals.finished.connect(lambda _reply: (self._done("Answer recorded."), self.reload(recheck_due=False)))
        self._start(job, "Recording the answer…")
        return job

    def ask_report(self, case: CaseInfo) -> None:
        from .report_dialog import ReportDialog

        documents = Path.home() / "Documents"
        dialog = ReportDialog(case, documents if documents.is_dir() else Path.home(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.save_report(dialog.request())

    def save_report(self, request: ReportRequest) -> CallJob | None:
        if not self._ready or self._busy:
            return None
        job = CallJob(self.session.vault, write_case_report, self.session.vault, request, title="Evidence report")
        job.signals.finished.connect(lambda written: self._done(
            f"Report saved: {written.out} (signature: {Path(written.signature).name})."))
        self._start(job, "Writing the evidence report…")
        return job
