"""User-facing error types.

`InputError` is raised for anything wrong with what a user handed us (a file, a config value):
its message names the file and, where it helps, the line, so the CLI can print one line and the
app can show it without a traceback. Each kind of problem has its own subclass, so callers and
tests can tell a malformed file from one over a limit or one we refuse to open; `except
InputError` still catches them all.
"""


class InputError(ValueError):
    """Bad user input: a malformed file, an unknown option, an empty overlap."""

    def __init__(self, message: str, path=None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        super().__init__(where + message)
        self.path = path
        self.line = line


class FormatError(InputError):
    """Malformed content: ragged rows, a wrong dimension, NaN/inf, a bad number, non-UTF-8, junk, an empty file."""


class LimitError(InputError):
    """Input over a configured limit: upload or decompressed size, line length, vector width, label count."""


class UnsafeFormatError(InputError):
    """A format that can run code when loaded (pickle, torch .bin): refused, never opened; says what to export."""


class SchemaError(InputError):
    """A well-formed file or folder without what we need: missing columns, missing config or weights."""


class OverlapError(InputError):
    """Inputs that do not meet: no lexicon pair links the model vocabulary to the static vectors."""


class LabelError(InputError):
    """Evaluation data with labels the training data never had (they cannot be predicted)."""


class PathError(InputError):
    """A path that leads nowhere usable: a missing file, or an upload name that is not a plain file name."""


class ResourceError(InputError):
    """The machine ran out of something (GPU memory) even at the smallest setting; says what to lower."""
