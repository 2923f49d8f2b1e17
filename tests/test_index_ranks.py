"""The numpy ranking that replaced scipy.stats on the start-up path gives scipy's ranks exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import rankdata as scipy_rankdata

from pipelines.index.ranks import rankdata

# few distinct values, so ties are common; NaN as the missing marker
values = st.sampled_from([-1.5, -0.0, 0.0, 0.5, 2.0, 7.0, np.nan])


@settings(max_examples=200, deadline=None)
@given(arrays(float, st.tuples(st.integers(1, 6), st.integers(1, 9), st.integers(1, 3)), elements=values),
       st.sampled_from(["min", "average"]), st.integers(0, 2))
def test_equals_scipy(x, method, axis):
    expected = scipy_rankdata(x, method=method, axis=axis, nan_policy="omit")
    np.testing.assert_array_equal(rankdata(x, method, axis=axis), expected)


def test_hand_worked():
    x = np.array([3.0, 1.0, np.nan, 3.0, 2.0])
    np.testing.assert_array_equal(rankdata(x, "min"), [3, 1, np.nan, 3, 2])
    np.testing.assert_array_equal(rankdata(x, "average"), [3.5, 1, np.nan, 3.5, 2])
    assert rankdata(np.empty((0, 3)), "min", axis=0).shape == (0, 3)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="min"):
        rankdata(np.ones(3), "dense")


def test_scores_equal_but_for_float_noise_tie():
    from pipelines.index.ranks import rank_scores

    s = np.array([[-0.23570226039551581, 1e-17], [-0.23570226039551576, -6.9e-18], [0.7, np.nan]])
    np.testing.assert_array_equal(rank_scores(s, axis=0), [[2, 1], [2, 1], [1, np.nan]])


def test_values_equal_but_for_float_noise_tie_under_a_tolerance():
    x = np.array([0.1, 0.1 * 7 / 7 + 1e-17, np.nan, 0.30000000000000004, 0.3, 0.1])
    np.testing.assert_array_equal(rankdata(x, "min", rtol=1e-12), [1, 1, np.nan, 4, 4, 1])
    np.testing.assert_array_equal(rankdata(x, "average", rtol=1e-12), [2, 2, np.nan, 4.5, 4.5, 2])
    # without a tolerance the last bit decides
    assert rankdata(np.array([0.3, 0.30000000000000004]), "min").tolist() == [1, 2]
