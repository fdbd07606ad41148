"""Checks that the generated Kotlin binding carries KDoc for the SDK's whole public API.

UniFFI turns the Rust doc comments of `mobile-sdk/ffi` into KDoc (`/** ... */`). This finds
every public declaration of the binding (the client's methods, records and their fields,
enums and their variants, the error and its variants' fields, top-level functions) and
fails, listing them, if one has no KDoc right above it; then checks a few texts made it
through word for word.

    python3 check_kdoc.py target/sdk-kotlin/ma/balagh/sdk/balagh_sdk_ffi.kt
"""

import re
import sys

# Texts of Rust doc comments in mobile-sdk/ffi/src that must reach Kotlin unchanged.
EXPECTED_TEXTS = [
    "The Balagh client of a resident's app. Create one per app process and keep it.",
    "Queues a report and returns its local id at once.",
    "Why a call failed.",
    "The server refused the request; these are its problem details (RFC 9457).",
    "What is wrong, 1–4000 characters.",
]

TYPE = re.compile(r"^(?:data class|sealed class|enum class|open class|public interface|class) `?(\w+)`?")
# Top-level functions; UniFFI closes their KDoc on the same line (`*/ fun ...`).
FUNCTION = re.compile(r"^(?:\s*\*/ )?(?:suspend )?fun `(\w+)`")
METHOD = re.compile(r"^    (?:suspend )?fun `(\w+)`")
FIELD = re.compile(r"^ +va[rl] `(\w+)`")
VARIANT = re.compile(r"^    (?:data )?(?:class|object) (\w+)")
ENUM_ENTRY = re.compile(r"^    ([A-Z][A-Z0-9_]*)[,;]?$")
INTERNAL = re.compile(r"^(Uniffi|FfiConverter|Ffi|Rust|Foreign|Disposable|NoHandle|InternalException)")


def documented(lines, index):
    """True when the nearest non-blank, non-annotation line above `index` closes a KDoc."""
    if lines[index].lstrip().startswith("*/"):
        return True
    i = index - 1
    while i >= 0 and (not lines[i].strip() or lines[i].strip().startswith("@")):
        i -= 1
    return i >= 0 and lines[i].strip().endswith("*/")


def public_declarations(lines):
    """(line index, name) of each public API declaration."""
    found, owner, kind, variant = [], None, None, None
    for index, line in enumerate(lines):
        top = TYPE.match(line)
        if top:
            owner, kind, variant = top.group(1), line.split(" class")[0].split()[0], None
            if line.startswith("public interface") and owner != "BalaghClientInterface":
                owner = None
            if owner and not INTERNAL.match(owner):
                found.append((index, owner))
            elif owner:
                owner = None
            continue
        function = FUNCTION.match(line)
        if function:
            found.append((index, function.group(1)))
            owner = None
            continue
        if owner is None or (line and not line[0].isspace() and line[0] != "}"):
            if line.startswith(("private ", "internal ", "public object", "object ")):
                owner = None
            continue
        patterns = [FIELD]
        if owner == "BalaghClientInterface":
            patterns = [METHOD]
        elif kind == "sealed":
            patterns = [VARIANT, FIELD]
        elif kind == "enum":
            patterns = [ENUM_ENTRY]
        for pattern in patterns:
            match = pattern.match(line)
            if match and match.group(1) != "Companion":
                if pattern is VARIANT:
                    variant = match.group(1)
                    found.append((index, f"{owner}.{variant}"))
                else:
                    found.append((index, ".".join(filter(None, [owner, variant, match.group(1)]))))
                break
    return found


def main(path):
    with open(path, encoding="utf-8") as file:
        text = file.read()
    lines = text.splitlines()
    declarations = public_declarations(lines)
    missing = [f"{path}:{i + 1}: {name}" for i, name in declarations if not documented(lines, i)]
    absent = [t for t in EXPECTED_TEXTS if t not in text]
    names = {name for _, name in declarations}
    required = {"BalaghClient", "BalaghClientInterface.submitReport", "BalaghException.Rejected",
                "NewReport.description", "QueueState.PENDING", "enableLogging"}
    unseen = sorted(required - names)
    for line in missing:
        print(f"no KDoc: {line}", file=sys.stderr)
    for t in absent:
        print(f"Rust doc text not found in the Kotlin binding: {t!r}", file=sys.stderr)
    for name in unseen:
        print(f"the checker did not find {name}: is the binding's shape different?", file=sys.stderr)
    print(f"kdoc: {len(declarations) - len(missing)} of {len(declarations)} public declarations "
          f"documented, {len(EXPECTED_TEXTS) - len(absent)} of {len(EXPECTED_TEXTS)} texts found")
    return 1 if missing or absent or unseen else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
