// Opening the page the way every browser test does: a fresh context, and a
// record of what the tests assert on, every request the page or its
// workers make (the page must make none off the machine) and every error.

/// Opens `url` in a new context of `browser` and waits for the page's
/// language to be set (its scripts have run).
export async function openPage(browser, url, { lang = "en-US", downloads = false } = {}) {
  const context = await browser.newContext({ locale: lang, acceptDownloads: downloads });
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  context.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.lang !== "");
  return { context, page, requests, errors };
}
