"""Software strings from Debian's gettext catalogs: English msgid → German / Brazilian Portuguese msgstr.

Thousands of Debian packages ship compiled catalogs (``usr/share/locale/<locale>/LC_MESSAGES/*.mo``); the msgid
is the English original. ``gettext_packages.txt`` (next to this file) lists the packages that ship both a ``de``
and a ``pt_BR`` catalog, with their Debian source package, so the corpus is the same on every run. It was made
with ``apt-file search -x`` over Debian's Contents index (packages over 30 MB and the held-out packages left
out); ``python -m translator.data.gettext_catalogs --discover`` rebuilds it.

Cleaning, each step counted in the manifest: plural forms become two pairs (singular and plural), the header
and empty entries are skipped (compiled catalogs hold no fuzzy entries), accelerators (``_File``, ``&File``) and
inline markup are removed, entries whose placeholders (``%s``, ``%(name)s``, ``{0}``, ``$VAR``) differ between
the two sides are dropped, as are untranslated, letterless, over-long and badly length-mismatched entries and
entries whose language is wrong (lingua); exact and near duplicates are removed.

Splits go by *source package* (whole packages to valid/test), so the test set measures generalization to
software nobody trained on: it is the multi-source test set. Valid/test keep only sentence-like strings (four
words or more) that do not occur in the training side.
"""

from __future__ import annotations

import argparse
import html
import io
import re
import struct
import subprocess
import sys
import tarfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from .splits import SPLITS, Pair, assign, bucket, dedupe
from .text import clean, has_letters, word_count

PACKAGE_LIST = Path(__file__).with_name("gettext_packages.txt")
LOCALES = {"de": "de", "pt": "pt_BR"}  # our target language -> gettext locale folder
VALID_FRAC, TEST_FRAC = 0.02, 0.03  # of source packages
EVAL_MIN_WORDS = 4  # valid/test keep sentence-like strings only: one-word labels make BLEU noise
EVAL_MAX = {"valid": 1000, "test": 2000}
MAX_WORDS = 120
MAX_RATIO = 3.0  # character-length ratio, after a floor (short strings vary a lot)
RATIO_FLOOR = 12
LANGID_MIN_WORDS = 5  # lingua is unreliable below this
MAX_TARGETS_PER_SOURCE = 3  # near-duplicate control: one msgid translated in many packages
SALT = "translator-gettext-v1"

# --------------------------------------------------------------------------------------- the catalog format


def read_mo(data: bytes) -> list[tuple[str, str]]:
    """(msgid, msgstr) of a compiled catalog; plurals as (singular, form 0) and (plural, form 1); no header.

    Message contexts (``ctx\\x04msgid``) are dropped from the id. Entries that do not decode are skipped.
    """
    if len(data) < 28:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if order is None:
        return []
    _, count, orig_at, trans_at = struct.unpack(order + "4I", data[4:20])

    def string(table: int, i: int) -> bytes:
        length, offset = struct.unpack(order + "2I", data[table + 8 * i : table + 8 * i + 8])
        return data[offset : offset + length]

    raw = [(string(orig_at, i), string(trans_at, i)) for i in range(count)]
    charset = "utf-8"
    for msgid, msgstr in raw:
        if msgid == b"":
            found = re.search(rb"charset=([-\w]+)", msgstr)
            if found and found.group(1).lower() not in (b"charset", b"utf8"):
                charset = found.group(1).decode("ascii")
    out: list[tuple[str, str]] = []
    for msgid, msgstr in raw:
        if not msgid or not msgstr:
            continue
        try:
            ids, strs = msgid.decode(charset).split("\x00"), msgstr.decode(charset).split("\x00")
        except (UnicodeDecodeError, LookupError):
            continue
        ids = [i.split("\x04", 1)[-1] for i in ids]
        out.append((ids[0], strs[0]))
        if len(ids) > 1 and len(strs) > 1:
            out.append((ids[1], strs[1]))
    return out


# ------------------------------------------------------------------------------------------------ cleaning

_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")
_AMP_ACCEL = re.compile(r"&(?=[^\W_])")
_UNDERSCORE_ACCEL = re.compile(r"(?<![\w_])_(?=[^\W_])")
_MID_WORD_ACCEL = re.compile(r"_(?=[^\W_])")
_TILDE_ACCEL = re.compile(r"(?<![\w~])~(?=[^\W_])")
_PLACEHOLDER = re.compile(
    r"%(?:\(\w+\)|\d+\$)?[-+ #0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t|I64|I32)?[diouxXeEfFgGcrsaApSC@]"
    r"|%\d+"
    r"|\{\w*\}"
    r"|\$\{\w+\}|\$[A-Z_][A-Z0-9_]+"
)
_PUNCT_DIGITS = re.compile(r"[\W_]+")


