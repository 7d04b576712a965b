"""Impossible study-planner designs are custval errors naming the design and the construct, item,
parameter or firm at fault."""

from __future__ import annotations

import pytest

from custval import planning
from custval.exceptions import SpecificationError

BASE = {"name": "plan A", "constructs": {"CQUAL": 3, "CPROC": 3}, "firms": 3, "accounts": 3,
        "customers_per_account": 2}


def _plan(design, **kw):
    return planning.simulate_study(design, replications=1, progress=False, decisions=("agreement",), **kw)


@pytest.mark.parametrize("loadings, match", [
    ({"CQUAL": [0.7, 1.02, 0.6], "CPROC": 0.7}, r"design 'plan A': construct 'CQUAL', item 'CQUAL_2': "
                                                r"standardized loading 1.02 is impossible"),
    ({"CQUAL": 0.7, "CPROC": -1.0}, r"construct 'CPROC', item 'CPROC_1': standardized loading -1 is impossible"),
    ({"CQUAL": 0.7}, r"no loading given for construct 'CPROC'"),
    ({"CQUAL": [0.7, 0.7], "CPROC": 0.7}, r"loadings of construct 'CQUAL': 2 values for 3 items"),
])
def test_impossible_loadings_name_construct_and_item(loadings, match):
    with pytest.raises(SpecificationError, match=match):
        _plan({**BASE, "loadings": loadings})


def test_factor_correlations_that_no_population_has():
    three = {**BASE, "constructs": {"A": 2, "B": 2, "C": 2}}
    bad = {"A": {"B": 0.9, "C": 0.9}, "B": {"C": -0.9}}
    with pytest.raises(SpecificationError, match=r"design 'plan A': factor_correlations is not positive definite "
                                                 r"\(smallest eigenvalue -0\.[0-9]+\)"):
        _plan({**three, "factor_correlations": bad})
    with pytest.raises(SpecificationError, match=r"correlation of constructs 'A' and 'B' is 1\.2"):
        _plan({**three, "factor_correlations": {"A": {"B": 1.2}}})
    with pytest.raises(SpecificationError, match=r"factor_correlations names 'A' / 'D'"):
        _plan({**three, "factor_correlations": {"A": {"D": 0.2}}})


def test_a_firm_with_one_respondent_is_named():
    firms = [{"name": "North Ltd"}, {"name": "South GmbH", "respondents": {"manager": 1}}]
    with pytest.raises(SpecificationError, match=r"firm 'South GmbH' has 1 manager respondent"):
        _plan({**BASE, "firms": firms})
    firms = [{"name": "North Ltd", "customers_per_account": 1}]
    with pytest.raises(SpecificationError, match=r"firm 'North Ltd' has 1 customer respondent\(s\) per account"):
        _plan({**BASE, "firms": firms})
    with pytest.raises(SpecificationError, match=r"firm 'F01' has 1 customer account"):
        _plan({**BASE, "accounts": 1})
    with pytest.raises(SpecificationError, match=r"firm name\(s\) \['X'\] appear more than once"):
        _plan({**BASE, "firms": [{"name": "X"}, {"name": "X"}]})


def test_other_bad_designs_are_named(tmp_path):
    with pytest.raises(SpecificationError, match=r"unknown key\(s\) \['loading'\]"):
        _plan({**BASE, "loading": 0.7})
    with pytest.raises(SpecificationError, match=r"construct 'CQUAL' has 1 item"):
        _plan({**BASE, "constructs": {"CQUAL": 1, "CPROC": 3}})
    with pytest.raises(SpecificationError, match=r"construct\(s\) \['NOPE'\] are not \(paired\) constructs of "
                                                 r"instrument 'cwi'"):
        _plan({"instrument": "cwi", "constructs": ["NOPE"]})
    with pytest.raises(SpecificationError, match=r"non_invariant: item 'CQUAL_9' is not an item of 'CQUAL'"):
        _plan({**BASE, "non_invariant": {"construct": "CQUAL", "item": "CQUAL_9", "intercept": -0.5}})
    with pytest.raises(SpecificationError, match=r"thresholds must be 4 increasing numbers for 5 scale points"):
        _plan({**BASE, "scale_points": 5, "thresholds": [-1, 0, 1]})
    with pytest.raises(SpecificationError, match=r"design file .*nowhere.yaml' not found"):
        _plan(str(tmp_path / "nowhere.yaml"))
    with pytest.raises(SpecificationError, match=r"decisions: unknown \['power'\]"):
        planning.simulate_study(BASE, replications=1, progress=False, decisions=("power",))
    with pytest.raises(SpecificationError, match=r"design names \['plan A'\] appear more than once"):
        _plan([BASE, BASE])
    with pytest.raises(SpecificationError, match=r"n_boot\['gaps'\] \(perception_gap's percentile intervals\) must "
                                                 r"be an integer >= 100, got 50"):
        _plan({**BASE, "n_boot": {"gaps": 50}})
    with pytest.raises(SpecificationError, match="replications must be a positive integer"):
        planning.simulate_study(BASE, replications=0, progress=False)


def test_a_role_only_some_firms_have_counts_for_those_firms():
    firms = [{"name": "North Ltd"}, {"name": "South GmbH", "respondents": {"director": 2}}]
    d = planning._normalize_design({**BASE, "respondents": {"staff": 4}, "firms": firms}, 0)
    ft = d["firm_table"].set_index("firm")
    assert d["roles"] == ["staff", "director"]
    assert ft.loc["North Ltd", "director"] == 0 and ft.loc["South GmbH", "director"] == 2
    assert ft.loc["South GmbH", "staff"] == 4
