"""Accounts: users, roles, employers, regions, log-in, API tokens."""
