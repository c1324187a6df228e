"""The figures of d2lstyle.plotting: the pipeline diagram of notebook 00."""

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from d2lstyle import plotting  # noqa: E402


@pytest.fixture
def diagram():
    fig = plotting.pipeline_diagram()
    yield fig
    plt.close(fig)


def test_pipeline_diagram_has_a_title_and_one_box_per_stage(diagram):
    (ax,) = diagram.axes
    assert ax.get_title()
    assert len(ax.patches) == len(plotting.PIPELINE_BOXES)
    texts = " ".join(text.get_text() for text in ax.texts)
    for stage in ("preprocess", "VGG-19", "losses", "optimiser", "postprocess"):
        assert stage in texts


def test_pipeline_diagram_arrows_join_existing_boxes(diagram):
    keys = {box[0] for box in plotting.PIPELINE_BOXES}
    assert all(start in keys and end in keys for start, end, _ in plotting.PIPELINE_ARROWS)
    (ax,) = diagram.axes
    arrows = [child for child in ax.get_children() if isinstance(child, matplotlib.text.Annotation)]
    assert len(arrows) == len(plotting.PIPELINE_ARROWS)


def test_pipeline_diagram_boxes_do_not_overlap(diagram):
    (ax,) = diagram.axes
    extents = [patch.get_extents() for patch in ax.patches]
    for first, second in itertools.combinations(extents, 2):
        assert not first.overlaps(second)


def test_pipeline_diagram_stays_inside_the_axes(diagram):
    (ax,) = diagram.axes
    diagram.canvas.draw()
    frame = ax.get_window_extent()
    for text in ax.texts:
        box = text.get_window_extent()
        assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, text.get_text()
        assert frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1, text.get_text()
