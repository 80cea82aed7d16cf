"""The latest intent evaluation report on disk: ``report.json`` beside its PNG plots (``var/reports/nlu``).

The plots are the confusion matrix and confidence histogram of
:func:`training.evaluate.write_plots`, plus a per-intent F1 bar chart drawn here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from bot.errors import DataError

REPORT_FILE = "report.json"
F1_PLOT = "intent_f1.png"
# the plot files a report may name (anything else in the folder is never served)
PLOT_FILES = ("intent_f1.png", "intent_confusion.png", "intent_confidence.png")


def reports_dir(var_dir: Path | str) -> Path:
    """Where `helpdesk nlu test` and the console's retrain write the intent report and plots."""
    return Path(var_dir) / "reports" / "nlu"


def write_f1_plot(report: dict[str, Any], out_dir: Path | str) -> str:
    """A horizontal bar chart of F1 per intent (lowest first, the weak ones in red)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(report["per_intent"], key=lambda r: r["f1"])
    fig, ax = plt.subplots(figsize=(7, 0.28 * max(len(rows), 1) + 1.6), layout="constrained")
    colours = ["tab:red" if r["f1"] < 0.8 else "tab:blue" for r in rows]
    ax.barh([r["intent"] for r in rows], [r["f1"] for r in rows], color=colours)
    ax.set_xlim(0, 1)
    ax.axvline(0.8, color="black", linestyle=":", linewidth=1)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("F1 (cross-validation)")
    ax.set_title(f"F1 per intent (macro-F1 {report['macro_f1']:.3f})")
    path = Path(out_dir) / F1_PLOT
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


def save_report(report: dict[str, Any], out_dir: Path | str, **extra: Any) -> Path:
    """Write the public report (``extra`` fields added, e.g. the model version) atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    body = {k: v for k, v in report.items() if not k.startswith("_")}
    body.update(extra)
    body.setdefault("created_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    tmp = out / f".{REPORT_FILE}.tmp{os.getpid()}"
    tmp.write_text(json.dumps(body, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, out / REPORT_FILE)
    return out / REPORT_FILE


def write_full_report(report: dict[str, Any], out_dir: Path | str, *, policy: tuple[float, float],
                      **extra: Any) -> dict[str, str]:
    """Every plot plus ``report.json``: what `helpdesk nlu test` and the console's retrain both leave behind."""
    from training.evaluate import write_plots

    plots = write_plots(report, out_dir, policy=policy)
    plots["f1_per_intent"] = write_f1_plot(report, out_dir)
    report["plots"] = plots
    save_report(report, out_dir, **extra)
    return plots


def load_report(out_dir: Path | str) -> dict[str, Any] | None:
    """The latest saved report, or None when there is none yet."""
    path = Path(out_dir) / REPORT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DataError(f"the evaluation report cannot be read ({exc})", path=str(path)) from None
    return data if isinstance(data, dict) else None


def plot_file(out_dir: Path | str, name: str) -> Path | None:
    """A plot of the report folder by its file name (only the known plot names), if it exists."""
    if name not in PLOT_FILES:
        return None
    path = Path(out_dir) / name
    return path if path.is_file() else None


__all__ = ["PLOT_FILES", "REPORT_FILE", "load_report", "plot_file", "reports_dir", "save_report", "write_f1_plot",
           "write_full_report"]
