"""The ``keyceremony`` command line: one module per command group.

- :mod:`.main` — the parser, the one error handler and ``main``; the console script is
  ``keyceremony.cli.main:main``;
- :mod:`.shares` — ``split``, ``combine`` and ``verify-share``;
- :mod:`.keys` — ``backup`` and ``recover``; :mod:`.ceremony` — ``run``;
  :mod:`.transcript` — ``transcript verify`` and ``transcript report``;
- :mod:`.common` — what more than one of them uses: ``output_folder``, ``Progress``, ``read_pin``.

Only the standard library is imported until a command runs, so ``--help`` stays fast.
"""
