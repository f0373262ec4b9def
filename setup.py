"""Packages: ``matcher`` and ``web``, plus the top-level ``data/`` folder shipped as ``matcher.data``.

Everything else (metadata, dependencies, package data) is in ``setup.cfg``.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["matcher", "matcher.*", "web", "web.*"]) + ["matcher.data", "matcher.data.demo"],
    package_dir={"matcher.data": "data"},
)
