"""`helpdesk train` / evaluate: builds the NLU model from data/, writes evaluation reports and plots."""
