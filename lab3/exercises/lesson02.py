"""Lesson 2's checked exercises."""