def strip_markup(text: str) -> str:
    """Inline tags out, entities decoded (only where the string is markup, so a literal ``&`` survives)."""
    if _TAG.search(text) or _ENTITY.search(text):
        text = html.unescape(_TAG.sub(" ", text))
    return text


def strip_accelerators(text: str) -> str:
    """``_File`` / ``&File`` / ``~File`` → ``File``: the keyboard mnemonic is not part of the language."""
    text = text.replace("&&", "\x00")
    text = _AMP_ACCEL.sub("", text) if not _ENTITY.search(text) else text
    text = _TILDE_ACCEL.sub("", _UNDERSCORE_ACCEL.sub("", text))
    if text.count("_") == 1 and _MID_WORD_ACCEL.search(text):  # "E_stilo": translators put it mid-word too
        text = text.replace("_", "")
    return text.replace("\x00", "&")


def placeholders(text: str) -> Counter[str]:
    found = Counter(m.group(0) for m in _PLACEHOLDER.finditer(text.replace("%%", "")))
    # positional forms (%1$s) may legally be reordered and renumbered: compare their conversion only
    return Counter(re.sub(r"^%\d+\$", "%", p) for p in found.elements())


def paragraphs(en: str, tgt: str) -> list[Pair]:
    """Multi-paragraph entries split into paragraph pairs when both sides have the same paragraph count."""
    en_parts = [p for p in re.split(r"\n\s*\n", en) if p.strip()]
    tgt_parts = [p for p in re.split(r"\n\s*\n", tgt) if p.strip()]
    if len(en_parts) > 1 and len(en_parts) == len(tgt_parts):
        return list(zip(en_parts, tgt_parts, strict=True))
    return [(en, tgt)]


def near_key(text: str) -> str:
    """Case, punctuation and digits folded: "Open file…" and "open file" are one string to the filter."""
    return _PUNCT_DIGITS.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def clean_pair(en: str, tgt: str) -> tuple[Pair | None, str]:
    """A cleaned pair, or None and the name of the filter that dropped it."""
    if placeholders(en) != placeholders(tgt):
        return None, "placeholder_mismatch"
    en, tgt = (clean(strip_accelerators(strip_markup(s))) for s in (en, tgt))
    if not en or not tgt:
        return None, "empty"
    if not has_letters(_PLACEHOLDER.sub("", en)) or not has_letters(_PLACEHOLDER.sub("", tgt)):
        return None, "no_letters"
    if en == tgt or en.lower() == tgt.lower():
        return None, "untranslated"
    if max(word_count(en), word_count(tgt)) > MAX_WORDS:
        return None, "too_long"
    short, long_ = sorted((len(en), len(tgt)))
    if (long_ + RATIO_FLOOR) / (short + RATIO_FLOOR) > MAX_RATIO:
        return None, "length_ratio"
    return (en, tgt), "kept"


# ------------------------------------------------------------------------------------------ the corpus


@dataclass
class Catalog:
    """The entries of one package for one target language."""

    package: str
    source: str  # Debian source package: the unit of the split
    entries: list[tuple[str, str]]


@dataclass
class CorpusReport:
    splits: dict[str, list[Pair]]
    counts: Counter[str] = field(default_factory=Counter)
    packages: dict[str, str] = field(default_factory=dict)  # package -> split


LanguageCheck = Callable[[list[Pair]], list[bool]]


