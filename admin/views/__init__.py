"""The admin's HTML pages, one module per area: login, review queue, browsing, learning."""
