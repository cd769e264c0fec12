#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks a bench_suite report.json: at least MIN cases from the four
suites, every case run in every Beddel mode with runs that all gave the
expected value, the security-profile cases under each of the three
profiles, and the goals listed with a verdict.

Usage: check_bench_report.py REPORT.json MIN_CASES
"""
import json
import sys

BEDDEL_MODES = ["baseline", "pipe", "socket", "oneshot"]
SUITES = {"standard", "profiles", "targets", "memory"}
PROFILES = {"ultra-secure", "high-security", "tenant-isolated"}


def fail(why):
    print("check_bench_report: " + why)
    sys.exit(1)


def check_case(case):
    by_mode = {m["mode"]: m for m in case["modes"]}
    for mode in BEDDEL_MODES:
        cell = by_mode.get(mode)
        if cell is None:
            fail("%s: no %s figures" % (case["name"], mode))
        if cell["failed"] or cell["unavailable"] or cell["runs_ok"] < 1:
            fail("%s in %s: %s" % (case["name"], mode, cell.get("why")))
        for key in ("median_us", "p90_us", "p99_us", "max_us"):
            if not cell[key] > 0:
                fail("%s in %s: %s is %r" % (case["name"], mode, key,
                                             cell[key]))
        if not cell["median_us"] <= cell["p90_us"] <= cell["p99_us"] \
                <= cell["max_us"]:
            fail("%s in %s: percentiles out of order" % (case["name"], mode))
    if "x_baseline" not in by_mode["socket"]:
        fail("%s: no ratio to baseline" % case["name"])
    if not by_mode["pipe"].get("heap_peak_bytes"):
        fail("%s: no heap peak from the worker" % case["name"])
    if not by_mode["socket"].get("rss_bytes"):
        fail("%s: no worker RSS from the supervisor" % case["name"])


def main():
    report = json.load(open(sys.argv[1]))
    cases = report["cases"]
    if len(cases) < int(sys.argv[2]):
        fail("%d cases, fewer than %s" % (len(cases), sys.argv[2]))
    if {c["suite"] for c in cases} != SUITES:
        fail("suites %r" % sorted({c["suite"] for c in cases}))
    profiles = {c["profile"] for c in cases if c["suite"] == "profiles"}
    if profiles != PROFILES:
        fail("the profiles suite covers %r" % sorted(profiles))
    for case in cases:
        check_case(case)
    names = [g["name"] for g in report["goals"]]
    for goal in ("latency", "supervisor hop", "one-shot"):
        if goal not in names:
            fail("no goal %r in %r" % (goal, names))
    print("check_bench_report: %d cases, all correct in %s" %
          (len(cases), ", ".join(BEDDEL_MODES)))


main()
