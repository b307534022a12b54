// A fake Petrel backend for UI tests in a plain browser: installs the same
// window.__TAURI_INTERNALS__.invoke hook that @tauri-apps/api calls inside the real app.
// `scenario` picks the starting state; every call is recorded in window.__calls.
export function installFakeBackend(scenario) {
  const PASSWORD = "correct horse";
  const CERT = { subject: "CN=mail.example.org", issuer: "CN=Example Private CA", sha256: "ab".repeat(32), host: "mail.example.org", reason: "it is not signed by an authority this computer trusts (self-signed or private CA)" };
  const now = Math.floor(Date.now() / 1000);
  const work = {
    id: "work-1", display_name: "Work", email: "me@example.org",
    imap: { host: "imap.example.org", port: 993, security: "tls", username: "me@example.org", pinned_cert_sha256: null },
    sync: { window_days: null, keep_offline: false, notify: true },
    protocol: scenario === "pop3-account" ? "pop3" : "imap",
    pop3: { leave_on_server: "days", leave_days: 14, delete_when_deleted_here: true, headers_only: false, large_over_kib: null, check_minutes: 10 },
    sending: {
      signature: "Me\nExample Org",
      identities: [{ name: "Me (support)", email: "support@example.org", signature: "Support team" }],
      server_files_sent: false,
    },
    // "oauth-expired": the account signs in with Microsoft, and that sign-in has ended.
    sign_in: scenario === "oauth-expired" ? { kind: "oauth2", provider: { kind: "microsoft" }, client_id: null } : { kind: "password" },
  };
  const folders = {
    "work-1": [
      { path: "INBOX", name: "INBOX", parent: null, role: "inbox", selectable: true, total: 3, unread: 1, subscribed: true },
      { path: "Sent", name: "Sent", parent: null, role: "sent", selectable: true, total: 0, unread: 0, subscribed: true },
      { path: "Drafts", name: "Drafts", parent: null, role: "drafts", selectable: true, total: 1, unread: 0, subscribed: true },
      { path: "Trash", name: "Trash", parent: null, role: "trash", selectable: true, total: 0, unread: 0, subscribed: true },
      { path: "Archive", name: "Archive", parent: null, role: "archive", selectable: true, total: 0, unread: 0, subscribed: true },
      { path: "Big", name: "Big", parent: null, role: null, selectable: true, total: 100000, unread: 0, subscribed: true },
      { path: "News", name: "News", parent: null, role: null, selectable: true, total: 1, unread: 1, subscribed: true },
      { path: "Projects", name: "Projects", parent: null, role: null, selectable: true, total: 0, unread: 0, subscribed: true },
      { path: "Projects/Petrel", name: "Petrel", parent: "Projects", role: null, selectable: true, total: 1, unread: 1, subscribed: true },
      { path: "Old lists", name: "Old lists", parent: null, role: null, selectable: true, total: 0, unread: 0, subscribed: false },
    ],
  };
  const messages = {
    "work-1/INBOX": [
      { uid: 3, from: "Ana Lima", sender: "ana@example.org", subject: "Lunch on Friday?", date: now - 3600, seen: false, flagged: false, size: 900, text: "Shall we try the new place by the harbour?" },
      { uid: 2, from: "Bob", subject: "Build is green", date: now - 86400 * 2, seen: true, flagged: true, answered: true, has_attachment: true, size: 1200, text: "All suites passed on the second run. Logs: https://ci.example.org/run/42" },
      { uid: 1, from: "news@example.org", subject: "Digest", date: now - 86400 * 40, seen: true, flagged: false, size: 5000, text: "Three new articles.", undated: true },
    ],
    "work-1/News": [
      {
        uid: 9, from: "Weekly News", subject: "This week in sailing", date: now - 7200, seen: false, flagged: false, size: 40000,
        text: "This week in sailing",
        html: '<h1>This week</h1><p>Regattas.</p><img src="http://127.0.0.1:9/pixel.gif" width="1" height="1"><a href="https://news.example.org/a" target="_blank" rel="noopener noreferrer">Read more</a>',
        remote_content: true, sender: "news@example.org",
        attachments: [
          { index: 2, name: "report.pdf", content_type: "application/pdf", size: 48213, extension: "pdf", risk: "safe", type_label: ".pdf file (application/pdf)" },
          // As the engine shows "invoice\u202Efdp.exe": cleaned, with its real extension.
          { index: 3, name: "invoicefdp.exe", content_type: "application/pdf", size: 9000, extension: "exe", risk: "blocked", type_label: ".exe file (application/pdf)" },
          { index: 4, name: "data.zip", content_type: "application/zip", size: 1200, extension: "zip", risk: "ask", type_label: ".zip file (application/zip)" },
        ],
      },
    ],
    "work-1/Drafts": [
      { uid: 4, from: "Work", to: "Ana Lima, Bob +1", subject: "Half-written plan", date: now - 900, seen: true, flagged: false, size: 700, text: "First point" },
    ],
    "work-1/Projects/Petrel": [
      { uid: 7, from: "Cy", subject: "Nested folder mail", date: now - 500, seen: false, flagged: false, size: 300, text: "Found in a nested folder." },
    ],
  };
  const home = {
    id: "home-2", display_name: "Home", email: "me@home.example",
    imap: { host: "imap.home.example", port: 993, security: "tls", username: "me", pinned_cert_sha256: null },
    sync: { window_days: null, keep_offline: false, notify: true },
    // As the engine sends every account: whole settings.
    protocol: "imap",
    pop3: { leave_on_server: "days", leave_days: 14, delete_when_deleted_here: true, headers_only: false, large_over_kib: null, check_minutes: 10 },
    sending: { signature: "", identities: [], server_files_sent: false },
    sign_in: { kind: "password" },
  };
  if (scenario === "two-accounts") {
    folders["home-2"] = [{ path: "INBOX", name: "INBOX", parent: null, role: "inbox", selectable: true, total: 1, unread: 1, subscribed: true }];
    messages["home-2/INBOX"] = [{ uid: 3, from: "Mum", subject: "Sunday lunch", date: now - 1800, seen: false, flagged: false, size: 10, text: "Come at one." }];
  }
  // Hosts not under the address's domain (the engine's rule, without its provider table).
  const outside = (email, hosts) => {
    // The domain as DNS knows it (the URL parser gives the A-label, as the engine does).
    const domain = new URL(`http://${email.split("@")[1] ?? "invalid"}`).hostname;
    // As the engine: the provider table vouches for its providers' own domains.
    const vouched = { "outlook.com": ["office365.com", "outlook.com"], "gmail.com": ["gmail.com"] }[domain] ?? [domain];
    return [...new Set(hosts.filter((h) => !vouched.some((d) => h === d || h.endsWith(`.${d}`))))];
  };
  const state = { accounts: scenario === "empty" ? [] : scenario === "two-accounts" ? [work, home] : [work], failNextEnvelopes: scenario === "flaky", offline: scenario === "offline", pending: 0, outbox: [], drafts: {}, draftCount: 0, signInNeeded: scenario === "oauth-expired", launch: [], desktop: { keep_running_in_tray: false, start_at_login: false, start_hidden: false } };
  // `petrel plans.eml`: an HTML message file with a remote picture, and a mailto: link.
  if (scenario === "message-file") {
    state.launch.push({
      kind: "open_message_file",
      data: {
        path: "/home/me/Downloads/plans.eml", name: "plans.eml",
        view: { uid: 0, from: "Ana Lima <ana@example.org>", to: ["me@example.org"], cc: [], subject: "Harbour plans", date: now - 7200, text: "Lunch by the harbour at one.",
          html: '<p>Lunch by the <b>harbour</b> at one.</p><img src="https://tracker.example.net/p.gif">', remote_content: true, sender: "ana@example.org",
          attachments: [{ index: 1, name: "map.pdf", content_type: "application/pdf", size: 20480, extension: "pdf", type_label: "PDF document", risk: "ask" }], partial: false },
      },
    });
  }
  // What the engine answers to an action: the source folder's counts from its cache, and the
  // actions still waiting for the server (the "offline-actions" scenario keeps them queued).
  const outcome = (account, folder) => {
    const list = messages[`${account}/${folder}`] ?? [];
    if (scenario === "offline-actions") state.pending += 1;
    return {
      folder: { account, folder, total: list.length, unread: list.filter((m) => !m.seen).length, added: 0, removed: 0, flags_changed: 0 },
      pending: state.pending,
    };
  };
  const moveRows = (account, folder, uids, to) => {
    const list = messages[`${account}/${folder}`] ?? [];
    const moving = list.filter((m) => uids.includes(m.uid));
    messages[`${account}/${folder}`] = list.filter((m) => !uids.includes(m.uid));
    (messages[`${account}/${to}`] ??= []).unshift(...moving);
    return outcome(account, folder);
  };
  const err = (code, message, extra = {}) => ({ code, message, retryable: code === "unreachable", certificate: null, ...extra });
  window.__calls = [];
  window.__fake = state;
  // Events: listen() registers a callback through transformCallback; window.__emit(event,
  // payload) delivers to it, as the Rust side's app.emit does in the real app.
  const callbacks = new Map();
  const listeners = [];
  let nextCallback = 1;
  // The app has one event channel ("petrel") carrying a UiEvent {kind, data}; the specs
  // name events as the UI sees them ("folder-changed"…), translated here.
  const KINDS = { "folder-changed": "folder_changed", "account-status": "account_status", "sync-progress": "sync_progress", "outbox-changed": "outbox", "setup-progress": "setup_progress", compose: "compose", "get-mail": "get_mail", "open-message": "open_message", "import-progress": "import_progress" };
  window.__emit = (event, payload) => {
    const kind = KINDS[event];
    const [channel, data] = kind ? ["petrel", { kind, data: payload }] : [event, payload];
    for (const l of listeners.filter((l) => l.event === channel)) callbacks.get(l.handler)?.({ event: channel, id: l.id, payload: data });
  };
  // What "another device" does to the fake server before an event: a new message arrives.
  window.__deliver = (account, folder, row) => {
    const list = (messages[`${account}/${folder}`] ??= []);
    list.unshift(row);
  };
  // In the POP3 scenario "Digest" came as headers only: the first read finds it partial, the
  // next (Download the rest) complete.
  const partial = new Set(scenario === "pop3-account" ? ["work-1/INBOX/1"] : []);
  const partialOnce = (account, folder, uid) => partial.delete(`${account}/${folder}/${uid}`);
  const handlers = {
    "plugin:event|listen": ({ event, handler }) => {
      const id = listeners.length + 1;
      listeners.push({ event, handler, id });
      return id;
    },
    "plugin:event|unlisten": () => null,
    list_accounts: () => state.accounts,
    // What the launch's command line asked for (the scenario may set it).
    take_launch_requests: () => state.launch.splice(0),
    desktop_options: () => ({ ...state.desktop }),
    set_desktop_options: ({ options }) => {
      state.desktop = { ...options };
      return null;
    },
    copy_message_file: ({ account, folder }) => {
      const list = (messages[`${account}/${folder}`] ??= []);
      list.unshift({ uid: 500 + list.length, from: "Ana Lima", subject: "Harbour plans", date: now - 7200, seen: true, flagged: false, size: 900, text: "Lunch by the harbour at one." });
      return null;
    },
    start_composition_from_file: ({ path, kind }) => ({
      from: "", to: kind === "forward" ? [] : ["Ana Lima <ana@example.org>"], cc: [], bcc: [], subject: `${kind === "forward" ? "Fwd" : "Re"}: Harbour plans`,
      body: `\n\n> From ${path}`, html: null, in_reply_to: "plans@example.org", references: ["plans@example.org"], attachments: [], message_id: null, answers: null,
    }),
    list_folders: async ({ account }) => {
      // A server slow to list its folders (a connection and a login): held until released.
      if (state.holdFolders) await new Promise((r) => (state.releaseFolders = r));
      return folders[account] ?? [];
    },
    refresh_folder: async ({ account, folder, force }) => {
      // A server that takes its time: held until the test lets it answer.
      if (state.holdRefresh) await new Promise((r) => (state.releaseRefresh = r));
      if (state.failNextEnvelopes) {
        state.failNextEnvelopes = false;
        throw err("unreachable", "Syncing INBOX: could not reach imap.example.org:993. Check the host name and port, and that you are online.");
      }
      if (force) state.offline = false; // Retry (a forced refresh) reaches the server again.
      const all = messages[`${account}/${folder}`] ?? [];
      const change = { account, folder, total: all.length, unread: all.filter((m) => !m.seen).length, added: 0, removed: 0, flags_changed: 0 };
      return { change, offline: state.offline };
    },
    list_envelopes: (args) => {
      const { account, folder, offset, limit } = args;
      if (folder === "Big") {
        // 100,000 messages, made on demand: newest first, one a minute.
        const total = 100000;
        const rows = [];
        for (let i = offset; i < Math.min(total, offset + limit); i++) {
          const n = total - i;
          rows.push({ uid: n, from: `Sender ${n % 97}`, subject: `Message ${n}`, date: now - i * 60, seen: true, flagged: false, size: 2000 });
        }
        return { offset, total, rows, offline: false };
      }
      let all = messages[`${account}/${folder}`] ?? [];
      const q = args.query;
      if (q) {
        // The engine's rules (list_query.rs), for the UI's sake.
        const words = q.text.toLowerCase().split(/\s+/).filter(Boolean);
        all = all.filter((m) => (!q.unread_only || !m.seen) && (!q.flagged_only || m.flagged) && (!q.attachments_only || m.has_attachment) && words.every((w) => `${m.from}\n${m.subject}`.toLowerCase().includes(w)));
        const key = (m) => (q.sort === "sender" ? m.from.toLowerCase() : q.sort === "subject" ? m.subject.toLowerCase() : -m.date);
        all = [...all].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
        if (q.sort === "date" ? q.ascending : !q.ascending) all.reverse();
      }
      const rows = all.slice(offset, offset + limit).map(({ text, ...row }) => row);
      return { offset, total: all.length, rows, offline: false };
    },
    list_threads: (args) => {
      const { account, folder, offset, limit, expanded } = args;
      const open = new Set(expanded);
      if (folder !== "Big") {
        // Small folders: each message a conversation of its own; an answered one has the
        // user's reply from Sent as its second message.
        const all = handlers.list_envelopes({ ...args, offset: 0, limit: 1e6 }).rows;
        const shown = [];
        for (const e of all) {
          const key = `${folder}:${e.uid}`;
          const count = e.answered ? 2 : 1;
          const isOpen = count > 1 && open.has(key);
          shown.push({ folder, envelope: e, depth: 0, thread: key, head: true, count, unread: e.seen ? 0 : 1, latest: e.date, expanded: isOpen });
          if (isOpen) {
            const reply = { uid: 800000 + e.uid, from: "Me", subject: `Re: ${e.subject}`, date: e.date + 600, seen: true, flagged: false, answered: false, has_attachment: false, size: 700 };
            shown.push({ folder: "Sent", envelope: reply, depth: 1, thread: key, head: false, count: 0, unread: 0, latest: null, expanded: true });
          }
        }
        return { offset, total: shown.length, threads: all.length, rows: shown.slice(offset, offset + limit), offline: state.offline };
      }
      // Big: 25,000 conversations of four (oldest message first), newest conversation
      // first; every tenth has the user's reply from Sent as its third message.
      const members = (t) => {
        const newest = 100000 - 4 * t;
        const list = [3, 2, 1, 0].map((k, depth) => ({ folder: "Big", n: newest - k, depth: Math.min(depth, 1) }));
        if (t % 10 === 0) list.splice(2, 0, { folder: "Sent", n: 900000 + t, depth: 1 });
        return list;
      };
      const envelope = (m) =>
        m.folder === "Sent"
          ? { uid: m.n, from: "Me", subject: `Re: Message ${m.n - 900000}`, date: now - 30, seen: true, flagged: false, answered: false, has_attachment: false, size: 800 }
          : { uid: m.n, from: `Sender ${m.n % 97}`, subject: `Message ${m.n}`, date: now - (100000 - m.n) * 60, seen: true, flagged: false, answered: false, has_attachment: false, size: 2000 };
      const rows = [];
      let position = 0;
      for (let t = 0; t < 25000; t++) {
        const list = members(t);
        const key = `conv-${t}`;
        const shown = open.has(key) ? list : list.slice(0, 1);
        if (position + shown.length > offset && position < offset + limit) {
          shown.forEach((m, k) => {
            if (position + k < offset || position + k >= offset + limit) return;
            const head = k === 0;
            rows.push({ folder: m.folder, envelope: envelope(m), depth: m.depth, thread: key, head, count: head ? list.length : 0, unread: 0, latest: head ? now - 4 * t * 60 : null, expanded: open.has(key) });
          });
        }
        position += shown.length;
      }
      return { offset, total: position, threads: 25000, rows, offline: false };
    },
    // As the engine: the message's conversation and its row with that conversation open.
    conversation_of: ({ account, folder, uid }) => {
      const rows = handlers.list_threads({ account, folder, offset: 0, limit: 1e6, expanded: [] }).rows;
      const at = rows.findIndex((r) => r.envelope.uid === uid);
      return at < 0 ? null : { thread: rows[at].thread, position: at };
    },
    list_unified: ({ view, offset, limit }) => {
      const all = [];
      for (const a of state.accounts) {
        for (const f of folders[a.id] ?? []) {
          if (view === "inboxes" ? f.path !== "INBOX" : ["trash", "junk"].includes(f.role) || f.path === "Big") continue;
          for (const m of messages[`${a.id}/${f.path}`] ?? []) {
            if (view === "unread" && m.seen) continue;
            if (view === "flagged" && !m.flagged) continue;
            const { text, html, remote_content, sender, attachments, ...envelope } = m;
            all.push({ account: a.id, folder: f.path, envelope });
          }
        }
      }
      all.sort((x, y) => y.envelope.date - x.envelope.date);
      return { offset, total: all.length, rows: all.slice(offset, offset + limit) };
    },
    // The search language, small: words (sender, subject, body), from:, is:unread; any other
    // operator is refused in words, as the engine does. The server "finds" one message
    // whose body is not here when it is asked for "invoice".
    search_mail: ({ text, order, limit, server }) => {
      const terms = text.trim().split(/\s+/);
      for (const t of terms) {
        const op = /^([a-z_]+):/i.exec(t)?.[1];
        if (op && !["from", "is"].includes(op.toLowerCase())) {
          throw { code: "invalid_input", message: `Petrel does not know “${op}:”. Operators: from: to: cc: subject: has:attachment filename: is: in: account: before: after: older_than: newer_than: larger: smaller:`, retryable: false, certificate: null };
        }
      }
      const mark = (s, words) => {
        const pieces = [];
        let rest = s;
        while (rest) {
          const lower = rest.toLowerCase();
          let at = -1, len = 0;
          for (const w of words) {
            const i = lower.indexOf(w);
            if (i >= 0 && (at < 0 || i < at)) { at = i; len = w.length; }
          }
          if (at < 0) { pieces.push({ text: rest, matched: false }); break; }
          if (at > 0) pieces.push({ text: rest.slice(0, at), matched: false });
          pieces.push({ text: rest.slice(at, at + len), matched: true });
          rest = rest.slice(at + len);
        }
        return pieces;
      };
      const words = terms.filter((t) => !t.includes(":")).map((t) => t.toLowerCase());
      const hits = [];
      for (const a of state.accounts) {
        for (const f of folders[a.id] ?? []) {
          for (const m of messages[`${a.id}/${f.path}`] ?? []) {
            const hay = `${m.from}\n${m.subject}\n${m.text ?? ""}`.toLowerCase();
            if (!words.every((w) => hay.includes(w))) continue;
            if (terms.some((t) => t.toLowerCase() === "is:unread") && m.seen) continue;
            const from = terms.find((t) => t.toLowerCase().startsWith("from:"));
            if (from && !m.from.toLowerCase().includes(from.slice(5).toLowerCase())) continue;
            const { text: body, html, remote_content, sender, attachments, ...envelope } = m;
            hits.push({ account: a.id, folder: f.path, envelope: { answered: false, has_attachment: false, ...envelope }, subject: mark(m.subject, words), snippet: mark(body ?? "", words), on_server: false });
          }
        }
      }
      if (server && words.includes("invoice")) {
        hits.push({ account: "work-1", folder: "Archive", envelope: { uid: 77, from: "Billing", subject: "Your November statement", date: now - 86400 * 9, seen: true, flagged: false, answered: false, has_attachment: false, size: 3000 }, subject: [{ text: "Your November statement", matched: false }], snippet: [], on_server: true });
      }
      hits.sort((x, y) => (order === "newest" ? y.envelope.date - x.envelope.date : 0));
      const local = hits.filter((h) => !h.on_server).length;
      return { hits: hits.slice(0, limit), total: local, server: server ? (state.offline ? { state: "offline", accounts: ["me@example.org"] } : { state: "searched", folders: 3 }) : { state: "not_asked" }, indexing: null };
    },
    read_message: ({ account, folder, uid }) => {
      const synthetic = folder === "Big" || (folder === "Sent" && uid >= 900000);
      // The message only the server's search found (its body comes now).
      const fetched = folder === "Archive" && uid === 77 ? { from: "Billing", subject: "Your November statement", date: now - 86400 * 9, text: "Invoice 2026-11 is attached." } : null;
      const m = fetched ?? (synthetic
        ? { from: folder === "Sent" ? "Me" : `Sender ${uid % 97}`, subject: folder === "Sent" ? `Re: Message ${uid - 900000}` : `Message ${uid}`, date: now, text: `Body of ${folder} ${uid}` }
        : (messages[`${account}/${folder}`] ?? []).find((r) => r.uid === uid));
      if (!m) throw err("not_found", "The message is gone.");
      return {
        uid, from: m.from, to: ["me@example.org"], cc: [], subject: m.subject, date: m.date, text: m.text,
        html: m.html ?? null, remote_content: m.remote_content ?? false, sender: m.sender ?? null, attachments: m.attachments ?? [],
        partial: partialOnce(account, folder, uid),
        date_is_arrival: !!m.undated,
      };
    },
    set_flags: ({ account, folder, uids, seen, flagged }) => {
      const list = messages[`${account}/${folder}`] ?? [];
      for (const m of list.filter((m) => uids.includes(m.uid))) {
        if (seen !== null) m.seen = seen;
        if (flagged !== null) m.flagged = flagged;
      }
      return outcome(account, folder);
    },
    mark_all_read: ({ account, folder }) => {
      for (const m of messages[`${account}/${folder}`] ?? []) m.seen = true;
      return outcome(account, folder);
    },
    move_messages: ({ account, folder, uids, to }) => moveRows(account, folder, uids, to),
    archive_messages: ({ account, folder, uids }) => moveRows(account, folder, uids, "Archive"),
    delete_messages: ({ account, folder, uids, how }) => {
      // As the engine: a delete in the Trash needs the user's "Delete permanently".
      if (folder === "Trash" && how !== "permanently") throw { code: "invalid_input", message: "confirm “Delete permanently” first", retryable: false };
      if (folder === "Trash" || how === "permanently") {
        const list = messages[`${account}/${folder}`] ?? [];
        messages[`${account}/${folder}`] = list.filter((m) => !uids.includes(m.uid));
        return outcome(account, folder);
      }
      return moveRows(account, folder, uids, "Trash");
    },
    copy_messages: ({ account, folder }) => outcome(account, folder),
    set_pop3_options: ({ account, options }) => {
      const a = state.accounts.find((a) => a.id === account);
      a.pop3 = { ...options };
      return a;
    },
    set_sync_options: ({ account, options }) => {
      const a = state.accounts.find((a) => a.id === account);
      a.sync = { ...options };
      return a;
    },
    open_link: () => null,
    set_notifications: () => null,
    save_attachment: ({ index, ask }) => (ask ? "/home/me/Documents/chosen.pdf" : `/home/me/Downloads/${index === 2 ? "report.pdf" : "file"}`),
    open_attachment: () => null,
    // The engine applies the reply rules (petrel-compose, unit-tested); this returns their shape.
    start_composition: ({ account, folder, uid, kind }) => {
      const m = (messages[`${account}/${folder}`] ?? []).find((r) => r.uid === uid);
      const forward = kind === "forward";
      return {
        to: forward ? [] : [`${m.from} <ana@example.org>`],
        cc: kind === "reply_all" ? ["bob@example.org"] : [],
        bcc: [],
        subject: `${forward ? "Fwd" : "Re"}: ${m.subject}`,
        body: `\n\nOn a day, ${m.from} wrote:\n> ${m.text}\n`,
        in_reply_to: forward ? null : `m${uid}@example.org`,
        references: [`m${uid}@example.org`],
        from: "", html: null, attachments: [], message_id: null,
        answers: forward ? null : { folder, uid },
      };
    },
    send_message: ({ message }) => {
      if (message.to.some((a) => a.includes("@refused.example"))) {
        throw { code: "protocol", message: "The server refused the recipient nobody@refused.example (550 5.1.1 no such user).", retryable: false, certificate: null };
      }
      if (!state.offline) return { sent: 1, queued: 0 };
      state.outbox.push({ message_id: message.message_id ?? `q${state.outbox.length + 1}@example.org`, subject: message.subject, to: message.to, size: 2048, last_error: null, refused: false, unsure: false, message });
      return { sent: 0, queued: state.outbox.length };
    },
    save_draft: ({ message }) => {
      const id = message.message_id ?? `draft${++state.draftCount}@example.org`;
      state.drafts[id] = message;
      return id;
    },
    discard_draft: ({ messageId }) => {
      delete state.drafts[messageId];
      return null;
    },
    open_draft: () => ({
      from: "", to: ["Ana Lima <ana@example.org>"], cc: [], bcc: ["boss@example.org"], subject: "Half-written plan", body: "First point", html: null,
      in_reply_to: null, references: [], attachments: [{ name: "plan.txt", content_type: "text/plain", data: "cGxhbg==" }], message_id: "plan@example.org", answers: null,
    }),
    list_outbox: () => state.outbox.map(({ message, ...q }) => q),
    outbox_count: () => state.outbox.length,
    unqueue: ({ messageId }) => {
      const i = state.outbox.findIndex((q) => q.message_id === messageId);
      const [q] = state.outbox.splice(i, 1);
      return { ...q.message, message_id: q.message_id };
    },
    flush_outbox: () => {
      if (state.offline) throw { code: "unreachable", message: "Cannot reach smtp.example.org.", retryable: true, certificate: null };
      // Refused messages and those that may have been sent wait for the user.
      const kept = state.outbox.filter((q) => q.refused || q.unsure);
      const sent = state.outbox.length - kept.length;
      state.outbox = kept;
      return { sent, queued: 0 };
    },
    settle_unsure: ({ messageId, arrived }) => {
      const q = state.outbox.find((m) => m.message_id === messageId && m.unsure);
      if (!q) throw { code: "invalid_input", message: "That message no longer waits for your decision.", retryable: false, certificate: null };
      if (arrived) {
        state.outbox = state.outbox.filter((m) => m !== q);
        state.filedInSent = [...(state.filedInSent ?? []), q.message_id];
        return { sent: 1, queued: 0 };
      }
      q.unsure = false;
      return handlers.flush_outbox();
    },
    address_suggestions: async ({ query }) => {
      // A slow answer: held until the test lets it come.
      if (state.holdSuggestions) await new Promise((r) => (state.releaseSuggestions = r));
      return [
        { display: "Ana Lima <ana@example.org>", email: "ana@example.org" },
        { display: "Anders Berg <anders@example.net>", email: "anders@example.net" },
        { display: "Bob <bob@example.org>", email: "bob@example.org" },
      ].filter((s) => s.display.toLowerCase().split(/[\s<@.]+/).some((w) => w.startsWith(query.toLowerCase())));
    },
    set_sending: ({ account, sending }) => {
      const a = state.accounts.find((a) => a.id === account);
      a.sending = sending;
      return a;
    },
    set_smtp: ({ account, smtp }) => {
      const a = state.accounts.find((a) => a.id === account);
      a.smtp = smtp;
      return a;
    },
    export_message: () => "/home/me/Documents/Lunch on Friday.eml",
    // As the engine: what the rows it can read now show beyond their cached fields.
    row_extras: ({ account, folder, uids }) =>
      uids
        .map((uid) => (messages[`${account}/${folder}`] ?? []).find((r) => r.uid === uid))
        .filter(Boolean)
        .map((m) => ({ uid: m.uid, preview: m.text ?? "", to: m.to ?? "Me", undated: !!m.undated })),
    // The first "megabyte" of a large message: 3 MB in all.
    message_source: ({ uid }) => [`Return-Path: <ana@example.org>\r\nFrom: Ana <ana@example.org>\r\nSubject: message ${uid}\r\nDKIM-Signature: v=1; a=rsa-sha256; d=example.org\r\n\r\nBody of ${uid}, ünïcode kept.\r\n`, 3 * 1024 * 1024],
    // Import: one profile with a POP3 account (its mail in the profile) and Local Folders.
    thunderbird_profiles: () => [{ name: "default-release", path: "/home/me/.thunderbird/abc.default-release", default: true }],
    read_thunderbird_profile: ({ path }) => {
      if (!path.includes("thunderbird")) throw err("invalid_input", `${path} is not a Thunderbird profile (no readable prefs.js: No such file or directory (os error 2)).`);
      return {
        path,
        accounts: [{
          key: "server2", display_name: "Me at home", email: "me@home.example.org", protocol: "pop3",
          incoming: { host: "pop.home.example.org", port: 995, security: "tls", username: "me", pinned_cert_sha256: null },
          pop3: { leave_on_server: "until_deleted_here", leave_days: 7, delete_when_deleted_here: false, headers_only: false, large_over_kib: null, check_minutes: 10 },
          smtp: { host: "smtp.home.example.org", port: 465, security: "tls", username: "me", pinned_cert_sha256: null },
          notes: [],
        }],
        stores: [
          { key: "server2", label: "me@home.example.org", pop3_account: "me@home.example.org", folders: 3, bytes: 52428800 },
          { key: "server1", label: "Local Folders", pop3_account: null, folders: 2, bytes: 1048576 },
        ],
      };
    },
    pick_import_paths: ({ kind }) => (kind === "folder" ? ["/home/me/Mail/old"] : ["/home/me/old.mbox"]),
    import_mail: async ({ account }) => {
      state.stopImport = false;
      const total = 3000;
      let done = 0;
      for (const folder of ["INBOX", "Archive"]) {
        for (let i = 0; i < 3; i++) {
          await new Promise((r) => setTimeout(r, state.importDelay ?? 30));
          done += 500;
          window.__emit("import-progress", { account, folder, messages: done / 10, bytes_done: done, bytes_total: total });
          if (state.stopImport) return { finished: false, imported: done / 10, already_here: 0, deleted: 0, skipped: 0, folders: [folder], pop3_known: 0, problems: [] };
        }
      }
      return { finished: true, imported: 298, already_here: 0, deleted: 2, skipped: 1, folders: ["INBOX", "Archive"], pop3_known: 120, problems: ["/home/me/old.mbox: a message at byte 9 is larger than 256 MB (a damaged file?)."] };
    },
    stop_import: () => {
      state.stopImport = true;
      return null;
    },
    export_folder_mbox: ({ folder }) => [(messages[`work-1/${folder}`] ?? []).length, `/home/me/Export/${folder}.mbox`],
    export_folder: ({ folder }) => [(messages[`work-1/${folder}`] ?? []).length, `/home/me/Export/${folder}`],
    account_quota: () => ({ used_kib: 5_632, limit_kib: 102_400 }),
    account_status: ({ account }) =>
      state.signInNeeded
        ? { account, state: "sign_in_again", message: "Your sign-in has expired or was revoked: sign in again.", retry_in_seconds: 900, pending_actions: 1 }
        : { account, state: "online", message: null, retry_in_seconds: null, pending_actions: state.pending },
    create_folder: ({ account, path }) => {
      const parts = path.split("/");
      folders[account].push({ path, name: parts.pop(), parent: parts.length ? parts.join("/") : null, role: null, selectable: true, total: 0, unread: 0, subscribed: true });
      return folders[account];
    },
    rename_folder: ({ account, from, to }) => {
      const f = folders[account].find((f) => f.path === from);
      if (!f) throw err("not_found", `Renaming ${from}: the server refused: no such folder`);
      Object.assign(f, { path: to, name: to.split("/").pop() });
      messages[`${account}/${to}`] = messages[`${account}/${from}`] ?? [];
      return folders[account];
    },
    delete_folder: ({ account, path }) => {
      folders[account] = folders[account].filter((f) => f.path !== path);
      delete messages[`${account}/${path}`];
      return folders[account];
    },
    set_subscribed: ({ account, path, subscribed }) => {
      const f = folders[account].find((f) => f.path === path);
      if (f) f.subscribed = subscribed;
      return folders[account];
    },
    // OAuth2 sign-in: the "browser" answers after 600 ms unless Cancel came first.
    sign_in: ({ loginHint }) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ ticket: "ticket-1", email: loginHint }), 600);
        state.cancelSignIn = () => {
          clearTimeout(timer);
          reject(err("invalid_input", "Sign-in cancelled."));
        };
      }),
    sign_in_again: () =>
      new Promise((resolve) =>
        setTimeout(() => {
          state.signInNeeded = false;
          resolve();
        }, 300),
      ),
    change_sign_in: ({ account, signIn, password, ticket }) => {
      const a = state.accounts.find((x) => x.id === account);
      if (signIn.kind === "password" && password !== PASSWORD) throw err("auth_failed", "Connecting to imap.example.org: the server rejected the login. Check the user name and password.");
      if (signIn.kind === "oauth2" && ticket !== "ticket-1") throw err("invalid_input", "The sign-in has expired: sign in again.");
      a.sign_in = signIn;
      state.signInNeeded = false;
      return { ...a };
    },
    cancel_sign_in: () => {
      state.cancelSignIn?.();
    },
    // The wizard: discovery reports its stages; "nothing.example" finds nothing.
    discover_settings: async ({ email }) => {
      const domain = email.split("@")[1];
      const tell = (stage, trying, state) => window.__emit("setup-progress", { stage, trying, state });
      tell("provider table", domain, "trying");
      tell("provider table", "", "nothing");
      // The sources run side by side: the file and probing are on their way together.
      tell("autoconfig", `https://autoconfig.${domain}/mail/config-v1.1.xml`, "trying");
      tell("probing IMAP", `imap.${domain}, mail.${domain}, ${domain}`, "trying");
      await new Promise((r) => setTimeout(r, domain === "slow.example" ? 1500 : 30));
      tell("autoconfig", "", domain === "nothing.example" ? "nothing" : "found");
      tell("probing IMAP", "", domain === "nothing.example" ? "nothing" : "stopped");
      const log = [
        { stage: "provider table", tried: domain, answer: "not a listed provider" },
        { stage: "autoconfig", tried: `https://autoconfig.${domain}/mail/config-v1.1.xml`, answer: domain === "nothing.example" ? "HTTP 404" : "found settings" },
      ];
      const server = (host, port) => ({ host, port, security: "tls", username: email, pinned_cert_sha256: null });
      // Providers that sign in with OAuth2, from the provider table: Microsoft (only
      // OAuth2, and this build can), Gmail (app passwords still work; this build has no
      // Google client ID).
      if (domain === "outlook.com" || domain === "gmail.com") {
        const ms = domain === "outlook.com";
        const host = ms ? "outlook.office365.com" : "imap.gmail.com";
        return {
          email, imap: server(host, 993), pop3: server(ms ? host : "pop.gmail.com", 995), smtp: server(ms ? "smtp-mail.outlook.com" : "smtp.gmail.com", 465),
          source: "provider_table", source_detail: `Petrel's table of mail providers (${ms ? "Outlook.com / Microsoft 365" : "Gmail"})`,
          authenticated: true, confirm_hosts: [], unicode_hosts: [], untrusted: [], log,
          provider: { name: ms ? "Outlook.com / Microsoft 365" : "Gmail", notes: [], server_files_sent: true, app_password: true, oauth: { kind: ms ? "microsoft" : "google" }, oauth_only: ms, oauth_ready: ms },
          evidence: { imap_offered: true, pop3_offered: true, pop3_expire_days: null, pop3_login_delay: null, quota_kib: null, imap_unchecked: false, pop3_unchecked: false },
        };
      }
      if (domain === "nothing.example") {
        return { email, imap: null, pop3: null, smtp: null, source: null, source_detail: "nothing found", authenticated: false, confirm_hosts: [], unicode_hosts: [], provider: null, evidence: { imap_offered: false, pop3_offered: false, pop3_expire_days: null, pop3_login_delay: null, quota_kib: null }, untrusted: [], log };
      }
      // "srv.example": settings from DNS SRV records naming a host of another domain.
      const srv = domain === "srv.example";
      // "bücher.example": an internationalized domain (Chromium's email field hands it over
      // as its A-label); its hosts come back as A-labels, with their Unicode forms.
      const idn = ["bücher.example", "xn--bcher-kva.example"].includes(domain);
      const host = idn ? "mail.xn--bcher-kva.example" : "mail.example.org";
      const unicode_hosts = idn ? [{ ascii: host, unicode: "mail.bücher.example" }, { ascii: "xn--bcher-kva.example", unicode: "bücher.example" }] : [];
      return {
        email, imap: server(host, 993), pop3: server(host, 995), smtp: server(host, 465), unicode_hosts,
        source: srv ? "srv" : "autoconfig",
        source_detail: srv ? `the DNS service records of ${domain} (RFC 6186)` : `the provider's autoconfig file at https://autoconfig.${domain}/mail/config-v1.1.xml`,
        authenticated: !srv,
        confirm_hosts: outside(email, [host]),
        provider: null, evidence: { imap_offered: true, pop3_offered: true, pop3_expire_days: null, pop3_login_delay: null, quota_kib: null },
        untrusted: [domain === "wrongname.example" ? { ...CERT, reason: "it was issued for a different host name" } : { ...CERT, host }], log,
      };
    },
    // The engine's advisor is table-tested in Rust; this gives its shape for the main rules.
    advise: ({ answers }) => {
      const pop = !answers.several_devices && (answers.limited_space || answers.unreliable_connection);
      return {
        recommended: pop ? "pop3" : "imap",
        reasons: [pop ? "You read mail on this computer only and are often without a good connection: POP3 downloads everything." : "IMAP keeps your mail on the server and shows it here."],
        other: pop ? "With IMAP your mail stays on the server." : "With POP3 mail is downloaded to this computer.",
        pop3: { leave_on_server: answers.limited_space ? "never" : answers.several_devices ? "days" : "days", leave_days: answers.several_devices ? 14 : 7, delete_when_deleted_here: true, headers_only: false, large_over_kib: null, check_minutes: 10 },
        only_choice: false,
      };
    },
    export_setup_log: () => "/home/me/petrel-connection-log.txt",
    server_quota: ({ email, imap, confirmedHosts }) => {
      if (outside(email, [imap.host]).some((h) => !(confirmedHosts ?? []).includes(h))) throw err("invalid_input", "not confirmed");
      return { used_kib: 5_632, limit_kib: 102_400 };
    },
    update_incoming: ({ account, display_name: displayName, email, incoming, password }) => {
      if (incoming.host === "wrong.example.org") throw err("unreachable", "Cannot reach wrong.example.org.");
      const a = state.accounts.find((x) => x.id === account);
      Object.assign(a, { display_name: displayName, email, imap: incoming });
      return a;
    },
    remove_account: ({ account, deleteLocalMail }) => {
      const a = state.accounts.find((x) => x.id === account);
      state.accounts = state.accounts.filter((x) => x.id !== account);
      return a?.protocol === "pop3" && !deleteLocalMail ? `/home/me/.config/petrel/mail/${account}` : "";
    },
    add_account: ({ form, confirmedHosts }) => {
      // As the engine: no password to an unconfirmed host outside the address's domain.
      const missing = outside(form.email, [form.imap.host, form.smtp?.host].filter(Boolean)).filter((h) => !(confirmedHosts ?? []).includes(h));
      if (missing.length) throw err("invalid_input", `Petrel has not sent your password to ${missing.join(" and ")}`);
      const oauth = form.sign_in?.kind === "oauth2";
      if (oauth && form.sign_in_ticket !== "ticket-1") throw err("invalid_input", "The sign-in has expired: sign in again.");
      if (!oauth && form.password !== PASSWORD) throw err("auth_failed", `Connecting to ${form.imap.host}: the server rejected the login: [AUTHENTICATIONFAILED] Authentication failed.. Check the user name and password.`);
      if (!oauth && form.imap.pinned_cert_sha256 !== CERT.sha256)
        throw err("certificate_untrusted", "Connecting: the server's certificate is not trusted", { certificate: CERT });
      const account = { id: "home-2", display_name: form.display_name, email: form.email, imap: { ...form.imap }, sync: { window_days: null, keep_offline: false, notify: true }, sign_in: form.sign_in ?? { kind: "password" } };
      folders["home-2"] = [{ path: "INBOX", name: "INBOX", parent: null, role: "inbox", selectable: true, total: 1, unread: 1, subscribed: true }];
      messages["home-2/INBOX"] = [{ uid: 1, from: "Mum", subject: "Welcome home", date: now, seen: false, flagged: false, size: 10, text: "Hello from home." }];
      state.accounts = [...state.accounts, account];
      return account;
    },
  };
  // Commands of more than four parts take one struct (`request`, `attachment`, `update`:
  // petrel-core's requests.rs); it is spread here, so handlers and specs read plain args.
  const spread = (args) => {
    const { request, attachment, update, ...rest } = args ?? {};
    return { ...(request ?? attachment ?? update ?? {}), ...rest };
  };
  window.__TAURI_INTERNALS__ = {
    invoke: async (cmd, wire) => {
      const args = spread(wire);
      window.__calls.push({ cmd, args: JSON.parse(JSON.stringify(args)) });
      const h = handlers[cmd];
      if (!h) throw err("internal", `fake backend has no ${cmd}`);
      await new Promise((r) => setTimeout(r, 5));
      return h(args ?? {});
    },
    transformCallback: (callback) => {
      const id = nextCallback++;
      callbacks.set(id, callback);
      return id;
    },
    metadata: { currentWindow: { label: "main" }, currentWebview: { label: "main" } },
  };
}
