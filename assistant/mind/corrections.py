"""Does a new fact correct a stored one? The rules live in `assistant.text.corrections`
(plain text, below both `mind` and `recall`: reconciliation supersedes memories with
them, and the query path prefers the newer of two snippets that disagree); this module
keeps the names sleep-time code imports."""

from assistant.text.corrections import Change, Reading, ValueKind, classify, has_cue, read

__all__ = ["Change", "Reading", "ValueKind", "classify", "has_cue", "read"]
