"""The stages of ``citycheck demo``, found in the apps and run in the order of the cycle.

An app takes part in the demo by a module ``<app>/demo.py`` with ``DEMO_STAGES``, a list of
``(name, function)``; ``function(progress)`` loads its part through the app's services and
returns counts for the summary line. Stages run in the order of ``INSTALLED_APPS`` (the
cycle's order), each in one transaction that also records it as finished, so a set-up
killed half-way resumes at the stage it was in and never leaves half of one behind.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable

from django.apps import apps
from django.db import transaction

from .models import DemoStage

Stage = tuple[str, Callable[[Callable[[str], None]], dict]]


def demo_stages() -> list[Stage]:
    """Every app's demo stages, in the order of the cycle."""
    stages: list[Stage] = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.demo"
        if (
            not config.name.startswith("citycheck.")
            or importlib.util.find_spec(module_name) is None
        ):
            continue
        stages.extend(getattr(importlib.import_module(module_name), "DEMO_STAGES", []))
    names = [name for name, _ in stages]
    if len(names) != len(set(names)):
        raise ValueError(f"demo stage names must be unique: {names}")
    return stages


def pending_stages() -> list[Stage]:
    """The stages not finished yet."""
    finished = set(DemoStage.objects.values_list("name", flat=True))
    return [stage for stage in demo_stages() if stage[0] not in finished]


def run_demo(*, progress: Callable[[str], None] = print) -> dict:
    """Run the stages not finished yet, each in its own transaction; returns their counts."""
    counts: dict = {}
    for name, load in pending_stages():
        progress(f"[{name}]")
        started = time.perf_counter()
        with transaction.atomic():
            counts |= load(progress) or {}
            DemoStage.objects.create(name=name)
        progress(f"[{name}] {time.perf_counter() - started:.1f} s")
    return counts
