"use strict";
// データカタログ: renders /api/catalogue (once) and /api/live (every refresh_seconds).
// Text only: every value goes through textContent or an SVG attribute, never HTML.

const T = {
  ja: {
    title: "データカタログ（連携基盤）",
    intro: "連携基盤にあるデータ（トピック）の一覧です。どの課のデータか、どこから来てどこへ流れるか、誰がどの目的と法的根拠で使えるか、各項目の意味と個人情報の区分、そして今の件数と鮮度を示します。すべて設定ファイル・スキーマレジストリ・基盤の計測値から自動で作られます。",
    switchTo: "English", loading: "読み込み中です…", loaded: "表示は {time} 時点の内容です（{n} 秒ごとに更新）。",
    kafkaDown: "Kafka に接続できません: {e}。件数と最新時刻は表示できません。",
    registryDown: "スキーマレジストリに接続できません。版の履歴は表示できません。",
    noLogin: "職員ログインは未導入です（誰でも閲覧できる状態です）",
    signedIn: "ログイン中: {name}",
    lineage: "データの流れ", topics: "データ（トピック）の一覧", filter: "絞り込み", allRoles: "すべての種類",
    lineageHelp: "各課のシステム → 各課のトピック → 処理段階 → 標準化・統合・派生データ → 目的別ビュー → 利用するアプリ。箱を押すとそのデータの説明へ移動します。",
    summaryTopics: "トピック数", summaryStages: "稼働中の処理段階", summaryDlq: "DLQ（処理できなかった記録）の合計",
    owner: "所管課", role: "種類", zone: "ネットワーク区分（三層分離）", retention: "保存期間", cleanup: "保存方式",
    compat: "互換性モード", registryCompat: "レジストリの設定", key: "キー", partitions: "パーティション数",
    source: "送信元システム", viewOf: "元データ", purpose: "利用目的", kafkaTopic: "Kafka 上の名前",
    live: "現在の状況", records: "保管件数", recent: "直近 {w} の書き込み件数", latest: "最新の記録",
    freshness: "鮮度（発生から出力まで）", p50: "中央値", p99: "99%", dlqHeld: "DLQ 保管件数", dlqRate: "DLQ 率",
    readBy: "読み取り件数（段階ごと・起動以降）", writtenBy: "書き込み件数（段階ごと・起動以降）",
    notProduced: "基盤が書き込むトピックではありません", noWorker: "処理段階が応答していません",
    versions: "スキーマの版（レジストリ）", version: "版", schemaId: "スキーマID", changes: "変更内容",
    firstVersion: "最初の版", notRegistered: "レジストリに未登録です", matches: "最新版はカタログのファイルと一致",
    differs: "最新版がカタログのファイルと異なります（schemas apply が必要）",
    access: "書き込み・読み取りできる者", writers: "書き込み", readers: "読み取り",
    who: "誰が", legal: "法的根拠", fieldsAllowed: "項目", via: "経由するビュー", days: "{n} 日",
    noParty: "段階・協定の定めはありません",
    fields: "項目（{n}）", path: "項目名", type: "型", pii: "個人情報の区分", doc: "説明", nullable: "空の場合あり",
    values: "値", allFields: "すべての項目",
    kinds: { stage: "基盤の処理段階", provider: "提供元（協定）", consumer: "利用者（協定）" },
    roles: { department: "各課のデータ", standardized: "標準化済み", unified: "統合データ", derived: "派生データ",
      view: "目的別ビュー", internal: "基盤内部", audit: "監査記録" },
    piiNames: { none: "個人情報なし", identifier: "識別子", personal: "個人情報", sensitive: "要配慮個人情報", location: "所在地" },
    zones: { individual_number: "個人番号利用事務系", lgwan: "LGWAN接続系", internet: "インターネット接続系" },
    compatNames: { BACKWARD: "後方互換", BACKWARD_TRANSITIVE: "後方互換（全版）", FORWARD: "前方互換",
      FORWARD_TRANSITIVE: "前方互換（全版）", FULL: "完全互換", FULL_TRANSITIVE: "完全互換（全版）", NONE: "確認なし" },
    changeKinds: { added: "追加", removed: "削除", type: "型の変更", doc: "説明の変更", default: "既定値の変更", symbols: "値の一覧の変更" },
    unlimited: "無期限", compact: "キーごとに最新の値を保持（圧縮）", delete: "期間が過ぎたら削除",
    none: "—", ago: "{t} 前", sec: "{n} 秒", min: "{n} 分", hour: "{n} 時間", day: "{n} 日",
    footer: "DCAT（JSON-LD）形式の書き出し: ", graphKinds: { system: "各課のシステム", stage: "処理段階", app: "利用アプリ" },
  },
  en: {
    title: "Data catalogue (Renkei)",
    intro: "Every dataset (topic) of the data-linkage platform: which department owns it, where it comes from and where it goes, who may use it for which purpose under which legal basis, what each field means and its personal-data class, and its current volume and freshness. Everything is generated from the platform's files, the schema registry and its own metrics.",
    switchTo: "日本語", loading: "Loading…", loaded: "As of {time} (refreshed every {n} s).",
    kafkaDown: "Kafka cannot be reached: {e}. Volumes and latest times are not shown.",
    registryDown: "The schema registry cannot be reached. Version history is not shown.",
    noLogin: "No staff login yet (anyone who reaches this page can read it)",
    signedIn: "Signed in: {name}",
    lineage: "Data lineage", topics: "Datasets (topics)", filter: "Filter", allRoles: "All kinds",
    lineageHelp: "Department systems → department topics → processing stages → standardized, unified and derived data → purpose views → the apps that read them. Click a box to go to its description.",
    summaryTopics: "Topics", summaryStages: "Stages answering", summaryDlq: "Records held in DLQs",
    owner: "Owner department", role: "Kind", zone: "Network zone (三層分離)", retention: "Retention", cleanup: "Storage",
    compat: "Compatibility mode", registryCompat: "Registry setting", key: "Key", partitions: "Partitions",
    source: "Sending system", viewOf: "Source data", purpose: "Purpose", kafkaTopic: "Name in Kafka",
    live: "Now", records: "Records held", recent: "Records written in the last {w}", latest: "Newest record",
    freshness: "Freshness (event to output)", p50: "median", p99: "99%", dlqHeld: "Held in DLQ", dlqRate: "DLQ rate",
    readBy: "Records read (per stage, since start)", writtenBy: "Records written (per stage, since start)",
    notProduced: "not written by the platform", noWorker: "no stage answering",
    versions: "Schema versions (registry)", version: "Version", schemaId: "Schema id", changes: "Changes",
    firstVersion: "first version", notRegistered: "not registered in the registry", matches: "latest version equals the catalogue file",
    differs: "latest version differs from the catalogue file (run schemas apply)",
    access: "Who may write and read", writers: "Write", readers: "Read",
    who: "Who", legal: "Legal basis", fieldsAllowed: "Fields", via: "Through the view", days: "{n} days",
    noParty: "no stage or agreement declares any",
    fields: "Fields ({n})", path: "Field", type: "Type", pii: "Personal-data class", doc: "Description", nullable: "may be empty",
    values: "values", allFields: "all fields",
    kinds: { stage: "platform stage", provider: "provider (agreement)", consumer: "consumer (agreement)" },
    roles: { department: "department data", standardized: "standardized", unified: "unified", derived: "derived",
      view: "purpose view", internal: "platform internal", audit: "audit log" },
    piiNames: { none: "no personal data", identifier: "identifier", personal: "personal", sensitive: "special care (要配慮)", location: "location" },
    zones: { individual_number: "My Number zone", lgwan: "LGWAN zone", internet: "Internet zone" },
    compatNames: { BACKWARD: "backward", BACKWARD_TRANSITIVE: "backward, all versions", FORWARD: "forward",
      FORWARD_TRANSITIVE: "forward, all versions", FULL: "full", FULL_TRANSITIVE: "full, all versions", NONE: "no check" },
    changeKinds: { added: "added", removed: "removed", type: "type changed", doc: "description changed", default: "default changed", symbols: "values changed" },
    unlimited: "no time limit", compact: "latest value per key (compacted)", delete: "deleted after the retention",
    none: "—", ago: "{t} ago", sec: "{n} s", min: "{n} min", hour: "{n} h", day: "{n} days",
    footer: "DCAT (JSON-LD) export: ", graphKinds: { system: "department system", stage: "stage", app: "app" },
  },
};

