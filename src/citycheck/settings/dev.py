"""The embedded demo: SQLite under var/, jobs inline, served by gunicorn (see Makefile)."""

from .base import *  # noqa: F403

DEBUG = False
