"""Ranking by bounded posting lists (`store.fts.ranked_ids`): a large index is searched
through the newest rows of each common word and every row of a rare one."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from assistant.store import fts
from assistant.store.chats import ChatRepository
from assistant.store.db import Database


def test_varints_decode_sqlite_encoding() -> None:
    assert fts._varints(bytes([0x05, 0x81, 0x00, 0xFF, 0x7F])) == [5, 128, 16383]


def test_large_index_ranks_rare_and_complete_matches_first(
        db: Database, chats: ChatRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fts, "NEWEST_PER_WORD", 20)
    conv = chats.create_conversation("x").id or 0
    other = chats.create_conversation("y").id or 0
    rare = chats.add_message(conv, "user", "The walrus lives at the harbour")
    for i in range(60):  # "harbour" is common, and newer than the rare row
        chats.add_message(conv, "user", f"harbour note {i} with a few more words in it")
    hidden = chats.add_message(other, "user", "walrus harbour")
    with db.session() as s:
        con = s.connection()
        ranked = fts.ranked_ids(con, "message", ["walrus", "harbour"], 5)
        assert [i for i, _ in ranked[:2]] == [hidden.id, rare.id]
        assert all(score < 0 for _, score in ranked)
        kept = fts.ranked_ids(con, "message", ["walrus", "harbour"], 5,
                              where="AND t.conversation_id != :c", params={"c": other})
        assert kept[0][0] == rare.id and hidden.id not in [i for i, _ in kept]
        # A small index is ranked by FTS5's bm25(), as before.
        monkeypatch.setattr(fts, "NEWEST_PER_WORD", 500)
        exact = fts.ranked_ids(con, "message", ["walrus"], 5)
        bm25 = [int(r[0]) for r in con.execute(text(
            "SELECT rowid FROM message_fts WHERE message_fts MATCH 'walrus' "
            "ORDER BY bm25(message_fts)"))]
        assert [i for i, _ in exact] == bm25
    assert fts.ranked_ids(db.engine.connect(), "message", ["?!"], 5) == []
