// Review page: list pending pieces and label them (bearer token typed on the page).
"use strict";
const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem("reviewToken") || "";

function headers() {
  sessionStorage.setItem("reviewToken", tokenInput.value);
  return { "Authorization": "Bearer " + tokenInput.value, "Content-Type": "application/json" };
}

async function load() {
  const error = document.getElementById("error");
  error.textContent = "";
  const res = await fetch("/v1/review", { headers: headers() });
  const body = await res.json();
  if (!res.ok) { error.textContent = res.status + ": " + body.detail; return; }
  document.getElementById("status").textContent =
    body.counts.pending + " pending, " + body.counts.labelled + " labelled";
  const list = document.getElementById("items");
  list.innerHTML = "";
  for (const item of body.items) {
    const div = document.createElement("div");
    div.className = "item";
    const img = document.createElement("img");
    img.className = "field";
    img.src = "data:image/png;base64," + item.image_png;
    div.appendChild(img);
    const info = document.createElement("div");
    info.textContent = "#" + item.id + " " + item.kind + ": machine read " + (item.reading || "–") + " — " +
      item.reasons.map((x) => x.reason + (x.position !== undefined ? "@" + x.position : "")).join(", ");
    div.appendChild(info);
    const input = document.createElement("input");
    input.value = item.reading;
    input.inputMode = "numeric";
    input.pattern = "[0-9]*";
    const save = document.createElement("button");
    save.textContent = "Save label";
    save.addEventListener("click", async () => {
      const r = await fetch("/v1/review/" + item.id, { method: "POST", headers: headers(), body: JSON.stringify({ label: input.value }) });
      const b = await r.json();
      if (r.ok) { div.remove(); } else { error.textContent = r.status + ": " + b.detail; }
    });
    div.appendChild(input);
    div.appendChild(save);
    list.appendChild(div);
  }
}

document.getElementById("load").addEventListener("click", load);
