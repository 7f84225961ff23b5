"""The command line's door into a running Reverie: one owner-only local socket per
profile (docs/ARCHITECTURE.md, "Command line").

Plain Python, no Qt and no application services: ``address`` decides where the socket
of a profile lives, ``protocol`` frames JSON messages on it, ``server`` accepts clients
of the same user and hands each request to a handler on its own thread, ``client``
sends one command line and relays what comes back (streamed output, the exit code,
Ctrl-C). What a request *does* is decided above this package (``cli.remote``).
"""
