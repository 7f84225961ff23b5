"""Controllers: the work behind the window, one QObject per concern.

Each takes the widgets it drives and the open profile (:class:`assistant.app.Reverie`),
and reports through signals, so it can be tested without a MainWindow and the window
stays a shell that lays widgets out and connects signals.
"""
