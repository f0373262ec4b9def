"""Packages: ``matcher`` and ``web``, plus the top-level ``data/`` folder shipped as ``matcher.data``.

Every folder under them is a package (namespace packages too), so a folder of shipped files such as
``web/static`` or ``web/templates`` is named here and setuptools has nothing ambiguous to warn about.
Everything else (metadata, dependencies, package data) is in ``setup.cfg``. Building compiles the
message catalogs (``matcher/messages/locale/*/LC_MESSAGES/matcher.po``) to ``.mo`` files beside them,
so a wheel carries both.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

LOCALE = Path("matcher") / "messages" / "locale"


class build_py_with_catalogs(build_py):
    """``build_py`` that also writes each catalog's ``.mo`` into the build."""

    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
            with open(po, "rb") as f:
                catalog = read_po(f, locale=po.parts[-3])
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as f:
                write_mo(f, catalog)


setup(
    packages=find_namespace_packages(include=["matcher", "matcher.*", "web", "web.*"], exclude=["*.__pycache__"])
    + ["matcher.data", "matcher.data.demo"],
    package_dir={"matcher.data": "data"},
    cmdclass={"build_py": build_py_with_catalogs},
)
