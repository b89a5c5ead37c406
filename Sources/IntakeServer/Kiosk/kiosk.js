// The kiosk touch page: PROTOCOL.md's JSON messages over the WebSocket at /ws, one question per
// screen. Plain JavaScript, no framework, no build step. Hygiene: nothing is stored in the browser
// (no localStorage, sessionStorage, cookies or history entries); every text from the server or the
// client goes into the page through textContent / createElement, never as HTML.
'use strict';

(() => {
  const ANNOTATION = '\uFFF9', SEPARATOR = '\uFFFA', TERMINATOR = '\uFFFB';
  const LOCALES = ['ja', 'en', 'ja-easy'];
  const TOKEN_KEYS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

  // ---- Text with furigana (U+FFF9 base U+FFFA reading U+FFFB) ---------------------------------

  // Control and bidi characters (C0 but LF, DEL, C1, U+202A–E, U+2066–9, U+2028/9): refused in
  // answers, but anything stored before is shown inert, as every other renderer shows it
  // (ControlCharacters.visible): ␛ for C0, ␡ for DEL, ⟨U+202E⟩ for the rest.
  const UNSAFE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u2028\u2029]/g;
  function visible(t) {
    return String(t).replace(UNSAFE, ch => {
      const c = ch.charCodeAt(0);
      if (c < 0x20) return String.fromCharCode(0x2400 + c);
      if (c === 0x7F) return '\u2421';
      return '\u27E8U+' + c.toString(16).toUpperCase().padStart(4, '0') + '\u27E9';
    });
  }

  /** Splits `s` into plain runs and ruby groups: [{text}] or [{base, reading}], every run inert. */
  function parts(s) {
    const out = [];
    const text = visible(s == null ? '' : s);
    let i = 0;
    while (i < text.length) {
      const a = text.indexOf(ANNOTATION, i);
      if (a < 0) { out.push({ text: text.slice(i) }); break; }
      if (a > i) out.push({ text: text.slice(i, a) });
      const b = text.indexOf(SEPARATOR, a + 1);
      const c = text.indexOf(TERMINATOR, a + 1);
      if (b < 0 || c < 0 || c < b) {
        // A stray mark: show the rest without the marks rather than guess.
        out.push({ text: text.slice(a).replace(/[\uFFF9-\uFFFB]/g, '') });
        break;
      }
      out.push({ base: text.slice(a + 1, b).replace(/[\uFFF9-\uFFFB]/g, ''), reading: text.slice(b + 1, c).replace(/[\uFFF9-\uFFFB]/g, '') });
      i = c + 1;
    }
    return out;
  }

  /** A fragment for `s`: text nodes, and <ruby>base<rt>reading</rt></ruby> for annotated groups. */
  function rich(s) {
    const f = document.createDocumentFragment();
    for (const p of parts(s)) {
      if (p.text !== undefined) { f.append(document.createTextNode(p.text)); continue; }
      const ruby = document.createElement('ruby');
      ruby.append(document.createTextNode(p.base));
      const rp1 = document.createElement('rp'); rp1.textContent = '（';
      const rt = document.createElement('rt'); rt.textContent = p.reading;
      const rp2 = document.createElement('rp'); rp2.textContent = '）';
      ruby.append(rp1, rt, rp2);
      f.append(ruby);
    }
    return f;
  }

  /** `s` as plain text: the readings (for speech) or the bases. */
  function plain(s, readings) {
    return parts(s).map(p => p.text !== undefined ? p.text : (readings ? p.reading : p.base)).join('');
  }

  // ---- State (in memory only) -------------------------------------------------------------------

  const state = {
    config: { inactivity_seconds: 120, warning_seconds: 30, locales: LOCALES, strings: {} },
    locale: 'ja',
    ws: null,
    token: null,            // the resume number, in memory only, forgotten at the welcome screen
    inSession: false,
    expectClose: false,
    screen: 'welcome',
    question: null,
    tokenShown: true,       // false between a new session's start and her "I wrote it down"
    reviewOpen: false,      // a review asked for with the review button: the question that follows waits
    feedback: null,         // {kind: 'invalid'|'warning'|'error', messages: [...], question}
    dropped: null,
    notice: null,
    busy: false,
    lastActivity: Date.now(),
    idleShown: false,
    idleDeadline: 0,
    voices: [],
  };

  const $ = id => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = visible(v);
        else if (k === 'rich') e.append(rich(v));
        else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }

  function button(label, onclick, cls, attrs) {
    return el('button', Object.assign({ type: 'button', class: cls || '', rich: label, onclick }, attrs || {}));
  }

  /** The page's own string `kiosk.KEY` in the session's language (`{name}` filled from `args`). */
  function t(key, args) {
    const strings = state.config.strings || {};
    const full = 'kiosk.' + key;
    let s = (strings[state.locale] || {})[full];
    if (s === undefined) s = (strings.ja || {})[full];
    if (s === undefined) s = key;
    if (args) s = s.replace(/\{([a-z_]+)\}/g, (m, name) => (name in args ? String(args[name]) : m));
    return s;
  }

  function langOf(locale) { return locale === 'en' ? 'en' : 'ja'; }

  // ---- Socket -------------------------------------------------------------------------------

  function connect(first) {
    closeSocket();
    state.expectClose = false;
    state.busy = true;
    let ws;
    try {
      ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    } catch (e) {
      connectFailed();
      return;
    }
    state.ws = ws;
    ws.onopen = () => { if (state.ws === ws) ws.send(JSON.stringify(first)); };
    ws.onmessage = ev => {
      if (state.ws !== ws) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg && typeof msg === 'object') handle(msg);
    };
    ws.onclose = () => {
      if (state.ws !== ws) return;
      state.ws = null;
      state.busy = false;
      if (state.expectClose) return;
      if (state.inSession && state.token) showLost();
      else if (state.screen === 'welcome' || state.screen === 'connecting') connectFailed();
    };
  }

  function closeSocket() {
    const ws = state.ws;
    state.ws = null;
    if (ws) { try { ws.close(); } catch (e) { /* already closed */ } }
  }

  function send(op) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) { if (state.inSession) showLost(); return false; }
    state.busy = true;
    state.ws.send(JSON.stringify(op));
    return true;
  }

  /** An op about the question on the screen: ignored while the last one is not answered (a double tap). */
  function sendForQuestion(op) {
    if (state.busy || !state.question) return;
    op.question = state.question.question;
    state.sent = op;
    clearFeedback();
    send(op);
  }

  function startSession() {
    state.tokenShown = false;
    showConnecting();
    connect({ op: 'start', locale: state.locale, furigana: 'annotations' });
  }

  function resumeSession(token) {
    state.tokenShown = true;
    state.token = token;
    showConnecting();
    connect({ op: 'resume', token, furigana: 'annotations' });
  }

  // ---- Messages -----------------------------------------------------------------------------

  function handle(msg) {
    state.busy = false;
    switch (msg.type) {
      case 'session':
        state.inSession = true;
        state.token = msg.token;
        if (LOCALES.includes(msg.locale)) setLocale(msg.locale);
        if (!msg.resumed) state.tokenShown = false;
        break;
      case 'question':
        if (state.feedback && state.feedback.question !== msg.question) state.feedback = null;
        state.question = msg;
        if (!state.tokenShown) { showToken(); return; }
        if (state.reviewOpen) return;
        showQuestion();
        break;
      case 'invalid':
        state.feedback = { kind: 'invalid', messages: [msg.message], question: state.question && state.question.question };
        renderFeedback();
        break;
      case 'warning':
        state.feedback = { kind: 'warning', messages: msg.messages || [], question: state.question && state.question.question };
        renderFeedback();
        break;
      case 'dropped':
        state.dropped = Array.isArray(msg.answers) && msg.answers.length ? msg.answers : null;
        break;
      case 'notice':
        state.notice = msg.message;
        break;
      case 'review':
        showReview(msg);
        break;
      case 'done':
        state.inSession = false;
        state.token = null;
        showDone(msg);
        break;
      case 'error':
        handleError(msg);
        break;
      case 'bye':
        handleBye(msg);
        break;
      default:
        break;
    }
  }

  function handleError(msg) {
    if (!state.inSession) {
      // A start or resume that failed: back to the welcome screen with the reason.
      state.token = null;
      closeSocket();
      showWelcome(msg.message);
      return;
    }
    state.feedback = { kind: 'error', messages: [msg.message], question: state.question && state.question.question };
    renderFeedback();
  }

  function handleBye(msg) {
    state.expectClose = true;
    const token = msg.token || state.token;
    state.inSession = false;
    closeSocket();
    if (msg.reason === 'done') return; // the done screen stays until she closes it
    if (msg.reason === 'resumed_elsewhere' || msg.reason === 'quit') { showWelcome(); return; }
    if ((msg.reason === 'suspended' || msg.reason === 'idle' || msg.reason === 'shutdown') && token) {
      showSuspended(token, msg.reason === 'suspended' ? null : msg.message);
      return;
    }
    showWelcome(msg.message);
  }

  // ---- Header: languages, read aloud, progress ------------------------------------------------

  function setLocale(locale) {
    state.locale = locale;
    document.documentElement.lang = langOf(locale);
    document.title = plain(t('page_title'), false);
    renderHeader();
  }

  function renderHeader() {
    const langs = $('langs');
    langs.setAttribute('aria-label', plain(t('lang.label'), false));
    langs.replaceChildren(...LOCALES.filter(l => (state.config.locales || LOCALES).includes(l)).map(l => {
      const saved = state.locale;
      state.locale = l;
      const name = t('lang.self');
      state.locale = saved;
      return el('button', {
        type: 'button', class: 'lang', lang: langOf(l), 'aria-pressed': l === state.locale ? 'true' : 'false',
        'data-locale': l, rich: name, onclick: () => switchLocale(l),
      });
    }));
    const read = $('read-aloud');
    read.replaceChildren(rich(speaking() ? t('read_stop') : t('read_aloud')));
    read.hidden = !voiceFor(state.locale) || !['question', 'review', 'done', 'token', 'suspended'].includes(state.screen);
  }

  function switchLocale(locale) {
    if (locale === state.locale) return;
    stopSpeaking();
    if (state.inSession && state.screen === 'question') {
      if (state.busy) return;
      setLocale(locale);
      clearFeedback();
      send({ op: 'locale', locale });
      return;
    }
    setLocale(locale);
    if (state.inSession) send({ op: 'locale', locale });
    rerenderLocal();
  }

  /** Screens whose words are the page's own are drawn again in the new language. */
  function rerenderLocal() {
    switch (state.screen) {
      case 'welcome': showWelcome(); break;
      case 'token': showToken(); break;
      case 'suspended': showSuspended(state.suspendedToken); break;
      case 'lost': showLost(); break;
      default: break;
    }
  }

  function showProgress(p) {
    const row = $('progress-row');
    if (!p) { row.hidden = true; return; }
    const answered = Math.max(0, Number(p.answered) || 0);
    const remaining = Math.max(0, Number(p.remaining) || 0);
    const total = Math.max(1, answered + remaining);
    const bar = $('progress');
    const text = plain(t('progress', { answered, remaining }), false);
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', String(total));
    bar.setAttribute('aria-valuenow', String(answered));
    bar.setAttribute('aria-valuetext', text);
    bar.setAttribute('aria-label', plain(t('progress_label'), false));
    $('progress-fill').style.width = Math.round(100 * answered / total) + '%';
    $('progress-text').replaceChildren(rich(t('progress', { answered, remaining })));
    row.hidden = false;
  }

  // ---- Speech -------------------------------------------------------------------------------

  function loadVoices() {
    try { state.voices = window.speechSynthesis ? window.speechSynthesis.getVoices() : []; } catch (e) { state.voices = []; }
    renderHeader();
  }

  function voiceFor(locale) {
    const lang = langOf(locale);
    return state.voices.find(v => (v.lang || '').toLowerCase().replace('_', '-').startsWith(lang)) || null;
  }

  function speaking() { return !!(window.speechSynthesis && window.speechSynthesis.speaking); }

  function stopSpeaking() { if (window.speechSynthesis) window.speechSynthesis.cancel(); }

  /** The words on the screen as one would read them: the readings of ruby, not the kanji. */
  function spokenText(node) {
    let out = '';
    for (const c of node.childNodes) {
      if (c.nodeType === Node.TEXT_NODE) out += c.textContent;
      else if (c.nodeType === Node.ELEMENT_NODE) {
        if (c.hidden || c.tagName === 'RP') continue;
        if (c.tagName === 'RUBY') {
          const rt = c.querySelector('rt');
          out += rt ? rt.textContent : c.textContent;
        } else out += spokenText(c) + (/^(P|H1|H2|LI|BUTTON|DIV)$/.test(c.tagName) ? '。\n' : '');
      }
    }
    return out;
  }

  function readAloud() {
    if (speaking()) { stopSpeaking(); renderHeader(); return; }
    const voice = voiceFor(state.locale);
    if (!voice) return;
    // The question (or the screen's words) and the choices, in the order shown; not what is hidden.
    const parts = Array.from($('main').querySelectorAll('.speak, .answer button.choice'))
      .filter(e => !e.closest('[hidden]')).map(spokenText).join('\n');
    const u = new SpeechSynthesisUtterance(parts);
    u.voice = voice;
    u.lang = voice.lang;
    u.onend = () => renderHeader();
    window.speechSynthesis.speak(u);
    renderHeader();
  }

  // ---- Screens ------------------------------------------------------------------------------

  function screen(name, ...children) {
    stopSpeaking();
    state.screen = name;
    const main = $('main');
    main.replaceChildren(el('section', { class: 'screen screen-' + name, 'data-screen': name }, ...children));
    renderHeader();
    const h = main.querySelector('h1');
    if (h) { h.setAttribute('tabindex', '-1'); h.focus({ preventScroll: true }); }
    window.scrollTo(0, 0);
  }

  /** The welcome screen: nothing of the person before (every state of hers is dropped here). */
  function showWelcome(error) {
    closeSocket();
    hideIdle();
    state.inSession = false;
    state.token = null;
    state.question = null;
    state.feedback = null;
    state.dropped = null;
    state.notice = null;
    state.reviewOpen = false;
    state.suspendedToken = null;
    state.sent = null;
    state.busy = false;
    showProgress(null);
    if (state.screen !== 'welcome' && error === undefined) setLocale('ja');
    const input = el('input', {
      id: 'resume-input', class: 'token-input', type: 'text', autocomplete: 'off', autocapitalize: 'characters',
      spellcheck: 'false', inputmode: 'text', maxlength: '40', 'aria-describedby': 'resume-error',
    });
    input.addEventListener('input', () => { const v = formatToken(input.value); if (v !== input.value) input.value = v; });
    input.addEventListener('keydown', e => { if (e.key === 'Enter') submitResume(input); });
    const keys = el('div', { class: 'keypad token-keypad', role: 'group', 'aria-label': plain(t('keypad.label'), false) },
      ...Array.from(TOKEN_KEYS).map(k => button(k, () => { input.value = formatToken(input.value + k); }, 'key', { 'data-key': k })),
      button('⌫', () => { input.value = formatToken(input.value.replace(/-?.$/, '')); }, 'key wide', { 'aria-label': plain(t('keypad.backspace'), false), 'data-key': 'backspace' }),
      button(t('keypad.clear'), () => { input.value = ''; }, 'key wide', { 'data-key': 'clear' }));
    const errorBox = el('p', { id: 'resume-error', class: 'feedback error', role: 'alert' });
    if (error) errorBox.append(rich(error));
    screen('welcome',
      el('h1', { class: 'speak', rich: t('welcome.title') }),
      el('p', { class: 'lead speak', rich: t('welcome.lead') }),
      button(t('welcome.start'), startSession, 'primary big start', { id: 'start' }),
      el('section', { class: 'resume', 'aria-labelledby': 'resume-title' },
        el('h2', { id: 'resume-title', rich: t('welcome.resume_title') }),
        el('p', { rich: t('welcome.resume_lead') }),
        el('label', { for: 'resume-input', class: 'field-label', rich: t('welcome.resume_label') }),
        input, keys, errorBox,
        button(t('welcome.resume_button'), () => submitResume(input), 'primary', { id: 'resume' })));
  }

  function formatToken(s) {
    const raw = s.toUpperCase().replace(/[^0-9A-Z]/g, '').slice(0, 26);
    return raw.replace(/(.{4})(?=.)/g, '$1-');
  }

  function submitResume(input) {
    const token = input.value.replace(/[^0-9A-Za-z]/g, '');
    if (!token) {
      const box = $('resume-error');
      box.replaceChildren(rich(t('welcome.resume_empty')));
      return;
    }
    input.value = '';
    resumeSession(token);
  }

  function showConnecting() {
    screen('connecting', el('h1', { class: 'speak', rich: t('working') }));
  }

  function connectFailed() {
    state.inSession = false;
    state.token = null;
    showWelcome(t('connect_failed'));
  }

  function tokenBlock(token) {
    // Groups of four that never break inside: the number is copied by hand.
    const p = el('p', { class: 'token speak', id: 'token', lang: 'en' });
    formatToken(token).split('-').forEach((group, i) => {
      if (i > 0) p.append(document.createTextNode('-'), document.createElement('wbr'));
      p.append(el('span', { class: 'token-group', text: group }));
    });
    return p;
  }

  /** A new session's resume number, large, before the first question. */
  function showToken() {
    screen('token',
      el('h1', { class: 'speak', rich: t('token.title') }),
      tokenBlock(state.token || ''),
      el('p', { class: 'lead speak', rich: t('token.write_down') }),
      button(t('token.continue'), () => { state.tokenShown = true; if (state.question) showQuestion(); }, 'primary big', { id: 'token-continue' }));
  }

  function showSuspended(token, message) {
    state.suspendedToken = token;
    state.inSession = false;
    state.token = null;
    showProgress(null);
    screen('suspended',
      el('h1', { class: 'speak', rich: t('suspended.title') }),
      message ? el('p', { class: 'speak', rich: message }) : null,
      tokenBlock(token),
      el('p', { class: 'lead speak', rich: t('suspended.write_down') }),
      button(t('suspended.close'), () => showWelcome(), 'primary big', { id: 'suspended-close' }));
  }

  function showLost() {
    closeSocket();
    screen('lost',
      el('h1', { class: 'speak', rich: t('lost.title') }),
      el('p', { class: 'lead speak', role: 'alert', rich: t('lost.lead') }),
      button(t('lost.resume'), () => { const tok = state.token; if (tok) resumeSession(tok); else showWelcome(); }, 'primary big', { id: 'lost-resume' }),
      button(t('lost.close'), () => showWelcome(), 'secondary', { id: 'lost-close' }));
  }

  function showDone(msg) {
    showProgress(null);
    const suggestions = Array.isArray(msg.suggestions) ? msg.suggestions : [];
    screen('done',
      el('h1', { class: 'speak', rich: t('done.title') }),
      state.notice ? el('p', { class: 'notice speak', rich: state.notice }) : null,
      el('p', { class: 'lead speak', rich: t('done.lead') }),
      suggestions.length ? el('section', { class: 'suggestions', 'aria-labelledby': 'suggestions-title' },
        el('h2', { id: 'suggestions-title', class: 'speak', rich: t('done.suggestions') }),
        el('ul', null, ...suggestions.map(s => el('li', { class: 'speak', 'data-suggestion': s.id, rich: s.text })))) : null,
      button(t('done.close'), () => showWelcome(), 'primary big', { id: 'done-close' }));
    state.notice = null;
  }

  function showReview(msg) {
    const answers = Array.isArray(msg.answers) ? msg.answers : [];
    const list = el('div', { class: 'review-list', id: 'review-list' });
    let heading = null;
    let group = null;
    for (const a of answers) {
      const ctx = (a.context || []).join(' › ');
      if (ctx !== heading || !group) {
        heading = ctx;
        list.append(el('h2', { class: 'review-heading', rich: ctx }));
        group = el('ul', { class: 'review-group' });
        list.append(group);
      }
      group.append(el('li', null, el('button', {
        type: 'button', class: 'review-item', 'data-number': a.number, 'data-question': a.question,
        onclick: () => { if (state.busy) return; state.reviewOpen = false; send({ op: 'edit', target: String(a.number) }); },
      }, el('span', { class: 'review-q', rich: a.text }), el('span', { class: 'review-a', rich: a.answer }),
      el('span', { class: 'visually-hidden', rich: ' — ' + t('final_review.edit_label') }))));
    }
    const final = !!msg.final;
    state.reviewOpen = !final;
    screen('review',
      el('h1', { class: 'speak', rich: t('final_review.title') }),
      noticesBlock(),
      el('p', { class: 'lead speak', rich: final ? t('final_review.lead') : t('final_review.partial_lead') }),
      list,
      final
        ? button(t('final_review.finish'), () => { if (!state.busy) send({ op: 'finish' }); }, 'primary big finish', { id: 'finish' })
        : button(t('final_review.back_to_question'), () => { state.reviewOpen = false; if (state.question) showQuestion(); }, 'primary big', { id: 'review-back' }));
  }

  /** Dropped answers and notices, shown once on the next screen. */
  function noticesBlock() {
    const box = el('div', { class: 'notices', 'aria-live': 'polite', id: 'notices' });
    if (state.notice) { box.append(el('p', { class: 'notice', rich: state.notice })); state.notice = null; }
    if (state.dropped) {
      box.append(el('div', { class: 'dropped', id: 'dropped' },
        el('p', { rich: t('dropped') }),
        el('ul', null, ...state.dropped.map(d => el('li', { 'data-question': d.question },
          el('span', { rich: d.text }), document.createTextNode(' → '), el('span', { rich: d.answer }))))));
      state.dropped = null;
    }
    return box;
  }

  // ---- The question screen -----------------------------------------------------------------------

  function showQuestion() {
    const q = state.question;
    if (!q) return;
    showProgress(q.progress);
    const helpId = 'help-text';
    const help = q.help ? el('div', { class: 'help', id: helpId, hidden: true }, el('p', { class: 'speak', rich: q.help })) : null;
    const helpButton = q.help ? el('button', {
      type: 'button', class: 'help-button', id: 'help-button', 'aria-expanded': 'false', 'aria-controls': helpId,
      'aria-label': plain(t('help_label'), false),
      onclick: () => {
        const open = help.hidden;
        help.hidden = !open;
        helpButton.setAttribute('aria-expanded', open ? 'true' : 'false');
      },
    }, rich(t('help'))) : null;

    const context = (q.context || []).filter(Boolean);
    const previous = Array.isArray(q.previous) && q.previous.length
      ? el('ul', { class: 'previous' }, ...q.previous.map(p => el('li', null, el('span', { rich: p.question }), document.createTextNode(' → '), el('span', { rich: p.answer }))))
      : null;
    const current = q.current ? el('p', { class: 'current', id: 'current', rich: t('current', { answer: '' }) },
      el('span', { class: 'current-answer', rich: q.current })) : null;

    const actions = el('nav', { class: 'actions', 'aria-label': plain(t('answer_label'), false) },
      button(t('back'), () => { if (!state.busy) { clearFeedback(); send({ op: 'back' }); } }, 'secondary', { id: 'back' }),
      q.declinable ? button(t('decline'), () => sendForQuestion({ op: 'decline' }), 'secondary', { id: 'decline' }) : null,
      !q.required ? button(t('skip'), () => sendForQuestion({ op: 'skip' }), 'secondary', { id: 'skip' }) : null,
      button(t('review'), () => { if (!state.busy) { state.reviewOpen = true; send({ op: 'review' }); } }, 'secondary', { id: 'review' }),
      button(t('suspend'), () => { if (!state.busy) send({ op: 'suspend' }); }, 'secondary', { id: 'suspend' }));

    screen('question',
      context.length ? el('p', { class: 'context', rich: context.join(' › ') }) : null,
      previous,
      noticesBlock(),
      el('div', { class: 'question-head' },
        el('h1', { class: 'question-text speak', id: 'question-text', 'data-question': q.question, 'data-kind': q.kind, rich: q.text }),
        helpButton),
      help,
      current,
      el('div', { class: 'feedback-slot', id: 'feedback', role: 'alert', 'aria-live': 'assertive' }),
      answerArea(q),
      actions);
    $('main').querySelector('.screen').setAttribute('data-question', q.question);
    renderFeedback();
  }

  function clearFeedback() {
    state.feedback = null;
    const box = $('feedback');
    if (box) box.replaceChildren();
  }

  function renderFeedback() {
    const box = $('feedback');
    if (!box) return;
    box.replaceChildren();
    const f = state.feedback;
    if (!f) { box.className = 'feedback-slot'; return; }
    box.className = 'feedback-slot feedback ' + f.kind;
    for (const m of f.messages) box.append(el('p', { class: 'speak', rich: m }));
    if (f.kind === 'warning') {
      const shown = sentAnswer();
      if (shown) box.append(el('p', { class: 'warned-answer', rich: t('current', { answer: '' }) }, el('span', { rich: shown })));
      box.append(el('div', { class: 'warning-actions' },
        button(t('warning_keep'), () => { if (!state.busy) { clearFeedback(); send({ op: 'confirm' }); } }, 'primary', { id: 'warning-keep' }),
        button(t('warning_change'), () => { clearFeedback(); focusAnswer(); }, 'secondary', { id: 'warning-change' })));
    }
  }

  /** The answer a warning is about, as she gave it (a choice's label, the text she typed). */
  function sentAnswer() {
    const op = state.sent, q = state.question;
    if (!op || !q || op.question !== q.question || op.op !== 'answer') return null;
    const label = v => { const c = (q.choices || []).find(c => c.value === v); return c ? c.label : String(v); };
    if (Array.isArray(op.value)) return op.value.map(label).join('、');
    if (op.value !== undefined) return label(op.value);
    return op.text == null ? null : String(op.text);
  }

  function focusAnswer() {
    const first = $('main').querySelector('.answer input, .answer textarea, .answer button');
    if (first) first.focus();
  }

  function answerArea(q) {
    switch (q.kind) {
      case 'yesno':
      case 'choice': return choiceArea(q);
      case 'multi': return multiArea(q);
      case 'integer':
      case 'decimal':
      case 'time': return numberArea(q);
      case 'date': return dateArea(q, true);
      case 'month': return dateArea(q, false);
      default: return textArea(q);
    }
  }

  function choiceArea(q) {
    const choices = Array.isArray(q.choices) ? q.choices : [];
    return el('div', { class: 'answer choices' + (q.kind === 'yesno' ? ' yesno' : ''), role: 'group', 'aria-labelledby': 'question-text' },
      ...choices.map(c => {
        const isCurrent = q.current != null && plain(c.label, false) === plain(q.current, false);
        return button(c.label, () => sendForQuestion({ op: 'answer', value: c.value }), 'choice' + (isCurrent ? ' is-current' : ''),
          { 'data-value': c.value, 'aria-current': isCurrent ? 'true' : null });
      }));
  }

  function multiArea(q) {
    const choices = Array.isArray(q.choices) ? q.choices : [];
    const currentLabels = q.current ? plain(q.current, false).split(/[、,，]\s*/) : [];
    const toggles = choices.map(c => {
      const on = currentLabels.includes(plain(c.label, false));
      const b = el('button', { type: 'button', class: 'choice toggle', 'aria-pressed': on ? 'true' : 'false', 'data-value': c.value },
        el('span', { class: 'check', 'aria-hidden': 'true' }), el('span', { rich: c.label }));
      b.addEventListener('click', () => b.setAttribute('aria-pressed', b.getAttribute('aria-pressed') === 'true' ? 'false' : 'true'));
      return b;
    });
    const done = () => {
      const values = toggles.filter(b => b.getAttribute('aria-pressed') === 'true').map(b => b.getAttribute('data-value'));
      if (values.length === 0 && !q.required) sendForQuestion({ op: 'skip' });
      else sendForQuestion({ op: 'answer', value: values });
    };
    return el('div', { class: 'answer multi' },
      el('p', { class: 'hint', id: 'multi-hint', rich: t('multi_hint') }),
      el('div', { class: 'choices', role: 'group', 'aria-labelledby': 'question-text', 'aria-describedby': 'multi-hint' }, ...toggles),
      button(t('multi_done'), done, 'primary big', { id: 'submit' }));
  }

  function toHalfWidth(s) {
    return s.replace(/[０-９]/g, d => String.fromCharCode(d.charCodeAt(0) - 0xFEE0)).replace(/[．]/g, '.').replace(/[－ー−]/g, '-');
  }

  /** An on-screen keypad that types into whichever of `inputs` had the focus last. */
  function numberPad(inputs, decimal, onEnter) {
    let target = inputs[0];
    for (const i of inputs) i.addEventListener('focus', () => { target = i; });
    const press = k => {
      if (!target) return;
      if (k === 'backspace') target.value = target.value.slice(0, -1);
      else if (k === 'clear') target.value = '';
      else target.value += k;
      target.dispatchEvent(new Event('input'));
    };
    // `decimal`: true (a point key), 'time' (a colon key: 8:30), or false.
    const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', decimal === 'time' ? ':' : decimal ? '.' : null, '0'].filter(k => k !== null);
    return el('div', { class: 'keypad number-keypad', role: 'group', 'aria-label': plain(t('keypad.label'), false) },
      ...keys.map(k => button(k, () => press(k), 'key', { 'data-key': k })),
      button('⌫', () => press('backspace'), 'key', { 'aria-label': plain(t('keypad.backspace'), false), 'data-key': 'backspace' }),
      button(t('keypad.clear'), () => press('clear'), 'key', { 'data-key': 'clear' }),
      onEnter ? button(t('next'), onEnter, 'key primary', { 'data-key': 'enter', id: 'submit' }) : null);
  }

  function numberArea(q) {
    const decimal = q.kind === 'decimal';
    // A time of day: hours (9) or hours and minutes (8:30, typed with the colon key or as words).
    const time = q.kind === 'time';
    const input = el('input', {
      id: 'answer-input', class: 'number-input', type: 'text', inputmode: decimal ? 'decimal' : 'numeric',
      autocomplete: 'off', 'aria-describedby': q.min != null && q.max != null ? 'answer-range' : null,
    });
    if (q.current != null) input.value = toHalfWidth(String(q.current)).replace(time ? /[^0-9:]/g : /[^0-9.\-]/g, '');
    const submit = () => {
      const v = toHalfWidth(input.value.trim()).replace(/[,，]/g, '');
      if (v === '' && !q.required) { sendForQuestion({ op: 'skip' }); return; }
      if (/^-?\d+(\.\d+)?$/.test(v) && (decimal || /^-?\d+$/.test(v))) sendForQuestion({ op: 'answer', value: Number(v) });
      else sendForQuestion({ op: 'answer', text: input.value });
    };
    input.addEventListener('keydown', e => { if (e.key === 'Enter') submit(); });
    return el('div', { class: 'answer number' },
      el('label', { for: 'answer-input', class: 'field-label', rich: t('number_label') }),
      input,
      q.min != null && q.max != null ? el('p', { class: 'hint', id: 'answer-range', rich: t('range', { min: q.min, max: q.max }) }) : null,
      numberPad([input], time ? 'time' : decimal, submit));
  }

  /** Date or month: 和暦 (令和・平成・昭和 + year) or 西暦, then month (and day), with a keypad. */
  function dateArea(q, withDay) {
    const eras = [['reiwa', '令和'], ['heisei', '平成'], ['showa', '昭和']];
    let calendar = state.locale === 'en' ? 'seireki' : 'wareki';
    let era = 'heisei';
    const field = (id, key, max) => el('input', { id, class: 'date-input', type: 'text', inputmode: 'numeric', autocomplete: 'off', maxlength: String(max) });
    const year = field('date-year', 'year', 4);
    const month = field('date-month', 'month', 2);
    const day = withDay ? field('date-day', 'day', 2) : null;

    // Prefill from the answer given before (ISO, 2019年4月, or 平成31年4月1日).
    if (q.current) {
      const c = toHalfWidth(plain(q.current, false));
      let m = c.match(/(令和|平成|昭和)\s*(\d+|元)\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?/);
      if (m) {
        calendar = 'wareki';
        era = eras.find(e => e[1] === m[1])[0];
        year.value = m[2] === '元' ? '1' : m[2]; month.value = m[3]; if (day && m[4]) day.value = m[4];
      } else if ((m = c.match(/(\d{4})\D+(\d{1,2})(?:\D+(\d{1,2}))?/))) {
        calendar = 'seireki';
        year.value = m[1]; month.value = String(Number(m[2])); if (day && m[3]) day.value = String(Number(m[3]));
      }
    }

    const calButtons = ['wareki', 'seireki'].map(c => el('button', {
      type: 'button', class: 'segment', 'data-calendar': c, 'aria-pressed': 'false', rich: t('date.' + c),
      onclick: () => { calendar = c; sync(); },
    }));
    const eraButtons = eras.map(([k, name]) => el('button', {
      type: 'button', class: 'segment', 'data-era': name, 'aria-pressed': 'false', rich: t('date.' + k),
      onclick: () => { era = k; sync(); },
    }));
    const eraRow = el('div', { class: 'segments eras', role: 'group', 'aria-label': plain(t('date.era_label'), false) }, ...eraButtons);
    function sync() {
      calButtons.forEach(b => b.setAttribute('aria-pressed', b.getAttribute('data-calendar') === calendar ? 'true' : 'false'));
      eraButtons.forEach((b, i) => b.setAttribute('aria-pressed', eras[i][0] === era ? 'true' : 'false'));
      eraRow.hidden = calendar !== 'wareki';
      year.setAttribute('maxlength', calendar === 'wareki' ? '2' : '4');
    }
    sync();

    const submit = () => {
      const y = toHalfWidth(year.value.trim()), mo = toHalfWidth(month.value.trim()), d = day ? toHalfWidth(day.value.trim()) : '';
      if (y === '' && mo === '' && d === '' && !q.required) { sendForQuestion({ op: 'skip' }); return; }
      if (calendar === 'wareki') {
        const name = eras.find(e => e[0] === era)[1];
        sendForQuestion({ op: 'answer', text: name + y + '年' + mo + '月' + (withDay ? d + '日' : '') });
      } else if (/^\d{4}$/.test(y) && /^\d{1,2}$/.test(mo) && (!withDay || /^\d{1,2}$/.test(d))) {
        const pad = s => s.padStart(2, '0');
        sendForQuestion({ op: 'answer', value: y + '-' + pad(mo) + (withDay ? '-' + pad(d) : '') });
      } else {
        sendForQuestion({ op: 'answer', text: y + '-' + mo + (withDay ? '-' + d : '') });
      }
    };
    const unit = (input, key) => el('span', { class: 'date-part' },
      input, el('label', { for: input.id, class: 'date-unit', rich: t('date.' + key) }));
    const inputs = [year, month].concat(day ? [day] : []);
    for (const i of inputs) i.addEventListener('keydown', e => { if (e.key === 'Enter') submit(); });
    return el('div', { class: 'answer date' },
      el('div', { class: 'segments calendars', role: 'group', 'aria-label': plain(t('date.calendar_label'), false) }, ...calButtons),
      eraRow,
      el('div', { class: 'date-fields' }, unit(year, 'year'), unit(month, 'month'), day ? unit(day, 'day') : null),
      numberPad(inputs, false, submit));
  }

  function textArea(q) {
    const long = !(q.max != null && Number(q.max) <= 60);
    const input = el(long ? 'textarea' : 'input', {
      id: 'answer-input', class: 'text-input', autocomplete: 'off', spellcheck: 'false', rows: long ? '3' : null,
      type: long ? null : 'text',
      // A phone number on the digit keypad, an address on the keyboard with @ (the input stays
      // type text: autocomplete off, nothing kept by the browser, whatever the field holds).
      inputmode: q.format === 'phone' ? 'tel' : q.format === 'email' ? 'email' : null,
      maxlength: q.max != null ? String(q.max) : null,
    });
    if (q.current != null) input.value = plain(q.current, false);
    const submit = () => {
      const v = input.value;
      if (v.trim() === '' && !q.required) { sendForQuestion({ op: 'skip' }); return; }
      sendForQuestion({ op: 'answer', text: v });
    };
    if (!long) input.addEventListener('keydown', e => { if (e.key === 'Enter' && !e.isComposing) submit(); });
    return el('div', { class: 'answer text' },
      el('label', { for: 'answer-input', class: 'field-label', rich: t('answer_label') }),
      input,
      button(t('next'), submit, 'primary big', { id: 'submit' }));
  }

  // ---- Inactivity ---------------------------------------------------------------------------

  function activity() {
    state.lastActivity = Date.now();
  }

  function showIdle() {
    state.idleShown = true;
    state.idleDeadline = Date.now() + 1000 * Number(state.config.warning_seconds || 30);
    $('idle-title').replaceChildren(rich(t('idle.title')));
    $('idle-continue').replaceChildren(rich(t('idle.continue')));
    updateIdle();
    $('idle').hidden = false;
    $('main').setAttribute('inert', '');
    $('bar').setAttribute('inert', '');
    $('idle-continue').focus();
  }

  function updateIdle() {
    const seconds = Math.max(0, Math.ceil((state.idleDeadline - Date.now()) / 1000));
    $('idle-text').replaceChildren(rich(t('idle.countdown', { seconds })));
  }

  function hideIdle() {
    state.idleShown = false;
    $('idle').hidden = true;
    $('main').removeAttribute('inert');
    $('bar').removeAttribute('inert');
  }

  /** No touch for the warning's time: suspend (her resume number still works) and go back to welcome. */
  function idleTimeout() {
    hideIdle();
    if (state.inSession && state.ws && state.ws.readyState === WebSocket.OPEN) {
      // Suspend, then close at once: the server suspends a session whose socket closes in any case,
      // and nothing of hers may stay on the screen while waiting for its answer.
      state.ws.send(JSON.stringify({ op: 'suspend' }));
      state.expectClose = true;
    }
    showWelcome();
  }

  function tick() {
    const now = Date.now();
    if (state.idleShown) {
      if (now >= state.idleDeadline) idleTimeout();
      else updateIdle();
      return;
    }
    const idleFor = now - state.lastActivity;
    const limit = 1000 * Number(state.config.inactivity_seconds || 120);
    if (idleFor < limit) return;
    if (state.screen === 'welcome') {
      // Half a resume number left by someone who walked away goes too.
      const input = $('resume-input');
      if (input && input.value) input.value = '';
      const box = $('resume-error');
      if (box) box.replaceChildren();
      activity();
      return;
    }
    showIdle();
  }

  // ---- Start --------------------------------------------------------------------------------

  function init() {
    for (const type of ['pointerdown', 'keydown', 'input', 'touchstart', 'wheel']) {
      document.addEventListener(type, activity, { capture: true, passive: true });
    }
    $('idle-continue').addEventListener('click', () => { hideIdle(); activity(); });
    $('read-aloud').addEventListener('click', readAloud);
    // A page shown again from the browser's cache (back/forward) starts over: nothing of before.
    window.addEventListener('pageshow', e => { if (e.persisted) location.reload(); });
    window.addEventListener('pagehide', () => { closeSocket(); $('main').replaceChildren(); });
    if (window.speechSynthesis) {
      window.speechSynthesis.addEventListener('voiceschanged', loadVoices);
      loadVoices();
    }
    fetch('/config.json', { cache: 'no-store', credentials: 'omit' })
      .then(r => (r.ok ? r.json() : Promise.reject(new Error('config'))))
      .then(c => { if (c && typeof c === 'object') Object.assign(state.config, c); })
      .catch(() => { /* the built-in defaults; strings fall back to their keys */ })
      .finally(() => {
        setLocale('ja');
        showWelcome();
        setInterval(tick, 250);
      });
  }

  // For the browser tests: the ruby rendering and the speech text as pure functions (no state).
  window.KioskText = Object.freeze({
    rubyHTMLFor: s => { const d = document.createElement('div'); d.append(rich(s)); return d.innerHTML; },
    spoken: s => plain(s, true),
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
