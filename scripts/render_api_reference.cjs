// Renders the API reference page at a URL in jsdom (no browser, no network beyond that URL) and
// prints, as one JSON object, what a reader would see: the operations Swagger UI listed (method
// and path), any error box it showed, and every script error or console.error on the way.
// tests/integration/api/test_api_reference_render.py runs it against the page `userflow local`
// serves at /docs. Usage: node scripts/render_api_reference.cjs URL [TIMEOUT_MS]
"use strict";

const { JSDOM, VirtualConsole } = require("jsdom");

const url = process.argv[2];
const timeoutMs = Number(process.argv[3] || 15000);
const origin = new URL(url).origin;
const errors = [];

const virtualConsole = new VirtualConsole();
virtualConsole.on("jsdomError", (error) => errors.push(`script error: ${error.message}`));
virtualConsole.on("error", (...args) => errors.push(`console.error: ${args.join(" ")}`));

function sameOriginFetch(window) {
  // jsdom has no fetch; Swagger UI loads the document with it. Only the page's own origin is
  // reachable, as under the page's Content-Security-Policy (connect-src 'self').
  return (resource, init) => {
    const target = new URL(typeof resource === "string" ? resource : resource.url, window.location.href);
    if (target.origin !== origin) {
      errors.push(`fetch outside the page's origin: ${target.href}`);
      return Promise.reject(new TypeError(`blocked: ${target.href}`));
    }
    return fetch(target, init);
  };
}

function rendered(document) {
  return [...document.querySelectorAll(".opblock")].map((block) => ({
    method: (block.querySelector(".opblock-summary-method")?.textContent || "").toLowerCase(),
    path: block.querySelector(".opblock-summary-path")?.getAttribute("data-path") || "",
  }));
}

async function main() {
  const dom = await JSDOM.fromURL(url, {
    runScripts: "dangerously",
    resources: "usable",
    pretendToBeVisual: true,
    virtualConsole,
    beforeParse(window) {
      window.fetch = sameOriginFetch(window);
      for (const name of ["Headers", "Request", "Response", "FormData"]) {
        if (!window[name]) window[name] = globalThis[name];
      }
    },
  });
  const { document } = dom.window;
  const started = Date.now();
  let operations = [];
  let stableSince = 0;
  // Done when the list has stopped growing for a moment (Swagger UI renders tag by tag), or
  // when Swagger UI shows its error box instead.
  while (Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = rendered(document);
    const settled = now.length > 0 || document.querySelector(".errors-wrapper");
    if (settled && now.length === operations.length) {
      if (Date.now() - stableSince > 300) break;
    } else {
      stableSince = Date.now();
    }
    operations = now;
  }
  const errorBox = document.querySelector(".errors-wrapper");
  const result = {
    title: document.title,
    info_title: document.querySelector(".info .title")?.textContent || "",
    operations,
    error_box: errorBox ? errorBox.textContent : null,
    errors,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  dom.window.close();
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
