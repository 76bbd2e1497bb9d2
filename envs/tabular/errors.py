"""The one error a YAML family description gives: file, key, what is wrong — on one line."""

from __future__ import annotations


class FamilySpecError(ValueError):
    """A YAML family file is wrong; the message names the file and the key (``stag.yaml: prompt.rules: ...``).

    Raised when the file is read (unknown keys, bad values, undefined names in templates) or, for what
    only data can reveal (an attribute a template asks of a value), when a decision is first rendered."""

    def __init__(self, file: str, key: str, message: str):
        where = f"{file}: {key}" if key else str(file)
        super().__init__(f"{where}: {' '.join(str(message).split())}")
        self.file, self.key, self.detail = str(file), key, str(message)