let lang = "ja";
let catalogue = null;
let live = null;
let whoami = null;

function t(key, vars) {
  let text = T[lang][key];
  for (const [k, v] of Object.entries(vars || {})) text = text.replace("{" + k + "}", String(v));
  return text;
}
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
function svg(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}
function duration(seconds) {
  if (seconds < 60) return t("sec", { n: seconds < 10 ? seconds.toFixed(1) : Math.round(seconds) });
  if (seconds < 3600) return t("min", { n: (seconds / 60).toFixed(1) });
  if (seconds < 86400) return t("hour", { n: (seconds / 3600).toFixed(1) });
  return t("day", { n: (seconds / 86400).toFixed(1) });
}
function jst(ms) {
  return new Date(ms).toLocaleString(lang === "ja" ? "ja-JP" : "en-GB", { timeZone: "Asia/Tokyo" }) + " JST";
}
function retention(topic) {
  if (topic.retention_ms === null) return t("none");
  if (topic.retention_ms < 0) return t("unlimited");
  const days = topic.retention_ms / 86400000;
  return days >= 1 ? t("days", { n: +days.toFixed(1) }) : duration(topic.retention_ms / 1000);
}
function titleOf(topic) {
  const text = lang === "ja" ? topic.description_ja : topic.description_en;
  return (lang === "ja" ? text.split("（")[0] : text.split(" (")[0]) || topic.topic;
}
function cell(field, value, text) {
  return el("td", { "data-live": field, "data-value": value === null || value === undefined ? "" : value }, text);
}

