// Five languages in Chromium: for each, an invite with that `locale` emails the merchant in it,
// and the grant page opened with that Accept-Language is in it: axe finds no serious or
// critical issue, nothing scrolls sideways at phone width (Japanese included), a screenshot per
// language. The switcher reopens the same page in another language, and the choice holds on the
// next page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { CART_NAME, WAREHOUSE, checkPage, launch, newContext, startPeers } from './harness.mjs';

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

/** What each language says, as its catalog writes it. */
const LANGUAGES = {
  en: { subject: `${WAREHOUSE} asks for access to your ${CART_NAME} store`, heading: `${WAREHOUSE} asks for access to your ${CART_NAME} store`, button: 'Grant API Access' },
  de: { subject: `${WAREHOUSE} bittet um Zugriff auf Ihren ${CART_NAME}-Shop`, heading: `${WAREHOUSE} bittet um Zugriff auf Ihren ${CART_NAME}-Shop`, button: 'API-Zugriff gewähren' },
  fr: { subject: `${WAREHOUSE} demande l'accès à votre boutique ${CART_NAME}`, heading: `${WAREHOUSE} demande l'accès à votre boutique ${CART_NAME}`, button: "Autoriser l'accès API" },
  es: { subject: `${WAREHOUSE} solicita acceso a su tienda de ${CART_NAME}`, heading: `${WAREHOUSE} solicita acceso a su tienda de ${CART_NAME}`, button: 'Conceder acceso a la API' },
  ja: { subject: `${WAREHOUSE}が${CART_NAME}ストアへのアクセスを求めています`, heading: `${WAREHOUSE}が${CART_NAME}ストアへのアクセスを求めています`, button: 'APIアクセスを許可' },
};

for (const [lang, words] of Object.entries(LANGUAGES)) {
  test(`${lang}: the invite email and the grant page are in that language`, async () => {
    // GIVEN an invite made with that locale
    const invite = await peers.createInvite({ locale: lang });
    // THEN its email in the outbox is in that language
    const email = (await peers.outbox()).filter((m) => m.kind === 'invite').at(-1);
    assert.equal(email.subject, words.subject);
    assert.ok(email.html.includes(`<html lang="${lang}">`), 'the HTML part says its language');
    // WHEN the merchant opens the link in a browser that asks for that language
    const { context, assertOnlyOurOrigins } = await newContext(browser, peers, {
      extraHTTPHeaders: { 'Accept-Language': `${lang};q=1, en;q=0.5` },
    });
    const page = await context.newPage();
    const resp = await page.goto(invite.setup_url);
    // THEN the grant page is in it, accessible, fits a phone, and is photographed
    assert.equal(resp.status(), 200);
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    await page.getByRole('heading', { level: 1, name: words.heading }).waitFor();
    await page.getByRole('button', { name: words.button }).waitFor();
    await checkPage(page, `grant-${lang}`);
    assertOnlyOurOrigins();
    await context.close();
  });
}

test('the switcher reopens the same page in another language, and the choice holds', async () => {
  // GIVEN an English grant page
  const invite = await peers.createInvite();
  const { context } = await newContext(browser, peers, { extraHTTPHeaders: { 'Accept-Language': 'en' } });
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  // WHEN the merchant picks 日本語 in the switcher
  await page.getByRole('navigation').getByRole('link', { name: '日本語' }).click();
  // THEN the same link's grant page is shown in Japanese
  await page.getByRole('heading', { level: 1, name: LANGUAGES.ja.heading }).waitFor();
  assert.equal(new URL(page.url()).pathname, new URL(invite.setup_url).pathname);
  // AND the next page opened keeps Japanese, whatever the browser asks for
  await page.goto(`${peers.base}/setup`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
  await page.getByRole('heading', { level: 1, name: 'このリンクは無効か、途中で切れています' }).waitFor();
  await checkPage(page, 'access-code-ja');
  await context.close();
});
