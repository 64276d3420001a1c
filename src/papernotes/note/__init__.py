"""The note format and the paper model: front matter (:mod:`.simpleyaml`, :mod:`.frontmatter`),
what a researcher wrote made into a :class:`~.model.Paper` (:mod:`.parse`, :mod:`.normalize`,
:mod:`.understand`, :mod:`.inline`, :mod:`.sections`), and a paper written back
(:mod:`.dump`, :mod:`.frontedit`). Above :mod:`papernotes.disk`."""
