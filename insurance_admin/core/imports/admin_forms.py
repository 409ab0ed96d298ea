"""The import framework's file checks for the admin's small django-import-export imports.

django-import-export reads the whole upload into memory for its preview, and picks a reader
by the format chosen or guessed: the form refuses first, with the batch imports' messages,
a file above ADMIN_IMPORT_MAX_FILE_BYTES and a type the imports do not read (.xls, .pdf …).
"""

from django import forms
from django.conf import settings

from .files import ImportRefused, check_size, file_format


class CheckedImportFileMixin(forms.Form):
    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            check_size(upload.size, settings.ADMIN_IMPORT_MAX_FILE_BYTES)
            file_format(upload.name)
        except ImportRefused as exc:
            raise forms.ValidationError(str(exc), code=exc.code) from None
        return upload
