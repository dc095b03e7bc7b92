"""``python -m pipeline`` runs the koubo command line."""

from pipeline.cli import app

app()
