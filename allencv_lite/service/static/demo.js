// The demo page: pick or drop an image, preview it, POST it to /predict, draw the answer.
"use strict";

const demo = document.getElementById("demo");
const dropZone = document.getElementById("drop-zone");
const fileInput = document.getElementById("file-input");
const previewPanel = document.getElementById("preview-panel");
const preview = document.getElementById("preview");
const fileName = document.getElementById("file-name");
const statusLine = document.getElementById("status");
const prediction = document.getElementById("prediction");
const predictedLabel = document.getElementById("predicted-label");
const predictedProbability = document.getElementById("predicted-probability");
const bars = document.getElementById("bars");
const rawOutput = document.getElementById("raw-output");
const explainBox = document.getElementById("explain");
const explanationPanel = document.getElementById("explanation-panel");
const explanation = document.getElementById("explanation");
let lastFile = null;

const classification = demo.dataset.classification === "true";
const maxUploadBytes = Number(demo.dataset.maxUploadBytes);
const predictUrl = demo.dataset.predictUrl;

function percent(probability) {
  return (100 * probability).toFixed(1) + "%";
}

function clearResult(message) {
  statusLine.textContent = message;
  prediction.hidden = true;
  bars.replaceChildren();
  rawOutput.hidden = true;
  explanationPanel.hidden = true;
}

// One row per label, most probable first: name, a bar as wide as the probability, the number.
function drawBars(probabilities) {
  const rows = Object.entries(probabilities).sort((a, b) => b[1] - a[1]).map(([label, probability]) => {
    const row = document.createElement("li");
    row.className = "bar-row";
    row.dataset.label = label;
    const name = document.createElement("span");
    name.className = "bar-label";
    name.textContent = label;
    const track = document.createElement("span");
    track.className = "bar-track";
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = percent(probability);
    track.append(bar);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = percent(probability);
    row.append(name, track, value);
    return row;
  });
  bars.replaceChildren(...rows);
}

function showOutput(output) {
  statusLine.textContent = "";
  if (classification && output.probabilities) {
    if (output.not_sure) {
      // Below the server's --min-confidence: no answer, the two most probable labels instead.
      predictedLabel.textContent = "not sure";
      predictedProbability.textContent = output.top_2.map((top) => `${top.label} ${percent(top.probability)}`).join(" or ");
    } else {
      predictedLabel.textContent = output.label;
      predictedProbability.textContent = percent(output.probabilities[output.label]);
    }
    prediction.hidden = false;
    drawBars(output.probabilities);
    if (output.explanation) {
      explanation.src = output.explanation;
      explanationPanel.hidden = false;
    }
  } else {
    rawOutput.textContent = JSON.stringify(output, null, 2);
    rawOutput.hidden = false;
  }
}

async function classify(file) {
  if (!file) {
    return;
  }
  lastFile = file;
  fileName.textContent = file.name;
  if (preview.src) {
    URL.revokeObjectURL(preview.src);
  }
  // Shown once the browser has drawn it: a file it cannot draw (not a picture, or a TIFF the
  // model reads but browsers do not) shows no broken-image icon.
  previewPanel.hidden = true;
  preview.onload = () => { previewPanel.hidden = false; };
  preview.src = URL.createObjectURL(file);
  if (file.size > maxUploadBytes) {
    clearResult(`This file is ${(file.size / 2 ** 20).toFixed(1)} MiB; the limit is ${(maxUploadBytes / 2 ** 20).toFixed(1)} MiB.`);
    return;
  }
  clearResult("Asking the model…");
  const form = new FormData();
  form.append("image", file);
  form.append("explain", explainBox.checked ? "true" : "false");
  let response;
  try {
    response = await fetch(predictUrl, { method: "POST", body: form });
  } catch (error) {
    clearResult("The demo server did not answer; is it still running?");
    return;
  }
  const output = await response.json().catch(() => ({}));
  if (!response.ok) {
    // The server writes its refusals for the person at the page; anything else gets a sentence too.
    clearResult(output.error || `The demo server could not answer (status ${response.status}); try again.`);
    return;
  }
  showOutput(output);
}

fileInput.addEventListener("change", () => classify(fileInput.files[0]));
explainBox.addEventListener("change", () => classify(lastFile));

dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropZone.classList.add("dragging");
});
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  classify(event.dataTransfer.files[0]);
});
