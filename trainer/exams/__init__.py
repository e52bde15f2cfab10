"""Timed exams: definitions, attempts, grading, practice and the wrong-answer book."""
