"""The sleep-time item that fills memory search vectors."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from assistant.app import Reverie
from assistant.llm.embedding import EngineEmbedder, from_blob
from assistant.llm.engine import Preempted, Priority
from assistant.llm.fake import FakeEngine
from assistant.mind.embedding_work import EMBED_KIND, EmbedMemoriesHandler, embed_source
from assistant.mind.work import WorkContext, WorkInterrupted
from assistant.store.models import Memory, MemoryKind, WorkItem


def add_memories(app: Reverie) -> list[int]:
    ids = []
    with app.db.write() as s:
        for text in ("The rent goes to Mr. Duval", "Pixel the cat likes tea"):
            memory = Memory(text=text, kind=MemoryKind.FACT.value, subject="home")
            s.add(memory)
            s.flush()
            ids.append(memory.id or 0)
    return ids


def test_fills_missing_vectors_then_proposes_nothing(app: Reverie,
                                                     fake_engine: FakeEngine) -> None:
    ids = add_memories(app)
    assert [p.kind for p in embed_source(app.db)] == [EMBED_KIND]
    handler = EmbedMemoriesHandler(lambda: EngineEmbedder(fake_engine, Priority.BACKGROUND))
    outcome = handler.run(WorkItem(kind=EMBED_KIND, target="memories"),
                          WorkContext(fake_engine, app.db, lambda: False))
    assert outcome.apply is not None and "2 memories" in outcome.summary
    with app.db.write() as s:
        outcome.apply(s)
    with app.db.session() as s:
        vectors = [s.get(Memory, i).vector for i in ids]  # type: ignore[union-attr]
    assert all(v is not None and len(from_blob(v)) == 64 for v in vectors)
    assert list(embed_source(app.db)) == []


class PreemptedEmbedder:
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise Preempted("embedding stopped after 0/1 texts")


def test_a_preempted_embedding_goes_back_to_pending(app: Reverie,
                                                    fake_engine: FakeEngine) -> None:
    add_memories(app)
    handler = EmbedMemoriesHandler(PreemptedEmbedder)
    with pytest.raises(WorkInterrupted) as caught:
        handler.run(WorkItem(kind=EMBED_KIND, target="memories"),
                    WorkContext(fake_engine, app.db, lambda: False))
    assert caught.value.preempted
