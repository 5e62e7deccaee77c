// Placeholder dashboard (the real one replaces this file): lists the jobs from the API.
"use strict";
(async function main() {
  const app = document.getElementById("app");
  try {
    const answer = await fetch("/api/v1/jobs");
    const body = await answer.json();
    const list = document.createElement("ul");
    for (const job of body.jobs) {
      const item = document.createElement("li");
      item.textContent = `${job.name}: ${job.state}`;
      list.appendChild(item);
    }
    app.replaceChildren(list);
  } catch (error) {
    app.textContent = `The API did not answer: ${error}`;
  }
})();
