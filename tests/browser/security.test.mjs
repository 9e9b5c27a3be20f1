// The browser items of the security checklist (docs/security.md) that need a real browser to
// hold: the grant completes with the popup's opener cut (B11), `window.open` is synchronous in
// the click and the harness would catch one that is not (B12), an opener on another origin
// hears nothing (B10), the grant page cannot be framed by another origin (B14), and the CSP's
// `form-action` is what lets the no-JavaScript grant form reach the cart (D2), and the
// binding cookie comes back from a cart on another site (B13).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  CART, launch, newContext, openPopup, outcome, signInAndConsent, startForeignSite, startPeers, statusOf,
} from './harness.mjs';

let peers;
let browser;
let site;

before(async () => {
  peers = await startPeers();
  browser = await launch();
  site = await startForeignSite();
});

after(async () => {
  await browser?.close();
  await peers?.stop();
  await site?.stop();
});

/** Records every message the page receives (origin and data). */
async function recordMessages(page) {
  await page.evaluate(() => {
    window.__messages = [];
    window.addEventListener('message', (e) => window.__messages.push({ origin: e.origin, data: e.data }));
  });
}

/** The peers, with the other site's origin let through by `newContext`. */
const withSite = () => ({ ...peers, origins: [...peers.origins, site.origin] });

test('B11: with the popup\'s opener nulled before our callback page runs, the grant page shows Successful Authorization within 10 s', async () => {
  // GIVEN a browser in which our callback page, in the popup, finds no opener (an init script
  // nulls `window.opener` before the page's own script runs), so it can tell the grant page
  // nothing
  const invite = await peers.createInvite();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  await context.addInitScript((base) => {
    if (window.location.origin === base && window.location.pathname.startsWith('/oauth/callback/')) {
      window.opener = null;
    }
  }, peers.base);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  await recordMessages(page);
  const popup = await openPopup(context, page);
  // WHEN the merchant grants at the cart
  await signInAndConsent(popup);
  // THEN the grant page learns it from its status poll and says so within 10 s
  await outcome(page, 'Successful Authorization', 10_000);
  // AND no message told it
  assert.deepEqual(await page.evaluate(() => window.__messages), []);
  assertOnlyOurOrigins();
  await context.close();
});

test('B11: with the cart\'s pages cutting the opener both ways (COOP same-origin), the grant page shows Successful Authorization within 10 s', async () => {
  // GIVEN a cart whose login page sends `Cross-Origin-Opener-Policy: same-origin`, so the
  // browser puts the popup in a browsing context group of its own: the grant page's handle
  // reads closed, and our callback page, arriving after it, has no opener
  const invite = await peers.createInvite();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  await context.route(`${peers.cartBase}/interaction/**`, async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    await route.fulfill({ response, headers: { ...response.headers(), 'cross-origin-opener-policy': 'same-origin' } });
  });
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  await recordMessages(page);
  const popup = await openPopup(context, page);
  // WHEN the merchant grants at the cart
  await signInAndConsent(popup);
  // THEN the grant page learns it from its status poll and says so within 10 s
  await outcome(page, 'Successful Authorization', 10_000);
  // AND the opener was cut indeed: our callback page in the popup has none, and no message came
  await popup.getByRole('heading', { level: 1, name: 'Successful Authorization' }).waitFor();
  assert.equal(await popup.evaluate(() => window.opener), null);
  assert.deepEqual(await page.evaluate(() => window.__messages), []);
  assertOnlyOurOrigins();
  await context.close();
});

test('B12: the grant button opens the popup synchronously in the click', async () => {
  // GIVEN the grant page under the harness's popup guard, which lets `window.open` through only
  // while a trusted click, key or submit event is being dispatched
  const invite = await peers.createInvite();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  // WHEN the merchant presses the button
  const popup = await openPopup(context, page);
  // THEN the one `window.open` ran inside the click, and the cart shows in the popup
  assert.deepEqual(await page.evaluate(() => window.__opens), [{ inGesture: true }]);
  await popup.waitForURL(`${peers.cartBase}/**`);
  assert.ok(await page.locator('#popup-blocked').isHidden());
  assertOnlyOurOrigins();
  await context.close();
});

