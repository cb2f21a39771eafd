"""Environment variables, declared once: settings.py reads every variable through :class:`Env`, which records
its name, default and meaning, so the configuration table (docs/configuration.md) is rendered from the same declaration
(``python -m nmt_site.env``) and cannot drift from what the code reads."""

from __future__ import annotations

import builtins
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: str  # as shown to a reader
    help: str
    section: str
    internal: bool = False  # test plumbing: read, but left out of the user-facing table


class Env:
    def __init__(self) -> None:
        self.declared: list[EnvVar] = []
        self._section = ""

    def section(self, title: str) -> None:
        self._section = title

    def _declare(self, name: str, default: object, help: str, shown: str | None, internal: bool) -> str | None:
        if any(var.name == name for var in self.declared):
            raise ValueError(f"{name} is declared twice")
        self.declared.append(
            EnvVar(name, str(default) if shown is None else shown, help, self._section, internal=internal)
        )
        return os.environ.get(name)

    def str(
        self,
        name: builtins.str,
        default: builtins.str,
        help: builtins.str,
        *,
        shown: builtins.str | None = None,
        internal: builtins.bool = False,
    ) -> builtins.str:
        value = self._declare(name, default, help, shown, internal)
        return default if value is None else value

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        help: builtins.str,
        *,
        shown: builtins.str | None = None,
        internal: builtins.bool = False,
    ) -> builtins.int:
        value = self._declare(name, default, help, shown, internal)
        return default if value is None else int(value)

    def float(
        self, name: builtins.str, default: builtins.float, help: builtins.str, *, shown: builtins.str | None = None
    ) -> builtins.float:
        value = self._declare(name, default, help, shown, False)
        return default if value is None else float(value)

    def bool(
        self, name: builtins.str, default: builtins.bool, help: builtins.str, *, shown: builtins.str | None = None
    ) -> builtins.bool:
        value = self._declare(name, str(default).lower(), help, shown, False)
        return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")

    def list(
        self, name: builtins.str, default: builtins.str, help: builtins.str, *, shown: builtins.str | None = None
    ) -> builtins.list[builtins.str]:
        value = self._declare(name, default, help, shown, False)
        return [item.strip() for item in (default if value is None else value).split(",") if item.strip()]

    def table(self) -> builtins.str:
        """The Markdown table of every user-facing variable, grouped by section."""
        lines = ["| variable | default | meaning |", "|---|---|---|"]
        section = None
        for var in self.declared:
            if var.internal:
                continue
            if var.section != section:
                section = var.section
                lines.append(f"| **{section}** | | |")
            default = "empty" if not var.default else var.default if " " in var.default else f"`{var.default}`"
            lines.append(f"| `{var.name}` | {default} | {var.help} |")
        return "\n".join(lines) + "\n"


TABLE_START = "<!-- config-table:start (python -m nmt_site.env --write docs/configuration.md) -->"
TABLE_END = "<!-- config-table:end -->"


def replace_table(text: str, table: str) -> str:
    """``text`` with the part between the table markers replaced by ``table``."""
    head, start, rest = text.partition(TABLE_START)
    _, end, tail = rest.partition(TABLE_END)
    if not start or not end:
        raise ValueError("the configuration table markers are missing")
    return f"{head}{TABLE_START}\n{table}{TABLE_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """``python -m nmt_site.env [--write FILE | --check FILE]``: print the table, or put it into / check FILE."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m nmt_site.env", description=main.__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", help="replace the table between the markers in FILE")
    group.add_argument("--check", metavar="FILE", help="exit 1 when FILE's table differs from the settings")
    args = parser.parse_args(argv)
    from nmt_site import settings

    table = settings.env.table()
    if args.write:
        path = Path(args.write)
        path.write_text(replace_table(path.read_text(), table))
    elif args.check:
        text = Path(args.check).read_text()
        if replace_table(text, table) != text:
            print(
                f"{args.check}: the configuration table is out of date; run python -m nmt_site.env --write {args.check}"
            )
            return 1
    else:
        print(table, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
