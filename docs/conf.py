"""Sphinx configuration of the course site (``make site``; ``docs/build.py`` lays out the pages).

Sphinx + MyST-NB + the Sphinx Book Theme: the engine of Jupyter Book 1, used directly. It builds
offline: the theme's assets ship in its wheel, and nothing is fetched at build time. (Jupyter Book 2
/ mystmd downloads its site template from api.mystmd.org when it builds, which cannot work here or in
CI; the jupyter-book 1 package itself pins Sphinx 7.) Notebooks arrive executed (``nb_execution_mode
= "off"``): lectures by the same harness as ``tests/test_notebooks.py``, assignments as their
student release, never run.
"""

from pathlib import Path

project = "Recurrent"
author = "the Recurrent course"
copyright = "MIT licence"

extensions = ["myst_nb"]
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_execution_mode = "off"
# A widget view needs a live kernel; the same output also carries the result as PNG/text
# (utils.widgets), so skip the widget mime type and draw that. No widget JavaScript from a CDN.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]
nb_ipywidgets_js = {}
nb_merge_streams = True

# MathJax from the site itself (docs/build.py copies it into _static/ from django-static-mathjax), so the
# equations render offline; without that package Sphinx's default CDN address is used.
if (Path(__file__).parent / "_static" / "mathjax" / "es5" / "tex-mml-chtml.js").is_file():
    html_static_path = ["_static"]
    mathjax_path = "mathjax/es5/tex-mml-chtml.js"

html_theme = "sphinx_book_theme"
html_title = "Recurrent: recurrent neural networks, from scratch"
html_copy_source = False      # the pages are the content; no second copy of every notebook
html_show_sourcelink = False
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
# Lectures start with one H1 and use H2/H3 below it; a notebook may skip a level in its prose.
suppress_warnings = ["myst.header"]
