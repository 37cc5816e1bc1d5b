"""The notifier's rules, without I/O: :mod:`.wording` (what an owner is told about a
capture, the inbox's notices) and :mod:`.prompts` (the prompt 是否接受镜像: its text, how
a version is built, when the next one is due)."""
