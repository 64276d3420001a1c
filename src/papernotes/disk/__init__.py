"""The notes folder on disk: finding it and its settings (:mod:`.store`, :mod:`.trust`), walking
and stat-ing its notes (:mod:`.notefiles`, :mod:`.freshness`), its lock (:mod:`.lock`) and atomic
writes that never lose a note (:mod:`.write`). The lowest layer: it imports nothing of papernotes
but :mod:`papernotes.errors`."""
