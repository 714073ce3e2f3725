"""Fit files written before the models named units ``unit`` (dims ``force``, ``force_effect``, ...) still load."""

import json
import warnings

import arviz as az
import numpy as np
import pytest

import extent
from extent.result_files import LEGACY_NAMES, checksum

OLD_NAMES = {new: old for old, new in LEGACY_NAMES.items()}


def _write_the_old_way(path, old_path):
    """Rewrite a new fit file as an extent before the rename wrote it: old dims, variables and settings."""
    idata = az.from_netcdf(str(path))
    groups = {}
    for g in idata.groups():
        ds = idata[g].load()
        if g == "predictions" or g.startswith("fit_data_"):  # the data tables' ``unit`` column was always so named
            groups[g] = ds
            continue
        names = {new: old for new, old in OLD_NAMES.items() if new in ds.variables or new in ds.dims}
        groups[g] = ds.rename(names)
    attrs = dict(groups["predictions"].attrs)
    settings = json.loads(attrs["extent_settings"])
    if settings.get("diagnosed"):
        settings["diagnosed"] = {k: [OLD_NAMES.get(v, v) for v in names] for k, names in settings["diagnosed"].items()}
    attrs["extent_settings"] = json.dumps(settings)
    attrs["extent_checksum"] = checksum(groups["predictions"]["national_total"], attrs)
    groups["predictions"].attrs = attrs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        az.InferenceData(**groups).to_netcdf(str(old_path))
    return old_path


@pytest.fixture(scope="module")
def count_fit(report):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return extent.HierarchicalExtent(sampler=extent.SamplerConfig(draws=100, tune=100, chains=2,
                                                                      random_seed=9)).fit(report.data)


@pytest.mark.sampling
def test_an_old_count_file_loads_with_the_new_names(count_fit, tmp_path):
    new = count_fit.to_netcdf(tmp_path / "new.nc", keep_counts=True)
    old = _write_the_old_way(new, tmp_path / "old.nc")
    stored = az.from_netcdf(str(old))
    assert {"force_effect", "force_sd"} <= set(stored.posterior) and "force" in stored.posterior.dims
    assert "unit_offset" not in stored.posterior

    back = extent.ExtentResult.from_netcdf(old)
    post = back.idata.posterior
    assert {"unit_offset", "shared_sd"} <= set(post) and not {"force_effect", "force_sd", "force_z"} & set(post)
    assert post["unit_offset"].dims == ("chain", "draw", "unit")
    assert list(post["unit"].values) == count_fit.data.searched_units
    np.testing.assert_array_equal(post["unit_offset"].values, count_fit.idata.posterior["unit_offset"].values)
    assert back.settings["diagnosed"]["unit_names"] == ["unit_offset"]
    assert back.interval("internet_grooming", "total", 0.9) == count_fit.interval("internet_grooming", "total", 0.9)
    # the loaded result is a full one: it saves again under the new names and loads unchanged
    again = extent.ExtentResult.from_netcdf(back.to_netcdf(tmp_path / "again.nc", keep_counts=True))
    assert set(again.idata.posterior) == set(post) and again.settings["diagnosed"] == back.settings["diagnosed"]


@pytest.mark.sampling
def test_an_old_survey_file_loads_with_the_new_dims(survey_fit, tmp_path):
    fit, _ = survey_fit
    old = _write_the_old_way(fit.to_netcdf(tmp_path / "new.nc"), tmp_path / "old.nc")
    assert az.from_netcdf(str(old)).posterior["log_caseload"].dims == ("chain", "draw", "force")

    back = extent.NationalResult.from_netcdf(old)
    assert back.idata.posterior["log_caseload"].dims == ("chain", "draw", "unit")
    assert back.idata.posterior["unit_z"].dims == ("chain", "draw", "unit")
    assert back.interval("cases", "total", 0.9) == fit.interval("cases", "total", 0.9)


def test_old_names_are_renamed_and_new_ones_kept():
    from extent.result_files import renamed_legacy

    old = az.from_dict(posterior={"force_effect": np.zeros((2, 3, 4)), "force_sd": np.ones((2, 3))},
                       constant_data={"force_lp": np.arange(4.0)}, dims={"force_effect": ["force"], "force_lp": ["force"]},
                       coords={"force": list("abcd")})
    back = renamed_legacy(old)
    assert set(back.posterior.data_vars) == {"unit_offset", "shared_sd"}
    assert back.posterior["unit_offset"].dims == ("chain", "draw", "unit") and list(back.posterior["unit"].values) == list("abcd")
    assert back.constant_data["searched_lp"].dims == ("unit",)
    new = renamed_legacy(back)
    assert set(new.posterior.data_vars) == {"unit_offset", "shared_sd"} and new.groups() == back.groups()
