"""Sphinx configuration for the skaae documentation.

Build with ``python -m sphinx -b html docs docs/_build/html`` from the
repository root (needs the ``docs`` and ``examples`` extras). The examples in
``examples/`` run during the build and become the gallery in
``docs/auto_examples``.
"""

import os
import re
import sys
from pathlib import Path

# Example code runs inside the build. With passive waiting, PyTorch's OpenMP
# threads sleep instead of spinning when the CPU is shared with other work,
# which can otherwise slow small networks down many times. It must be set
# before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import skaae  # noqa: E402

project = "skaae"
author = "the skaae developers"
copyright = "the skaae developers"
release = skaae.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"

# -- API pages -------------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
# numpydoc writes the Parameters / Attributes sections; the class template in
# _templates/ lists the methods, so numpydoc need not add member tables.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False



# Inherited scikit-learn methods (``score`` of the classifiers) bring
# scikit-learn's own cross-references, which resolve only in its documentation;
# keep their text and drop the link.
_SKLEARN_REFERENCE = re.compile(r":(?:ref|term):`([^`<]*?)(?:\s*<[^`>]*>)?`")


def _unlink_sklearn_references(app, what, name, obj, options, lines):
    if getattr(obj, "__module__", "").startswith("sklearn."):
        lines[:] = [_SKLEARN_REFERENCE.sub(r"\1", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _unlink_sklearn_references)


# -- gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "plot_",
    "doc_module": ("skaae",),
    # The API pages include gen_modules/<object>.examples: the examples that use it.
    "backreferences_dir": "gen_modules",
    "reference_url": {"skaae": None},
    "download_all_examples": False,
    "matplotlib_animations": False,
    # No sg_execution_times.rst in docs/: it would be an untracked build product.
    "write_computation_times": False,
}

# -- HTML --------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skaae {release}"
html_static_path = []
