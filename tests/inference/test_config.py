"""Sampler settings: what is left open is filled by the estimator's choice or the library's default."""

import pytest

from extent.exceptions import ConfigError
from extent.inference import SamplerConfig
from extent.inference.config import DEFAULT_TARGET_ACCEPT, DEFAULT_TUNE


def test_open_settings_are_filled_by_the_estimators_choice_then_the_default():
    open_ = SamplerConfig()
    assert (open_.tune, open_.target_accept) == (None, None)
    assert (open_.resolved().tune, open_.resolved().target_accept) == (DEFAULT_TUNE, DEFAULT_TARGET_ACCEPT) == (1000, 0.99)
    chosen = open_.resolved(tune=500, target_accept=0.8)
    assert (chosen.tune, chosen.target_accept) == (500, 0.8)
    user = SamplerConfig(tune=0, target_accept=0.9).resolved(tune=500, target_accept=0.8)
    assert (user.tune, user.target_accept) == (0, 0.9)  # what the user set is kept, zero tuning included


def test_a_negative_or_fractional_tuning_length_is_refused():
    for bad in (-1, 2.5):
        with pytest.raises(ConfigError, match="tune must be a positive integer"):
            SamplerConfig(tune=bad)
