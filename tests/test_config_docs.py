"""Every config key is documented in config/README.md, and the config passes its schema."""

import re
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _keys(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            # families documented as one: sizes.<preset>, agent.<species>, align.<variable>
            if key not in ("sizes", "agent", "align"):
                yield from _keys(value, (*prefix, key))


def test_every_config_key_is_documented():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    readme = (ROOT / "config" / "README.md").read_text()
    undocumented = [
        ".".join(k) for k in _keys(config) if not re.search(rf"[`.]{re.escape(k[-1])}\b", readme)
    ]
    assert not undocumented, f"document these keys in config/README.md: {undocumented}"


def test_config_and_sample_sheet_match_their_schemas():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(config)
    samples = pd.read_csv(
        ROOT / "config" / "samples.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    row_schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "samples.schema.yaml").read_text())
    for row in samples.to_dict("records"):
        jsonschema.Draft202012Validator(row_schema).validate(row)


def test_unknown_config_key_is_rejected():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    config["sedd"] = 1
    config["ephys"]["preprocessing"]["freq_mni"] = 300
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(config))
    assert any("sedd" in e.message for e in errors)
    assert any("freq_mni" in e.message for e in errors)
