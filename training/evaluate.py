"""Cross-validation report for the intent model: per-intent P/R/F1, confused pairs, plots."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bot.encoding import TextEncoder
from intents.api import OUT_OF_SCOPE
from intents.classifier import ClassifierConfig
from intents.data import TrainingData
from intents.scope import calibrate, decide, decided_labels
from intents.trainer import DEFAULT_FOLDS, Progress, cross_val_predict, embed, fit_temperature, softmax


def cross_validate(data: TrainingData, encoder: TextEncoder, *, config: ClassifierConfig | None = None,
                   folds: int = DEFAULT_FOLDS, cache_path: Path | str | None = None,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Stratified k-fold evaluation of the whole decision (classifier + out-of-scope rule)."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    texts, gold = data.texts(), np.asarray(data.labels(), dtype=object)
    X = embed(texts, encoder, cache_path, progress)
    oof = cross_val_predict(X, texts, list(gold), config, folds=folds, progress=progress)
    classes = oof.classes
    temperature = fit_temperature(oof.logits, list(gold), classes)
    probs = softmax(oof.logits, temperature)
    point = calibrate(probs, list(gold), classes, oof.distances)
    decision = decide(probs, classes, point, oof.distances)
    pred = decided_labels(decision, classes)
    decided = decision.confidence  # P(out_of_scope) or 1 - top when rejected, else top
    raw = np.asarray(classes, dtype=object)[probs.argmax(axis=1)]
    labels = sorted(set(classes) | {OUT_OF_SCOPE} if OUT_OF_SCOPE in set(gold) else set(classes))
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    per_intent = [{"intent": lab, "precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                   "f1": round(float(f[i]), 4), "support": int(s[i])} for i, lab in enumerate(labels)]
    pairs = Counter((g, q) for g, q in zip(gold, pred, strict=True) if g != q)
    examples: dict[tuple[str, str], list[str]] = {}
    for text, g, q in zip(texts, gold, pred, strict=True):
        if g != q and len(examples.setdefault((g, q), [])) < 3:
            examples[(g, q)].append(text)
    correct = pred == gold
    return {
        "examples": len(texts),
        "intents": len(set(gold)),
        "folds": min(folds, min(Counter(gold).values())),
        "accuracy": round(float(correct.mean()), 4),
        "macro_f1": round(float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)), 4),
        "weighted_f1": round(float(f1_score(gold, pred, labels=labels, average="weighted",
                                            zero_division=0)), 4),
        "top1_macro_f1": round(float(f1_score(gold, raw, average="macro", zero_division=0)), 4),
        "oos_threshold": round(point.threshold, 4),
        "max_distance": round(point.max_distance, 2) if point.max_distance is not None else None,
        "beyond_max_distance": int((oof.distances > point.max_distance).sum())
        if point.max_distance is not None else 0,
        "temperature": round(temperature, 4),
        "per_intent": per_intent,
        "confused_pairs": [{"intent": g, "predicted": q, "count": n, "examples": examples[(g, q)]}
                           for (g, q), n in pairs.most_common(10)],
        "confidence": {"correct": [round(float(x), 4) for x in decided[correct]],
                       "wrong": [round(float(x), 4) for x in decided[~correct]]},
        "_matrix": confusion_matrix(gold, pred, labels=labels).tolist(),
        "_labels": labels,
    }


def write_plots(report: dict[str, Any], out_dir: Path | str,
                policy: tuple[float, float] | None = None) -> dict[str, str]:
    """Confusion-matrix and confidence-histogram PNGs (with the policy's low/high lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    labels = report["_labels"]
    matrix = np.asarray(report["_matrix"], dtype=float)
    norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(6.0, 0.35 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true intent")
    ax.set_title(f"Intent confusion (cross-validation, macro-F1 {report['macro_f1']:.3f})")
    fig.tight_layout()
    confusion_path = out / "intent_confusion.png"
    fig.savefig(confusion_path, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, 1, 21).tolist()
    ax.hist(report["confidence"]["correct"], bins=bins, alpha=0.7, label="correct", color="tab:green")
    ax.hist(report["confidence"]["wrong"], bins=bins, alpha=0.7, label="wrong", color="tab:red")
    if report["oos_threshold"] > 0:
        ax.axvline(report["oos_threshold"], color="black", linestyle="--", label="out-of-scope threshold")
    if policy is not None:
        ax.axvline(policy[0], color="tab:orange", linestyle=":", label=f"low_confidence {policy[0]:.2f}")
        ax.axvline(policy[1], color="tab:blue", linestyle=":", label=f"high_confidence {policy[1]:.2f}")
    ax.set_xlabel("confidence of the decided intent (out_of_scope included)")
    ax.set_ylabel("examples")
    ax.set_title("Confidence on held-out folds")
    ax.legend(loc="upper left")
    fig.tight_layout()
    histogram_path = out / "intent_confidence.png"
    fig.savefig(histogram_path, dpi=110)
    plt.close(fig)
    return {"confusion_matrix": str(confusion_path), "confidence_histogram": str(histogram_path)}


def public(report: dict[str, Any]) -> dict[str, Any]:
    """The report without internal fields (for ``--json``)."""
    return {k: v for k, v in report.items() if not k.startswith("_")}
