"""Thin shim so `python cli.py ...` works from a checkout; the CLI lives in reportlab_nlp.cli."""

from reportlab_nlp.cli import main

if __name__ == "__main__":
    main()