// ---- header, summary -------------------------------------------------------------------
function renderHeader() {
  document.documentElement.lang = lang;
  document.title = t("title");
  document.getElementById("title").textContent = t("title");
  document.getElementById("intro").textContent = t("intro");
  document.getElementById("lang-switch").textContent = t("switchTo");
  document.getElementById("lineage-heading").textContent = t("lineage");
  document.getElementById("lineage-help").textContent = t("lineageHelp");
  document.getElementById("topics-heading").textContent = t("topics");
  document.getElementById("filter-label").textContent = t("filter");
  const who = document.getElementById("whoami");
  if (whoami) {
    who.dataset.signedIn = String(whoami.signed_in);
    who.textContent = whoami.signed_in ? t("signedIn", { name: whoami.display_name }) : t("noLogin");
  }
  const footer = document.getElementById("footer");
  footer.replaceChildren(t("footer"), el("a", { href: "/catalogue.jsonld", id: "dcat-link" }, "/catalogue.jsonld"));
  const select = document.getElementById("role-filter");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, t("allRoles")));
  for (const [role, name] of Object.entries(T[lang].roles)) select.append(el("option", { value: role }, name));
  select.value = chosen;
}

function renderStatus() {
  const status = document.getElementById("status");
  if (!catalogue || !live) { status.textContent = t("loading"); return; }
  status.dataset.loaded = "true";
  status.dataset.generatedAt = String(live.generated_at_ms);
  status.dataset.windowStart = String(live.window_start_ms);
  const lines = [t("loaded", { time: jst(live.generated_at_ms), n: catalogue.refresh_seconds })];
  if (live.kafka_error) lines.push(t("kafkaDown", { e: live.kafka_error }));
  if (catalogue.topics.some((x) => x.registry.error)) lines.push(t("registryDown"));
  status.textContent = lines.join(" ");
  status.className = live.kafka_error ? "error" : "";
  const summary = document.getElementById("summary");
  const up = live.stages.filter((s) => s.up).length;
  const dlq = Object.values(live.topics).reduce((sum, x) => sum + (x.dlq_records || 0), 0);
  summary.replaceChildren(
    el("div", { class: "figure" }, el("span", {}, t("summaryTopics")), el("strong", { id: "total-topics", "data-value": catalogue.topics.length }, catalogue.topics.length)),
    el("div", { class: "figure" }, el("span", {}, t("summaryStages")), el("strong", { id: "stages-up", "data-value": up }, `${up} / ${live.stages.length}`)),
    el("div", { class: "figure" }, el("span", {}, t("summaryDlq")), el("strong", { id: "total-dlq", "data-value": dlq }, dlq.toLocaleString())),
  );
}

