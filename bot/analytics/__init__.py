"""Analytics: the figures of the console's dashboard and `helpdesk report`, their charts and CSV tables."""
