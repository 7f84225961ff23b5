"""MemoryRepository: list, search, history, sources, edit, pin, forget and restore."""

from __future__ import annotations

import pytest

from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.memories import MemoryRepository
from assistant.store.models import Memory
from assistant.store.notes import NoteRepository


def _add(db: Database, **kw: object) -> Memory:
    memory = Memory(**kw)  # type: ignore[arg-type]
    with db.write() as s:
        s.add(memory)
        s.flush()
        s.refresh(memory)
    return memory


def _supersede(db: Database, old: Memory, new: Memory) -> None:
    with db.write() as s:
        row = s.get(Memory, old.id)
        assert row is not None
        row.superseded_by = new.id
        s.add(row)


def test_list_get_search_history(db: Database) -> None:
    repo = MemoryRepository(db)
    v1 = _add(db, subject="Maya", text="Maya lives in Porto")
    v2 = _add(db, subject="Maya", text="Maya lives in Lisbon")
    _supersede(db, v1, v2)
    other = _add(db, kind="summary", scope="conversation", text="Talked about herons")
    assert {m.id for m in repo.list()} == {v2.id, other.id}
    assert {m.id for m in repo.list(include_superseded=True)} == {v1.id, v2.id, other.id}
    assert [m.id for m in repo.list(kind="summary")] == [other.id]
    assert [m.id for m in repo.search("lives")] == [v2.id]
    assert {m.id for m in repo.search("lives", include_superseded=True)} == {v1.id, v2.id}
    assert repo.search("  ") == []
    assert [m.id for m in repo.history(v2.id or 0)] == [v2.id, v1.id]
    assert repo.get(4242) is None and repo.history(4242) == []


def test_sources_resolve_rows(db: Database) -> None:
    chats, notes, repo = ChatRepository(db), NoteRepository(db), MemoryRepository(db)
    conv = chats.create_conversation("c")
    msg = chats.add_message(conv.id or 0, "user", "dentist on Friday")
    note = notes.add("Health", "dentist Dr. Silva")
    base = _add(db, text="base")
    m = _add(db, text="Dentist on Friday",
             sources={"messages": [msg.id], "notes": [note.id], "memories": [base.id]})
    src = repo.sources(m.id or 0)
    assert [x.id for x in src.messages] == [msg.id]
    assert [x.id for x in src.notes] == [note.id]
    assert [x.id for x in src.memories] == [base.id]
    with pytest.raises(KeyError):
        repo.sources(4242)


def test_edit_and_pin(db: Database) -> None:
    repo = MemoryRepository(db)
    m = _add(db, text="likes tea")
    edited = repo.update_text(m.id or 0, "  likes   green tea ")
    assert edited.text == "likes green tea" and edited.edited
    assert repo.set_pinned(m.id or 0, True).pinned
    assert not repo.set_pinned(m.id or 0, False).pinned
    with pytest.raises(ValueError):
        repo.update_text(m.id or 0, "   ")
    with pytest.raises(KeyError):
        repo.set_pinned(4242, True)


def test_forget_removes_history_and_restore_undoes(db: Database) -> None:
    repo = MemoryRepository(db)
    v1 = _add(db, subject="Maya", text="Maya lives in Porto", sources={"messages": [1]})
    v2 = _add(db, subject="Maya", text="Maya lives in Lisbon", pinned=True)
    _supersede(db, v1, v2)
    forgotten = repo.forget(v2.id or 0)
    assert repo.get(v1.id or 0) is None and repo.get(v2.id or 0) is None
    assert repo.search("lives", include_superseded=True) == []
    restored = repo.restore(forgotten)
    assert restored.id == v2.id and restored.pinned
    back = repo.get(v1.id or 0)
    assert back is not None and back.superseded_by == v2.id and back.sources == {"messages": [1]}
    assert [m.id for m in repo.search("lives")] == [v2.id]
    with pytest.raises(KeyError):
        repo.forget(4242)


def test_forget_takes_what_was_derived_and_hands_it_to_the_hook(db: Database) -> None:
    handed: list[set[int]] = []
    repo = MemoryRepository(db, after_delete=lambda gone: handed.append(gone.memories))
    fact = _add(db, text="Locker code 4417.")
    profile = _add(db, kind="profile", text="- Locker code 4417.",
                   sources={"memories": [fact.id]})
    other = _add(db, text="Tomatoes need water.")
    forgotten = repo.forget(fact.id or 0)
    assert handed == [{fact.id, profile.id}]
    assert repo.get(profile.id or 0) is None and repo.get(other.id or 0) is not None
    assert repo.search("4417") == []
    assert repo.restore(forgotten).text == "Locker code 4417."  # undo brings the fact back


def test_an_outdated_message_s_successors_are_the_ends_of_its_chains(db: Database) -> None:
    from assistant.store.memories import current_successors

    with db.write() as s:
        last = Memory(text="Final answer: a barn in Fowey.", sources={"messages": [3]})
        s.add(last)
        s.flush()
        middle = Memory(text="A cottage in St Ives instead.", sources={"messages": [2]},
                        superseded_by=last.id)
        s.add(middle)
        s.flush()
        s.add(Memory(text="A cottage in Padstow.", sources={"messages": [1]},
                     superseded_by=middle.id))
        gone = Memory(kind="summary", text="forgotten", sources={})
        s.add(gone)
        s.flush()
        s.add(Memory(text="Old value of a forgotten chain.", sources={"messages": [4]},
                     superseded_by=gone.id))
        s.add(Memory(text="Still so.", sources={"messages": [5]}))
    with db.session() as s:
        found = current_successors(s.connection(), [1, 2, 3, 4, 5, 6])
    assert found == {1: [last.id], 2: [last.id], 4: []}
