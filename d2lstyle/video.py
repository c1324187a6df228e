r"""Moving pictures: clips whose motion is known, optical flow, warping, occlusions and flicker.

Painted one by one, the frames of a clip flicker: each optimisation finds its own strokes. To measure that,
and to ask each frame to agree with the one before it (Ruder et al. 2016, "Artistic style transfer for
videos"), we need to know where each pixel was in the previous frame. One notation throughout:

- frames :math:`I_0, I_1, \dots` are tensors (1, 3, H, W) with values in [0, 1];
- the **flow** of frame t, :math:`u_t`, a tensor (1, 2, H, W), holds for each pixel p = (x, y) of frame t the
  displacement (dx, dy), in pixels, to where the same point was in frame t - 1:
  :math:`I_t(p) \approx I_{t-1}(p + u_t(p))` (the *backward* flow, from t to t - 1);
- **warping** frame t - 1 by :math:`u_t` (:func:`warp`) moves it onto frame t:
  :math:`\omega(I_{t-1})(p) = I_{t-1}(p + u_t(p))`, read between pixels by bilinear interpolation;
- the **mask** :math:`c_t` (1, 1, H, W) is 1 where p was visible in frame t - 1 and 0 where it was hidden
  (occluded) or outside the picture: only there can frame t be asked to agree with the warped frame t - 1.

:func:`make_clip` makes clips from a still photo by panning, zooming and a moving square, so that the flow and
the mask are known exactly; :func:`estimate_flow` estimates the flow of real frames (OpenCV's DIS), and
:func:`consistent_mask` finds occlusions where the forward and backward flows disagree. :func:`warping_error`
measures flicker: how far each frame is from the one before it, warped, where it was visible.

>>> clip = make_clip(torch.rand(1, 3, 60, 80), "pan", frames=3, size=32)
>>> len(clip.frames), tuple(clip.flows[1].shape), round(warping_error(clip.frames, clip.flows, clip.masks), 6)
(3, (1, 2, 24, 32), 0.0)
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .errors import InputError

MOTIONS = ("pan", "zoom", "occluder")


@dataclass
class Clip:
    """A clip whose motion is known: ``flows[t]`` and ``masks[t]`` relate frame t to frame t - 1 (both None
    for the first frame)."""

    frames: list  # (1, 3, H, W) tensors in [0, 1]
    flows: list  # u_t, (1, 2, H, W): frame t -> frame t - 1, in pixels
    masks: list  # c_t, (1, 1, H, W): 1 where the pixel was visible in frame t - 1


def pixel_grid(height, width):
    """(1, 2, H, W): each pixel's own coordinates (x, y), x along the width."""
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                            indexing="ij")
    return torch.stack([xs, ys])[None]


def sample(image, points):
    """``image`` (1, C, H, W) read at ``points`` (1, 2, h, w), pixel coordinates (x, y) with pixel centres at
    whole numbers, by bilinear interpolation; points outside read the nearest border pixel.

    ``grid_sample`` takes coordinates scaled to [-1, 1]; with ``align_corners=True`` -1 and 1 are the centres
    of the first and last pixels, so x in pixels becomes 2 x / (W - 1) - 1.
    """
    height, width = image.shape[-2:]
    scale = torch.tensor([2 / max(width - 1, 1), 2 / max(height - 1, 1)], device=points.device).view(1, 2, 1, 1)
    grid = (points * scale - 1).permute(0, 2, 3, 1)  # (1, h, w, 2), (x, y) last, as grid_sample wants
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def warp(previous, flow):
    r"""Frame t - 1 moved onto frame t: :math:`\omega(I_{t-1})(p) = I_{t-1}(p + u_t(p))`.

    >>> previous = torch.arange(4.0).view(1, 1, 1, 4)             # 0 1 2 3
    >>> warp(previous, torch.tensor([1.0, 0.0]).view(1, 2, 1, 1).expand(1, 2, 1, 4)).flatten().tolist()
    [1.0, 2.0, 3.0, 3.0]
    """
    if previous.dim() != 4 or flow.dim() != 4 or flow.shape[1] != 2 or previous.shape[-2:] != flow.shape[-2:]:
        raise InputError(f"warp needs an image (1, C, H, W) and a flow (1, 2, H, W) of the same size, got "
                         f"{tuple(previous.shape)} and {tuple(flow.shape)}")
    return sample(previous, pixel_grid(*flow.shape[-2:]).to(flow.device) + flow)


def inside(points, height, width):
    """(1, 1, h, w): 1 where ``points`` (1, 2, h, w) lie within the picture's pixel centres, else 0."""
    x, y = points[:, :1], points[:, 1:]
    return ((x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)).float()


