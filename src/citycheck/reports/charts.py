"""Charts drawn on the server with matplotlib (Agg), so Word and PDF files stand alone.

Each chart function takes the ``data`` of a :class:`~citycheck.reports.document.Figure`
and returns PNG bytes. Chinese labels use the Noto CJK font found by fontconfig; the
PNG carries no timestamp, so the same numbers give the same bytes.
"""

from __future__ import annotations

import functools
import io
import subprocess

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.collections import PatchCollection
from matplotlib.patches import Polygon

WARNING_COLOURS = {"green": "#1a9850", "yellow": "#fee08b", "red": "#d73027", "": "#bdbdbd"}
FONT_FAMILY = "Noto Sans CJK SC"


@functools.cache
def cjk_font_path() -> str:
    """The file of the Noto Sans CJK SC font (Debian ``fonts-noto-cjk``)."""
    found = subprocess.run(
        ["fc-match", "-f", "%{file}", FONT_FAMILY], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not found:
        raise RuntimeError(f"font {FONT_FAMILY!r} not found by fc-match; install fonts-noto-cjk")
    return found


@functools.cache
def _font() -> font_manager.FontProperties:
    path = cjk_font_path()
    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    plt.rcParams.update({"font.family": name, "axes.unicode_minus": False, "svg.hashsalt": "0"})
    return font_manager.FontProperties(fname=path)


def render(kind: str, data: dict) -> bytes:
    """PNG bytes of the chart ``kind`` (radar, trend, bars, map) drawn from ``data``."""
    _font()
    try:
        draw = CHARTS[kind]
    except KeyError:
        raise ValueError(f"kind: unknown chart {kind!r}; known: {sorted(CHARTS)}") from None
    figure = draw(data)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def radar(data: dict):
    """``labels``, ``series`` = {name: [score per label]} on a 0–100 radar."""
    labels = data["labels"]
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False).tolist()
    figure, axes = plt.subplots(figsize=(5.5, 4.6), subplot_kw={"polar": True})
    for name, scores in data["series"].items():
        closed = [*scores, scores[0]]
        axes.plot([*angles, angles[0]], closed, linewidth=1.5, label=name)
        axes.fill([*angles, angles[0]], closed, alpha=0.15)
    axes.set_xticks(angles, labels)
    axes.set_ylim(0, 100)
    axes.legend(loc="lower right", bbox_to_anchor=(1.25, -0.08), fontsize=8)
    figure.tight_layout()
    return figure


def trend(data: dict):
    """``years`` and ``series`` = {name: [value per year or None]}."""
    figure, axes = plt.subplots(figsize=(6, 3.4))
    for name, values in data["series"].items():
        points = [(y, v) for y, v in zip(data["years"], values, strict=True) if v is not None]
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", linewidth=1.5, label=name)
    axes.set_xticks(data["years"], [str(y) for y in data["years"]])
    axes.set_ylabel(data.get("ylabel", ""))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    figure.tight_layout()
    return figure


def bars(data: dict):
    """Horizontal bars: ``labels``, ``values``, optional ``colours`` and ``xlabel``."""
    count = len(data["labels"])
    figure, axes = plt.subplots(figsize=(6, max(2.0, 0.28 * count + 0.8)))
    positions = np.arange(count)[::-1]
    axes.barh(positions, data["values"], color=data.get("colours") or "#4575b4")
    axes.set_yticks(positions, data["labels"], fontsize=8)
    axes.set_xlabel(data.get("xlabel", ""))
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def map(data: dict):
    """Polygons coloured by value: ``features`` = [{name, geometry, value}] (GeoJSON)."""
    figure, axes = plt.subplots(figsize=(5.5, 5.5))
    patches, values, labels = [], [], []
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]]
            if geometry["type"] == "Polygon"
            else geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else []
        )
        for polygon in polygons:
            patches.append(Polygon(np.asarray(polygon[0]), closed=True))
            values.append(np.nan if feature["value"] is None else feature["value"])
        if polygons and data.get("label", True):
            ring = np.asarray(max(polygons, key=lambda p: len(p[0]))[0])
            labels.append((ring[:, 0].mean(), ring[:, 1].mean(), feature["name"]))
    collection = PatchCollection(patches, cmap="RdYlGn", edgecolor="white", linewidth=0.4)
    collection.set_array(np.ma.masked_invalid(values))
    axes.add_collection(collection)
    axes.autoscale_view()
    axes.set_aspect("equal")
    axes.axis("off")
    for x, y, name in labels:
        axes.text(x, y, name, fontsize=6, ha="center", va="center")
    figure.colorbar(collection, ax=axes, shrink=0.6, label=data.get("legend", ""))
    axes.set_title(data.get("note", ""), fontsize=7, loc="left")
    figure.tight_layout()
    return figure


CHARTS = {"radar": radar, "trend": trend, "bars": bars, "map": map}
