"""``python -m renkei.identity hash``: read a password (twice), print its scrypt hash."""

from __future__ import annotations

import getpass
import sys

from renkei.identity.passwords import hash_password


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["hash"]:
        print("usage: python -m renkei.identity hash", file=sys.stderr)
        return 2
    password = getpass.getpass("password: ")
    if not password or password != getpass.getpass("again: "):
        print("empty or not the same twice", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
