"""Retrieval by meaning with the real built-in embedder: the vocabulary-mismatch question
of `bench recall` finds its fact, and words and vectors are fused."""

from __future__ import annotations

from sqlmodel import select

from assistant.app import Reverie
from assistant.llm.embedding import WordLlamaEmbedder, to_blob
from assistant.recall.retrieval import Retriever
from assistant.store.models import Memory

FACTS = {
    "rent": "The rent of 950 euros goes to Mr. Duval on the first of every month.",
    "mother": "My mother lives in Gothenburg.",
    "dentist": "The dentist appointment is on Tuesday at 9.",
    "tea": "I like green tea with honey.",
    "manager": "My manager Tomas wants our 1:1 moved.",
    "cat": "The cat Pixel needs her vaccination on 27 November.",
}


def _memories(app: Reverie) -> dict[str, int]:
    embedder = WordLlamaEmbedder()
    ids = {}
    with app.db.write() as s:
        for subject, text in FACTS.items():
            memory = Memory(subject=subject, text=text)
            s.add(memory)
            s.flush()
            ids[subject] = memory.id or 0
        for m in s.exec(select(Memory)):  # as the sleep-time embedding work stores them
            m.vector = to_blob(embedder.embed([f"{m.subject}: {m.text}"])[0])
            s.add(m)
    return ids


def test_the_landlord_is_found_though_no_text_says_landlord(app: Reverie) -> None:
    ids = _memories(app)
    assert Retriever(app.db).search("Who is our landlord?", 5) == []  # words alone miss it
    hits = Retriever(app.db, WordLlamaEmbedder()).search("Who is our landlord?", 5)
    assert ("memory", ids["rent"]) in [(h.kind, h.id) for h in hits]


def test_words_and_vectors_agreeing_rank_first(app: Reverie) -> None:
    ids = _memories(app)
    hits = Retriever(app.db, WordLlamaEmbedder()).search("When is the cat's vaccination?", 5)
    assert hits[0].kind == "memory" and hits[0].id == ids["cat"]
