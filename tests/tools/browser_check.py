#!/usr/bin/env python3
"""Opens an HTML report in headless Chromium and checks what a reader would see.

    browser_check.py PAGE.html --screenshot OUT.png [--expect-text TEXT]... [--expect-chart NAME=COUNT]...
                     [--forbid-element SELECTOR]...

(tests/tools/browser_test.py uses it as a module for the CTest test browser.html_reports.)

Talks the DevTools protocol over --remote-debugging-pipe (file descriptors 3 and 4, messages
separated by NUL), so it needs nothing but Python's standard library. Fails (exit 1) on any
console error or uncaught exception, on any network request other than the page itself, on a
missing text or chart, and on a forbidden element (a hostile string that became markup).
Exit 77 when no Chromium is installed (the caller prints the reason and skips).
"""
import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 60


class Browser:
    def __init__(self, binary, profile):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Above 3 and 4, so the child's dup2 onto 3 and 4 cannot overwrite one end with the other.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chrome_r, from_chrome_w)]
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        to_chrome_r, from_chrome_w = high

        def wire_pipes():  # the child sees the protocol pipes as fds 3 (commands) and 4 (replies)
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self._proc = subprocess.Popen(
            [binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
             f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=wire_pipes, pass_fds=(3, 4))  # kept open after preexec_fn (close_fds)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, session, since=0, timeout_s=TIMEOUT_S):
        """The first event `method` of `session` received after event number `since`."""
        deadline = time.monotonic() + timeout_s
        for e in self.events[since:]:
            if e.get("method") == method and e.get("sessionId") == session:
                return e
        while True:
            e = self._read(deadline)
            self.events.append(e)
            if e.get("method") == method and e.get("sessionId") == session:
                return e

    def drain(self, seconds):
        """Collects events that arrive within `seconds` (late console messages, requests)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read(deadline))
        except TimeoutError:
            pass

    def _read(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from Chromium")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.poll() is not None else ""
                raise RuntimeError("Chromium closed the DevTools pipe " + err[-2000:])
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


# Runs in the page: what is there to check, as one JSON value.
PAGE_FACTS = r"""
(() => {
  const charts = {};
  for (const svg of document.querySelectorAll('svg[data-chart]')) {
    const name = svg.getAttribute('data-chart');
    const box = svg.getBoundingClientRect();
    const marks = svg.querySelectorAll('rect,polyline,circle,line').length;
    charts[name] = charts[name] || {count: 0, drawn: 0};
    charts[name].count += 1;
    if (box.width > 100 && box.height > 10 && marks > 0) charts[name].drawn += 1;
  }
  return JSON.stringify({
    title: document.title,
    text: document.body.innerText,
    charts,
    scripts: document.scripts.length,
    height: Math.ceil(document.documentElement.scrollHeight),
    width: Math.ceil(document.documentElement.scrollWidth),
  });
})()
"""


def forbidden_count(browser, session, selector):
    r = browser.send("Runtime.evaluate",
                     {"expression": f"document.querySelectorAll({json.dumps(selector)}).length",
                      "returnByValue": True}, session)
    return r["result"]["value"]


def check_page(browser, page, screenshot, expect_text=(), expect_charts=None, forbid=(), width=1280):
    """Loads `page` in a fresh tab; returns (failures, facts). Writes `screenshot` and a PDF beside it."""
    url = "file://" + os.path.abspath(page)
    failures = []
    first_event = len(browser.events)
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", {}, session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
        browser.send("Page.navigate", {"url": url}, session)
        browser.wait_for("Page.loadEventFired", session, first_event)
        browser.drain(0.3)
        facts = json.loads(browser.send("Runtime.evaluate", {"expression": PAGE_FACTS, "returnByValue": True},
                                        session)["result"]["value"])
        for e in browser.events[first_event:]:
            if e.get("sessionId") != session:
                continue
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                failures.append("console error: " + " ".join(str(a.get("value", a.get("description", "")))
                                                             for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                failures.append("uncaught exception: " + json.dumps(params.get("exceptionDetails", {}))[:400])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                failures.append("browser log error: " + params["entry"].get("text", "")[:400])
            elif method == "Network.requestWillBeSent":
                requested = params.get("request", {}).get("url", "")
                if requested != url:
                    failures.append("network request: " + requested[:200])
        for text in expect_text:
            if text not in facts["text"]:
                failures.append(f"text not on the page: {text[:120]!r}")
        for name, count in (expect_charts or {}).items():
            got = facts["charts"].get(name, {"count": 0, "drawn": 0})
            if got["count"] != count or got["drawn"] != count:
                failures.append(f"chart {name}: expected {count} drawn, found {got['count']} "
                                f"({got['drawn']} with a visible size and marks)")
        for name in facts["charts"]:
            if expect_charts is not None and name not in expect_charts:
                failures.append(f"unexpected chart {name}")
        if facts["scripts"]:
            failures.append(f"{facts['scripts']} script element(s) on the page")
        for selector in forbid:
            if forbidden_count(browser, session, selector):
                failures.append(f"element {selector!r} present: a string became markup")
        if facts["width"] > width + 2:
            failures.append(f"the page is wider than the window ({facts['width']} > {width} px)")
        height = min(max(facts["height"], 600), 16000)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
        shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        pdf = base64.b64decode(browser.send("Page.printToPDF", {"printBackground": True}, session)["data"])
        with open(os.path.splitext(screenshot)[0] + ".pdf", "wb") as f:
            f.write(pdf)
        if not pdf.startswith(b"%PDF"):
            failures.append("printing to PDF produced no PDF")
    finally:
        browser.send("Target.closeTarget", {"targetId": target})
    return failures, facts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("page")
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--expect-text", action="append", default=[])
    ap.add_argument("--expect-chart", action="append", default=[], help="NAME=COUNT")
    ap.add_argument("--forbid-element", action="append", default=[], help="a CSS selector that must match nothing")
    ap.add_argument("--width", type=int, default=1280)
    args = ap.parse_args()
    binary = find_chromium()
    if not binary:
        print("browser_check: no chromium on PATH (tests/tools/install-deps.sh installs it)")
        return 77
    charts = {k: int(v) for k, _, v in (c.partition("=") for c in args.expect_chart)} or None
    with tempfile.TemporaryDirectory(prefix="chokepoint-chromium.") as profile:
        browser = Browser(binary, profile)
        try:
            failures, facts = check_page(browser, args.page, args.screenshot, args.expect_text, charts,
                                         args.forbid_element, args.width)
        finally:
            browser.close()
    print(describe(args.page, facts, args.screenshot))
    for f in failures:
        print("  FAIL " + f)
    return 1 if failures else 0


def describe(page, facts, screenshot):
    charts = ", ".join(f"{k}={v['count']}" for k, v in sorted(facts["charts"].items()))
    return (f"{os.path.basename(page)}: {os.path.getsize(page)} bytes, page {facts['width']}x{facts['height']} px, "
            f"charts: {charts or 'none'}; screenshot {screenshot}")


if __name__ == "__main__":
    sys.exit(main())
