// The browser tests' harness: starts the real peers (oidc-provider as the generic cart, and
// cartlink-local) on free loopback ports with a fresh data dir and config TOML, as
// tests/src/lib.rs does for the Rust end-to-end tests; launches Debian's Chromium through
// playwright-core; and gives tests what they check with: a request recorder, axe-core,
// CSP-violation capture, screenshots at desktop and phone width, and the outbox.

import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, openSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import { chromium } from 'playwright-core';
import PostalMime from 'postal-mime';

const here = dirname(fileURLToPath(import.meta.url));
const testsDir = resolve(here, '..');
const workspace = resolve(testsDir, '..');

/** Where screenshots go (gitignored). */
export const OUTPUT = join(testsDir, 'output', 'browser');

export const API_KEY = 'browser-warehouse-key';
/** The dev warehouse's key (its invites may use cartlink-local's sandbox cart). */
export const DEV_API_KEY = 'browser-dev-key';
/** The admin API's key (`CARTLINK_ADMIN_KEY`) of every local server the browser tests start. */
export const ADMIN_KEY = 'browser-admin-key';
export const CART = 'oidc-cart';
export const CART_NAME = 'OIDC Cart';
/** Markup-looking characters on purpose: every page must show them as text. */
export const WAREHOUSE = 'Northwind Fulfilment & Co.';
const CLIENT_ID = 'cartlink-browser';
const CLIENT_SECRET = 'browser-client-secret';

/** Chromium's flags: headless, no sandbox (root in CI), and nothing that phones home. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

function localBinary() {
  if (process.env.CARTLINK_LOCAL_BIN) return process.env.CARTLINK_LOCAL_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(workspace, 'target');
  return join(target, 'debug', 'cartlink-local');
}

function waitForLine(child, prefix, what) {
  return new Promise((ok, fail) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => fail(new Error(`${what} did not start within 20 s`)), 20_000);
    lines.on('line', (line) => {
      if (line.startsWith(prefix)) {
        clearTimeout(timer);
        ok();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited with ${code} before it was ready`));
    });
  });
}

/**
 * Starts oidc-provider and cartlink-local. `cartSecret` is the client secret cartlink is
 * configured with: give a wrong one to make every code exchange fail. `cartHost` is the name
 * the cart is reached by: `localhost` puts it on another site than cartlink (127.0.0.1).
 */
export async function startPeers({ cartSecret = CLIENT_SECRET, extraConfig = '', cartHost = '127.0.0.1' } = {}) {
  const cartPort = await freePort();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cartBase = `http://${cartHost}:${cartPort}`;
  const dir = mkdtempSync(join(tmpdir(), 'cartlink-browser-'));
  const children = [];
  // Whatever happens to the test process, the peers end with it.
  process.on('exit', () => { for (const c of children) c.kill(); });

  const cart = spawn(process.execPath, [join(testsDir, 'peers', 'oidc-cart.mjs')], {
    cwd: testsDir,
    env: {
      ...process.env,
      PORT: String(cartPort),
      ISSUER_HOST: cartHost,
      REDIRECT_URI: `${base}/oauth/callback/${CART}`,
      CLIENT_ID,
      CLIENT_SECRET,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(cart);
  await waitForLine(cart, 'ready', 'oidc-provider');

  const keyHash = createHash('sha256').update(API_KEY).digest('hex');
  const config = join(dir, 'cartlink.toml');
  writeFileSync(config, `
[[warehouses]]
id = "wh-browser"
name = ${JSON.stringify(WAREHOUSE)}
notify_email = "ops@northwind.test"
api_key_sha256 = ["${keyHash}"]

[[carts]]
id = "${CART}"
name = "${CART_NAME}"
authorize_url = "${cartBase}/auth"
token_url = "${cartBase}/token"
client_id = "${CLIENT_ID}"
client_secret_env = "BROWSER_CART_SECRET"
token_auth = "body"
pkce = "required"
issuer = "${cartBase}"
[carts.scopes]
orders = ["orders:read"]
inventory = ["inventory:write"]
${extraConfig}
`);
  const dataDir = join(dir, 'data');
  const log = join(dir, 'cartlink.log');
  const cartlink = spawn(localBinary(), [], {
    env: {
      ...process.env,
      CARTLINK_LISTEN: `127.0.0.1:${port}`,
      CARTLINK_PUBLIC_BASE_URL: base,
      CARTLINK_DATA_DIR: dataDir,
      CARTLINK_CONFIG: config,
      CARTLINK_DEV_API_KEY: DEV_API_KEY,
      CARTLINK_ADMIN_KEY: ADMIN_KEY,
      BROWSER_CART_SECRET: cartSecret,
      RUST_LOG: 'info',
    },
    stdio: ['ignore', 'pipe', openSync(log, 'w')],
  });
  children.push(cartlink);
  cartlink.on('error', (e) => { throw new Error(`cannot start ${localBinary()}: ${e.message} (run \`make test\`: it builds it)`); });
  await waitForLine(cartlink, 'cartlink (local) listening', 'cartlink-local');

  return {
    base,
    cartBase,
    dataDir,
    /** The origins a test's requests may go to. */
    origins: [base, cartBase],
    async stop() {
      for (const c of children) c.kill();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => readFileSync(log, 'utf8'),
    /** Creates an invite as the test warehouse; answers the API's JSON (asserts 201). */
    async createInvite(extra = {}) {
      const resp = await fetch(`${base}/v1/invites`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          cart: CART,
          merchant_email: 'alice@shop.test',
          merchant_name: "Alice's Shop",
          ...extra,
        }),
      });
      const body = await resp.json();
      assert.equal(resp.status, 201, JSON.stringify(body));
      return body;
    },
    /** The outbox's messages, oldest first (by when each file was written: a message sent
     * once per invite and kind is named by its key, not by time). */
    async outbox() {
      const out = join(dataDir, 'outbox');
      let files = [];
      try { files = readdirSync(out).filter((f) => f.endsWith('.eml')); } catch { /* none yet */ }
      const written = (f) => statSync(join(out, f)).mtimeMs;
      files.sort((a, b) => written(a) - written(b) || a.localeCompare(b));
      return Promise.all(files.map((f) => parseEml(readFileSync(join(out, f)))));
    },
    /** Waits (up to 10 s) for the outbox to hold at least `n` messages. */
    async emails(n) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const mails = await this.outbox();
        if (mails.length >= n || Date.now() > deadline) return mails;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** Runs one SQL statement on cartlink's store with the sqlite3 CLI (to make time pass). */
    sql(statement) {
      return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(dataDir, 'cartlink.db'), statement], { encoding: 'utf8' });
    },
  };
}

