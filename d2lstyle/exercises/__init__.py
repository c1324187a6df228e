"""Checks for the coding exercises of the notebooks: ``check_<name>(your_function)``.

How to use them
---------------
Each coding exercise asks you to write one function (or class) in a cell marked
``# TODO``. The cell after it calls its checker with your function::

    d2lstyle.exercises.check_gram_matrix(gram_matrix)

The checker calls your function on small inputs and tests one property at a
time: the type and shape of the result, a value worked out by hand, symmetry,
behaviour under resizing, where the gradient flows, and agreement with the
reference implementation in d2lstyle. When all is well it prints one line:

>>> import d2lstyle
>>> d2lstyle.exercises.check_gram_matrix(d2lstyle.gram_matrix)
gram_matrix: all 8 checks passed.

Otherwise it stops at the first failed check and raises an ``AssertionError``
whose message names the likely mistake and what to change, for example::

    AssertionError: gram_matrix: it is 60 times too large, which is C*H*W: the
    Gram matrix was not normalised. Divide F @ F.T by C * H * W

The checks recognise typical wrong answers by their fingerprints: a value too
large by exactly C*H*W, a gradient reaching a tensor that should be a fixed
target, a conv output that came back after its ReLU. Passing is strong
evidence, not a proof: the inputs are few and small. If your function still
raises ``NotImplementedError``, the checker says so; write it, run its cell,
then run the check again. The worked solutions are in the notebooks of
``notebooks/`` (the versions with TODO cells are in ``exercises/``).

The checkers of each notebook are in a module of their own, in the series'
order (``n01_images``, ``n02_features``, ... ``n11_troubleshooting``), and share the
harness of :mod:`d2lstyle.exercises.harness`. You may read them, but they give
the answers away: every checker computes the right answer with the reference
implementation.
"""

from .n01_images import check_resize_to_long_side, check_preprocess, check_postprocess
from .n02_features import check_vgg19_layer_names, check_extract_features
from .n03_content import check_content_loss
from .n04_style import check_gram_matrix, check_style_loss
from .n05_total_variation import check_tv_loss
from .n06_training import check_synthesized_image, check_decayed_learning_rate, check_training_step, check_make_closure
from .n06_capstone import check_style_transfer
from .n07_recipes import check_weights_on_original
from .n09_controls import check_match_histogram, check_guided_gram_matrix
from .n10_painter import (check_instance_norm, check_residual_block, check_cosine_learning_rate,
                          check_conditional_instance_norm)
from .n11_troubleshooting import check_symptom
