"""Output of ``papernotes show``: a note's header, body and connections.

Plain text on a pipe (what tests compare), rich on a terminal: Markdown body, clickable arXiv
and URL links, and a pager when it is longer than the screen. Text from the note is always
made harmless first (:func:`papernotes.render.safe`), and on a terminal again last, by the
console, after the Markdown renderer has decoded character references such as ``&#x202E;``;
only addresses that pass :func:`papernotes.note.model.is_web_url` become hyperlinks."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from papernotes.engine.related import Connections
from papernotes.note.model import Paper, is_web_url
from papernotes.render import print_json, safe

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

MAX_AUTHORS = 12


def _one_line(text: str) -> str:
    return safe(" ".join(text.split()))


def _authors(paper: Paper) -> str:
    names = [_one_line(a) for a in paper.authors]
    if len(names) > MAX_AUTHORS:
        return ", ".join(names[:MAX_AUTHORS]) + f" and {len(names) - MAX_AUTHORS} more"
    return ", ".join(names)


def arxiv_url(paper: Paper) -> str | None:
    return f"https://arxiv.org/abs/{paper.arxiv}" if paper.arxiv else None


def _where(paper: Paper) -> list[str]:
    when = paper.published or (str(paper.year) if paper.year else None)
    return [_one_line(x) for x in (when, paper.venue, paper.org) if x]


def _status(paper: Paper, stars: bool = False) -> list[str]:
    parts = []
    if paper.status:
        parts.append(f"Status: {paper.status}")
    if paper.rating is not None:
        shown = "★" * paper.rating + "☆" * (5 - paper.rating) if stars else f"{paper.rating}/5"
        parts.append(f"Rating: {shown}")
    if paper.read:
        parts.append(f"Read: {paper.read}")
    if paper.added:
        parts.append(f"Added: {paper.added}")
    return parts


def _title_of(paper: Paper) -> str:
    year = f" ({paper.year})" if paper.year else ""
    return f"{_one_line(paper.title)}{year}"


def header_lines(paper: Paper, shown_path: str) -> list[str]:
    """The header as plain lines."""
    lines = [_one_line(paper.title)]
    if paper.authors:
        lines.append(_authors(paper))
    if _where(paper):
        lines.append(" · ".join(_where(paper)))
    if paper.arxiv:
        lines.append(f"arXiv: {paper.arxiv}  {arxiv_url(paper)}")
    if paper.url and paper.url != arxiv_url(paper):
        lines.append(f"URL: {safe(paper.url)}")
    if paper.doi:
        lines.append(f"DOI: {safe(paper.doi)}  https://doi.org/{safe(paper.doi)}")
    if paper.aliases:
        lines.append("Aliases: " + ", ".join(_one_line(a) for a in paper.aliases))
    if paper.topics:
        lines.append("Topics: " + ", ".join(_one_line(t) for t in paper.topics))
    if paper.tags:
        lines.append("Tags: " + " ".join(f"#{_one_line(t)}" for t in paper.tags))
    if _status(paper):
        lines.append(" · ".join(_status(paper)))
    lines.append(f"Note: {safe(paper.id)} ({safe(shown_path)})")
    return lines


def _body(paper: Paper) -> str:
    return safe(paper.body.strip("\n"))


def connection_lines(conn: Connections) -> list[str]:
    lines: list[str] = []
    if conn.links:
        lines += ["", "Links"]
        for target, found in conn.links:
            if found is None:
                lines.append(f"  [[{_one_line(target)}]]  (no such note)")
            else:
                lines.append(f"  {safe(found.id)}  {_title_of(found)}")
    if conn.backlinks:
        lines += ["", "Backlinks"]
        lines += [f"  {safe(p.id)}  {_title_of(p)}" for p in conn.backlinks]
    if conn.related:
        lines += ["", "Related"]
        lines += [
            f"  {m.score:.2f}  {safe(m.paper.id)}  {_title_of(m.paper)}" for m in conn.related
        ]
    return lines


def plain_lines(paper: Paper, conn: Connections, shown_path: str) -> list[str]:
    """Everything ``show`` prints, as plain lines."""
    lines = header_lines(paper, shown_path)
    if paper.abstract and not paper.abstract_in_body():  # else the body shows it
        lines += ["", "Abstract", _one_line(paper.abstract)]
    body = _body(paper)
    if body.strip():
        lines += ["", body]
    return lines + connection_lines(conn)


def renderables(paper: Paper, conn: Connections, shown_path: str) -> list[RenderableType]:
    """The same content for rich: styled header, Markdown body, linked addresses."""
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.style import Style
    from rich.text import Text

    def link(label: str, url: str | None, style: str = "blue") -> Text:
        if url and is_web_url(url):
            return Text(label, style=Style.parse(style) + Style(link=url))
        return Text(label, style=style)

    out: list[RenderableType] = [Text(_one_line(paper.title), style="bold")]
    if paper.authors:
        out.append(Text(_authors(paper), style="cyan"))
    if _where(paper):
        out.append(Text(" · ".join(_where(paper)), style="dim"))
    addresses = Text()
    if paper.arxiv:
        addresses.append_text(link(f"arXiv:{paper.arxiv}", arxiv_url(paper)))
    if paper.url and paper.url != arxiv_url(paper):
        if addresses:
            addresses.append("  ")
        addresses.append_text(link(safe(paper.url), paper.url))
    if paper.doi:
        if addresses:
            addresses.append("  ")
        addresses.append_text(link(f"doi:{safe(paper.doi)}", f"https://doi.org/{paper.doi}"))
    if addresses:
        out.append(addresses)
    groups = [
        Text(text, style=style)
        for text, style in (
            (", ".join(_one_line(a) for a in paper.aliases), "bold"),
            (", ".join(_one_line(t) for t in paper.topics), "green"),
            (" ".join(f"#{_one_line(t)}" for t in paper.tags), "magenta"),
        )
        if text
    ]
    if groups:
        out.append(Text(" · ").join(groups))
    status = " · ".join(_status(paper, stars=True))
    out.append(Text(f"{status}{' · ' if status else ''}{safe(shown_path)}", style="dim"))
    if paper.abstract and not paper.abstract_in_body():  # else the body shows it
        out += [Rule("Abstract", style="dim"), Text(_one_line(paper.abstract))]
    body = _body(paper)
    if body.strip():
        out += [Rule(style="dim"), Markdown(body, hyperlinks=False)]
    if conn.links:
        out.append(Rule("Links", style="dim"))
        for target, found in conn.links:
            if found is None:
                out.append(Text.assemble(f"  [[{_one_line(target)}]]  ", ("no such note", "red")))
            else:
                out.append(Text.assemble(f"  {_title_of(found)}  ", (safe(found.id), "dim")))
    if conn.backlinks:
        out.append(Rule("Backlinks", style="dim"))
        for p in conn.backlinks:
            out.append(Text.assemble(f"  {_title_of(p)}  ", (safe(p.id), "dim")))
    if conn.related:
        out.append(Rule("Related", style="dim"))
        for m in conn.related:
            out.append(
                Text.assemble(
                    (f"  {m.score:.2f}  ", "yellow"),
                    _title_of(m.paper),
                    (f"  {safe(m.paper.id)}", "dim"),
                )
            )
    return out


def show_json(paper: Paper, conn: Connections) -> None:
    data: dict[str, Any] = paper.to_dict()
    data["backlinks"] = [p.id for p in conn.backlinks]
    data["similar"] = [
        {"id": m.paper.id, "title": m.paper.title, "score": m.score} for m in conn.related
    ]
    print_json(data)


def print_paper(
    paper: Paper, conn: Connections, shown_path: str, *, use_pager: bool = True
) -> None:
    """Rich on a terminal (through the pager when long), plain lines otherwise."""
    if not sys.stdout.isatty():
        for line in plain_lines(paper, conn, shown_path):
            click.echo(line)
        return
    from papernotes.render import console
    from papernotes.render.pager import page, should_page

    con = console()
    with con.capture() as captured:
        for item in renderables(paper, conn, shown_path):
            con.print(item)
    text = captured.get()
    if use_pager and should_page(text.count("\n"), con.height) and page(text):
        return
    con.file.write(text)
    con.file.flush()


def print_to(con: Console, paper: Paper, conn: Connections, shown_path: str) -> None:
    """Render to a given console (tests use ``Console(file=StringIO(), width=80)``)."""
    for item in renderables(paper, conn, shown_path):
        con.print(item)
