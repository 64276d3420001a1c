"""A small knowledge base written into a temporary folder, and a way to run the CLI on it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from papernotes.cli import cli

NOTES: dict[str, str] = {
    "direct-preference-optimization": """\
---
title: "Direct Preference Optimization: Your Language Model is Secretly a Reward Model"
aliases: [DPO]
authors: [Rafael Rafailov, Archit Sharma, Eric Mitchell, Stefano Ermon, Christopher D. Manning, Chelsea Finn]
year: 2023
arxiv: 2305.18290
venue: NeurIPS 2023
topics: [alignment]
tags: [dpo, rlhf, preference-optimization]
status: read
rating: 5
read: 2024-02-08
added: 2024-02-01
related: [kto]
---
DPO replaces the reward model and PPO of RLHF with a classification loss on preference pairs.

## Key ideas
- The policy is its own reward model: the reward is the log-ratio to a reference policy.
- No sampling during training; stable and cheap.

See also [[FLAME]] and [[missing-note]].
""",  # noqa: E501
    "kto": """\
---
title: "KTO: Model Alignment as Prospect Theoretic Optimization"
aliases: [KTO]
authors: [Kawin Ethayarajh, Winnie Xu, Niklas Muennighoff, Dan Jurafsky, Douwe Kiela]
year: 2024
arxiv: 2402.01306
topics: [alignment]
tags: [preference-optimization]
status: to-read
added: 2024-03-02
---
KTO aligns a policy with binary desirable or undesirable feedback instead of preference pairs,
unlike the reward log-ratio of DPO.
""",
    "flame": """\
---
title: "FLAME: Factuality-Aware Alignment for Large Language Models"
aliases: [FLAME]
authors: [Sheng-Chieh Lin, Luyu Gao, Barlas Oguz, Wenhan Xiong, Jimmy Lin, Wen-tau Yih, Xilun Chen]
year: 2024
arxiv: 2405.01525
topics: [alignment, factuality]
tags: [dpo, sft]
status: read
rating: 4
read: 2024-05
---
Fine-tuning on RAG responses teaches the model unfamiliar facts; FLAME builds SFT and DPO
preference data from the model's own generations.
""",
    "openelm": """\
---
title: "OpenELM: An Efficient Language Model Family with Open Training and Inference Framework"
authors: [Sachin Mehta, Mohammad Rastegari]
year: 2024
org: Apple
url: https://machinelearning.apple.com/research/openelm
topics: [language-models]
tags: [open-source]
status: skimmed
read: 2024-04-30
---
A 3B open model trained with corenet on two times fewer tokens than OLMo.
""",
    "attention": """\
---
title: Attention Is All You Need
authors: [Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, Llion Jones]
year: 2017
arxiv: 1706.03762
topics: [architectures]
tags: [transformer]
---
The Transformer: attention only, no recurrence.
""",
}


def make_kb(root: Path, notes: dict[str, str] | None = None) -> Path:
    """Write ``notes`` (default: :data:`NOTES`) into ``root/notes`` and return that folder."""
    folder = root / "notes"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (NOTES if notes is None else notes).items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def run(notes: Path, *args: str, input: str | None = None) -> Result:
    """``papernotes --notes-dir NOTES ARGS`` through CliRunner; a traceback fails the test."""
    runner = CliRunner()
    return runner.invoke(
        cli, ["--notes-dir", str(notes), *args], input=input, catch_exceptions=False
    )
