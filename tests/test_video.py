"""Clips with known motion, warping, occlusions, optical flow and the flicker measure (d2lstyle.video)."""

import pytest
import torch

import d2lstyle
from d2lstyle import images, video
from d2lstyle.errors import InputError


@pytest.fixture(scope="module")
def photo():
    return images.denormalize(images.preprocess(d2lstyle.load_image(d2lstyle.bundled_image("tubingen")), (192, 256)))


def test_warp_reads_each_pixel_where_the_flow_points():
    previous = torch.arange(12.0).view(1, 1, 3, 4)
    flow = torch.zeros(1, 2, 3, 4)
    flow[:, 0], flow[:, 1] = 1.0, -1.0  # one pixel right, one up
    warped = video.warp(previous, flow)
    for y in range(3):
        for x in range(4):  # by hand: previous at (x + 1, y - 1), the border repeated outside
            assert warped[0, 0, y, x] == previous[0, 0, max(y - 1, 0), min(x + 1, 3)]
    half = video.warp(previous, torch.cat([torch.full((1, 1, 3, 4), 0.5), torch.zeros(1, 1, 3, 4)], 1))
    assert torch.allclose(half[..., :3], (previous[..., :3] + previous[..., 1:]) / 2)  # halfway between pixels


def test_warp_passes_gradients_to_the_image_and_the_flow():
    previous = torch.rand(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    flow = (torch.rand(1, 2, 5, 6, dtype=torch.float64) * 2 - 1).requires_grad_()
    assert torch.autograd.gradcheck(lambda image: video.warp(image, flow.detach()), (previous,))
    video.warp(previous, flow).sum().backward()
    assert flow.grad is not None and flow.grad.abs().sum() > 0


@pytest.mark.parametrize("motion", video.MOTIONS)
def test_each_synthetic_frame_is_the_last_one_moved_by_its_flow(photo, motion):
    clip = video.make_clip(photo, motion, frames=6, size=128)
    assert len(clip.frames) == len(clip.flows) == len(clip.masks) == 6
    for t in range(1, 6):
        def error(flow):
            return float(((clip.frames[t] - video.warp(clip.frames[t - 1], flow)) ** 2 * clip.masks[t]).sum())

        true = error(clip.flows[t])
        # the true flow explains the change far better than standing still, and better than a flow a little
        # too short or too long (the zoom's frames are read between the photo's pixels: not exact)
        assert true < (1e-8 if motion != "zoom" else 0.3) * error(0 * clip.flows[t]), (motion, t)
        assert true < min(error(0.8 * clip.flows[t]), error(1.2 * clip.flows[t])), (motion, t)
        # zooming in, every pixel was in the last frame; panning, some came in from outside (or from the square)
        assert float(clip.masks[t].mean()) == 1.0 if motion == "zoom" else 0.6 < float(clip.masks[t].mean()) < 1.0
    if motion == "pan":  # 2 pixels right and 1 down per frame, times the window's scale
        assert torch.allclose(clip.flows[1], clip.flows[1][:, :, :1, :1].expand_as(clip.flows[1]))
        assert clip.flows[1][0, 0, 0, 0] > 0 and clip.flows[1][0, 1, 0, 0] > 0


def test_the_occluders_mask_hides_the_square_in_both_frames(photo):
    clip = video.make_clip(photo, "occluder", frames=3, size=128)
    grey = (clip.frames[2] == 0.5).all(1, keepdim=True).float()  # the square now
    assert grey.sum() > 100 and (clip.masks[2] * grey).sum() == 0
    pan = video.make_clip(photo, "pan", frames=3, size=128)
    assert clip.masks[2].sum() < pan.masks[2].sum() - grey.sum() + 1  # also where it was before


def test_the_forward_backward_check_finds_the_pixels_that_disagree():
    backward = torch.zeros(1, 2, 8, 8)
    backward[:, 0] = -1.0  # everything came from one pixel to the left
    forward = -backward.clone()
    forward[:, :, 2:5, 2:5] = torch.tensor([4.0, 3.0]).view(1, 2, 1, 1)  # another surface moved here
    mask = video.consistent_mask(backward, forward)
    expected = torch.ones(1, 1, 8, 8)
    expected[..., 2:5, 3:6] = 0  # p + u(p) lands in the other surface's pixels
    expected[..., :, 0] = 0  # from outside the picture
    assert torch.equal(mask, expected)


def test_estimated_flow_of_a_pan_is_within_a_pixel_away_from_the_borders(photo):
    clip = video.make_clip(photo, "pan", frames=3, size=256)
    for t in (1, 2):
        estimated = video.estimate_flow(clip.frames[t], clip.frames[t - 1])
        endpoint = ((estimated - clip.flows[t]) ** 2).sum(1).sqrt()[0, 8:-8, 8:-8]
        assert float(endpoint.mean()) < 1.0, float(endpoint.mean())
        assert float(endpoint.mean()) < 0.2 * float(clip.flows[t].norm(dim=1).mean())  # not the zero flow


def test_the_warping_error_is_zero_for_moved_frames_and_counts_visible_pixels_only():
    frames = [torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.5)]
    flows = [None, torch.zeros(1, 2, 4, 4)]
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1
    assert video.warping_error(frames, flows, [None, mask]) == pytest.approx(0.25)  # 0.5 squared
    frames[1][..., 2:, :] = 9.0  # the masked pixels do not count
    assert video.warping_error(frames, flows, [None, mask]) == pytest.approx(0.25)
    assert video.warping_error([frames[0], frames[0]], flows, [None, mask]) == 0


def test_the_temporal_loss_is_ruders_with_its_gradient():
    x = torch.rand(1, 3, 5, 5, requires_grad=True)
    warped, mask = torch.rand(1, 3, 5, 5), (torch.rand(1, 1, 5, 5) > 0.5).float()
    loss = video.temporal_loss(x, warped, mask)
    assert float(loss.detach()) == pytest.approx(float((mask * (x.detach() - warped) ** 2).sum() / 75))
    loss.backward()
    assert torch.allclose(x.grad, 2 * mask * (x - warped) / 75)


@pytest.mark.parametrize("call, words", [
    (lambda: video.make_clip(torch.rand(1, 3, 20, 20), "spin"), "motion must be one of"),
    (lambda: video.make_clip(torch.rand(1, 3, 20, 20), "pan", frames=1), "at least 2 frames"),
    (lambda: video.make_clip(torch.rand(3, 20, 20), "pan"), "needs a photo (1, 3, H, W)"),
    (lambda: video.warp(torch.rand(1, 3, 4, 4), torch.rand(1, 2, 4, 5)), "of the same size"),
    (lambda: video.consistent_mask(torch.rand(1, 2, 4, 4), torch.rand(1, 2, 5, 4)), "of one size"),
    (lambda: video.estimate_flow(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 5)), "of one size"),
    (lambda: video.warping_error([torch.rand(1, 3, 4, 4)], [None], [None]), "at least 2 frames"),
    (lambda: video.temporal_loss(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 5), torch.ones(1, 1, 4, 4)),
     "of the same shape"),
])
def test_bad_input_gets_a_clear_error(call, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()
