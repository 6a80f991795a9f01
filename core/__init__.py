"""CodeHub core: models, money, ledger services shared by the bot, the panel and the CLI."""
