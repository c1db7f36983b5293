"""Keep secrets out of presets: presets are shared, committed and printed.

A key whose name looks like a credential, or a string value that looks like
one, anywhere in the document, is refused. Nothing here ever returns or
formats the value itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from azrender.presets.fields import DECLARED_KEYS
from azrender.presets.locate import KeyPath

CREDENTIALS_HINT = (
    "credentials come from azure-identity (az login, managed identity) or the "
    "AZURE_STORAGE_CONNECTION_STRING environment variable, never from a preset"
)

# Words that make a key name a credential, matched against the name's words
# (``storage_account_key`` -> storage, account, key; ``sasToken`` -> sas, token).
_SECRET_WORDS = frozenset(
    {
        "key",
        "keys",
        "sas",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "credential",
        "credentials",
        "cred",
        "creds",
        "apikey",
        "accountkey",
        "sastoken",
        "connstr",
        "connectionstring",
        "signature",
        "sig",
        "cert",
        "certificate",
        "pfx",
    }
)
_SECRET_PHRASES = ("connection_string", "private_key", "client_secret")

_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"accountkey\s*=", re.IGNORECASE), "an `AccountKey=` connection string"),
    (
        re.compile(r"sharedaccesssignature\s*=", re.IGNORECASE),
        "a `SharedAccessSignature=` connection string",
    ),
    (re.compile(r"(?:^|[?&;\s])sig=", re.IGNORECASE), "a SAS signature (`sig=`)"),
    (re.compile(r"[A-Za-z0-9+/]{62,}=="), "a long base64 key"),
    (
        re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:[^/@\s]*@", re.IGNORECASE),
        "a user name and password in the URL",
    ),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
)


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def secret_key_name(name: str) -> bool:
    """True when a key's name says it holds a credential (declared keys never do)."""
    if name in DECLARED_KEYS:
        return False
    words = _words(name)
    joined = "_".join(words)
    if any(phrase in joined for phrase in _SECRET_PHRASES):
        return True
    if "".join(words) in _SECRET_WORDS:
        return True
    return any(w in _SECRET_WORDS for w in words)


def secret_value_reason(value: str) -> str | None:
    """What credential a string looks like (never the string itself), or None."""
    for pattern, reason in _VALUE_PATTERNS:
        if pattern.search(value):
            return reason
    return None


def walk(data: Mapping[str, object], prefix: KeyPath = ()) -> Iterator[tuple[KeyPath, object]]:
    """Every (path, value) in a parsed TOML document, tables and arrays included, in order."""
    for key, value in data.items():
        path = (*prefix, key)
        yield path, value
        yield from _walk_value(value, path)


def _walk_value(value: object, path: KeyPath) -> Iterator[tuple[KeyPath, object]]:
    if isinstance(value, Mapping):
        yield from walk(value, path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*path, i), item
            yield from _walk_value(item, (*path, i))


def find_secret(data: Mapping[str, object]) -> tuple[KeyPath, str] | None:
    """The first credential in ``data``: (its path, why it looks like one)."""
    for path, value in walk(data):
        last = path[-1]
        if isinstance(last, str) and secret_key_name(last):
            return path, "is a credential key; remove it"
        if isinstance(value, str):
            reason = secret_value_reason(value)
            if reason:
                return path, f"looks like a credential (it contains {reason}); remove it"
    return None


def toml_comments(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line, text after ``#``) of every comment in TOML ``text``.

    A ``#`` inside a basic, literal or multi-line string is not a comment
    (TOML 1.0, "Comment"); the scanner follows string state across lines.

    >>> list(toml_comments("a = 'x#y'  # note\\nb = '''\\n# in a string\\n'''\\n# last"))
    [(1, ' note'), (5, ' last')]
    """
    quote: str | None = None  # the delimiter of the string we are inside
    for number, line in enumerate(text.splitlines(), start=1):
        i = 0
        while i < len(line):
            c = line[i]
            if quote is not None:
                if quote[0] == '"' and c == "\\":
                    i += 2  # an escape: the next character never ends the string
                    continue
                if line.startswith(quote, i):
                    i += len(quote)
                    quote = None
                    continue
                i += 1
                continue
            if c == "#":
                yield number, line[i + 1 :]
                break
            if c in "\"'":
                quote = c * 3 if line.startswith(c * 3, i) else c
                i += len(quote)
                continue
            i += 1
        if quote is not None and len(quote) == 1:
            quote = None  # a one-line string never spans lines (a syntax error tomllib reports)


def secret_in_comments(text: str) -> tuple[int, str] | None:
    """The first comment that holds a credential: (its line, what it looks like), else None.

    The same detector as for values (:func:`secret_value_reason`), on the whole
    comment and on each of its words (a URL with a password is matched from its start).
    """
    for number, comment in toml_comments(text):
        for candidate in (comment, *comment.split()):
            reason = secret_value_reason(candidate)
            if reason:
                return number, reason
    return None
