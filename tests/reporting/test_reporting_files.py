"""The report folder is written whole or not at all (no fitting: naive results stand in for both)."""

from __future__ import annotations

import os
import time

import pytest

from extent.datasets import load_report
from extent.estimators import NaiveScaling
from extent.reporting import write_report
from extent.reporting.render import STALE_SECONDS, TMP_SUFFIX


@pytest.fixture(scope="module")
def naive():
    return NaiveScaling().fit(load_report().data)


def test_a_report_folder_is_replaced_whole(naive, tmp_path):
    out = tmp_path / "rep"
    write_report(out, naive, naive, save_fit=False)
    (out / "fit.nc").write_text("an old fit that this run does not write")
    first = (out / "report.md").stat().st_ino
    write_report(out, naive, naive, save_fit=False)
    assert sorted(p.name for p in out.iterdir()) == ["estimates.csv", "forest.png", "report.html", "report.md"]
    assert (out / "report.md").stat().st_ino != first  # a new folder, not files copied over the old ones
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no temporary or old folder left beside it


def test_a_folder_with_other_files_keeps_them(naive, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the user's")
    write_report(out, naive, naive, save_fit=False)
    assert (out / "notes.txt").read_text() == "the user's" and (out / "report.md").is_file()


def test_stale_temporary_folders_of_killed_runs_are_removed(naive, tmp_path):
    stale, fresh = tmp_path / f".rep.abc{TMP_SUFFIX}", tmp_path / f".rep.def{TMP_SUFFIX}"
    for d in (stale, fresh):
        d.mkdir()
        (d / "report.md").write_text("half-written")
    old = time.time() - STALE_SECONDS - 60
    os.utime(stale, (old, old))
    write_report(tmp_path / "rep", naive, naive, save_fit=False)
    assert not stale.exists() and fresh.exists()  # a recent one may belong to a run still writing


def test_outputs_follow_the_umask(naive, tmp_path):
    import pandas as pd

    from extent.files import write_csv

    old = os.umask(0o027)
    try:
        write_report(tmp_path / "rep", naive, naive, save_fit=False)
        path = write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    finally:
        os.umask(old)
    assert (tmp_path / "rep").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "rep" / "report.md").stat().st_mode & 0o777 == 0o640
    assert path.stat().st_mode & 0o777 == 0o640
