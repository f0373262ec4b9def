"""Packages: ``matcher`` and ``web``, plus the top-level ``data/`` folder shipped as ``matcher.data``.

Every folder under them is a package (namespace packages too), so a folder of shipped files such as
``web/static`` or ``web/templates`` is named here and setuptools has nothing ambiguous to warn about.
Everything else (metadata, dependencies, package data) is in ``setup.cfg``.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=find_namespace_packages(include=["matcher", "matcher.*", "web", "web.*"], exclude=["*.__pycache__"])
    + ["matcher.data", "matcher.data.demo"],
    package_dir={"matcher.data": "data"},
)