/** Parses one outbox message with a MIME parser, as a mail client would: To, Subject, kind
 * (X-Cartlink-kind), text and HTML parts. */
export async function parseEml(raw) {
  const mail = await PostalMime.parse(raw);
  const header = (name) => mail.headers.find((h) => h.key === name.toLowerCase())?.value ?? '';
  assert.ok(mail.text !== undefined, 'no text part');
  assert.ok(mail.html !== undefined, 'no HTML part');
  return {
    to: mail.to?.[0]?.address ?? '',
    subject: mail.subject ?? '',
    kind: header('X-Cartlink-kind'),
    replyTo: mail.replyTo?.[0]?.address ?? null,
    text: mail.text,
    html: mail.html,
  };
}

/**
 * Launches Chromium (a fresh temporary profile each launch), with its popup blocker on as in a
 * merchant's browser (Playwright turns it off by default).
 */
export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreDefaultArgs: ['--disable-popup-blocking'],
  });
}

const axeSource = readFileSync(join(testsDir, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * A fresh browser context that records every request and every CSP violation of every page
 * (popups included), and refuses to let any request leave for a third origin.
 */
export async function newContext(browser, peers, options = {}) {
  const context = await browser.newContext({ viewport: DESKTOP, ...options });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (peers.origins.includes(url.origin)) return route.continue();
    return route.abort('blockedbyclient');
  });
  const js = options.javaScriptEnabled !== false;
  await context.addInitScript(recordCspViolations);
  await context.addInitScript(refuseUntrustedPopups);
  // The document each page shows, as served: a page seen without JavaScript is checked by
  // serving these same bytes and headers again to a page with JavaScript (see `check`).
  const documents = new Map();
  context.on('response', (r) => {
    const req = r.request();
    if (!req.isNavigationRequest()) return;
    // A popup's first navigation may be answered before Playwright knows its frame: not a
    // document any test checks.
    let frame;
    try { frame = req.frame(); } catch { return; }
    if (frame === frame.page().mainFrame()) documents.set(frame.page(), r);
  });
  return {
    context,
    requests,
    /**
     * Checks one of our pages (see `checkPage`). Without JavaScript, axe-core and the CSP
     * listener cannot run in the page, so the exact response (status, headers, body) is served
     * again at the same URL to a page with JavaScript, and checked there.
     */
    async check(page, name) {
      if (js) return checkPage(page, name);
      const doc = documents.get(page);
      assert.ok(doc, `the document of ${name}`);
      const [status, headers, body] = [doc.status(), await doc.allHeaders(), await doc.body()];
      const replay = await browser.newContext({ viewport: DESKTOP });
      await replay.addInitScript(recordCspViolations);
      const again = await replay.newPage();
      await again.route(doc.url(), (route) => route.fulfill({ status, headers, body }));
      await again.goto(doc.url());
      await assertNoCspViolation(again);
      await assertAccessible(again, `${name} (served again with JavaScript on)`);
      await replay.close();
      await assertFitsAPhone(page, name);
      await screenshots(page, name);
    },
    /** Asserts that no request went to an origin other than cartlink's and the cart's. */
    assertOnlyOurOrigins() {
      const foreign = requests.filter((u) => {
        if (u.startsWith('about:') || u.startsWith('data:')) return false;
        return !peers.origins.includes(new URL(u).origin);
      });
      assert.deepEqual(foreign, [], 'requests to third origins');
      assert.ok(requests.some((u) => u.startsWith(peers.base)), 'the recorder saw our requests');
    },
  };
}

