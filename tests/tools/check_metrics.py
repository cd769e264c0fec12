# SPDX-License-Identifier: MIT
"""Parses Prometheus text exposition (version 0.0.4) from stdin with the
prometheus_client library's parser, which rejects text that breaks the
format, and checks what Beddel's metrics must hold: every family typed,
histogram buckets cumulative and ending in +Inf equal to _count.
Prints one line per family; exits 1 on any problem."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def check_histogram(family):
    series = {}
    for sample in family.samples:
        labels = tuple(sorted((k, v) for k, v in sample.labels.items()
                              if k != "le"))
        series.setdefault(labels, {"buckets": [], "count": None})
        if sample.name.endswith("_bucket"):
            series[labels]["buckets"].append((sample.labels["le"],
                                              sample.value))
        elif sample.name.endswith("_count"):
            series[labels]["count"] = sample.value
    for labels, s in series.items():
        values = [v for _, v in s["buckets"]]
        if values != sorted(values):
            raise ValueError(f"{family.name}{labels}: buckets decrease")
        if not s["buckets"] or s["buckets"][-1][0] != "+Inf":
            raise ValueError(f"{family.name}{labels}: no +Inf bucket")
        if s["buckets"][-1][1] != s["count"]:
            raise ValueError(f"{family.name}{labels}: +Inf is not _count")


def main():
    text = sys.stdin.read()
    try:
        families = list(text_string_to_metric_families(text))
        for family in families:
            if family.type == "unknown":
                raise ValueError(f"{family.name}: no TYPE line")
            if family.type == "histogram":
                check_histogram(family)
            print(family.name, family.type, len(family.samples))
    except ValueError as e:
        print(f"bad metrics: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
