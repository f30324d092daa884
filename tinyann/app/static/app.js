// The tinyann page: send a photo or a drawing to /api/predict, show the 28x28 input and the
// probability bars; browse the test images by class, confusion-matrix cell or mistakes.
"use strict";

const state = { classes: [], classesKo: [], lang: "en", last: null, offset: 0, seq: 0,
                filters: { label: "", predicted: "", mistakes: false } };
const $ = (id) => document.getElementById(id);

function names() { return state.lang === "ko" ? state.classesKo : state.classes; }

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(path, options) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const detail = body && body.detail;
    const text = typeof detail === "string" ? detail
      : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : response.statusText;
    throw new Error(`${response.status}: ${text}`);
  }
  return body;
}

function showResult(result) {
  state.last = result;
  const list = names();
  $("result").hidden = false;
  $("input28").src = result.input_png;
  $("label").textContent = list[result.label];
  $("label").dataset.label = result.label;
  $("confidence").textContent = `${(result.probability * 100).toFixed(1)}%`;
  $("truth").textContent = result.true_label === null || result.true_label === undefined ? ""
    : `test image; its true class: ${list[result.true_label]}`;
  const bars = $("bars");
  bars.replaceChildren();
  for (const p of result.probabilities) {
    const name = document.createElement("span");
    name.textContent = list[p.label];
    const track = document.createElement("div");
    track.className = "bar-track";
    const bar = document.createElement("div");
    bar.className = "bar" + (p.label === result.label ? " best" : "");
    bar.style.width = `${(p.probability * 100).toFixed(2)}%`;
    bar.dataset.label = p.label;
    bar.dataset.probability = p.probability;
    bar.setAttribute("role", "listitem");
    track.appendChild(bar);
    const pct = document.createElement("span");
    pct.textContent = `${(p.probability * 100).toFixed(1)}%`;
    bars.append(name, track, pct);
  }
}

async function classify(blob, filename) {
  showError("");
  const form = new FormData();
  form.append("file", blob, filename);
  try {
    showResult(await api("/api/predict", { method: "POST", body: form }));
  } catch (error) {
    showError(`Could not classify ${filename}: ${error.message}`);
  }
}

// ------------------------------------------------------------------ photo upload
function setUpDrop() {
  const drop = $("drop");
  $("file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) classify(file, file.name);
    event.target.value = "";
  });
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer.files[0];
    if (file) classify(file, file.name);
  });
}

// ------------------------------------------------------------------ drawing
function setUpCanvas() {
  const canvas = $("canvas");
  const ctx = canvas.getContext("2d");
  let drawing = false;
  let drawn = false;
  const clear = () => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    drawn = false;
  };
  clear();
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    ctx.beginPath();
    ctx.moveTo(x, y);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = point(event);
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 22;
    ctx.lineTo(x, y);
    ctx.stroke();
    drawn = true;
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  $("clear").addEventListener("click", clear);
  $("classify-drawing").addEventListener("click", () => {
    if (!drawn) { showError("Draw an item on the white square first."); return; }
    canvas.toBlob((blob) => classify(blob, "drawing.png"), "image/png");
  });
}

// ------------------------------------------------------------------ test images
function fillSelect(select, list) {
  const keep = select.value;
  select.replaceChildren(new Option("any", ""));
  list.forEach((name, i) => select.appendChild(new Option(`${i} ${name}`, String(i))));
  select.value = keep;
}

function renderConfusion(data) {
  const table = $("confusion");
  const list = names();
  table.replaceChildren();
  const head = table.insertRow();
  const corner = document.createElement("th");
  corner.className = "corner";
  corner.textContent = "true \\ predicted";
  head.appendChild(corner);
  list.forEach((name) => {
    const th = document.createElement("th");
    th.textContent = name;
    head.appendChild(th);
  });
  data.matrix.forEach((row, i) => {
    const tr = table.insertRow();
    const th = document.createElement("th");
    th.textContent = list[i];
    tr.appendChild(th);
    const max = Math.max(1, ...data.matrix.flat());
    row.forEach((count, j) => {
      const td = tr.insertCell();
      td.textContent = count;
      td.dataset.label = i;
      td.dataset.predicted = j;
      const alpha = Math.min(1, count / max) * (i === j ? 0.55 : 1);
      td.style.background = i === j ? `rgba(76,114,176,${alpha})` : `rgba(221,132,82,${alpha})`;
      td.title = `${count} ${list[i]} predicted as ${list[j]}`;
      td.addEventListener("click", () => {
        $("filter-label").value = String(i);
        $("filter-predicted").value = String(j);
        $("filter-mistakes").checked = false;
        table.querySelectorAll("td.selected").forEach((c) => c.classList.remove("selected"));
        td.classList.add("selected");
        loadGrid(true);
      });
    });
  });
}

