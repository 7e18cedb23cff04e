// 職員向け画面: renders /api/state and reloads it every refresh_seconds.
// Everything is written with textContent (never innerHTML): names and addresses are data.
"use strict";

const numberFormat = new Intl.NumberFormat("ja-JP");
const timeFormat = new Intl.DateTimeFormat("ja-JP", {
  timeZone: "Asia/Tokyo", year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit",
});
const clockFormat = new Intl.DateTimeFormat("ja-JP", {
  timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit", second: "2-digit",
});
// Lists the user opened or closed keep that state across refreshes.
const toggled = new Map();
let refreshSeconds = 10;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : timeFormat.format(date);
}

function figureCell(figure, k) {
  const attrs = { "data-field": figure.field, class: "num" };
  if (figure.suppressed) {
    return el("td", { ...attrs, class: "num suppressed", "data-suppressed": "true",
      title: `${k}未満のため秘匿`, text: `秘匿（${k}未満）` });
  }
  if (figure.value === null || figure.value === undefined) {
    return el("td", { ...attrs, "data-missing": "true", title: "データなし", text: "—" });
  }
  const shown = figure.kind === "rate"
    ? `${(figure.value * 100).toFixed(1)}%` : numberFormat.format(figure.value);
  return el("td", { ...attrs, "data-value": figure.value, text: shown });
}

function indicatorsCell(indicators) {
  const cell = el("td", { "data-field": "indicators", class: "indicators" });
  if (!indicators.length) { cell.textContent = "—"; return cell; }
  const list = el("ul");
  for (const item of indicators) {
    list.append(el("li", { "data-indicator": item.name, "data-value": item.value,
      text: `${item.name} ${numberFormat.format(item.value)}${item.unit}（${item.period_end}まで）` }));
  }
  cell.append(list);
  return cell;
}

function renderRegions(regions) {
  const head = document.getElementById("regions-head");
  const body = document.getElementById("regions-body");
  const figures = regions.length ? regions[0].figures : [];
  head.replaceChildren(el("th", { scope: "col", text: "地域" }),
    el("th", { scope: "col", text: "基準日" }),
    ...figures.map((f) => el("th", { scope: "col", "data-field": f.field, text: f.label })),
    el("th", { scope: "col", text: "経済指標" }));
  body.replaceChildren(...regions.map((region) => {
    const name = region.name ? `${region.name}` : "（名称不明）";
    return el("tr", { id: `region-${region.region_code}`, "data-region": region.region_code,
      class: region.scope },
      el("th", { scope: "row", "data-field": "name" }, el("span", { text: name }),
        el("span", { class: "code", text: region.region_code })),
      el("td", { "data-field": "as_of", text: region.as_of || "—" }),
      ...region.figures.map((f) => figureCell(f, region.k_threshold)),
      indicatorsCell(region.indicators));
  }));
  applyFilter();
}

function applyFilter() {
  const query = document.getElementById("region-filter").value.trim();
  for (const row of document.querySelectorAll("#regions-body tr")) {
    row.hidden = query !== "" && !row.textContent.includes(query);
  }
}

function personRow(person) {
  // Defence in depth: the server already removed these addresses; never show one anyway.
  const hidden = person.address_withheld || person.address_hidden;
  const address = hidden
    ? el("td", { "data-field": "address", "data-address-hidden": "true", class: "withheld",
      text: person.address_hidden || "住所非表示（支援措置）" })
    : el("td", { "data-field": "address", text: person.address || "—" });
  return el("tr", { "data-person": "" },
    el("td", { "data-field": "name", text: person.name }),
    el("td", { "data-field": "kana", text: person.kana || "—" }),
    el("td", { "data-field": "age", class: "num", "data-value": person.age,
      text: person.age === null ? "—" : `${person.age}歳` }),
    el("td", { "data-field": "sex", text: person.sex_label }),
    address,
    el("td", { "data-field": "support_reasons",
      text: person.support_reason_labels.join("、") || "—" }),
    el("td", { "data-field": "household_head_name", text: person.household_head_name || "—" }),
    el("td", { "data-field": "household_number", text: person.household_number || "—" }),
    el("td", { "data-field": "consent_to_share", text: person.consent_to_share ? "あり" : "なし" }));
}

