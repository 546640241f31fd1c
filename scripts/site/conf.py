"""Sphinx configuration of the course's website; scripts/build_site.py copies it into the prepared sources.

Everything the pages load ships in the installed packages (the book theme's CSS, JS and icon
fonts; MathJax 3 from sphinx-mathjax-offline): the site works offline and asks no CDN for anything.
"""
project = "GANs with PyTorch — a course that runs"
author = "the gan-course authors"
copyright = "the gan-course authors"

extensions = [
    "myst_nb",                 # notebooks and MyST markdown
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/mathjax (the package's folder has a dash)
    "sphinx.ext.githubpages",  # .nojekyll, so that GitHub Pages serves _static/ and _images/
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build"]

# The notebooks arrive executed by `make run` (or deliberately without outputs): never execute here.
nb_execution_mode = "off"
nb_merge_streams = True
nb_ipywidgets_js = {}  # widgets are replaced by build_site.py; no require.js / widget manager from a CDN
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 2   # "INSTRUCTORS.md#lesson-02" resolves to the heading "Lesson 02"
suppress_warnings = ["myst.header", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
html_title = "GANs with PyTorch"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_theme_options = {
    "repository_url": "https://github.com/gan-course/gan-course",
    "repository_branch": "main",
    "use_repository_button": True,
    "use_download_button": True,  # the executed notebook as .ipynb
    "show_toc_level": 1,
}
html_last_updated_fmt = None
# Light by default (matplotlib's figures have white backgrounds); the theme's switcher still offers dark.
# Without a value the theme's script logs "Got invalid theme mode" as a console error.
html_context = {"default_mode": "light"}