// ---- lineage graph -----------------------------------------------------------------------
function renderGraph() {
  const g = catalogue.graph;
  const box = document.getElementById("graph-box");
  const pad = 8;
  const root = svg("svg", { id: "lineage-graph", width: g.width + 2 * pad, height: g.height + 2 * pad, viewBox: `${-pad} ${-pad} ${g.width + 2 * pad} ${g.height + 2 * pad}`, role: "img" });
  const at = Object.fromEntries(g.nodes.map((n) => [n.id, n]));
  for (const e of g.edges) {
    const a = at[e.source], b = at[e.target];
    const x1 = a.x + g.node_width / 2, y1 = a.y + g.node_height, x2 = b.x + g.node_width / 2, y2 = b.y;
    const mid = (y1 + y2) / 2;
    root.append(svg("path", { class: "edge", "data-edge": `${e.source}->${e.target}`, d: `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}` }));
  }
  for (const n of g.nodes) {
    const group = svg("g", { class: `node ${n.kind} ${n.role || ""}`, "data-node": n.id, transform: `translate(${n.x},${n.y})` });
    group.append(svg("rect", { width: g.node_width, height: g.node_height, rx: 6 }));
    const top = svg("text", { x: 8, y: 18, class: "label" });
    const topic = n.kind === "topic" ? catalogue.topics.find((x) => x.topic === n.label) : null;
    top.textContent = topic ? titleOf(topic) : n.kind === "stage" ? n.label : n.label;
    const bottom = svg("text", { x: 8, y: 36, class: "detail" });
    bottom.textContent = topic ? n.label : n.kind === "stage" ? stageTitle(n.detail) : `${T[lang].graphKinds[n.kind]} · ${n.detail}`;
    const tip = svg("title", {});
    tip.textContent = `${n.label} — ${n.detail}`;
    group.append(top, bottom, tip);
    if (topic) group.addEventListener("click", () => openTopic(topic.topic));
    root.append(group);
  }
  box.replaceChildren(root);
  for (const text of root.querySelectorAll("text")) fit(text, g.node_width - 14);
}
function fit(node, width) {
  // shorten an SVG label to the box (the full text is in the box's tooltip)
  const full = node.textContent;
  if (!node.getComputedTextLength || node.getComputedTextLength() <= width) return;
  let n = full.length;
  while (n > 1 && node.getComputedTextLength() > width) node.textContent = full.slice(0, --n) + "…";
}
function stageLabel(title) {
  // "標準化 (standardize): department topic → std.<topic>" → "標準化: …" or "standardize: …"
  const [, ...rest] = title.split(": ");
  return rest.length ? `${stageTitle(title)}: ${rest.join(": ")}` : stageTitle(title);
}
function stageTitle(title) {
  // "標準化 (standardize): …" → the language's half
  const [head] = title.split(":");
  const m = head.match(/^(.*) \((.*)\)$/);
  return m ? (lang === "ja" ? m[1] : m[2]) : head;
}

