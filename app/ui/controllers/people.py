"""Organising and people: background organising (tags, faces, the sensitive flag) and what it
refreshes, the People view (list, rename, merge, a person's photos) and marking photos as
sensitive by hand."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex

from app.core.organize import OrganiseSummary, PersonEdit
from app.workers.people_jobs import (
    ListPeopleJob,
    OrganiseChunk,
    OrganiseResult,
    PeopleList,
    PersonEditJob,
    SensitiveChange,
    SetSensitiveJob,
)

from ..people_view import PeoplePage
from ..sidebar import Scope
from .base import WindowController


class PeopleController(WindowController):
    def __init__(self, window):
        super().__init__(window)
        self.people_summary: list = []  # the people as the last organising summary counted them
        self._people_job: ListPeopleJob | None = None
        window.sensitive.changed.connect(self._sensitive_changed)
        window.viewer.sensitive_requested.connect(lambda pid, on: self.set_sensitive([pid], on))
        for panel in (window.viewer.panel, window.detail.meta):
            panel.organise.edit_requested.connect(self.edit_people)
            panel.organise.people_lookup = lambda: self.people_summary
        page = window.people_page
        page.open_person.connect(self.open_person)
        page.rename_requested.connect(lambda pid, name: self.edit_people(PersonEdit("name", pid, name=name)))
        page.merge_requested.connect(lambda keep, absorb: self.edit_people(PersonEdit("merge", keep, other_id=absorb)))
        organiser = window.organiser
        organiser.chunk_done.connect(self._organise_chunk)
        organiser.finished.connect(self._organise_done)
        organiser.summary_ready.connect(self._organise_summary)
        organiser.unavailable.connect(lambda text: self.show_status(text, 30000))

    def clear(self) -> None:
        """Locking: no names or faces stay behind."""
        self.window.people_model.clear()
        self.people_summary = []

    def open_person(self, person) -> None:
        """From the People view: that person's photos in the gallery."""
        self.window.sidebar.setCurrentIndex(QModelIndex())  # so clicking "People" again goes back
        self.window.set_scope(Scope("person", person=person.id, label=person.name or "Unnamed person"))

    # --- organising --------------------------------------------------------------------------

    def _organise_chunk(self, chunk: OrganiseChunk) -> None:
        window = self.window
        window.sensitive.update_flags(chunk.photo_ids, chunk.sensitive)
        if window.scope.needs_query:
            window.query_scope()
        if window.proxy.text:
            window.search_again()
        for panel in (window.viewer.panel, window.detail.meta):
            if panel.photo_id in chunk.photo_ids and panel.isVisible():
                panel.refresh_organise()
        if window.viewer.photo_id in chunk.sensitive and not window.viewer.blurred:
            window.viewer.reload()  # flagged while on screen: blur it now

    def _organise_done(self, result: OrganiseResult) -> None:
        report = result.report
        if report.cancelled or not report.analyzed:
            return
        n = report.analyzed
        self.show_status(f"Organised {n:,} photo{'s' if n != 1 else ''}: tags and people are up to date.", 10000)
        if self.window.scope.kind == "people":
            self.reload_people()

    def _organise_summary(self, summary: OrganiseSummary) -> None:
        if not self.session.is_unlocked:
            return
        self.people_summary = list(summary.people)
        self.window.sidebar_model.update_organise(summary)
        self.window.update_search_words(summary)

    # --- the People view ---------------------------------------------------------------------

    def reload_people(self) -> None:
        if not self.session.is_unlocked:
            return
        if self._people_job is not None:
            self._people_job.cancel()
        job = ListPeopleJob(self.session.vault, PeoplePage.EDGE, self.window.sensitive.snapshot())
        self._people_job = job
        self.run_job(job, lambda result, job=job: self._people_listed(job, result), priority=2)

    def _people_listed(self, job: ListPeopleJob, result: PeopleList) -> None:
        if job is not self._people_job or not self.session.is_unlocked:
            return
        self._people_job = None
        window = self.window
        chosen = [p.id for p in window.people_page.selected_people()]
        window.people_model.set_people(result.people)
        for person_id in chosen[:1]:
            window.people_page.select_person(person_id)
        if window.scope.kind == "people":
            window.update_scope_count()

    def edit_people(self, edit: PersonEdit) -> PersonEditJob | None:
        """Name, merge, move or reject: a quick write, then everything showing people refreshes."""
        if not self.session.is_unlocked:
            return None
        return self.run_job(PersonEditJob(self.session.vault, edit), self._people_edited, priority=3)

    def _people_edited(self, edit: PersonEdit) -> None:
        if not self.session.is_unlocked:
            return
        window = self.window
        words = {"name": "Name saved.", "merge": "Merged: one person now.", "move": "Face moved.",
                 "reject": "Removed: not a face."}
        self.show_status(words.get(edit.action, "Saved."), 6000)
        for panel in (window.viewer.panel, window.detail.meta):
            if panel.photo_id is not None:
                panel.refresh_organise()
        window.organiser.refresh_summary()
        if window.scope.kind == "people":
            self.reload_people()
        else:
            scope = window.scope
            if scope.kind == "person" and edit.action == "name" and edit.person_id == scope.person:
                window.scope = Scope("person", person=edit.person_id, label=edit.name or "Unnamed person")
                window.update_header()
            window.query_scope()  # a person's photos, or "Photos with people" after "Not a face"
        if window.searching:
            window.search_again()  # a name searched for may have changed

    # --- sensitive photos --------------------------------------------------------------------

    def set_sensitive(self, photo_ids: list[int], value: bool | None) -> SetSensitiveJob | None:
        """Mark (True) or unmark (False) photos as sensitive, by hand."""
        if not photo_ids or not self.session.is_unlocked:
            return None
        return self.run_job(SetSensitiveJob(self.session.vault, photo_ids, value), self._sensitive_set, priority=3)

    def _sensitive_set(self, change: SensitiveChange) -> None:
        if not self.session.is_unlocked:
            return
        window = self.window
        for photo_id in change.photo_ids:
            window.sensitive.revealed.discard(photo_id)  # marking hides it, even if it was revealed
        window.sensitive.update_flags(change.photo_ids, change.sensitive)
        window.loader.reload(change.photo_ids)
        n = len(change.photo_ids)
        what = f"{n:,} photo{'s' if n != 1 else ''}" if n != 1 else "Photo"
        self.show_status(f"{what} marked as sensitive: blurred until you reveal it." if change.value
                         else f"{what} no longer marked as sensitive.", 8000)
        if window.viewer.photo_id in change.photo_ids:
            window.viewer.reload()
        if window.scope.kind == "sensitive":
            window.query_scope()
        window.organiser.refresh_summary()

    def _sensitive_changed(self, photo_ids) -> None:
        """A flag or a reveal changed: those thumbnails load again, blurred or sharp."""
        window = self.window
        window.loader.reload(photo_ids)
        if photo_ids is None:  # "Show sensitive photos" toggled
            if window.viewer.photo_id is not None:
                window.viewer.reload()
            if window.scope.kind == "people":
                self.reload_people()
        window.gallery.viewport().update()
