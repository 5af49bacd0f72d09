// End-to-end walk through the console in Debian's Chromium (playwright-core, no browser download).
// Run by tests/e2e/test_web_console.py against a real `recap serve --worker` on the test stack:
//   BASE_URL=http://127.0.0.1:PORT SOURCE=.../sintel_trailer_480x204.mp4 OUT=dir node e2e/console.mjs
// Writes OUT/final.mp4 (the downloaded recap), OUT/NN-*.png screenshots and OUT/report.json.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const BASE = process.env.BASE_URL;
const SOURCE = process.env.SOURCE;
const OUT = process.env.OUT ?? "test-results";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const STEP_MS = Number(process.env.STEP_TIMEOUT_MS ?? 420_000);
if (!BASE || !SOURCE) throw new Error("BASE_URL and SOURCE are required");
mkdirSync(OUT, { recursive: true });

const report = { steps: [], resumed: false, changedBy: null, consoleErrors: [] };
let shot = 0;
const started = Date.now();

async function step(page, name, fn) {
  const t0 = Date.now();
  await fn();
  shot += 1;
  await page.screenshot({ path: join(OUT, `${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
  report.steps.push({ name, seconds: (Date.now() - t0) / 1000 });
  console.log(`ok ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

const SCRIPT = `# The journey
A young woman searches the snowy mountains for the dragon she once raised.

She fights a hooded stranger in the market and loses her way.

# The end
At last she finds the cave, but the dragon is not what she remembers.`;

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on("console", (msg) => { if (msg.type() === "error") report.consoleErrors.push(msg.text()); });
  const email = `creator-${Date.now()}@example.com`;
  const password = "Sintel-Dragon-Scales-2010";

  await step(page, "sign-up", async () => {
    await page.goto(BASE);
    await page.getByRole("tab", { name: "Sign up" }).click();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByLabel("Your name").fill("Ann Creator");
    await page.getByLabel("Workspace name").fill("Ann's Recaps");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Projects" }).waitFor();
  });

  await step(page, "project-created", async () => {
    await page.getByLabel("New project").fill("Sintel recap");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "Sintel recap" }).waitFor();
  });
  const projectUrl = page.url();

  await step(page, "upload-interrupted", async () => {
    // Slow the upload down, then close the page mid-way (a reload): tus must resume, not restart.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 5, downloadThroughput: -1,
                                                          uploadThroughput: 300 * 1024 });
    await page.getByLabel("Source video", { exact: true }).setInputFiles(SOURCE);
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="upload-SOURCE_VIDEO-pct"]');
      return el !== null && parseInt(el.textContent ?? "0", 10) >= 20;
    }, null, { timeout: STEP_MS });
    report.interruptedAt = await page.getByTestId("upload-SOURCE_VIDEO-pct").textContent();
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1,
                                                          uploadThroughput: -1 });
    await page.reload();
  });

  await step(page, "upload-resumed", async () => {
    await page.getByRole("heading", { name: "Sintel recap" }).waitFor();
    await page.getByLabel("Source video", { exact: true }).setInputFiles(SOURCE);
    await page.getByText("Resuming the unfinished upload of this file.").waitFor();
    report.resumed = true;
    await page.getByText("Uploaded; checking the file").waitFor({ timeout: STEP_MS });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="asset-status"]')]
      .some((el) => (el.textContent ?? "").startsWith("ready")), null, { timeout: STEP_MS, polling: 1000 })
      .catch(async () => { await page.getByRole("button", { name: "Refresh" }).click(); });
    for (let i = 0; i < 60; i += 1) {
      const statuses = await page.getByTestId("asset-status").allTextContents();
      report.assetStatuses = statuses;
      if (statuses.some((s) => s.startsWith("ready"))) break;
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.waitForTimeout(1000);
    }
  });

  await step(page, "script-pasted", async () => {
    await page.getByLabel(/^Script \(paragraphs/).fill(SCRIPT);
    await page.getByText("3 beats in 2 chapter(s)", { exact: false }).waitFor();
  });

  await step(page, "render-started", async () => {
    await page.getByRole("button", { name: "Start render" }).click();
    await page.getByRole("heading", { name: "Render progress" }).waitFor();
    await page.getByTestId("stage-ingest").waitFor();
  });
  const jobUrl = page.url();

  await step(page, "stages-live", async () => {
    // Live progress: the stage table changes without a reload while the job runs.
    await page.waitForFunction(() => {
      const cell = document.querySelector('[data-testid="stage-ingest"] td:nth-child(2)');
      return cell !== null && cell.textContent === "succeeded";
    }, null, { timeout: STEP_MS, polling: 500 });
  });

  await step(page, "review", async () => {
    await page.getByRole("heading", { name: "Review the alignment" }).waitFor({ timeout: STEP_MS });
    await page.getByTestId("beat-1").click();
    // the first alternative whose footage no other beat uses (the others are shown disabled)
    const alternative = page.locator('[data-testid^="use-alternative-"]:not([disabled])').first();
    if (await alternative.count()) {
      await alternative.click();
      report.changedBy = "alternative";
    } else {
      const input = page.getByLabel("Clip in point (seconds)").first();
      const value = Number(await input.inputValue());
      await input.fill(String(Math.max(0, value - 0.5)));
      report.changedBy = "trim";
    }
    await page.keyboard.press("Escape");
    await page.getByRole("button", { name: "Save edits" }).click();
    await page.getByText(/Saved 1 edited beat/).waitFor();
  });

  await step(page, "approved-and-finished", async () => {
    await page.getByRole("button", { name: "Approve and cut" }).click();
    await page.getByTestId("job-state").filter({ hasText: "succeeded" }).waitFor({ timeout: STEP_MS });
    await page.getByTestId("final-video").waitFor();
  });

  await step(page, "output-playing", async () => {
    const played = await page.getByTestId("final-video").evaluate(async (video) => {
      video.muted = true;
      await video.play();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return { time: video.currentTime, width: video.videoWidth, height: video.videoHeight };
    });
    report.played = played;
    if (!(played.time > 0.3 && played.width > 0)) throw new Error(`the recap did not play: ${JSON.stringify(played)}`);
  });

  await step(page, "downloaded", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-final.mp4").click()]);
    await download.saveAs(join(OUT, "final.mp4"));
  });

  await step(page, "other-tenant-refused", async () => {
    const other = await browser.newContext();
    const intruder = await other.newPage();
    await intruder.goto(BASE);
    await intruder.getByRole("tab", { name: "Sign up" }).click();
    await intruder.getByLabel("Email").fill(`intruder-${Date.now()}@example.com`);
    await intruder.getByLabel("Password").fill("Another-Long-Passphrase-77");
    await intruder.getByLabel("Your name").fill("Ivan");
    await intruder.getByLabel("Workspace name").fill("Elsewhere");
    await intruder.getByRole("button", { name: "Create account" }).click();
    await intruder.getByRole("heading", { name: "Projects" }).waitFor();
    for (const url of [projectUrl, jobUrl]) {
      await intruder.goto(url);
      await intruder.getByRole("alert").filter({ hasText: "could not find" }).waitFor();
    }
    await intruder.screenshot({ path: join(OUT, "12-intruder.png"), fullPage: true });
    await other.close();
  });

  await step(page, "phone-sized", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(projectUrl);
    await page.getByRole("heading", { name: "Sintel recap" }).waitFor();
  });

  // Last, optional and self-contained (not a step: "phone-sized" stays the last one): the Account page's
  // audit log, data export and danger zone render, still phone-sized. Nothing is deleted; what it saw
  // goes to report.account, and an export that is not ready within a minute is only reported.
  try {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
    await page.getByRole("heading", { name: "Account", level: 1 }).waitFor();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await page.getByRole("table", { name: "Audit events" }).locator("tbody tr").first().waitFor();
    await page.getByRole("heading", { name: "Danger zone" }).waitFor();
    await page.getByRole("button", { name: "Delete my account" }).waitFor();
    await page.getByRole("button", { name: "Delete workspace" }).waitFor();
    const rows = page.getByRole("table", { name: "Audit events" }).locator("tbody tr");
    report.account = { sections: "ok", auditRows: await rows.count() };
    const more = page.getByRole("button", { name: "Load more" });
    if (await more.isVisible()) {
      const before = await rows.count();
      await more.click();
      await rows.nth(before).waitFor();
      report.account.auditRowsAfterMore = await rows.count();
    }
    await page.getByRole("button", { name: "Export my data" }).click();
    await page.getByTestId("export-download").waitFor({ timeout: 60_000 });
    report.account.export = "ready";
  } catch (e) {
    report.account = { ...report.account, problem: String(e).slice(0, 300) };
  }
  await page.screenshot({ path: join(OUT, "99-account.png"), fullPage: true }).catch(() => undefined);
  console.log(`account page: ${JSON.stringify(report.account)}`);
} finally {
  report.seconds = (Date.now() - started) / 1000;
  writeFileSync(join(OUT, "report.json"), JSON.stringify(report, null, 2));
  await browser.close();
}