// ---- topics ---------------------------------------------------------------------------------
function facts(topic) {
  const rows = [
    ["owner", topic.owner_department || t("none")],
    ["role", T[lang].roles[topic.role] || topic.role],
    ["zone", topic.zone ? `${T[lang].zones[topic.zone]}${lang === "en" ? ` (${topic.network_zone})` : ""}` : t("none")],
    ["retention", retention(topic)],
    ["cleanup", topic.cleanup_policy.includes("compact") ? t("compact") : t("delete")],
    ["compat", `${T[lang].compatNames[topic.compatibility] || topic.compatibility} (${topic.compatibility})`],
    ["registryCompat", topic.registry.compatibility ? `${T[lang].compatNames[topic.registry.compatibility] || topic.registry.compatibility} (${topic.registry.compatibility})` : t("none")],
    ["key", topic.key],
    ["partitions", topic.partitions],
    ["kafkaTopic", topic.kafka_topic],
  ];
  if (topic.source_system) rows.push(["source", topic.source_system]);
  if (topic.view_of) rows.push(["viewOf", topic.view_of], ["purpose", topic.purpose]);
  const dl = el("dl", { class: "facts" });
  for (const [key, value] of rows) dl.append(el("dt", {}, t(key)), el("dd", { "data-fact": key }, value));
  return dl;
}

function liveTable(topic) {
  const figure = live && live.topics[topic.topic];
  const table = el("table", { class: "live", "data-live-table": topic.topic });
  if (!figure) return table;
  const span = duration(live.window_seconds);
  const row = (label, ...cells) => table.append(el("tr", {}, el("th", {}, label), ...cells));
  row(t("records"), cell("records", figure.records, figure.records === null ? t("none") : figure.records.toLocaleString()));
  row(t("recent", { w: span }), cell("recent_records", figure.recent_records, figure.recent_records === null ? t("none") : figure.recent_records.toLocaleString()));
  const age = figure.latest_ms === null ? null : (live.generated_at_ms - figure.latest_ms) / 1000;
  row(t("latest"), cell("latest_ms", figure.latest_ms, figure.latest_ms === null ? t("none") : `${jst(figure.latest_ms)}（${t("ago", { t: duration(Math.max(age, 0)) })}）`));
  const produced = Object.keys(figure.written_by).length > 0 || figure.freshness_count !== null;
  const fresh = figure.freshness_p50 === null
    ? [cell("freshness_p50", null, produced ? t("none") : t("notProduced")), cell("freshness_p99", null, "")]
    : [cell("freshness_p50", figure.freshness_p50, `${t("p50")} ${duration(figure.freshness_p50)}`), cell("freshness_p99", figure.freshness_p99, `${t("p99")} ${duration(figure.freshness_p99)}`)];
  fresh[0].dataset.count = figure.freshness_count === null ? "" : String(figure.freshness_count);
  row(t("freshness"), ...fresh);
  row(t("dlqHeld"), cell("dlq_records", figure.dlq_records, figure.dlq_records === null ? t("none") : figure.dlq_records.toLocaleString()));
  const rate = figure.dlq_rate;
  row(t("dlqRate"), cell("dlq_rate", rate, rate === null ? (Object.keys(figure.read_by).length ? t("none") : t("noWorker")) : `${(rate * 100).toFixed(2)}%（${figure.dlq_routed} / ${Object.values(figure.read_by).reduce((a, b) => a + b, 0)}）`));
  const perStage = (field, counts) => {
    const entries = Object.entries(counts).sort();
    const td = el("td", { "data-live": field, "data-value": JSON.stringify(Object.fromEntries(entries)) });
    td.textContent = entries.length ? entries.map(([s, n]) => `${s}: ${n.toLocaleString()}`).join("、") : t("none");
    return td;
  };
  row(t("readBy"), perStage("read_by", figure.read_by));
  row(t("writtenBy"), perStage("written_by", figure.written_by));
  return table;
}

