"""The citycheck engine: scoring, the composite index and its analysis, framework-free.

Pure functions over pandas/numpy/scipy; never imports Django. Import submodules by name
(``citycheck.engine.weights``, ``citycheck.engine.index`` ...); this package imports nothing
so that each module stays cheap to load. See ``docs/engine/index.md``.
"""
