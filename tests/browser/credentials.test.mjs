// The `credentials` flavour in Chromium: a cart whose merchants type an API key they created in
// their own admin. The grant page asks for it, says where to find it, and never writes it back;
// a key the store refuses gives a clear message and stores nothing; the right one turns the page
// to "Successful Authorization". Every page is checked with axe.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import { checkPage, launch, newContext, startPeers, statusOf } from './harness.mjs';

const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const WRONG = 'ZYXWVUTSRQPONMLKJIHGFEDCBA543210';

let peers;
let browser;
let store;
const checks = [];

before(async () => {
  // The merchant's store: answers the documented read call (`GET /api/`, the key as the Basic
  // user and no password) for the one key it issued, 401 for anything else.
  store = createServer((req, res) => {
    checks.push(req.headers.authorization || '');
    const good = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;
    if (req.method === 'GET' && req.url === '/api/' && req.headers.authorization === good) {
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<prestashop><api/></prestashop>');
    } else {
      res.writeHead(401, { 'www-authenticate': 'Basic' }).end();
    }
  });
  await new Promise((ok) => store.listen(0, '127.0.0.1', ok));
  const storeBase = `http://127.0.0.1:${store.address().port}`;
  peers = await startPeers({
    extraConfig: `
[[carts]]
id = "keyshop"
name = "Keyshop"
flavour = "credentials"
authorize_url = "${storeBase}/admin"
token_url = "${storeBase}/api/"
token_auth = "basic"
token_request = { kind = "no_exchange" }
pkce = "not_supported"
refresh = { kind = "none" }
refresh_request = { kind = "no_exchange" }
sources = ["a test entry"]
credential_fields = [
    { name = "key", label = "Webservice key", help = "In your back office: Advanced Parameters › Webservice › Add new webservice key, then Generate.", role = "key", pattern = "^[A-Z0-9]{32}$" },
]
[carts.scopes]
orders = ["orders:GET"]
`,
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await peers?.stop();
  store?.close();
});

test('credentials the store refuses get a clear message, are not written back, and store nothing', async () => {
  // GIVEN the grant page of a credentials cart
  const invite = await peers.createInvite({ cart: 'keyshop' });
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  await page.getByLabel('Webservice key').waitFor();
  assert.match(await page.locator('#credentials-form').innerText(), /Advanced Parameters › Webservice/);
  await checkPage(page, 'credentials-form');
  // WHEN the merchant pastes a key the store does not know, and connects
  const asked = checks.length;
  await page.getByLabel('Webservice key').fill(WRONG);
  await page.getByRole('button', { name: 'Connect my store' }).click();
  // THEN the page says so plainly, the field is empty again, and the key is nowhere in it
  const problem = page.locator('#credentials-problem');
  await problem.waitFor({ state: 'visible' });
  assert.match(await problem.innerText(), /did not accept these credentials/);
  assert.equal(await page.getByLabel('Webservice key').inputValue(), '');
  assert.ok(!(await page.content()).includes(WRONG), 'the key is not written back');
  await checkPage(page, 'credentials-refused');
  // AND the store was asked once, and nothing is connected
  assert.equal(checks.length - asked, 1);
  assert.notEqual(await statusOf(invite.setup_url), 'authorized');
  assertOnlyOurOrigins();
  await context.close();
});

test('the right credentials turn the page to Successful Authorization', async () => {
  // GIVEN the grant page of a credentials cart
  const invite = await peers.createInvite({ cart: 'keyshop' });
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  // WHEN the merchant pastes the key the store issued, and connects
  await page.getByLabel('Webservice key').fill(KEY);
  await page.getByRole('button', { name: 'Connect my store' }).click();
  // THEN the page says Successful Authorization, and the invite is connected
  await page.getByRole('heading', { level: 1, name: 'Successful Authorization' }).waitFor();
  assert.ok(!(await page.content()).includes(KEY), 'the key is not written back');
  await checkPage(page, 'credentials-connected');
  assert.equal(await statusOf(invite.setup_url), 'authorized');
  assertOnlyOurOrigins();
  await context.close();
});