function versionsBlock(topic) {
  const reg = topic.registry;
  const box = el("div", { class: "versions", "data-subject": reg.subject });
  if (reg.error) { box.append(el("p", { class: "error" }, reg.error)); return box; }
  if (!reg.versions.length) { box.append(el("p", {}, t("notRegistered"))); return box; }
  box.append(el("p", { "data-matches-catalogue": String(reg.matches_catalogue) }, reg.matches_catalogue ? t("matches") : t("differs")));
  const table = el("table", {}, el("tr", {}, el("th", {}, t("version")), el("th", {}, t("schemaId")), el("th", {}, t("changes"))));
  for (const v of [...reg.versions].reverse()) {
    const list = el("ul", {});
    if (!v.changes.length) list.append(el("li", {}, v.version === reg.versions[0].version ? t("firstVersion") : t("none")));
    for (const c of v.changes) {
      const what = T[lang].changeKinds[c.kind] || c.kind;
      const detail = c.kind === "added" ? ` (${c.after})` : c.kind === "removed" ? ` (${c.before})` : c.kind === "doc" ? "" : `: ${c.before} → ${c.after}`;
      list.append(el("li", { "data-change-kind": c.kind, "data-path": c.path }, `${what}: ${c.path}${detail}`));
    }
    table.append(el("tr", { "data-version": v.version, "data-schema-id": v.id }, el("td", {}, v.version), el("td", {}, v.id), el("td", {}, list)));
  }
  box.append(table);
  return box;
}

function accessBlock(topic) {
  const box = el("div", { class: "access" });
  for (const side of ["writers", "readers"]) {
    const parties = topic.access[side];
    box.append(el("h4", {}, t(side)));
    if (!parties.length) { box.append(el("p", { "data-access": side }, t("noParty"))); continue; }
    const table = el("table", { "data-access": side }, el("tr", {}, ...["who", "purpose", "legal", "zone", "retention", "fieldsAllowed"].map((k) => el("th", {}, t(k)))));
    for (const p of parties) {
      const title = p.kind === "stage" ? stageLabel(p.title) : p.title;
      const who = el("td", {}, el("strong", {}, title), el("br"), `${T[lang].kinds[p.kind]}${p.department ? " · " + p.department : ""}${p.principal ? " · " + p.principal : ""}`);
      if (p.via) who.append(el("br"), `${t("via")}: ${p.via}`);
      const fields = p.fields.includes("*") ? t("allFields") : p.fields.join(", ");
      table.append(el("tr", { "data-party-kind": p.kind, "data-party-id": p.id },
        who, el("td", {}, p.purpose || t("none")), el("td", {}, p.legal_basis || t("none")),
        el("td", {}, p.zone ? T[lang].zones[p.zone] : t("none")),
        el("td", {}, p.retention_days ? t("days", { n: p.retention_days }) : t("none")),
        el("td", { class: "fields-allowed" }, p.kind === "stage" ? t("none") : fields)));
    }
    box.append(table);
  }
  return box;
}

function fieldsBlock(topic) {
  const details = el("details", { class: "fields" }, el("summary", {}, t("fields", { n: topic.fields.length })));
  const table = el("table", {}, el("tr", {}, ...["path", "type", "pii", "doc"].map((k) => el("th", {}, t(k)))));
  for (const f of topic.fields) {
    const depth = f.path.split(".").length - 1;
    const pii = el("td", { "data-pii": f.pii.join(" ") });
    for (const cls of f.pii) pii.append(el("span", { class: `pii ${cls}` }, T[lang].piiNames[cls] || cls));
    const doc = el("td", {}, lang === "ja" ? f.doc_ja : f.doc_en);
    if (f.symbols.length) doc.append(el("br"), el("small", {}, `${t("values")}: ${f.symbols.join(", ")}`));
    if (f.nullable) doc.append(el("br"), el("small", {}, t("nullable")));
    table.append(el("tr", { "data-field-path": f.path }, el("td", { class: "path", style: null }, "\u3000".repeat(depth) + f.path), el("td", {}, f.type), pii, doc));
  }
  details.append(table);
  return details;
}

