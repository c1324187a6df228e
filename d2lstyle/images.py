"""Stage 1 of the pipeline: image files in, tensors out, and back again.

VGG-19 was trained on ImageNet photographs whose colour channels were
standardised with the dataset's per-channel mean and standard deviation. We
feed it images standardised the same way:

    x_normalised[c] = (x[c] - mean[c]) / std[c],   x in [0, 1],  c in {R, G, B}

``preprocess`` turns a PIL image into such a tensor of shape (1, 3, H, W);
``postprocess`` undoes it, clamps to the valid range and returns a PIL image.

>>> from PIL import Image
>>> img = Image.new("RGB", (64, 48), (200, 120, 40))
>>> x = preprocess(img, (24, 32))
>>> tuple(x.shape)
(1, 3, 24, 32)
>>> postprocess(x).getpixel((0, 0))
(200, 120, 40)
"""

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError, InputError
from .files import describe_file, validate_output_path, write_atomically

# ImageNet statistics of the RGB channels (values in [0, 1]), used by
# torchvision's pretrained VGG-19.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Refuse images larger than this before decoding them: a 40-megapixel image
# already needs ~0.5 GB as float tensors, and a "decompression bomb" (a tiny
# file that claims gigapixels) must not be allowed to exhaust memory.
DEFAULT_MAX_PIXELS = 40_000_000


def _bundled_images_dir():
    """Where the bundled images are: ``D2LSTYLE_IMAGES`` if set; else the copy an installed wheel carries inside
    the package (``d2lstyle/bundled_images``, see pyproject.toml); else ``images/`` in the repository, for a
    checkout and its editable install."""
    if os.environ.get("D2LSTYLE_IMAGES"):
        return Path(os.environ["D2LSTYLE_IMAGES"])
    package = Path(__file__).resolve().parent
    installed = package / "bundled_images"
    return installed if (installed / "CREDITS.md").is_file() else package.parent / "images"


# The bundled content photographs and style paintings, with their licences in CREDITS.md.
IMAGES_DIR = _bundled_images_dir()


def bundled_image(name):
    """Path of a bundled image: ``"content/rainier.jpg"`` or just ``"rainier"``.

    >>> bundled_image("rainier").name
    'rainier.jpg'
    """
    if not IMAGES_DIR.is_dir():
        raise ImageError(f"the bundled images are not in {IMAGES_DIR}: set D2LSTYLE_IMAGES to the folder that "
                         "holds content/ and style/ (images/ in the repository)")
    direct = IMAGES_DIR / name
    if direct.is_file():
        return direct
    matches = sorted(IMAGES_DIR.glob(f"*/{name}.jpg")) + sorted(IMAGES_DIR.glob(f"*/{name}"))
    if not matches:
        available = ", ".join(p.stem for p in sorted(IMAGES_DIR.glob("*/*.jpg")))
        raise ImageError(f"no bundled image called {name!r}; available: {available}")
    return matches[0]


def bundled_images(kind):
    """Paths of the bundled ``"content"`` or ``"style"`` images, sorted by name.

    >>> [p.stem for p in bundled_images("style")][:2]
    ['composition_vii', 'great_wave']
    """
    return sorted((IMAGES_DIR / kind).glob("*.jpg"))


