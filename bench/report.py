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
                _ratio(ratio, s.get("floor", "")),
                f"{s['loadgen_cpu_pct_of_one_core']:.0f}%",
            ]
        )
    return table


def _ratio(ratio: float | None, floor: str) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.{0 if ratio >= 0.1 else 1}%} {floor.split('-')[0]}"


def print_table(report: dict) -> None:
    print()
    print("  ".join(name.rjust(width) for name, width in COLUMNS))
    for row in rows(report):
        print("  ".join(value.rjust(width) for value, (_, width) in zip(row, COLUMNS, strict=True)))
    for s in report["scenarios"]:
        if s.get("server_latency_ms"):
            print(f"{s['name']} in the server (request log): {s['server_latency_ms']}")
        if "checks" in s:
            print(f"{s['name']}: {s['checks']}")
        if "db_connections" in s:
            print(f"{s['name']} PostgreSQL connections: {s['db_connections']}")
        if "latency_vs" in s:
            print(f"{s['name']} latency / {s['compare_latency_with']}: {s['latency_vs']}")
    if versus := versus_table(report):
        print()
        print("\n".join(versus))


def versus_rows(report: dict) -> list[dict]:
    """Our search against Typesense's, per mix and number of clients: p95 latency and
    throughput, and ours as a ratio to Typesense's (p95 below 1 and throughput above 1 are
    ours ahead)."""
    by_name = {s["name"]: s for s in report["scenarios"]}
    rows = []
    for ours in report["scenarios"]:
        rival = by_name.get(ours.get("compare_latency_with", ""))
        if ours.get("group") != "versus" or rival is None:
            continue
        p95, rival_p95 = ours["latency_ms"]["p95"], rival["latency_ms"]["p95"]
        rps, rival_rps = ours["throughput_rps"], rival["throughput_rps"]
        rows.append(
            {
                "mix": ours["mix"], "clients": ours["concurrency"],
                "ours_p95_ms": p95, "typesense_p95_ms": rival_p95,
                "p95_ratio": round(p95 / rival_p95, 2) if rival_p95 else None,
                "ours_rps": rps, "typesense_rps": rival_rps,
                "throughput_ratio": round(rps / rival_rps, 2) if rival_rps else None,
                "errors": ours["errors"] + rival["errors"],
            }
        )  # fmt: skip
    return rows


