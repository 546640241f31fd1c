"""Code the lessons teach and later lessons reuse, generated from solutions/ (`# @save` cells)."""
