// The grant page in Chromium against cartlink-local and oidc-provider as the cart: the popup
// flow and every way it can go, the same-tab flow without JavaScript, and keyboard only.
// Every test records its requests (only ours and the cart's origin), checks each of our pages
// for CSP violations and with axe-core, and screenshots it at desktop and phone width.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  API_KEY, CART, CART_NAME, DEV_API_KEY, WAREHOUSE, cancelAtCart, checkPage, launch, newContext, openPopup, outcome,
  signInAndConsent, startPeers, statusOf,
} from './harness.mjs';

let peers;
let browser;

before(async () => {
  peers = await startPeers();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await peers?.stop();
});

/** Waits (up to 5 s) for the grant page to close its popup. */
async function closed(popup) {
  if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 5_000 });
  assert.ok(popup.isClosed(), 'the opener closed the popup');
}

/** Records every message the page receives (origin and data). */
async function recordMessages(page) {
  await page.evaluate(() => {
    window.__messages = [];
    window.addEventListener('message', (e) => window.__messages.push({ origin: e.origin, data: e.data }));
  });
}

test('happy path: the popup shows the cart, and the opener says Successful Authorization within 10 s', async () => {
  // GIVEN an invite and its email
  const invite = await peers.createInvite();
  const before = (await peers.outbox()).length;
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  // WHEN the merchant opens the link
  const resp = await page.goto(invite.setup_url);
  assert.equal(resp.status(), 200);
  const headers = resp.headers();
  assert.match(headers['content-security-policy'], /default-src 'self'/);
  assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
  assert.ok(headers['content-security-policy'].includes(`form-action 'self' ${peers.cartBase}`));
  assert.equal(headers['referrer-policy'], 'no-referrer');
  // THEN the page says who asks, for which cart, what is shared, the promise and the expiry
  const main = page.locator('main');
  await assert.doesNotReject(main.getByRole('heading', { level: 1, name: `${WAREHOUSE} asks for access to your ${CART_NAME} store` }).waitFor());
  const text = await main.innerText();
  for (const words of [
    'read your orders so they can be packed and shipped',
    'read and update stock levels of your products',
    `You sign in at ${CART_NAME}; neither cartlink nor ${WAREHOUSE} ever sees your password.`,
    'This link works until',
  ]) {
    assert.ok(text.includes(words), words);
  }
  assert.equal(await page.getByRole('button').count(), 1, 'one button');
  await checkPage(page, 'grant-page');
  await recordMessages(page);

  // WHEN the merchant presses the button
  const popup = await openPopup(context, page, () => page.getByRole('button', { name: 'Grant API Access' }).click());
  // THEN a popup shows the cart's login, and the page says it waits, polling every second
  await popup.waitForURL(`${peers.cartBase}/**`);
  assert.ok(await page.locator('#waiting').isVisible());
  let polls = 0;
  const countPolls = (r) => { if (r.url() === `${invite.setup_url}/status`) polls += 1; };
  page.on('request', countPolls);
  await page.waitForTimeout(3_500);
  page.off('request', countPolls);
  assert.ok(polls >= 2 && polls <= 5, `${polls} status polls in 3.5 s`);
  await checkPage(page, 'grant-waiting');
  // WHEN the merchant signs in and consents at the cart
  await popup.waitForSelector('input[name="login"]');
  await popup.fill('input[name="login"]', 'alice');
  await popup.fill('input[name="password"]', 'alice-password');
  await popup.click('button[type="submit"]');
  await popup.waitForSelector('button:has-text("Continue")');
  const consented = Date.now();
  await popup.click('button:has-text("Continue")');
  // THEN the opener shows Successful Authorization within 10 seconds
  await outcome(page, 'Successful Authorization', 10_000);
  const took = Date.now() - consented;
  assert.ok(took < 10_000, `took ${took} ms`);
  console.log(`# happy path: Successful Authorization ${took} ms after consent`);
  assert.ok(await page.locator('#grant-intro').isHidden());
  // AND whatever told it first, the popup (our origin, one non-secret word) or a status poll, the
  // popup is closed. A poll that lands between the callback's commit and the popup's script
  // closes the popup before it speaks (seen on a loaded machine), so no message is then a right
  // outcome; any message is exactly the popup's. That the page acts on the popup's message alone
  // is "only a message from our popup on our origin makes the page check its status".
  await page.waitForFunction(() => window.__messages.length > 0, null, { timeout: 5_000 }).catch(() => {});
  const messages = await page.evaluate(() => window.__messages);
  assert.ok(messages.length <= 1, JSON.stringify(messages));
  for (const m of messages) assert.deepEqual(m, { origin: peers.base, data: { cartlink: 'authorized' } });
  await closed(popup);
  assert.equal(await statusOf(invite.setup_url), 'authorized');
  await checkPage(page, 'grant-success');
  // AND both confirmations were sent
  const mails = await peers.emails(before + 2);
  assert.deepEqual(mails.slice(before).map((m) => m.kind).sort(), ['merchant_confirmation', 'warehouse_confirmation']);
  assertOnlyOurOrigins();
  await context.close();
});

