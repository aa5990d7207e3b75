// Debian's Chromium driven by playwright-core: nothing downloads a browser.
// scripts/setup.sh installs the `chromium` package.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './cli.js';

export const CHROMIUM_BIN = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
/** Screenshots of each view, written by the test run (not committed; docs/ holds a chosen one). */
export const SCREENSHOTS = path.join(ROOT, 'dist', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_BIN, args: ['--no-sandbox'] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
