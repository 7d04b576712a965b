# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (custval)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 1: Reading a messy survey export through a codebook
#
# A café chain ran a customer survey in a web-survey tool and sent you the export
# `data/cafe_export.csv` (**simulated** data). Open it in a text editor first: above the header
# there is a title line and a blank line, two column names are written unlike the codebook
# (`" QUAL2"`, `"price1"`), skipped questions are `-99`, "don't know" is `9`, there is an e-mail
# column, and the last row holds the means the tool added. A second, later export
# (`data/cafe_late_answers.csv`) has a typing error.
#
# The codebook `data/cafe.yaml` says what the survey measures: four constructs of perceived value
# with three items each on a 1-5 scale, one of them worded in reverse (`PRICE3`: "I pay too much
# for what I get"), and which codes mean missing.
#
# You will
#
# 1. load the codebook with `custval.load_instrument`;
# 2. read the export with `custval.read_survey` and find, in what it reports, every change it made;
# 3. key the reverse-worded item;
# 4. see what custval does with a value that breaks the codebook.
#
# Each task assigns one or more variables; the cell after it checks them. Run the check cells:
# a message tells you what is wrong.

# %%
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import custval

sys.path.insert(0, str(Path.cwd().parent))  # the folder holding _checks.py
from _checks import check, check_true

DATA = Path.cwd().parent / "data"

# %% [markdown]
# ## Task 1: the codebook
#
# Load the codebook `DATA / "cafe.yaml"` into `inst`, and print its summary (`inst.summary()`).
# Then set `n_items` to the number of items it declares and `reverse_items` to the list of its
# reverse-keyed items (hint: the instrument has the attributes `items` and `reverse_items`).

# %% tags=["solution"]
inst = custval.load_instrument(DATA / "cafe.yaml")
print(inst.summary())
n_items = len(inst.items)
reverse_items = list(inst.reverse_items)

# %% tags=["check"]
_codebook = (DATA / "cafe.yaml").read_text(encoding="utf-8")
check("inst", inst, expected=custval.Instrument, what="the instrument loaded from data/cafe.yaml",
      hint="custval.load_instrument(path) returns it")
check("n_items", n_items, expected=_codebook.count("- id: ") - _codebook.count("\n  - id: "),
      what="the number of items in the codebook", hint="len(inst.items)")
check("reverse_items", reverse_items, expected=["PRICE3"], what="the list of reverse-keyed items",
      hint="inst.reverse_items")

# %% [markdown]
# ## Task 2: read the export
#
# Read `DATA / "cafe_export.csv"` with `custval.read_survey`, giving it the instrument and
# `id_column="ResponseId"`, into `df`. custval will warn about what it repaired: read the
# warnings. (Wrap the call in `with warnings.catch_warnings(record=True) as caught:` and
# `warnings.simplefilter("always")` to keep them in the list `caught`, then print each one's
# `.message`.)

# %% tags=["solution"]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    df = custval.read_survey(DATA / "cafe_export.csv", inst, id_column="ResponseId")
for w in caught:
    print(f"{w.category.__name__}: {w.message}\n")

# %% tags=["check"]
_lines = (DATA / "cafe_export.csv").read_text(encoding="utf-8-sig").splitlines()
_respondents = [line.split(";") for line in _lines if line.startswith("R_")]
check("df", df, expected=pd.DataFrame, what="the survey read by custval.read_survey")
check("len(df)", len(df), expected=len(_respondents), what="one row per respondent of the file",
      hint="the title line, the blank line and the row of means are not respondents")
check_true("df", lambda: df["ResponseId"].tolist() == [r[0] for r in _respondents],
           what="the respondents in file order, with their ResponseId", hint="pass id_column='ResponseId'")
check_true("df", lambda: not df[list(inst.items)].isin([-99, 9]).any().any(),
           what="the answers with -99 and 9 turned into missing values",
           hint="read the file with custval.read_survey and the instrument, which declares these codes")

# %% [markdown]
# ## Task 3: what did custval change?
#
# Nothing is changed silently: everything `read_survey` did is recorded in
# `df.attrs["custval"]`, a dictionary (look at its keys). From it, set
#
# * `n_excluded`: the number of rows of the file (below the header) that were left out;
# * `n_skipped`: the number of answers `-99` that became missing values, and `n_dont_know` the
#   number of "don't know" answers (`9`) that did (look at `df.attrs["custval"]["rules"]`);
# * `personal_columns`: the list of the columns custval flags as personal data;
# * `repaired_headers`: the list of the item ids whose column name in the file had to be repaired.

# %% tags=["solution"]
log = df.attrs["custval"]
rules = {r["rule"]: r for r in log["rules"]}
n_excluded = log["rows_excluded"]
n_skipped = rules["declared_missing_code"]["n"]
n_dont_know = rules["dont_know_code"]["n"]
personal_columns = [p["column"] for p in log["personal_data_columns"]]
repaired_headers = [c["to"] for rule in ("header_trimmed", "header_case_matched")
                    for c in rules[rule]["changes"]]
print(f"excluded rows: {log['excluded']}")
print(f"{n_skipped} skipped and {n_dont_know} don't-know answers are missing values")

# %% tags=["check"]
_answers = np.array([r[5:] for r in _respondents])
check("n_excluded", n_excluded, expected=len(_lines) - 3 - len(_respondents),
      what="the number of rows below the header that are not respondents",
      hint="df.attrs['custval']['rows_excluded']; the row of means at the bottom is one")
