"""The pages of an uploaded CSV file that is checked before anything changes (staff to invite,
opening balances), as every such import shares them: upload (a file that cannot be read is
explained on the form and nothing changes), preview (confirming applies it and comes back to the
same page, which then says what happened) and discard.

Each import is a service module with `KIND`, `COLUMNS`, `preview(stream, filename, user,
max_bytes)` and `apply(record, user)` (see services.platform.csv_upload); its views describe
their pages with one `CsvImportPages` and call it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Protocol

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.forms.auth import EmptyForm
from traded_app.forms.imports import CsvUploadForm
from traded_app.services.platform import csv_upload
from traded_app.services.platform.errors import NotFound
from traded_app.views.form_posts import Refusals, button_action


class CsvImportService(Protocol):
    """What a service module that checks and applies one kind of CSV file offers."""

    @property
    def KIND(self) -> Any: ...

    @property
    def COLUMNS(self) -> tuple[str, ...]: ...

    def preview(
        self, stream: IO[bytes], filename: str, by: Any, max_bytes: int
    ) -> csv_upload.CsvImport: ...

    def apply(self, record: csv_upload.CsvImport, by: Any) -> Any: ...


@dataclass(frozen=True)
class CsvImportPages:
    """One kind of import's three pages: their templates, endpoints and messages."""

    service: CsvImportService
    upload_template: str  # given form, columns and the recent imports of this kind
    upload_endpoint: str
    preview_template: str  # given form, record and what `preview`'s caller adds
    preview_endpoint: str  # takes import_id
    discarded: str  # flashed once the file is discarded
    refusals: Refusals = csv_upload.CsvImportStateError  # what applying may refuse

    def upload(self) -> str | Response:
        """The upload form; a readable file is stored with its checked rows and previewed."""
        form = CsvUploadForm()
        if form.validate_on_submit():
            upload = form.file.data
            try:
                record = self.service.preview(
                    upload.stream, upload.filename or "", current_user, max_bytes()
                )
            except csv_upload.CsvFileError as error:
                form.file.errors = [f"{error} Nothing was changed."]
            else:
                return redirect(url_for(self.preview_endpoint, import_id=record.id))
            finally:
                upload.close()
        return render_template(
            self.upload_template,
            form=form,
            columns=self.service.COLUMNS,
            recent=csv_upload.recent(self.service.KIND),
        )

    def record(self, import_id: int) -> csv_upload.CsvImport:
        """The import of this kind, else 404."""
        try:
            return csv_upload.get(import_id, self.service.KIND)
        except NotFound:
            abort(404)

    def preview(
        self,
        import_id: int,
        applied: Callable[[Any], str],
        page: Callable[[csv_upload.CsvImport], dict[str, Any]],
    ) -> str | Response:
        """The file's checked rows (`page` gives the template what it shows of them); confirming
        applies the file, flashes `applied(what apply returned)` or the refusal, and comes back."""
        record = self.record(import_id)
        if request.method == "POST":
            button_action(lambda: self.service.apply(record, current_user), applied, self.refusals)
            return redirect(url_for(self.preview_endpoint, import_id=record.id))
        return render_template(
            self.preview_template, form=EmptyForm(), record=record, **page(record)
        )

    def discard(self, import_id: int) -> Response:
        """Discard a previewed file: nothing of it is applied."""
        record = self.record(import_id)
        button_action(
            lambda: csv_upload.discard(record), self.discarded, csv_upload.CsvImportStateError
        )
        return redirect(url_for(self.upload_endpoint))


def max_bytes() -> int:
    """The largest CSV file taken (CSV_MAX_BYTES)."""
    return int(current_app.config.get("CSV_MAX_BYTES", csv_upload.MAX_BYTES))
