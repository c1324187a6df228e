"""Files a run reads and writes: PyTorch files loaded safely, outputs written whole, paths checked first.

Every tool of the package goes through these few functions, so that each bad file a user can pass gets the
same kind of answer, one line that says what the file is and what was expected, and no file of the user's is
ever left half-written:

- :func:`load_torch_file` reads a network, model or checkpoint with ``torch.load(..., weights_only=True)``,
  which rebuilds tensors and plain containers only and never runs code from the file. A file it cannot read
  is described (:func:`describe_file`: a picture, a text file, a pickle naming code) instead of showing
  PyTorch's multi-line message.
- :func:`write_atomically` writes into a temporary file next to the target and renames it in one step.
- :func:`validate_output_path` and :func:`validate_model_path` refuse an output that cannot be written, or that
  would overwrite an input, before a long run starts; :func:`checkpoint_path` names the checkpoint that belongs
  to an output.

>>> import tempfile, torch
>>> folder = Path(tempfile.mkdtemp())
>>> _ = write_atomically(folder / "weights.pt", lambda file: torch.save({"w": torch.ones(2)}, file))
>>> load_torch_file(folder / "weights.pt", "weights file")
{'w': tensor([1., 1.])}
>>> checkpoint_path("out/tubingen.png").name
'tubingen.png.ckpt'
"""

import codecs
import os
import pickletools
import tempfile
import zipfile
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError

from .errors import D2lStyleError, ImageError

# Pickle instructions that make the unpickler import a name and call it: what an unsafe file needs.
CODE_OPCODES = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX"}
# How much of a file is read to say what it is: enough for a pickle's first names, never a whole video.
SNIFF_BYTES = 1 << 20
# Names that every file torch.save writes uses to rebuild tensors and dicts (weights_only=True allows them).
TENSOR_NAMES = ("torch.", "collections.OrderedDict", "_codecs.encode")


# --- reading ---------------------------------------------------------------------------------------------


