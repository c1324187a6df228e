"""The training loop's pieces (notebook 06), and stylise running exactly those pieces."""

import pytest
import torch
from PIL import Image

import d2lstyle
from d2lstyle import devices, objective, training


@pytest.fixture(scope="module")
def vgg():
    return d2lstyle.load_vgg19("random", seed=0)


@pytest.fixture(scope="module")
def pictures():
    return Image.new("RGB", (32, 32), (30, 90, 160)), Image.new("RGB", (32, 32), (220, 180, 40))


def test_decayed_learning_rate_matches_torch_step_lr():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.8)
    for step in range(160):
        assert training.decayed_learning_rate(step, 0.3, 50, 0.8) == pytest.approx(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert training.decayed_learning_rate(1000, 0.3, 0, 0.8) == 0.3  # every=0: no decay


def test_training_step_zeroes_gradients_and_returns_a_float():
    synthesized = training.SynthesizedImage(torch.zeros(1, 3, 2, 2))
    optimizer = torch.optim.SGD(synthesized.parameters(), lr=1.0)
    loss_fn = lambda x: (x * torch.tensor(2.0)).sum()  # gradient 2 everywhere  # noqa: E731
    losses = [training.training_step(synthesized, optimizer, loss_fn) for _ in range(3)]
    assert all(type(loss) is float for loss in losses)
    assert losses == [0.0, -48.0, -96.0]  # each step moves every pixel by -2 (not -2, -4, -6)
    assert torch.equal(synthesized(), torch.full((1, 3, 2, 2), -6.0))


def test_make_closure_zeroes_gradients_and_returns_the_loss_tensor():
    synthesized = training.SynthesizedImage(torch.ones(1, 3, 2, 2))
    optimizer = torch.optim.LBFGS(synthesized.parameters())
    closure = training.make_closure(synthesized, optimizer, lambda x: (x ** 2).sum())
    for _ in range(2):
        loss = closure()
        assert isinstance(loss, torch.Tensor) and loss.item() == 12.0
        assert torch.equal(synthesized.weight.grad, torch.full((1, 3, 2, 2), 2.0))  # not accumulated


def test_a_hand_written_adam_loop_reproduces_stylise(vgg, pictures):
    # Notebook 06 claims stylise runs the loop it writes by hand; check it. (With the same memory layout:
    # another one rounds differently, and Adam's first steps amplify that to ~0.2 % here.)
    content_img, style_img = pictures
    recipe = d2lstyle.get_recipe("d2l").replace(image_size=(32, 32), steps=6, lr_decay_every=3)
    content_x = d2lstyle.preprocess(content_img, (32, 32))
    style_x = d2lstyle.preprocess(style_img, (32, 32))
    extractor = d2lstyle.FeatureExtractor(vgg, recipe.layers())
    targets = objective.compute_targets(extractor, content_x, style_x, recipe)
    synthesized = training.SynthesizedImage(content_x)
    optimizer = torch.optim.Adam(synthesized.parameters(), lr=recipe.lr)
    losses = []
    for step in range(recipe.steps):
        for group in optimizer.param_groups:
            group["lr"] = training.decayed_learning_rate(step, recipe.lr, recipe.lr_decay_every,
                                                         recipe.lr_decay_factor)
        losses.append(training.training_step(
            synthesized, optimizer,
            lambda x: objective.loss_terms(x, extractor(devices.fast_layout(x)), targets, recipe)["total"]))
    result = d2lstyle.stylise(content_img, style_img, recipe, vgg, progress=False)
    assert result.history["total"] == pytest.approx(losses, rel=1e-5)
    assert torch.allclose(result.image, synthesized().detach(), atol=1e-5)


def test_lbfgs_without_line_search_takes_the_same_steps_for_a_scaled_objective():
    """Why the default recipe states beta / alpha alone: L-BFGS normalises its first step by |g|_1 and
    scales later ones by its curvature estimate, so 100 times the loss gives the same iterates."""
    target = torch.linspace(-1.0, 2.0, 12, dtype=torch.float64).view(1, 3, 2, 2)  # float64: no rounding noise

    def iterates(scale):  # x at each of the first 8 loss evaluations of one step (up to 20 iterations)
        x = torch.zeros(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
        optimizer = training.make_optimizer(d2lstyle.get_recipe("default"), [x])
        path = []

        def closure():
            path.append(x.detach().clone())
            optimizer.zero_grad()
            loss = scale * ((x - target) ** 4).sum() + scale * (x ** 2).sum()  # not a quadratic
            loss.backward()
            return loss

        optimizer.step(closure)
        return torch.stack(path[:8])

    one, hundred = iterates(1.0), iterates(100.0)
    assert not torch.allclose(one[0], one[-1])  # it moved
    torch.testing.assert_close(one, hundred, rtol=1e-9, atol=1e-9)


def colour_moments(pixels):
    """Mean colour and 3 x 3 covariance, computed with numpy (independently of d2lstyle.colour)."""
    import numpy as np

    colours = pixels[0].reshape(3, -1).double().numpy()
    return colours.mean(axis=1), np.cov(colours, bias=True)


def test_the_recoloured_start_has_the_paintings_colour_statistics_and_the_photos_layout():
    generator = torch.Generator().manual_seed(0)
    # Colours well inside [0, 1], so that the clipping leaves them alone.
    photo = 0.3 + 0.3 * torch.rand(1, 3, 12, 16, generator=generator)
    painting = 0.4 + 0.2 * torch.rand(1, 3, 9, 9, generator=generator)
    painting[:, 2] = 0.5 * painting[:, 0] + 0.2  # correlated channels: the covariance is not diagonal
    start = d2lstyle.denormalize(training.recoloured_photo(d2lstyle.normalize(photo), d2lstyle.normalize(painting)))
    assert start.shape == photo.shape and 0 < start.min() and start.max() < 1
    mean, cov = colour_moments(start)
    painting_mean, painting_cov = colour_moments(painting)
    assert mean == pytest.approx(painting_mean, abs=1e-5) and cov == pytest.approx(painting_cov, abs=1e-5)
    # Each pixel's colour is the same affine function of the photo's: the layout is the photo's.
    colours, recoloured = photo[0].reshape(3, -1).double(), start[0].reshape(3, -1).double()
    design = torch.cat([colours, torch.ones(1, colours.shape[1], dtype=torch.float64)])
    fit = torch.linalg.lstsq(design.T, recoloured.T).solution
    assert torch.allclose(design.T @ fit, recoloured.T, atol=1e-5)


def test_stylise_starts_from_the_recoloured_photo(vgg, pictures):
    photo, painting = Image.open(d2lstyle.bundled_image("chelsea")).convert("RGB"), pictures[1]
    recipe = d2lstyle.get_recipe("default").replace(image_size=32, steps=2, init="recoloured")
    starts = []
    d2lstyle.stylise(photo, painting, recipe, vgg, progress=False,
                     callbacks=[lambda info: starts.append(info.image.clone()) if info.step == 1 else None])
    shape = tuple(starts[0].shape[-2:])
    expected = training.recoloured_photo(d2lstyle.preprocess(photo, shape), d2lstyle.preprocess(painting, shape))
    assert torch.allclose(starts[0], expected, atol=1e-5)
    flat_yellow = d2lstyle.denormalize(starts[0])  # the painting is one flat yellow: so is the start
    assert torch.allclose(flat_yellow.mean(dim=(2, 3)).flatten(), torch.tensor([220, 180, 40]) / 255, atol=0.01)
    with pytest.raises(d2lstyle.RecipeError, match="init='recoloured' needs a style image"):
        d2lstyle.stylise(photo, None, recipe.replace(style_layers={}), vgg, progress=False)


def test_several_paintings_give_the_colours_of_their_blend():
    generator = torch.Generator().manual_seed(1)
    photo = 0.3 + 0.3 * torch.rand(1, 3, 10, 10, generator=generator)
    reds = torch.tensor([0.6, 0.3, 0.3]).view(1, 3, 1, 1) + 0.05 * torch.rand(1, 3, 4, 6, generator=generator)
    blues = torch.tensor([0.3, 0.3, 0.6]).view(1, 3, 1, 1) + 0.05 * torch.rand(1, 3, 6, 6, generator=generator)
    paintings = [d2lstyle.normalize(reds), d2lstyle.normalize(blues)]

    def start(weights):
        return d2lstyle.denormalize(training.recoloured_photo(d2lstyle.normalize(photo), paintings, weights))

    # Weights in proportion to the pixel counts (24 and 36): the mixture's moments are those of all the pixels
    # together, computed here by numpy from the pixels themselves.
    pooled = torch.cat([reds.flatten(2), blues.flatten(2)], dim=2)[..., None]
    mean, cov = colour_moments(start((24, 36)))
    pooled_mean, pooled_cov = colour_moments(pooled)
    assert mean == pytest.approx(pooled_mean, abs=1e-5) and cov == pytest.approx(pooled_cov, abs=1e-5)
    # Equal weights by default; a painting of weight 0 plays no part: exactly the run with the other alone.
    assert torch.allclose(start(None).mean(dim=(2, 3)), (reds.mean(dim=(2, 3)) + blues.mean(dim=(2, 3))) / 2,
                          atol=1e-4)
    alone = d2lstyle.denormalize(training.recoloured_photo(d2lstyle.normalize(photo), paintings[0]))
    assert torch.equal(start((1.0, 0.0)), alone)


# --- the balance of beta for a pair (recipe.balance_cap, objective.balance_factor) ---------------


def textured(seed, size=(40, 32)):
    """A picture with texture everywhere (flat colours would give features with no structure to compare)."""
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.rand(size[1], size[0], 3, generator=generator)
    return Image.fromarray((pixels * 255).round().byte().numpy())


def by_hand(vgg, recipe, photo, painting, shape):
    """L_style(p) and L_content(a), unweighted, from the features with the Gram matrices written out."""
    extract = d2lstyle.FeatureExtractor(vgg, recipe.layers())
    p, a_styled, a_content = (d2lstyle.preprocess(picture, shape) for picture in (photo, painting, painting))
    features_p, features_a = extract(p), extract(a_styled)

    def gram(features):
        _, channels, height, width = features.shape
        flat = features.reshape(channels, height * width).double()
        return flat @ flat.T / (channels * height * width)

    style = sum(weight * (gram(features_p[name]) - gram(features_a[name])).square().mean()
                for name, weight in recipe.style_layers.items())
    content = sum(weight * (extract(a_content)[name] - features_p[name]).double().square().mean()
                  for name, weight in recipe.content_layers.items())
    return float(style), float(content)


def test_balance_factor_is_the_cap_over_q_computed_by_hand(vgg):
    photo, painting = textured(1), textured(2)
    recipe = d2lstyle.get_recipe("default").replace(image_size=(32, 40), init="content")
    style_of_photo, content_of_painting = by_hand(vgg, recipe, photo, painting, (32, 40))
    q = style_of_photo / content_of_painting
    extract = d2lstyle.FeatureExtractor(vgg, recipe.layers())
    p, a = d2lstyle.preprocess(photo, (32, 40)), d2lstyle.preprocess(painting, (32, 40))
    targets = objective.compute_targets(extract, p, a, recipe)
    for cap, expected in ((q / 4, 0.25), (q / 2, 0.5), (2 * q, 1.0), (0.0, 1.0)):
        factor = objective.balance_factor(extract, p, [a], targets, recipe.replace(balance_cap=cap))
        assert factor == pytest.approx(expected, rel=1e-4)


def test_stylise_runs_with_beta_times_the_factor_and_a_raised_beta_stays_raised(vgg):
    photo, painting = textured(1), textured(2)
    recipe = d2lstyle.get_recipe("default").replace(image_size=(32, 40), init="content", steps=1)
    style_of_photo, content_of_painting = by_hand(vgg, recipe, photo, painting, (32, 40))
    q = style_of_photo / content_of_painting
    capped = recipe.replace(balance_cap=q / 4)
    for beta in (100.0, 200.0):  # the factor scales beta: a user who doubles beta doubles what runs
        result = d2lstyle.stylise(photo, painting, capped.replace(style_weight=beta), vgg, progress=False)
        assert result.recipe.style_weight == pytest.approx(beta / 4, rel=1e-4)
        # the first evaluation is at x = p: its style term is the weight that ran times L_style(p)
        assert result.history["style"][0] == pytest.approx(beta / 4 * style_of_photo, rel=1e-4)
    uncapped = d2lstyle.stylise(photo, painting, recipe.replace(balance_cap=2 * q), vgg, progress=False)
    assert uncapped.recipe.style_weight == recipe.style_weight


def test_a_painting_with_blend_weight_zero_plays_no_part_in_the_balance(vgg):
    photo, painting, other = textured(1), textured(2), textured(3)
    recipe = d2lstyle.get_recipe("default").replace(image_size=(32, 40), init="content", steps=1)
    style_of_photo, content_of_painting = by_hand(vgg, recipe, photo, painting, (32, 40))
    capped = recipe.replace(balance_cap=style_of_photo / content_of_painting / 2)
    alone = d2lstyle.stylise(photo, painting, capped, vgg, progress=False)
    with_zero = d2lstyle.stylise(photo, [painting, other], capped, vgg, progress=False,
                                 controls=d2lstyle.Controls(blend=(1.0, 0.0)))
    assert alone.recipe.style_weight == pytest.approx(50.0, rel=1e-4)
    assert with_zero.recipe.style_weight == pytest.approx(alone.recipe.style_weight, rel=1e-6)


@pytest.mark.parametrize("cap", [-0.5, float("nan"), float("inf"), "0.3"])
def test_a_bad_balance_cap_is_refused_with_its_name(cap):
    with pytest.raises(d2lstyle.RecipeError, match="balance_cap"):
        d2lstyle.get_recipe("default").replace(balance_cap=cap)
