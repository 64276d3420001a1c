"""Changing notes: new notes from a template, front-matter field edits, text appended under a
heading, and the user's editor. Above :mod:`papernotes.engine`."""
