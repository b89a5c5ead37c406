"""The printable sheets (issue 17): `intake sheet --format html` printed to PDF by headless Chromium
must give A4 pages (595 x 842 points) with the sheet's Japanese text on them. Run with Tests/Browser/run
(pdftotext from poppler-utils reads the text back; .ci/run installs it)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from kiosk import BINARY, ROOT

CHROMIUM = "/usr/bin/chromium"


def media_boxes(pdf):
    """Every /MediaBox [x0 y0 x1 y1] of the PDF, as (width, height) in points. Chromium writes
    one per page object, uncompressed."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", pdf)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


def page_count(pdf):
    """Page objects: /Type /Page (not /Pages)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


class SheetPrintTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sheet-print-")
        records = os.path.join(cls.tmp, "records")
        # The records of every test conversation (exit status aside: each one that ran is written).
        subprocess.run([BINARY, "test", "Dialogs", "--records", records], cwd=ROOT, capture_output=True, text=True)
        cls.records = {}
        for name in os.listdir(records):
            with open(os.path.join(records, name), encoding="utf-8") as f:
                cls.records[name] = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def record_of(self, *needles):
        """The record file of the first conversation whose record holds every one of `needles`."""
        for name, text in sorted(self.records.items()):
            if all(n in text for n in needles):
                return os.path.join(self.tmp, "records", name)
        self.fail("no record holds %r" % (needles,))

    def print_sheet(self, kind, record, name):
        """`intake sheet --format html`, printed to PDF by headless Chromium: (html, pdf bytes, pdf path)."""
        out = subprocess.run([BINARY, "sheet", "--kind", kind, "--format", "html", record], cwd=ROOT,
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        html = os.path.join(self.tmp, name + ".html")
        with open(html, "w", encoding="utf-8") as f:
            f.write(out.stdout)
        pdf = os.path.join(self.tmp, name + ".pdf")
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        "--print-to-pdf=" + pdf, "file://" + html], capture_output=True, timeout=120)
        self.assertTrue(os.path.exists(pdf), "Chromium wrote no PDF")
        with open(pdf, "rb") as f:
            data = f.read()
        return out.stdout, data, pdf

    def assert_a4(self, data, at_least=1):
        boxes = media_boxes(data)
        self.assertGreaterEqual(len(boxes), at_least)
        self.assertGreaterEqual(page_count(data), at_least)
        for w, h in boxes:
            # A4 is 210 x 297 mm: 595.28 x 841.89 points.
            self.assertAlmostEqual(w, 595.3, delta=1.0)
            self.assertAlmostEqual(h, 841.9, delta=1.0)

    def pdf_text(self, pdf):
        if not shutil.which("pdftotext"):
            self.skipTest("pdftotext (poppler-utils) is missing")
        return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", pdf, "-"], capture_output=True, text=True).stdout

    def test_a_record_sheet_prints_on_a4_with_its_japanese_text(self):
        html, data, pdf = self.print_sheet("record", self.record_of("田中 愛子", '"locale": "ja"'), "aiko-record")
        self.assertIn("@page { size: A4;", html)
        self.assertIn('"Noto Sans CJK JP"', html)
        # Self-contained: nothing is fetched from anywhere.
        self.assertNotRegex(html, r"(?i)(src=|href=|url\(|@import|<script)")
        self.assert_a4(data)
        text = re.sub(r"[ \t]+", " ", self.pdf_text(pdf))
        for expected in ["就労相談記録票", "田中 愛子", "相談員", "時給 1,000円", "最寄りのマザーズハローワーク（マザーズコーナー）"]:
            self.assertIn(expected, text)

    def test_referral_sheets_each_start_a_new_a4_page(self):
        # Aiko's referrals: Hello Work and the 就業・自立支援センター, one sheet each.
        html, data, pdf = self.print_sheet("referral", self.record_of("田中 愛子", '"locale": "ja"'), "aiko-referral")
        self.assertEqual(html.count('<section class="sheet">'), 2)
        self.assert_a4(data, at_least=2)
        text = self.pdf_text(pdf)
        pages = text.split("\f")
        self.assertIn("相談つなぎシート（ハローワーク）", pages[0])
        self.assertTrue(any("相談つなぎシート（就業・自立支援センター）" in p for p in pages[1:]))


if __name__ == "__main__":
    unittest.main()
