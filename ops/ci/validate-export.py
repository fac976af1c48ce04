#!/usr/bin/env python3
"""Checks an export with implementations vigil did not write (run by the export tests).

    validate-export.py json FILE SCHEMA   the JSON export against the committed JSON Schema
                                          (draft 2020-12, formats checked)
    validate-export.py fhir FILE          the FHIR export with fhir.resources 5.1.1's R4 models
                                          in strict mode (unknown elements, missing required
                                          elements, wrong types, cardinality); then the
                                          R4 value sets of the codes vigil emits and the R4
                                          regular expressions of date, dateTime and instant,
                                          which those models only warn about
    validate-export.py zip FILE           the CSV export opens with Python's zipfile, every
                                          member's CRC checks, and each file parses as CSV

Exits 0 when valid; otherwise prints what is wrong and exits 1.
"""
import csv
import io
import json
import re
import sys
import zipfile


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def check_json(path, schema_path):
    import jsonschema

    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        fail("\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20]))


# FHIR R4 (4.0.1) datatypes: the regular expressions of date, dateTime and instant.
DATE = re.compile(r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$")
DATE_TIME = re.compile(
    r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$"
)
INSTANT = re.compile(
    r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)
# R4's required bindings for the elements vigil fills.
STATUS = {
    "Observation": {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"},
    "DiagnosticReport": {"registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled", "entered-in-error", "unknown"},
    "MedicationStatement": {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"},
    "MedicationAdministration": {"in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped", "unknown"},
}
INTERPRETATION = {"N", "L", "H", "LL", "HH"}


def walk_times(value, where):
    """Every date-like element by its name: `*DateTime`, `date*`, `start`/`end`, instants."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}"
            if isinstance(item, str):
                if key in ("timestamp", "lastUpdated") and not INSTANT.match(item):
                    fail(f"{here}: not an R4 instant: {item!r}")
                if (key.endswith("DateTime") or key in ("start", "end", "dateAsserted")) and not DATE_TIME.match(item):
                    fail(f"{here}: not an R4 dateTime: {item!r}")
            walk_times(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            walk_times(item, f"{where}[{i}]")


def check_fhir(path):
    from fhir.resources.bundle import Bundle

    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    try:
        bundle = Bundle(document, strict=True)
    except Exception as e:  # the models raise FHIRValidationError with every problem listed
        fail(f"fhir.resources (R4) refused the bundle: {e}")
    if bundle.type != "collection":
        fail(f"bundle type {bundle.type!r}")
    walk_times(document, "Bundle")
    for i, entry in enumerate(document.get("entry", [])):
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind in STATUS and resource.get("status") not in STATUS[kind]:
            fail(f"entry[{i}] {kind}.status {resource.get('status')!r} is not in R4's value set")
        for interpretation in resource.get("interpretation", []):
            for coding in interpretation.get("coding", []):
                if coding.get("code") not in INTERPRETATION:
                    fail(f"entry[{i}] interpretation {coding!r}")
        if kind == "Patient" and any(k in resource for k in ("name", "telecom", "identifier", "address")):
            fail(f"entry[{i}] the Patient names the person: {sorted(resource)}")


def check_zip(path):
    with zipfile.ZipFile(path) as archive:
        broken = archive.testzip()
        if broken is not None:
            fail(f"zip member {broken} fails its CRC")
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8")
            rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
            if not rows:
                fail(f"{name}: no header row")
            width = len(rows[0])
            for n, row in enumerate(rows[1:], start=2):
                if len(row) != width:
                    fail(f"{name} record {n}: {len(row)} fields, header has {width}")


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "json" and len(sys.argv) == 4:
        check_json(path, sys.argv[3])
    elif kind == "fhir":
        check_fhir(path)
    elif kind == "zip":
        check_zip(path)
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
