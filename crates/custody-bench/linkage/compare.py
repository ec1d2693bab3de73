#!/usr/bin/env python3
"""Linkage quality and time: custody's `match` beside Splink (PyPI `splink`, DuckDB backend) on
the same generated data (see generate.py), scored against the truth file.

    python3 compare.py DIR --custody target/release/custody [--people 100000 --leaked 20000
        --strangers 2000] [--splink]

DIR keeps the data; it is generated when missing. Prints, for custody (certain links, and
certain with probable ones) and for Splink (best link per leaked row at probability 0.999, and at
0.5): true and false links, precision, recall, F1 and seconds.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def truth_of(directory):
    with open(os.path.join(directory, "truth.csv")) as handle:
        return {int(row["line"]): row["reference"] for row in csv.DictReader(handle)}


def scores(name, predicted, truth, seconds):
    """`predicted`: line -> set of references."""
    true_links = sum(1 for line, refs in predicted.items() if truth.get(line) in refs)
    false_links = sum(len(refs - {truth.get(line)}) for line, refs in predicted.items())
    positives = sum(1 for reference in truth.values() if reference)
    precision = true_links / max(1, true_links + false_links)
    recall = true_links / max(1, positives)
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    print(f"{name:<34} {true_links:>7} {false_links:>6} {precision:>9.4f} {recall:>7.4f} {f1:>7.4f} {seconds:>8.1f}")


def run_custody(directory, binary):
    data = os.path.join(directory, "data")
    env = dict(os.environ, CUSTODY_DIR=data)
    if not os.path.exists(os.path.join(data, "custody.db")):
        subprocess.run([binary, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([binary, "people", "import", os.path.join(directory, "people.csv"), "--category", "member"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    links = os.path.join(directory, "links.csv")
    started = time.time()
    output = subprocess.run([binary, "match", os.path.join(directory, "leak.csv"), "--rows", links, "--json"],
                            env=env, check=True, capture_output=True, text=True).stdout
    seconds = time.time() - started
    report = json.loads(output)
    by_kind = {"certain": {}, "both": {}}
    with open(links) as handle:
        for row in csv.DictReader(handle):
            line = int(row["line"])
            by_kind["both"].setdefault(line, set()).add(row["reference"])
            if row["link"] == "certain":
                by_kind["certain"].setdefault(line, set()).add(row["reference"])
    return by_kind, seconds, report


def run_splink(directory):
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    people = pd.read_csv(os.path.join(directory, "people.csv"), dtype=str, keep_default_na=False)
    leak = pd.read_csv(os.path.join(directory, "leak.csv"), dtype=str, keep_default_na=False)
    ours = pd.DataFrame({
        "unique_id": people["Member Number"],
        "first_name": people["First Name"].str.lower(),
        "surname": people["Last Name"].str.lower(),
        "dob": people["Date of Birth"],
        "postcode": people["Post Code"],
        "email": people["Email"].str.lower(),
    })

    def iso(text):
        parts = text.split("/")
        return f"{parts[2]}-{parts[1]}-{parts[0]}" if len(parts) == 3 else None

    theirs = pd.DataFrame({
        "unique_id": leak["uid"],
        "first_name": leak["fname"].str.lower(),
        "surname": leak["lname"].str.lower(),
        "dob": leak["birthdate"].map(iso),
        "postcode": leak["zip"],
        "email": leak["mail"].str.lower(),
    })
    for frame in (ours, theirs):
        frame.replace("", None, inplace=True)
    started = time.time()
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.EmailComparison("email"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("dob", "substr(surname, 1, 1)"),
            block_on("dob", "substr(first_name, 1, 1)"),
            block_on("postcode"),
            block_on("first_name", "surname"),
            block_on("email"),
        ],
    )
    linker = Linker([ours, theirs], settings, db_api=DuckDBAPI())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("dob", "surname"), block_on("email")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    seconds = time.time() - started
    best = {}
    for row in predictions.itertuples():
        left, right = row.unique_id_l, row.unique_id_r
        leaked, reference = (left, right) if str(left).startswith("u") else (right, left)
        line = int(str(leaked)[1:])
        if line not in best or row.match_probability > best[line][0]:
            best[line] = (row.match_probability, reference)
    at = {threshold: {line: {reference} for line, (p, reference) in best.items() if p >= threshold}
          for threshold in (0.999, 0.5)}
    return at, seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--custody", required=True)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--leaked", type=int, default=20_000)
    parser.add_argument("--strangers", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--splink", action="store_true", help="also run Splink on the same data")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.directory, "truth.csv")):
        subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), args.directory, "--people",
                        str(args.people), "--leaked", str(args.leaked), "--strangers", str(args.strangers),
                        "--seed", str(args.seed)], check=True)
    truth = truth_of(args.directory)
    print(f"{'':<34} {'true':>7} {'false':>6} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8}")
    links, seconds, report = run_custody(args.directory, args.custody)
    scores("custody: certain", links["certain"], truth, seconds)
    scores("custody: certain and probable", links["both"], truth, seconds)
    linkage = report["linkage"]
    print(f"custody linkage: {linkage['rows_tried']} rows tried, {linkage['people_read']} people read, "
          f"{linkage['pairs']} pairs, {linkage['seconds']:.1f} s of {report['seconds']:.1f} s")
    if args.splink:
        at, seconds = run_splink(args.directory)
        scores("splink: p >= 0.999", at[0.999], truth, seconds)
        scores("splink: p >= 0.5", at[0.5], truth, seconds)


if __name__ == "__main__":
    main()