function renderTopics() {
  const box = document.getElementById("topics");
  box.replaceChildren();
  for (const topic of catalogue.topics) {
    const section = el("section", { class: `topic ${topic.role}`, id: `topic-${topic.topic}`, "data-topic": topic.topic, "data-role": topic.role });
    const badges = el("div", { class: "badges" });
    for (const cls of topic.pii_summary) badges.append(el("span", { class: `pii ${cls}` }, T[lang].piiNames[cls]));
    section.append(
      el("h3", {}, titleOf(topic), " ", el("code", {}, topic.topic)),
      badges,
      el("p", { class: "description" }, lang === "ja" ? topic.description_ja : topic.description_en),
      facts(topic),
      el("h4", {}, t("live")), liveTable(topic),
      el("h4", {}, t("versions")), versionsBlock(topic),
      el("h4", {}, t("access")), accessBlock(topic),
      fieldsBlock(topic),
    );
    box.append(section);
  }
  applyFilter();
}

function renderLive() {
  renderStatus();
  for (const topic of catalogue.topics) {
    const old = document.querySelector(`table[data-live-table="${CSS.escape(topic.topic)}"]`);
    if (old) old.replaceWith(liveTable(topic));
  }
}

function applyFilter() {
  const text = document.getElementById("filter").value.trim().toLowerCase();
  const role = document.getElementById("role-filter").value;
  for (const section of document.querySelectorAll("section.topic")) {
    const topic = catalogue.topics.find((x) => x.topic === section.dataset.topic);
    const haystack = [topic.topic, topic.owner_department, topic.description_ja, topic.description_en, ...topic.fields.map((f) => f.path)].join(" ").toLowerCase();
    section.hidden = (role && topic.role !== role) || (text && !haystack.includes(text));
  }
}

function openTopic(name) {
  const section = document.getElementById(`topic-${name}`);
  if (!section) return;
  section.hidden = false;
  const fields = section.querySelector("details.fields");
  if (fields) fields.open = true;
  section.scrollIntoView();
  history.replaceState(null, "", `#topic=${encodeURIComponent(name)}`);
}

function renderAll() {
  renderHeader();
  if (!catalogue) return;
  renderGraph();
  renderTopics();
  renderStatus();
}

async function getJson(path) {
  // location.origin, not the page's address: a page opened as http://user:password@host/ (staff
  // login in the address) must not copy the password into every request; the browser sends the
  // credentials it signed in with.
  const response = await fetch(new URL(path, location.origin), { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function refreshLive() {
  try {
    live = await getJson("/api/live");
    renderLive();
  } catch (err) {
    const status = document.getElementById("status");
    status.textContent = String(err);
    status.className = "error";
  }
}

async function start() {
  const params = new URLSearchParams(location.search);
  lang = params.get("lang") === "en" || localStorage.getItem("catalogue-lang") === "en" ? "en" : "ja";
  if (params.get("lang") === "ja") lang = "ja";
  document.getElementById("lang-switch").addEventListener("click", () => {
    lang = lang === "ja" ? "en" : "ja";
    localStorage.setItem("catalogue-lang", lang);
    renderAll();
  });
  // ?q=<text> fills the filter box (a link to one dataset: ?q=<topic>, its fields open)
  document.getElementById("filter").value = params.get("q") || "";
  document.getElementById("filter").addEventListener("input", applyFilter);
  document.getElementById("role-filter").addEventListener("change", applyFilter);
  renderHeader();
  try {
    [whoami, catalogue, live] = await Promise.all([getJson("/api/whoami"), getJson("/api/catalogue"), getJson("/api/live")]);
  } catch (err) {
    const status = document.getElementById("status");
    status.textContent = String(err);
    status.className = "error";
    return;
  }
  renderAll();
  const hash = decodeURIComponent(location.hash.replace(/^#topic=/, ""));
  if (hash && hash !== location.hash) openTopic(hash);
  const named = document.getElementById(`topic-${params.get("q")}`);
  if (named) named.querySelector("details.fields").open = true;
  setInterval(refreshLive, catalogue.refresh_seconds * 1000);
}

document.addEventListener("DOMContentLoaded", start);
