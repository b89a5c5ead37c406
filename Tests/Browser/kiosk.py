"""Helpers for the kiosk page's browser tests: a built `intake serve --http 0`, headless Chromium, a
person who taps and types, screenshots and axe-core checks."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unicodedata

import yaml
from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("INTAKE_BINARY", os.path.join(ROOT, ".build", "debug", "intake"))
OUT = os.path.join(ROOT, ".build-browser")
SHOTS = os.path.join(OUT, "screenshots")


class Server:
    """`intake serve --port 0 --http 0 --db <tmp>`: the page's address is the `http://…/` line."""

    def __init__(self, *extra, port="0", http="0", folder=None):
        self.owns_dir = folder is None
        self.dir = folder or tempfile.mkdtemp(prefix="kiosk-browser-")
        self.db = os.path.join(self.dir, "intake.sqlite")
        self.log = open(os.path.join(self.dir, "serve.log"), "a")
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--port", str(port), "--http", str(http), "--db", self.db, *extra],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.url = None
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("http://"):
                self.url = line.strip()
                break
        if not self.url:
            self.stop()
            raise RuntimeError("intake serve printed no http:// line (see its log: %s)" % self.log.name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self.proc.stdout:
            self.proc.stdout.close()
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def crash(self):
        """SIGKILL: the server dies mid-session (its database stays for the next one)."""
        self.proc.kill()
        self.proc.wait()

    def intake(self, *args):
        return subprocess.run([BINARY, *args, "--db", self.db], cwd=ROOT, capture_output=True, text=True, check=True).stdout

    def complete_sessions(self):
        """The ids of the finished sessions (`intake records list --status complete`)."""
        return re.findall(r"\bs-[0-9a-z]{16}\b", self.intake("records", "list", "--status", "complete"))

    def record(self, session_id):
        return json.loads(self.intake("records", "show", session_id))


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_driver():
    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
              "--force-device-scale-factor=1", "--lang=ja", "--disable-gpu"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def conversation(file, name_start):
    """The conversation of Dialogs/tests/FILE whose name starts with `name_start`, with the line
    `intake test --records` names its record file by."""
    path = os.path.join(ROOT, "Dialogs", "tests", file)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    doc = yaml.safe_load(text)
    for c in doc["conversations"]:
        if c["name"].startswith(name_start):
            line = next(i + 1 for i, l in enumerate(text.splitlines()) if l.strip().startswith("- name: " + name_start))
            return c, line
    raise KeyError(name_start)


def norm(s):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(s)))


_FORMS_JS = """
function forms(node) {
  const a = node.cloneNode(true); a.querySelectorAll('rt,rp,.check,.visually-hidden').forEach(x => x.remove());
  const b = node.cloneNode(true); b.querySelectorAll('rp,.check,.visually-hidden').forEach(x => x.remove());
  b.querySelectorAll('ruby').forEach(r => { const rt = r.querySelector('rt'); r.replaceWith(document.createTextNode(rt ? rt.textContent : r.textContent)); });
  const c = node.cloneNode(true); c.querySelectorAll('.check,.visually-hidden').forEach(x => x.remove());
  return [a.textContent.trim(), b.textContent.trim(), c.textContent.trim()];  // kanji, reading, 漢字（かんじ）
}
"""


