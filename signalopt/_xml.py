"""Safe XML reading and atomic file writing (I/O details kept out of the models)."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from .errors import InputError


def check_file(path: Path, what: str = "file") -> Path:
    if not path.exists():
        raise InputError(path, f"{what} not found", None)
    if not path.is_file():
        raise InputError(path, f"{what} is not a file", None)
    return path


def parse_xml(path: str | Path) -> Element:
    """Parse an XML file, refusing entity tricks; errors name the file and position."""
    path = check_file(Path(path), "XML file")
    try:
        if path.name.endswith(".gz"):  # SUMO reads gzipped networks and outputs as they are
            with gzip.open(path, "rb") as fh:
                return SafeET.parse(fh).getroot()
        return SafeET.parse(str(path)).getroot()
    except (gzip.BadGzipFile, EOFError) as exc:
        raise InputError(path, "not a readable gzip file", str(exc) or type(exc).__name__) from None
    except DefusedXmlException as exc:
        raise InputError(path, "XML refused (entities or DTD are not allowed)", type(exc).__name__) from None
    except ParseError as exc:
        raise InputError(path, "malformed XML", str(exc)) from None
    except UnicodeDecodeError as exc:
        raise InputError(path, "file is not valid UTF-8 text", f"byte {exc.start}") from None


def read_json_object(path: Path, what: str) -> dict:
    """A JSON file's top-level object; one-line errors for bad bytes, bad JSON or another top-level type.

    ``json.loads`` builds only plain data: a user file is never unpickled or evaluated.
    """

    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is accepted, as in the CSV and XML readers
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(path, f"{what} is not UTF-8 text", f"byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, "malformed JSON", f"line {exc.lineno} col {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise InputError(path, "malformed JSON", str(exc).split(";")[0]) from None
    except RecursionError:
        raise InputError(path, "malformed JSON", "nested too deeply") from None
    if not isinstance(doc, dict):
        raise InputError(path, f"{what} must hold a JSON object", type(doc).__name__)
    return doc


def check_schema_version(path: str | Path, doc: dict, expected: int) -> None:
    """Refuse a file whose ``schema_version`` is not the integer ``expected``.

    ``type()``, not ``==``: ``true`` and ``1.0`` equal 1 in Python, and neither is a version number.
    """
    version = doc.get("schema_version")
    if type(version) is not int or version != expected:  # noqa: E721
        raise InputError(path, f"schema_version must be the integer {expected}", repr(version)[:60])


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename, so a
    crash never leaves a half-written file under the final name."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """:func:`atomic_write_text` for bytes (e.g. a rendered figure)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(path, "cannot write here", exc.strerror or type(exc).__name__) from None
    try:
        # mkstemp makes the file private (0600); a report or an export is for others to read, so it gets the
        # mode any new file gets here (0666 less the umask), as open() would give it
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    """The process's umask (read by setting it, the only way, and setting it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def xml_escape(value: object) -> str:
    return (str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
