"""Ceremonies run from templates: a headless engine over injected ports (docs/ceremony-guide.md).

Modules, one concept each:

- :mod:`.template` — TOML ceremony templates, validated on load (errors name the line);
- :mod:`.ports` — what the engine needs from the world: people (``Prompter``), the machine
  (``HostFacts``), key stores (``KeyBackendFactory``), cards (``CardPrinter``, ``CardScanner``);
- :mod:`.engine` — ``CeremonyEngine``: the template as a state machine whose state is the
  signed transcript; :mod:`.steps` — what each kind of step does; :mod:`.state` — the resumable,
  secret-free state file; :mod:`.report` — the closing report;
- :mod:`.preflight` — host facts and the laptop checks; :mod:`.answers` — the answers-file
  driver; :mod:`.adapters` — the default ports (software and PKCS#11 key stores, PDF cards);
- :mod:`.answers_writer`, :mod:`.template_writer` — answers files and derived templates written
  back as TOML; :mod:`.setup` — the checks and saving of the terminal UI's set-up form.

Importing this package imports nothing; import the module you need.
"""
