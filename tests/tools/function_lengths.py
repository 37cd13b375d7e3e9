#!/usr/bin/env python3
"""Lists C++ functions by length (lines from the signature to the closing brace), longest first.

    function_lengths.py [--max N] [--files] [--max-file-lines N] [--exempt-data] [PATH...]
                                                          (default PATHs: src probes)

Brace matching on definitions at namespace or class scope, after comments, string and character
literals are blanked (a lambda or local class counts toward the function holding it). With --max N,
exits 1 when a function is longer than N lines (a check); --files also lists files by line count.
--max-file-lines N also exits 1 (listing them) when a file is longer than N lines. --exempt-data
leaves out the functions that are data, not logic: rule tables (rule_table) and catalogs (*_catalog).

The CTest unit.function_lengths runs it as the check of issue #12 ("no file over ~600 lines, no
function over a screen"): --max 60 --max-file-lines 600 --exempt-data.
"""
import argparse
import os
import re
import sys

SCOPE = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$")
NOT_A_FUNCTION = re.compile(r"^\s*(if|for|while|switch|catch|do|else|return)\b|=\s*$|\]\s*$")


def blank(text):
    """Comments and literals replaced by spaces, newlines kept (line numbers stay right)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            k = text.find("(", i)
            delim = ")" + text[i + 2:k] + '"'
            j = text.find(delim, k)
            j = n if j < 0 else j + len(delim)
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator 1'000
                out.append(c); i += 1; continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + c); i = j + 1
        else:
            out.append(c); i += 1
    return "".join(out)


def functions(path):
    text = blank(open(path, encoding="utf-8", errors="replace").read())
    found, stack, start = [], [], 0  # stack: "scope" or "block" per open brace
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in ";}" or (c == "{" and stack and stack[-1] == "block"):
            if c == "}" and stack:
                stack.pop()
            elif c == "{":
                stack.append("block")
            start = i + 1
        elif c == "{":
            head = text[start:i]
            sig = " ".join(head.split())
            if SCOPE.search(sig) or not sig.endswith((")", "const", "override", "noexcept", "final")) and \
                    not re.search(r"\)\s*(const|override|noexcept|final|->[^{]*|:[^{]*)?\s*$", sig):
                stack.append("scope" if SCOPE.search(sig) or sig.startswith("extern") else "block")
                start = i + 1
            elif NOT_A_FUNCTION.search(sig) or "(" not in sig:
                stack.append("block")
                start = i + 1
            else:  # a function body: skip to its matching brace
                depth, j = 1, i + 1
                while j < n and depth:
                    depth += {"{": 1, "}": -1}.get(text[j], 0)
                    j += 1
                first = text.count("\n", 0, start + len(head) - len(head.lstrip())) + 1
                last = text.count("\n", 0, j) + 1
                name = re.sub(r"\s*\(.*", "", sig.split("(")[0]).split()[-1] if sig.split("(")[0].split() else sig
                found.append((last - first + 1, path, first, name))
                i, start = j, j
                continue
        i += 1
    return found


def is_data(name):
    """Functions that hold a table of data (a rule table, a catalog), exempt from the length check."""
    name = name.split("::")[-1]
    return name == "rule_table" or name.endswith("_catalog")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=None)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--files", action="store_true")
    ap.add_argument("--max-file-lines", type=int, default=None)
    ap.add_argument("--exempt-data", action="store_true", help="skip rule_table and *_catalog functions")
    ap.add_argument("paths", nargs="*", default=["src", "probes"])
    args = ap.parse_args()
    files = []
    for p in args.paths:
        if os.path.isfile(p):
            files.append(p)
        for root, _, names in os.walk(p):
            files += [os.path.join(root, f) for f in names if f.endswith((".cpp", ".hpp", ".h", ".cc"))]
    sizes = sorted(((sum(1 for _ in open(f, encoding="utf-8", errors="replace")), f) for f in files), reverse=True)
    if args.files:
        for lines, f in sizes[:args.top]:
            print(f"{lines:6d}  {f}")
        print()
    long_files = [(lines, f) for lines, f in sizes if args.max_file_lines is not None and lines > args.max_file_lines]
    for lines, f in long_files:
        print(f"{lines:6d}  {f}  (file over {args.max_file_lines} lines)")
    found = sorted((fn for f in sorted(files) for fn in functions(f)), key=lambda t: (-t[0], t[1], t[2]))
    if args.exempt_data:
        found = [fn for fn in found if not is_data(fn[3])]
    over = [f for f in found if args.max is not None and f[0] > args.max]
    for lines, path, line, name in (over if args.max is not None else found[:args.top]):
        print(f"{lines:5d}  {path}:{line}  {name}")
    if args.max is not None and not over and not long_files:
        print(f"function_lengths: {len(found)} functions in {len(files)} files, none over {args.max} lines"
              + (f", no file over {args.max_file_lines} lines" if args.max_file_lines is not None else ""))
    return 1 if over or long_files else 0


if __name__ == "__main__":
    sys.exit(main())
