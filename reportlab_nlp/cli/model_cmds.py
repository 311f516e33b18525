"""Placeholder: commands of this group are registered here by their owner."""
from __future__ import annotations
