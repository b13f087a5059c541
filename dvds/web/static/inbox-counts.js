// The inbox's counts, asked once its rows have shown: a count costs the server every case it
// counts, and the rows should not wait for it. Without scripts the lists show no counts.
document.addEventListener("DOMContentLoaded", async () => {
  const spans = document.querySelectorAll("[data-count]");
  if (!spans.length) return;
  try {
    const reply = await fetch("/inbox/counts", {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (!reply.ok) return;
    const counts = await reply.json();
    for (const span of spans) {
      const n = counts[span.dataset.count];
      if (n !== undefined) span.textContent = String(n);
    }
  } catch (err) {
    // The counts are a convenience: the lists are whole without them.
  }
});
