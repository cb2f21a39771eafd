"""Per-format document throughput through the real service path (split, batched engine calls, per-batch
database writes, reconstruction), in-process on a scratch SQLite database; several engines side by side
in one run, one torch thread, results to JSON.

    .venv/bin/python benchmarks/documents_throughput.py --engines ctc-glat-en-de,ar-teacher-en-de \
        [--paragraphs 300] [--out benchmarks/results/documents.json]

Sentences come from the English side of the LibreOffice en-de test set (data/, from prepare-data) when it
exists, else a synthetic set; every paragraph is distinct (two sentences each) so the per-document cache
does not flatter the numbers.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="nmt-docbench-"))
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'db.sqlite3'}"
os.environ["NMT_DOC_DIR"] = str(SCRATCH / "documents")
os.environ["NMT_DOC_SLICE_SECONDS"] = "1000000"  # one uninterrupted run in-process
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmt_site.settings")

import django  # noqa: E402

django.setup()


def paragraphs(n: int) -> list[str]:
    path = ROOT / "data" / "en-de" / "libreoffice" / "test.en"
    lines = []
    if path.exists():
        seen = set()
        for line in path.read_text().splitlines():
            line = line.strip()
            if len(line.split()) >= 4 and line not in seen and line[-1] in ".!?":
                seen.add(line)
                lines.append(line)
    if len(lines) < 2 * n:
        lines = [f"Sentence {i}: the children play in the park while their parents drink coffee." for i in range(2 * n)]
    # Two sentences per paragraph: the splitter has real work to do.
    return [f"{lines[2 * i]} {lines[2 * i + 1]}" for i in range(n)]


def build(fmt: str, paras: list[str]) -> bytes:
    if fmt == "txt":
        return "\n\n".join(paras).encode()
    if fmt == "md":
        return "\n\n".join((f"## {p}" if i % 10 == 0 else f"- {p}") for i, p in enumerate(paras)).encode()
    if fmt == "srt":
        cues = []
        for i, p in enumerate(paras):
            s, e = i * 4, i * 4 + 3
            cues.append(f"{i + 1}\n00:{s // 60:02d}:{s % 60:02d},000 --> 00:{e // 60:02d}:{e % 60:02d},500\n{p}")
        return "\n\n".join(cues).encode()
    if fmt == "html":
        body = "".join(f"<p>{p.split(' ', 1)[0]} <b>{p.split(' ', 1)[1]}</b></p>" for p in paras)
        return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Bench</title></head><body>{body}</body></html>".encode()
    if fmt == "docx":
        import docx

        doc = docx.Document()
        for p in paras:
            first, rest = p.split(" ", 1)
            para = doc.add_paragraph(first + " ")
            para.add_run(rest).bold = True
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()
    if fmt == "pptx":
        from pptx import Presentation

        prs = Presentation()
        for i in range(0, len(paras), 10):
            slide = prs.slides.add_slide(prs.slide_layouts[1])
            slide.shapes.title.text = "Slide"
            frame = slide.placeholders[1].text_frame
            frame.text = paras[i]
            for p in paras[i + 1 : i + 10]:
                frame.add_paragraph().text = p
        buf = io.BytesIO()
        prs.save(buf)
        return buf.getvalue()
    if fmt == "odt":
        from odf.opendocument import OpenDocumentText
        from odf.text import P

        doc = OpenDocumentText()
        for p in paras:
            doc.text.addElement(P(text=p))
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()
    if fmt == "epub":
        from xml.sax.saxutils import escape

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
            zf.writestr(
                "META-INF/container.xml",
                '<?xml version="1.0"?><container version="1.0" '
                'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles/></container>',
            )
            for c in range(0, len(paras), 50):
                body = "".join(f"<p>{escape(p)}</p>" for p in paras[c : c + 50])
                zf.writestr(
                    f"OEBPS/ch{c // 50:03d}.xhtml",
                    '<?xml version="1.0" encoding="utf-8"?>'
                    f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>',
                )
        return buf.getvalue()
    if fmt == "pdf":
        sys.path.insert(0, str(ROOT))
        from tests.site.documents.builders import pdf

        pages = [paras[i : i + 20] for i in range(0, len(paras), 20)]
        return pdf([[p.encode("latin-1", "replace").decode("latin-1") for p in page] for page in pages])
    raise ValueError(fmt)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", default="bergamot-en-pt", help="comma-separated registered engines")
    ap.add_argument("--paragraphs", type=int, default=300)
    ap.add_argument("--formats", default="txt,md,srt,html,docx,odt,pptx,epub,pdf")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "documents.json"))
    args = ap.parse_args()

    import torch
    from django.core.management import call_command

    torch.set_num_threads(1)
    call_command("migrate", verbosity=0)
    from nmt_site.core import lifecycle
    from nmt_site.core.owner import Owner
    from nmt_site.documents import services
    from translator.evaluate import environment
    from translator.registry import load_engine

    lifecycle._send = lambda *a, **k: None  # in-process: no broker round trip
    paras = paragraphs(args.paragraphs)
    report = {
        "what": __doc__.strip().splitlines()[0],
        "paragraphs": args.paragraphs,
        "environment": dataclasses.asdict(environment(1)),
        "rows": [],
    }
    print(
        "| engine | format | segments | upload check + split (s) | translate + store + rebuild (s) | segments/s (total) | model s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.engines.split(","):
        engine = load_engine(name)
        engine.warm_up()
        for fmt in args.formats.split(","):
            data = build(fmt, paras)
            t0 = time.perf_counter()
            job = services.create_documents(
                owner=Owner(session_key="bench"), files=[(f"bench.{fmt}", data)], translator=name
            )[0]
            t1 = time.perf_counter()
            job = services.run_document(job.id, worker="bench/1", load=lambda *a, engine=engine, **k: engine)
            t2 = time.perf_counter()
            assert job.state == "done", job.error
            row = {
                "engine": name,
                "format": fmt,
                "segments": job.segments_total,
                "split_s": round(t1 - t0, 2),
                "translate_store_rebuild_s": round(t2 - t1, 2),
                "segments_per_s": round(job.segments_total / (t2 - t0), 1),
                "model_s": round(job.model_seconds, 2),
            }
            report["rows"].append(row)
            print(
                f"| {name} | {fmt} | {row['segments']} | {row['split_s']} | {row['translate_store_rebuild_s']} | "
                f"{row['segments_per_s']} | {row['model_s']} |",
                flush=True,
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