function listBlock(list) {
  const open = toggled.has(list.list_key) ? toggled.get(list.list_key) : list.count <= 30;
  const place = list.region_name ? `${list.region_name}（${list.region_code}）` : list.region_code;
  const details = el("details", { "data-list": list.list_key, "data-count": list.count,
    "data-region": list.region_code, open },
    el("summary", {}, el("span", { class: "place", text: place }),
      el("span", { class: "count", text: `名簿 ${numberFormat.format(list.count)}人` })));
  details.addEventListener("toggle", () => toggled.set(list.list_key, details.open));
  if (!list.persons.length) {
    details.append(el("p", { class: "note", text: "この地区の名簿に載っている人はいません。" }));
    return details;
  }
  const header = ["氏名", "フリガナ", "年齢", "性別", "住所", "支援が必要な理由", "世帯主",
    "世帯番号", "平常時の提供同意"];
  details.append(el("div", { class: "table-wrap" }, el("table", { class: "persons" },
    el("thead", {}, el("tr", {}, ...header.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...list.persons.map(personRow)))));
  return details;
}

function fact(term, value, field) {
  return el("div", {}, el("dt", { text: term }),
    el("dd", { "data-field": field, text: value }));
}

function alertBlock(alert) {
  const title = `${alert.level_label} ${alert.information_name}（${alert.hazard_label}）`;
  return el("article", { class: `alert level-${alert.level}`, "data-alert": alert.alert_id,
    "data-level": alert.level, "data-person-count": alert.person_count },
    el("h3", { "data-field": "title", text: title }),
    el("dl", { class: "facts" },
      fact("発令ID", alert.alert_id, "alert_id"),
      fact("名簿提供の根拠", alert.mode_label, "mode"),
      fact("発令日時", when(alert.issued_at), "issued_at"),
      fact("最終更新", when(alert.updated_at), "updated_at"),
      fact("対象地区", `${numberFormat.format(alert.region_count)}地区`, "region_count"),
      fact("名簿の人数（合計）", `${numberFormat.format(alert.person_count)}人`, "person_count")),
    ...alert.lists.map(listBlock));
}

function renderAlerts(alerts, loading) {
  const box = document.getElementById("alerts");
  if (!alerts.length) {
    box.replaceChildren(el("p", { id: "no-alerts", class: "calm",
      text: loading ? "読み込み中です…" : "現在、発令中の避難情報はありません。" }));
    return;
  }
  box.replaceChildren(...alerts.map(alertBlock));
}

function setTotal(id, value) {
  const node = document.getElementById(id);
  node.dataset.value = value;
  node.textContent = numberFormat.format(value);
}

function render(data) {
  refreshSeconds = data.refresh_seconds;
  document.title = data.title;
  document.getElementById("title").textContent = data.title;
  setTotal("total-alerts", data.totals.active_alerts);
  setTotal("total-lists", data.totals.active_lists);
  setTotal("total-persons", data.totals.listed_persons);
  setTotal("total-regions", data.totals.regions);
  renderAlerts(data.alerts, data.loading);
  renderRegions(data.regions);
  const status = document.getElementById("status");
  status.dataset.loading = String(data.loading);
  status.className = data.loading ? "status loading" : "status";
  status.textContent = data.loading
    ? "データを読み込み中です。表示は途中までの内容です。"
    : `最終更新 ${clockFormat.format(new Date())}（${refreshSeconds}秒ごとに自動更新）`;
  const problems = [];
  if (data.sources.some((s) => s.error)) {
    problems.push("データ基盤（Kafka）に接続できません。表示は最後に受け取った内容です。");
  }
  const skipped = data.sources.reduce((sum, s) => sum + s.skipped, 0);
  if (skipped > 0) {
    problems.push(`読み取れなかった記録が${skipped}件あります。表示が最新でない可能性があります（運用担当者へ連絡してください）。`);
  }
  const errors = document.getElementById("source-errors");
  errors.hidden = problems.length === 0;
  errors.textContent = problems.join(" ");
  document.body.dataset.rendered = "true";
}

async function load() {
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (error) {
    const status = document.getElementById("status");
    status.className = "status error";
    status.textContent = `画面のサーバーに接続できません（${clockFormat.format(new Date())}）。`
      + "表示は前回の内容です。";
  } finally {
    setTimeout(load, refreshSeconds * 1000);
  }
}

document.getElementById("region-filter").addEventListener("input", applyFilter);
load();
