"""Every notebook of notebooks/ runs headless on the tiny run's results (nbclient).

The notebooks are jupytext ``.py`` files; each is converted and executed in a fresh kernel with
``PANNEURO_ROOT`` pointing at the session's ``tiny_run`` (read-only: the figures the notebooks
save go to a temporary folder, ``PANNEURO_NOTEBOOK_FIGURES``). A notebook fails on any error
or any cell whose last statement is an expression but which shows nothing; the paper figures it
redraws must be byte-identical to the workflow's ``results/figures/*.png``.
"""

import ast
import os
import time
from pathlib import Path
from unittest import mock

import jupytext
import pytest
from compendium import ROOT
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from s3server import S3_KEYS, moto_s3, s3_client, upload_files

from panneuro.results import FIGURES_ENV, ROOT_ENV

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))

pytestmark = pytest.mark.workflow


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under ``folder``: a cheap fingerprint of its content."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def _ends_with_expression(source: str) -> bool:
    """True when a code cell's last statement is a bare expression (Jupyter shows it)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    body = ast.parse("\n".join(lines)).body
    return (
        bool(body)
        and isinstance(body[-1], ast.Expr)
        and not (isinstance(body[-1].value, ast.Constant))
    )


#: What notebook 02 reads in place from the bucket (a run's layout on S3 storage).
BUCKET_FILES = ("config/*", "results/nwb/*.nwb", "results/ephys/*/*/*/waveforms.npz")


@pytest.fixture(scope="module")
def executed(tiny_run, tmp_path_factory):
    """Run every notebook once on ``tiny_run``; name → (notebook, error, figures folder, s).

    The tiny run's NWB files and what goes with them are also in a bucket of a moto server
    (``PANNEURO_S3_RUN``): notebook 02 reads a unit from there.
    """
    with moto_s3(tmp_path_factory.mktemp("moto") / "moto.log") as url:
        client = s3_client(url)
        client.create_bucket(Bucket="panneuro-notebooks")
        upload_files(client, tiny_run, "panneuro-notebooks", "tiny", BUCKET_FILES)
        bucket = {
            "PANNEURO_S3_RUN": "s3://panneuro-notebooks/tiny",
            "AWS_ENDPOINT_URL": url,
            **S3_KEYS,
        }
        return _execute_all(tiny_run, tmp_path_factory, bucket)


def _execute_all(tiny_run, tmp_path_factory, bucket: dict[str, str]) -> dict:
    before = _listing(tiny_run)
    results = {}
    for path in NOTEBOOKS:
        workdir = tmp_path_factory.mktemp(path.stem)
        figures = workdir / "figures"
        notebook = jupytext.read(path)
        client = NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(workdir)}},
        )
        env = {ROOT_ENV: str(tiny_run), FIGURES_ENV: str(figures), **bucket}
        start = time.perf_counter()
        error = None
        with mock.patch.dict(os.environ, env):
            try:
                client.execute()
            except CellExecutionError as exc:
                error = str(exc)
        results[path.stem] = (notebook, error, figures, time.perf_counter() - start)
        print(f"{path.name}: executed in {results[path.stem][3]:.1f} s")  # shown with -s
    results["_tiny_run_unchanged"] = before == _listing(tiny_run)
    return results


def test_there_is_a_notebook_per_figure_family_and_a_tour():
    names = [p.stem for p in NOTEBOOKS]
    assert names[0] == "00_pipeline_tour"
    assert len(names) == 6, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_and_shows_every_output(executed, path):
    notebook, error, figures, seconds = executed[path.stem]
    assert error is None, f"{path.name} failed after {seconds:.1f} s:\n{error[-3000:]}"
    silent = []
    images = 0
    for k, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], (path.name, k)
        images += sum("image/png" in o.get("data", {}) for o in cell.outputs)
        if _ends_with_expression(cell.source) and not cell.outputs:
            silent.append(cell.source.splitlines()[-1])
    assert not silent, f"{path.name}: cells show nothing: {silent}"
    assert images >= 2, f"{path.name}: {images} figure(s) shown"
    assert any(figures.glob("*.png")), f"{path.name} saved no figure"


def test_notebook_figures_are_the_workflow_figures_byte_for_byte(executed, tiny_run):
    workflow = {p.name: p.read_bytes() for p in (tiny_run / "results" / "figures").glob("*.png")}
    redrawn = {}
    for path in NOTEBOOKS:
        _, error, figures, _ = executed[path.stem]
        assert error is None, f"{path.name} failed"
        for png in figures.glob("*.png"):
            if png.name in workflow:
                redrawn[png.name] = png.read_bytes()
    assert sorted(redrawn) == sorted(workflow), "every workflow figure is redrawn by a notebook"
    different = [name for name, data in redrawn.items() if data != workflow[name]]
    assert not different, f"notebook figures differ from the workflow's: {different}"


def test_notebooks_leave_the_run_untouched(executed):
    assert executed["_tiny_run_unchanged"], "a notebook wrote into PANNEURO_ROOT"


def test_a_unit_is_read_from_the_bucket(executed):
    notebook = executed["02_sorting_and_units"][0]
    printed = "".join(
        o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "s3://panneuro-notebooks/tiny: unit" in printed and "bytes received" in printed
