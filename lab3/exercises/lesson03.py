"""Lesson 3's checked exercises."""
