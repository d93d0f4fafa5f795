// Renders /openapi.json as a list of operations, without any external library.
"use strict";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function resolve(doc, schema) {
  if (schema && schema.$ref) return resolve(doc, schema.$ref.split("/").slice(1).reduce((o, k) => o[k], doc));
  return schema;
}

function expand(doc, schema, depth = 0) {
  schema = resolve(doc, schema);
  if (!schema || depth > 4 || typeof schema !== "object") return schema;
  const out = Array.isArray(schema) ? [] : {};
  for (const [k, v] of Object.entries(schema)) out[k] = expand(doc, v, depth + 1);
  return out;
}

function operation(doc, path, method, op) {
  const detail = el("div", {class: "detail"});
  if (op.parameters && op.parameters.length) {
    const rows = op.parameters.map((p) => el("tr", {},
      el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
      el("td", {}, p.required ? "required" : "optional"), el("td", {}, p.description || "")));
    detail.append(el("h4", {}, "Parameters"), el("div", {class: "table-wrap"}, el("table", {}, ...rows)));
  }
  if (op.requestBody) {
    detail.append(el("h4", {}, "Request body"));
    for (const [type, media] of Object.entries(op.requestBody.content)) {
      detail.append(el("p", {}, el("code", {}, type)),
                    el("pre", {tabindex: "0"}, JSON.stringify(expand(doc, media.schema), null, 2)));
    }
  }
  detail.append(el("h4", {}, "Responses"));
  for (const [code, resp] of Object.entries(op.responses)) {
    const media = resp.content && Object.values(resp.content)[0];
    detail.append(el("p", {}, el("strong", {}, code), " " + resp.description));
    if (media && media.schema && code < "400") {
      detail.append(el("pre", {tabindex: "0"}, JSON.stringify(expand(doc, media.schema), null, 2)));
    }
  }
  return el("details", {class: "op"},
    el("summary", {}, el("span", {class: "method " + method}, method.toUpperCase()),
       el("span", {class: "path"}, path), el("span", {}, op.summary || "")),
    detail);
}

document.addEventListener("DOMContentLoaded", async () => {
  const main = document.getElementById("api");
  const doc = await (await fetch("/openapi.json")).json();
  main.append(el("p", {class: "hint"}, doc.info.description));
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) main.append(operation(doc, path, method, op));
  }
});
