// Every state of a setup link, as a merchant meets it in Chromium: unknown link and access
// code, expired, already connected, withdrawn; and a grant that fails at the code exchange.
// Same checks on every page: only our and the cart's origins, no CSP violation, axe-core, and
// screenshots at desktop and phone width.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  API_KEY, CART_NAME, WAREHOUSE, checkPage, launch, newContext, nowSecs, openPopup, outcome,
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

/** The access code of the newest invite email. */
async function accessCode() {
  const invite = (await peers.outbox()).filter((m) => m.kind === 'invite').at(-1);
  return invite.text.match(/^\s*([0-9A-Z]{5}-[0-9A-Z]{5})\s*$/m)[1];
}

/** Mentions of the access-code form on a page. */
const codeForm = (page) => page.getByLabel('Access Code').count();

test('an unknown or truncated link gets the access-code page, and the code from the email works', async () => {
  const invite = await peers.createInvite();
  const code = await accessCode();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  // GIVEN a link nobody issued, and the real link with its end cut off
  for (const url of [`${peers.base}/setup/${'A'.repeat(43)}`, invite.setup_url.slice(0, -6)]) {
    const resp = await page.goto(url);
    // THEN each gets the access-code page (404)
    assert.equal(resp.status(), 404);
    await page.getByRole('heading', { level: 1, name: 'This link is invalid or incomplete' }).waitFor();
    assert.equal(await codeForm(page), 1);
  }
  await checkPage(page, 'access-code');
  // AND a page that does not exist says so plainly
  const missing = await page.goto(`${peers.base}/setup/${'A'.repeat(43)}/nothing-here`);
  assert.equal(missing.status(), 405);
  await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  await checkPage(page, 'not-found');
  await page.goto(`${peers.base}/setup`);
  // WHEN a wrong code is typed
  await page.getByLabel('Access Code').fill('00000-00000');
  await page.getByRole('button', { name: 'Continue' }).click();
  // THEN the page says so next to the field
  await page.getByRole('alert').filter({ hasText: 'That code did not work' }).waitFor();
  assert.equal(await page.getByLabel('Access Code').getAttribute('aria-invalid'), 'true');
  await checkPage(page, 'access-code-wrong');
  // WHEN the code from the email is typed as a person might (lower case, no hyphen)
  await page.getByLabel('Access Code').fill(code.toLowerCase().replace('-', ''));
  await page.getByRole('button', { name: 'Continue' }).click();
  // THEN the grant page shows, and granting from it works
  await page.getByRole('button', { name: 'Grant API Access' }).waitFor();
  const popup = await openPopup(context, page);
  await signInAndConsent(popup);
  await outcome(page, 'Successful Authorization');
  assert.equal(await statusOf(invite.setup_url), 'authorized');
  assertOnlyOurOrigins();
  await context.close();
});

test('an expired link says when it expired and whom to ask', async () => {
  // GIVEN an invite whose expiry has passed (time made to pass in the store)
  const invite = await peers.createInvite();
  const expiredAt = nowSecs() - 3600;
  peers.sql(`UPDATE invites SET expires_at = ${expiredAt} WHERE id = '${invite.id}'`);
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  // WHEN the merchant opens the link
  const resp = await page.goto(invite.setup_url);
  // THEN the page says it expired on that date, and to ask the warehouse for a new one
  assert.equal(resp.status(), 410);
  await page.getByRole('heading', { level: 1, name: 'This link has expired' }).waitFor();
  const date = new Date(expiredAt * 1000);
  const month = date.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
  const hhmm = date.toISOString().slice(11, 16);
  const expected = `This link expired on ${date.getUTCDate()} ${month} ${date.getUTCFullYear()}, ${hhmm} UTC: ask ${WAREHOUSE} for a new one.`;
  assert.ok((await page.locator('main').innerText()).includes(expected), expected);
  assert.equal(await codeForm(page), 0);
  assert.equal(await page.getByRole('button').count(), 0, 'nothing to press');
  assert.equal(await statusOf(invite.setup_url), 'expired');
  await checkPage(page, 'expired');
  assertOnlyOurOrigins();
  await context.close();
});

test('a link whose store is connected says so, with the date', async () => {
  // GIVEN an invite granted through the popup
  const invite = await peers.createInvite();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  const popup = await openPopup(context, page);
  await signInAndConsent(popup);
  await outcome(page, 'Successful Authorization');
  const connectedOn = new Date();
  // WHEN the merchant opens the link again
  const resp = await page.goto(invite.setup_url);
  // THEN the page says the store is connected, and since when
  assert.equal(resp.status(), 200);
  await page.getByRole('heading', { level: 1, name: `Your ${CART_NAME} store is already connected` }).waitFor();
  const month = connectedOn.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
  const text = await page.locator('main').innerText();
  assert.ok(text.includes(`You gave ${WAREHOUSE} access on ${connectedOn.getUTCDate()} ${month} ${connectedOn.getUTCFullYear()}`), text);
  assert.equal(await page.getByRole('button').count(), 0, 'nothing to press');
  await checkPage(page, 'already-connected');
  assertOnlyOurOrigins();
  await context.close();
});

