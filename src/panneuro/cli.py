"""The ``panneuro`` command.

``provenance <file>`` (a result's chain to raw files), ``publish``, ``forget-dropped-results``
and ``compile-kernels`` (run by ``make install``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from panneuro.compendium.datalad_io import forget_absent_annexed
from panneuro.compendium.provenance import format_chain, format_identity, raw_files, trace


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
        "provenance", help="print the chain from a result file back to the raw files"
    )
    prov.add_argument("file", help="a file under results/ (relative to the compendium)")
    prov.add_argument("--root", default=".", help="the compendium's directory (default: .)")
    prov.add_argument(
        "--raw-dir",
        default="resources/raw",
        help="the raw dataset's directory (default: resources/raw)",
    )
    forget = commands.add_parser(
        "forget-dropped-results",
        help="remove saved results whose annexed content is absent, so snakemake remakes them",
    )
    forget.add_argument(
        "folder", nargs="?", default="results", help="the results folder (default: results)"
    )
    publish = commands.add_parser(
        "publish",
        help="lay out the results for DANDI or OpenNeuro and validate them (nothing is uploaded)",
    )
    publish.add_argument("archive", choices=["dandi", "openneuro"])
    publish.add_argument("--root", default=".", help="the compendium's directory (default: .)")
    publish.add_argument(
        "--out",
        default=None,
        help="the layout's folder (default: config publish.folder, then "
        "dandi/<identifier> or openneuro)",
    )
    compile_kernels = commands.add_parser(
        "compile-kernels",
        help="compile and cache the sorter's numba kernels by sorting a small synthetic probe "
        "(make install runs it, so the first sorting job does not)",
    )
    compile_kernels.add_argument(
        "--jobs", type=int, default=2, help="worker threads, as a sorting job uses (default: 2)"
    )
    args = parser.parse_args(argv)
    if args.command == "compile-kernels":
        from panneuro.ephys.kernel_warm_up import compile_sorting_kernels

        units = compile_sorting_kernels(n_jobs=args.jobs)
        print(f"panneuro: sorter kernels compiled and cached (synthetic probe: {units} units)")
        return 0
    if args.command == "forget-dropped-results":
        return _forget_dropped_results(Path(args.folder))
    if args.command == "publish":
        return _publish(args.archive, Path(args.root), args.out)

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


def _publish(archive: str, root: Path, out: str | None) -> int:
    from panneuro.compendium import publish
    from panneuro.results import open_run

    run = open_run(root)
    options = run.config.get("publish")
    if options is None:
        print(
            f"panneuro publish: {run.root}/config/config.yaml has no publish block; copy it "
            "from the compendium's config/config.yaml (documented in config/README.md).",
            file=sys.stderr,
        )
        return 1
    base = run.path(options["folder"])
    if archive == "dandi":
        folder = Path(out) if out else base / "dandi" / str(options["dandi"]["identifier"])
        report = publish.publish_dandi(run, folder)
        for asset, source in report["assets"].items():
            print(f"{folder}/{asset}  <- {source}")
        for item in report["errors"] + report["warnings"]:
            print(
                f"dandi validate: {item['id']} {item['path']}: {item['message']}", file=sys.stderr
            )
        print(
            f"dandi validate: {len(report['errors'])} error(s), "
            f"{len(report['warnings'])} warning(s)"
        )
        if report["errors"]:
            return 1
        print(f"upload (DANDI_API_KEY set): {publish.dandi_upload_command(folder)}")
        return 0
    folder = Path(out) if out else base / "openneuro"
    report = publish.publish_openneuro(run, folder)
    failed = False
    for part in ("raw", "derivative"):
        summary = report[part]
        for issue in summary["errors"]:
            print(f"BIDS validator ({part}): {issue['code']} {issue['location']}", file=sys.stderr)
        print(
            f"BIDS validator ({part}): {summary['n_errors']} error(s), "
            f"{summary['n_warnings']} warning(s) {summary['warning_codes']}"
        )
        failed = failed or summary["n_errors"] > 0
    if failed:
        return 1
    print(f"upload (openneuro-cli logged in): {publish.openneuro_upload_command(folder)}")
    return 0


def _forget_dropped_results(folder: Path) -> int:
    # Snakemake 9.27 stops on a dangling symlink among outputs ("Unable to obtain modification
    # time", snakemake#4229): results saved in a DataLad clone without their content are made
    # again (byte-identical, so the same annex keys) instead; `datalad get` them to download.
    forgotten = forget_absent_annexed(folder)
    if forgotten:
        print(
            f"panneuro: {len(forgotten)} saved result(s) under {folder}/ without their content "
            "here are made again (to download them instead: datalad get "
            f"{folder}); e.g. {forgotten[0]}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
