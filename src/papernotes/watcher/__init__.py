"""The optional change watcher (``papernotes watch``): a process that keeps the index fresh as
files change and vouches for it over a local socket, so that a command can skip its scan.
Above :mod:`papernotes.engine`, which holds the client side
(:mod:`papernotes.engine.watchclient`)."""