/**
 * Holds every page to the strictest popup blocker (an init script): `window.open` works only
 * while the browser dispatches a trusted click, key or submit event, that is synchronously in
 * the merchant's gesture, and answers null otherwise, as a blocked popup does. Chromium's own
 * blocker lets a popup through for seconds after a click (transient activation), so an `await`
 * before `window.open` would pass there and fail in stricter browsers; here it fails. Each call
 * is recorded in `window.__opens` (`inGesture`: whether it was let through).
 */
function refuseUntrustedPopups() {
  const open = window.open;
  const gestures = ['click', 'submit', 'keydown', 'keyup', 'keypress', 'mouseup', 'pointerup', 'touchend'];
  window.__opens = [];
  window.open = function guardedOpen(...args) {
    const e = window.event;
    const inGesture = Boolean(e && e.isTrusted && gestures.includes(e.type));
    window.__opens.push({ inGesture });
    return inGesture ? open.apply(window, args) : null;
  };
}

/**
 * A site on another origin (a plain HTTP server on its own loopback port): `page(path, html)`
 * makes it serve `html` at `path`. Give `origins` to `newContext` (as `peers.origins` plus
 * this one) so that its requests are let through.
 */
export async function startForeignSite() {
  const pages = new Map();
  const server = createHttpServer((req, res) => {
    const html = pages.get(new URL(req.url, 'http://x').pathname);
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    page(path, html) { pages.set(path, html); return `${origin}${path}`; },
    stop: () => new Promise((ok) => server.close(ok)),
  };
}

/** Collects the page's CSP violations in `window.__cspViolations` (an init script). */
function recordCspViolations() {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
}

/** Asserts that the page logged no CSP violation (needs JavaScript in the context). */
export async function assertNoCspViolation(page) {
  const violations = await page.evaluate(() => window.__cspViolations || []);
  assert.deepEqual(violations, [], `CSP violations on ${page.url()}`);
}

/**
 * Runs axe-core in the page (WCAG 2.x A and AA rules and best practices) and asserts no
 * serious or critical violation. axe is evaluated through the DevTools protocol, which the
 * page's CSP does not govern, so the CSP stays exactly as served.
 */
export async function assertAccessible(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${name}: serious or critical accessibility violations`);
  return result;
}

/** Saves a full-page screenshot at desktop and at phone width under tests/output/browser/. */
export async function screenshots(page, name) {
  mkdirSync(OUTPUT, { recursive: true });
  const before = page.viewportSize();
  for (const [label, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(OUTPUT, `${name}-${label}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}

/** Asserts that the page does not scroll sideways at phone width. */
async function assertFitsAPhone(page, name) {
  const before = page.viewportSize();
  await page.setViewportSize(PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${name}: wider than a phone by ${overflow}px`);
  if (before) await page.setViewportSize(before);
}

/**
 * Checks one of our pages (in a context with JavaScript) the same way everywhere: no CSP
 * violation, no serious or critical accessibility violation, no sideways scrolling on a phone,
 * and a screenshot at both widths.
 */
export async function checkPage(page, name) {
  await assertNoCspViolation(page);
  await assertAccessible(page, name);
  await assertFitsAPhone(page, name);
  await screenshots(page, name);
}

/** The cart's login and consent (oidc-provider's dev interactions), as a merchant does them. */
export async function signInAndConsent(cartPage) {
  await cartPage.waitForSelector('input[name="login"]');
  await cartPage.fill('input[name="login"]', 'alice');
  await cartPage.fill('input[name="password"]', 'alice-password');
  await cartPage.click('button[type="submit"]');
  await cartPage.waitForSelector('button:has-text("Continue")');
  await cartPage.click('button:has-text("Continue")');
}

/** Cancels at the cart's login page ("[ Cancel ]"), which answers access_denied. */
export async function cancelAtCart(cartPage) {
  await cartPage.waitForSelector('input[name="login"]');
  await cartPage.click('text=[ Cancel ]');
}

/** The status endpoint's word for a setup link, as the grant page's poll reads it. */
export async function statusOf(setupUrl) {
  const resp = await fetch(`${setupUrl}/status`);
  assert.equal(resp.status, 200);
  return (await resp.json()).status;
}

/** Presses the grant button and answers the popup it opened. */
export async function openPopup(context, page, press = () => page.click('#grant-button')) {
  const [popup] = await Promise.all([context.waitForEvent('page', { timeout: 5_000 }), press()]);
  return popup;
}

/** The visible heading of the grant page's outcome box, once it shows `name`. */
export async function outcome(page, name, timeout = 10_000) {
  const heading = page.locator('#outcome h2', { hasText: name });
  await heading.waitFor({ state: 'visible', timeout });
  return heading;
}

/** Seconds since the epoch. */
export const nowSecs = () => Math.floor(Date.now() / 1000);
