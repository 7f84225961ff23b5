"""Plain text rules shared by sleep time (mind/) and the query path (recall/).

Words, dates, similarity and line helpers: deterministic, no model, no database, no
imports from the rest of Reverie. Rules here do what a 270M model cannot do reliably.
Two similarities live here on purpose, with names that say how they differ:
`similarity.word_overlap` (symmetric, any two texts) and `similarity.question_match`
(is a typed question the one a prepared answer was made for).
"""
