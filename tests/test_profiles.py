"""The Snakemake profiles under workflow/profiles: every key is a snakemake option, and they plan.

The kubernetes profile's dry run needs an S3 endpoint; tests/test_kubernetes.py runs it.
"""

import re
import subprocess

import pytest
import yaml
from compendium import BIN, ENV, ROOT, fresh_copy, snakemake

PROFILES = ROOT / "workflow" / "profiles"
NAMES = ["local", "slurm", "kubernetes"]


@pytest.fixture(scope="module")
def snakemake_options() -> set[str]:
    """Long options of the installed snakemake and its executor/storage plugins."""
    result = subprocess.run(
        [str(BIN / "snakemake"), "--help"], capture_output=True, text=True, env=ENV, check=True
    )
    return set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", result.stdout))


def _profile(name: str) -> dict:
    return yaml.safe_load((PROFILES / name / "config.yaml").read_text())


def test_help_parsing_finds_plugin_options(snakemake_options):
    for option in (
        "executor",
        "jobs",
        "retries",
        "slurm-logdir",
        "kubernetes-namespace",
        "storage-s3-endpoint-url",
        "default-storage-prefix",
    ):
        assert option in snakemake_options, option
    assert "not-an-option" not in snakemake_options


@pytest.mark.parametrize("name", NAMES)
def test_profile_keys_are_snakemake_options(name, snakemake_options):
    profile = _profile(name)
    assert isinstance(profile, dict) and profile, f"{name}: empty profile"
    unknown = sorted(k for k in profile if k.replace("_", "-") not in snakemake_options)
    assert not unknown, f"workflow/profiles/{name}/config.yaml: not snakemake options: {unknown}"


@pytest.mark.parametrize("name", NAMES)
def test_profile_executor_and_retries(name):
    profile = _profile(name)
    assert profile["executor"] == name
    assert profile["retries"] >= 1, "retries raise the heavy jobs' memory and runtime"
    if name != "local":
        assert profile["jobs"] >= 1
    # Light rules declare no resources (docs/architecture.md, "Rule conventions").
    assert profile["default-resources"] == {"mem_mb": 2000, "runtime": 30}


def test_kubernetes_profile_uses_s3_and_an_image():
    profile = _profile("kubernetes")
    assert profile["default-storage-provider"] == "s3"
    assert profile["default-storage-prefix"].startswith("s3://")
    assert ":" in profile["container-image"], "pin the image by tag"
    assert profile["kubernetes-namespace"]


@pytest.mark.parametrize("name", ["local", "slurm"])
def test_profile_dry_run_plans_the_workflow(name, tmp_path):
    workdir = fresh_copy(tmp_path / "compendium")
    result = snakemake(workdir, "--profile", f"workflow/profiles/{name}", "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert f"Using profile workflow/profiles/{name}" in output
    assert re.search(r"^preprocess_probe\s+\d+$", output, re.M), output[-3000:]
    # The heavy rules' requests are sized from the recording: an 8-channel microwire asks
    # for less than a 32-channel array (config/samples.tsv has both).
    sort_mem = {
        m["probe"]: int(m["mem"])
        for m in re.finditer(
            r"rule sort_probe:.*?probe=(?P<probe>\w+).*?mem_mb=(?P<mem>\d+)", output, re.S
        )
    }
    assert sort_mem["MW"] < sort_mem["PFC"], sort_mem


def test_an_unknown_profile_key_fails_the_dry_run(tmp_path):
    """What the key check above guards against: snakemake refuses the whole profile."""
    workdir = fresh_copy(tmp_path / "compendium")
    bad = workdir / "workflow" / "profiles" / "bad"
    bad.mkdir(parents=True)
    (bad / "config.yaml").write_text("executor: local\nnot-an-option: 1\n")
    result = snakemake(workdir, "--profile", "workflow/profiles/bad", "--dry-run")
    assert result.returncode != 0
    assert "unrecognized arguments: --not-an-option" in result.stderr
