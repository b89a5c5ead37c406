"""The kiosk page in a real browser (issue 14's proof): headless Chromium against the built
`intake serve --http 0`, a person who only taps and types. Run with Tests/Browser/run."""

import json
import os
import re
import subprocess
import tempfile
import time
import unittest

from selenium.webdriver.common.by import By

from kiosk import BINARY, ROOT, Kiosk, Server, Shots, conversation, free_port, make_driver


def conversation_record(file, line):
    """The record the conversation gives in `intake test` (`--records` writes FILE-LINE.json)."""
    out = tempfile.mkdtemp(prefix="kiosk-records-")
    subprocess.run([BINARY, "test", "Dialogs", "--records", out], cwd=ROOT, capture_output=True, text=True)
    # (exit status aside: the file is written for each conversation that ran, passed or not)
    path = os.path.join(out, "%s-%d.json" % (os.path.splitext(file)[0], line))
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# What differs between two records of the same answers by nature: when the session started and
# finished (the conversation runs on its own clock, `today:`). Everything else must be equal:
# dialog, status, locale, mode, answers, computed values, declined, skipped, warnings, suggestions.
VOLATILE = {"started", "finished"}


def comparable(record):
    return {k: v for k, v in record.items() if k not in VOLATILE}


class KioskBrowserTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.driver = make_driver()

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()

    def setUp(self):
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        # The page breaks neither its Content-Security-Policy nor runs into a script error.
        bad = [e["message"] for e in self.driver.get_log("browser")
               if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
        self.assertEqual(bad, [])

    def serve(self, *extra):
        s = Server(*extra)
        self.servers.append(s)
        return s

    def kiosk(self, server, prefix, group="ja"):
        self.shots = Shots(self, self.driver, prefix, group)
        return Kiosk(self, self.driver, server.url)

    # ------------------------------------------------------------------------------------------

    def test_ruby_rendering_of_annotations_is_dom_not_html(self):
        """U+FFF9 base U+FFFA reading U+FFFB becomes <ruby>; anything else stays text (never HTML)."""
        server = self.serve()
        k = self.kiosk(server, "unit").open()
        html = k.js("return KioskText.rubyHTMLFor(arguments[0])", "\ufff9仕事\ufffaしごと\ufffbを さがす")
        self.assertEqual(html, "<ruby>仕事<rp>（</rp><rt>しごと</rt><rp>）</rp></ruby>を さがす")
        html = k.js("return KioskText.rubyHTMLFor(arguments[0])", "<img src=x onerror=alert(1)>\ufff9<b>\ufffa<i>\ufffb")
        self.assertEqual(html, "&lt;img src=x onerror=alert(1)&gt;<ruby>&lt;b&gt;<rp>（</rp><rt>&lt;i&gt;</rt><rp>）</rp></ruby>")
        self.assertEqual(k.js("return KioskText.rubyHTMLFor(arguments[0])", "a\ufff9b"), "ab")
        # Control and bidi characters already stored are shown inert, as the server's renderers show them.
        self.assertEqual(k.js("return KioskText.rubyHTMLFor(arguments[0])", "a\u202eb\u001bc\u0085d"),
                         "a\u27e8U+202E\u27e9b\u241bc\u27e8U+0085\u27e9d")
        self.assertEqual(k.js("return KioskText.spoken(arguments[0])", "\ufff9仕事\ufffaしごと\ufffbです"), "しごとです")
        # The page's own strings come from Locales/*/kiosk.yaml through /config.json.
        self.assertIn("お仕事さがしの相談の受付", k.text())
        self.assertEqual(k.js("return document.documentElement.lang"), "ja")
        # Read aloud only where the browser has a voice for the language (headless Chromium has none).
        if not k.js("return speechSynthesis.getVoices().length"):
            self.assertFalse(k.d.find_element(By.ID, "read-aloud").is_displayed())

    def test_aiko_completes_by_touch_and_her_record_is_her_conversations(self):
        """Persona 愛子 (personas-1, ja, kiosk) only by tapping and typing; her stored record equals
        the record `intake test` gives for the same conversation."""
        server = self.serve()
        k = self.kiosk(server, "aiko").open()
        self.shots.take("welcome")
        history = k.js("return history.length")
        conv, line = conversation("personas-1.yaml", "愛子")
        k.start()
        self.assertEqual(conv["steps"][-1], ":finish")
        k.follow(conv["steps"][:-1])
        # At the final review she taps her city to check it, keeps it, and is back at the review.
        k.wait(lambda: k.screen() == "review" and k.exists("#finish"), what="the final review")
        k.then(lambda: k.tap('button.review-item[data-question="city"]'))
        self.assertEqual(k.question_id(), "city")
        self.assertEqual(k.d.find_element(By.ID, "answer-input").get_attribute("value"), "川越市")
        k.then(lambda: k.tap("#submit"))
        k.follow([":finish"])
        k.wait(lambda: k.screen() == "done", what="the done screen")
        self.shots.take("done")
        self.assertTrue(k.exists("#main [data-suggestion]"), "suggestions are shown in her words")
        for s in conv["expect"].get("suggestions", []):
            self.assertTrue(k.exists('#main [data-suggestion="%s"]' % s), s)
        k.no_storage()
        self.assertEqual(k.js("return history.length"), history, "the page adds no history entries")
        k.tap("#done-close")
        k.wait(lambda: k.screen() == "welcome", what="the welcome screen")
        self.assertNotIn("田中", k.text())
        ids = server.complete_sessions()
        self.assertEqual(len(ids), 1, ids)
        kiosk_record = server.record(ids[0])
        expected = conversation_record("personas-1.yaml", line)
        self.assertEqual(set(kiosk_record), set(expected))
        self.assertEqual(kiosk_record["mode"], "kiosk")
        self.assertEqual(kiosk_record["answers"]["family"]["birth_date"], "1994-07-15")  # 平成6年7月15日 on the keypad
        self.assertEqual(comparable(kiosk_record), comparable(expected))

    def test_maria_in_easy_japanese_with_furigana(self):
        """Persona マリア (personas-2, ja-easy) by touch; where the ja-easy text carries readings, the
        page shows them as <ruby>."""
        server = self.serve()
        k = self.kiosk(server, "maria", group="ja-easy").open()
        k.tap('button.lang[data-locale="ja-easy"]')
        k.wait(lambda: k.js("return document.querySelector('button.lang[data-locale=\"ja-easy\"]').getAttribute('aria-pressed')") == "true")
        self.shots.take("welcome-ja-easy")
        conv, line = conversation("personas-2.yaml", "マリア — フィリピン")
        self.assertEqual(conv["locale"], "ja-easy")
        k.start()
        rubies = 0
        for step in conv["steps"]:
            if isinstance(step, dict):
                rubies += k.js("return document.querySelectorAll('#main ruby rt').length") or 0
            k.follow([step])
        k.wait(lambda: k.screen() == "done", what="the done screen")
        self.shots.take("done-ja-easy")
        annotated = furigana_in_easy_locale()
        if annotated:
            self.assertGreater(rubies, 0, "ja-easy has readings (%s) but no <ruby> was shown" % annotated)
        print("\n  マリア: %d <rt> shown over her questions (ja-easy files with readings: %s)" % (rubies, annotated or "none yet"))
        ids = server.complete_sessions()
        self.assertEqual(len(ids), 1, ids)
        self.assertEqual(comparable(server.record(ids[0])), comparable(conversation_record("personas-2.yaml", line)))

    def test_back_and_fewer_children_shows_the_dropped_answers(self):
        """Going back and lowering the number of children from 2 to 1: the page lists the second
        child's answers as no longer applying."""
        server = self.serve()
        k = self.kiosk(server, "children").open()
        conv, _ = conversation("personas-1.yaml", "愛子")
        k.start()
        k.follow(conv["steps"], until="education")
        self.assertEqual(k.question_id(), "education")
        k.then(lambda: k.tap("#back"))
        self.assertEqual(k.question_id(), "needs_childcare_during")
        self.assertTrue(k.exists("#current"), "the answer given before is shown")
        k.then(lambda: k.tap("#review"))
        k.wait(lambda: k.screen() == "review")
        self.shots.take("review-partial")
        k.then(lambda: k.tap('button.review-item[data-question="children_count"]'))
        self.assertEqual(k.question_id(), "children_count")
        self.assertEqual(k.d.find_element(By.ID, "answer-input").get_attribute("value"), "2")
        k.tap('.number-keypad button[data-key="clear"]')
        k.keypad("1")
        k.then(lambda: k.tap("#submit"))
        k.wait(lambda: k.exists("#dropped"), what="the dropped answers")
        self.shots.take("question-dropped")
        dropped = k.js("return Array.from(document.querySelectorAll('#dropped li')).map(li => li.dataset.question)")
        self.assertIn("children[2].age", dropped)
        self.assertIn("care[2].current_care", dropped)
        self.assertFalse([d for d in dropped if "[1]" in d], dropped)
        self.assertIn("当てはまらなくなった", k.d.find_element(By.ID, "dropped").text)

    def test_decline_invalid_warning_kept(self):
        """Declining a sensitive question; an invalid answer then a good one; a soft-check warning kept."""
        server = self.serve()
        k = self.kiosk(server, "edges").open()
        conv, _ = conversation("personas-1.yaml", "愛子")
        answers = {list(s)[0]: list(s.values())[0] for s in conv["steps"] if isinstance(s, dict)}
        k.start()
        k.answer_until(answers, "reason")
        # 離婚の理由: 答えない, without argument.
        self.assertTrue(k.exists("#decline"))
        self.shots.take("question-declinable")
        k.then(lambda: k.tap("#decline"))
        self.assertNotEqual(k.question_id(), "reason")
        k.answer_until(answers, "children_count")
        # 11 children: refused beside the question, in Japanese; the same question stays.
        k.keypad("11")
        k.then(lambda: k.tap("#submit"))
        k.wait(lambda: k.exists("#feedback.invalid"), what="the invalid message")
        self.assertEqual(k.question_id(), "children_count")
        self.assertEqual(k.d.find_element(By.ID, "feedback").get_attribute("role"), "alert")
        self.assertRegex(k.feedback_text(), r"[ぁ-んァ-ン一-龥]")
        self.shots.take("question-invalid")
        k.tap('.number-keypad button[data-key="clear"]')
        k.keypad("2")
        k.then(lambda: k.tap("#submit"))
        self.assertEqual(k.question_id(), "children[1].age")
        k.answer("children[1].age", "3")
        # A 3-year-old (the stage is asked only where the age does not decide it) at 小学1〜3年生:
        # a soft check warns; she keeps the answer.
        self.assertEqual(k.question_id(), "children[1].stage")
        k.answer("children[1].stage", "小学1〜3年生")
        k.wait(lambda: k.exists("#feedback.warning #warning-keep"), what="the warning")
        self.assertTrue(k.exists("#warning-change"))
        self.assertIn("小学1〜3年生", k.feedback_text(), "the warning says which answer it is about")
        self.shots.take("question-warning")
        k.then(lambda: k.tap("#warning-keep"), allow_warning=False)
        self.assertEqual(k.question_id(), "children[1].school")
        k.then(lambda: k.tap("#review"))
        k.wait(lambda: k.screen() == "review")
        review = k.js("return Object.fromEntries(Array.from(document.querySelectorAll('.review-item')).map(b => [b.dataset.question, b.querySelector('.review-a').textContent]))")
        self.assertEqual(review["reason"], "答えない")
        self.assertEqual(review["children_count"], "2")
        self.assertEqual(review["children[1].stage"], "小学1〜3年生")
        k.then(lambda: k.tap("#review-back"))
        self.assertEqual(k.question_id(), "children[1].school")

    def test_inactivity_returns_to_welcome_without_trace_then_resume_on_a_new_page(self):
        """No touch: a warning with a countdown, then suspension and the welcome screen with nothing of
        her; her resume number typed on the keypad of a new page brings her back where she was."""
        server = self.serve("--kiosk-inactivity", "3", "--kiosk-warning", "2")
        k = self.kiosk(server, "idle").open()
        conv, _ = conversation("personas-1.yaml", "愛子")
        token = k.start()
        k.follow(conv["steps"], until="kana")
        self.assertEqual(k.question_id(), "kana")
        secrets = ["090-1234-5678", "田中", token, token.replace("-", "")]
        k.wait(lambda: k.d.find_element(By.ID, "idle").is_displayed(), timeout=8, what="the inactivity warning")
        self.assertRegex(k.d.find_element(By.ID, "idle-text").text, r"\d")
        self.shots.take("idle-warning")
        k.wait(lambda: k.screen() == "welcome", timeout=8, what="the welcome screen after the timeout")
        self.assertFalse(k.d.find_element(By.ID, "idle").is_displayed())
        self.shots.take("welcome-after-timeout")
        page = k.js("return document.documentElement.outerHTML + document.body.innerText")
        for s in secrets:
            self.assertNotIn(s, page)
        self.assertNotIn("氏名", page)
        k.no_storage()
        # The browser's back button shows nothing of her either.
        k.d.back()
        time.sleep(0.5)
        self.assertNotIn("田中", k.d.page_source)
        # A new page: half a number typed and left is wiped after the inactivity time too.
        k.open()
        for ch in token.replace("-", "")[:6]:
            k.tap('.token-keypad button[data-key="%s"]' % ch)
        k.wait(lambda: k.d.find_element(By.ID, "resume-input").get_attribute("value") == "", timeout=8,
               what="the half-typed number to be wiped")
        # Her number on the keypad: she is at the question she was at, her answers kept.
        k.resume_by_keypad(token)
        self.assertEqual(k.question_id(), "kana")
        k.then(lambda: k.tap("#back"))
        self.assertEqual(k.question_id(), "name")
        self.assertEqual(k.d.find_element(By.ID, "answer-input").get_attribute("value"), "田中 愛子")

    def test_reload_mid_session_loses_nothing_acknowledged(self):
        """A reload mid-session: the page starts fresh at welcome; resuming by number returns to the
        question she was at, with every answer the page had moved on from."""
        server = self.serve()
        k = self.kiosk(server, "reload").open()
        conv, _ = conversation("personas-1.yaml", "愛子")
        token = k.start()
        k.follow(conv["steps"], until="city")
        self.assertEqual(k.question_id(), "city")
        k.d.refresh()
        k.wait(lambda: k.screen() == "welcome", what="the welcome screen after a reload")
        self.assertNotIn("田中", k.js("return document.documentElement.outerHTML"))
        field = k.d.find_element(By.ID, "resume-input")
        field.send_keys(token.lower().replace("-", ""))
        k.then(lambda: k.tap("#resume"))
        k.wait(lambda: k.screen() == "question")
        self.assertEqual(k.question_id(), "city")
        k.then(lambda: k.tap("#review"))
        k.wait(lambda: k.screen() == "review")
        review = k.js("return Object.fromEntries(Array.from(document.querySelectorAll('.review-item')).map(b => [b.dataset.question, b.querySelector('.review-a').textContent]))")
        for q in ["consent_record", "share_counselors", "share_outside", "disclose_employer", "contact_methods",
                  "phone", "reachable_times", "discreet", "name", "kana", "birth_date"]:
            self.assertIn(q, review)
        self.assertEqual(review["name"], "田中 愛子")
        self.assertEqual(review["phone"], "090-1234-5678")

    def test_socket_loss_shows_a_message_and_resumes(self):
        """The server dies mid-session: the page says the connection was lost and offers to resume;
        with the server back (same address, same database) she goes on at the same question."""
        line, http = free_port(), free_port()
        first = Server(port=line, http=http)
        self.servers.append(first)
        k = self.kiosk(first, "lost").open()
        conv, _ = conversation("personas-1.yaml", "愛子")
        k.start()
        k.follow(conv["steps"], until="phone")
        self.assertEqual(k.question_id(), "phone")
        # A phone number is typed on the phone keypad (the question says its format).
        self.assertEqual(k.d.find_element(By.ID, "answer-input").get_attribute("inputmode"), "tel")
        first.crash()
        k.wait(lambda: k.screen() == "lost", what="the lost-connection screen")
        self.assertEqual(k.d.find_element(By.CSS_SELECTOR, "#main [role=alert]").get_attribute("role"), "alert")
        self.shots.take("lost")
        second = Server(port=line, http=http, folder=first.dir)
        self.servers.insert(0, second)
        k.then(lambda: k.tap("#lost-resume"))
        k.wait(lambda: k.screen() == "question", what="the resumed question")
        self.assertEqual(k.question_id(), "phone")

    def test_read_aloud_speaks_the_question_and_choices_in_her_language(self):
        """Read aloud: with a voice for the language (a stand-in speech engine here: headless Chromium
        has none) the button speaks the question and its choices, in ja-easy the readings of ruby."""
        stub = """
          window.__spoken = [];
          const voices = [{lang: 'ja-JP', name: 'test ja'}, {lang: 'en-US', name: 'test en'}];
          Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
            getVoices: () => voices, speaking: false, cancel() {}, addEventListener() {},
            speak(u) { window.__spoken.push({text: u.text, lang: u.lang}); }}});
          window.SpeechSynthesisUtterance = function (text) { this.text = text; };
        """
        handle = self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": stub})["identifier"]
        try:
            server = self.serve()
            k = self.kiosk(server, "speech", group="ja-easy").open()
            k.tap('button.lang[data-locale="ja-easy"]')
            k.start()
            self.assertTrue(k.d.find_element(By.ID, "read-aloud").is_displayed())
            k.tap("#read-aloud")
            spoken = k.js("return window.__spoken")
            self.assertEqual(len(spoken), 1)
            self.assertEqual(spoken[0]["lang"], "ja-JP")
            readings = k.js("""const reading = e => { const h = e.cloneNode(true);
                h.querySelectorAll('rp').forEach(x => x.remove());
                h.querySelectorAll('ruby').forEach(r => r.replaceWith(r.querySelector('rt').textContent));
                return h.textContent.trim(); };
              return [document.getElementById('question-text')].concat(
                Array.from(document.querySelectorAll('#main .answer button.choice'))).map(reading)""")
            self.assertEqual(len(readings), 3)  # the question, はい, いいえ
            for text in readings:
                self.assertIn(text, spoken[0]["text"])
            for base in k.js("return Array.from(document.querySelectorAll('#question-text ruby')).map(r => r.firstChild.textContent)"):
                self.assertNotIn(base, spoken[0]["text"], "ja-easy reads the reading, not the kanji")
            k.then(lambda: k.tap('button.lang[data-locale="en"]'))
            k.wait(lambda: "May we" in k.d.find_element(By.ID, "question-text").text)
            k.tap("#read-aloud")
            spoken = k.js("return window.__spoken")
            self.assertEqual(spoken[-1]["lang"], "en-US")
            self.assertIn("May we keep a record", spoken[-1]["text"])
        finally:
            self.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": handle})

    def test_suspend_shows_the_number_large_and_the_language_switch(self):
        """Suspending shows the resume number with the instruction to write it down; the language switch
        turns the session and the page to English (lang attribute too)."""
        server = self.serve()
        k = self.kiosk(server, "suspend").open()
        token = k.start()
        k.then(lambda: k.tap('button.lang[data-locale="en"]'))
        k.wait(lambda: k.js("return document.documentElement.lang") == "en")
        self.assertIn("May we keep a record", k.d.find_element(By.ID, "question-text").text)
        self.assertTrue(k.exists("#help-button"))
        k.tap("#help-button")
        self.assertTrue(k.d.find_element(By.ID, "help-text").is_displayed())
        self.shots.take("question-help-en")
        progress = k.d.find_element(By.ID, "progress")
        self.assertEqual(progress.get_attribute("role"), "progressbar")
        self.assertEqual(progress.get_attribute("aria-valuenow"), "0")
        k.then(lambda: k.tap("#suspend"))
        k.wait(lambda: k.screen() == "suspended")
        self.assertEqual(k.d.find_element(By.ID, "token").text, token)
        self.assertIn("write it down", k.text())
        self.shots.take("suspended")
        k.tap("#suspended-close")
        k.wait(lambda: k.screen() == "welcome")
        self.assertNotIn(token, k.js("return document.documentElement.outerHTML"))
        self.assertEqual(k.js("return document.documentElement.lang"), "ja")
        self.shots.take("welcome")


class KioskSourceTests(unittest.TestCase):
    """What the page's source may not do, read from the files themselves."""

    folder = os.path.join(ROOT, "Sources", "IntakeServer", "Kiosk")

    def read(self, name):
        with open(os.path.join(self.folder, name), encoding="utf-8") as f:
            return f.read()

    def test_no_inline_script_or_style_for_the_csp(self):
        html = self.read("index.html")
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)[^>]*>", "an inline <script>")
        self.assertNotRegex(html, r"<style\b|\sstyle=|\son[a-z]+=", "inline style or an event handler attribute")
        self.assertNotRegex(html, r"(src|href)=\"(https?:)?//", "nothing from another site (no CDN)")

    def test_nothing_kept_in_the_browser_and_no_html_from_text(self):
        js = self.read("kiosk.js")
        code = re.sub(r"//[^\n]*", "", js)  # comments may name what the code must not do
        for forbidden in ["localStorage", "sessionStorage", "document.cookie", "indexedDB", "caches.",
                          "pushState", "replaceState", "insertAdjacentHTML", "document.write", "outerHTML",
                          "eval(", "new Function"]:
            self.assertNotIn(forbidden, code)
        # innerHTML only once: read (never written) by the test hook that shows how text becomes ruby.
        self.assertEqual(re.findall(r"innerHTML\s*=(?!=)", code), [])
        self.assertEqual(code.count("innerHTML"), 1)


def furigana_in_easy_locale():
    """The ja-easy locale files that carry readings ({仕事|しごと}): then the page must show <ruby>."""
    folder = os.path.join(ROOT, "Locales", "ja-easy")
    found = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            if re.search(r"\{[^{}|]+\|[^{}|]+\}", f.read()):
                found.append(name)
    return ", ".join(found)


if __name__ == "__main__":
    unittest.main(verbosity=2)
