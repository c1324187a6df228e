r"""Stage 3 of the pipeline: the three losses of style transfer.

Notation (used in every notebook): a layer's activations for one image form a
tensor of shape (1, C, H, W): C channels (feature maps), each H x W. Hats mark
the synthesised image: :math:`\hat Y` are its features, :math:`Y` those of
the content image.

- content loss: how far the synthesised image's features are from the content
  image's, at the same positions;
- style loss: how far its Gram matrices (correlations between channels,
  summed over positions, so blind to *where* things are) are from the style
  image's; with a mask, only a region's Gram matrix counts
  (:func:`guided_gram_matrix`), and several paintings add up
  (:func:`styles_loss`, notebook 09);
- total variation loss: how much neighbouring pixels differ, which penalises
  high-frequency noise.

Each function is small and pure; the docstrings give the formula.

>>> import torch
>>> X = torch.ones(1, 2, 2, 2)
>>> gram_matrix(X)
tensor([[0.5000, 0.5000],
        [0.5000, 0.5000]])
"""

import torch

GRAM_NORMALIZATIONS = ("chw", "hw", "none")
REDUCTIONS = ("mean", "sum")
TV_REDUCTIONS = ("mean", "sum", "wrap")
STYLE_DIVISORS = ("none", "chw", "gatys")


def content_loss(Y_hat, Y, reduction="mean"):
    r"""Squared error between features, with no gradient into the target.

    .. math:: L_\text{content} = \frac{1}{C H W} \sum_{c, i, j} (\hat Y_{cij} - Y_{cij})^2

    with ``reduction="mean"`` (as in d2l), or the plain sum with ``"sum"``.
    ``Y`` is detached: it is a fixed target, never something to optimise.

    >>> Y_hat = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    >>> Y = torch.zeros(1, 1, 2, 2)
    >>> content_loss(Y_hat, Y)  # (1 + 4 + 9 + 16) / 4
    tensor(7.5000, grad_fn=<MeanBackward0>)
    """
    _validate_same_shape(Y_hat, Y, "content_loss")
    squared = (Y_hat - Y.detach()).square()
    return _reduce(squared, reduction)


def gram_matrix(X, normalization="chw"):
    r"""The C x C Gram matrix of a feature tensor X of shape (1, C, H, W).

    Flatten X to a matrix F of shape (C, H*W), one row per channel. Then

    .. math:: G = \frac{F F^\top}{n}, \qquad G_{kl} = \frac{1}{n} \sum_{p=1}^{HW} F_{kp} F_{lp}

    Entry (k, l) measures how strongly channels k and l fire together,
    averaged over all positions p: the spatial layout is summed away.
    ``normalization`` chooses n: ``"chw"`` gives n = C*H*W (d2l's
    convention, the default), ``"hw"`` gives n = H*W (TensorFlow's
    tutorial), ``"none"`` gives n = 1 (Gatys et al., Udacity).

    >>> X = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # C=2, H=1, W=2
    >>> gram_matrix(X, "none")  # [[1+4, 3+8], [3+8, 9+16]]
    tensor([[ 5., 11.],
            [11., 25.]])
    >>> gram_matrix(X)  # the same divided by C*H*W = 4
    tensor([[1.2500, 2.7500],
            [2.7500, 6.2500]])
    """
    if X.dim() == 3:
        X = X.unsqueeze(0)
    if X.dim() != 4 or X.shape[0] != 1:
        raise ValueError(f"gram_matrix expects features of shape (1, C, H, W), got {tuple(X.shape)}")
    _, channels, height, width = X.shape
    F = X.reshape(channels, height * width)
    if normalization == "chw":
        n = channels * height * width
    elif normalization == "hw":
        n = height * width
    elif normalization == "none":
        n = 1
    else:
        raise ValueError(f"normalization must be one of {GRAM_NORMALIZATIONS}, not {normalization!r}")
    return (F @ F.T) / n


