"""Helpers for the GAN course: the plumbing each lesson imports, so that the lesson shows the ideas. One module
per concept, named for what it holds; `checks` holds the check cells that follow each exercise (one module per
lesson), `taught` what a lesson teaches and later lessons reuse, generated from its `# @save` cells."""