test('popup blocked: the page explains, and "Continue in this tab" completes the grant', async () => {
  // GIVEN a browser whose window.open is blocked (answers null)
  const invite = await peers.createInvite();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  await context.addInitScript(() => { window.open = () => null; });
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  // WHEN the merchant presses the button
  const beacon = page.waitForResponse((r) => r.url().endsWith('/popup-blocked'));
  await page.click('#grant-button');
  // THEN the page tells our server (counted for the operators), which takes it
  assert.equal((await beacon).status(), 200);
  // AND the instructions are visible, with the way on focused
  const notice = page.locator('#popup-blocked');
  await notice.waitFor({ state: 'visible' });
  assert.match(await notice.innerText(), /allow pop-ups for this site/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'continue-here');
  assert.equal(await statusOf(invite.setup_url), 'ready', 'nothing was started');
  await checkPage(page, 'grant-popup-blocked');
  // WHEN they continue in this tab and grant at the cart
  await page.getByRole('button', { name: 'Continue in this tab' }).click();
  await page.waitForURL(`${peers.cartBase}/**`);
  await signInAndConsent(page);
  // THEN this tab comes back to a success page
  await page.waitForURL(`${peers.base}/oauth/callback/**`);
  await page.getByRole('heading', { level: 1, name: 'Successful Authorization' }).waitFor();
  assert.ok(await page.locator('#close-window').isHidden(), 'no "close" button without an opener');
  // AND the spent code and state are gone from the address bar and this history entry
  await page.waitForFunction(() => window.location.search === '');
  assert.ok(!page.url().includes('code=') && !page.url().includes('state='), page.url());
  assert.equal(await statusOf(invite.setup_url), 'authorized');
  await checkPage(page, 'callback-success');
  assertOnlyOurOrigins();
  await context.close();
});

test('popup closed early: a message and a retry that works', async () => {
  const invite = await peers.createInvite();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  // GIVEN the popup at the cart's login
  const popup = await openPopup(context, page);
  await popup.waitForSelector('input[name="login"]');
  // WHEN the merchant closes it
  await popup.close();
  // THEN the page says so and offers to try again, focused
  await outcome(page, `The ${CART_NAME} window was closed`, 5_000);
  assert.ok(await page.locator('#waiting').isHidden());
  assert.equal(await page.evaluate(() => document.activeElement.id), 'retry');
  assert.equal(await statusOf(invite.setup_url), 'waiting');
  await checkPage(page, 'grant-popup-closed');
  // WHEN they try again and grant
  const again = await openPopup(context, page, () => page.getByRole('button', { name: 'Try again' }).click());
  assert.equal(await page.locator('#outcome h2').count(), 0, 'the old message is gone');
  await signInAndConsent(again);
  // THEN the grant completes
  await outcome(page, 'Successful Authorization');
  assertOnlyOurOrigins();
  await context.close();
});

