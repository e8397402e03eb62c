"""Directive lines (``#SBATCH``/``#PBS``/``#BSUB``): read them from a script, split them into flags.

Rules of this module:
  Rule 1: pure: text in, values out; no files, processes or environment.
  Rule 2: each dialect follows its scheduler's own reading rules (checked on Slurm 22.05,
          OpenPBS 23.06 ``qsub_sup.c`` and OpenLava 4.0 ``cmd.sub.c``), written in ``_STARTS``
          and ``_ENDS_BLOCK`` below, not guessed from the text.
  Rule 3: an option text is kept byte for byte; flags are derived from it, never re-rendered.
  Rule 4: a flag text that could end its line, continue onto the next line or leave a quote
          open is a ConfigError naming the text.
"""

from __future__ import annotations

import re
import shlex
from typing import Final, Literal, TypeAlias

from .._errors import ConfigError


DirectiveDialect: TypeAlias = Literal["slurm", "pbs", "lsf"]
PREFIXES: Final[dict[str, str]] = {"slurm": "#SBATCH", "pbs": "#PBS", "lsf": "#BSUB"}

# Where a line is a directive, and what follows the prefix:
#   slurm: "#SBATCH" in column 0, anything after it (sbatch refuses "#SBATCHX").
#   pbs:   "#PBS" after optional blanks (pbs_ispbsdir).
#   lsf:   "#", optional blanks, "BSUB", optional blanks, then "-" (OpenLava parseLine).
_STARTS: Final[dict[str, re.Pattern[str]]] = {
    "slurm": re.compile(r"#SBATCH(?P<rest>.*)\Z", re.DOTALL),
    "pbs": re.compile(r"[ \t\f\v]*#PBS(?P<rest>.*)\Z", re.DOTALL),
    "lsf": re.compile(r"[ \t\f\v]*#[ \t\f\v]*BSUB[ \t\f\v]*(?P<rest>-.*)\Z", re.DOTALL),
}
# Characters a flag text may not hold: they end or break a script line for bash, sbatch,
# qsub or bsub (all read lines with fgets, so only \n ends a line for them, but \r, \f and
# the Unicode separators are refused too: an editor or `splitlines` would break there).
LINE_BREAKING: Final = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_LSF_OPTIONS: Final = (
    *("-a", "-app", "-B", "-b", "-C", "-c", "-cwd", "-D", "-E", "-Ep", "-e", "-eo", "-F", "-f", "-G"),
    *("-g", "-gpu", "-H", "-hl", "-I", "-Ip", "-Is", "-i", "-is", "-J", "-Jd", "-jsdl", "-K", "-k"),
    *("-L", "-Lp", "-M", "-m", "-N", "-n", "-O", "-o", "-oo", "-P", "-p", "-Q", "-q", "-R", "-r"),
    *("-rn", "-S", "-s", "-sla", "-sp", "-T", "-t", "-U", "-u", "-v", "-W", "-We", "-w", "-wa", "-wt"),
    *("-x", "-Zs"),
)
_LSF_BY_LENGTH: Final = tuple(sorted(_LSF_OPTIONS, key=len, reverse=True))
_LSF_SECTION: Final = re.compile(r"([A-Za-z_]+)\s*\[")
SLURM_SHORT: Final[dict[str, str]] = {
    "-A": "--account",
    "-a": "--array",
    "-c": "--cpus-per-task",
    "-D": "--chdir",
    "-d": "--dependency",
    "-e": "--error",
    "-J": "--job-name",
    "-N": "--nodes",
    "-o": "--output",
    "-p": "--partition",
    "-q": "--qos",
    "-t": "--time",
    "-W": "--wait",
}
"""sbatch's one-letter options molq may set itself, by their long names."""


def _ends_block(line: str, dialect: str) -> bool:
    """Whether ``line`` (not a directive) is the first executable line, where reading stops."""
    if dialect == "lsf":
        return False  # bsub reads #BSUB lines anywhere in the script (OpenLava and IBM LSF)
    if dialect == "pbs" and line.startswith((":", "#!")):
        return False  # pbs_isexecutable: a ':' or '#!' line in column 0 is not executable
    stripped = line.lstrip(" \t\f\v\r")
    return bool(stripped) and not stripped.startswith("#")


