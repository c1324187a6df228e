"""The exceptions d2lstyle raises.

Every problem a user can cause (a missing image, a corrupt network file, no
internet for a download, an image too large for memory) is reported as a
subclass of :class:`D2lStyleError` whose message says what went wrong and what
to do about it, in the reader's language (:mod:`d2lstyle.i18n`). The
command-line tool prints that message on one line and exits with a non-zero
status instead of showing a traceback.

>>> try:
...     raise ImageError("cat.jpg: no such file")
... except D2lStyleError as error:
...     print(error)
cat.jpg: no such file
"""

from .i18n import translate


class D2lStyleError(Exception):
    """Base class: a problem the user can fix, with a message that says how (translated when shown)."""

    def __str__(self):
        return translate(super().__str__())


class InputError(D2lStyleError, ValueError):
    """A value a function cannot take: an unknown device, an empty list of paintings, tensors of other shapes."""


class ImageError(D2lStyleError, ValueError):
    """An image file is missing, unreadable, too large or too small."""


class NetworkError(D2lStyleError, ValueError):
    """A network choice or file that cannot be used: missing, corrupt, or holding the wrong tensors."""


class NetworkUnavailableError(NetworkError):
    """A pretrained network that is not installed or cached and cannot be downloaded."""


class LayerError(D2lStyleError, KeyError):
    """A layer name that VGG-19 does not have."""

    def __str__(self):
        # KeyError would print the message with quotes around it.
        return translate(str(self.args[0])) if self.args else ""


class RecipeError(D2lStyleError, ValueError):
    """A recipe name or setting that does not exist or does not make sense."""


class MemoryEstimateError(D2lStyleError, MemoryError):
    """The run would need more memory than the machine has."""


class CheckpointError(D2lStyleError, ValueError):
    """A checkpoint file that cannot be resumed from."""


class SettingsError(D2lStyleError, ValueError):
    """A D2LSTYLE_* environment variable with a value it cannot take."""


class PainterError(D2lStyleError, ValueError):
    """A painter model file or training checkpoint that cannot be used, or a painter setting that cannot work."""
