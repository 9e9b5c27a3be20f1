// "Manage this connection", as a merchant meets it in Chromium: the link in the confirmation
// email in the outbox, the page, the confirmation step, withdrawing, and the page after. A
// mail scanner's plain GETs change nothing; a cut or altered link gets the access-code page.
// Same checks on every page: only our origins, no CSP violation, axe-core, no sideways
// scrolling on a phone, screenshots.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  API_KEY, CART_NAME, WAREHOUSE, checkPage, launch, newContext, openPopup, outcome,
  signInAndConsent, startPeers,
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

const auth = { authorization: `Bearer ${API_KEY}` };

/** Grants an invite through the popup, as the merchant does; answers the invite, its
 * connection id and the manage link of its merchant confirmation (from the outbox). */
async function connected(extra = {}) {
  const invite = await peers.createInvite(extra);
  // A context of its own: the cart asks each merchant to sign in.
  const { context } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  const popup = await openPopup(context, page);
  await signInAndConsent(popup);
  await outcome(page, 'Successful Authorization');
  await context.close();
  const deadline = Date.now() + 10_000;
  let confirmation;
  while (!confirmation && Date.now() < deadline) {
    confirmation = (await peers.outbox()).find((m) => m.kind === 'merchant_confirmation' && !seen.has(m.text));
    if (!confirmation) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(confirmation, 'the merchant confirmation with a manage link');
  seen.add(confirmation.text);
  const link = confirmation.html.match(/href="([^"]*\/manage\/[A-Za-z0-9_-]{43})"/)[1];
  const v = await (await fetch(`${peers.base}/v1/invites/${invite.id}`, { headers: auth })).json();
  return { invite, connection: v.connection.id, link };
}
const seen = new Set();

/** The token API's status for a connection. */
async function tokenStatus(connection) {
  const resp = await fetch(`${peers.base}/v1/connections/${connection}/tokens`, { headers: auth });
  return resp.status;
}

const warehouseEmails = async () => (await peers.outbox()).filter((m) => m.to === 'ops@northwind.test');

test('the merchant withdraws access from the confirmation email; a scanner\'s GET changes nothing', async () => {
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  // GIVEN a connected store and its confirmation email's manage link
  const { connection, link } = await connected();
  // WHEN a mail scanner fetches the link and the confirmation step with plain GETs
  for (const url of [link, `${link}/withdraw`]) {
    const resp = await fetch(url);
    assert.equal(resp.status, 200, url);
  }
  // THEN nothing changed: the warehouse is still served its token
  assert.equal(await tokenStatus(connection), 200);
  const before = (await warehouseEmails()).length;
  // WHEN the merchant opens the link
  const page = await context.newPage();
  const resp = await page.goto(link);
  // THEN the page names warehouse and cart, and shows the token fetch just made
  assert.equal(resp.status(), 200);
  await page.getByRole('heading', { level: 1, name: `${WAREHOUSE} has access to your ${CART_NAME} store` }).waitFor();
  const facts = await page.locator('dl.facts').innerText();
  assert.ok(facts.includes('Connected since'), facts);
  assert.ok(!(await page.locator('#last-fetch').innerText()).includes('Not yet'));
  await checkPage(page, 'manage');
  // WHEN they press Withdraw access, then confirm
  await page.getByRole('link', { name: 'Withdraw access' }).click();
  await page.getByRole('heading', { level: 1, name: `Withdraw ${WAREHOUSE}'s access to your ${CART_NAME} store?` }).waitFor();
  await checkPage(page, 'manage-confirm');
  await page.getByRole('button', { name: 'Withdraw access' }).click();
  // THEN the page says access was withdrawn
  await page.getByRole('heading', { level: 1, name: 'Access withdrawn' }).waitFor();
  assert.ok((await page.locator('#withdrawn').innerText()).startsWith('You withdrew the access of'));
  await checkPage(page, 'manage-withdrawn');
  // AND the token API answers 404 for the connection
  assert.equal(await tokenStatus(connection), 404);
  // AND the warehouse got one email, which says so
  const after = await warehouseEmails();
  assert.equal(after.length, before + 1);
  assert.equal(after.at(-1).kind, 'access_withdrawn');
  // AND opening the link again says access was withdrawn
  const again = await page.goto(link);
  assert.equal(again.status(), 200);
  await page.getByRole('heading', { level: 1, name: 'Access withdrawn' }).waitFor();
  assert.equal(await page.getByRole('button').count(), 0, 'nothing to press');
  assertOnlyOurOrigins();
  await context.close();
});

test('a cut or altered manage link, or another invite\'s link, gets the access-code page and changes nothing', async () => {
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  // GIVEN two connected stores
  const a = await connected();
  const b = await connected();
  const last = a.link.at(-1) === 'A' ? 'B' : 'A';
  const page = await context.newPage();
  for (const url of [a.link.slice(0, -5), `${a.link.slice(0, -1)}${last}`, b.invite.setup_url.replace('/setup/', '/manage/')]) {
    // WHEN such a link is opened, and its withdraw step posted
    const resp = await page.goto(url);
    // THEN it is the access-code page
    assert.equal(resp.status(), 404, url);
    await page.getByRole('heading', { level: 1, name: 'This link is invalid or incomplete' }).waitFor();
    const post = await page.request.post(`${url}/withdraw`, { form: { confirm: 'yes' }, headers: { origin: peers.base } });
    assert.equal(post.status(), 404, url);
  }
  await checkPage(page, 'manage-invalid');
  // AND both connections are still served
  assert.equal(await tokenStatus(a.connection), 200);
  assert.equal(await tokenStatus(b.connection), 200);
  assertOnlyOurOrigins();
  await context.close();
});

test('a lost manage link is sent again from the access-code page; the answer never says whether the address has one', async () => {
  // GIVEN a connected store, the only one of its merchant's address
  const { connection } = await connected({ merchant_email: 'lost@shop.test' });
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  const answers = [];
  for (const address of ['Lost@Shop.test', 'nobody@else.test']) {
    const before = (await peers.outbox()).length;
    // WHEN an address is typed into the access-code page's lost-link form
    await page.goto(`${peers.base}/setup`);
    await page.getByLabel('Your email address').fill(address);
    await page.getByRole('button', { name: 'Email me the link' }).click();
    // THEN the answer is "Check your email", the same but for the address shown back
    await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
    answers.push((await page.locator('main').innerText()).replace(address, '<address>'));
    const sent = (await peers.outbox()).slice(before);
    if (address === 'Lost@Shop.test') {
      // AND the merchant got one email whose link opens the connection's manage page
      assert.deepEqual(sent.map((m) => [m.kind, m.to]), [['manage_link', 'lost@shop.test']]);
      const link = sent[0].html.match(/href="([^"]*\/manage\/[A-Za-z0-9_-]{43})"/)[1];
      const manage = await context.newPage();
      assert.equal((await manage.goto(link)).status(), 200);
      await manage.getByRole('heading', { level: 1, name: `${WAREHOUSE} has access to your ${CART_NAME} store` }).waitFor();
      await manage.close();
      await checkPage(page, 'lost-link-sent');
    } else {
      // AND an address without a connection got nothing
      assert.deepEqual(sent, []);
    }
  }
  assert.equal(answers[0], answers[1]);
  assert.equal(await tokenStatus(connection), 200);
  assertOnlyOurOrigins();
  await context.close();
});