def load_torch_file(path, what, error_class=D2lStyleError, hint=""):
    """``torch.load(path, map_location="cpu", weights_only=True)``, with every failure one clear line.

    ``what`` names the file expected (``"d2lstyle painter model file"``); ``hint`` is added to the messages
    for a file of the wrong kind (what to pass instead). A missing, empty or folder path, a picture, a text
    file, a damaged file and a pickle that would run code each raise ``error_class`` saying which. The
    advice to load with ``weights_only=False`` that PyTorch prints is never passed on: it would run the file.

    >>> load_torch_file("no/such/file.pt", "model file")
    Traceback (most recent call last):
    ...
    d2lstyle.errors.D2lStyleError: no/such/file.pt: no such file (expected a model file)
    """
    path = Path(path)
    hint = f"; {hint}" if hint else ""
    if not path.exists():
        raise error_class(f"{path}: no such file (expected a {what}){hint}")
    if path.is_dir():
        raise error_class(f"{path}: is a folder, not a {what}{hint}")
    if path.stat().st_size == 0:
        raise error_class(f"{path}: the file is empty (0 bytes), not a {what}{hint}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - torch.load fails on foreign files in many ways; the file is described
        pass
    kind = describe_file(path)
    if kind.startswith("a PyTorch file"):  # it is one, yet torch.load failed on it
        kind = "a damaged PyTorch file, or one written by another program"
    if kind.startswith("a pickle"):
        raise error_class(f"{path}: refused: it is {kind}, so loading it would run code from the file; "
                          f"d2lstyle loads only plain tensors, which a {what} holds. Use only files you trust"
                          ) from None
    raise error_class(f"{path}: is {kind}, not a {what}{hint}") from None


def describe_file(path):
    """What the file at ``path`` holds, in words, for a message: ``"a picture (PNG)"``, ``"a text file"``,
    ``"a pickle that names Python code to run (builtins.print)"``, ``"a PyTorch file (weights or a checkpoint)"``,
    ``"a zip archive"`` or ``"damaged, or a file of another kind"``. Nothing in the file is run: a pickle is only parsed.

    >>> import tempfile
    >>> picture = Path(tempfile.mkdtemp()) / "photo.png"
    >>> Image.new("RGB", (2, 2)).save(picture)
    >>> describe_file(picture)
    'a picture (PNG)'
    """
    path = Path(path)
    if not path.is_file():
        return "no file"
    try:
        with Image.open(path) as img:
            return f"a picture ({img.format})"
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        pass
    with open(path, "rb") as file:
        head = file.read(SNIFF_BYTES)
    if zipfile.is_zipfile(path):
        data = _pickle_in_zip(path)
        names = pickled_names(data)
        if names:
            return f"a pickle that names Python code to run ({', '.join(names)})"
        return "a PyTorch file (weights or a checkpoint)" if data else "a zip archive"
    names = pickled_names(head)
    if names:
        return f"a pickle that names Python code to run ({', '.join(names)})"
    start = head[:4096]
    if start and b"\0" not in start:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(start, final=False)  # a character cut at the end is fine
            return "a text file"
        except UnicodeDecodeError:
            pass
    return "damaged, or a file of another kind"


def pickled_names(data, limit=3):
    """The names of code a pickle would import and call (at most ``limit``), without running it; ``[]`` for
    data that is not a pickle or names only what rebuilds tensors (:data:`TENSOR_NAMES`).

    >>> import pickle
    >>> pickled_names(pickle.dumps(print))
    ['builtins.print']
    >>> pickled_names(b"not a pickle")
    []
    """
    names, strings = [], []
    try:
        for opcode, argument, _ in pickletools.genops(data):
            if isinstance(argument, str):
                strings.append(argument)
            if opcode.name == "GLOBAL" or opcode.name == "INST":
                names.append(argument.replace(" ", "."))
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(f"{strings[-2]}.{strings[-1]}")
            elif opcode.name in CODE_OPCODES and not names:
                names.append("an object")
    except Exception:  # noqa: BLE001 - not a pickle, or one cut short: only the names it spelled out count
        names = [name for name in names if name != "an object"]
    unique = [name for name in dict.fromkeys(names) if not name.startswith(TENSOR_NAMES)]
    return unique[:limit]


def _pickle_in_zip(path):
    """The start of the pickled part (``*/data.pkl``) of a zip file written by ``torch.save``, or b''."""
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith("data.pkl"):
                    with archive.open(name) as part:
                        return part.read(SNIFF_BYTES)
    except (zipfile.BadZipFile, OSError):
        pass
    return b""


# --- writing ---------------------------------------------------------------------------------------------


def new_file_mode():
    """The permission bits a file created with ``open(path, "w")`` gets: 0o666
    less the process's umask (usually 0o644, readable by everyone).

    ``tempfile.mkstemp``, used for atomic saves, creates files readable by their
    owner only; saves restore the usual mode with this.

    >>> oct(new_file_mode() & 0o600)  # the owner can always read and write it
    '0o600'
    """
    umask = os.umask(0o022)  # reading the umask means setting it; put it back at once
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path, write, error_class=ImageError):
    """Create or replace the file ``path`` so that it is never half-written.

    ``write(file)`` writes the contents into a temporary file in the same
    folder (created if missing), which is then renamed to ``path`` in one step.
    If anything fails or is interrupted, the temporary file is removed and a
    file already at ``path`` stays as it was; an ``OSError`` (a full disk, a
    folder that cannot be created) becomes ``error_class`` with its reason.
    Returns ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    except OSError as error:
        raise error_class(f"{path}: cannot be written ({error.strerror or error}); choose another "
                          f"folder") from error
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, new_file_mode())  # mkstemp made it private; give it an ordinary file's mode
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise error_class(f"{path}: could not be written ({error.strerror or error}); "
                              f"any file already there is unchanged") from error
        raise
    return path


# --- paths checked before a run ---------------------------------------------------------------------------


def validate_output_path(path, protect=()):
    """Raise :class:`~d2lstyle.errors.ImageError` unless ``path`` can take an
    image: a known extension, not a folder, not one of the files in
    ``protect`` (the inputs), in a folder that exists and is writable or can
    be created. Returns it as a Path. Checked before a long run, so that a bad
    output name fails at once, not after minutes of work.

    >>> validate_output_path("out.png").name
    'out.png'
    """
    path = Path(path)
    if path.suffix.lower() not in Image.registered_extensions():
        raise ImageError(f"{path}: unknown image extension {path.suffix!r}; use .png or .jpg")
    return _writable(path, protect, example="stylised.png")


def validate_model_path(path, protect=()):
    """Like :func:`validate_output_path`, for a model file: any extension but an image's (``.pt`` is usual).

    >>> validate_model_path("starry.png")
    Traceback (most recent call last):
    ...
    d2lstyle.errors.ImageError: starry.png: a model file should not have an image extension; use .pt
    """
    path = Path(path)
    if path.suffix.lower() in Image.registered_extensions():
        raise ImageError(f"{path}: a model file should not have an image extension; use .pt")
    return _writable(path, protect, example="painter.pt")


def _writable(path, protect, example):
    """``path``, after checking that it is no input, no folder, and lies in a folder that can be written."""
    for protected in protect:
        protected = Path(protected)
        if path.resolve() == protected.resolve() or (path.exists() and protected.exists() and path.samefile(protected)):
            raise ImageError(f"{path}: refusing to overwrite an input; choose another output name")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder; give a file name such as {path / example}")
    folder = path.absolute().parent
    while not folder.exists():  # the nearest folder that exists decides whether the rest can be made
        folder = folder.parent
    if not folder.is_dir():
        raise ImageError(f"{path}: cannot be written, because {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImageError(f"{path}: cannot be written, because the folder {folder} is not writable; "
                         f"choose another output folder")
    return path


def checkpoint_path(output):
    """The checkpoint file that belongs to an output (an image or a model): ``out.png`` -> ``out.png.ckpt``."""
    output = Path(output)
    return output.with_name(output.name + ".ckpt")
