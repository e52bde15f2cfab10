"""Question bank: the registry of question types, importers, exporters and duplicate keys.

Pure code: no Flask app, no database session. User-facing messages are
``flask_babel.lazy_gettext`` strings, which render in English outside an app context.
"""
