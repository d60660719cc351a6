"""Open every built documentation page in headless Chromium and check it.

Run ``bash scripts/build_docs.sh`` first, then ``bash scripts/check_docs_browser.sh``
(which installs Chromium and Playwright if they are missing and runs this
script), or directly::

    python scripts/check_docs_browser.py [--html docs/_build/html] [--pages 'api/*']

The pages are served from ``127.0.0.1`` (no other address is reached: every
request elsewhere is blocked and reported) and opened at 1280 x 900 px.  Once
MathJax has finished, a page fails if it shows

- raw TeX: ``\\(``, ``\\[`` in its visible text outside code, or a MathJax error;
- a broken image (``naturalWidth == 0`` once loaded);
- a horizontal overflow of the main column (``article.bd-article``'s
  ``scrollWidth > clientWidth``, or of the whole page), naming the widest
  element; boxes that scroll by design (code, tables, display math with
  ``overflow: auto``) do not count, their content is clipped;
- a top navbar that wraps or hides entries under "More";
- an empty primary sidebar ("Section Navigation" with no links);
- a second table of contents in the article while the right sidebar has one;
- a request for anything not served from the build (CDN math, fonts, ...);

and, checked on the HTML files without the browser, a link to an anchor that
does not exist on its target page.  A 1280 px screenshot of every page (the
top 3000 px) goes to ``docs/_build/screenshots/<page>.png``.  The exit status
is 1 if any page failed.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import html.parser
import http.server
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: Any = {"width": 1280, "height": 900}
SCREENSHOT_MAX_HEIGHT = 3000

# Runs in the page once it has loaded; returns the problems found.
PAGE_CHECKS_JS = r"""
async () => {
  const problems = [];
  // 1. MathJax: wait for the typesetting of every formula.
  if (document.querySelector('script[src*="mathjax"]')) {
    const t0 = Date.now();
    while (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) {
      if (Date.now() - t0 > 20000) { problems.push('MathJax did not start within 20 s'); break; }
      await new Promise(r => setTimeout(r, 50));
    }
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
      await window.MathJax.startup.promise;
    }
  }
  // 2. Images: load lazy ones, then look for broken ones.
  const imgs = Array.from(document.images);
  for (const img of imgs) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all(imgs.map(img => img.complete ? null :
    new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r);
                       setTimeout(r, 10000); })));
  for (const img of imgs) {
    if (img.naturalWidth === 0) problems.push(`broken image: ${img.getAttribute('src')}`);
  }
  // 3. Raw TeX in the visible text (outside code and rendered math).
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .MathJax';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip)) continue;
    const text = node.textContent;
    if (/\\\(|\\\[/.test(text) && el.getClientRects().length > 0) raw.push(text.trim().slice(0, 80));
  }
  if (raw.length) problems.push(`raw TeX in the text (${raw.length}x), e.g. ${JSON.stringify(raw[0])}`);
  const errs = document.querySelectorAll('mjx-merror, [data-mjx-error]');
  if (errs.length) {
    const e = errs[0];
    problems.push(`MathJax error: ${e.getAttribute('data-mjx-error') || e.textContent}`);
  }
  // 4. Horizontal overflow of the main column and of the page.
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  if (article && article.scrollWidth > article.clientWidth + 1) {
    const right = article.getBoundingClientRect().right;
    let culprit = null, widest = right;
    for (const el of article.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= widest + 1) continue;
      // ignore what is clipped by a scrolling ancestor inside the article
      let clipped = false;
      for (let a = el.parentElement; a && a !== article; a = a.parentElement) {
        const ov = getComputedStyle(a).overflowX;
        if (ov === 'auto' || ov === 'scroll' || ov === 'hidden') { clipped = true; break; }
      }
      if (!clipped) { culprit = el; widest = r.right; }
    }
    const what = culprit ? `${culprit.tagName.toLowerCase()}.${[...culprit.classList].join('.')}`
                         + ` ${JSON.stringify((culprit.textContent || '').trim().slice(0, 60))}` : '?';
    problems.push(`main column overflows: scrollWidth ${article.scrollWidth} > clientWidth `
                  + `${article.clientWidth}; widest: ${what}`);
  }
  for (const side of document.querySelectorAll('.bd-sidebar-secondary, .bd-sidebar-primary')) {
    if (side.offsetParent !== null && side.scrollWidth > side.clientWidth + 1) {
      problems.push(`a sidebar overflows: scrollWidth ${side.scrollWidth} > ${side.clientWidth}`);
    }
  }
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) {
    problems.push(`page scrolls horizontally: ${doc.scrollWidth} > ${doc.clientWidth}`);
  }
  // 5. The top navbar: one row, nothing hidden under "More".
  const navItems = Array.from(document.querySelectorAll(
    '.bd-header .navbar-header-items__center .navbar-nav > li')).filter(li => li.offsetParent);
  const tops = new Set(navItems.map(li => Math.round(li.getBoundingClientRect().top)));
  if (tops.size > 1) problems.push(`navbar wraps to ${tops.size} rows`);
  if (document.querySelector('.bd-header .navbar-header-items__center .dropdown')) {
    problems.push('navbar hides entries under "More"');
  }
  // 6. An empty primary sidebar.
  const primary = document.querySelector('.bd-sidebar-primary');
  if (primary && primary.offsetParent !== null && primary.getBoundingClientRect().width > 0) {
    const links = primary.querySelectorAll('.bd-sidenav a, nav a.reference');
    if (links.length === 0) problems.push('the left sidebar is empty (no section navigation)');
  }
  // 7. "On this page" twice.
  const pageToc = document.querySelector('.bd-sidebar-secondary .page-toc, #pst-page-navigation-heading-2');
  const localToc = article && article.querySelector('nav.contents, div.contents, .topic.contents');
  if (pageToc && localToc) problems.push('a second table of contents in the article (".. contents::")');
  return problems;
}
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve *directory* on 127.0.0.1 (a free port) in a daemon thread."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)
            if tag == "a" and key == "href" and value:
                self.hrefs.append(value)


