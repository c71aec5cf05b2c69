"""Evaluation and prediction results as text: plain table, JSON, CSV, markdown.

Room: consumers (render). Reads the plain dicts of
:meth:`cnnspec.engine.train.metrics.Evaluation.to_dict` and of predictions. Class and
image names come from files: CSV cells go through :func:`cnnspec.render.safe_text.csv_row`.
"""

from __future__ import annotations

import io
import json
from typing import Any

from cnnspec.render.safe_text import csv_row, csv_writer


def evaluation_json(result: dict[str, Any]) -> str:
    """The whole result, indented JSON."""
    return json.dumps(result, indent=2) + "\n"


def evaluation_csv(result: dict[str, Any]) -> str:
    """One row per class: scores, then that class's row of the confusion matrix."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    classes = result["classes"]
    writer.writerow(csv_row(["label", "class", "precision", "recall", "f1", "support",
                             *(f"predicted_{c['name']}" for c in classes)]))
    for c, counts in zip(classes, result["confusion"], strict=True):
        writer.writerow(csv_row([c["label"], c["name"], f"{c['precision']:.6g}",
                                 f"{c['recall']:.6g}", f"{c['f1']:.6g}", c["support"],
                                 *counts]))
    return buffer.getvalue()


def summary_line(result: dict[str, Any]) -> str:
    """``accuracy 98.33% (354 of 360), mean loss 0.0587`` and what was scored."""
    n = result["examples"]
    right = round(result["accuracy"] * n)
    return (f"{result['checkpoint']} on {result['data']} ({result['part']}): accuracy "
            f"{result['accuracy']:.2%} ({right} of {n}), mean loss {result['loss']:.4f}")


def evaluation_markdown(result: dict[str, Any]) -> str:
    """The summary, a per-class table and the confusion matrix, in markdown."""
    classes = result["classes"]
    lines = [f"**{summary_line(result)}**", "",
             "| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {c['name']} | {c['precision']:.2%} | {c['recall']:.2%} | {c['f1']:.2%} | "
              f"{c['support']} |" for c in classes]
    names = [c["name"] for c in classes]
    lines += ["", "Confusion matrix (rows: true class, columns: predicted class)", "",
              "| true \\ predicted | " + " | ".join(names) + " |",
              "|---|" + "---:|" * len(names)]
    lines += [f"| {name} | " + " | ".join(str(v) for v in counts) + " |"
              for name, counts in zip(names, result["confusion"], strict=True)]
    return "\n".join(lines) + "\n"


def predictions_rows(predictions: list[dict[str, Any]]) -> list[list[Any]]:
    """``[image, rank, label, class, probability]`` rows, best class first per image."""
    return [[p["image"], rank, t["label"], t["class"], t["probability"]]
            for p in predictions for rank, t in enumerate(p["top"], start=1)]


def predictions_csv(predictions: list[dict[str, Any]]) -> str:
    """The rows of :func:`predictions_rows` with a header."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["image", "rank", "label", "class", "probability"])
    for image, rank, label, name, prob in predictions_rows(predictions):
        writer.writerow(csv_row([image, rank, label, name, f"{prob:.6g}"]))
    return buffer.getvalue()


def predictions_markdown(predictions: list[dict[str, Any]]) -> str:
    """A markdown table of the top classes."""
    lines = ["| image | rank | class | probability |", "|---|---:|---|---:|"]
    lines += [f"| {image} | {rank} | {name} | {prob:.2%} |"
              for image, rank, _, name, prob in predictions_rows(predictions)]
    return "\n".join(lines) + "\n"
