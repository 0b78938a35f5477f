"""`python -m app.access hash-password`: make AUTH_PASSWORD_HASH (no servers needed)."""

from __future__ import annotations

import getpass
import sys

from app.access.passwords import hash_password

MIN_LENGTH = 8


def main(argv: list[str]) -> int:
    if argv != ["hash-password"]:
        print("usage: python -m app.access hash-password   (reads the password from the terminal or stdin)")
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("the two passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_LENGTH:
        print(f"the password must have at least {MIN_LENGTH} characters", file=sys.stderr)
        return 1
    # Single quotes: the hash contains $, which .env files and shells would expand.
    print(f"AUTH_PASSWORD_HASH='{hash_password(password)}'")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
