// The emails, rendered in Chromium from the outbox's .eml files (their HTML part): the invite,
// both confirmations and the failure notice. Each must load nothing at all, link only to our
// origin, pass axe-core, fit a narrow mail client, and say what its text part says.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  CART_NAME, WAREHOUSE, assertAccessible, launch, newContext, openPopup, outcome, screenshots,
  signInAndConsent, startPeers,
} from './harness.mjs';

let peers;
let failing;
let browser;
let mails;

before(async () => {
  browser = await launch();
  peers = await startPeers();
  // The invite, then a grant through the popup: the two confirmations.
  const invite = await peers.createInvite({ store: 'alices-shop.example' });
  const { context } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  await signInAndConsent(await openPopup(context, page));
  await outcome(page, 'Successful Authorization');
  await context.close();
  mails = await peers.emails(3);
  // A grant whose code exchange fails (cartlink holds a wrong client secret): the failure email.
  failing = await startPeers({ cartSecret: 'not-the-secret' });
  const failed = await failing.createInvite();
  const f = await newContext(browser, failing);
  const fpage = await f.context.newPage();
  await fpage.goto(failed.setup_url);
  await signInAndConsent(await openPopup(f.context, fpage));
  await outcome(fpage, 'The connection did not complete');
  await f.context.close();
  mails.push(...(await failing.emails(2)).filter((m) => m.kind === 'grant_failed'));
});

after(async () => {
  await browser?.close();
  await peers?.stop();
  await failing?.stop();
});

/** The words of a text, for comparing the text part with what the HTML part shows. */
const words = (s) => s.split(/[^\p{L}\p{N}]+/u).filter(Boolean);

for (const [kind, to, subject] of [
  ['invite', 'alice@shop.test', `${WAREHOUSE} asks for access to your ${CART_NAME} store`],
  ['merchant_confirmation', 'alice@shop.test', `You gave ${WAREHOUSE} access to your ${CART_NAME} store`],
  ['warehouse_confirmation', 'ops@northwind.test', `Alice's Shop connected their ${CART_NAME} store`],
  ['grant_failed', 'alice@shop.test', `Connecting your ${CART_NAME} store to ${WAREHOUSE} did not complete`],
]) {
  test(`the ${kind} email renders cleanly, loads nothing and links only to our origin`, async () => {
    const mail = mails.find((m) => m.kind === kind);
    assert.ok(mail, `a ${kind} email in the outbox`);
    assert.equal(mail.to, to);
    assert.equal(mail.subject, subject);
    const origin = kind === 'grant_failed' ? failing.base : peers.base;
    const requests = [];
    const context = await browser.newContext();
    context.on('request', (r) => requests.push(r.url()));
    await context.route('**/*', (route) => route.abort('blockedbyclient'));
    const page = await context.newPage();
    // WHEN its HTML part is opened in the browser
    await page.setContent(mail.html, { waitUntil: 'load' });
    // THEN it loads nothing: no image, style sheet, font or script from anywhere
    assert.deepEqual(requests, []);
    assert.equal(await page.locator('script, link, img, iframe, object, embed').count(), 0);
    // AND every link goes to our origin, and there is at least one where the email needs one
    const hrefs = await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.href));
    for (const href of hrefs) assert.equal(new URL(href).origin, origin, href);
    if (kind === 'invite' || kind === 'grant_failed') assert.ok(hrefs.length >= 1, 'a link to act on');
    // AND it says what the text part says, word for word
    const shown = await page.locator('body > div > div > div').innerText();
    assert.deepEqual(words(shown), words(mail.text));
    // AND it is readable: axe-core, and no sideways scrolling in a 320-pixel-wide mail client
    await assertAccessible(page, `${kind} email`);
    await page.setViewportSize({ width: 320, height: 640 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${overflow}px wider than the window`);
    await screenshots(page, `email-${kind.replace('_', '-')}`);
    await context.close();
  });
}
