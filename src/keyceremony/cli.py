"""Command line (placeholder; filled in by the split/combine commit)."""


def main(argv=None) -> int:
    return 0