class Kiosk:
    """A person at the kiosk page: she taps buttons and types on the keypad or the keyboard."""

    def __init__(self, test, driver, url):
        self.test = test
        self.d = driver
        self.url = url

    # ---- page ----
    def open(self):
        self.d.get(self.url)
        self.wait(lambda: self.screen() == "welcome" and self.d.find_elements(By.ID, "start"))
        return self

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, cond, timeout=15, what="condition"):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.05).until(lambda d: cond())
        except TimeoutException:
            raise AssertionError("timed out waiting for %s; screen %r question %r feedback %r" % (
                what, self.screen(), self.question_id(), self.feedback_text()))

    def screen(self):
        return self.js("const s = document.querySelector('#main > section'); return s ? s.dataset.screen : null")

    def section(self):
        return self.d.find_element(By.CSS_SELECTOR, "#main > section")

    def question_id(self):
        return self.js("const h = document.getElementById('question-text'); return h ? h.dataset.question : null")

    def kind(self):
        return self.js("const h = document.getElementById('question-text'); return h ? h.dataset.kind : null")

    def feedback_text(self):
        return self.js("const f = document.getElementById('feedback'); return f ? f.textContent : null")

    def text(self):
        return self.js("return document.body.innerText")

    def tap(self, css):
        el = self.d.find_element(By.CSS_SELECTOR, css)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        el.click()

    def exists(self, css):
        return bool(self.d.find_elements(By.CSS_SELECTOR, css))

    def then(self, action, allow_warning=True):
        """Does `action` and waits for the page's answer: a new screen, or a warning or error beside
        the question (which comes without one)."""
        old = self.section()
        action()

        def changed():
            try:
                old.is_displayed()
            except StaleElementReferenceException:
                return True
            return allow_warning and self.exists("#feedback.warning, #feedback.error")
        self.wait(changed, what="the page's answer")

    # ---- welcome, token ----
    def start(self):
        self.then(lambda: self.tap("#start"))
        self.wait(lambda: self.screen() == "token", what="the token screen")
        token = self.d.find_element(By.ID, "token").text
        self.test.assertRegex(token, r"^[0-9A-Z]{4}(-[0-9A-Z]{1,4}){6}$")
        self.test.shots.take("token")
        self.then(lambda: self.tap("#token-continue"))
        return token

    def resume_by_keypad(self, token):
        for ch in token.replace("-", ""):
            self.tap('.token-keypad button[data-key="%s"]' % ch)
        self.test.assertEqual(self.d.find_element(By.ID, "resume-input").get_attribute("value"), token)
        self.then(lambda: self.tap("#resume"))
        self.wait(lambda: self.screen() in ("question", "review"), what="the resumed question")

    # ---- answering ----
    def choices(self):
        return self.js(_FORMS_JS + """
          return Array.from(document.querySelectorAll('#main .answer button.choice')).map((b, i) =>
            ({i: i, value: b.dataset.value, forms: forms(b)}));""")

    def choice_index(self, choices, item):
        item = norm(item)
        if re.fullmatch(r"\d+", item):
            return int(item) - 1
        exact = [c["i"] for c in choices if item in (norm(f) for f in c["forms"])]
        if len(exact) == 1:
            return exact[0]
        partial = [c["i"] for c in choices if any(item in norm(f) for f in c["forms"])]
        if len(partial) == 1:
            return partial[0]
        raise AssertionError("no single choice for %r among %r" % (item, [c["forms"] for c in choices]))

    def keypad(self, digits):
        for ch in digits:
            self.tap('.number-keypad button[data-key="%s"]' % ch)

    def answer(self, qid, text):
        """Answers the question on the screen as the conversation's step `qid: text` says, by touch."""
        self.test.assertEqual(self.question_id(), qid)
        kind = self.kind()
        text = "" if text is None else str(text)
        self.test.shots.take("question-" + kind)
        if text in (":decline", "答えない"):
            return self.then(lambda: self.tap("#decline"))
        if text == "" and kind not in ("text",) and self.exists("#skip"):
            return self.then(lambda: self.tap("#skip"))
        if kind in ("yesno", "choice"):
            i = self.choice_index(self.choices(), text)
            return self.then(lambda: self.d.find_elements(By.CSS_SELECTOR, "#main .answer button.choice")[i].click())
        if kind == "multi":
            buttons = self.d.find_elements(By.CSS_SELECTOR, "#main .answer button.choice")
            choices = self.choices()
            for b in buttons:
                if b.get_attribute("aria-pressed") == "true":
                    b.click()
            for item in re.split(r"[、,，]\s*", text):
                buttons[self.choice_index(choices, item)].click()
            return self.then(lambda: self.tap("#submit"))
        if kind in ("integer", "decimal", "time"):
            digits = norm(text).replace(",", "").replace("円", "")
            self.tap('.number-keypad button[data-key="clear"]')
            if re.fullmatch(r"[0-9.:]+", digits):
                self.keypad(digits)
            else:
                self.d.find_element(By.ID, "answer-input").send_keys(text)
            return self.then(lambda: self.tap("#submit"))
        if kind in ("date", "month"):
            return self.enter_date(kind, text)
        # text
        if text == "" and self.exists("#skip"):
            return self.then(lambda: self.tap("#skip"))
        field = self.d.find_element(By.ID, "answer-input")
        field.clear()
        if text:
            field.send_keys(text)
        return self.then(lambda: self.tap("#submit"))

    def enter_date(self, kind, text):
        t = norm(text)
        m = re.fullmatch(r"(令和|平成|昭和)(\d+|元)年(\d+)月(?:(\d+)日)?", t)
        if m:
            self.tap('button[data-calendar="wareki"]')
            self.tap('button[data-era="%s"]' % m.group(1))
            parts = ["1" if m.group(2) == "元" else m.group(2), m.group(3), m.group(4)]
        else:
            m = re.fullmatch(r"(\d{4})(?:-|年)(\d{1,2})(?:(?:-|月)(\d{1,2})日?)?月?", t)
            if not m:
                raise AssertionError("cannot enter %r as a date" % text)
            self.tap('button[data-calendar="seireki"]')
            parts = [m.group(1), m.group(2), m.group(3)]
        fields = ["date-year", "date-month"] + (["date-day"] if kind == "date" else [])
        for fid, value in zip(fields, parts):
            self.d.find_element(By.ID, fid).click()
            self.tap('.number-keypad button[data-key="clear"]')
            self.keypad(str(int(value)))
        self.then(lambda: self.tap("#submit"))

    def follow(self, steps, until=None, answers=None):
        """Answers the steps in order (each `qid: text`), checking that each question is the one the
        conversation expects; stops before the question `until`."""
        for step in steps:
            if isinstance(step, str):
                if step == ":finish":
                    self.wait(lambda: self.screen() == "review" and self.exists("#finish"), what="the final review")
                    self.test.shots.take("review-final")
                    self.then(lambda: self.tap("#finish"))
                    continue
                raise AssertionError("step %r is not done by touch here" % step)
            (qid, text), = step.items()
            if qid == until:
                return
            if qid in ("invalid", "warn", "notice", "dropped"):
                continue
            self.wait(lambda: self.screen() == "question", what="question " + qid)
            self.answer(qid, text)

    def answer_until(self, answers, stop):
        """Answers whatever question shows from `answers` (question id → text) until `stop` shows."""
        for _ in range(300):
            self.wait(lambda: self.screen() in ("question", "review"), what="a question")
            q = self.question_id()
            if q == stop:
                return
            if q not in answers:
                raise AssertionError("no answer for %r" % q)
            self.answer(q, answers[q])
        raise AssertionError("never reached %r" % stop)

    def no_storage(self):
        """Nothing of a session kept in the browser."""
        got = self.js("return [localStorage.length, sessionStorage.length, document.cookie]")
        self.test.assertEqual(got, [0, 0, ""])


