#!/usr/bin/env python3
"""Fails when a unit test or fuzz target on disk is not registered in Meson.

tests/unit/test-X.c counts as registered when tests/unit/meson.build names
it as a quoted string: 'test-X.c', 'test-X' or 'X'.  That accepts any
registration style (a test() per file, a foreach over a list of names).
fuzz/fuzz-X.c must be a key of the fuzz_targets dictionary: 'X': kind.

Usage: check-registered.py SOURCE_ROOT
"""
import os
import re
import sys


def quoted_anywhere(text, stem, prefix):
    spellings = (stem + ".c", stem, stem[len(prefix):])
    return any("'%s'" % s in text for s in spellings)


def dictionary_key(text, stem, prefix):
    key = re.escape(stem[len(prefix):])
    return re.search(r"^\s*'%s'\s*:" % key, text, re.MULTILINE) is not None


CHECKED = (("tests/unit", "test-", quoted_anywhere),
           ("fuzz", "fuzz-", dictionary_key))


def unregistered(root, subdir, prefix, is_registered):
    directory = os.path.join(root, subdir)
    try:
        with open(os.path.join(directory, "meson.build"), encoding="utf-8") as f:
            build_text = f.read()
        names = os.listdir(directory)
    except OSError:
        return []
    missing = []
    for name in sorted(names):
        if not (name.startswith(prefix) and name.endswith(".c")):
            continue
        if not is_registered(build_text, name[:-2], prefix):
            missing.append(os.path.join(subdir, name))
    return missing


def main():
    if len(sys.argv) != 2:
        print("usage: check-registered.py SOURCE_ROOT")
        return 2
    root = sys.argv[1]
    missing = []
    for subdir, prefix, is_registered in CHECKED:
        missing += unregistered(root, subdir, prefix, is_registered)
    for path in missing:
        print("%s is not registered in %s/meson.build; add it there"
              " (or delete it) so that it runs" % (path, os.path.dirname(path)))
    if not missing:
        print("every unit test and fuzz target on disk is registered")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
