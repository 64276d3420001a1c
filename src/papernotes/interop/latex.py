"""LaTeX in BibTeX fields <-> Unicode text.

``to_unicode`` reads what reference managers write (``S{\\"o}nke``, ``Terr\\'on-D\\'\\iaz``,
``\\&``, ``$\\alpha$``, ``{{Case Protected}}``) with pylatexenc; ``to_latex`` writes text back so
that BibTeX reads it as it was (special characters escaped, accents as ``{\\"o}``). Heavy
imports happen on first use, so importing this module costs nothing."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

# A field value is plain text when it holds none of these: no LaTeX work to do.
_LATEX_CHARS = re.compile(r"[\\{}$~%&]|--|``|''")
# BibTeX treats % and & in a field as text; LaTeX would read a comment or an alignment tab.
_UNESCAPED = re.compile(r"(?<!\\)((?:\\\\)*)([%&])")
# Mendeley writes D\'\iaz, Beno\^\it: an accent on a dotless i glued to the next letters.
_ACCENTED_DOTLESS = re.compile(r"""\\([`'^"~=.])\s*(?:\{\\([ij])\}|\\([ij]))""")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")
# Math stays math: $x^2 + y_i$ and $\mathcal{O}(n)$ are kept as written (pylatexenc made "x^2
# + y_i" and "𝒪(n)" of them); a lone symbol ($\alpha$, {$>$} as Zotero writes ">") becomes
# its character. An escaped \$ is a dollar sign, not math.
_MATH = re.compile(r"(?<!\\)\$(?!\$)((?:[^$\\]|\\.)+?)(?<!\\)\$")
_SYMBOL = r"(?:\\[A-Za-z]+|\\[^A-Za-z\s]|[^\w\s{}^_$\\])"
_LONE_SYMBOLS = re.compile(rf"\s*{_SYMBOL}(?:\s*{_SYMBOL})*\s*")
_KEPT = re.compile("\ue000([0-9]+)\ue001")  # where a kept formula goes back
# \^ is a circumflex accent on a letter (\^o, \^{o}, \^\i); before anything else it is the
# caret Zotero escapes that way: "\$10\^\{-7\}\$" is "$10^{-7}$", not "$10{\u0302-7}$".
_CARET = re.compile(r"(?<!\\)\\\^(?![A-Za-z]|\{\s*\\?[A-Za-z]|\\[ij](?![A-Za-z]))")
_BLANK_LINES = re.compile(r"\n\s*\n")


def to_unicode(value: str, *, paragraphs: bool = False) -> str:
    """A BibTeX field value as plain Unicode text. Formatting commands keep their text, case
    protection braces go, unknown commands stay as written. ``paragraphs`` keeps blank-line
    paragraph breaks (abstracts); otherwise the result is one line."""
    text = value
    if "\\" not in text and "$" not in text:
        # no command and no math: what is left of LaTeX is braces, ligatures and ties
        if _LATEX_CHARS.search(text):
            text = text.replace("---", "\u2014").replace("--", "\u2013")
            text = text.replace("``", "\u201c").replace("''", "\u201d")
            text = text.replace("{", "").replace("}", "").replace("~", " ")
    else:
        maths: list[str] = []
        text = _MATH.sub(lambda m: _keep_math(m, maths), text)
        text = _ACCENTED_DOTLESS.sub(lambda m: f"\\{m[1]}{{{m[2] or m[3]}}}", text)
        text = _CARET.sub(r"\\textasciicircum{}", text)
        text = _UNESCAPED.sub(r"\1\\\2", text)
        try:
            text = _converter().latex_to_text(text)
        except Exception:  # a third-party parser on arbitrary input: fall back to the raw text
            text = value.replace("{", "").replace("}", "")
            maths = []
        if maths:
            text = _KEPT.sub(lambda m: maths[int(m[1])], text)
    if paragraphs:
        parts = (_SPACES.sub(" ", " ".join(p.split("\n"))).strip() for p in _paragraphs(text))
        return "\n\n".join(p for p in parts if p)
    return " ".join(text.replace("\xa0", " ").split())


def _keep_math(match: re.Match[str], maths: list[str]) -> str:
    """A formula left for pylatexenc when it is a lone symbol, else kept as written (behind a
    placeholder that the conversion leaves alone)."""
    if _LONE_SYMBOLS.fullmatch(match[1]):
        return match[0]
    maths.append(f"${match[1].strip()}$")
    return f"\ue000{len(maths) - 1}\ue001"


def _paragraphs(text: str) -> list[str]:
    return _BLANK_LINES.split(text.replace("\r\n", "\n"))


_SWITCHES = (
    "em", "bf", "it", "sc", "rm", "tt", "sl", "sf", "up", "md", "normalfont", "itshape",
    "bfseries", "scshape", "upshape", "slshape", "mdseries", "rmfamily", "sffamily", "ttfamily",
    "tiny", "scriptsize", "footnotesize", "small", "normalsize", "large", "Large", "LARGE",
    "huge", "Huge", "relax", "protect", "noopsort", "nocase",
)  # fmt: skip


@cache
def _converter() -> Any:
    from pylatexenc import latex2text as l2t

    class Converter(l2t.LatexNodes2Text):  # type: ignore[misc]
        def macro_node_to_text(self, node: Any) -> str:
            if self.latex_context.get_macro_spec(node.macroname) is not None:
                return str(super().macro_node_to_text(node))
            args = node.nodeargd.argnlist if node.nodeargd and node.nodeargd.argnlist else []
            inner = "".join(self._groupnodecontents_to_text(n) for n in args if n is not None)
            # \textsc{Bert} -> Bert; a bare unknown command (\CDBTune) is kept as written
            return inner if args else f"\\{node.macroname}"

    def first_arg(node: Any, l2tobj: Any) -> str:
        args = [a for a in (node.nodeargd.argnlist if node.nodeargd else []) if a is not None]
        return str(l2tobj.nodelist_to_text(args[:1]))

    macros = [
        l2t.MacroTextSpec("url", simplify_repl=first_arg),
        l2t.MacroTextSpec("texttt", simplify_repl=first_arg),
        l2t.MacroTextSpec("textless", simplify_repl="<"),
        l2t.MacroTextSpec("textgreater", simplify_repl=">"),
        l2t.MacroTextSpec("textbar", simplify_repl="|"),
        l2t.MacroTextSpec("textbraceleft", simplify_repl="{"),
        l2t.MacroTextSpec("textbraceright", simplify_repl="}"),
        l2t.MacroTextSpec("textasciicircum", simplify_repl="^"),
        l2t.MacroTextSpec("LaTeX", simplify_repl="LaTeX"),
        l2t.MacroTextSpec("TeX", simplify_repl="TeX"),
        l2t.MacroTextSpec("BibTeX", simplify_repl="BibTeX"),
        l2t.MacroTextSpec("today", simplify_repl="\\today"),
        l2t.MacroTextSpec("cite", simplify_repl="\\cite{%s}"),
    ]
    # font switches ({\em x}, {\bf x}) change how text looks, not what it says
    macros += [l2t.MacroTextSpec(name, discard=True) for name in _SWITCHES]
    db = l2t.get_default_latex_context_db()
    db.add_context_category("papernotes", macros=macros, prepend=True)
    return Converter(latex_context=db, math_mode="text", strict_latex_spaces=True)


# -- Unicode -> LaTeX ---------------------------------------------------------------------------

_SPECIAL = {
    "\\": r"\textbackslash{}",
    # BibTeX counts every brace, escaped or not: these keep a field balanced whatever the text
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "\xa0": "~",
}
# Ligatures LaTeX would make of plain ASCII: -- and --- (dashes), `` and '' (quotes).
_LIGATURE_PAIRS = {"--", "``", "''", "!`", "?`"}


def to_latex(text: str) -> str:
    """``text`` escaped for a BibTeX field: specials escaped, accented letters as ``{\\"o}`` when
    LaTeX has a command for them, other characters (CJK, emoji) kept as UTF-8."""
    out: list[str] = []
    for index, char in enumerate(text):
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char.isascii():
            out.append(char)
            if text[index : index + 2] in _LIGATURE_PAIRS:
                out.append("{}")
        else:
            out.append(_encode_char(char))
    return "".join(out)


@cache
def _encode_char(char: str) -> str:
    import codecs

    import latexcodec  # noqa: F401  (registers the codec)

    if char in "\u2013\u2014\u201c\u201d\u2018\u2019":
        return char  # typographic punctuation: UTF-8 is exact and BibTeX passes it through
    composed = unicodedata.normalize("NFC", char)
    try:
        encoded: Any = codecs.encode(composed, "ulatex+ascii", "strict")
    except (UnicodeEncodeError, ValueError):
        return char
    if not isinstance(encoded, str) or not encoded.isascii() or encoded == char:
        return char
    latex = "{" + encoded.strip() + "}"
    # only where reading it back gives the same character (not \phi for U+03D5, ^TM for U+2122)
    return latex if to_unicode(latex) == composed else char
