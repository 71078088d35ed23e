"""Who to send a notice to: the directory of sites shipped as data (`platforms.toml`), with
rows a user adds or corrects in a file of the same shape in their config folder.

The directory holds public contacts only (abuse addresses, report forms), nothing about the
user, so it may live outside the encrypted vault, where the user can edit it with any editor.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).with_name("platforms.toml")
FILE_NAME = "platforms.toml"


@dataclass(frozen=True)
class Platform:
    id: str
    name: str
    domains: tuple[str, ...]
    abuse_email: str | None = None
    ncii_form: str | None = None
    copyright: str | None = None
    source: str = ""
    checked_on: str = ""
    note: str = ""
    user_row: bool = field(default=False, compare=False)  # from the user's own file

    @property
    def contact(self) -> str:
        """Where a notice goes: the abuse email, else the site's own form."""
        return self.abuse_email or self.ncii_form or self.copyright or ""

    def contact_for(self, kind: str) -> str:
        if kind == "copyright" and self.copyright:
            return self.copyright
        return self.contact


def user_file() -> Path:
    """The user's own rows: <config folder>/Sanctum/platforms.toml."""
    import platformdirs

    return Path(platformdirs.user_config_dir("Sanctum", appauthor=False)) / FILE_NAME


def _rows(path: Path, user: bool) -> list[Platform]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        # A typo in the user's file must not hide the shipped rows: say so in the log, go on.
        log.warning("the platforms file %s could not be read: %s", path.name, type(exc).__name__)
        return []
    rows = []
    for row in data.get("platform", []):
        try:
            rows.append(Platform(
                id=str(row["id"]), name=str(row.get("name", row["id"])),
                domains=tuple(str(d).lower().strip(".") for d in row.get("domains", ())),
                abuse_email=row.get("abuse_email"), ncii_form=row.get("ncii_form"), copyright=row.get("copyright"),
                source=str(row.get("source", "")), checked_on=str(row.get("checked_on", "")),
                note=str(row.get("note", "")), user_row=user))
        except (KeyError, TypeError):
            log.warning("a row of %s has no id and was skipped", path.name)
    return rows


def load(override: Path | None = None) -> tuple[Platform, ...]:
    """The shipped rows, with the user's rows replacing shipped ones of the same id."""
    merged = {row.id: row for row in _rows(SHIPPED, user=False)}
    merged.update({row.id: row for row in _rows(override or user_file(), user=True)})
    return tuple(merged.values())


@cache
def _shipped_and_user() -> tuple[Platform, ...]:
    return load()


def find(host: str, directory: tuple[Platform, ...] | None = None) -> Platform | None:
    """The row whose domain is `host` or a parent of it (i.redd.it → redd.it)."""
    host = host.lower().strip(".")
    for row in directory if directory is not None else _shipped_and_user():
        if any(host == d or host.endswith("." + d) for d in row.domains):
            return row
    return None