async function loadGrid(reset) {
  const seq = ++state.seq;  // a newer request makes this one's answer stale
  if (reset) {
    state.offset = 0;
    $("grid").replaceChildren();
  }
  const params = new URLSearchParams({ offset: state.offset, limit: 60 });
  if ($("filter-label").value !== "") params.set("label", $("filter-label").value);
  if ($("filter-predicted").value !== "") params.set("predicted", $("filter-predicted").value);
  if ($("filter-mistakes").checked) params.set("mistakes", "true");
  try {
    const page = await api(`/api/test-images?${params}`);
    if (seq !== state.seq) return;
    const list = names();
    for (const item of page.items) {
      const tile = document.createElement("div");
      tile.className = "tile" + (item.label !== item.predicted ? " wrong" : "");
      tile.dataset.index = item.index;
      const img = document.createElement("img");
      img.src = `/api/test-images/${item.index}/image.png`;
      img.alt = `test image ${item.index}`;
      const caption = document.createElement("div");
      caption.textContent = item.label === item.predicted ? list[item.predicted]
        : `${list[item.label]} → ${list[item.predicted]}`;
      tile.append(img, caption);
      tile.addEventListener("click", async () => {
        try { showResult(await api(`/api/test-images/${item.index}`)); }
        catch (error) { showError(error.message); }
      });
      $("grid").appendChild(tile);
    }
    state.offset += page.items.length;
    $("count").textContent = `${page.total} image${page.total === 1 ? "" : "s"}`;
    $("count").dataset.total = page.total;
    $("more").hidden = state.offset >= page.total;
  } catch (error) {
    showError(`Could not load the test images: ${error.message}`);
  }
}

let confusionData = null;

// The run's own input and classes: a model trained on image folders is not Fashion-MNIST's.
function describeInput(health) {
  const [height, width] = health.image_size;
  const colour = health.color_mode === "rgb" ? "colour" : "grey";
  $("input-caption").textContent = `what the model saw (${height}x${width}, ${colour})`;
  $("input28").alt = `the ${height}x${width} image the model saw`;
  if (!(height === 28 && width === 28 && health.color_mode === "grayscale")) {
    $("drop-text").textContent = `Drop a picture (${health.classes.join(" / ")}) here`;
  }
  if (health.test_images === 0) {
    $("no-test-images").hidden = false;
    $("no-test-images").textContent = `No test images to browse: ${health.test_images_source}`;
  }
}

function relabel() {
  fillSelect($("filter-label"), names());
  fillSelect($("filter-predicted"), names());
  if (confusionData) renderConfusion(confusionData);
  if (state.last) showResult(state.last);
  loadGrid(true);
}

async function start() {
  setUpDrop();
  setUpCanvas();
  try {
    const health = await api("/api/health");
    state.classes = health.classes;
    state.classesKo = health.classes_ko;
    const accuracy = health.test_accuracy === null ? "" :
      ` · test accuracy ${(health.test_accuracy * 100).toFixed(2)}%`;
    $("model-info").textContent = `model ${health.model}${accuracy}`;
    describeInput(health);
    confusionData = await api("/api/confusion");
  } catch (error) {
    showError(`The server did not answer: ${error.message}`);
    return;
  }
  $("lang").addEventListener("change", (event) => { state.lang = event.target.value; relabel(); });
  for (const id of ["filter-label", "filter-predicted", "filter-mistakes"]) {
    $(id).addEventListener("change", () => {
      $("confusion").querySelectorAll("td.selected").forEach((c) => c.classList.remove("selected"));
      loadGrid(true);
    });
  }
  $("more").addEventListener("click", () => loadGrid(false));
  relabel();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
