"""``papernotes search QUERY...``."""

from __future__ import annotations

import re

import click

from papernotes.cli.common import format_option, get_kb

# Words of the query that look like options ("-survey", "-tag:x") go through click's parser
# as placeholders (NUL and a number: no command-line argument holds a NUL), in ctx.meta.
_WORDS = "papernotes.engine.search.words"
_LIMIT = re.compile(r"-n[0-9]*")


class SearchCommand(click.Command):
    """Options anywhere among the query's words. ``-survey`` (a negated word) is a word of
    the query, never a cluster of short options (click read ``-nlp`` as ``-n lp``); a letter
    alone (``-x``) is an option, refused when unknown; ``-h`` is help."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        words: dict[str, str] = ctx.meta.setdefault(_WORDS, {})
        kept: list[str] = []
        for position, arg in enumerate(args):
            if arg == "--":
                kept += args[position:]
                break
            if arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
                if arg == "-h" or _LIMIT.fullmatch(arg):
                    pass
                elif len(arg) == 2 and arg[1].isalpha():
                    raise click.NoSuchOption(arg, ctx=ctx)
                else:
                    placeholder = f"\x00{len(words)}"
                    words[placeholder] = arg
                    arg = placeholder
            kept.append(arg)
        return super().parse_args(ctx, kept)


@click.command(
    "search",
    cls=SearchCommand,
    context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]},
)
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Notes to show.",
)
@click.option(
    "--exact", is_flag=True, help="No typo correction, no other word forms: words as typed."
)
@click.option("--explain", is_flag=True, help="Show which fields matched and how scores add up.")
@click.option(
    "--lexical", "mode", flag_value="lexical", help="By the words only (never loads the model)."
)
@click.option(
    "--semantic", "mode", flag_value="semantic", help="By meaning only (needs note vectors)."
)
@click.option(
    "--hybrid",
    "mode",
    flag_value="hybrid",
    help="By words and meaning, fused [default when the notes have vectors].",
)
@format_option("table", "json", "csv", "ids")
@click.pass_context
def search_cmd(
    ctx: click.Context,
    query: tuple[str, ...],
    limit: int,
    exact: bool,
    explain: bool,
    mode: str | None,
    fmt: str,
) -> None:
    """Search the notes; the best match first.

    \b
    Query language (quote the whole query for the shell):
      reward model          notes with both words (other forms too: models, modeling)
      "reward model"        the exact phrase
      rew*                  a prefix
      dpo OR ipo            either word; parentheses group: (dpo OR ipo) loss
      -survey, NOT survey   without the word (also -"a phrase", -tag:x)
      title:dpo  author:oguz  topic:alignment  org:meta  alias:  venue:
      abstract:  body:      words in one field (title:"reward model", author:ogu*)
      tag:alignment         the tag, or one nested under it (tag:llm matches llm/rlhf)
      status:read  arxiv:2305.18290  doi:10.48550/...  id:flame
      year:2023  year:2020..2023  year:>=2023  rating:>=4
      read:2024-02 (that month)  read:>=2024-01-15  published:2023  added:2024-01..2024-03

    An exact id, alias or arXiv id puts that note first; then the notes with every word,
    then those with some of them. When the notes have vectors (papernotes index --embed;
    by itself for up to 200 notes), notes close in meaning are found too, and both rankings
    are fused. A word no note contains is corrected to the closest word of your notes
    (--exact: no correction). No match: exit 1.

    \b
    Examples:
      papernotes search dpo
      papernotes search 'preference optimization -survey year:>=2023'
      papernotes search 'title:"reward model" OR tag:alignment' --limit 20
      papernotes search dpo -n 3
      papernotes search 'author:oguz' --format ids | xargs -n1 papernotes show
      papernotes search mixtral --explain
      papernotes search 'which paper trains a model to judge its own outputs'
      papernotes search 'long context' --lexical
    """
    from papernotes.engine.search import search
    from papernotes.errors import NotFound
    from papernotes.render import safe
    from papernotes.render.search import cut_short, footer, print_results

    if "-h" in query:  # typed alone; "-math" is a negated word
        click.echo(ctx.get_help())
        return
    for word in query:
        if word.startswith("--") and len(word) > 2:
            raise click.NoSuchOption(word.split("=")[0], ctx=ctx)
    words = ctx.meta.get(_WORDS, {})
    text = " ".join(words.get(word, word) for word in query)
    kb = get_kb(ctx)
    result = search(
        kb,
        text,
        limit=limit,
        exact=exact,
        explain=explain,
        mode=mode or "auto",
    )
    for notice in result.notices:
        click.echo(safe(notice), err=True)
    if not result.hits:
        if fmt in ("json", "csv"):  # still valid data: [] or the header
            print_results(result, fmt)
        shown = [f"{safe(paper_id)}  {safe(title)}" for paper_id, title in result.suggestions]
        raise NotFound(f"no notes match {text!r}", shown)  # repr escapes controls; once, not twice
    print_results(result, fmt, explain)
    if fmt != "table" and cut_short(result):  # a script's list is not all there: say so
        click.echo(footer(result), err=True)
