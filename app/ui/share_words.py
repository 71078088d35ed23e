"""What a protected copy carries and what is taken out of it, in words: the Share dialog's
panel before the copy is made, and its summary after."""

from __future__ import annotations

import html

from app.core import sharing
from app.core.vault import PhotoInfo, ShareOutcome


def bullet_list(lines: list[str] | tuple[str, ...]) -> str:
    """Bulleted lines with a hanging indent (a table: Qt's <ul> indents far and sizes oddly)."""
    rows = "".join(f"<tr><td style='padding: 1px 6px 1px 4px;'>•</td><td style='padding: 1px 0;'>"
                   f"{html.escape(line)}</td></tr>" for line in lines)
    return f"<table cellspacing='0' cellpadding='0' style='margin: 3px 0 8px 0;'>{rows}</table>"


def copy_lines(options: sharing.ShareOptions, photo: PhotoInfo) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(what the copy will carry, what is taken out), for these options on this photo."""
    embedded, removed = sharing.describe_share(options)
    removed = list(removed)
    if options.max_long_side and max(photo.width, photo.height) > options.max_long_side:
        removed.append(f"full resolution: the copy is at most {options.max_long_side:,} pixels "
                       f"on its long side")
    return tuple(embedded), tuple(removed)


def description_html(options: sharing.ShareOptions, embedded: tuple[str, ...], removed: tuple[str, ...]) -> str:
    """The panel under the form, with a warning for each thing kept that tells where or when."""
    who = html.escape(options.recipient) if options.recipient else "this recipient"
    parts = [f"<b>The copy for {who} will carry</b>", bullet_list(embedded),
             "<b>Taken out</b>", bullet_list(removed)]
    if not options.strip_location:
        parts.append("<p style='color:#b42318;'>The location stays in the file: anyone who gets "
                     "it can see where the photo was taken, if the camera recorded it.</p>")
    if options.keep_capture_date:
        parts.append("<p style='color:#b42318;'>The date and time it was taken stay in the file.</p>")
    return "".join(parts)


def outcome_html(outcome: ShareOutcome) -> str:
    """What the copy written carries and lacks, for the page that ends the dialog."""
    return "<b>It carries</b>" + bullet_list(outcome.embedded) + "<b>Taken out</b>" + bullet_list(outcome.removed)
