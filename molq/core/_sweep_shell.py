"""Sweeps, part 3: a template's values reach shell text as variable references, never as text.

Rules of this module:
  Rule 1: a value never appears in shell text. Each ``{name}`` becomes a reference to
          ``$MOLQ_ARG_<name>``, written for the quoting context it stands in
          (unquoted, "double", 'single', here-document), and the value travels in
          the job's environment.
  Rule 2: the one exception is the body of a quoted here-document (``<<'EOF'``),
          which the shell never expands: there a value of plain characters is
          written as it is, and any other value is a SpecError.
  Rule 3: bash evaluates the text of variables in arithmetic as code, so a value
          placed in ``$(( ))`` or ``(( ))`` must be an integer.
  Rule 4: ``$'...'`` cannot hold a reference, and neither can the code of a
          non-shell inline script (``#!/usr/bin/env python``): a placeholder
          there is a SpecError pointing at the environment variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from ._errors import SpecError


ARG_ENV_PREFIX: Final = "MOLQ_ARG_"
PLACEHOLDER: Final = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")
_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLAIN_VALUE: Final = re.compile(r"[A-Za-z0-9_.,:/+=@%-]*")
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
_SHELLS: Final = frozenset({"sh", "bash", "dash", "ksh", "mksh", "zsh", "ash", "busybox"})
_WORD_END: Final = frozenset(" \t\n;&|()<>")
_OPENERS: Final = (("$((", "arith"), ("$(", "cmd"), ("`", "bq"))

TextOf = Callable[[str], str]
_DQ_ESCAPES: Final = frozenset('$`"\\\n')  # the characters a backslash escapes inside "..."


def arg_env_name(name: str) -> str:
    """The environment variable that carries sweep argument ``name``."""
    return ARG_ENV_PREFIX + name


def arg_env(texts: Mapping[str, str]) -> dict[str, str]:
    """``MOLQ_ARG_<name>`` for every argument whose name can be a variable name."""
    return {arg_env_name(k): v for k, v in texts.items() if _IDENTIFIER.match(k)}


def script_interpreter(text: str) -> str | None:
    """The interpreter named by a ``#!`` line (``python3`` for ``#!/usr/bin/env python3``)."""
    if not text.startswith("#!"):
        return None
    words = text[2:].split("\n", 1)[0].split()
    if not words:
        return None
    name = words[0].rsplit("/", 1)[-1]
    if name == "env":
        rest = [w for w in words[1:] if not w.startswith("-")]
        name = rest[0].rsplit("/", 1)[-1] if rest else name
    return name


def check_inline_script(text: str) -> None:
    """Refuse placeholders in an inline script whose interpreter is not a shell.

    Raises:
        SpecError: the script names another interpreter and holds a ``{name}``.
    """
    interpreter = script_interpreter(text)
    if interpreter is None or interpreter in _SHELLS:
        return
    for match in PLACEHOLDER.finditer(text):
        if match.group(2) is not None:
            name = match.group(2)
            msg = (
                f"placeholder {{{name}}} in an inline {interpreter} script cannot be filled safely: "
                f"read the environment variable {arg_env_name(name)} instead (every sweep "
                "argument is exported to the job)"
            )
            raise SpecError(msg)


def render_shell(template: str, text_of: TextOf) -> str:
    """``template`` with every ``{name}`` turned into a reference to its variable.

    Args:
        template: shell text (a ``command=`` or an inline shell script).
        text_of: the text of argument ``name``; raises SpecError for an unknown one.

    Raises:
        SpecError: an unknown placeholder, or a value that breaks Rule 2, 3 or 4.
    """
    return _Scanner(template, text_of).run()


