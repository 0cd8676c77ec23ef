"""The results table (stdout, README) and the PNG chart."""

from pathlib import Path

COLUMNS = [
    ("scenario", 20), ("conc", 5), ("requests", 8), ("req/s", 8), ("p50 ms", 8),
    ("p95 ms", 8), ("p99 ms", 8), ("errors", 6), ("5xx", 4), ("vs floor", 9), ("wrk CPU", 8),
]  # fmt: skip


def rows(report: dict) -> list[list[str]]:
    table = []
    for s in report["scenarios"]:
        latency = s["latency_ms"]
        ratio = s.get("ratio_to_floor")
        table.append(
            [
                s["name"],
                str(s["concurrency"]),
                str(s["requests"]),
                f"{s['throughput_rps']:.0f}",
                f"{latency['p50']:.1f}",
                f"{latency['p95']:.1f}",
                f"{latency['p99']:.1f}",
                str(s["errors"]),
                str(s["http_5xx"]),
                f"{ratio:.0%} {s['floor'].split('-')[0]}" if ratio is not None else "-",
                f"{s['loadgen_cpu_pct_of_one_core']:.0f}%",
            ]
        )
    return table


def print_table(report: dict) -> None:
    print()
    print("  ".join(name.rjust(width) for name, width in COLUMNS))
    for row in rows(report):
        print("  ".join(value.rjust(width) for value, (_, width) in zip(row, COLUMNS, strict=True)))
    for s in report["scenarios"]:
        if "checks" in s:
            print(f"{s['name']}: {s['checks']}")
        if "latency_vs" in s:
            print(f"{s['name']} latency / {s['compare_latency_with']}: {s['latency_vs']}")


def markdown_table(report: dict) -> str:
    header = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" if i == 0 else "--:" for i in range(len(COLUMNS))) + "|"
    body = ["| " + " | ".join(row) + " |" for row in rows(report)]
    return "\n".join([header, rule, *body])


def write_chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = report["scenarios"]
    names = [s["name"] for s in scenarios]
    positions = range(len(names))
    figure, (left, right) = plt.subplots(1, 2, figsize=(15, 6))

    colours = {
        "floor": "#888888", "search": "#1f77b4", "listings": "#2ca02c", "orders": "#d62728",
        "prototype": "#ff7f0e",
    }  # fmt: skip
    left.barh(
        list(positions),
        [s["throughput_rps"] for s in scenarios],
        color=[colours.get(s.get("group", ""), "#9467bd") for s in scenarios],
    )
    left.set_yticks(list(positions), names)
    left.invert_yaxis()
    left.set_xscale("log")
    left.set_xlabel("throughput, requests (orders) per second, log scale")
    for y, s in zip(positions, scenarios, strict=True):
        label = f"{s['throughput_rps']:.0f}"
        if s.get("ratio_to_floor") is not None:
            label += f"  ({s['ratio_to_floor']:.0%} of floor)"
        left.text(s["throughput_rps"], y, " " + label, va="center", fontsize=8)

    height = 0.27
    for offset, (percentile, colour) in enumerate(
        [("p50", "#6baed6"), ("p95", "#3182bd"), ("p99", "#08519c")]
    ):
        right.barh(
            [p + (offset - 1) * height for p in positions],
            [max(s["latency_ms"][percentile], 0.01) for s in scenarios],
            height=height,
            color=colour,
            label=percentile,
        )
    right.set_yticks(list(positions), names)
    right.invert_yaxis()
    right.set_xscale("log")
    right.set_xlabel("latency, ms, log scale")
    right.legend(loc="lower right")

    machine = report["machine"]
    figure.suptitle(
        f"Storefront bench ({report['mode']}, {report['started_at']}): {machine['cpus']} CPUs, "
        f"{report['server']['gunicorn']}, {report['dataset']['products']:,} products"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def cpu_table(report: dict) -> str:
    """Where the CPU went in each scenario, in cores (CPU seconds / wall seconds)."""
    groups = ["gunicorn", "postgres", "celery", "loadgen", "other", "machine"]
    lines = [
        "| scenario | " + " | ".join(groups) + " |",
        "|---|" + "--:|" * len(groups),
    ]
    for s in report["scenarios"]:
        window = s["cpu_s"].get("window_s") or s["duration_s"]
        cores = [s["cpu_s"].get(g, 0) / window for g in groups]
        lines.append(f"| {s['name']} | " + " | ".join(f"{c:.2f}" for c in cores) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results/latest.json")
    loaded = json.loads(path.read_text())
    print(markdown_table(loaded))
    print()
    print(cpu_table(loaded))