test('declined at the cart: a message, no failure email, and a retry that works', async () => {
  const invite = await peers.createInvite();
  const mailsBefore = (await peers.outbox()).length;
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  await recordMessages(page);
  // GIVEN the popup at the cart
  const popup = await openPopup(context, page);
  // WHEN the merchant cancels there (the cart answers access_denied)
  await cancelAtCart(popup);
  // THEN the page says access was not granted and offers to try again
  await outcome(page, 'Access was not granted');
  assert.match(await page.locator('#outcome').innerText(), /nothing was shared/);
  assert.equal(await statusOf(invite.setup_url), 'declined');
  assert.deepEqual(await page.evaluate(() => window.__messages), [{ origin: peers.base, data: { cartlink: 'declined' } }]);
  await closed(popup);
  await checkPage(page, 'grant-declined');
  // AND a decline is the merchant's choice: no email about it
  assert.equal((await peers.outbox()).length, mailsBefore);
  // WHEN they try again and grant
  const again = await openPopup(context, page, () => page.getByRole('button', { name: 'Try again' }).click());
  await signInAndConsent(again);
  await outcome(page, 'Successful Authorization');
  assertOnlyOurOrigins();
  await context.close();
});

test('JavaScript disabled: the same-tab flow works, through a decline and its retry link', async () => {
  const invite = await peers.createInvite();
  const nojs = await newContext(browser, peers, { javaScriptEnabled: false });
  const { context, assertOnlyOurOrigins } = nojs;
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  await nojs.check(page, 'grant-page-nojs');
  // WHEN the merchant presses the button, the cart opens in this tab; they cancel there
  await page.click('#grant-button');
  await page.waitForURL(`${peers.cartBase}/**`);
  await cancelAtCart(page);
  // THEN our page says so, with a link to try again
  await page.getByRole('heading', { level: 1, name: 'Access was not granted' }).waitFor();
  await nojs.check(page, 'callback-declined');
  const retry = page.getByRole('link', { name: 'Try again' });
  assert.ok((await retry.getAttribute('href')).startsWith(`${peers.base}/setup/`));
  // WHEN they follow it and grant
  await retry.click();
  await page.click('#grant-button');
  await page.waitForURL(`${peers.cartBase}/**`);
  await signInAndConsent(page);
  // THEN the success page shows, in the same tab
  await page.getByRole('heading', { level: 1, name: 'Successful Authorization' }).waitFor();
  assert.equal(await statusOf(invite.setup_url), 'authorized');
  assertOnlyOurOrigins();
  await context.close();
});

/** Presses Tab until `selector` has the focus; answers how many presses it took. */
async function tabTo(page, selector, max = 15) {
  for (let i = 1; i <= max; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement === document.querySelector(s), selector)) return i;
  }
  throw new Error(`${selector} never got the focus`);
}

/** The focus ring of the focused element: style and width of its outline. */
function focusRing(page) {
  return page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor };
  });
}

test('keyboard only: access code, grant and result, with a visible focus', async () => {
  const invite = await peers.createInvite();
  const code = (await peers.outbox()).filter((m) => m.kind === 'invite').at(-1).text.match(/^\s*([0-9A-Z]{5}-[0-9A-Z]{5})\s*$/m)[1];
  assert.ok(invite.setup_url);
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  // GIVEN the access-code page (a broken link)
  await page.goto(`${peers.base}/setup`);
  // WHEN the merchant tabs to the field, types the code and presses Enter
  await tabTo(page, '#code');
  const ring = await focusRing(page);
  assert.equal(ring.style, 'solid');
  assert.ok(ring.width >= 2, `focus ring ${ring.width}px`);
  await page.keyboard.type(code.toLowerCase());
  await page.keyboard.press('Enter');
  // THEN the grant page shows; they tab to the button (a visible ring) and press Enter
  await page.getByRole('button', { name: 'Grant API Access' }).waitFor();
  const presses = await tabTo(page, '#grant-button');
  assert.ok(presses <= 3, `${presses} Tab presses to the button`);
  const buttonRing = await focusRing(page);
  assert.equal(buttonRing.style, 'solid');
  assert.ok(buttonRing.width >= 2);
  const popup = await openPopup(context, page, () => page.keyboard.press('Enter'));
  // AND at the cart, by keyboard too: the login field has the focus, then the consent button
  await popup.waitForSelector('input[name="login"]');
  await popup.keyboard.type('alice');
  await popup.keyboard.press('Tab');
  await popup.keyboard.type('alice-password');
  await popup.keyboard.press('Enter');
  await popup.waitForSelector('button:has-text("Continue")');
  await popup.keyboard.press('Enter');
  // THEN the result is shown and has the focus, so a keyboard or screen-reader user is there
  await outcome(page, 'Successful Authorization');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Successful Authorization');
  assertOnlyOurOrigins();
  await context.close();
});

