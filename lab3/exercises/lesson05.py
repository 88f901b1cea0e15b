"""Lesson 5's checked exercises."""