def make_clip(photo, motion="pan", frames=24, size=256):
    """A clip of ``frames`` frames of long side ``size`` made from ``photo`` (1, 3, H, W) in [0, 1], with the
    exact flow and mask of every frame.

    - ``"pan"``: a window slides across the photo, 2 pixels right and 1 down per frame (the frames are then
      exactly the last one moved: the shifts are whole pixels);
    - ``"zoom"``: the window closes in on the photo's centre, 1.5 % per frame;
    - ``"occluder"``: the pan, with a grey square that crosses the picture the other way, 5 pixels a frame; the
      pixels the square hides in either frame are masked.

    Each frame t reads the photo at :math:`A_t p + b_t` (a scale and a shift), so the point at p in frame t was
    at :math:`q = (A_t p + b_t - b_{t-1}) / A_{t-1}` in frame t - 1: the flow is q - p, and the mask says
    whether q is inside frame t - 1 (and not under the square).
    """
    if motion not in MOTIONS:
        raise InputError(f"motion must be one of {', '.join(MOTIONS)}, not {motion!r}")
    if not isinstance(frames, int) or frames < 2:
        raise InputError(f"a clip needs at least 2 frames, not {frames!r}")
    if photo.dim() != 4 or photo.shape[:2] != (1, 3):
        raise InputError(f"make_clip needs a photo (1, 3, H, W) in [0, 1], got {tuple(photo.shape)}")
    height, width = (round(size * photo.shape[-2] / photo.shape[-1]), size) if photo.shape[-1] >= photo.shape[-2] \
        else (size, round(size * photo.shape[-1] / photo.shape[-2]))
    # The window covers 70 % of the photo, resized so that one pixel of a frame is one of the photo's: the pan
    # then moves by whole pixels, and no frame reads the photo more coarsely than its pixels (no aliasing).
    photo = F.interpolate(photo, size=(round(height / 0.7), round(width / 0.7)), mode="bilinear",
                          align_corners=False, antialias=True)
    photo_height, photo_width = photo.shape[-2:]
    scale = 1.0
    if motion != "zoom" and round((photo_width - 1) * 0.05) + 2 * (frames - 1) + width > photo_width:
        raise InputError(f"a pan of {frames} frames would leave the photo: at most "
                         f"{(photo_width - width - round((photo_width - 1) * 0.05)) // 2 + 1} frames at size {size}")
    grid = pixel_grid(height, width)
    centre = torch.tensor([(width - 1) / 2, (height - 1) / 2]).view(1, 2, 1, 1)

    def window(t):
        """(a_t, b_t): frame t reads the photo at a_t p + b_t."""
        a = scale * (0.985 ** t if motion == "zoom" else 1.0)
        shift = torch.tensor([2.0 * t, 1.0 * t]).view(1, 2, 1, 1)
        photo_centre = torch.tensor([(photo_width - 1) / 2, (photo_height - 1) / 2]).view(1, 2, 1, 1)
        start = torch.tensor([round((photo_width - 1) * 0.05), round((photo_height - 1) * 0.05)],
                             dtype=torch.float32).view(1, 2, 1, 1)
        b = (photo_centre - a * centre) if motion == "zoom" else start + shift
        return a, b

    def square(t):
        """(1, 1, H, W): 1 under the grey square in frame t."""
        side = max(4, width // 6)
        left, top = width - side - 5 * t, height // 3
        x, y = grid[:, :1], grid[:, 1:]
        return ((x >= left) & (x < left + side) & (y >= top) & (y < top + side)).float()

    clip = Clip([], [None], [None])
    for t in range(frames):
        a, b = window(t)
        frame = sample(photo, a * grid + b).clamp(0, 1)
        if motion == "occluder":
            hidden = square(t)
            frame = frame * (1 - hidden) + 0.5 * hidden
        clip.frames.append(frame)
        if t == 0:
            continue
        previous_a, previous_b = window(t - 1)
        flow = (a * grid + b - previous_b) / previous_a - grid
        mask = inside(grid + flow, height, width)
        if motion == "occluder":  # hidden now, or hidden then where it was
            mask = mask * (1 - square(t)) * (1 - (sample(square(t - 1), grid + flow) > 0).float())
        clip.flows.append(flow)
        clip.masks.append(mask)
    return clip


def consistent_mask(backward, forward, relative=0.01, absolute=0.5):
    r"""Occlusions from the disagreement of two flows (Ruder et al. 2016): 1 where frame t's pixel p was
    visible in frame t - 1, 0 where not.

    ``backward`` is :math:`u_t` (t -> t - 1), ``forward`` the flow from t - 1 to t. Following p back to
    :math:`q = p + u_t(p)` and forward again with the forward flow read there, :math:`v = \text{forward}(q)`,
    should return to p: :math:`u_t(p) + v \approx 0`. Where the point was hidden in frame t - 1 the two flows
    belong to different surfaces and disagree, so p counts as occluded when

    .. math:: |u + v|^2 > \text{relative}\,(|u|^2 + |v|^2) + \text{absolute}

    and also where q is outside the picture.

    >>> shift = torch.tensor([2.0, 0.0]).view(1, 2, 1, 1).expand(1, 2, 4, 6)
    >>> consistent_mask(shift, -shift)[0, 0].tolist()[0]              # the last two columns come from outside
    [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    """
    if backward.shape != forward.shape or backward.dim() != 4 or backward.shape[1] != 2:
        raise InputError(f"consistent_mask needs two flows (1, 2, H, W) of one size, got {tuple(backward.shape)} "
                         f"and {tuple(forward.shape)}")
    height, width = backward.shape[-2:]
    returned = warp(forward, backward)  # v = forward(p + u(p))
    disagreement = ((backward + returned) ** 2).sum(1, keepdim=True)
    allowed = relative * ((backward ** 2).sum(1, keepdim=True) + (returned ** 2).sum(1, keepdim=True)) + absolute
    return (disagreement <= allowed).float() * inside(pixel_grid(height, width).to(backward.device) + backward,
                                                      height, width)


def estimate_flow(frame, previous):
    """The flow :math:`u_t` (1, 2, H, W) from ``frame`` to ``previous`` (both (1, 3, H, W) in [0, 1]),
    estimated by OpenCV's DIS optical flow (Kroeger et al. 2016) on the grey frames: no network, no weights.

    OpenCV's ``calc(I0, I1)`` returns the flow with :math:`I_0(p) \\approx I_1(p + u(p))`: with I0 the frame
    and I1 the previous one, that is :math:`u_t`.
    """
    try:
        import cv2
    except ImportError as missing:  # a dependency of d2lstyle: only a broken installation lacks it
        raise InputError("estimating optical flow needs OpenCV: pip install opencv-python-headless") from missing
    if frame.shape != previous.shape or frame.dim() != 4 or frame.shape[1] != 3:
        raise InputError(f"estimate_flow needs two frames (1, 3, H, W) of one size, got {tuple(frame.shape)} and "
                         f"{tuple(previous.shape)}")

    def grey(image):
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        return ((image.detach().cpu() * weights).sum(1)[0].clamp(0, 1) * 255).round().byte().numpy()

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(grey(frame), grey(previous), None)  # (H, W, 2): dx, dy
    return torch.from_numpy(flow).permute(2, 0, 1)[None].float()


def temporal_loss(image, warped_previous, mask):
    r"""Ruder et al.'s short-term temporal loss: :math:`\frac{1}{D} \sum_k c_k (x_k - \omega_k)^2`, the squared
    difference between the frame being optimised and the previous result warped onto it, where it was visible,
    summed and divided by D, the number of entries of x (so the masked pixels count as agreeing).

    >>> x, w = torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
    >>> float(temporal_loss(x, w, torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])))   # 3 of 12 entries differ by 1
    0.25
    """
    if image.shape != warped_previous.shape or mask.shape[-2:] != image.shape[-2:]:
        raise InputError(f"temporal_loss needs an image, the warped previous frame of the same shape and a mask of "
                         f"its size, got {tuple(image.shape)}, {tuple(warped_previous.shape)}, {tuple(mask.shape)}")
    return (mask * (image - warped_previous) ** 2).sum() / image.numel()


def warping_error(frames, flows, masks):
    r"""Flicker: the mean squared difference between each frame and the one before it warped onto it, over the
    pixels visible in both (and the three channels), averaged over the frame pairs; 0 when every frame is
    exactly the last one moved. Frames in [0, 1].

    .. math:: E = \frac{1}{T - 1} \sum_{t \ge 1} \frac{\sum_p c_t(p) \, |I_t(p) - \omega(I_{t-1})(p)|^2}
              {3 \sum_p c_t(p)}
    """
    if not len(frames) == len(flows) == len(masks) or len(frames) < 2:
        raise InputError(f"warping_error needs at least 2 frames with a flow and a mask each (None for the first), "
                         f"got {len(frames)} frames, {len(flows)} flows and {len(masks)} masks")
    errors = []
    for t in range(1, len(frames)):
        difference = (frames[t] - warp(frames[t - 1], flows[t])) ** 2
        visible = masks[t].sum() * frames[t].shape[1]
        errors.append(float((masks[t] * difference).sum() / visible) if visible > 0 else 0.0)
    return sum(errors) / len(errors)
