"""The repository's secret scan: Yelp's detect-secrets (pinned in the Makefile) over every file
git tracks, against `allowed.json`, where each finding that is not a secret (a test fixture, an
alphabet, the name of an environment variable) is listed one by one, by file, type and the
scanner's hash of the value, with why it is not a secret.

Fails when a tracked file holds a finding that is not listed, when a listed finding is gone
(the list must stay exact), or when the scanner misses the planted secrets of its own negative
control (so a broken scanner cannot pass).

Run by `make lint` (from the repository's root).
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

ALLOWED = Path(__file__).with_name("allowed.json")


def findings(files):
    """{(file, type, hash)} the scanner reports in `files`."""
    collection = SecretsCollection()
    with default_settings():
        collection.scan_files(*files)
    return {(f, s.type, s.secret_hash) for f, s in collection}


def negative_control():
    """The scanner must find secrets planted in a file of its own."""
    with tempfile.TemporaryDirectory() as d:
        planted = Path(d) / "planted.env"
        # Made up here, valid in form only.
        planted.write_text(
            'aws_access_key_id = "AKIAZ7QXPLANTED4KEYX"\n'
            'client_secret = "f3d9a1c07be24e58b6d0c4a9e7f2b1d8"\n'
        )
        return findings([str(planted)])


def main():
    if len(negative_control()) < 2:
        sys.exit("secret scan: the scanner missed the planted secrets of its negative control")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], check=True, capture_output=True, text=True
    ).stdout.split("\0")
    # The list holds the scanner's hashes, which it would report as findings themselves.
    listing = ALLOWED.resolve().relative_to(Path.cwd().resolve()).as_posix()
    files = [f for f in tracked if f and Path(f).is_file() and f != listing]
    found = findings(files)
    allowed = {(a["file"], a["type"], a["hash"]) for a in json.loads(ALLOWED.read_text())}
    new = sorted(found - allowed)
    gone = sorted(allowed - found)
    for f, t, _ in new:
        print(f"secret scan: {f}: {t} (not in {ALLOWED.name}: remove it, or list it with why)")
    for f, t, h in gone:
        print(f"secret scan: {f}: {t} {h[:12]}… is listed but no longer found: drop it from the list")
    if new or gone:
        sys.exit(1)
    print(f"secret scan: {len(files)} files, {len(found)} findings, each listed as not a secret")


if __name__ == "__main__":
    main()
