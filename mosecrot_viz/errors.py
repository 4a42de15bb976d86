"""User-facing error types.

`InputError` is raised for anything wrong with what a user handed us (a file, a config value):
its message names the file and, where it helps, the line, so the CLI can print one line and the
app can show it without a traceback.
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
