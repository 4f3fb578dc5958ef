// Placeholder landing page; the storefront replaces it with search.
const app = document.getElementById('app')!;
app.innerHTML = '<h1>Flash Sale</h1><p class="muted">The storefront is coming.</p>';
