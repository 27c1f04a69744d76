import pytest

from panneuro.io.atomic import atomic_path, write_text_atomic


def test_success_renames_into_place(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    write_text_atomic(target, "hello")
    assert target.read_text() == "hello"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_directory_targets_are_replaced(tmp_path):
    target = tmp_path / "folder"
    target.mkdir()
    (target / "stale").write_text("x")
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "fresh").write_text("y")
    assert sorted(p.name for p in target.iterdir()) == ["fresh"]


def test_temp_name_keeps_extension(tmp_path):
    with atomic_path(tmp_path / "a.nwb") as tmp:
        assert tmp.name.endswith(".nwb")
        tmp.write_text("")


def test_a_killed_writers_temporaries_are_removed_on_the_next_write(tmp_path):
    from panneuro.io.atomic import remove_stale_temporaries

    target = tmp_path / "table.tsv"
    (tmp_path / ".table.tsv.abc123.tmp.tsv").write_text("half")  # a killed writer's file
    (tmp_path / ".table.tsv.def456.tmp").mkdir()  # ... or folder
    (tmp_path / ".other.tsv.abc.tmp.tsv").write_text("another target's")
    write_text_atomic(target, "whole\n")
    assert target.read_text() == "whole\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.tsv.abc.tmp.tsv", "table.tsv"]
    assert remove_stale_temporaries(target) == []
