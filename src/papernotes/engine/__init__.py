"""The one read engine: the index (its schema in :mod:`.schema`, kept fresh by :mod:`.indexing`
and :mod:`.index`, or vouched for by a change watcher through :mod:`.watchclient`), the query
language (:mod:`.query`, :mod:`.filters`, :mod:`.spelling`), and the read API every command uses
(:mod:`.kb`: search, select, resolve, links, similar notes, facets, stats, check).
Above :mod:`papernotes.note`."""