def parse_directive_block(text: str, dialect: DirectiveDialect) -> tuple[str, ...]:
    """The option texts of the directives ``dialect``'s scheduler would read in ``text``.

    Slurm and PBS stop at the first executable line (blank lines and comments do not
    count; PBS also passes over lines starting with ``:``); LSF reads the whole script.
    A PBS or LSF directive ending in a backslash continues on the next line, as there.

    Args:
        text: the script.
        dialect: ``"slurm"``, ``"pbs"`` or ``"lsf"``.

    Returns:
        Each directive's text after its prefix, stripped of the blanks around it.
    """
    start = _STARTS[dialect]
    lines = text.split("\n")
    found: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        match = start.match(line)
        if match is None:
            if _ends_block(line, dialect):
                break
            continue
        rest = match.group("rest")
        while dialect != "slurm" and rest.endswith("\\") and index < len(lines):
            rest = rest[:-1] + lines[index]
            index += 1
        option = rest.strip(" \t\f\v\r")  # C isspace: a no-break space is part of the option
        if option:
            found.append(option)
    return tuple(found)


def split_option(text: str, dialect: DirectiveDialect) -> list[str]:
    """The words of one option text, as the scheduler splits them (quotes removed).

    Raises:
        ConfigError: a quote is left open.
    """
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = "" if dialect == "pbs" else "#"  # qsub has no trailing comments
    try:
        return list(lexer)
    except ValueError as exc:
        msg = f"scheduler flag {text!r}: {exc} (a quote is left open)"
        raise ConfigError(msg) from None


def check_flag_shape(text: object) -> str:
    """Refuse a flag text that could not stand as one directive line of any scheduler.

    Returns:
        The text without the blanks around it.

    Raises:
        ConfigError: not a string, not starting with ``-``, with a line break or control
            character, or ending in a backslash (which continues a directive line).
    """
    if not isinstance(text, str):
        msg = f"a scheduler flag must be a string, got {type(text).__name__} {text!r}"
        raise ConfigError(msg)
    stripped = text.strip(" \t")
    if not stripped.startswith("-"):
        msg = f"scheduler flag {text!r} must start with '-' (e.g. '--constraint=intel')"
        raise ConfigError(msg)
    if LINE_BREAKING.search(text):
        msg = f"scheduler flag {text!r} has a line break or control character: it would leave its directive line"
        raise ConfigError(msg)
    if stripped.endswith("\\"):
        msg = f"scheduler flag {text!r} ends in a backslash, which continues a directive onto the next line"
        raise ConfigError(msg)
    return stripped


def check_flag_text(text: object, dialect: DirectiveDialect) -> str:
    """Refuse a flag text that could not stand as one directive line of ``dialect``.

    Returns:
        The text without the blanks around it.

    Raises:
        ConfigError: as `check_flag_shape`, or a quote is left open, or (LSF) single and
            double quotes are mixed, which bsub cannot read on one line.
    """
    stripped = check_flag_shape(text)
    if dialect == "lsf" and "'" in stripped and '"' in stripped:
        msg = f"scheduler flag {text!r} mixes ' and \": bsub reads one kind of quote per #BSUB line"
        raise ConfigError(msg)
    split_option(stripped, dialect)
    return stripped


def option_keys(text: str, dialect: DirectiveDialect) -> tuple[str, ...]:
    """The flags one option text sets, in the form molq compares them.

    Slurm: ``--long-name`` (one-letter options molq sets become their long names;
    an abbreviation stays as given). PBS: ``-X``, and ``-l name`` / ``-W name`` for each
    resource or attribute. LSF: the option (``-sp``, ``-Jd``), and ``-R section`` for each
    section of a resource requirement (``span``, ``rusage``; ``select`` when unnamed).

    Raises:
        ConfigError: a quote is left open.
    """
    words = split_option(text, dialect)
    keys: list[str] = []
    for index, word in enumerate(words):
        if len(word) < 2 or not word.startswith("-"):
            continue
        following = words[index + 1] if index + 1 < len(words) else ""
        keys += _word_keys(word, following, dialect)
    return tuple(dict.fromkeys(keys))


def _word_keys(word: str, following: str, dialect: str) -> list[str]:
    if dialect == "slurm":
        if word.startswith("--"):
            return ["--" + word[2:].split("=", 1)[0]]
        return [SLURM_SHORT.get(word[:2], word[:2])]
    if dialect == "pbs":
        flag = word[:2]
        if flag not in ("-l", "-W"):
            return [flag]
        value = word[2:] or following
        names = [item.split("=", 1)[0].strip() for item in value.split(",")]
        return [f"{flag} {name}" for name in names if name] or [flag]
    flag = next((option for option in _LSF_BY_LENGTH if word.startswith(option)), word)
    if flag != "-R":
        return [flag]
    value = word[2:] or following
    sections = _LSF_SECTION.findall(value) or ["select"]
    return [f"-R {name}" for name in sections]


def directive_line(dialect: DirectiveDialect, option: str) -> str:
    """``option`` as one directive line: ``#SBATCH --constraint=intel``."""
    return f"{PREFIXES[dialect]} {option}"
