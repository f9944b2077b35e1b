/**
 * The inspector's HTML: a static shell. Its script and styles are the bundle the build
 * makes from src/inspector/page/ (see scripts/bundle-cli.mjs), served by the tool itself.
 */
export interface InspectorShell {
  mode: 'listen' | 'relay';
  /** Where the page's API lives: `/api` on listen, `/inspect/<id>/api` on the relay. */
  apiBase: string;
  /** Where inspector.js and inspector.css are served. */
  assetBase: string;
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function inspectorHtml(shell: InspectorShell): string {
  const assets = attr(shell.assetBase);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fe-webhooks inspector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="stylesheet" href="${assets}/inspector.css">
</head>
<body data-mode="${attr(shell.mode)}" data-api="${attr(shell.apiBase)}">
<header>
  <h1>fe-webhooks inspector</h1>
  <span>Webhook URL <code id="webhook-url">…</code></span>
  <span>Target <code id="target">none</code></span>
  <span id="status">connecting…</span>
</header>
<form id="token-form" hidden>
  <label>Channel token <input id="token" type="password" autocomplete="off" size="40"></label>
  <button type="submit" id="token-open">Open</button>
</form>
<p id="refused" hidden></p>
<div id="toolbar" hidden>
  <input id="search" type="search" placeholder="Search path, headers, body ( / )" aria-label="search">
  <select id="filter-event" aria-label="event"><option value="">any event</option></select>
  <select id="filter-method" aria-label="method"><option value="">any method</option></select>
  <select id="filter-status" aria-label="status"><option value="">any status</option></select>
  <select id="filter-signature" aria-label="signature"><option value="">any signature</option></select>
  <select id="filter-delivery" aria-label="delivery"><option value="">any delivery</option></select>
  <span id="count"></span>
  <span class="actions" id="actions"></span>
</div>
<main id="main" hidden>
  <section id="list">
    <table>
      <colgroup><col class="c-time"><col class="c-method"><col class="c-path">
        <col class="c-event"><col class="c-signature"><col class="c-status"></colgroup>
      <thead><tr><th>Time</th><th>Method</th><th>Path</th><th>Event</th><th>Signature</th><th>Status</th></tr></thead>
      <tbody id="rows"></tbody>
    </table>
    <p id="empty" class="muted">Waiting for requests…</p>
  </section>
  <section id="details"><p class="muted">Select a request (j/k to move, / to search).</p></section>
</main>
<script src="${assets}/inspector.js"></script>
</body>
</html>
`;
}