check("n_skipped", n_skipped, expected=int((_answers == "-99").sum()),
      what="the number of -99 answers turned into missing values",
      wrong={int((_answers == "9").sum()): "that is the number of don't-know (9) answers"},
      hint="the rule 'declared_missing_code' in df.attrs['custval']['rules']")
check("n_dont_know", n_dont_know, expected=int((_answers == "9").sum()),
      what="the number of 9 (don't know) answers turned into missing values",
      hint="the rule 'dont_know_code' in df.attrs['custval']['rules']")
check("personal_columns", personal_columns, expected=["email"],
      what="the columns flagged as personal data", hint="df.attrs['custval']['personal_data_columns']")
check("repaired_headers", set(repaired_headers or ()), expected={"QUAL2", "PRICE1"},
      what="the item ids whose column names were repaired (in any order)",
      hint="the rules 'header_trimmed' and 'header_case_matched' list their changes")

# %% [markdown]
# ## Task 4: key the reverse-worded item
#
# `PRICE3` says "I pay too much for what I get": agreeing with it means *low* value for money.
# Before items are added up or correlated, such an item is reverse-keyed: on a 1-5 scale a 1
# becomes a 5 (`min + max - x`). Set `keyed` to the data with the reverse items keyed
# (`inst.keyed(df)`), and `price_score` to each respondent's mean of the three keyed PRICE items
# (a Series, missing answers left out of each mean: `DataFrame.mean(axis=1)` does that).

# %% tags=["solution"]
keyed = inst.keyed(df)
price_score = keyed[["PRICE1", "PRICE2", "PRICE3"]].mean(axis=1)
price_score.describe()

# %% tags=["check"]
_price = pd.DataFrame(_answers[:, 3:6].astype(float), columns=["PRICE1", "PRICE2", "PRICE3"])
_price = _price.mask(_price.isin([-99, 9]))
_price["PRICE3"] = 6 - _price["PRICE3"]
check("keyed['PRICE3']", None if keyed is None else keyed["PRICE3"].reset_index(drop=True),
      expected=_price["PRICE3"], what="PRICE3 keyed as 6 - x",
      wrong=[(6 - _price["PRICE3"], "PRICE3 is not keyed yet: use inst.keyed(df)")])
check("price_score", None if price_score is None else price_score.reset_index(drop=True),
      expected=_price.mean(axis=1), what="the mean of the keyed PRICE items per respondent",
      wrong=[(_price.assign(PRICE3=6 - _price["PRICE3"]).mean(axis=1),
              "you averaged the raw PRICE3: average the keyed items")])

# %% [markdown]
# ## Task 5: a value that cannot be right
#
# A week later the tool exported the late answers, `DATA / "cafe_late_answers.csv"`. Read it the
# same way. custval refuses: a `custval.exceptions.DataValidationError` says which value in which
# column and file line breaks the codebook, and it carries the same facts as a list of dicts,
# `err.problems`. Catch the error (`try: ... except custval.exceptions.DataValidationError as err:`),
# print it, and set `bad_column`, `bad_line` and `bad_value` to the column, the file line and the
# value of the problem.

# %% tags=["solution"]
try:
    custval.read_survey(DATA / "cafe_late_answers.csv", inst, id_column="ResponseId")
except custval.exceptions.DataValidationError as err:
    print(err)
    problem = err.problems[0]
    bad_column, bad_line, bad_value = problem["column"], problem["rows"][0], problem["values"][0]

# %% tags=["check"]
_late = (DATA / "cafe_late_answers.csv").read_text(encoding="utf-8-sig").splitlines()
_header = [h.strip().upper() for h in _late[0].split(";")]
_bad = [(_header[j], n, int(v)) for n, line in enumerate(_late[1:], start=2)
        for j, v in enumerate(line.split(";")) if j >= 5 and v not in ("1", "2", "3", "4", "5", "-99", "9")]
check("bad_column", bad_column, expected=_bad[0][0], what="the item column with the impossible value",
      hint="err.problems[0]['column']")
check("bad_line", bad_line, expected=_bad[0][1], what="the file line of the impossible value (the header is line 1)",
      wrong={_bad[0][1] - 2: "that is the 0-based row of a DataFrame; custval counts file lines",
             _bad[0][1] - 1: "that is the respondent's number; custval counts file lines, the header included"},
      hint="err.problems[0]['rows']")
check("bad_value", bad_value, expected=_bad[0][2], what="the impossible value itself",
      hint="err.problems[0]['values']")

# %% [markdown]
# custval does not guess that 55 meant 5: the person who entered the data, or the respondent, has
# to say. Correct the *source* (or exclude the respondent, saying so in the report) and read the
# file again.

# %% [markdown]
# ## Task 6: in your own words
#
# The file's last row holds the means the survey tool computed. What would have happened to the
# mean of each item, and to the number of respondents, if that row had been read as a respondent?
# Why is it better that custval leaves it out *and says so* than that it silently drops it?

# %% [markdown] tags=["solution"]
# Read as a respondent, the row of means would add a 61st "customer" whose answers are the
# averages: the item means would hardly move, but the number of respondents, every standard
# error and every correlation would be computed from a respondent who does not exist (and whose
# answers, such as 3.28, are not on the 1-5 answer scale). Leaving it out silently would hide
# that the file had 61 data rows and only 60 respondents; with the warning and the record in
# `df.attrs["custval"]["excluded"]`, rows read = rows used + rows excluded can be reported and
# checked.
