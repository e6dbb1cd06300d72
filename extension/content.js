// hark content script: injected on demand into the tab being read. Collects the
// text to read (the selection, or the page's main article) with a map back to
// the DOM text nodes, and highlights the word being spoken.
(() => {
  if (globalThis.__harkContent) return;
  globalThis.__harkContent = true;

  const SKIP_ALWAYS = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TEXTAREA', 'INPUT', 'SELECT', 'OPTION', 'SVG', 'CANVAS', 'IFRAME', 'OBJECT', 'BUTTON']);
  const SKIP_IN_PAGE = new Set(['NAV', 'FOOTER', 'ASIDE', 'FORM', 'MENU', 'DIALOG']);
  const NEGATIVE = /(^|[\s_-])(comment|comments|footer|footnote|nav|navbar|navigation|menu|sidebar|sponsor|share|sharing|social|related|promo|banner|cookie|breadcrumbs?|masthead|widget|advert|ads?|subscribe|newsletter|popup|modal)([\s_-]|$)/i;
  const POSITIVE = /article|content|main|post|entry|story|text|body|blog/i;
  const HIGHLIGHT_CLASS = 'hark-word';

  /** What is being read: the text sent to hark and its DOM segments. */
  let doc = { text: '', segs: [], map: null };
  let marks = [];

  const styleCache = new WeakMap();
  function hidden(el) {
    let v = styleCache.get(el);
    if (v === undefined) {
      const cs = getComputedStyle(el);
      v = cs.display === 'none' || cs.visibility === 'hidden' || el.getAttribute('aria-hidden') === 'true' || el.hidden;
      styleCache.set(el, v);
    }
    return v;
  }

  function isBlock(el) {
    const d = getComputedStyle(el).display;
    return !(d === 'inline' || d === 'inline-block' || d === 'contents');
  }

  function blockOf(node) {
    let el = node.parentElement;
    while (el && !isBlock(el)) el = el.parentElement;
    return el;
  }

  /** True when `el` or an ancestor (up to root) should not be read. */
  function excluded(el, root, page) {
    for (let e = el; e && e !== root.parentElement; e = e.parentElement) {
      if (SKIP_ALWAYS.has(e.tagName.toUpperCase()) || hidden(e)) return true;
      if (page) {
        if (SKIP_IN_PAGE.has(e.tagName) || ['navigation', 'banner', 'contentinfo', 'complementary', 'menu'].includes(e.getAttribute('role'))) return true;
        if (e.tagName === 'HEADER' && !e.closest('article, main, [role=main]')) return true;
        if (e !== root && NEGATIVE.test(`${e.id} ${typeof e.className === 'string' ? e.className : ''}`)) return true;
      }
    }
    return false;
  }

  /**
   * Builds the text from the text nodes under `root` (clipped to `range` if
   * given), inserting a separator between different blocks, and records which
   * part of the text each node holds.
   */
  function build(root, range, page) {
    const segs = [];
    let text = '';
    let lastBlock = null;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode(n) {
        if (range && !range.intersectsNode(n)) return NodeFilter.FILTER_REJECT;
        if (!n.data.trim()) return NodeFilter.FILTER_REJECT;
        return excluded(n.parentElement, root, page) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      },
    });
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      let from = 0;
      let to = n.data.length;
      if (range) {
        if (n === range.startContainer) from = range.startOffset;
        if (n === range.endContainer) to = range.endOffset;
      }
      if (to <= from) continue;
      const block = blockOf(n);
      if (text && block !== lastBlock) text += page ? '\n\n' : '\n';
      lastBlock = block;
      segs.push({ node: n, nodeStart: from, start: text.length, end: text.length + (to - from) });
      text += n.data.slice(from, to);
    }
    return { text, segs };
  }

  function linkDensity(el) {
    const all = el.textContent.length || 1;
    let links = 0;
    for (const a of el.querySelectorAll('a')) links += a.textContent.length;
    return links / all;
  }

  /** A small readability-style search for the element holding the main text. */
  function articleRoot() {
    const scores = new Map();
    const add = (el, s) => el && scores.set(el, (scores.get(el) || 0) + s);
    for (const p of document.body.querySelectorAll('p, pre, blockquote, td, li, h2, h3')) {
      if (excluded(p, document.body, true)) continue;
      const t = p.textContent.trim();
      if (t.length < 25) continue;
      const s = 1 + t.split(/[,;，、]/).length + Math.min(3, Math.floor(t.length / 100));
      add(p.parentElement, s);
      add(p.parentElement && p.parentElement.parentElement, s / 2);
      add(p.parentElement && p.parentElement.parentElement && p.parentElement.parentElement.parentElement, s / 3);
    }
    let best = null;
    let bestScore = 0;
    for (const [el, s] of scores) {
      if (el === document.documentElement) continue;
      let sc = s * (1 - linkDensity(el));
      const label = `${el.id} ${typeof el.className === 'string' ? el.className : ''}`;
      if (NEGATIVE.test(label)) sc *= 0.2;
      if (POSITIVE.test(label)) sc *= 1.25;
      if (el.tagName === 'ARTICLE' || el.tagName === 'MAIN' || el.getAttribute('role') === 'main') sc *= 1.5;
      if (sc > bestScore) {
        best = el;
        bestScore = sc;
      }
    }
    return best || document.querySelector('article, main, [role=main]') || document.body;
  }

  /** The language the text under `el` is marked as (its nearest `lang`), or ''. */
  function langOf(el) {
    const marked = el && el.closest && el.closest('[lang]');
    return (marked && marked.getAttribute('lang')) || document.documentElement.lang || '';
  }

  function collect(mode) {
    clearMarks();
    let built;
    let root;
    if (mode === 'page') {
      root = articleRoot();
      built = build(root, null, true);
    } else {
      const sel = getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return { text: '' };
      const range = sel.getRangeAt(0);
      root = range.commonAncestorContainer.nodeType === Node.TEXT_NODE
        ? range.commonAncestorContainer.parentElement
        : range.commonAncestorContainer;
      built = build(root, range, false);
    }
    doc = { text: built.text, segs: built.segs, map: byteToUtf16(built.text) };
    return { text: built.text, lang: langOf(root) };
  }

  /** UTF-8 byte offset (the bridge's source offsets) → UTF-16 index into `text`. */
  function byteToUtf16(text) {
    const len = (cp) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
    let total = 0;
    for (const ch of text) total += len(ch.codePointAt(0));
    const map = new Uint32Array(total + 1);
    let b = 0;
    let u = 0;
    for (const ch of text) {
      const n = len(ch.codePointAt(0));
      for (let k = 0; k < n; k++) map[b + k] = u;
      b += n;
      u += ch.length;
    }
    map[total] = u;
    return map;
  }

  function clearMarks() {
    for (const m of marks) {
      if (m.isConnected) m.replaceWith(...m.childNodes);
    }
    marks = [];
  }

  /** Splits segment i's node so that [a, b) of the text is one node; returns it. */
  function isolate(i, a, b) {
    let seg = doc.segs[i];
    if (a > seg.start) {
      const tail = seg.node.splitText(seg.nodeStart + (a - seg.start));
      const head = { ...seg, end: a };
      seg = { node: tail, nodeStart: 0, start: a, end: seg.end };
      doc.segs.splice(i, 1, head, seg);
      i += 1;
    }
    if (b < seg.end) {
      const tail = seg.node.splitText(seg.nodeStart + (b - seg.start));
      doc.segs.splice(i + 1, 0, { node: tail, nodeStart: 0, start: b, end: seg.end });
      seg.end = b;
    }
    return { node: seg.node, index: i };
  }

  /** Highlights text[start, end) (UTF-16 indices) by wrapping it in spans. */
  function highlight(start, end) {
    clearMarks();
    if (!(end > start)) return;
    let first = true;
    for (let i = 0; i < doc.segs.length; i++) {
      const seg = doc.segs[i];
      if (seg.end <= start) continue;
      if (seg.start >= end) break;
      const { node, index } = isolate(i, Math.max(start, seg.start), Math.min(end, seg.end));
      i = index;
      if (!node.isConnected) continue;
      const span = document.createElement('span');
      span.className = HIGHLIGHT_CLASS;
      span.style.cssText = 'background: #ffe066; color: inherit; border-radius: 2px;';
      node.replaceWith(span);
      span.appendChild(node);
      marks.push(span);
      if (first) {
        first = false;
        const r = span.getBoundingClientRect();
        if (r.top < 0 || r.bottom > innerHeight) span.scrollIntoView({ block: 'center', behavior: 'smooth' });
      }
    }
  }

  let toastEl = null;
  function toast(message) {
    if (!toastEl) {
      toastEl = document.createElement('div');
      toastEl.setAttribute('role', 'status');
      toastEl.style.cssText = 'position:fixed;z-index:2147483647;right:16px;bottom:16px;max-width:360px;padding:10px 14px;border-radius:8px;background:#222;color:#fff;font:14px/1.4 system-ui,sans-serif;box-shadow:0 2px 12px rgba(0,0,0,.3)';
      document.documentElement.appendChild(toastEl);
    }
    toastEl.textContent = `hark: ${message}`;
    toastEl.hidden = false;
    clearTimeout(toastEl._t);
    toastEl._t = setTimeout(() => (toastEl.hidden = true), 6000);
  }

  chrome.runtime.onMessage.addListener((msg, _sender, reply) => {
    switch (msg && msg.hark) {
      case 'collect':
        reply(collect(msg.mode));
        return;
      case 'word': {
        // Byte offsets into the text we sent → UTF-16 indices.
        const m = doc.map;
        if (m && msg.end < m.length) highlight(m[msg.start], m[msg.end]);
        return;
      }
      case 'clear':
        clearMarks();
        return;
      case 'status':
        toast(msg.message);
        return;
    }
  });
})();
