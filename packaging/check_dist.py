"""Check a built wheel and sdist against the source tree (``make dist``, .ci/run, tests).

    python packaging/check_dist.py dist/reverie-0.1.0-py3-none-any.whl dist/reverie-0.1.0.tar.gz

A wheel without ``resources/`` installs fine and then answers every command with
"Reverie's resources folder is missing": this catches that before anyone installs it.
Checks that every file of ``resources/`` is in the wheel as ``assistant/_resources/...``
and in the sdist as ``resources/...`` (same bytes), that every module of ``assistant/``
is in both (a package setuptools did not find would be missing), and that the license
is the SPDX expression ``MIT`` with the LICENSE file. Standard library only. Exit code
0 when all hold, 1 with one line per problem otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SKIP = ("__pycache__", ".pyc", ".pyo")


def source_files(folder: str) -> dict[str, bytes]:
    """Files under ``REPO/folder`` (relative POSIX paths), without bytecode."""
    root = REPO / folder
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not any(part.endswith(SKIP) for part in p.parts)}


def read_wheel(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as wheel:
        return {name: wheel.read(name) for name in wheel.namelist() if not name.endswith("/")}


def read_sdist(path: Path) -> dict[str, bytes]:
    """Members of the sdist without the leading ``<name>-<version>/`` folder."""
    files: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as sdist:
        for member in sdist.getmembers():
            if member.isfile():
                handle = sdist.extractfile(member)
                assert handle is not None
                files[member.name.split("/", 1)[1]] = handle.read()
    return files


def compare(where: str, expected: dict[str, bytes], found: dict[str, bytes],
            prefix: str) -> list[str]:
    problems = []
    for name, data in expected.items():
        got = found.get(prefix + name)
        if got is None:
            problems.append(f"{where} lacks {prefix}{name}")
        elif got != data:
            problems.append(f"{where} has a different {prefix}{name}")
    return problems


def check(wheel_path: Path, sdist_path: Path) -> list[str]:
    """Every problem found, one sentence each (empty: the artifacts are complete)."""
    wheel, sdist = read_wheel(wheel_path), read_sdist(sdist_path)
    resources = source_files("resources")
    package = source_files("assistant")
    problems = [*compare("the wheel", resources, wheel, "assistant/_resources/"),
                *compare("the sdist", resources, sdist, "resources/"),
                *compare("the wheel", package, wheel, "assistant/"),
                *compare("the sdist", package, sdist, "assistant/")]
    if "prompts/answer_system.txt" not in resources:
        problems.append(f"{REPO / 'resources'} has no prompts: run this from a full checkout")

    metadata_name = next((n for n in wheel if n.endswith(".dist-info/METADATA")), None)
    if metadata_name is None:
        return [*problems, "the wheel has no METADATA"]
    metadata = HeaderParser().parsestr(wheel[metadata_name].decode("utf-8"))
    if metadata.get("License-Expression") != "MIT":
        problems.append(f"License-Expression is {metadata.get('License-Expression')!r}, "
                        "expected 'MIT'")
    if metadata.get("License") is not None:
        problems.append("the deprecated License field is set besides License-Expression")
    license_text = (REPO / "LICENSE").read_bytes()
    if not any(n.endswith(".dist-info/licenses/LICENSE") and data == license_text
               for n, data in wheel.items()):
        problems.append("the wheel lacks .dist-info/licenses/LICENSE")
    if sdist.get("LICENSE") != license_text:
        problems.append("the sdist lacks LICENSE")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", type=Path, help="the .whl file")
    parser.add_argument("sdist", type=Path, help="the .tar.gz file")
    args = parser.parse_args()
    for path, suffix in ((args.wheel, ".whl"), (args.sdist, ".tar.gz")):
        if not path.name.endswith(suffix) or not path.is_file():
            parser.error(f"{path} is not a {suffix} file; give the wheel, then the sdist")
    problems = check(args.wheel, args.sdist)
    for problem in problems:
        print(f"check_dist: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_dist: {args.wheel.name} and {args.sdist.name} carry every module and "
          f"resource, license MIT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
