"""Lesson 6's checked exercises."""
