"""The ingest rule functions one by one, on chunks read as read_survey reads a CSV export."""
import numpy as np
import pandas as pd
import pytest

import custval
from custval import ingest
from custval._io.readers import frame_counting
from custval.exceptions import SpecificationError


@pytest.fixture
def inst():
    return custval.Instrument.from_dict({"PV": ["PV1", "PV2"]}, scale=(1, 5))


def _chunk(tmp_path, text):
    """The header and the rows of a CSV export as the reader hands them over (all text)."""
    path = tmp_path / "export.csv"
    path.write_bytes(("\ufeff" + text).encode("utf-8"))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    cols = list(frame.columns)
    frame.columns = range(frame.shape[1])
    return frame, cols


def _run(inst, cols, **options):
    src = ingest._Source(name="export.csv", path=None, columns=cols, counting=frame_counting())
    opts = dict(id_column="resp_id", columns=None, exclude=(), integer_codes=True,
                convert_other=False, qualtrics_status=None, incomplete=None)
    opts.update(options)
    run = ingest._Run(src, ingest._spec(inst, None), **opts)
    for rule in ingest._COLUMN_RULES:
        rule(run)
    return run


EXPORT = ('resp_id,"PV1","PV2",segment\n'
          'r01,4,5,"Retail, north"\n'
          ',,,\n'
          'r02,2,3,B2B\n'
          'Total,6,8,\n')


def test_row_rules_mark_rows_in_order_and_keep_the_first_reason(tmp_path, inst):
    frame, cols = _chunk(tmp_path, EXPORT)
    run = _run(inst, cols)
    rows = ingest._Rows(frame, 0, first=True)
    for rule in ingest._ROW_RULES:
        rule(run, rows)
    assert rows.drop.tolist() == [False, True, False, True]
    assert rows.reason.tolist() == ["", "blank row", "", "totals row"]
    assert run.summary == {3: "Total"}  # the label of the totals row, for the report
    assert not run.log.problems


def test_totals_word_in_an_item_column_is_not_a_totals_row(tmp_path, inst):
    frame, cols = _chunk(tmp_path, 'PV1,PV2,resp_id\nTotal,3,r01\n2,3,r02\n')
    run = _run(inst, cols)
    rows = ingest._Rows(frame, 0, first=True)
    ingest._rows_totals(run, rows)
    assert not rows.drop.any() and not run.summary


def test_blank_rule_leaves_rows_an_earlier_rule_excluded(tmp_path, inst):
    frame, cols = _chunk(tmp_path, EXPORT)
    run = _run(inst, cols)
    rows = ingest._Rows(frame, 10, first=False)
    rows.exclude(np.array([False, True, False, False]), "preview")
    ingest._rows_blank(run, rows)
    assert rows.reason.tolist() == ["", "preview", "", ""]
    assert rows.positions.tolist() == [10, 11, 12, 13]


def test_column_rules_record_a_duplicate_and_a_missing_column(tmp_path, inst):
    frame, cols = _chunk(tmp_path, 'resp_id,PV1,PV1.1,segment\nr01,4,5,A\n')
    cols[2] = "PV1"  # two columns named PV1 (pandas renamed the second on reading)
    run = _run(inst, cols, id_column="respondent")
    assert {k[0] for k in run.log.problems} == {"duplicate_column", "missing_item_column",
                                                "missing_id_column"}
    assert run.id_pos is None and run.item_of == {1: "PV1"}


def test_options_rule_rejects_an_unknown_exclude_reason(tmp_path, inst):
    _, cols = _chunk(tmp_path, EXPORT)
    with pytest.raises(SpecificationError, match="unknown reason"):
        _run(inst, cols, exclude=("previews",))