test('B12 negative control: a grant page that awaits before window.open is caught as a blocked popup', async () => {
  // GIVEN the real grant script served with one change: `openPopup` first awaits an answer of
  // our server (a fetch of its status, as a "check before opening" would), then opens
  const invite = await peers.createInvite();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  await context.route(`${peers.base}/assets/grant.js`, async (route) => {
    const response = await route.fetch();
    const source = await response.text();
    const awaiting = source.replace('function openPopup() {', 'async function openPopup() { await fetch(data.statusUrl, { cache: \'no-store\' });');
    assert.notEqual(awaiting, source, 'grant.js still has the openPopup this control rewrites');
    await route.fulfill({ response, body: awaiting });
  });
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  let popups = 0;
  context.on('page', () => { popups += 1; });
  // WHEN the merchant presses the button
  await page.click('#grant-button');
  // THEN the harness refused the late `window.open`: no popup, and the page's blocked-popup
  // guidance shows, with the way on focused
  await page.locator('#popup-blocked').waitFor({ state: 'visible' });
  assert.deepEqual(await page.evaluate(() => window.__opens), [{ inGesture: false }]);
  assert.equal(popups, 0);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'continue-here');
  assertOnlyOurOrigins();
  await context.close();
});

test('B10: an opener on another origin hears nothing from our callback page', async () => {
  // GIVEN a page on another origin that opens our callback page (a refused callback, whose
  // script tells its opener "failed") as its popup and records every message it gets
  const callback = `${peers.base}/oauth/callback/${CART}?error=access_denied&state=not-a-state`;
  const opener = site.page('/opens-callback.html', `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another site</title></head>
<body><main><button id="open" type="button">Open</button></main>
<script>
  window.__heard = [];
  window.addEventListener('message', (e) => window.__heard.push(e.data));
  document.getElementById('open').addEventListener('click', () => {
    window.open(${JSON.stringify(callback)}, 'other', 'popup=yes,width=520,height=720');
  });
</script></body></html>`);
  const { context } = await newContext(browser, withSite());
  const page = await context.newPage();
  await page.goto(opener);
  // WHEN it opens our callback page and that page's script has run (it empties the query)
  const popup = await openPopup(context, page, () => page.click('#open'));
  await popup.getByRole('heading', { level: 1, name: 'This sign-in could not be completed' }).waitFor();
  await popup.waitForFunction(() => window.location.search === '');
  // AND the popup then sends the opener a last word to every origin (messages from one window
  // to another arrive in order, so once it is heard, anything sent before it was too)
  await popup.evaluate(() => window.opener.postMessage('last', '*'));
  await page.waitForFunction(() => window.__heard.includes('last'), null, { timeout: 5_000 });
  // THEN the other origin heard nothing but that last word
  assert.deepEqual(await page.evaluate(() => window.__heard), ['last']);
  await context.close();
});

/** The B14 cases: the grant page's headers as served, or with one of its two defences taken
 * out on the way (each must hold alone, as older browsers know only X-Frame-Options). */
const framingCases = [
  ['as served (CSP frame-ancestors \'none\' and X-Frame-Options DENY)', null],
  ['by X-Frame-Options DENY alone (frame-ancestors taken out of the CSP on the way)', (h) => {
    const csp = h['content-security-policy'].replace(/ *frame-ancestors 'none';?/, '');
    assert.notEqual(csp, h['content-security-policy'], 'the CSP was served with frame-ancestors');
    return { ...h, 'content-security-policy': csp };
  }],
  ['by CSP frame-ancestors \'none\' alone (X-Frame-Options taken out on the way)', (h) => {
    assert.equal(h['x-frame-options'], 'DENY');
    const { 'x-frame-options': _, ...rest } = h;
    return rest;
  }],
];

