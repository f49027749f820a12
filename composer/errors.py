"""One exception tree for the whole package.

Every error a user can cause derives from ``ComposerError`` so the CLI can turn
it into a clear message and a non-zero exit instead of a traceback.
"""

from __future__ import annotations


class ComposerError(Exception):
    """Base class of every error composer raises on purpose."""

    #: process exit code the CLI uses for this kind of error
    exit_code: int = 1


class OutputExistsError(ComposerError):
    """The file a command would write exists and ``--force`` was not given (a usage error, like a bad option)."""

    exit_code = 2


class OutlineError(ComposerError):
    """The song outline (YAML) is invalid: names the file, line and field."""

    exit_code = 2


class GrooveFileError(OutlineError):
    """A section's groove file is missing, unreadable or unusable; ``section`` names the section."""

    def __init__(self, message: str, *, section: str) -> None:
        super().__init__(message)
        self.section = section


class PlanError(ComposerError):
    """The outline is valid but cannot be laid out on the bar grid."""

    exit_code = 2


class BackendError(ComposerError):
    """A backend cannot be built or loaded (missing model folder, bad config...)."""

    exit_code = 3


class ModelFolderError(BackendError):
    """A model folder is missing a file or holds something other than expected."""


class RenderError(ComposerError):
    """Rendering a clip failed or produced unusable audio (NaN, silence...)."""

    exit_code = 4


class SongFolderError(ComposerError):
    """A song folder is missing, locked, unreadable or cannot be written."""

    exit_code = 5


class CodecError(ComposerError):
    """Spectrogram image/parameters do not match what the codec expects."""

    exit_code = 2