def build_corpus(
    catalogs: Iterable[Catalog],
    held_out: Callable[[str], bool] = lambda text: False,
    language_ok: LanguageCheck | None = None,
) -> CorpusReport:
    """Clean, filter, de-duplicate and split by source package; counts per filter in the report."""
    counts: Counter[str] = Counter()
    per_split: dict[str, list[Pair]] = {s: [] for s in SPLITS}
    package_split: dict[str, str] = {}
    for cat in sorted(catalogs, key=lambda c: (c.source, c.package)):
        split = assign("gettext:" + cat.source, VALID_FRAC, TEST_FRAC, salt=SALT)
        package_split[cat.package] = split
        for en_raw, tgt_raw in cat.entries:
            counts["entries"] += 1
            for en_part, tgt_part in paragraphs(en_raw, tgt_raw):
                pair, why = clean_pair(en_part, tgt_part)
                if pair is None:
                    counts[why] += 1
                elif held_out(pair[0]):
                    counts["held_out"] += 1
                else:
                    per_split[split].append(pair)
    if language_ok is not None:
        for split in SPLITS:
            verdicts = language_ok(per_split[split])
            counts["wrong_language"] += verdicts.count(False)
            per_split[split] = [p for p, ok in zip(per_split[split], verdicts, strict=True) if ok]
    out = {s: dedupe(per_split[s]) for s in SPLITS}
    counts["exact_duplicate"] = sum(len(per_split[s]) - len(out[s]) for s in SPLITS)
    out["train"], counts["near_duplicate"] = drop_near_duplicates(out["train"])
    train_sources = {near_key(s) for s, _ in out["train"]}
    for split in ("valid", "test"):
        unseen = [p for p in out[split] if near_key(p[0]) not in train_sources]
        counts[f"{split}_seen_in_train"] = len(out[split]) - len(unseen)
        unseen, _ = drop_near_duplicates(unseen, max_targets=1)
        sentence_like = [p for p in unseen if word_count(p[0]) >= EVAL_MIN_WORDS]
        counts[f"{split}_short"] = len(unseen) - len(sentence_like)
        # a fixed-size, package-balanced sample: hash order, so a package never dominates by its size alone
        ranked = sorted(sentence_like, key=lambda p: bucket(p[0], SALT, 1 << 30))
        out[split] = ranked[: EVAL_MAX[split]]
        counts[f"{split}_over_cap"] = len(ranked) - len(out[split])
    if out["valid"]:
        test_sources = {near_key(s) for s, _ in out["test"]}
        out["valid"] = [p for p in out["valid"] if near_key(p[0]) not in test_sources]
    for split in SPLITS:
        counts[f"{split}_pairs"] = len(out[split])
    return CorpusReport(out, counts, package_split)


def drop_near_duplicates(pairs: list[Pair], max_targets: int = MAX_TARGETS_PER_SOURCE) -> tuple[list[Pair], int]:
    """Keep the first pair per folded (source, target), and at most ``max_targets`` targets per folded source."""
    seen_pairs: set[tuple[str, str]] = set()
    per_source: Counter[str] = Counter()
    kept: list[Pair] = []
    for en, tgt in pairs:
        key = (near_key(en), near_key(tgt))
        if key in seen_pairs or per_source[key[0]] >= max_targets:
            continue
        seen_pairs.add(key)
        per_source[key[0]] += 1
        kept.append((en, tgt))
    return kept, len(pairs) - len(kept)


def lingua_check(target: str) -> LanguageCheck:
    """A check that both sides of longer strings are in the languages they claim to be (lingua, offline)."""
    from lingua import Language, LanguageDetectorBuilder

    languages = [Language.ENGLISH, Language.GERMAN, Language.PORTUGUESE, Language.SPANISH, Language.FRENCH]
    languages += [Language.ITALIAN, Language.DUTCH]
    detector = LanguageDetectorBuilder.from_languages(*languages).build()
    want = {"de": Language.GERMAN, "pt": Language.PORTUGUESE}[target]

    def check(pairs: list[Pair]) -> list[bool]:
        long_idx = [i for i, (en, _) in enumerate(pairs) if word_count(en) >= LANGID_MIN_WORDS]
        texts = [pairs[i][0] for i in long_idx] + [pairs[i][1] for i in long_idx]
        found = detector.detect_languages_in_parallel_of(texts) if texts else []
        verdict = [True] * len(pairs)
        n = len(long_idx)
        for k, i in enumerate(long_idx):
            en_lang, tgt_lang = found[k], found[n + k]
            verdict[i] = en_lang in (Language.ENGLISH, None) and tgt_lang in (want, None)
        return verdict

    return check


# ------------------------------------------------------------------------------------- fetching and reading


def read_package_list(path: Path = PACKAGE_LIST) -> list[tuple[str, str]]:
    """(package, source package) lines; ``#`` comments allowed."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            package, source = line.split()
            rows.append((package, source))
    return rows


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True)


def _deb_for(debs: Path, package: str) -> Path | None:
    hits = sorted(debs.glob(f"{package}_*.deb"))
    return hits[-1] if hits else None


def download(packages: list[str], cache: Path, log: Callable[[str], None] = print) -> dict[str, Path]:
    """``apt-get download`` what the cache lacks (in chunks; a package the archive no longer has is skipped)."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if _deb_for(debs, p) is None]
    for start in range(0, len(missing), 80):
        chunk = missing[start : start + 80]
        log(f"  apt-get download {len(chunk)} gettext packages ({start + len(chunk)}/{len(missing)})")
        if _run(["apt-get", "download", "-q", *chunk], cwd=debs).returncode != 0:
            for package in chunk:  # one unknown name fails the whole call: retry one by one
                if _deb_for(debs, package) is None:
                    _run(["apt-get", "download", "-q", package], cwd=debs)
    found = {p: _deb_for(debs, p) for p in packages}
    return {p: d for p, d in found.items() if d is not None}


