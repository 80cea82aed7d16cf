"""`python -m bot` is the `helpdesk` command."""

from bot.cli import main

main()
