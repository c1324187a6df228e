"""The photos a painter learns from: which ones (:func:`training_photos`, :func:`photos_in_folder`), read with
what each file is named when it is no picture (:func:`load_picture`), and cut into batches of random crops
(:func:`photo_batch`).

>>> photo = Image.new("RGB", (60, 40), (200, 100, 50))
>>> tuple(photo_batch([photo], crop=16, batch_size=2, step=3).shape)
(2, 3, 16, 16)
"""

import importlib.util
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .. import images
from ..errors import ImageError
from .model_file import describe_painter_file
from .settings import MAX_CROP_SCALE

# The bundled photo kept out of training, to measure how well a painter generalises.
HELD_OUT_PHOTO = "tubingen"


def load_picture(path, hint=""):
    """:func:`d2lstyle.images.load_image`, except that a file that is no picture at all is named for what it
    is (a painter model file, a text file, ...), with ``hint`` (what to pass instead) after it.

    >>> import tempfile
    >>> notes = Path(tempfile.mkdtemp()) / "notes.png"
    >>> _ = notes.write_text("a shopping list")
    >>> try:
    ...     load_picture(notes)
    ... except ImageError as error:
    ...     print(str(error).replace(str(notes), "notes.png"))
    notes.png: is a text file, not a picture
    """
    try:
        return images.load_image(path)
    except ImageError:
        kind = describe_painter_file(path) if Path(path).is_file() else "no file"
        if kind == "no file" or kind.startswith("a picture"):  # missing, or a damaged picture: load_image said so
            raise
        hint = f"; {hint}" if hint else ""
        raise ImageError(f"{path}: is {kind}, not a picture{hint}") from None


def training_photos(held_out=HELD_OUT_PHOTO):
    """The photos a painter is trained on when none are given, as paths.

    All are available offline, with free licences:

    - the bundled photos in ``images/content`` (see images/CREDITS.md:
      rainier CC BY-SA 4.0, astronaut public domain, chelsea and coffee CC0,
      tubingen CC BY 3.0) except ``held_out``, which is kept out so that how
      well a painter generalises can be measured on a photo it never saw;
    - ``grace_hopper.jpg`` from matplotlib's sample data (installed with
      matplotlib; a U.S. Navy photograph, public domain).

    Five photos are very few next to the 80,000 of Johnson et al. (COCO);
    random crops, scales and flips (:func:`photo_batch`) make many more
    training examples of them, and a painter learns textures that are local.
    Pass your own photos (``--photos DIR``) for better generalisation.

    >>> [path.stem for path in training_photos()]
    ['astronaut', 'chelsea', 'coffee', 'rainier', 'grace_hopper']
    """
    photos = [path for path in images.bundled_images("content") if path.stem != held_out]
    matplotlib_photo = matplotlib_sample_photo()
    if matplotlib_photo is not None:
        photos.append(matplotlib_photo)
    return photos


def matplotlib_sample_photo():
    """The path of grace_hopper.jpg in matplotlib's sample data, or None
    where that matplotlib was installed without it."""
    return package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")


def package_file(package, relative_path):
    """The path of a file shipped inside an installed ``package`` (found without importing it), or None
    where the package or the file is missing.

    >>> package_file("matplotlib", "mpl-data/matplotlibrc").name
    'matplotlibrc'
    >>> package_file("no_such_package", "x.jpg") is None
    True
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / relative_path
    return path if path.is_file() else None


def flat_photo(size=512, noise=2.0, seed=0):
    """A photo with nothing in it: mid-grey (128) plus a little Gaussian noise (standard deviation ``noise``
    grey levels, as a camera's sensor adds), ``size`` x ``size`` pixels. A painter paints its strokes over it at
    full strength whatever ``noise`` is (above 0): its first instance normalisation scales the faint noise up to
    unit variance (notebook 10, section 5; :func:`d2lstyle.quality.texture` measures what it paints).

    >>> import numpy as np
    >>> pixels = np.asarray(flat_photo(64), dtype=float)
    >>> round(pixels.mean()), round(pixels.std())
    (128, 2)
    """
    rng = np.random.default_rng(seed)
    pixels = 128 + noise * rng.standard_normal((size, size, 3))
    return Image.fromarray(pixels.clip(0, 255).round().astype(np.uint8))


def photos_in_folder(folder):
    """The image files in ``folder`` (not its subfolders) that Pillow can read, sorted by name."""
    folder = Path(folder)
    if folder.is_file():
        raise ImageError(f"{folder}: is {describe_painter_file(folder)}, not a folder of photos")
    if not folder.is_dir():
        raise ImageError(f"{folder}: no such folder of photos")
    extensions = set(Image.registered_extensions())
    paths = sorted(path for path in folder.iterdir()
                   if path.is_file() and path.suffix.lower() in extensions and not path.name.startswith("."))
    if not paths:
        raise ImageError(f"{folder}: holds no image files (.jpg, .png, ...) to train on")
    return paths


def shrink_for_crops(photo, crop, max_scale=MAX_CROP_SCALE):
    """``photo`` shrunk so that its shorter side is at most ``max_scale * crop``
    pixels, the most :func:`photo_batch` ever uses (a smaller photo is returned
    as it is). Keeps a large collection of photos small in memory.

    >>> shrink_for_crops(Image.new("RGB", (400, 300)), crop=50, max_scale=2).size
    (133, 100)
    """
    width, height = photo.size
    largest = max_scale * crop
    if min(width, height) <= largest:
        return photo
    scale = largest / min(width, height)
    return photo.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)


def photo_batch(photos, crop, batch_size, seed=0, step=0, max_scale=MAX_CROP_SCALE):
    """A batch of random crops of ``photos`` (PIL images): a standardised
    tensor of shape (batch_size, 3, crop, crop).

    Each crop picks a photo, a scale (the photo's shorter side shrunk to
    between ``crop`` and ``max_scale * crop`` pixels, or its own size if
    smaller), a place, and a horizontal flip half of the time. The choices
    depend only on ``seed`` and ``step``, so a resumed run sees exactly the
    batches an uninterrupted one would.

    >>> photo = Image.new("RGB", (60, 40), (200, 100, 50))
    >>> tuple(photo_batch([photo], crop=16, batch_size=2, step=3).shape)
    (2, 3, 16, 16)
    """
    rng = np.random.default_rng([seed, step])
    crops = []
    for _ in range(batch_size):
        photo = photos[rng.integers(len(photos))]
        width, height = photo.size
        short = min(width, height)
        # the shorter side, in pixels, once the photo is scaled: from crop to min(max_scale * crop, short)
        largest = max(crop, min(max_scale * crop, short))
        scaled_short = crop + rng.random() * (largest - crop)
        box_side = crop * short / scaled_short  # the crop's side in the photo's own pixels
        left = rng.random() * (width - box_side) if width > box_side else 0.0
        top = rng.random() * (height - box_side) if height > box_side else 0.0
        box_side = min(box_side, width, height)
        piece = photo.resize((crop, crop), Image.Resampling.BILINEAR,
                             box=(left, top, left + box_side, top + box_side))
        if rng.random() < 0.5:
            piece = piece.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crops.append(images.preprocess(piece))
    return torch.cat(crops)
