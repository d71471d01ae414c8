// Drives the CDS Hooks Sandbox's real UI in headless Chromium (puppeteer-core, Debian's chromium):
// Patient View shows our card; a suggestion is accepted; after a reload a card is dismissed with
// an override reason from the Dismiss menu; then Rx View with a condition chosen under "Treating"
// calls our order-select service. Every wait is bounded; screenshots go to --screenshots.
import puppeteer from 'puppeteer-core';
import { parseArgs } from 'node:util';
import path from 'node:path';

const { values: opt } = parseArgs({
  options: {
    chromium: { type: 'string' }, screenshots: { type: 'string' }, sandbox: { type: 'string' },
    service: { type: 'string' }, fhir: { type: 'string' }, patient: { type: 'string' },
  },
});
const STEP_MS = 30000;
const CARD_SUMMARY = 'Pain persists after a single cell injection';

let passed = 0;
const ok = (what) => { passed += 1; console.log(`ok: ${what}`); };

const browser = await puppeteer.launch({
  executablePath: opt.chromium,
  headless: true,
  // Root in CI: Chromium's sandbox needs user namespaces it may not have there.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--window-size=1400,1000'],
  defaultViewport: { width: 1400, height: 1000 },
  timeout: STEP_MS,
});
const page = await browser.newPage();
page.setDefaultTimeout(STEP_MS);
const calls = [];  // every answer from our service: [method, path, status]
page.on('response', (r) => {
  if (r.url().startsWith(opt.service)) calls.push([r.request().method(), new URL(r.url()).pathname, r.status()]);
});
page.on('console', (m) => { if (m.type() === 'error') console.log(`browser console: ${m.text()}`); });
const shot = (name) => page.screenshot({ path: path.join(opt.screenshots, `${name}.png`), fullPage: true });

// The first answer from our service at `pathname` (POST), after `since` calls were seen.
async function answerTo(pathname, since) {
  const deadline = Date.now() + STEP_MS;
  while (Date.now() < deadline) {
    const hit = calls.slice(since).find(([m, p]) => m === 'POST' && p === pathname);
    if (hit) return hit[2];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no POST ${pathname} within ${STEP_MS} ms; calls: ${JSON.stringify(calls)}`);
}

// Clicks the first visible element matching `selector` whose text includes `text`.
async function clickText(selector, text) {
  const handle = await page.waitForFunction((sel, t) => [...document.querySelectorAll(sel)]
    .find((e) => e.getClientRects().length > 0 && e.textContent.includes(t)), {}, selector, text);
  await handle.asElement().click();
}

// Clicks the visible list option or button whose whole text is `text`.
async function clickExact(text) {
  const handle = await page.waitForFunction((t) => [...document.querySelectorAll('[role="button"], [role="option"], [id*="-option-"], li, button')]
    .find((e) => e.getClientRects().length > 0 && e.textContent.trim() === t), {}, text);
  await handle.asElement().click();
}

try {
  const url = `${opt.sandbox}?serviceDiscoveryURL=${encodeURIComponent(`${opt.service}/cds-services`)}` +
    `&fhirServiceUrl=${encodeURIComponent(opt.fhir)}&patientId=${encodeURIComponent(opt.patient)}`;

  // 1. Patient View: discovery, then our patient-view service, rendered as a card.
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction((t) => document.body.innerText.includes(t), {}, CARD_SUMMARY);
  await shot('1-patient-view-card');
  ok('Patient View renders our whole-joint-plan card');

  // 2. Accept its suggestion: the sandbox sends "accepted" feedback with the suggestion's id.
  let since = calls.length;
  await clickText('button', 'Propose the type');
  const accepted = await answerTo('/cds-services/knee-oa-patient-view/feedback', since);
  if (accepted !== 200) throw new Error(`accepted feedback answered ${accepted}`);
  await shot('2-suggestion-accepted');
  ok('accepting the suggestion is acknowledged (200)');

  // 3. A fresh Patient View (a new call, a new card), dismissed with an override reason.
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction((t) => document.body.innerText.includes(t), {}, CARD_SUMMARY);
  since = calls.length;
  await page.waitForSelector('button[aria-label="select dismiss reason"]', { visible: true });
  await page.click('button[aria-label="select dismiss reason"]');
  await clickText('li', 'Override:');
  const overridden = await answerTo('/cds-services/knee-oa-patient-view/feedback', since);
  if (overridden !== 200) throw new Error(`override feedback answered ${overridden}`);
  await shot('3-card-dismissed-with-reason');
  ok('dismissing with an override reason is acknowledged (200)');

  // 4. Rx View with a condition chosen under "Treating": the draft's reasonCode is one object.
  since = calls.length;
  await clickText('button, a, [role="tab"]', 'Rx View');
  await page.waitForFunction(() => document.body.innerText.includes('Treating'));
  await shot('4-rx-view');
  const treating = await page.waitForFunction(() => {
    const label = [...document.querySelectorAll('label')].find((l) => l.textContent.trim() === 'Treating');
    return label && label.parentElement.querySelector('input');
  });
  await treating.asElement().click();  // opens the list of the patient's conditions
  await clickExact('Primary osteoarthritis of right knee');
  await shot('5-rx-view-condition-chosen');
  const medication = await page.waitForFunction(() => {
    const label = [...document.querySelectorAll('label')].find((l) => /medication/i.test(l.textContent));
    return label && label.parentElement.querySelector('input');
  });
  // Typed keys race the field's re-rendering on a busy machine (letters get lost), so the text is
  // entered as one input event, through React's own change handler, as a paste would be.
  await medication.asElement().click();
  await medication.asElement().evaluate((e) => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(e, 'Naproxen');
    e.dispatchEvent(new Event('input', { bubbles: true }));
  });
  since = calls.length;
  await clickExact('Naproxen 500 MG Oral Tablet');
  const status = await answerTo('/cds-services/knee-oa-order-select', since);
  await new Promise((r) => setTimeout(r, 500));
  await shot('6-rx-view-order-select');
  if (status !== 200) throw new Error(`order-select answered ${status}`);
  ok('Rx View with a condition under "Treating": order-select answered 200');
  const refused = calls.filter(([, , s]) => s >= 400);
  if (refused.length) throw new Error(`refused or failed calls: ${JSON.stringify(refused)}`);
  ok('no call was refused (4xx: no 400, no 401) or failed (5xx)');
  console.log(`calls: ${JSON.stringify(calls)}`);
  console.log(`driver: ${passed} passed, 0 failed`);
} catch (e) {
  await shot('failure').catch(() => {});
  console.log(`calls: ${JSON.stringify(calls)}`);
  console.log(`FAILED: ${e.message}`);
  console.log(`driver: ${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
