from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from redclump.data import schema


def test_thirteen_bands_and_parallax() -> None:
    assert len(schema.BANDS) == 13
    assert schema.FEATURES[-1] == "parallax"
    assert set(schema.BAND_ERRORS) == set(schema.BANDS)


def test_missing_columns_are_all_named_with_the_source() -> None:
    with pytest.raises(schema.SchemaError, match=r"f\.parquet: missing column\(s\) 'b', 'c'"):
        schema.validate_columns(pd.DataFrame({"a": [1]}), ["a", "b", "c"], source="f.parquet")


def test_non_finite_values_are_counted() -> None:
    frame = pd.DataFrame({"parallax": [1.0, np.nan, np.inf]})
    with pytest.raises(schema.SchemaError, match="'parallax' has 2 non-finite value"):
        schema.validate_columns(frame, ["parallax"], source="x", finite=["parallax"])


def test_doctests() -> None:
    assert doctest.testmod(schema, raise_on_error=False).failed == 0
