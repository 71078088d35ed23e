"""The evidence report dialog of a case: where to save the signed PDF, and what it shows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.core.leaks.cases import CaseInfo
from app.workers.case_jobs import ReportRequest


class ReportDialog(QDialog):
    """Asks where the report goes and whether its pictures are shown unblurred (never by default:
    whoever reads a report needs to know which photo, not to see it)."""

    def __init__(self, case: CaseInfo, folder: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.case = case
        self.setObjectName("reportDialog")
        self.setWindowTitle(f"Evidence report: {case.host}")
        form = QFormLayout(self)
        intro = QLabel("A PDF for the police, a lawyer or a support organisation: every address, when it was "
                       "seen, the SHA-256 of what was fetched, how your photo was recognised, and the notices "
                       "sent. It is signed with your vault's key; a .sig file is saved beside it.")
        intro.setWordWrap(True)
        form.addRow(intro)
        self.path = QLineEdit(str(folder / f"sanctum-case-{case.id}.pdf"))
        self.path.setObjectName("reportPath")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(choose)
        form.addRow("Save as", row)
        self.name = QLineEdit()
        self.name.setObjectName("reportName")
        self.name.setPlaceholderText("optional: the name the report is prepared for")
        form.addRow("Your name", self.name)
        self.full = QCheckBox("Show the found pictures unblurred")
        self.full.setObjectName("reportFullThumbnails")
        self.full.setToolTip("Off: each found picture is shown blurred, enough to tell which photo it is")
        self.pages = QCheckBox("Attach the pages as they were captured (HTML)")
        self.pages.setObjectName("reportAttachPages")
        self.pages.setChecked(True)
        form.addRow(self.full)
        form.addRow(self.pages)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.path.textChanged.connect(self._update)
        self._update()

    def _choose(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Save the evidence report", self.path.text(), "PDF (*.pdf)")
        if chosen:
            self.path.setText(chosen if chosen.lower().endswith(".pdf") else chosen + ".pdf")

    def _update(self) -> None:
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(self.path.text().strip().lower().endswith(".pdf"))

    def request(self) -> ReportRequest:
        return ReportRequest(self.case.id, str(Path(self.path.text().strip()).expanduser()),
                             full_thumbnails=self.full.isChecked(), attach_pages=self.pages.isChecked(),
                             prepared_by=self.name.text().strip() or None)
