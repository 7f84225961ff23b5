"""Entry point of the frozen Reverie (PyInstaller): the same as ``python -m assistant``.

``reverie doctor`` checks the system tray in a child process started as
``sys.executable -c CODE``. In the bundle ``sys.executable`` is this launcher, not a
Python interpreter, so ``-c CODE`` is handled here the way ``python -c`` would.
"""

import sys


def _main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "-c":
        code = sys.argv[2]
        sys.argv = ["-c", *sys.argv[3:]]
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
        return 0
    from assistant.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(_main())
