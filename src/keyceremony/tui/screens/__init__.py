"""The screens of the terminal UI: home, a ceremony, verify share cards, verify a transcript."""
