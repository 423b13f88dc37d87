"""The admin's HTML pages, one module per area: login, review queue, message, browsing, dashboard,
playground, learning, people, audit, rules."""
