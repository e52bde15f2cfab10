"""Courses: lesson videos, their manifests, and the training hours they are worth.

`manifest` reads a course folder's ``course.toml`` (pure: no Flask, no database); `media` wraps
ffprobe/ffmpeg for checking and preparing lesson videos for phones on weak mobile networks.
"""
