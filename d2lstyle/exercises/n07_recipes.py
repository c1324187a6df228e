"""Check for the exercise of notebook 07 (one objective on two networks: converting a preset's weights).
"""

from .harness import _Checks, _call

_RIGHT = ("from torchvision's VGG-19 to the original one, whose features are k times larger: "
          "alpha / k**2, beta / k**4, gamma unchanged")


def check_weights_on_original(weights_on_original):
    """Check ``weights_on_original(weights, k)``: the loss weights (alpha, beta, gamma) set for torchvision's
    VGG-19, converted for the original VGG-19 whose features are ``k`` times larger: (alpha / k^2, beta / k^4,
    gamma). The content loss is a squared feature distance (k^2 larger), the style loss a squared distance of Gram
    matrices, themselves products of two features (k^4), the total variation is measured on the image (unchanged).
    """
    check = _Checks("weights_on_original")
    by_hand = _call(check, weights_on_original, (1.0, 16.0, 3.0), 2.0)
    if not isinstance(by_hand, (tuple, list)) or len(by_hand) != 3:
        check.fail(f"return the three weights (alpha, beta, gamma) as a tuple or a list, not {by_hand!r}")
    by_hand = [float(value) for value in by_hand]
    check.same(by_hand, [0.25, 1.0, 3.0], [
        ([4.0, 256.0, 3.0], "it multiplies where it should divide: the original network's losses are larger, so "
                            "its weights must be smaller to keep the same objective"),
        ([0.5, 4.0, 3.0], "it divides alpha by k and beta by k**2: the losses are squares of features, so alpha "
                          "goes down by k**2 and beta, a square of Gram matrices, by k**4"),
        ([0.25, 4.0, 3.0], "beta is divided by k**2 only: the Gram matrix grows by k**2, and the style loss squares "
                           "its differences, so it grows by k**4"),
        ([0.0625, 1.0, 3.0], "alpha is divided by k**4: the content loss is a square of features, not of Gram "
                             "matrices; it grows by k**2 only"),
        ([0.25, 1.0, 0.75], "gamma changed: the total variation loss is measured on the image, which is the same "
                            "picture on both networks; keep gamma"),
        ([0.25, 1.0, 0.1875], "gamma changed: the total variation loss is measured on the image, which is the same "
                              "picture on both networks; keep gamma"),
        ([1.0, 16.0, 3.0], "it returns the weights unchanged: convert them " + _RIGHT),
    ], "with weights (1, 16, 3) and k = 2 the answer is (1/4, 16/16, 3) = (0.25, 1.0, 3.0), not "
       f"{tuple(by_hand)}: " + _RIGHT)
    k = 255 * 0.226
    d2l = [float(value) for value in _call(check, weights_on_original, (1.0, 1e4, 10.0), k)]
    rounded = [float(f"{value:.1e}") for value in (1.0 / k ** 2, 1e4 / k ** 4)] + [10.0]
    check.same(d2l, [1.0 / k ** 2, 1e4 / k ** 4, 10.0], [(rounded, "do not round the results: the conversion is "
                                                                    "exact; round only where you print them")],
               f"d2l's weights (1, 1e4, 10) with k = 255 * 0.226 "
               f"should become about (3.0e-4, 9.1e-4, 10), not {tuple(d2l)}", atol=1e-12)
    zero = [float(value) for value in _call(check, weights_on_original, (1.0, 1e6, 0.0), k)]
    check.same(zero, [1.0 / k ** 2, 1e6 / k ** 4, 0.0], [],
               f"a weight of 0 stays 0 (no total variation): got {tuple(zero)}", atol=1e-12)
    back = _call(check, weights_on_original, tuple(d2l), 1 / k)
    check.same([float(value) for value in back], [1.0, 1e4, 10.0], [],
               "with 1 / k the conversion must go back to the weights you started from: do not round the results")
    check.done()
