"""Validate REFI-QDA files against the official schemas, and check what the schemas cannot.

    .venv/bin/python scripts/check_refi.py --schema-dir DIR FILE.qdpx|FILE.qdc ...

DIR holds ``Project.xsd`` and ``Codebook.xsd`` (QDA-XML 1.0, from www.qdasoftware.org; the project
does not ship them). A ``.qdpx``'s ``*.qde`` is validated against Project.xsd; then every
``internal://`` text path must be in the archive, every selection must lie inside its text
(code points, end exclusive) and every CodeRef / creatingUser must name a Code / User of the file.
A ``.qdc`` is validated against Codebook.xsd. Prints ``OK FILE`` or the errors; exits 1 on any error.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from lxml import etree

Q = "{urn:QDA-XML:project:1.0}"


def references(root, z: zipfile.ZipFile) -> list[str]:
    """Errors the schema cannot see: missing text files, selections outside their text, dangling GUIDs."""
    errors = []
    names = {n.lower(): n for n in z.namelist()}
    codes = {c.get("guid").lower() for c in root.iter(f"{Q}Code")}
    users = {u.get("guid").lower() for u in root.iter(f"{Q}User")}
    for ref in root.iter(f"{Q}CodeRef"):
        if ref.get("targetGUID").lower() not in codes:
            errors.append(f"CodeRef {ref.get('targetGUID')}: no such Code")
    for el in root.iter(f"{Q}Coding", f"{Q}PlainTextSelection", f"{Q}TextSource"):
        user = el.get("creatingUser")
        if user and user.lower() not in users:
            errors.append(f"{etree.QName(el).localname} {el.get('guid')}: creatingUser {user} is no User")
    for source in root.iter(f"{Q}TextSource"):
        path = source.get("plainTextPath") or ""
        rel = path[len("internal://") :] if path.startswith("internal://") else path
        member = names.get(f"sources/{rel}".lower()) or names.get(rel.lower())
        if path and member is None:
            if path.startswith("internal://"):
                errors.append(f"TextSource {source.get('name')!r}: {path} is not in the archive")
            continue  # an external file: nothing to check against
        text = z.read(member).decode("utf-8-sig") if path else source.findtext(f"{Q}PlainTextContent") or ""
        for sel in source.iter(f"{Q}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            if not 0 <= start <= end <= len(text):
                errors.append(
                    f"selection {sel.get('guid')} [{start}:{end}] is outside the text of "
                    f"{source.get('name')!r} ({len(text)} code points)"
                )
    return errors


def check(path: Path, schema_dir: Path) -> list[str]:
    try:
        if path.suffix.lower() == ".qdc":
            schema, doc, z = "Codebook.xsd", etree.parse(str(path)), None
        else:
            z = zipfile.ZipFile(path)
            qde = [n for n in z.namelist() if n.lower().endswith(".qde")]
            if not qde:
                return ["no .qde file inside the archive"]
            schema, doc = "Project.xsd", etree.fromstring(z.read(qde[0])).getroottree()
    except (OSError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        return [f"cannot read: {exc}"]
    xsd = etree.XMLSchema(etree.parse(str(schema_dir / schema)))
    errors = [f"line {e.line}: {e.message}" for e in xsd.error_log] if not xsd.validate(doc) else []
    if z is not None and not errors:
        errors += references(doc.getroot(), z)
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schema-dir", type=Path, required=True, help="Folder with Project.xsd and Codebook.xsd.")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    missing = [name for name in ("Project.xsd", "Codebook.xsd") if not (args.schema_dir / name).is_file()]
    if missing:
        parser.error(
            f"{args.schema_dir}: no {' or '.join(missing)} there (give the folder holding the REFI-QDA schemas)"
        )
    failed = 0
    for path in args.files:
        errors = check(path, args.schema_dir)
        print(f"OK {path}" if not errors else f"ERRORS {path}:\n" + "\n".join(f"  {e}" for e in errors[:50]))
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