class Shots:
    """A screenshot and an axe-core check of each screen kind, the first time it shows."""

    seen = set()  # over the whole run: each screen kind once per language group

    def __init__(self, test, driver, prefix, group="ja"):
        self.test = test
        self.d = driver
        self.prefix = prefix
        self.group = group
        os.makedirs(SHOTS, exist_ok=True)

    def take(self, kind, force=False):
        if (self.group, kind) in Shots.seen and not force:
            return
        Shots.seen.add((self.group, kind))
        time.sleep(0.1)  # let the layout settle
        self.d.save_screenshot(os.path.join(SHOTS, "%s-%s.png" % (self.prefix, kind)))
        axe = Axe(self.d)
        axe.inject()
        result = axe.run(options={"resultTypes": ["violations"]})
        bad = [v for v in result.get("violations", []) if v.get("impact") in ("serious", "critical")]
        if bad:
            lines = ["axe: %d serious/critical violation(s) on screen %s-%s:" % (len(bad), self.prefix, kind)]
            for v in bad:
                lines.append("  %s (%s): %s" % (v["id"], v["impact"], v["help"]))
                for n in v.get("nodes", [])[:5]:
                    lines.append("    %s  %s" % (n.get("target"), n.get("failureSummary", "").replace("\n", " ")))
            message = "\n".join(lines)
            print(message)
            self.test.fail(message)
