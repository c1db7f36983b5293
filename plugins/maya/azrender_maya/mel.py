"""A tokenizer for the MEL subset Maya writes in ``.ma`` files, and the scene it describes.

Maya ASCII is a MEL script: ``createNode``, ``setAttr``, ``file -r``,
``requires``... statements ending in ``;``, strings in double quotes with
backslash escapes, statements spanning lines, ``//`` comments. The tokenizer
is one regular expression run over the text (no per-character Python loop).

:func:`parse_ma` does not tokenize everything: it finds whole statements with
regular expressions, tokenizes only the commands that change the scene, and
reads a ``setAttr``'s long value list (a mesh's ``.vt``, ``.n``, ``.fc``) only
far enough to know it is plain words. :func:`parse_ma_by_tokens` is the same
reading through :func:`statements`; the two give equal scenes.

>>> [t.text for t in tokenize('setAttr ".ftn" -type "string" "a;b\\\\"c";')]
['setAttr', '.ftn', '-type', 'string', 'a;b"c', ';']

A string value is a literal or, where Maya finds the line long, a
parenthesised ``+`` concatenation of literals over any number of lines
(``setAttr ".ftn" -type "string" (\n\t\t"C:/a/b.tga");``, ``("C:/a" + "/b.tga")``).
:func:`join_strings` reads both into one string token, for every statement
(``setAttr``, ``file -r``, ``fileInfo``...), in both readers.
>>> scene = parse_ma('//Maya ASCII 2024 scene\\ncreateNode file -n "file1";\\n'
...                  '\\tsetAttr ".ftn" -type "string" "tex/a.png";\\n')
>>> scene.nodes[0].type, scene.nodes[0].name, scene.nodes[0].attrs["ftn"]
('file', 'file1', 'tex/a.png')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Token:
    """One MEL token: a bare word (``setAttr``, ``-type``, ``3``), a string, or ``;``."""

    text: str
    quoted: bool = False


@dataclass
class MayaNode:
    """A dependency node and the attribute values the file sets on it.

    ``attrs`` maps the attribute as written (``ftn``, ``fileTextureName``,
    ``fn[0]``) to its value: the string for string attributes, the first word
    otherwise (``3``, ``yes``).
    """

    type: str
    name: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MayaReference:
    """A ``file -r`` reference (or a nested one recorded with ``-rdi``)."""

    path: str
    namespace: str = ""
    reference_node: str = ""
    file_type: str = ""
    depth_info: bool = False


@dataclass
class MayaScene:
    """What a scanner needs from one Maya file, whatever its format."""

    nodes: list[MayaNode] = field(default_factory=list)
    references: list[MayaReference] = field(default_factory=list)
    requires: list[tuple[str, str]] = field(default_factory=list)
    file_info: dict[str, str] = field(default_factory=dict)
    # ``currentUnit`` (``.ma``) / ``LUNI``, ``AUNI``, ``TUNI`` (``.mb``): "linear", "angle", "time".
    units: dict[str, str] = field(default_factory=dict)

    def node(self, name: str) -> MayaNode | None:
        """The last node created with ``name`` (leading ``:`` ignored)."""
        key = name.lstrip(":")
        for n in reversed(self.nodes):
            if n.name.lstrip(":") == key:
                return n
        return None


class MelSyntaxError(ValueError):
    """The text is not MEL as Maya writes it (e.g. a string that never closes)."""


_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>//[^\n]*|/\*.*?\*/)
    | "(?P<string>(?:[^"\\]|\\.)*)"
    | (?P<semi>;)
    | (?P<open>")
    | (?P<word>[^\s;"]+)
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def tokenize(text: str) -> Iterator[Token]:
    """Yield the tokens of ``text``; comments and whitespace are dropped.

    Raises :class:`MelSyntaxError` on a string that is not closed.
    """
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "word":
            yield Token(m.group("word"))
        elif kind == "string":
            yield Token(_unescape(m.group("string")), quoted=True)
        elif kind == "semi":
            yield Token(";")
        elif kind == "open":
            line = text.count("\n", 0, m.start()) + 1
            raise MelSyntaxError(f"string opened on line {line} is never closed")


def statements(text: str) -> Iterator[list[Token]]:
    """Group tokens into statements (without the ``;``).

    Raises :class:`MelSyntaxError` when the text ends inside a statement: a
    Maya-written file always ends its last statement with ``;``.
    """
    current: list[Token] = []
    for tok in tokenize(text):
        if tok.text == ";" and not tok.quoted:
            if current:
                yield current
            current = []
        else:
            current.append(tok)
    if current:
        raise MelSyntaxError(f"the file ends inside a `{current[0].text}` statement")


# Characters of the words a concatenation is made of: `(`, `+`, `)`, as Maya writes them
# apart (`(` at a line end, `+` starting the next line) or together with nothing else.
_PUNCTUATION = frozenset("()+")


def _concatenation(args: list[tuple[str, bool]], i: int) -> tuple[str, int] | None:
    """The string a ``( "a" + "b" ... )`` group starting at ``args[i]`` makes, and the index after it.

    Grammar (the part of MEL's string expressions Maya writes):
    ``group := "(" expr ")"``, ``expr := term ("+" term)*``, ``term := literal | group``.
    None when the tokens from ``i`` are not such a group (then they stay as they are).
    """
    items: list[tuple[bool, str]] = []  # (is a literal, text): punctuation one character each
    depth = 0
    j, n = i, len(args)
    while j < n:
        text, quoted = args[j]
        j += 1
        if quoted:
            items.append((True, text))
            continue
        if not text or not set(text) <= _PUNCTUATION:
            return None
        for k, ch in enumerate(text):
            depth += (ch == "(") - (ch == ")")
            items.append((False, ch))
            if depth == 0:
                if k != len(text) - 1:
                    return None  # `)+`, `)(`: the group ends inside a word
                break
        if depth == 0:
            break
    if depth != 0:
        return None
    pos = 0

    def expr() -> str | None:
        nonlocal pos
        parts: list[str] = []
        while True:
            part = term()
            if part is None:
                return None
            parts.append(part)
            if pos < len(items) and items[pos] == (False, "+"):
                pos += 1
                continue
            return "".join(parts)

    def term() -> str | None:
        nonlocal pos
        if pos >= len(items):
            return None
        literal, text = items[pos]
        pos += 1
        if literal:
            return text
        if text != "(":
            return None
        inner = expr()
        if inner is None or pos >= len(items) or items[pos] != (False, ")"):
            return None
        pos += 1
        return inner

    value = term()
    return (value, j) if value is not None and pos == len(items) else None


def join_strings(args: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """``args`` with each parenthesised ``+`` concatenation of literals read into one string token.

    >>> join_strings([(".ftn", True), ("(", False), ("C:/a", True), ("+", False), ("/b.tga", True), (")", False)])
    [('.ftn', True), ('C:/a/b.tga', True)]
    """
    if not any(not quoted and text[:1] == "(" for text, quoted in args):
        return args
    out: list[tuple[str, bool]] = []
    i, n = 0, len(args)
    while i < n:
        text, quoted = args[i]
        if not quoted and text[:1] == "(":
            found = _concatenation(args, i)
            if found is not None:
                out.append((found[0], True))
                i = found[1]
                continue
        out.append(args[i])
        i += 1
    return out


# setAttr flags that take one value; other flags (-av, -c...) take none.
_SETATTR_VALUE_FLAGS = frozenset(
    {
        "-s",
        "-size",
        "-type",
        "-k",
        "-keyable",
        "-l",
        "-lock",
        "-cb",
        "-channelBox",
        "-ca",
        "-caching",
    }
)
_CREATENODE_VALUE_FLAGS = frozenset({"-n", "-name", "-p", "-parent"})
_FILE_VALUE_FLAGS = frozenset(
    {
        "-rdi",
        "-ns",
        "-rfn",
        "-typ",
        "-op",
        "-dr",
        "-lck",
        "-shd",
        "-rpr",
        "-gr",
        "-gn",
        "-rnn",
        "-pmt",
    }
)
_REQUIRES_VALUE_FLAGS = frozenset({"-nodeType", "-dataType"})
# currentUnit -l centimeter -a degree -t film;
_CURRENTUNIT_FLAGS = {
    "-l": "linear",
    "-linear": "linear",
    "-a": "angle",
    "-angle": "angle",
    "-t": "time",
    "-time": "time",
}
_CURRENTUNIT_VALUE_FLAGS = frozenset(_CURRENTUNIT_FLAGS)
_UNSIGNED_RX = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_NUMBER_RX = "-?" + _UNSIGNED_RX
_NUMBER = re.compile(_NUMBER_RX)

# A token inside a statement, as a (text, quoted) pair: cheaper than a Token.
_Tok = tuple[str, bool]


def _is_flag(text: str, quoted: bool) -> bool:
    return not quoted and text[:1] == "-" and not _NUMBER.fullmatch(text)


def _flags(args: list[_Tok], value_flags: frozenset[str]) -> tuple[dict[str, str], list[_Tok]]:
    """Split ``args`` into flag values and positional tokens."""
    flags: dict[str, str] = {}
    positional: list[_Tok] = []
    i = 0
    n = len(args)
    while i < n:
        tok = args[i]
        if _is_flag(*tok):
            if tok[0] in value_flags and i + 1 < n:
                flags[tok[0]] = args[i + 1][0]
                i += 2
                continue
            flags[tok[0]] = ""
        else:
            positional.append(tok)
        i += 1
    return flags, positional


class _Builder:
    """Turns statements into a :class:`MayaScene`; finds nodes by name through a dict.

    ``node(name)`` answers what :meth:`MayaScene.node` answers (the last node
    created with that name) without walking the node list.
    """

    def __init__(self) -> None:
        self.scene = MayaScene()
        self.current: MayaNode | None = None
        self._by_name: dict[str, MayaNode] = {}

    def _add(self, node: MayaNode) -> MayaNode:
        self.scene.nodes.append(node)
        self._by_name[node.name.lstrip(":")] = node
        return node

    def _node_or_placeholder(self, name: str) -> MayaNode:
        return self._by_name.get(name.lstrip(":")) or self._add(MayaNode("", name))

    def statement(self, head: str, args: list[_Tok]) -> None:
        """One statement: its first (unquoted) word and the tokens after it."""
        if head == "setAttr":
            self.set_attr(args)
            return
        args = join_strings(args)
        if head == "createNode":
            if args:
                flags, pos = _flags(args, _CREATENODE_VALUE_FLAGS)
                node_type = pos[0][0] if pos else ""
                name = flags.get("-n") or flags.get("-name") or f"{node_type}1"
                self.current = self._add(MayaNode(node_type, name))
        elif head == "select":
            _, pos = _flags(args, frozenset())
            if pos:
                self.current = self._node_or_placeholder(pos[-1][0])
        elif head == "file":
            ref = _file_reference(args)
            if ref is not None:
                self.scene.references.append(ref)
        elif head == "requires":
            _, pos = _flags(args, _REQUIRES_VALUE_FLAGS)
            if pos:
                self.scene.requires.append((pos[0][0], pos[1][0] if len(pos) > 1 else ""))
        elif head == "fileInfo":
            if len(args) >= 2:
                self.scene.file_info[args[0][0]] = args[1][0]
        elif head == "currentUnit":
            flags, _ = _flags(args, _CURRENTUNIT_VALUE_FLAGS)
            for flag, value in flags.items():
                if flag in _CURRENTUNIT_FLAGS:  # e.g. -updateAnimation: not a unit, nothing to keep
                    self.scene.units[_CURRENTUNIT_FLAGS[flag]] = value

    def set_attr(self, args: list[_Tok]) -> None:
        flags, pos = _flags(join_strings(args), _SETATTR_VALUE_FLAGS)
        if not pos:
            return
        plug = pos[0][0]
        if plug.startswith("."):
            node, attr = self.current, plug[1:]
        elif "." in plug:
            name, attr = plug.split(".", 1)
            node = self._node_or_placeholder(name)
        else:
            return
        if node is None or len(pos) < 2 or (not pos[1][1] and pos[1][0][:1] == "("):
            return  # no value, or a concatenation that does not read: never the path `(`
        # a string value, or a single scalar word (``setAttr ".uvt" 3;``)
        if flags.get("-type") == "string" or ("-type" not in flags and len(pos) == 2):
            node.attrs[attr] = pos[1][0]


def _file_reference(args: list[_Tok]) -> MayaReference | None:
    flags, pos = _flags(args, _FILE_VALUE_FLAGS)
    if "-r" not in flags and "-reference" not in flags and "-rdi" not in flags:
        return None
    paths = [text for text, quoted in pos if quoted]
    if not paths:
        return None
    return MayaReference(
        path=paths[-1],
        namespace=flags.get("-ns", ""),
        reference_node=flags.get("-rfn", ""),
        file_type=flags.get("-typ", ""),
        depth_info="-rdi" in flags,
    )


# Commands whose statements change the scene; every other statement is only skipped.
_HANDLED = frozenset(
    {"setAttr", "createNode", "select", "file", "requires", "fileInfo", "currentUnit"}
)


def parse_ma(text: str) -> MayaScene:
    """Read the statements of a Maya ASCII file into a :class:`MayaScene`.

    Raises :class:`MelSyntaxError` on text that does not tokenize.

    The statements are found with whole-statement regular expressions (see
    :func:`_parse_fast`); text those do not vouch for (a string that never
    closes, a file that ends inside a statement...) is read again token by
    token with :func:`statements`, which gives the same scene or the error.
    """
    scene = _parse_fast(text)
    return scene if scene is not None else parse_ma_by_tokens(text)


def parse_ma_by_tokens(text: str) -> MayaScene:
    """:func:`parse_ma` through :func:`statements`, one :class:`Token` at a time (the reference)."""
    builder = _Builder()
    for stmt in statements(text):
        if not stmt[0].quoted:
            builder.statement(stmt[0].text, [(t.text, t.quoted) for t in stmt[1:]])
    return builder.scene


# --- the fast path -------------------------------------------------------------
#
# Each expression below reads text exactly as _TOKEN does, only more of it at
# once. Whitespace and comments, then the statement's first token.
_JUNK = r"(?:\s+|//[^\n]*|/\*.*?\*/)*+"
_HEAD = re.compile(_JUNK + r'([^\s;"]+)?', re.DOTALL)
# The rest of a statement, up to and including its `;`: runs of ordinary
# characters, strings, comments. A `/` starts a comment only where a token
# starts (after whitespace, `;`, a closing quote, or another comment); inside a
# word (`a//b`) it is an ordinary character, as for _TOKEN.
_BODY = re.compile(
    r"""(?:[^"/;]+
          |"(?:[^"\\]|\\.)*"
          |(?<![^\s;"])//[^\n]*
          |(?<![^\s;"])/\*.*?\*/(?:/\*.*?\*/)*+(?://[^\n]*)?
          |/
        )*+;""",
    re.DOTALL | re.VERBOSE,
)
# One token after optional whitespace and comments: a string (group 1) or a word (2).
_ONE_TOKEN = re.compile(_JUNK + r'(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))', re.DOTALL)
# Tokens of a statement known to be well formed (no `;`, strings closed).
_TOKENS = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|(")((?:[^"\\]|\\.)*)"|([^\s;"]+)', re.DOTALL)
# Where the rest of a statement is only positional words (numbers, `f`, `mu`,
# `yes`...) up to the next `;`: no `"` and no `/` there (so no string and no
# comment, and that `;` ends the statement), and no flag: a word starting with
# `-` must be a number (`-0.5`), not `-type` or `-1.#IND`. This finds such a flag
# (a `-` where a word starts, after whitespace or a closing quote). Checking a
# rest this way, with str.find and one search, is what skips the bulk of a mesh
# (`.vt`, `.n`, `.fc`) without tokenizing it.
_FLAG_WORD = re.compile(r'-(?<![^\s"]-)(?!' + _UNSIGNED_RX + r'(?![^\s;"]))')
# Flags of _SETATTR_VALUE_FLAGS but -type before a setAttr's plug, each with a plain word for its value.
_SETATTR_FLAGS_RX = r'(?:\s+-(?:k|keyable|l|lock|cb|channelBox|ca|caching|s|size)\s+[^\s;"/\-][^\s;"]*)*'
# The two setAttr forms most statements have, on the current node: one word
# (`setAttr ".v" no;`, not a flag) or a string (`setAttr ".ftn" -type "string" "a.png";`),
# after any _SETATTR_FLAGS_RX (`setAttr -k off ".v";`, `setAttr -l on ".tx" 5;`): those change nothing that is kept.
# Group 1 is the attribute, 2 the word (never one starting with `(`, which set_attr does not
# keep), 3 the string as written; neither: no value.
_SHORT_SETATTR = re.compile(
    _SETATTR_FLAGS_RX +
    r'\s+"\.([^"\\]*)"(?:\s+(?:([^\s;"/\-(][^\s;"]*|-' + _UNSIGNED_RX + r'(?![^\s;"]))'
    r'|-type\s+"string"\s+"((?:[^"\\]|\\.)*)"))?\s*;'
)
# The same flags and plug, then a type that is not "string" (`setAttr -s 4 ".uvst[0].uvsp[0:3]"
# -type "float2" 0 0 1 0;`): no value is kept from such a statement (a typed value is kept only
# for "string"), so once the rest is plain words (_plain_rest) it is only skipped.
_TYPED_SETATTR = re.compile(
    _SETATTR_FLAGS_RX +
    r'\s+"\.[^"\\]*"\s+-type\s+"(?!string")[^"\\]*"'
)
# `createNode <type> -n "<name>" [-p "<parent>"];`, the form Maya writes for most nodes:
# group 1 is the type, 2 the name.
_SHORT_CREATENODE = re.compile(
    r'\s+([^\s;"/\-][^\s;"]*)\s+-n\s+"([^"\\]*)"(?:\s+-p\s+"[^"\\]*")?\s*;'
)
# The first words of such a rest: enough to know the positional count up to "more than 2".
_FIRST_WORDS = re.compile(r"\s*(\S+)?\s*(\S+)?\s*(\S+)?\s*(\S+)?\s*(\S+)?")
# Tokens tried one at a time before giving up on a plain rest (flags and the plug come first).
_HEAD_TOKENS = 8


def _span_tokens(text: str, start: int, end: int) -> list[_Tok]:
    return [
        (word, False) if word else (_unescape(string), True)
        for quote, string, word in _TOKENS.findall(text, start, end)
        if quote or word
    ]


def _plain_rest(text: str, start: int, semi: int) -> bool:
    """Whether ``text[start:semi]`` is only positional words, so the ``;`` at ``semi`` ends the statement.

    No `"` (no string), no `/` (no comment), no `)` (a concatenation may close
    later) and no flag word (:data:`_FLAG_WORD`).
    """
    find = text.find
    return (find('"', start, semi) < 0 and find("/", start, semi) < 0 and find(")", start, semi) < 0
            and _FLAG_WORD.search(text, start, semi) is None)  # fmt: skip


def _set_attr_args(text: str, p: int) -> tuple[list[_Tok], int] | None:
    """The tokens of a ``setAttr`` statement from ``p``, and where it ends (after ``;``).

    Long value lists are not tokenized: once the rest is plain words, only its
    first five are kept (all later ones are positional and change nothing but
    a count that is already past two). None if the statement does not end.
    """
    args: list[_Tok] = []
    find = text.find
    for _ in range(_HEAD_TOKENS):
        semi = find(";", p)
        if semi < 0:
            return None  # no `;` anywhere after: the statement never ends
        if _plain_rest(text, p, semi):
            words = _FIRST_WORDS.match(text, p, semi)
            assert words is not None  # every part of _FIRST_WORDS is optional: it matches anywhere
            args += [(w, False) for w in words.groups() if w]
            return args, semi + 1
        t = _ONE_TOKEN.match(text, p)
        if t is None:
            break
        word = t.group(2)
        args.append((word, False) if word is not None else (_unescape(t.group(1)), True))
        p = t.end()
    m = _BODY.match(text, p)
    if m is None:
        return None
    args += _span_tokens(text, p, m.end() - 1)
    return args, m.end()


def _parse_fast(text: str) -> MayaScene | None:
    """:func:`parse_ma_by_tokens` by whole statements; None where it cannot vouch for the text."""
    builder = _Builder()
    pos, n = 0, len(text)
    head_match, body_match = _HEAD.match, _BODY.match
    short_set_attr, short_create_node = _SHORT_SETATTR.match, _SHORT_CREATENODE.match
    typed_set_attr, find = _TYPED_SETATTR.match, text.find
    while True:
        m = head_match(text, pos)
        assert m is not None  # _JUNK and the word are both optional: _HEAD matches anywhere
        head, p = m.group(1), m.end()
        if head is None:
            if p >= n:
                return builder.scene
            if text[p] == ";":
                pos = p + 1
                continue
            body = body_match(text, p)  # a statement starting with a string: skipped
            if body is None:
                return None
            pos = body.end()
        elif head == "setAttr":
            short = short_set_attr(text, p)
            if short is not None:
                pos = short.end()
                node = builder.current
                if node is not None:
                    attr, word, string = short.groups()
                    if word is not None:
                        node.attrs[attr] = word
                    elif string is not None:
                        node.attrs[attr] = _unescape(string)
                continue
            typed = typed_set_attr(text, p)
            if typed is not None:
                rest = typed.end()
                semi = find(";", rest)
                if semi >= 0 and _plain_rest(text, rest, semi):
                    pos = semi + 1  # keeps nothing (see _TYPED_SETATTR)
                    continue
            found = _set_attr_args(text, p)
            if found is None:
                return None
            builder.set_attr(found[0])
            pos = found[1]
        else:
            if head == "createNode":
                short = short_create_node(text, p)
                if short is not None:
                    node_type, name = short.groups()
                    builder.current = builder._add(MayaNode(node_type, name or f"{node_type}1"))
                    pos = short.end()
                    continue
            body = body_match(text, p)
            if body is None:
                return None
            pos = body.end()
            if head in _HANDLED:
                builder.statement(head, _span_tokens(text, p, pos - 1))
