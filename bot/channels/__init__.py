"""Channel adapters: translate platform payloads to Message and Reply to platform output."""
