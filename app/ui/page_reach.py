"""How far a scan reads from each web page: linked pages to a depth, a page budget, a browser.

A row of the scan dialog. Its defaults are today's scan (the page given, nothing else); the
browser box is offered only when a Chromium, Chrome or Edge is installed."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from app.core.leaks.browser import find_browser
from app.core.leaks.crawl import MAX_DEPTH, MAX_PAGES_LIMIT, PageOptions


class PageReach(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Also read the next pages and the links on the same site, up to"))
        self.depth = QSpinBox()
        self.depth.setObjectName("scanDepth")
        self.depth.setRange(0, MAX_DEPTH)
        self.depth.setSuffix(" clicks away")
        self.depth.setSpecialValueText("no: only the pages given")
        self.depth.setToolTip("A forum thread's page 2, 3… and the posts it links to. 0 reads only "
                              "the pages you typed.")
        row.addWidget(self.depth)
        row.addWidget(QLabel("and at most"))
        self.max_pages = QSpinBox()
        self.max_pages.setObjectName("scanMaxPages")
        self.max_pages.setRange(1, MAX_PAGES_LIMIT)
        self.max_pages.setValue(PageOptions.max_pages)
        self.max_pages.setSuffix(" pages each")
        row.addWidget(self.max_pages)
        row.addStretch(1)
        layout.addLayout(row)
        self.browser = QCheckBox("Open each page in a browser first (for pages that build their pictures "
                                 "with JavaScript; slower)")
        self.browser.setObjectName("scanBrowser")
        if find_browser() is None:
            self.browser.setEnabled(False)
            self.browser.setText(self.browser.text() + " — no Chromium, Chrome or Edge found on this computer")
        layout.addWidget(self.browser)
        self.depth.valueChanged.connect(lambda value: self.max_pages.setEnabled(value > 0))
        self.max_pages.setEnabled(False)

    def options(self) -> PageOptions:
        return PageOptions(depth=self.depth.value(), max_pages=self.max_pages.value(),
                           browser=self.browser.isChecked())