for (const [what, strip] of framingCases) {
  test(`B14: our grant page framed by a page on another origin does not render, ${what}`, async () => {
    // GIVEN a page on another origin that frames a live grant page
    const invite = await peers.createInvite();
    const framing = site.page(`/frames-grant-${invite.id}.html`, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another site</title></head>
<body><main><iframe id="grant" title="grant" src="${invite.setup_url}" onload="window.__loaded = true"></iframe></main></body></html>`);
    const { context } = await newContext(browser, withSite());
    if (strip) {
      await context.route(invite.setup_url, async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, headers: strip(response.headers()) });
      });
    }
    const page = await context.newPage();
    // WHEN the browser loads it, and the frame has been answered and has loaded
    const answered = page.waitForResponse(invite.setup_url);
    await page.goto(framing);
    assert.equal((await answered).status(), 200);
    await page.waitForFunction(() => window.__loaded === true, null, { timeout: 5_000 });
    // THEN the frame shows nothing of our page: no document of our origin, no grant button
    const frame = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(frame, 'the iframe exists');
    assert.ok(!frame.url().startsWith(peers.base), `the frame shows ${frame.url()}`);
    assert.equal(await frame.locator('#grant-button').count(), 0);
    await context.close();
  });
}

test('D2 negative control: with form-action reduced to \'self\', the no-JavaScript grant form does not reach the cart', async () => {
  // GIVEN the grant page without JavaScript, its CSP's form-action cut to 'self' on the way
  const invite = await peers.createInvite();
  const { context, requests } = await newContext(browser, peers, { javaScriptEnabled: false });
  await context.route(invite.setup_url, async (route) => {
    const response = await route.fetch();
    const headers = response.headers();
    const csp = headers['content-security-policy'];
    const selfOnly = csp.replace(/form-action [^;]*/, "form-action 'self'");
    assert.notEqual(selfOnly, csp, 'the CSP names a form-action beyond \'self\'');
    await route.fulfill({ response, headers: { ...headers, 'content-security-policy': selfOnly } });
  });
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  // (Both are awaited below: the violation is reported on the console some time after the
  // request fails, so reading the console right after the failure would race it.)
  const violation = page.waitForEvent('console', {
    predicate: (m) => m.text().includes('violates the following Content Security Policy directive: "form-action \'self\'"'),
    timeout: 10_000,
  });
  // WHEN the merchant presses the button (the form posts to us, and we redirect to the cart)
  const failed = page.waitForEvent('requestfailed', { timeout: 10_000 });
  await page.click('#grant-button');
  // THEN the post reached us (an attempt was started) but the browser stopped its redirect for
  // the form-action, and no request reached the cart
  assert.ok((await failed).url().startsWith(`${invite.setup_url}/grant`));
  assert.ok(await violation);
  assert.equal(await statusOf(invite.setup_url), 'waiting');
  assert.deepEqual(requests.filter((u) => u.startsWith(peers.cartBase)), []);
  await context.close();
});

/** Sets the SameSite attribute of every cookie the browser holds for `base` to `value`. */
async function cookiesSameSite(context, base, value) {
  const ours = (await context.cookies(base)).map((c) => ({ ...c, sameSite: value }));
  assert.ok(ours.length > 0, 'the grant set its binding cookie');
  await context.addCookies(ours);
}

test('B13: with the cart on another site, the binding cookie comes back on its redirect and the grant completes', async () => {
  // GIVEN a cart on another site than ours (localhost against 127.0.0.1), as every real cart is
  const crossSite = await startPeers({ cartHost: 'localhost' });
  try {
    const invite = await crossSite.createInvite();
    const { context, assertOnlyOurOrigins } = await newContext(browser, crossSite);
    const page = await context.newPage();
    await page.goto(invite.setup_url);
    const popup = await openPopup(context, page);
    // WHEN the merchant grants there
    await signInAndConsent(popup);
    // THEN the cart's redirect back carried the SameSite=Lax binding cookie: the grant completes
    await outcome(page, 'Successful Authorization', 10_000);
    assert.equal(await statusOf(invite.setup_url), 'authorized');
    assertOnlyOurOrigins();
    await context.close();
  } finally {
    await crossSite.stop();
  }
});

test('B13 negative control: with the binding cookie made SameSite=Strict, the cross-site redirect back is refused', async () => {
  // GIVEN the cart on another site, and the binding cookie made SameSite=Strict in the browser
  // once the grant set it (what a wrong attribute would do)
  const crossSite = await startPeers({ cartHost: 'localhost' });
  try {
    const invite = await crossSite.createInvite();
    const { context } = await newContext(browser, crossSite);
    const page = await context.newPage();
    await page.goto(invite.setup_url);
    const popup = await openPopup(context, page);
    await popup.waitForSelector('input[name="login"]');
    await cookiesSameSite(context, crossSite.base, 'Strict');
    // WHEN the merchant grants there
    await signInAndConsent(popup);
    // THEN the cart's redirect back comes without the cookie: the callback is refused and
    // nothing is connected (so the test above would catch a cookie that does not travel)
    await popup.getByRole('heading', { level: 1, name: 'This sign-in could not be completed' }).waitFor();
    assert.notEqual(await statusOf(invite.setup_url), 'authorized');
    await context.close();
  } finally {
    await crossSite.stop();
  }
});
