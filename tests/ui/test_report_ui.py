"""The case's "Evidence report…" button on a real window and vault: the dialog blurs the pictures
unless asked, and the report it saves is a PDF with its signature beside it, which verifies."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog

from app.core.leaks.report_signature import verify_report
from app.ui import report_dialog

from .test_cases_ui import _show_cases, with_cases  # noqa: F401 - fixture
from .test_leaks_ui import stocked  # noqa: F401 - fixture


def test_evidence_report_button_saves_a_signed_pdf(qtbot, with_cases, tmp_path, monkeypatch):  # noqa: F811
    session, window, (first, second) = with_cases
    page = _show_cases(qtbot, window)
    with qtbot.waitSignal(page.checked, timeout=30_000):  # the overdue case's re-check runs first
        pass
    case = next(c for c in page.model.cases if c.host == "127.0.0.1")
    page.select_case(case.id)
    assert page.panel.report_button.isEnabled()

    out = tmp_path / "case report.pdf"
    shown = []

    def answer(dialog: report_dialog.ReportDialog) -> int:
        shown.append(dialog)
        # what a person sees first: blurred pictures, pages attached, a .pdf name in Documents or home
        assert not dialog.full.isChecked() and dialog.pages.isChecked()
        assert dialog.path.text().endswith(f"sanctum-case-{case.id}.pdf")
        dialog.path.setText(str(tmp_path / "not a pdf.txt"))
        assert not dialog.buttons.button(dialog.buttons.StandardButton.Save).isEnabled()
        dialog.path.setText(str(out))
        dialog.name.setText("Dana Example")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(report_dialog.ReportDialog, "exec", answer)
    with qtbot.waitSignal(page.checked, timeout=60_000) as done:
        page.panel.report_button.click()
    assert shown and done.args[0] == f"Report saved: {out} (signature: case report.pdf.sig)."
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert verify_report(pdf, Path(str(out) + ".sig").read_bytes(), session.vault.signing_public_key())
