"""Retrieval: BM25 over memories, notes and messages; vectors when an embedder is given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from assistant.app import Reverie
from assistant.llm.embedding import to_blob
from assistant.llm.fake import FakeEngine
from assistant.recall.retrieval import Fusion, Retriever, excerpt, query_terms
from assistant.store.models import Memory


def add_memory(app: Reverie, text: str, **kw: object) -> Memory:
    memory = Memory(text=text, **kw)  # type: ignore[arg-type]
    with app.db.write() as s:
        s.add(memory)
        s.flush()
        s.refresh(memory)
    return memory


def test_merges_the_three_indexes(app: Reverie) -> None:
    conv = app.chats.create_conversation("Pets").id or 0
    msg = app.chats.add_message(conv, "user", "Our cat Pixel has her vaccination on Friday.")
    note = app.notes.add("Home", "The plumber is Marc Petit.")
    fact = add_memory(app, "The cat Pixel needs her vaccination on 27 November",
                      sources={"messages": [msg.id]})
    old = add_memory(app, "The plumber was Jean Dupont")
    add_memory(app, "The plumber is Marc Petit, call him for the boiler")
    with app.db.write() as s:
        row = s.get(Memory, old.id)
        assert row is not None
        row.superseded_by = fact.id
    retriever = Retriever(app.db)
    cat = retriever.search("When is the cat's vaccination?", 5)
    # The message itself first; the fact drawn from it alone says nothing more.
    assert cat[0].kind == "message" and cat[0].id == msg.id
    assert not any(h.kind == "memory" and h.id == fact.id for h in cat)
    memory_first = Retriever(app.db, fusion=Fusion(20, (
        ("memory", 1.0), ("note", 1.0), ("message", 0.9), ("vector", 1.0),
        ("note_vector", 1.0)))).search("When is the cat's vaccination?", 5)
    assert memory_first[0].kind == "memory" and memory_first[0].id == fact.id
    assert not any(h.kind == "message" and h.id == msg.id for h in memory_first)  # covered
    assert memory_first[0].cites("message", msg.id or 0)
    plumber = retriever.search("Who is the plumber?", 5)
    assert {(h.kind, h.id) for h in plumber} >= {("note", note.id)}
    assert all(h.id != old.id for h in plumber if h.kind == "memory")  # superseded: hidden
    assert retriever.search("?", 5) == []
    assert retriever.search("vaccination", 5, exclude_conversation=conv)[0].kind == "memory"
    assert query_terms("When is my cat's vaccination?") == '"cat" OR "vaccination"'


class WordEmbedder:
    """A toy embedder: one dimension per known word."""

    VOCAB = ("landlord", "rent", "duval", "cat", "tea")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for text in texts:
            low = text.lower()
            vec = [1.0 if w in low else 0.0 for w in self.VOCAB]
            if "landlord" in low:
                vec[1] = vec[2] = 1.0  # the landlord is who gets the rent
            out.append(vec)
        return out


def test_vectors_find_what_words_miss(app: Reverie) -> None:
    embedder = WordEmbedder()
    rent = add_memory(app, "The rent of 950 euros goes to Mr. Duval")
    add_memory(app, "I like green tea")
    with app.db.write() as s:
        for m in s.exec(__import__("sqlmodel").select(Memory)):
            m.vector = to_blob(embedder.embed([m.text])[0])
            s.add(m)
    assert Retriever(app.db).search("Who is our landlord?", 5) == []
    hits = Retriever(app.db, embedder).search("Who is our landlord?", 5)
    assert hits and hits[0].id == rent.id
    # A note that says less of it does not push the fact down: with no word of the
    # question in the data, fact and note vectors count alike.
    note = app.notes.add("Flat", "Rent day is the first")
    hits = Retriever(app.db, embedder).search("Who is our landlord?", 5)
    assert [(h.kind, h.id) for h in hits][:2] == [("memory", rent.id), ("note", note.id)]


def test_vector_matrices_follow_changes_and_notes_get_vectors(app: Reverie) -> None:
    embedder = WordEmbedder()
    retriever = Retriever(app.db, embedder)
    assert retriever.search("Who is our landlord?", 5) == []
    rent = add_memory(app, "The rent of 950 euros goes to Mr. Duval",
                      vector=to_blob(embedder.embed(["rent duval"])[0]))
    hits = retriever.search("Who is our landlord?", 5)  # the cached matrix was read again
    assert [(h.kind, h.id) for h in hits] == [("memory", rent.id)]
    note = app.notes.add("Flat", "Pay Mr. Duval by the first")
    hits = retriever.search("Who is our landlord?", 5)
    assert ("note", note.id) in [(h.kind, h.id) for h in hits]  # by meaning only
    stored = app.notes.get(note.id or 0)
    assert stored is not None and stored.vector is not None
    with app.db.write() as s:
        row = s.get(Memory, rent.id)
        assert row is not None
        row.superseded_by = row.id
        s.add(row)
    assert all(h.kind != "memory" for h in retriever.search("Who is our landlord?", 5))


def test_a_chat_title_is_quoted_only_when_it_names_the_chat() -> None:
    from assistant.recall.retrieval import _titled

    assert _titled("chat", "Weekend plans") == 'chat "Weekend plans"'
    assert _titled("chat", 'The "big" move') == "chat \"The 'big' move\""
    # a sentence, or a value that may have been corrected since, is left out
    assert _titled("summary", "Mia's football training is at Hollis Park on Tuesdays at "
                              "17…") == "summary"
    assert _titled("chat", "Rent is £1,150") == "chat"
    assert _titled("chat", "周末计划" * 12) == "chat"
    assert _titled("chat", "  ") == "chat"


def test_handed_over_finds_the_newest_later_message_that_names_a_successor(
        app: Reverie) -> None:
    conv = app.chats.create_conversation("Work").id or 0

    def say(text: str, month: int) -> None:
        app.chats.add_message(conv, "user", text,
                              created_at=datetime(2026, month, 1, 9, 0, tzinfo=UTC))

    say("Tomas is leaving; my new manager will be Ana.", 2)  # before the fact: not later
    say("My manager is Tomas.", 3)
    say("Tomas says hi.", 4)
    say("Tomas is leaving after all; the new manager is Folasade Adeyemi.", 6)
    retriever = Retriever(app.db)
    found = retriever.handed_over("Tomas", "manager", datetime(2026, 3, 1, 9, 0))
    assert found is not None and found.takes_over == ("Folasade Adeyemi", "Tomas")
    assert found.created_at == datetime(2026, 6, 1, 9, 0)
    assert retriever.handed_over("Tomas", "dentist", datetime(2026, 3, 1)) is None
    assert retriever.handed_over("Tomas", "manager", datetime(2026, 7, 1, tzinfo=UTC)) is None
    assert retriever.handed_over("Zoë", "manager", datetime(2026, 1, 1)) is None
    assert retriever.handed_over("", "manager", datetime(2026, 1, 1)) is None
    assert retriever.handed_over("Mr.", "manager", datetime(2026, 1, 1)) is None


def test_handed_over_looks_past_many_later_mentions_and_at_the_same_time(
        app: Reverie) -> None:
    conv = app.chats.create_conversation("Work").id or 0
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    app.chats.add_message(conv, "user", "Mr. O’Neill is leaving; the new manager is Ana.",
                          created_at=when)
    for i in range(30):
        app.chats.add_message(conv, "user", f"Mr. O'Neill says hi {i}.",
                              created_at=datetime(2026, 4, 1, 9, i, tzinfo=UTC))
    found = Retriever(app.db).handed_over("Mr. O'Neill", "manager", when)
    assert found is not None and found.takes_over == ("Ana", "Mr. O'Neill")


def test_a_long_note_is_read_through_its_passages_about_the_question() -> None:
    short = "Dentist on Tuesday.\n\nBuy milk."
    assert excerpt(short, ["dentist"], limit=100) == short
    filler = "\n\n".join(f"Paragraph {i} about the garden and the kitchen." for i in range(400))
    body = f"{filler}\n\nThe dentist is on Tuesday at 10:30.\n\n{filler}\n- dentist: Dr. Okafor"
    assert excerpt(body, ["dentist"], limit=2000) == (
        "The dentist is on Tuesday at 10:30.\n- dentist: Dr. Okafor")
    # Found by meaning alone (no word of the question in it): its opening.
    assert excerpt(body, ["plumber"], limit=100) == body[:100]
    # Never longer than the limit, however many passages say the words.
    assert len(excerpt(body, ["garden"], limit=500)) <= 500


def test_the_passages_saying_most_of_the_question_win_and_words_are_whole() -> None:
    """A reviewer's cases: many passages about the plumber's appointment must not push
    out the one about the dentist's; lines joined by single newlines are passages too;
    "car" is not "care"."""
    plumber = "\n".join(f"Plumber appointment {i} was moved again." for i in range(400))
    body = f"{plumber}\nDentist appointment on 14 March at 9:00.\n{plumber}"
    got = excerpt(body, ["dentist", "appointment"], limit=1000)
    assert "Dentist appointment on 14 March" in got and len(got) <= 1000
    care = "\n".join("Self-care and skincare tips for the scarf season, Oscar." for _ in range(400))
    got = excerpt(f"{care}\nMy car is a dark green Skoda.", ["car"], limit=500)
    assert got == "My car is a dark green Skoda."
    one_line = " ".join(["filler words here"] * 3000) + " the locker code is 4417 " + " ".join(
        ["more filler"] * 3000)
    assert "locker code is 4417" in excerpt(one_line, ["locker", "code"], limit=1000)


def test_a_fact_deep_in_a_huge_note_is_found_and_quoted(app: Reverie,
                                                        fake_engine: FakeEngine) -> None:
    filler = "\n\n".join(f"Paragraph {i}: the garden, the kitchen and the budget."
                         for i in range(4000))
    app.notes.add("Everything", f"{filler}\n\nThe dentist appointment is on Tuesday at "
                                f"10:30 with Dr. Okafor.\n\n{filler}")
    conv = app.chats.create_conversation("").id or 0
    answer = app.responder(fake_engine).ask("When is my dentist appointment?", conv,
                                            mode="memory")
    assert "Tuesday at 10:30" in answer.answer


def test_a_long_line_is_cut_into_pieces_at_spaces_losing_nothing() -> None:
    from assistant.recall.retrieval import PASSAGE_CHARS, _passages

    line = " ".join(f"w{i}" for i in range(5000))
    pieces = list(_passages(f"{line}\n\n  short  \n" + "x" * (2 * PASSAGE_CHARS + 5)))
    assert all(0 < len(p) <= PASSAGE_CHARS for p in pieces)
    assert " ".join(pieces[:-4]).split() == line.split()
    assert pieces[-4:] == ["short", "x" * PASSAGE_CHARS, "x" * PASSAGE_CHARS, "xxxxx"]