def style_loss(Y_hat, gram_Y, normalization="chw", reduction="mean"):
    r"""Squared error between the Gram matrix of ``Y_hat`` and a target Gram matrix.

    .. math:: L_\text{style} = \frac{1}{C^2} \sum_{k, l} (\hat G_{kl} - G_{kl})^2

    where :math:`\hat G` = ``gram_matrix(Y_hat, normalization)`` and G =
    ``gram_Y`` is the style image's Gram matrix at the same layer (computed
    once, with the same normalization; it is detached). ``reduction="sum"``
    drops the 1/C^2.

    >>> Y_hat = torch.ones(1, 2, 1, 2)
    >>> style_loss(Y_hat, torch.zeros(2, 2), "none")  # every entry of G_hat is 2
    tensor(4.)
    """
    gram_hat = gram_matrix(Y_hat, normalization)
    if gram_hat.shape != gram_Y.shape:
        raise ValueError(
            f"style_loss: the features have {gram_hat.shape[0]} channels but the target Gram matrix is "
            f"{tuple(gram_Y.shape)}; was the target computed at another layer?"
        )
    return gram_error(gram_hat, gram_Y, reduction)


def gram_error(gram_hat, gram_Y, reduction="mean"):
    r"""The squared error E between two Gram matrices, the heart of every style loss:

    .. math:: E(\hat G, G) = \frac{1}{C^2} \sum_{k, l} (\hat G_{kl} - G_{kl})^2

    with ``reduction="mean"``, the plain sum with ``"sum"``. G = ``gram_Y``
    is a fixed target: it is detached.

    >>> gram_error(torch.tensor([[1.0, 2.0], [2.0, 1.0]]), torch.eye(2))  # (0 + 4 + 4 + 0) / 4
    tensor(2.)
    """
    return _reduce((gram_hat - gram_Y.detach()).square(), reduction)


def guided_gram_matrix(X, T, normalization="chw"):
    r"""The Gram matrix of the features X (1, C, H, W) in the region given by the guide T (1, 1, H, W):

    .. math:: G_T = \operatorname{gram}(T \circ X) \cdot \frac{H W}{\sum_i T_i^2}

    T multiplies every channel at each position (the guided Gram matrix of
    Gatys et al. 2017); the factor rescales it from the region's area to the
    whole image's, so that a guide of ones gives the plain Gram matrix and a
    region is compared with the painting as if it filled the image.
    ``normalization`` is that of :func:`gram_matrix`; a mask is brought to a
    layer's size by :func:`d2lstyle.masks.mask_at_layer`.

    >>> X = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # C=2, H=1, W=2
    >>> guided_gram_matrix(X, torch.tensor([[[[1.0, 0.0]]]]), "none")  # only the first position, x 2
    tensor([[ 2.,  6.],
            [ 6., 18.]])
    """
    area = T.square().sum()
    if float(area) == 0:
        raise ValueError("guided_gram_matrix: the guide is 0 everywhere, so the region is empty")
    height, width = X.shape[-2:]
    return gram_matrix(X * T, normalization) * (height * width / area)


def styles_loss(Y_hat, layer, targets, normalization="chw", reduction="mean"):
    r"""The style loss of several paintings, maybe each in its own region, at one layer:

    .. math:: \sum_s w_s \, \frac{\sum_i (T^l_{s,i})^2}{M_l} \, E(G^l_{T_s}(x), G^l(a_s))

    with each painting's blend weight w_s, its guide T^l_s at this layer, the
    guided Gram matrix of :func:`guided_gram_matrix` and E the squared error
    of :func:`style_loss` (:func:`gram_error`: its mean, or its sum with
    ``reduction="sum"``). The area factor makes each pixel's pull as strong
    as in a run with one painting everywhere, however small its region. A
    painting without a guide counts everywhere (factor 1); one whose region
    is empty at this layer adds nothing. ``targets`` are one
    :class:`d2lstyle.objective.StyleTarget` per painting (its ``weight``,
    ``grams`` and ``guides``, by layer name).

    >>> from d2lstyle.objective import StyleTarget
    >>> Y_hat = torch.ones(1, 2, 1, 2)  # its Gram matrix is 2 everywhere ("none")
    >>> zero = StyleTarget(weight=0.5, grams={"relu1_1": torch.zeros(2, 2)}, guides={})
    >>> styles_loss(Y_hat, "relu1_1", [zero], "none")  # 0.5 * style_loss(Y_hat, 0) = 0.5 * 4
    tensor(2.)
    """
    total = Y_hat.new_zeros(())
    height, width = Y_hat.shape[-2:]
    for target in targets:
        guide = target.guides.get(layer)
        if guide is None:
            gram, area = gram_matrix(Y_hat, normalization), 1.0
        else:
            area = guide.square().sum() / (height * width)
            if float(area) == 0:
                continue
            gram = guided_gram_matrix(Y_hat, guide, normalization)
        total = total + target.weight * area * gram_error(gram, target.grams[layer], reduction)
    return total