def load_image(path, max_pixels=DEFAULT_MAX_PIXELS):
    """Read an image file as an 8-bit RGB PIL image, whatever its mode.

    - EXIF orientation is applied, so a phone photo stands the right way up.
    - Transparency (RGBA, LA, palette with a transparent colour) is composited
      over white.
    - Greyscale, 1-bit, palette, CMYK and 16-bit images become RGB; 16-bit
      values v in [0, 65535] are scaled to round(v / 257) in [0, 255].
    - A file over ``max_pixels`` pixels is refused from its header alone,
      before any pixel is decoded.

    Raises :class:`~d2lstyle.errors.ImageError` with a message naming the file
    when it is missing, a folder, empty, not an image, truncated or too large.

    >>> load_image(bundled_image("chelsea")).size
    (451, 300)
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty (0 bytes)")
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise ImageError(
                    f"{path}: {width}x{height} pixels is over the limit of {max_pixels:,} pixels; "
                    "shrink the image first (style transfer works at a few hundred pixels anyway)"
                )
            img.load()
            img = ImageOps.exif_transpose(img)
            return _to_rgb(img)
    except ImageError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageError(f"{path}: refused as a possible decompression bomb ({error})") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: is {describe_file(path)}, not an image file (use PNG or JPEG)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{path}: the image is damaged or truncated ({error})") from None


def _to_rgb(img):
    """Convert a loaded PIL image of any mode to 8-bit RGB."""
    if img.mode == "RGB":
        return img.copy()
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(img, dtype=np.float64)
        if img.mode == "F" and values.max(initial=0) <= 1.0:
            values = values * 255.0
        elif img.mode != "F" and (img.mode.startswith("I;16") or values.max(initial=0) > 255):
            values = values / 257.0
        grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def shape_for_long_side(size, long_side):
    """(height, width) that scales a PIL ``size`` = (width, height) so that its
    longer side is ``long_side``, keeping the aspect ratio.

    >>> shape_for_long_side((1024, 682), 512)
    (341, 512)
    """
    width, height = size
    scale = long_side / max(width, height)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(img, size):
    """Resize a PIL image without distorting it.

    - ``size`` an int: the longer side becomes ``size``, the aspect ratio is kept.
    - ``size`` a pair ``(height, width)``: the image is first cropped around its
      centre to the aspect ratio ``width / height``, then scaled to exactly
      that shape.

    >>> img = Image.new("RGB", (400, 200))
    >>> resize(img, 100).size, resize(img, (50, 50)).size
    ((100, 50), (50, 50))
    """
    if isinstance(size, int):
        height, width = shape_for_long_side(img.size, size)
    else:
        height, width = (int(s) for s in size)
        img_width, img_height = img.size
        if img_width * height != img_height * width:
            # Crop the centre to the target aspect ratio before scaling.
            if img_width * height > img_height * width:
                new_width = max(1, round(img_height * width / height))
                left = (img_width - new_width) // 2
                img = img.crop((left, 0, left + new_width, img_height))
            else:
                new_height = max(1, round(img_width * height / width))
                top = (img_height - new_height) // 2
                img = img.crop((0, top, img_width, top + new_height))
    if (width, height) == img.size:
        return img.copy()
    return img.resize((width, height), Image.Resampling.LANCZOS)


def normalize(pixels):
    """Standardise a (N, 3, H, W) tensor of pixel values in [0, 1] with the
    ImageNet statistics: ``(pixels - mean) / std`` per channel."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=pixels.dtype, device=pixels.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=pixels.dtype, device=pixels.device).view(1, 3, 1, 1)
    return (pixels - mean) / std


def denormalize(x):
    """Undo :func:`normalize`: ``x * std + mean`` per channel (not clamped)."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return x * std + mean


def preprocess(img, image_shape=None):
    """PIL image -> normalised float tensor of shape (1, 3, H, W).

    ``image_shape`` is passed to :func:`resize` (an int long side, or a
    ``(height, width)`` pair); ``None`` keeps the image's own size.

    >>> x = preprocess(Image.new("RGB", (8, 4), (124, 116, 104)))
    >>> tuple(x.shape), round(float(x.abs().max()), 1)  # the ImageNet mean maps to ~0
    ((1, 3, 4, 8), 0.0)
    """
    if not isinstance(img, Image.Image):
        raise TypeError(f"preprocess expects a PIL image (use load_image first), got {type(img).__name__}")
    if img.mode != "RGB":
        img = _to_rgb(img)
    if image_shape is not None:
        img = resize(img, image_shape)
    pixels = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)  # (H, W, 3)
    return normalize(pixels.permute(2, 0, 1).unsqueeze(0).contiguous())


def postprocess(x):
    """Normalised tensor (1, 3, H, W) or (3, H, W) -> 8-bit RGB PIL image.

    Undoes the ImageNet standardisation, clamps to [0, 1] (the optimiser may
    push pixels outside it) and rounds to the nearest of the 256 levels.
    """
    x = x.detach().to("cpu", torch.float32)
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] != 3:
        raise InputError(f"postprocess expects a tensor of shape (1, 3, H, W), got {tuple(x.shape)}")
    pixels = denormalize(x)[0].clamp(0, 1).permute(1, 2, 0)
    return Image.fromarray(torch.round(pixels * 255).to(torch.uint8).numpy())


def as_pil_image(image):
    """``image`` as a PIL image: a normalised (1, 3, H, W) tensor goes through
    :func:`postprocess`, a PIL image is returned as it is.

    >>> as_pil_image(torch.zeros(1, 3, 2, 4)).size
    (4, 2)
    """
    return postprocess(image) if isinstance(image, torch.Tensor) else image


def save_image(image, path, protect=()):
    """Write ``image`` (a PIL image or a normalised tensor) to ``path`` safely.

    - The file is written to a temporary file in the same folder and then
      renamed over ``path``, so an interrupted save never leaves half a file.
    - ``path`` must not be one of the files in ``protect`` (the inputs): a
      stylised image never replaces the photograph it came from.
    - A missing output folder is created.

    Returns the path written.
    """
    path = validate_output_path(path, protect)
    image = as_pil_image(image)
    image_format = Image.registered_extensions()[path.suffix.lower()]
    return write_atomically(path, lambda file: image.save(file, format=image_format), ImageError)