test('only a message from our popup on our origin makes the page check its status', async () => {
  const invite = await peers.createInvite();
  const { context } = await newContext(browser, peers);
  // GIVEN a grant page whose 1-second poll is stretched to an hour, so that every status
  // check it makes in this test comes from a message it accepted
  await context.addInitScript(() => {
    const every = window.setInterval;
    window.setInterval = (fn, ms, ...args) => every(fn, ms === 1000 ? 3_600_000 : ms, ...args);
  });
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  const popup = await openPopup(context, page);
  await popup.waitForSelector('input[name="login"]');
  let checks = 0;
  page.on('request', (r) => { if (r.url().endsWith('/status')) checks += 1; });
  /** Runs `post` and counts the grant page's status checks of the next 700 ms. */
  async function checksAfter(post) {
    checks = 0;
    await post();
    await page.waitForTimeout(700);
    return checks;
  }
  // WHEN the cart's page (another origin) posts "authorized" to the grant page
  const fromCart = await checksAfter(() => popup.evaluate(() => window.opener.postMessage({ cartlink: 'authorized' }, '*')));
  // AND the grant page posts it to itself (our origin, but not the popup)
  const fromSelf = await checksAfter(() => page.evaluate(() => window.postMessage({ cartlink: 'authorized' }, '*')));
  // THEN neither makes it check, and it still waits
  assert.equal(fromCart, 0, 'a message from the cart origin was acted on');
  assert.equal(fromSelf, 0, 'a message from another window was acted on');
  assert.ok(await page.locator('#waiting').isVisible());
  assert.equal(await page.locator('#outcome h2').count(), 0);
  // AND the control: the popup, on one of our callback pages (a refused one, whose script tells
  // the opener "failed"), is heard at once; the server still says "waiting", so the page waits
  const fromPopup = await checksAfter(() => popup.goto(`${peers.base}/oauth/callback/${CART}`));
  assert.equal(fromPopup, 1);
  assert.equal(await statusOf(invite.setup_url), 'waiting');
  assert.equal(await page.locator('#outcome h2').count(), 0);
  await popup.getByRole('heading', { level: 1, name: 'This sign-in could not be completed' }).waitFor();
  await checkPage(popup, 'callback-refused');
  await popup.close();
  await context.close();
});

test('the README walk-through: the sandbox cart of cartlink-local, in the popup', async () => {
  // GIVEN a sandbox invite made with the dev warehouse's key, as the README's curl does
  const resp = await fetch(`${peers.base}/v1/invites`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ cart: 'sandbox', merchant_email: 'merchant@example.com', merchant_name: 'Demo Merchant' }),
  });
  assert.equal(resp.status, 201);
  const invite = await resp.json();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  // WHEN the merchant presses the button, signs in at the sandbox and allows access
  const popup = await openPopup(context, page);
  await popup.getByLabel('Password').fill('demo');
  await checkPage(popup, 'sandbox-login');
  await popup.getByRole('button', { name: 'Allow access' }).click();
  // THEN the grant page says so
  await outcome(page, 'Successful Authorization');
  assertOnlyOurOrigins();
  await context.close();
});

test('a browser that shows the grant page records "opened" in the invite history, once', async () => {
  // GIVEN an invite whose history has no open yet
  const invite = await peers.createInvite();
  const types = async () => {
    const resp = await fetch(`${peers.base}/v1/invites/${invite.id}/events`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    assert.equal(resp.status, 200);
    return (await resp.json()).data.map((e) => e.type);
  };
  assert.deepEqual(await types(), ['created', 'emailed']);
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  // WHEN the merchant's browser shows the page, twice
  for (let i = 0; i < 2; i += 1) {
    const opened = page.waitForResponse((r) => r.url() === `${invite.setup_url}/opened`);
    await page.goto(invite.setup_url);
    assert.equal((await opened).status(), 200);
  }
  // THEN the history holds one "opened", after the email
  assert.deepEqual(await types(), ['created', 'emailed', 'opened']);
  assertOnlyOurOrigins();
  await context.close();
});