_MO_PATH = re.compile(r"^\.?/?usr/share/locale/([^/]+)/LC_MESSAGES/([^/]+\.mo)$")


def extract_catalogs(deb: Path, out: Path) -> Path:
    """The de and pt_BR ``.mo`` members of a .deb into ``out/<locale>/``, once (a marker names the .deb)."""
    marker = out / ".extracted"
    if marker.exists() and marker.read_text() == deb.name:
        return out
    proc = _run(["dpkg-deb", "--fsys-tarfile", str(deb)])
    if proc.returncode != 0:
        raise RuntimeError(f"dpkg-deb --fsys-tarfile {deb} failed: {proc.stderr.decode(errors='replace')}")
    wanted = set(LOCALES.values())
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        for member in tar:
            match = _MO_PATH.match(member.name)
            if match and match.group(1) in wanted and member.isfile():
                target = out / match.group(1) / match.group(2)
                target.parent.mkdir(parents=True, exist_ok=True)
                data = tar.extractfile(member)
                if data is not None:
                    target.write_bytes(data.read())
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(deb.name)
    return out


def read_catalogs(root: Path, rows: list[tuple[str, str]], target: str) -> Iterator[Catalog]:
    """Every listed package's catalogs for one target language (all its domains together)."""
    locale = LOCALES[target]
    for package, source in rows:
        folder = root / package / locale
        if folder.is_dir():
            entries = [e for mo in sorted(folder.glob("*.mo")) for e in read_mo(mo.read_bytes())]
            yield Catalog(package, source, entries)


def fetch(cache: Path, rows: list[tuple[str, str]], log: Callable[[str], None] = print) -> tuple[Path, list[dict]]:
    """Download and extract every listed package; the extracted root and the package records for the manifest."""
    from .fetch import sha256

    cache = Path(cache)
    debs = download([p for p, _ in rows], cache, log)
    root = cache / "gettext"
    records = []
    for package, _ in rows:
        deb = debs.get(package)
        if deb is None:
            log(f"  note: {package} is not in the archive any more; skipped")
            continue
        extract_catalogs(deb, root / package)
        version = unquote(deb.name.split("_")[1])
        records.append({"name": package, "kind": "deb", "version": version, "file": deb.name, "sha256": sha256(deb)})
    return root, records


# ---------------------------------------------------------------------------------- rebuilding the package list


def discover(max_bytes: int = 30_000_000, exclude: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Packages shipping both a de and a pt_BR catalog (needs ``apt-file update``), with their source package."""

    def packages_with(locale: str) -> set[str]:
        pattern = f"^/usr/share/locale/{locale}/LC_MESSAGES/.*\\.mo$"
        out = subprocess.run(["apt-file", "search", "-x", pattern], capture_output=True, text=True, check=True)
        return {line.split(":", 1)[0] for line in out.stdout.splitlines() if ":" in line}

    both = sorted((packages_with("de") & packages_with("pt_BR")) - set(exclude))
    show = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", *both], capture_output=True, text=True, check=True
    ).stdout
    rows = []
    for block in show.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(" "))
        if "Package" in fields and int(fields.get("Size", 0)) <= max_bytes:
            rows.append((fields["Package"], fields.get("Source", fields["Package"]).split()[0]))
    return sorted(set(rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Rebuild gettext_packages.txt from Debian's Contents index.")
    ap.add_argument("--discover", action="store_true", help="query apt-file and print the package list")
    ap.add_argument("--exclude-file", type=Path, help="package names to leave out (one per line, # comments)")
    args = ap.parse_args(argv)
    if not args.discover:
        ap.print_help()
        return 2
    exclude = []
    if args.exclude_file:
        exclude = [
            ln.split("#")[0].split()[0] for ln in args.exclude_file.read_text().splitlines() if ln.split("#")[0].strip()
        ]
    for package, source in discover(exclude=exclude):
        sys.stdout.write(f"{package} {source}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
