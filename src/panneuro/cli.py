"""The ``panneuro`` command: ``panneuro provenance <file>`` prints a result's chain to raw files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from panneuro.provenance import format_chain, format_identity, raw_files, trace


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``panneuro`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status (0 on success, 1 when a file has no provenance sidecar).
    """
    parser = argparse.ArgumentParser(prog="panneuro", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    prov = commands.add_parser(
        "provenance", help="print the chain from a result file back to the raw files")
    prov.add_argument("file", help="a file under results/ (relative to the compendium)")
    prov.add_argument("--root", default=".", help="the compendium's directory (default: .)")
    prov.add_argument("--raw-dir", default="resources/raw",
                      help="the raw dataset's directory (default: resources/raw)")
    args = parser.parse_args(argv)

    root = Path(args.root)
    target = Path(args.file)
    if target.is_absolute():
        target = target.resolve().relative_to(root.resolve())
    try:
        chain = trace(target, root=root)
    except FileNotFoundError as error:
        print(f"panneuro provenance: {error}", file=sys.stderr)
        return 1
    for line in format_chain(chain):
        print(line)
    raw = raw_files(chain, args.raw_dir)
    print(f"\nraw files ({len(raw)}):")
    for path, identity in raw.items():
        print(f"  {path}  {format_identity(identity)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
