"""Certificates: catalogue, records, status rules, suspension periods, backlog, verification."""
