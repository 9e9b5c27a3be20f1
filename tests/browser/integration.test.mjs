// Magento's admin integration as a merchant meets it in Chromium: the grant page's button shows
// the numbered Admin steps with this attempt's Callback URL and Identity link URL (copyable),
// the store's activation posts the integration's credentials, and the page turns to
// "Successful Authorization" by itself. The store's two token endpoints are a small stand-in
// here (their OAuth 1.0a signatures are checked in tests/tests/carts.rs); the page gets the
// same checks as every other: origins, CSP, axe-core, phone width, screenshots.

import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { API_KEY, checkPage, launch, newContext, startPeers } from './harness.mjs';

let peers;
let browser;
let store;
const seen = [];

/** The stand-in of the store's /oauth/token/request and /oauth/token/access. */
function startStore() {
  return new Promise((ok) => {
    const srv = createServer((req, res) => {
      seen.push(req.url);
      const signed = /^OAuth .*oauth_signature_method="HMAC-SHA256"/.test(req.headers.authorization || '');
      const answers = {
        '/shop.example.com/oauth/token/request': 'oauth_token=requesttoken&oauth_token_secret=requestsecret',
        '/shop.example.com/oauth/token/access': 'oauth_token=accesstoken&oauth_token_secret=accesssecret',
      };
      const body = answers[req.url];
      if (req.method !== 'POST' || !body || !signed) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' }).end(body);
    });
    srv.unref();
    srv.listen(0, "127.0.0.1", () => ok(srv));
  });
}

before(async () => {
  store = await startStore();
  const { port } = store.address();
  peers = await startPeers({
    extraConfig: `
[cart_credentials.magento]
client_id = "cartlink"
base_url_override = "http://127.0.0.1:${port}"
`,
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await peers?.stop();
  store?.close();
});

test('a Magento merchant gets the Admin steps with both URLs, activates, and the page confirms', async () => {
  // GIVEN a Magento invite for a store
  const invite = await peers.createInvite({ cart: 'magento', store: 'https://shop.example.com' });
  const { context, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  await checkPage(page, 'magento-grant');
  // WHEN the merchant asks for the integration settings
  await page.getByRole('button', { name: 'Show my integration settings' }).click();
  await page.waitForSelector('#admin-steps');
  // THEN the page lists the Admin steps with this attempt's two addresses, to copy
  const steps = await page.locator('#admin-steps li').allInnerTexts();
  assert.ok(steps.length >= 4, JSON.stringify(steps));
  assert.ok(steps.some((s) => s.includes('System') && s.includes('Integrations')), JSON.stringify(steps));
  const callback = await page.getByLabel('Callback URL').inputValue();
  const identity = await page.getByLabel('Identity link URL').inputValue();
  assert.match(callback, new RegExp(`^${peers.base}/oauth/integration/magento/[A-Za-z0-9_-]{43}$`));
  assert.match(identity, new RegExp(`^${peers.base}/oauth/identity/magento/[A-Za-z0-9_-]{43}$`));
  assert.equal(await page.locator('button.copy:visible').count(), 2, 'a Copy button per address');
  await checkPage(page, 'magento-settings');
  assert.deepEqual(seen, [], 'nothing is sent to the store before it activates');

  // WHEN the store activates the integration (Magento posts the credentials to the Callback URL)
  const nonceless = callback.slice(0, callback.lastIndexOf('/'));
  const resp = await fetch(callback, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      oauth_consumer_key: 'k1234567890abcdefghijklmnopqrstu',
      oauth_consumer_secret: 's1234567890abcdefghijklmnopqrstu',
      oauth_verifier: 'v1234567890abcdefghijklmnopqrstu',
      store_base_url: 'https://shop.example.com/',
    }),
  });
  // THEN the store is answered 200 once cartlink fetched both tokens from it
  assert.equal(resp.status, 200, await resp.text());
  assert.deepEqual(seen, ['/shop.example.com/oauth/token/request', '/shop.example.com/oauth/token/access']);
  // AND the merchant's page turns to success by itself, within 10 seconds
  await page.getByText('Successful Authorization').waitFor({ timeout: 10_000 });
  await checkPage(page, 'magento-connected');
  // AND a second activation with the same nonce is refused
  const again = await fetch(callback, { method: 'POST', body: '' });
  assert.notEqual(again.status, 200);
  assert.ok(nonceless.endsWith('/oauth/integration/magento'));
  // AND the warehouse API shows the connection, without any token
  const v = await (await fetch(`${peers.base}/v1/invites/${invite.id}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  })).json();
  assert.ok(['authorized', 'confirmed'].includes(v.status), v.status);
  assert.equal(v.connection.status, 'active');
  assert.ok(!JSON.stringify(v).includes('accesstoken'));
  // AND the browser never left cartlink's origin
  assertOnlyOurOrigins();
  await context.close();
});