def versus_table(report: dict) -> list[str]:
    rows = versus_rows(report)
    if not rows:
        return []
    engine = report.get("typesense", {})
    out = [
        f"Realistic catalog ({engine.get('realistic_products', 0):,} products): ours against "
        f"Typesense {engine.get('version', '')} on the same never-repeated searches, one right "
        "after the other (ratios: ours / Typesense's):",
        "",
        "| mix | clients | ours p95 ms | Typesense p95 ms | p95 ratio | ours req/s "
        "| Typesense req/s | throughput ratio | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        out.append(
            f"| {row['mix']} | {row['clients']} | {row['ours_p95_ms']:.1f} "
            f"| {row['typesense_p95_ms']:.1f} | {row['p95_ratio']} | {row['ours_rps']:.0f} "
            f"| {row['typesense_rps']:.0f} | {row['throughput_ratio']} | {row['errors']} |"
        )
    return [*out, ""]


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
        "versus": "#ff7f0e",
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
            label += f"  ({_ratio(s['ratio_to_floor'], s['floor'])})"
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
    right.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)

    machine = report["machine"]
    realistic = report.get("typesense", {}).get("realistic_products")
    figure.suptitle(
        f"Storefront bench ({report['mode']}, {report['started_at']}): {machine['cpus']} CPUs, "
        f"{report['server']['gunicorn']}, {report['dataset']['products']:,} products"
        + (f" (versus: {realistic:,} realistic products)" if realistic else "")
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def cpu_table(report: dict) -> str:
    """Where the CPU went in each scenario, in cores (CPU seconds / wall seconds)."""
    groups = ["gunicorn", "postgres", "celery", "typesense", "loadgen", "other", "machine"]
    lines = [
        "| scenario | " + " | ".join(groups) + " |",
        "|---|" + "--:|" * len(groups),
    ]
    for s in report["scenarios"]:
        window = s["cpu_s"].get("window_s") or s["duration_s"]
        cores = [s["cpu_s"].get(g, 0) / window for g in groups]
        lines.append(f"| {s['name']} | " + " | ".join(f"{c:.2f}" for c in cores) + " |")
    return "\n".join(lines)


def paired_table(report: dict) -> list[str]:
    paired = [s for s in report["scenarios"] if "paired_floor" in s]
    if not paired:
        return []
    out = [
        "Paired runs (the floor run, then the scenario's; machine busy in cores during each):",
        "",
        "| scenario | floor req/s | ratios | median | machine, floor runs | machine, runs |",
        "|---|---|---|--:|---|---|",
    ]
    for s in paired:
        p = s["paired_floor"]
        cells = [
            ", ".join(f"{v:.0f}" for v in p["floor_rps"]),
            ", ".join(f"{v:.0%}" for v in p["ratios"]),
            f"{s['ratio_to_floor']:.0%}",
            ", ".join(f"{v:.2f}" for v in p["floor_machine_cores"]),
            ", ".join(f"{v:.2f}" for v in p["machine_cores"]),
        ]
        out.append(f"| {s['name']} | " + " | ".join(cells) + " |")
    return [*out, ""]


def readme_section(report: dict) -> str:
    """The "Latest results" part of bench/README.md, generated from latest.json."""
    by_name = {s["name"]: s for s in report["scenarios"]}
    out = [
        f"Run of {report['started_at']} ({report['mode']}, {report['wall_s']:.0f} s wall), "
        f"{report['server']['gunicorn']}, wrk with 1 thread. `vs floor`: for the cached paths "
        "and orders, the median of paired runs' ratios (each run against the floor run just "
        "before it: the framework floor for HTTP reads, the raw-SQL floor on the same order "
        "list for orders; table below); otherwise throughput divided by `floor-django`'s. "
        "`floor-django-2` is the floor again after the search paths, to show the machine's "
        "drift.",
        "",
        markdown_table(report),
        "",
        *versus_table(report),
        "![throughput and latency per scenario](results/latest.png)",
        "",
        "CPU in cores (CPU seconds / wall seconds of the scenario; `other` = other tenants of the "
        "machine):",
        "",
        cpu_table(report),
        "",
    ]
    per_request = [
        f"{s['name']} {1000 * s['cpu_s']['gunicorn'] / s['requests']:.1f} ms"
        for s in report["scenarios"]
        if s["cpu_s"].get("gunicorn", 0) > 0.5
    ]
    out += ["Gunicorn CPU per request: " + ", ".join(per_request) + ".", ""]
    out += paired_table(report)
    checked = [s for s in report["scenarios"] if "checks" in s]
    out += [
        "Hot-SKU checks, read from the database after each scenario:",
        "",
        "| scenario | confirmed | rejected | orders/s | units sold | units deducted "
        "| negative rows | deadlocks | ledger ok |",
        "|---|--:|--:|--:|--:|--:|--:|--:|:-:|",
    ]
    for s in checked:
        c = s["checks"]
        out.append(
            f"| {s['name']} | {c['orders_confirmed']} | {c['orders_rejected']} "
            f"| {c['orders_per_s']} | {c['units_sold']} | {c['units_deducted']} "
            f"| {c['negative_rows']} | {c['deadlocks']} "
            f"| {'yes' if c['stock_ledger_ok'] else 'NO'} |"
        )
    slow = by_name.get("orders-slow-email")
    if slow and "latency_vs" in slow:
        vs = slow["latency_vs"]
        out += [
            "",
            f"Scenario 5: with every email taking 2 s, POST /orders/ latency was {vs['p50']}x "
            f"(p50), {vs['p95']}x (p95) and {vs['p99']}x (p99) that of orders-hot-10; "
            f"{slow['checks'].get('emails_sent_during_run')} emails went out during the "
            f"{slow['duration_s']:.0f} s run, {slow['checks'].get('emails_pending_at_end')} were "
            "still queued at its end.",
        ]
    return "\n".join(out)


def update_readme(report: dict, readme: Path) -> None:
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    text = readme.read_text()
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{readme_section(report)}\n{end}{tail}")


if __name__ == "__main__":
    import json
    import sys

    here = Path(__file__).resolve().parent
    args = [a for a in sys.argv[1:] if a != "--readme"]
    path = Path(args[0]) if args else here / "results" / "latest.json"
    loaded = json.loads(path.read_text())
    if "--readme" in sys.argv:
        update_readme(loaded, here / "README.md")
    else:
        print(readme_section(loaded))