test('a withdrawn invite says it was withdrawn', async () => {
  // GIVEN an invite the warehouse withdrew through its API
  const invite = await peers.createInvite();
  const withdrawn = await fetch(`${peers.base}/v1/invites/${invite.id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  assert.equal(withdrawn.status, 200);
  assert.equal((await withdrawn.json()).status, 'revoked');
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  // WHEN the merchant opens the link
  const resp = await page.goto(invite.setup_url);
  // THEN the page says so, and whom to ask
  assert.equal(resp.status(), 410);
  await page.getByRole('heading', { level: 1, name: 'This request was withdrawn' }).waitFor();
  const text = await page.locator('main').innerText();
  assert.ok(text.includes(`${WAREHOUSE} withdrew this request`), text);
  assert.ok(text.includes(`ask ${WAREHOUSE} for a new link`), text);
  assert.equal(await statusOf(invite.setup_url), 'revoked');
  await checkPage(page, 'revoked');
  assertOnlyOurOrigins();
  await context.close();
});

test('an invite that expires while the merchant is at the cart: the callback says so, nothing is stored', async () => {
  // GIVEN a grant started without JavaScript (same tab), at the cart's consent
  const invite = await peers.createInvite();
  const nojs = await newContext(browser, peers, { javaScriptEnabled: false });
  const page = await nojs.context.newPage();
  await page.goto(invite.setup_url);
  await page.click('#grant-button');
  await page.fill('input[name="login"]', 'alice');
  await page.fill('input[name="password"]', 'alice-password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('button:has-text("Continue")');
  // WHEN the invite expires, and then the merchant consents
  peers.sql(`UPDATE invites SET expires_at = ${nowSecs() - 1} WHERE id = '${invite.id}'`);
  await page.click('button:has-text("Continue")');
  // THEN our callback page says the invitation expired, and nothing was connected
  await page.getByRole('heading', { level: 1, name: 'This invitation has expired' }).waitFor();
  assert.equal(await statusOf(invite.setup_url), 'expired');
  assert.equal(peers.sql(`SELECT COUNT(*) FROM connections WHERE invite_id = '${invite.id}'`).trim(), '0');
  await nojs.check(page, 'callback-expired');
  nojs.assertOnlyOurOrigins();
  await nojs.context.close();
});

test('a grant page left open until its link expires says so instead of opening the cart', async () => {
  // GIVEN the grant page, open; then the invite expires
  const invite = await peers.createInvite();
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  peers.sql(`UPDATE invites SET expires_at = ${nowSecs() - 60} WHERE id = '${invite.id}'`);
  // WHEN the merchant presses the button
  const grantAnswer = context.waitForEvent('response', (r) => r.url().endsWith('/grant'));
  const popup = await openPopup(context, page);
  // THEN the popup gets the expired page (410), and the grant page says it expired and whom to
  // ask, and closes the popup
  assert.equal((await grantAnswer).status(), 410);
  await outcome(page, 'This link has expired');
  if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 5_000 });
  assert.match(await page.locator('#outcome').innerText(), new RegExp(`ask ${WAREHOUSE.replace(/[.&]/g, '\\$&')} for a new one`));
  assert.ok(await page.locator('#grant-intro').isHidden());
  assert.equal(await page.getByRole('button', { name: 'Try again' }).count(), 0);
  await checkPage(page, 'grant-expired-while-open');
  assertOnlyOurOrigins();
  await context.close();
});

test('a failed code exchange: a message and a retry, and the merchant is emailed a retry link', async () => {
  // GIVEN cartlink configured with a wrong client secret: the cart refuses every code exchange
  const failing = await startPeers({ cartSecret: 'not-the-secret' });
  try {
    const invite = await failing.createInvite();
    const { context, assertOnlyOurOrigins } = await newContext(browser, failing);
    const page = await context.newPage();
    await page.goto(invite.setup_url);
    // WHEN the merchant grants at the cart
    const popup = await openPopup(context, page);
    await signInAndConsent(popup);
    // THEN the page says the connection did not complete, and offers to try again
    await outcome(page, 'The connection did not complete');
    assert.ok(await page.getByRole('button', { name: 'Try again' }).isVisible());
    assert.equal(await statusOf(invite.setup_url), 'failed');
    await checkPage(page, 'grant-failed');
    // AND the merchant is emailed a link to try again, on our origin, that opens the grant page
    const mails = await failing.emails(2);
    const failure = mails.find((m) => m.kind === 'grant_failed');
    assert.ok(failure, 'a failure email');
    assert.equal(failure.to, 'alice@shop.test');
    assert.equal(failure.subject, `Connecting your ${CART_NAME} store to ${WAREHOUSE} did not complete`);
    const retry = failure.text.match(/^(http\S+\/setup\/\S+)$/m)[1];
    assert.ok(retry.startsWith(`${failing.base}/setup/`));
    assert.ok(failure.html.includes(`href="${retry}"`));
    // AND without JavaScript the same failure lands on our failure page, in the same tab
    const nojs = await newContext(browser, failing, { javaScriptEnabled: false });
    const tab = await nojs.context.newPage();
    const resp = await tab.goto(retry);
    assert.equal(resp.status(), 200);
    await tab.click('#grant-button');
    await signInAndConsent(tab);
    await tab.getByRole('heading', { level: 1, name: 'The connection did not complete' }).waitFor();
    assert.match(await tab.locator('main').innerText(), /emailed you a link to try again/);
    await nojs.check(tab, 'callback-failed');
    assertOnlyOurOrigins();
    nojs.assertOnlyOurOrigins();
    await nojs.context.close();
    await context.close();
  } finally {
    await failing.stop();
  }
});
