"""citycheck: the city health-check and assessment platform (城市体检评估信息平台).

Two layers: :mod:`citycheck.engine` computes (pandas/numpy/scipy, no Django) and the
Django apps beside it store, permit, schedule and show.
"""

__version__ = "0.1.0"
