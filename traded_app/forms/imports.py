"""The form that uploads a CSV file to be checked and previewed before anything changes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput
from wtforms.validators import StopValidation


class CsvUploadForm(FlaskForm):
    file = FileField("Upload a CSV file", widget=GovFileInput())

    def validate_file(self, field: FileField) -> None:
        if not field.data or not getattr(field.data, "filename", ""):
            raise StopValidation("Select a CSV file")
