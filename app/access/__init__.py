"""Who may use the dashboard and the API: the single-user login and API tokens."""
