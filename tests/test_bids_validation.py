import json

from panneuro.compendium.bids_validation import run_bids_validator


def test_validator_reports_errors_on_a_broken_dataset(tmp_path):
    (tmp_path / "dataset_description.json").write_text(json.dumps({"Name": "x"}))
    bad = tmp_path / "sub-01" / "beh" / "sub-01_task-x_notasuffix.tsv"
    bad.parent.mkdir(parents=True)
    bad.write_text("onset\tduration\n1\t1\n")
    summary = run_bids_validator(tmp_path)
    assert summary["n_errors"] > 0
    assert all({"code", "location"} <= set(e) for e in summary["errors"])
    assert summary["errors"] == sorted(summary["errors"], key=lambda e: (e["code"], e["location"]))
