"""The ``keyceremony`` command line: one module per command group.

- :mod:`.main` — the parser, ``split``, ``combine``, ``verify-share`` and the one error handler;
  the console script is ``keyceremony.cli.main:main``;
- :mod:`.keys` — ``backup`` and ``recover``; :mod:`.ceremony` — ``run``;
  :mod:`.transcript` — ``transcript verify`` and ``transcript report``.

Only the standard library is imported until a command runs, so ``--help`` stays fast.
"""
