"""Tests of panneuro.results.display: notebook figures rendered as the workflow saves them."""

import shutil

import matplotlib.pyplot as plt
import pytest
from compendium import ROOT

from panneuro.figures.save import save_figure
from panneuro.results import FIGURES_ENV, figures_dir, open_run, show


@pytest.fixture
def compendium(tmp_path):
    """A compendium folder: the repository's config and sample sheet."""
    (tmp_path / "Snakefile").write_text("# stand-in\n")
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path


def test_show_renders_and_saves_as_the_workflow_does(tmp_path, compendium, monkeypatch):
    def figure():
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [1, 0])
        return fig

    shown = show(figure())
    assert shown._repr_png_().startswith(b"\x89PNG") and shown.path is None
    saved = show(figure(), "line", folder=tmp_path)
    save_figure(figure(), tmp_path / "ref.pdf", tmp_path / "ref.png")
    assert saved.path == tmp_path / "line.png"
    assert saved.data == (tmp_path / "ref.png").read_bytes() == shown.data
    assert (tmp_path / "line.pdf").read_bytes() == (tmp_path / "ref.pdf").read_bytes()
    with pytest.raises(ValueError, match="folder="):
        show(figure(), "line")
    monkeypatch.setenv(FIGURES_ENV, str(tmp_path / "out"))
    assert figures_dir(open_run(compendium)) == tmp_path / "out"
    assert (tmp_path / "out").is_dir()
