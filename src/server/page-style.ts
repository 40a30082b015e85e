// Styles shared by the server's two pages: one column, readable from phone to desktop widths.

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const PAGE_STYLE = `
  :root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --text: #1c1f24; --muted: #5f6b7a; --line: #dde2e8;
    --accent: #2563eb; --live: #dc2626; --ended: #4b5563; }
  @media (prefers-color-scheme: dark) { :root { --bg: #101318; --card: #181c23; --text: #e6e9ee; --muted: #97a3b3;
    --line: #2a3039; --accent: #60a5fa; } }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--text);
    font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  main { max-width: 980px; margin: 0 auto; padding: 16px; }
  header { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-bottom: 12px; }
  header h1 { font-size: 1.15rem; margin: 0; font-weight: 650; }
  header .brand { color: var(--accent); text-decoration: none; font-weight: 700; }
  code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
  .badge { display: inline-block; padding: 2px 8px; border-radius: 999px; font-size: 0.78rem; font-weight: 650;
    text-transform: uppercase; letter-spacing: 0.04em; color: #fff; background: var(--ended); }
  .badge.live { background: var(--live); }
  .badge.failed { background: #b45309; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
  a { color: var(--accent); }
  .muted { color: var(--muted); }
`;
