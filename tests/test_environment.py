"""environment.yaml (for conda users) must carry the same pins as requirements.lock."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version.strip()
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yaml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                if "==" in line:
                    name, version = line.split("==")
                    pins[_norm(name.split("[")[0])] = version
        elif "=" in dep and not dep.startswith("python="):
            name, version = dep.split("=")
            pins[_norm(name)] = version
    return pins


def test_environment_yaml_pins_match_the_lock():
    lock, env = _lock(), _environment_pins()
    assert env, "environment.yaml pins nothing"
    mismatched = {k: (v, lock.get(k)) for k, v in env.items() if lock.get(k) != v}
    assert not mismatched, f"environment.yaml vs requirements.lock: {mismatched}"


def test_every_direct_requirement_is_pinned_in_both():
    lock, env = _lock(), _environment_pins()
    for line in (ROOT / "requirements.in").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, version = line.split("==")
        name = _norm(name.split("[")[0])
        assert lock.get(name) == version, f"requirements.in {name}=={version} not in the lock"
        assert env.get(name) == version, f"environment.yaml lacks {name}=={version}"


def test_python_is_311():
    env = yaml.safe_load((ROOT / "environment.yaml").read_text())
    assert "python=3.11" in env["dependencies"]
