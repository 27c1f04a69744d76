import matplotlib.pyplot as plt
import numpy as np

from panneuro.figures.save import save_figure


def _figure():
    fig, ax = plt.subplots()
    ax.plot(np.arange(10), np.arange(10) ** 2)
    ax.set_title("x")
    return fig


def test_figures_are_byte_identical_across_saves(tmp_path):
    save_figure(_figure(), tmp_path / "a.pdf", tmp_path / "a.png")
    save_figure(_figure(), tmp_path / "b.pdf", tmp_path / "b.png")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")
    assert b"CreationDate" not in (tmp_path / "a.pdf").read_bytes()
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