def broken_anchors(html_dir: Path, pages: list[Path]) -> dict[Path, list[str]]:
    """Links ``page.html#frag`` (inside the site) whose target has no such id."""
    parsed: dict[Path, _Anchors] = {}

    def parse(path: Path) -> _Anchors:
        if path not in parsed:
            p = _Anchors()
            p.feed(path.read_text(encoding="utf-8", errors="replace"))
            parsed[path] = p
        return parsed[path]

    out: dict[Path, list[str]] = {}
    for page in pages:
        for href in parse(page).hrefs:
            url = urllib.parse.urlsplit(href)
            if url.scheme or url.netloc or not url.fragment:
                continue
            target = (page.parent / urllib.parse.unquote(url.path)).resolve() if url.path else page
            if target.suffix != ".html" or not target.is_file():
                continue
            if html_dir.resolve() not in target.parents:
                continue
            if urllib.parse.unquote(url.fragment) not in parse(target).ids:
                out.setdefault(page, []).append(f"link to a missing anchor: {href}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "docs" / "_build" / "html")
    parser.add_argument("--screenshots", type=Path,
                        default=ROOT / "docs" / "_build" / "screenshots")
    parser.add_argument("--pages", default="*",
                        help="glob of the pages to check, relative to --html (default all)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    html_dir: Path = args.html
    if not (html_dir / "index.html").is_file():
        print(f"docs-browser: no {html_dir / 'index.html'}; run scripts/build_docs.sh first",
              file=sys.stderr)
        return 1
    skip = ("_static/", "_modules/", "_sources/", "_images/", "_downloads/", "genindex",
            "search.html", "py-modindex")
    pages = sorted(p for p in html_dir.rglob("*.html")
                   if not any(s in p.relative_to(html_dir).as_posix() for s in skip)
                   and fnmatch.fnmatch(p.relative_to(html_dir).as_posix(), args.pages))
    # Source pages (viewcode) are checked for anchors only: their [docs] links.
    anchor_pages = pages + sorted((html_dir / "_modules").rglob("*.html"))
    failures: dict[str, list[str]] = {
        p.relative_to(html_dir).as_posix(): msgs
        for p, msgs in broken_anchors(html_dir, anchor_pages).items()
    }

    from playwright.sync_api import sync_playwright

    args.screenshots.mkdir(parents=True, exist_ok=True)
    server, base = serve(html_dir)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True,
                                         args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            outside: list[str] = []

            def route(r: Any) -> None:
                if r.request.url.startswith(base) or r.request.url.startswith("data:"):
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            console_errors: list[str] = []
            page.on("pageerror", lambda exc: console_errors.append(str(exc)))
            for path in pages:
                rel = path.relative_to(html_dir).as_posix()
                outside.clear()
                console_errors.clear()
                page.goto(base + rel, wait_until="load")
                problems: list[str] = page.evaluate(PAGE_CHECKS_JS)
                problems += [f"request outside the build (blocked): {u}" for u in outside]
                problems += [f"JavaScript error: {e}" for e in console_errors]
                height = page.evaluate("document.documentElement.scrollHeight")
                shot = args.screenshots / (rel[: -len(".html")].replace("/", "__") + ".png")
                page.screenshot(path=str(shot), full_page=True,
                                clip={"x": 0, "y": 0, "width": VIEWPORT["width"],
                                      "height": min(height, SCREENSHOT_MAX_HEIGHT)})
                if problems:
                    failures.setdefault(rel, []).extend(problems)
                status = "FAIL" if rel in failures else "ok"
                print(f"{status:4} {rel}")
            browser.close()
    finally:
        server.shutdown()

    print(f"docs-browser: {len(pages)} pages checked, screenshots in {args.screenshots}")
    if failures:
        for rel, msgs in sorted(failures.items()):
            for msg in msgs:
                print(f"  {rel}: {msg}", file=sys.stderr)
        print(f"docs-browser: {len(failures)} page(s) failed", file=sys.stderr)
        return 1
    print("docs-browser: every page passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
