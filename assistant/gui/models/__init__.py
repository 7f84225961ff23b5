"""Qt item models over the store: long lists that load lazily, off the GUI thread."""