class _Scanner:
    """One pass over shell text, tracking the quoting context of every position."""

    def __init__(self, text: str, text_of: TextOf) -> None:
        self.text = text
        self.text_of = text_of
        self.out: list[str] = []
        self.stack: list[str] = ["top"]
        self.depth: list[int] = [0]
        self.heredocs: list[tuple[str, bool, bool]] = []
        self.pos = 0

    def run(self) -> str:
        while self.pos < len(self.text):
            if not self._placeholder():
                self._step()
        return "".join(self.out)

    # -- placeholders ------------------------------------------------------------

    def _placeholder(self) -> bool:
        match = PLACEHOLDER.match(self.text, self.pos)
        if match is None:
            return False
        self.pos = match.end()
        if match.group(1) is not None:
            self.out.append("{" + match.group(1) + "}")
            return True
        name = match.group(2)
        self.out.append(self._reference(name, self.stack[-1]))
        return True

    def _reference(self, name: str, context: str) -> str:
        value = self.text_of(name)
        ref = "${" + arg_env_name(name) + "}"
        if context in ("top", "cmd", "bq"):
            return f'"{ref}"'
        if context in ("dq", "heredoc"):
            return ref
        if context == "sq":
            return f"'\"{ref}\"'"
        if context == "arith":
            if not _INTEGER.fullmatch(value):
                msg = f"{{{name}}} is used in shell arithmetic, where bash runs text as code: its value must be an integer, got {value!r}"
                raise SpecError(msg)
            return ref
        if context == "literal" and _PLAIN_VALUE.fullmatch(value):
            return value
        where = "a quoted here-document" if context == "literal" else "$'...'"
        msg = (
            f"{{{name}}} with value {value!r} cannot be placed inside {where}: use double quotes "
            f'("{{{name}}}") or an unquoted here-document delimiter'
        )
        raise SpecError(msg)

    # -- quoting contexts ----------------------------------------------------------

    def _copy(self, count: int = 1) -> None:
        self.out.append(self.text[self.pos : self.pos + count])
        self.pos += count

    def _push(self, context: str) -> None:
        self.stack.append(context)
        self.depth.append(0)

    def _pop(self) -> None:
        if len(self.stack) > 1:
            self.stack.pop()
            self.depth.pop()

    def _step(self) -> None:
        context = self.stack[-1]
        char = self.text[self.pos]
        if context == "sq":
            self._copy()
            if char == "'":
                self._pop()
        elif context == "ansi":
            self._copy(2 if char == "\\" else 1)
            if char == "'":
                self._pop()
        elif context == "dq":
            self._step_double(char)
        else:
            self._step_code(context, char)

    def _opener(self) -> bool:
        for token, context in _OPENERS:
            if self.text.startswith(token, self.pos):
                self._copy(len(token))
                self._push(context)
                return True
        return False

    def _step_double(self, char: str) -> None:
        if char == "\\":
            self._copy(2)
        elif char == '"':
            self._copy()
            self._pop()
        elif not self._opener():
            self._copy()

    def _step_code(self, context: str, char: str) -> None:
        if char == "\\":
            self._copy(2)
        elif char == "`" and context == "bq":
            self._copy()
            self._pop()
        elif self._open_quote(char) or self._opener():
            pass
        elif char in "()":
            self._paren(context, char)
        elif not self._comment_or_heredoc(context, char):
            self._copy()
            if char == "\n" and self.heredocs:
                self._heredoc_bodies()

    def _open_quote(self, char: str) -> bool:
        if self.text.startswith("$'", self.pos):
            self._copy(2)
            self._push("ansi")
        elif char in "'\"":
            self._copy()
            self._push("sq" if char == "'" else "dq")
        else:
            return False
        return True

    def _paren(self, context: str, char: str) -> None:
        if char == ")":
            self._close_paren(context)
        elif self.text.startswith("((", self.pos) and context != "arith":
            self._copy(2)
            self._push("arith")
        else:
            self.depth[-1] += 1
            self._copy()

    def _comment_or_heredoc(self, context: str, char: str) -> bool:
        text, pos = self.text, self.pos
        if context == "arith":
            return False
        if char == "#" and (pos == 0 or text[pos - 1] in _WORD_END):
            self._comment()
        elif text.startswith("<<<", pos):
            # a here-string: copied whole, so its last two "<" are not read as "<<"
            self._copy(3)
        elif text.startswith("<<", pos):
            self._heredoc_operator()
        else:
            return False
        return True

    def _close_paren(self, context: str) -> None:
        if self.depth[-1] > 0:
            self.depth[-1] -= 1
            self._copy()
        elif context == "arith":
            self._copy(2 if self.text.startswith("))", self.pos) else 1)
            self._pop()
        else:
            self._copy()
            if context == "cmd":
                self._pop()

    def _comment(self) -> None:
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        while self.pos < end:
            if not self._placeholder():
                self._copy()

    # -- here-documents ------------------------------------------------------------

    def _heredoc_operator(self) -> None:
        strip = self.text.startswith("<<-", self.pos)
        self._copy(3 if strip else 2)
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self._copy()
        start = self.pos
        quote: str | None = None
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote is None and char in _WORD_END:
                break
            if char == "\\" and quote != "'":
                self.pos += 1
            elif quote is None and char in "'\"":
                quote = char
            elif char == quote:
                quote = None
            self.pos += 1
        word = self.text[start : self.pos]
        self.out.append(word)
        quoted = any(c in word for c in "'\"\\")
        self.heredocs.append((_unquote(word), strip, quoted))

    def _heredoc_bodies(self) -> None:
        pending, self.heredocs = self.heredocs, []
        for delimiter, strip, quoted in pending:
            self._push("literal" if quoted else "heredoc")
            while self.pos < len(self.text):
                end = self.text.find("\n", self.pos)
                end = len(self.text) if end < 0 else end + 1
                line = self.text[self.pos : end].rstrip("\n")
                if (line.lstrip("\t") if strip else line) == delimiter:
                    self._copy(end - self.pos)
                    break
                self._body_line(end, quoted=quoted)
            self._pop()

    def _body_line(self, end: int, *, quoted: bool) -> None:
        while self.pos < end:
            if self._placeholder():
                continue
            if not quoted and self.text[self.pos] == "\\":
                self._copy(2)
            elif not quoted and self._opener():
                self._expansion_in_body()
            else:
                self._copy()

    def _expansion_in_body(self) -> None:
        """Copy a ``$(...)``/backtick/arithmetic inside a here-document line, placeholders included."""
        depth = len(self.stack)
        while self.pos < len(self.text) and len(self.stack) >= depth:
            if not self._placeholder():
                self._step()


def _unquote(word: str) -> str:
    r"""A here-document delimiter as the shell reads it: ``word`` after quote removal.

    A backslash is literal inside '...' and escapes only ``$ ` " \`` and newline
    inside "...", so ``<<'a\b'`` ends at the line ``a\b``, not ``ab``.
    """
    out: list[str] = []
    quote: str | None = None
    chars = iter(word)
    for char in chars:
        if char == quote:
            quote = None
        elif quote is None and char in "'\"":
            quote = char
        elif char == "\\" and quote != "'":
            following = next(chars, "")
            escapes = quote is None or following in _DQ_ESCAPES
            out.append(following if escapes else char + following)
        else:
            out.append(char)
    return "".join(out)