def style_divisor(kind, shape):
    r"""The extra divisor some recipes apply to each layer's style loss.

    For features of shape (1, C, H, W) with M = H*W positions:

    - ``"none"``: 1;
    - ``"chw"``: C*H*W (the Udacity exercise divides each layer's loss by the
      size of its feature map);
    - ``"gatys"``: 4 C^2 M^2, from Gatys et al.'s
      :math:`E_l = \frac{1}{4 N_l^2 M_l^2} \sum (G - A)^2` with N_l = C.

    >>> style_divisor("gatys", (1, 2, 3, 1))
    144
    """
    _, channels, height, width = shape
    if kind == "none":
        return 1
    if kind == "chw":
        return channels * height * width
    if kind == "gatys":
        return 4 * channels**2 * (height * width) ** 2
    raise ValueError(f"style divisor must be 'none', 'chw' or 'gatys', not {kind!r}")


def tv_loss(Y_hat, reduction="mean"):
    r"""Total variation: how much neighbouring pixels differ.

    For an image of shape (N, C, H, W), with vertical differences
    :math:`\Delta^h_{cij} = \hat Y_{c,i+1,j} - \hat Y_{c,i,j}` and horizontal
    ones :math:`\Delta^w_{cij} = \hat Y_{c,i,j+1} - \hat Y_{c,i,j}`:

    .. math:: L_\text{TV} = \tfrac12 \left(\operatorname{mean} |\Delta^h| + \operatorname{mean} |\Delta^w|\right)

    with ``reduction="mean"`` (d2l's definition), or
    :math:`\sum |\Delta^h| + \sum |\Delta^w|` with ``reduction="sum"``
    (TensorFlow's ``tf.image.total_variation``). Absolute, not squared,
    differences: edges cost in proportion to their height, so they survive.

    ``reduction="wrap"`` reproduces a common shortcut, differences taken with
    ``torch.roll``: :math:`\operatorname{mean} |\hat Y - \operatorname{roll}_h \hat Y|
    + \operatorname{mean} |\hat Y - \operatorname{roll}_w \hat Y|`. ``roll`` wraps around,
    so the last row is also compared with the first (and the last column with
    the first): a picture whose top and bottom differ pays for an edge it
    does not have.

    >>> checkerboard = torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]]])
    >>> tv_loss(checkerboard)  # every neighbour differs by 1
    tensor(1.)
    >>> ramp = torch.tensor([[[[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]]])  # steps of 1 along each row
    >>> tv_loss(ramp), tv_loss(ramp, "wrap")  # (0 + 1) / 2; 0 + (2 + 1 + 1) / 3: the end wraps to the start
    (tensor(0.5000), tensor(1.3333))
    """
    if Y_hat.dim() != 4:
        raise ValueError(f"tv_loss expects an image of shape (N, C, H, W), got {tuple(Y_hat.shape)}")
    dh = (Y_hat[:, :, 1:, :] - Y_hat[:, :, :-1, :]).abs()
    dw = (Y_hat[:, :, :, 1:] - Y_hat[:, :, :, :-1]).abs()
    if reduction == "mean":
        return 0.5 * (dh.mean() + dw.mean())
    if reduction == "sum":
        return dh.sum() + dw.sum()
    if reduction == "wrap":
        return ((Y_hat - torch.roll(Y_hat, 1, dims=2)).abs().mean()
                + (Y_hat - torch.roll(Y_hat, 1, dims=3)).abs().mean())
    raise ValueError(f"reduction must be one of {TV_REDUCTIONS}, not {reduction!r}")


def _reduce(values, reduction):
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    raise ValueError(f"reduction must be 'mean' or 'sum', not {reduction!r}")


def _validate_same_shape(Y_hat, Y, name):
    if Y_hat.shape != Y.shape:
        raise ValueError(f"{name}: features of shape {tuple(Y_hat.shape)} and {tuple(Y.shape)} do not match")
