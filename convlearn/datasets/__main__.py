"""``python -m convlearn.datasets download cifar10 [DIR]``: fetch a data set on request.

Prints the folder that holds the data set (on stdout, so scripts can use
it); progress goes to stderr. Exit status 0 on success, 1 with a one-line
message (no traceback) when the download or its checks fail, for example
on a machine without network access.
"""

import argparse
import sys

from ..progress import Reporter
from .cifar import CIFAR10_MD5, CIFAR10_URL
from .download import download_cifar10

__all__ = ["main"]

_DOWNLOADERS = {"cifar10": (download_cifar10, CIFAR10_URL, CIFAR10_MD5)}


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m convlearn.datasets", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    download = commands.add_parser("download", help="download and extract a data set")
    download.add_argument(
        "dataset", choices=sorted(_DOWNLOADERS), help="which data set"
    )
    download.add_argument(
        "dir",
        nargs="?",
        default=None,
        help="folder to put it in (default: $CONVLEARN_DATA/cifar10, else ~/.cache/convlearn/cifar10)",
    )
    download.add_argument(
        "--url", default=None, help="fetch the archive from this mirror instead"
    )
    download.add_argument(
        "--md5",
        default=None,
        help="expected MD5 of the archive (default: the official one)",
    )
    download.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the server (default 60)",
    )
    download.add_argument(
        "-q", "--quiet", action="store_true", help="no progress messages"
    )
    return parser


def main(argv=None) -> int:
    """Run the command line with `argv` (default sys.argv[1:]); returns the exit status."""
    args = _parser().parse_args(argv)
    fetch, url, md5 = _DOWNLOADERS[args.dataset]
    try:
        folder = fetch(
            args.dir,
            url=args.url or url,
            timeout=args.timeout,
            reporter=Reporter(enabled=not args.quiet),
            md5=args.md5 or md5,
        )
    except (
        OSError,
        ValueError,
    ) as exc:  # NoNetworkError is a ConnectionError, an OSError
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
