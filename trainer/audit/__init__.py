"""Audit log of admin actions: who, what, when, before and after."""
